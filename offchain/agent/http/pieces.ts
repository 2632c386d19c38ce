/**
 * Piece retrieval: the bytes of a stored piece, whole or one byte range streamed from disk (leaf openings against
 * a data set's root are in datasets.ts).
 */
import { isHexString } from "ethers";
import type { ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AgentContext } from "../context.js";
import type { PieceRecord } from "../db.js";
import type { OpenedPiece } from "../pieceStore.js";
import { ApiError, sendApiError } from "./errors.js";

/** The root is checked by the route (an unknown or malformed root is a 404 UNKNOWN_PIECE, not a 400). */
const pieceParams = z.object({ root: z.string() });

/** What a Range header asks of a piece of `size` bytes. */
export type RangeRequest =
  { kind: "whole" } | { kind: "range"; start: number; end: number } | { kind: "unsatisfiable" };

/**
 * Interpret a Range header (RFC 9110 §14) for one range: `bytes=a-b`, `bytes=a-`, `bytes=-n`. A missing,
 * malformed, non-byte or multi-range header is ignored (the whole piece is sent, as the RFC allows); a range
 * starting at or past the end, or an empty suffix, is unsatisfiable. An end past the piece is clipped.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: "whole" };
  const match = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!match) return { kind: "whole" };
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return { kind: "whole" };
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return { kind: "whole" }; // syntactically invalid: ignored
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "range", start, end: last === "" ? size - 1 : Math.min(Number(last), size - 1) };
}

export function registerPieceRoutes(server: FastifyInstance, ctx: AgentContext): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  app.get("/v1/pieces/:root", { schema: { params: pieceParams } }, async (request, reply) => {
    const piece = storedPiece(ctx, request.params.root);
    if (!piece) return sendApiError(reply, unknownPiece(request.params.root));
    const size = Number(piece.size);
    const range = parseRange(request.headers.range, size);
    reply.header("accept-ranges", "bytes");
    if (range.kind === "unsatisfiable") {
      return sendApiError(
        reply.header("content-range", `bytes */${size}`),
        new ApiError(416, "RANGE_NOT_SATISFIABLE", `the piece has ${size} bytes`),
      );
    }
    const opened = await ctx.pieces.open(
      piece.root,
      range.kind === "range" ? { start: range.start, end: range.end } : undefined,
    );
    if (opened?.size !== size) {
      await opened?.close();
      const problem = opened === undefined ? "missing" : "corrupt";
      ctx.db.setPieceHealth(piece.root, false, problem, false);
      request.log.error({ root: piece.root, problem }, "piece lost; cannot serve it");
      return sendApiError(reply, unknownPiece(request.params.root));
    }
    reply.header("content-type", "application/octet-stream");
    if (range.kind === "range") {
      reply.status(206).header("content-range", `bytes ${range.start}-${range.end}/${size}`);
    }
    const length = range.kind === "range" ? range.end - range.start + 1 : size;
    await sendPiece(request, reply, length, opened);
    return reply;
  });
}

/**
 * Answer with the opened piece's bytes, written straight to the socket: each chunk's write completes before the
 * next chunk is read into its buffer, so serving allocates nothing per read (OpenedPiece.chunks). A failure after
 * the headers are sent can only drop the connection; the client sees a short body and reads elsewhere.
 */
async function sendPiece(
  request: FastifyRequest,
  reply: FastifyReply,
  length: number,
  opened: OpenedPiece,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  try {
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) raw.setHeader(name, value);
    }
    raw.setHeader("content-length", String(length));
    raw.writeHead(reply.statusCode);
    if (request.method !== "HEAD") {
      for await (const chunk of opened.chunks) {
        if (raw.destroyed) return;
        await writeChunk(raw, chunk);
      }
    }
    raw.end();
  } catch (error) {
    request.log.warn({ err: error }, "piece answer dropped");
    raw.destroy();
  } finally {
    await opened.close();
  }
}

/** Write `chunk` and wait until it is handed to the socket (or the connection is gone). */
function writeChunk(raw: ServerResponse, chunk: Uint8Array): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const gone = (): void => {
      reject(new Error("the connection closed"));
    };
    raw.once("close", gone);
    raw.write(chunk, (error) => {
      raw.off("close", gone);
      if (error) reject(error);
      else resolve();
    });
  });
}

/** The piece `root` if it is stored and healthy as far as the agent knows. */
function storedPiece(ctx: AgentContext, rootParam: string): PieceRecord | undefined {
  const root = rootParam.toLowerCase();
  if (!isHexString(root, 32)) return undefined;
  const piece = ctx.db.piece(root);
  return piece?.ok === true ? piece : undefined;
}

function unknownPiece(root: string): ApiError {
  return new ApiError(404, "UNKNOWN_PIECE", `no piece ${root}`);
}
