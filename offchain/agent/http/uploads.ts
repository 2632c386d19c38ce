/**
 * Checks shared by the agent's piece-upload PUTs (data-set pieces, uploads by id, permanent pieces): the declared
 * length, the resumable span, the size cap and the streamed body, each answered with the same ApiError.
 */
import type { FastifyReply } from "fastify";
import { PIECE_SIZE_HEADER, UPLOAD_OFFSET_HEADER } from "../../sdk/api/datasets.js";
import { ApiError, sendApiError } from "./errors.js";

type Headers = Record<string, string | string[] | undefined>;

/** The Content-Length of an upload: a positive decimal of at most 15 digits, or LENGTH_REQUIRED. */
export function declaredLength(headers: Headers): number | ApiError {
  const declared = headerValue(headers["content-length"]);
  if (declared === undefined || !/^[0-9]{1,15}$/.test(declared) || Number(declared) === 0) {
    return new ApiError(411, "LENGTH_REQUIRED", "send Content-Length = the piece size");
  }
  return Number(declared);
}

/** TOO_LARGE when a piece of `size` bytes is over the agent's cap. */
export function overCap(size: number, maxPieceSize: bigint): ApiError | undefined {
  return BigInt(size) > maxPieceSize
    ? new ApiError(413, "TOO_LARGE", `the piece is ${size} bytes; at most ${maxPieceSize}`)
    : undefined;
}

/** The Content-Length, upload offset and piece size headers of a resumable PUT, checked. */
export function uploadSpan(
  headers: Headers,
  maxPieceSize: bigint,
): { offset: number; size: number } | ApiError {
  const declared = declaredLength(headers);
  if (declared instanceof ApiError) return declared;
  const offsetHeader = headerValue(headers[UPLOAD_OFFSET_HEADER]);
  const sizeHeader = headerValue(headers[PIECE_SIZE_HEADER]);
  if (
    (offsetHeader !== undefined && !/^[0-9]{1,15}$/.test(offsetHeader)) ||
    (sizeHeader !== undefined && !/^[0-9]{1,15}$/.test(sizeHeader))
  ) {
    return new ApiError(400, "BAD_REQUEST", `bad ${UPLOAD_OFFSET_HEADER} or ${PIECE_SIZE_HEADER}`);
  }
  const offset = offsetHeader === undefined ? 0 : Number(offsetHeader);
  const size = sizeHeader === undefined ? declared : Number(sizeHeader);
  if (size === 0 || offset + declared !== size) {
    return new ApiError(
      400,
      "BAD_REQUEST",
      `the body must hold bytes ${offset}..${size - 1} of the piece: Content-Length ${size - offset}`,
    );
  }
  return overCap(size, maxPieceSize) ?? { offset, size };
}

/** The request body as the byte stream an upload must be, or UNSUPPORTED_MEDIA_TYPE. */
export function uploadBody(body: unknown): AsyncIterable<Uint8Array> | ApiError {
  return isAsyncIterable(body)
    ? body
    : new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "send the piece as application/octet-stream");
}

/** Answer an upload with an error without reading the rest of its body; close the connection after. */
export function rejectUpload(reply: FastifyReply, error: ApiError): FastifyReply {
  reply.header("connection", "close");
  return sendApiError(reply, error);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}
