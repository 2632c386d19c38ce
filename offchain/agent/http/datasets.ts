/**
 * The data-set routes (schemas in offchain/sdk/api/datasets.ts): the provider's offer, opening a data set on the
 * client's signed terms, the agent's layout next to the chain's state, piece uploads, signed states, and leaf
 * openings against the on-chain root.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  createDataSetRequest,
  createDataSetResponse,
  dataSetLeafParams,
  dataSetLeafResponse,
  dataSetParams,
  dataSetPieceParams,
  dataSetResponse,
  dataSetStateRequest,
  dataSetStateResponse,
  dataSetTermsResponse,
  dataSetUploadParams,
  pieceUploadResponse,
  pieceUploadStatusQuery,
  pieceUploadStatusResponse,
  uploadStatusQuery,
  uploadStatusResponse,
  type CreateDataSetResponse,
  type DataSetLeafResponse,
  type DataSetResponse,
  type DataSetTermsResponse,
} from "../../sdk/api/datasets.js";
import { CREATE_DATA_SET_TYPES } from "../../sdk/datasets/eip712.js";
import { StrataError } from "../../sdk/errors.js";
import { decodeRevert } from "../chain.js";
import type { AgentContext } from "../context.js";
import { signedBy } from "../datasets/signatures.js";
import { applyStateChange, StateRefusal } from "../datasets/stateChange.js";
import { FIRST_DATA_SET_BLOCK_KEY } from "../datasets/store.js";
import { openDataSetLeaf } from "../datasets/openings.js";
import { judgeCreateTerms } from "../policy.js";
import { ApiError } from "./errors.js";
import { rejectUpload as reject, uploadBody, uploadSpan } from "./uploads.js";

export function registerDataSetRoutes(server: FastifyInstance, ctx: AgentContext): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const { chain } = ctx;
  const uploading = new Set<string>();
  /** Uploads by id that completed in this run: id -> the root and size the bytes made (the newest ones only). */
  const completed = new Map<string, { root: string; size: number }>();

  app.get("/v1/terms", { schema: { response: { 200: dataSetTermsResponse } } }, () => {
    const { policy } = ctx.config;
    const body: DataSetTermsResponse = {
      provider: chain.me,
      chainId: chain.chainId,
      market: ctx.config.deployment.market,
      pricePerTiBMonth: policy.pricePerTiBMonth,
      collateralPerTiB: policy.collateralPerTiB,
      noticePeriods: BigInt(policy.noticePeriods),
      maxPieceBytes: policy.maxPieceSize,
      provingPeriod: chain.period,
      endpoint: ctx.config.publicEndpoint,
    };
    return body;
  });

  app.post(
    "/v1/datasets",
    {
      schema: {
        body: createDataSetRequest,
        response: { 200: createDataSetResponse, 201: createDataSetResponse },
      },
      config: { invalidRequestCode: "BAD_TERMS" },
    },
    async (request, reply) => {
      const { terms, signature } = request.body;
      const known = ctx.db.dataSets.byClientNonce(terms.client, terms.nonce);
      if (known) {
        const body: CreateDataSetResponse = { dataSetId: known.id, txHash: known.txHash };
        return reply.status(200).send(body);
      }
      if (!(await signedBy(ctx, terms.client, CREATE_DATA_SET_TYPES, { ...terms }, signature))) {
        throw new ApiError(400, "BAD_SIGNATURE", `the terms are not signed by the client ${terms.client}`);
      }
      const params = await chain.parameters();
      const verdict = judgeCreateTerms(terms, {
        me: chain.me,
        policy: ctx.config.policy,
        now: await chain.now(),
        maxNoticePeriods: params.maxNoticePeriods,
      });
      if (!verdict.ok)
        throw new ApiError(verdict.code === "BAD_TERMS" ? 400 : 422, verdict.code, verdict.reason);

      let receipt;
      try {
        receipt = await chain.execute(
          () => chain.market.createDataSet.staticCall(terms, signature),
          () => chain.market.createDataSet(terms, signature),
        );
      } catch (error) {
        const revert = decodeRevert(error)?.name;
        if (revert === undefined) throw error;
        throw new ApiError(422, "CHAIN_REVERT", `createDataSet would revert: ${revert}`, { revert });
      }
      const dataSetId = createdId(ctx, receipt.logs);
      ctx.db.dataSets.insertDataSet({
        id: dataSetId,
        client: terms.client,
        nonce: terms.nonce,
        terms,
        signature,
        txHash: receipt.hash,
      });
      if (ctx.db.getKv(FIRST_DATA_SET_BLOCK_KEY) === undefined) {
        ctx.db.setKv(FIRST_DATA_SET_BLOCK_KEY, String(receipt.blockNumber));
      }
      ctx.logger.info({ dataSetId, client: terms.client, txHash: receipt.hash }, "data set created");
      const body: CreateDataSetResponse = { dataSetId, txHash: receipt.hash };
      return reply.status(201).send(body);
    },
  );

  app.get(
    "/v1/datasets/:id",
    { schema: { params: dataSetParams, response: { 200: dataSetResponse } } },
    async (request) => {
      const record = knownDataSet(ctx, request.params.id);
      const view = await chain.market.dataSet(record.id);
      const newest = ctx.db.dataSets.newestState(record.id);
      const body: DataSetResponse = {
        dataSetId: record.id,
        client: record.client,
        layout: newest?.layout ?? [],
        version: newest?.state.version ?? 0n,
        root: newest?.state.root ?? view.root,
        span: newest?.state.span ?? 0n,
        onChain: { version: view.version, root: view.root, span: view.span },
      };
      return body;
    },
  );

  app.put(
    "/v1/datasets/:id/pieces/:pieceRoot",
    {
      schema: {
        params: dataSetPieceParams,
        response: { 200: pieceUploadResponse, 201: pieceUploadResponse },
      },
    },
    async (request, reply) => {
      const upload = liveUpload(ctx, request.params.id, request.headers);
      if (upload instanceof ApiError) return reject(reply, upload);
      const { record, offset, size } = upload;
      const root = request.params.pieceRoot;
      const held = ctx.db.piece(root);
      if (held?.ok === true && held.size === BigInt(size)) {
        return reply.header("connection", "close").status(200).send({ root, size: held.size });
      }
      const body = uploadBody(request.body);
      if (body instanceof ApiError) return reject(reply, body);
      if (uploading.has(root)) {
        return reject(
          reply,
          new ApiError(409, "UPLOAD_IN_PROGRESS", `piece ${root} is already being received`),
        );
      }
      uploading.add(root);
      try {
        const outcome = await ctx.pieces.write(root, size, body, offset);
        if (!outcome.ok)
          return await reject(reply, writeFailure(outcome.reason, size, outcome.received, root));
        ctx.db.putPiece({
          root,
          size: BigInt(size),
          path: outcome.path,
          ok: true,
          problem: null,
          verifiedAt: ctx.clock(),
        });
        ctx.logger.info({ dataSetId: record.id, root, size }, "piece stored");
        return await reply.status(201).send({ root, size: BigInt(size) });
      } finally {
        uploading.delete(root);
      }
    },
  );

  app.get(
    "/v1/datasets/:id/pieces/:pieceRoot/upload",
    {
      schema: {
        params: dataSetPieceParams,
        querystring: pieceUploadStatusQuery,
        response: { 200: pieceUploadStatusResponse },
      },
    },
    async (request) => {
      knownDataSet(ctx, request.params.id);
      const root = request.params.pieceRoot;
      const { size } = request.query;
      const held = ctx.db.piece(root);
      if (held?.ok === true && held.size === BigInt(size)) return { root, size, received: size };
      const partial = await ctx.pieces.uploadStatus(root, size);
      return { root, size, received: partial?.received ?? 0 };
    },
  );

  app.put(
    "/v1/datasets/:id/uploads/:uploadId",
    {
      schema: {
        params: dataSetUploadParams,
        response: { 200: pieceUploadResponse, 201: pieceUploadResponse },
      },
    },
    async (request, reply) => {
      const upload = liveUpload(ctx, request.params.id, request.headers);
      if (upload instanceof ApiError) return reject(reply, upload);
      const { record, offset, size } = upload;
      const uploadId = request.params.uploadId;
      const done = completed.get(uploadId);
      if (done?.size === size && ctx.db.piece(done.root)?.ok === true) {
        return reply
          .header("connection", "close")
          .status(200)
          .send({ root: done.root, size: BigInt(size) });
      }
      const body = uploadBody(request.body);
      if (body instanceof ApiError) return reject(reply, body);
      if (uploading.has(uploadId)) {
        return reject(
          reply,
          new ApiError(409, "UPLOAD_IN_PROGRESS", `upload ${uploadId} is already being received`),
        );
      }
      uploading.add(uploadId);
      try {
        const outcome = await ctx.pieces.writeNamed(uploadId, size, body, offset);
        if (!outcome.ok)
          return await reject(reply, writeFailure(outcome.reason, size, outcome.received, uploadId));
        const root = outcome.root;
        ctx.db.putPiece({
          root,
          size: BigInt(size),
          path: outcome.path,
          ok: true,
          problem: null,
          verifiedAt: ctx.clock(),
        });
        completed.set(uploadId, { root, size });
        // Bounded: the oldest entries go first (Map keeps insertion order).
        for (const old of completed.keys()) {
          if (completed.size <= COMPLETED_UPLOADS_KEPT) break;
          completed.delete(old);
        }
        ctx.logger.info({ dataSetId: record.id, root, size, uploadId }, "piece stored");
        return await reply.status(201).send({ root, size: BigInt(size) });
      } finally {
        uploading.delete(uploadId);
      }
    },
  );

  app.get(
    "/v1/datasets/:id/uploads/:uploadId",
    {
      schema: {
        params: dataSetUploadParams,
        querystring: uploadStatusQuery,
        response: { 200: uploadStatusResponse },
      },
    },
    async (request) => {
      knownDataSet(ctx, request.params.id);
      const { uploadId } = request.params;
      const { size } = request.query;
      const done = completed.get(uploadId);
      if (done?.size === size && ctx.db.piece(done.root)?.ok === true)
        return { uploadId, size, received: size, root: done.root };
      const partial = await ctx.pieces.namedUploadStatus(uploadId, size);
      return { uploadId, size, received: partial?.received ?? 0 };
    },
  );

  app.post(
    "/v1/datasets/:id/state",
    { schema: { params: dataSetParams, body: dataSetStateRequest, response: { 200: dataSetStateResponse } } },
    async (request) => {
      const record = knownDataSet(ctx, request.params.id);
      try {
        const accepted = await applyStateChange(ctx, record, request.body);
        // The state submitter sends it in the next tick: ask for that tick now.
        ctx.wakeDuties?.();
        return { accepted: true as const, version: accepted.state.version };
      } catch (error) {
        if (error instanceof StateRefusal) throw new ApiError(error.status, error.code, error.message);
        throw error;
      }
    },
  );

  app.get(
    "/v1/datasets/:id/leaves/:leaf",
    { schema: { params: dataSetLeafParams, response: { 200: dataSetLeafResponse } } },
    async (request) => {
      const record = knownDataSet(ctx, request.params.id);
      try {
        const opened: DataSetLeafResponse = await openDataSetLeaf(ctx, record.id, request.params.leaf);
        return opened;
      } catch (error) {
        if (error instanceof StrataError && error.code === "LEAF_OUT_OF_RANGE") {
          throw new ApiError(400, "LEAF_OUT_OF_RANGE", error.message);
        }
        if (
          error instanceof StrataError &&
          (error.code === "PIECE_NOT_FOUND" || error.code === "PIECE_CORRUPT")
        ) {
          throw new ApiError(404, "UNKNOWN_PIECE", error.message);
        }
        if (error instanceof StateRefusal) throw new ApiError(error.status, error.code, error.message);
        throw error;
      }
    },
  );
}

