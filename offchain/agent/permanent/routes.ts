/**
 * The agent's permanent-storage routes (schemas in offchain/sdk/api/permanent.ts): its permanent offer, and
 * staging. An uploader hands a piece of a paid permanent file here once; the agent accepts it only when the bytes
 * hash to the declared commitment and the commitment is piece `index` of the file's list on chain (the list proof
 * against `piecesRoot`, the file's span), and keeps it while the file is in business so that the slot's winner,
 * whoever it is, can fetch it (`GET` here for the root and proof, then `/v1/pieces/:root` for the bytes).
 */
import { isHexString } from "ethers";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  PIECE_PROOF_HEADER,
  PIECE_ROOT_HEADER,
  permanentPieceParams,
  permanentTermsResponse,
  stagedPieceResponse,
  type PermanentTermsResponse,
} from "../../sdk/api/permanent.js";
import { PermanentFileStatus } from "../../sdk/chain/enums.js";
import { pieceHeight } from "../../sdk/datasets/placement.js";
import { pieceLeaf, verifyPieceProof } from "../../sdk/repair/pieceList.js";
import type { AgentContext } from "../context.js";
import { ApiError } from "../http/errors.js";
import { declaredLength, overCap, rejectUpload, uploadBody } from "../http/uploads.js";
import { permanentContract } from "./contract.js";

const IN_BUSINESS = [PermanentFileStatus.value.Pending, PermanentFileStatus.value.Active];

export function registerPermanentRoutes(server: FastifyInstance, ctx: AgentContext): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const config = ctx.config.permanent;
  const uploading = new Set<string>();

  app.get("/v1/permanent", { schema: { response: { 200: permanentTermsResponse } } }, () => {
    const body: PermanentTermsResponse = {
      enabled: config.enabled,
      provider: ctx.chain.me,
      contract: ctx.config.deployment.permanentStorage,
      pricePerTiBMonth: config.pricePerTiBMonth,
      maxPieceBytes: config.maxPieceBytes,
    };
    return body;
  });

  app.get(
    "/v1/permanent/:fileId/pieces/:index",
    { schema: { params: permanentPieceParams, response: { 200: stagedPieceResponse } } },
    (request) => {
      const { fileId, index } = request.params;
      const staged = ctx.db.permanent.staged(fileId, index);
      if (staged === undefined || ctx.db.piece(staged.root)?.ok !== true) {
        throw new ApiError(404, "UNKNOWN_PIECE", `no staged piece ${index} of permanent file ${fileId}`);
      }
      return staged;
    },
  );

  app.put(
    "/v1/permanent/:fileId/pieces/:index",
    {
      schema: {
        params: permanentPieceParams,
        response: { 200: stagedPieceResponse, 201: stagedPieceResponse },
      },
    },
    async (request, reply) => {
      const reject = (error: ApiError) => rejectUpload(reply, error);
      const perm = permanentContract(ctx);
      if (!config.enabled || perm === undefined) {
        return reject(new ApiError(404, "PERMANENT_DISABLED", "this agent does not take permanent pieces"));
      }
      const { fileId, index } = request.params;
      const root = String(request.headers[PIECE_ROOT_HEADER] ?? "").toLowerCase();
      const proofHeader = String(request.headers[PIECE_PROOF_HEADER] ?? "");
      const proof = proofHeader === "" ? [] : proofHeader.split(",").map((w) => w.trim().toLowerCase());
      if (!isHexString(root, 32) || proof.length > 16 || !proof.every((w) => isHexString(w, 32))) {
        return reject(
          new ApiError(
            400,
            "BAD_REQUEST",
            `send ${PIECE_ROOT_HEADER} (32 bytes) and ${PIECE_PROOF_HEADER} (words)`,
          ),
        );
      }
      const size = declaredLength(request.headers);
      if (size instanceof ApiError) return reject(size);
      const tooLarge = overCap(size, config.maxPieceBytes);
      if (tooLarge !== undefined) return reject(tooLarge);
      const file = await perm.file(fileId);
      if (!IN_BUSINESS.includes(file.status)) {
        return reject(
          new ApiError(409, "PERMANENT_FILE_CLOSED", `permanent file ${fileId} is not pending or active`),
        );
      }
      const span = file.pieceSpan;
      const leaf = pieceLeaf({ index, pieceRoot: root, span, dataSetId: 0n });
      if (1n << BigInt(pieceHeight(size)) !== span || !verifyPieceProof(leaf, proof, file.piecesRoot)) {
        return reject(
          new ApiError(
            422,
            "BAD_PROOF",
            `piece ${root} of ${size} bytes is not piece ${index} of permanent file ${fileId}`,
          ),
        );
      }
      const held = ctx.db.piece(root);
      if (held?.ok === true && held.size === BigInt(size)) {
        ctx.db.permanent.putStaged({ fileId, index, root, size, proof });
        return reply.status(200).send({ fileId, index, root, size, proof });
      }
      const body = uploadBody(request.body);
      if (body instanceof ApiError) return reject(body);
      if (uploading.has(root)) {
        return reject(new ApiError(409, "UPLOAD_IN_PROGRESS", `piece ${root} is already being received`));
      }
      uploading.add(root);
      try {
        const outcome = await ctx.pieces.write(root, size, body);
        if (!outcome.ok) {
          return await reject(
            outcome.reason === "root-mismatch"
              ? new ApiError(422, "ROOT_MISMATCH", `the bytes do not hash to ${root}`)
              : new ApiError(
                  400,
                  "INCOMPLETE_UPLOAD",
                  `the piece is ${size} bytes; ${outcome.received} arrived`,
                ),
          );
        }
        ctx.db.tx(() => {
          ctx.db.putPiece({
            root,
            size: BigInt(size),
            path: outcome.path,
            ok: true,
            problem: null,
            verifiedAt: ctx.clock(),
          });
          ctx.db.permanent.putStaged({ fileId, index, root, size, proof });
        });
        ctx.logger.info({ fileId, index, root, size }, "permanent piece staged");
        return await reply.status(201).send({ fileId, index, root, size, proof });
      } finally {
        uploading.delete(root);
      }
    },
  );
}
