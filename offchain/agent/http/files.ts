/**
 * Public files (docs/SPEC-DATA.md §10): a client's index of a public piece, checked against the bytes before it is
 * kept, and `GET|HEAD /v1/files/<cid>` serving the files by CID with byte ranges and immutable caching. Files are
 * read through ctx.publicFiles only; servePublicFile is the answer the site routes give too.
 */
import { createReadStream } from "node:fs";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { dataSetPieceParams } from "../../sdk/api/datasets.js";
import {
  MAX_PUBLIC_INDEX_BYTES,
  publicIndexRequest,
  publicIndexResponse,
} from "../../sdk/api/publicFiles.js";
import { StrataError } from "../../sdk/errors.js";
import { canonicalCid } from "../../sdk/files/cid.js";
import { verifyPublicIndex } from "../../sdk/files/publicIndex.js";
import type { AgentContext } from "../context.js";
import type { PublicFileSource, PublicFileStat } from "../files/publicFiles.js";
import { ApiError, sendApiError } from "./errors.js";
import { parseRange } from "./pieces.js";

/** A year: content addressed by its hash never changes. */
export const IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable";

const fileParams = z.object({ cid: z.string() });

export function registerFileRoutes(server: FastifyInstance, ctx: AgentContext): void {
  const app = server.withTypeProvider<ZodTypeProvider>();

  app.put(
    "/v1/datasets/:id/pieces/:pieceRoot/public-index",
    {
      bodyLimit: MAX_PUBLIC_INDEX_BYTES,
      schema: {
        params: dataSetPieceParams,
        body: publicIndexRequest,
        response: { 200: publicIndexResponse },
      },
    },
    async (request) => {
      const { id, pieceRoot } = request.params;
      const root = pieceRoot.toLowerCase();
      const record = ctx.db.dataSets.dataSet(id);
      if (!record) throw new ApiError(404, "UNKNOWN_DATA_SET", `no data set ${id} with this provider`);
      if (record.status !== "live") {
        throw new ApiError(409, "DATA_SET_NOT_LIVE", `data set ${id} is ${record.status}`);
      }
      const piece = ctx.db.piece(root);
      if (piece?.ok !== true) throw new ApiError(409, "PIECE_NOT_STORED", `piece ${root} is not stored here`);
      const path = ctx.pieces.path(root);
      const { entries } = request.body;
      try {
        await verifyPublicIndex(entries, Number(piece.size), (start, end) =>
          end > start ? createReadStream(path, { start, end: end - 1 }) : [],
        );
      } catch (error) {
        if (error instanceof StrataError && error.code === "PUBLIC_INDEX_INVALID") {
          throw new ApiError(422, "BAD_PUBLIC_INDEX", error.message);
        }
        throw error;
      }
      ctx.db.publicFiles.putIndex(id, root, entries);
      ctx.logger.info({ dataSetId: id, root, files: entries.length }, "public index accepted");
      return { root, files: entries.length };
    },
  );

  // HEAD is its own route: fastify's automatic HEAD would open the file to discard it.
  app.route({
    method: ["GET", "HEAD"],
    url: "/v1/files/:cid",
    schema: { params: fileParams },
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const cid = canonicalCid(request.params.cid);
      if (cid === undefined) {
        return sendApiError(reply, new ApiError(400, "BAD_REQUEST", `${request.params.cid} is not a CID`));
      }
      const stat = await ctx.publicFiles.stat(cid);
      if (stat === null) return sendApiError(reply, new ApiError(404, "NOT_FOUND", `no public file ${cid}`));
      return servePublicFile(request, reply, ctx.publicFiles, stat);
    },
  });
}

/**
 * Answer a request for one public file: Content-Type, Content-Length, `Accept-Ranges: bytes`, `ETag: "<cid>"`,
 * immutable caching, 304 when If-None-Match names it, 206 for one satisfiable byte range (416 otherwise; several
 * ranges get the whole file, as RFC 9110 allows), no body for HEAD.
 */
export function servePublicFile(
  request: FastifyRequest,
  reply: FastifyReply,
  files: PublicFileSource,
  stat: PublicFileStat,
): FastifyReply {
  const etag = `"${stat.cid}"`;
  reply
    .header("etag", etag)
    .header("cache-control", IMMUTABLE_CACHE_CONTROL)
    .header("accept-ranges", "bytes")
    .header("x-content-type-options", "nosniff");
  if (matchesEtag(request.headers["if-none-match"], etag)) return reply.status(304).send();
  const ifRange = request.headers["if-range"];
  const range =
    ifRange === undefined || ifRange === etag
      ? parseRange(request.headers.range, stat.size)
      : { kind: "whole" as const };
  if (range.kind === "unsatisfiable") {
    return sendApiError(
      reply.header("content-range", `bytes */${stat.size}`),
      new ApiError(416, "RANGE_NOT_SATISFIABLE", `the file has ${stat.size} bytes`),
    );
  }
  const [start, end] = range.kind === "range" ? [range.start, range.end + 1] : [0, stat.size];
  reply.header("content-type", stat.contentType).header("content-length", String(end - start));
  if (range.kind === "range")
    reply.status(206).header("content-range", `bytes ${start}-${end - 1}/${stat.size}`);
  if (request.method === "HEAD") return reply.send();
  return reply.send(files.stream(stat.cid, start, end));
}

/** If-None-Match: `*` or a list of entity tags, weak ones compared weakly (RFC 9110 §13.1.2). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === etag);
}
