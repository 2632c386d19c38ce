/** PUT /v1/uploads/:id streams a piece's bytes to disk; GET /v1/uploads/:id reports the upload's state. */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  uploadParams,
  uploadPutResponse,
  uploadStatusResponse,
  type UploadState,
  type UploadStatusResponse,
} from "../../sdk/api/routes.js";
import type { AgentContext } from "../context.js";
import type { UploadRecord } from "../db.js";
import { ApiError, sendApiError } from "./errors.js";

/** Upload states as clients see them ("publishing" is internal and shows as "accepted"). */
export type PublicUploadState = UploadState;

export function registerUploadRoutes(server: FastifyInstance, ctx: AgentContext): void {
  const inProgress = new Set<string>();
  const app = server.withTypeProvider<ZodTypeProvider>();

  app.put(
    "/v1/uploads/:id",
    { schema: { params: uploadParams, response: { 202: uploadPutResponse } } },
    async (request, reply) => {
      const upload = ctx.db.upload(request.params.id);
      if (!upload)
        return reject(reply, new ApiError(404, "UNKNOWN_UPLOAD", `no upload ${request.params.id}`));
      if (upload.state !== "awaiting-data") {
        return reject(
          reply,
          new ApiError(409, "UPLOAD_NOT_OPEN", `upload ${upload.id} is ${publicState(upload)}`),
        );
      }
      if (inProgress.has(upload.id)) {
        return reject(
          reply,
          new ApiError(409, "UPLOAD_IN_PROGRESS", `upload ${upload.id} is already receiving data`),
        );
      }
      const size = Number(upload.size);
      const declared = request.headers["content-length"];
      if (declared !== undefined && Number(declared) > size) {
        return reject(
          reply,
          new ApiError(413, "TOO_LARGE", `the piece is ${size} bytes; got Content-Length ${declared}`),
        );
      }
      const body = request.body;
      if (!isAsyncIterable(body)) {
        return reject(
          reply,
          new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "send the piece as application/octet-stream"),
        );
      }
      if ((await ctx.chain.now()) > upload.proposal.startDeadline) {
        ctx.db.setUploadState(upload.id, "failed", {
          reason: "start deadline passed before the data arrived",
        });
        return reject(reply, new ApiError(409, "UPLOAD_NOT_OPEN", `upload ${upload.id} expired`));
      }

      inProgress.add(upload.id);
      let failure: ApiError | undefined;
      try {
        const outcome = await ctx.pieces.write(upload.root, size, body);
        if (outcome.ok) {
          ctx.db.acceptUpload(upload.id, { root: upload.root, size: upload.size, path: outcome.path });
          ctx.logger.info({ uploadId: upload.id, root: upload.root, size }, "piece stored; upload accepted");
        } else {
          ctx.logger.warn(
            { uploadId: upload.id, reason: outcome.reason, received: outcome.received },
            "upload rejected",
          );
          failure = writeFailure(outcome.reason, size, outcome.received, upload.root);
        }
      } finally {
        inProgress.delete(upload.id);
      }
      if (failure) return reject(reply, failure);
      return reply.status(202).send({ state: "accepted" });
    },
  );

  app.get(
    "/v1/uploads/:id",
    { schema: { params: uploadParams, response: { 200: uploadStatusResponse } } },
    async (request, reply) => {
      const upload = ctx.db.upload(request.params.id);
      if (!upload)
        return sendApiError(reply, new ApiError(404, "UNKNOWN_UPLOAD", `no upload ${request.params.id}`));
      const body: UploadStatusResponse = {
        id: upload.id,
        state: publicState(upload),
        dealId: upload.dealId,
        txHash: upload.txHash,
        reason: upload.reason,
      };
      return reply.send(body);
    },
  );
}

function writeFailure(
  reason: "too-large" | "too-small" | "root-mismatch",
  size: number,
  received: number,
  root: string,
): ApiError {
  switch (reason) {
    case "too-large":
      return new ApiError(413, "TOO_LARGE", `the piece is ${size} bytes; more arrived`);
    case "too-small":
      return new ApiError(400, "INCOMPLETE_UPLOAD", `the piece is ${size} bytes; only ${received} arrived`);
    case "root-mismatch":
      return new ApiError(422, "ROOT_MISMATCH", `the bytes do not hash to ${root}`);
  }
}

export function publicState(upload: UploadRecord): PublicUploadState {
  return upload.state === "publishing" ? "accepted" : upload.state;
}

/** Answer an upload with an error without reading the rest of its body; close the connection after. */
function reject(reply: FastifyReply, error: ApiError): FastifyReply {
  reply.header("connection", "close");
  return sendApiError(reply, error);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}