function knownDataSet(ctx: AgentContext, id: bigint) {
  const record = ctx.db.dataSets.dataSet(id);
  if (!record) throw new ApiError(404, "UNKNOWN_DATA_SET", `no data set ${id} with this provider`);
  return record;
}

/** The id in the receipt's DataSetCreated event. */
function createdId(ctx: AgentContext, logs: readonly { topics: readonly string[]; data: string }[]): bigint {
  const { market } = ctx.chain;
  for (const log of logs) {
    const parsed = market.interface.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed?.name === "DataSetCreated") return parsed.args.getValue("id") as bigint;
  }
  throw new StrataError("CHAIN_REVERT", "createDataSet was mined without a DataSetCreated event");
}

/** Uploads by id remembered after they complete (a client that lost the answer asks for the root). */
const COMPLETED_UPLOADS_KEPT = 4096;

/** The live data set an upload PUT goes to and the span it carries, or why it is refused. */
function liveUpload(
  ctx: AgentContext,
  id: bigint,
  headers: Record<string, string | string[] | undefined>,
): ({ record: ReturnType<typeof knownDataSet> } & { offset: number; size: number }) | ApiError {
  const record = knownDataSet(ctx, id);
  if (record.status !== "live") {
    return new ApiError(409, "DATA_SET_NOT_LIVE", `data set ${record.id} is ${record.status}`);
  }
  const span = uploadSpan(headers, ctx.config.policy.maxPieceSize);
  return span instanceof ApiError ? span : { record, ...span };
}

function writeFailure(
  reason: "too-large" | "too-small" | "root-mismatch" | "offset-mismatch",
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
    case "offset-mismatch":
      return new ApiError(
        409,
        "UPLOAD_OFFSET_MISMATCH",
        `the agent holds ${received} bytes of ${root}: resume from byte ${received}`,
      );
  }
}
