import { open } from "node:fs/promises";
import { request as httpRequest, type ClientRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { httpGetRange, type RangeAnswer, type RangeTransport } from "./rangeGet.mjs";
import { workerGetRange } from "./rangeTransport.js";
import type { z } from "zod";
import {
  createDataSetResponse,
  dataSetLeafResponse,
  dataSetResponse,
  dataSetStateResponse,
  dataSetTermsResponse,
  PIECE_SIZE_HEADER,
  pieceUploadResponse,
  pieceUploadStatusResponse,
  UPLOAD_OFFSET_HEADER,
  uploadStatusResponse,
  type CreateDataSetRequest,
  type CreateDataSetResponse,
  type DataSetLeafResponse,
  type DataSetResponse,
  type DataSetStateRequest,
  type DataSetStateResponse,
  type DataSetTermsResponse,
  type PieceUploadResponse,
  type PieceUploadStatusResponse,
  type UploadStatusResponse,
} from "../api/datasets.js";
import { publicIndexResponse, type PublicIndexEntry, type PublicIndexResponse } from "../api/publicFiles.js";
import {
  apiErrorSchema,
  healthResponse,
  statusResponse,
  type HealthResponse,
  type StatusResponse,
} from "../api/routes.js";
import { StrataError } from "../errors.js";
import { fileRangeChunks } from "../data/fileRanges.js";
import { badData, decodeAnswer, toJsonValue } from "./agentJson.js";

/** GET /health */
export type AgentHealth = HealthResponse;

/** GET /v1/terms: the provider's data-set offer. */
export type AgentTerms = DataSetTermsResponse;

/** GET /v1/status */
export type AgentStatus = StatusResponse;

/** GET /v1/datasets/:id: the agent's layout and the chain's view of one data set. */
export type AgentDataSet = DataSetResponse;

/** Typed client of one provider agent's HTTP API (offchain/sdk/api). */
export interface AgentClient {
  readonly endpoint: string;
  health(): Promise<AgentHealth>;
  status(): Promise<AgentStatus>;
  terms(): Promise<AgentTerms>;
  /** POST /v1/datasets: the agent submits createDataSet on the client's signed terms. */
  createDataSet(request: CreateDataSetRequest): Promise<CreateDataSetResponse>;
  getDataSet(dataSetId: bigint): Promise<AgentDataSet>;
  /** PUT /v1/datasets/:id/pieces/:root; resolves once the agent has checked the bytes against the root. */
  putPiece(
    dataSetId: bigint,
    root: string,
    bytes: Uint8Array,
    onProgress?: ProgressCallback,
  ): Promise<PieceUploadResponse>;
  /** POST /v1/datasets/:id/state: a signed state with the layout change that produces it. */
  postState(request: DataSetStateRequest): Promise<DataSetStateResponse>;
  /** GET /v1/datasets/:id/leaves/:leaf: a leaf and its path against the on-chain root. */
  leaf(dataSetId: bigint, leaf: number): Promise<DataSetLeafResponse>;
  /**
   * GET /v1/pieces/:root as it arrives (the request goes out when iteration starts), never more than `size` bytes:
   * a longer or shorter body is PROVIDER_BAD_DATA. Never held whole: write it to a file (`savePiece`) or a store.
   */
  pieceBody(root: string, size: number, onProgress?: ProgressCallback): AsyncIterable<Uint8Array>;
  /**
   * PUT a piece streamed from a file (never held in memory). After a dropped connection or an incomplete body it
   * asks the agent how many bytes arrived (uploadStatus) and sends the rest, up to `attempts` times (default 4).
   */
  putPieceFile(
    dataSetId: bigint,
    root: string,
    file: { path: string; size: number },
    onProgress?: ProgressCallback,
    options?: { attempts?: number },
  ): Promise<PieceUploadResponse>;
  /** GET /v1/datasets/:id/pieces/:root/upload: bytes of an interrupted upload the agent holds. */
  uploadStatus(dataSetId: bigint, root: string, size: number): Promise<PieceUploadStatusResponse>;
  /**
   * PUT /v1/datasets/:id/uploads/:uploadId: a piece streamed before its root is known (it may still be being
   * produced: `read(offset)` yields bytes [offset, size) as they become available). The agent computes the root;
   * the answer names it. Resumes after a dropped connection like putPieceFile (asking namedUploadStatus).
   */
  uploadPiece(
    dataSetId: bigint,
    upload: PieceSource,
    onProgress?: ProgressCallback,
    options?: { attempts?: number },
  ): Promise<PieceUploadResponse>;
  /** GET /v1/datasets/:id/uploads/:uploadId?size=N: bytes of an upload by id the agent holds (and its root once whole). */
  namedUploadStatus(dataSetId: bigint, uploadId: string, size: number): Promise<UploadStatusResponse>;
  /**
   * Bytes [start, end) of a piece (HTTP Range); anything but exactly that many bytes is PROVIDER_BAD_DATA. With
   * `into` (at least end - start bytes, free for reuse by the caller), the bytes are read into it and the answer
   * is a view of it: a reader that recycles its buffers allocates nothing per request.
   */
  downloadRange(root: string, start: number, end: number, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * PUT /v1/datasets/:id/pieces/:root/public-index: the files of a public piece the agent holds; it checks every
   * entry against the piece's bytes (PUBLIC_INDEX_INVALID as the agent's code otherwise) before serving them.
   */
  putPublicIndex(
    dataSetId: bigint,
    root: string,
    entries: readonly PublicIndexEntry[],
  ): Promise<PublicIndexResponse>;
}

export type ProgressCallback = (done: number, total: number) => void;

/** A piece read as a stream: `read(offset)` yields its bytes [offset, size) in order. */
export interface PieceSource {
  /** 32 random bytes (0x-hex) naming the upload, chosen by the client. */
  id: string;
  size: number;
  read: (offset: number) => AsyncIterable<Uint8Array>;
}

/**
 * Sends one streamed PUT and resolves with the answer. A transport is done with a chunk of `body` (sent, or
 * copied) before it asks for the next one: sources reuse one buffer for every chunk. The default (httpPut) is
 * node:http: measured, fetch (undici) with a streamed body let a client uploading three 256 MiB pieces grow by
 * their whole size, node:http stays at one chunk.
 */
export type PutTransport = (
  url: string,
  headers: Record<string, string>,
  body: AsyncIterable<Uint8Array>,
  timeoutMs: number,
) => Promise<Response>;

/**
 * PUT `body` to `url` with node:http(s). Each chunk is written and its write completed (handed to the socket)
 * before the next is asked for, so the body is read only as fast as the socket drains and a source may reuse a
 * chunk's memory for the next (fileRangeChunks says what a fresh buffer per read costs).
 */
export const httpPut: PutTransport = (url, headers, body, timeoutMs) =>
  new Promise<Response>((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const request = send(target, { method: "PUT", headers, timeout: timeoutMs }, (answer) => {
      const chunks: Buffer[] = [];
      let length = 0;
      answer.on("data", (chunk: Buffer) => {
        length += chunk.length;
        if (length <= ANSWER_LIMIT) chunks.push(chunk);
      });
      answer.on("end", () => {
        const status = answer.statusCode ?? 502;
        resolve(new Response(Buffer.concat(chunks), { status: status < 200 ? 502 : status }));
      });
      answer.on("error", reject);
    });
    request.on("timeout", () => {
      request.destroy(Object.assign(new Error("upload timed out"), { name: "TimeoutError" }));
    });
    request.on("error", reject);
    // An early answer (a refusal) ends the upload: the writes' own error is then irrelevant.
    writeBody(request, body).catch((cause: unknown) => {
      const error = cause instanceof Error ? cause : new Error(String(cause));
      request.destroy(error);
      reject(error);
    });
  });

async function writeBody(request: ClientRequest, body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of body) {
    // Answered (and closed) early: stop reading; the answer is what counts.
    if (request.destroyed) return;
    await new Promise<void>((resolve, reject) => {
      request.write(chunk, (error) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }
  request.end();
}

export type { RangeAnswer, RangeTransport };
export { httpGetRange };

/** Largest answer to a PUT kept (JSON acknowledgements and errors are small). */
const ANSWER_LIMIT = 1 << 20;

export interface AgentClientOptions {
  fetch?: typeof fetch;
  /** Transport of streamed piece uploads (default httpPut). */
  put?: PutTransport;
  /** Transport of ranged piece reads (default workerGetRange; with a custom `fetch` and no `get`, that fetch). */
  get?: RangeTransport;
  /** Timeout of a JSON request, and the base timeout of a piece transfer (ms). Default 10 s. */
  timeoutMs?: number;
  /** Slowest transfer rate tolerated: a piece transfer may take timeoutMs + size / this (bytes/s). */
  minBytesPerSecond?: number;
  /** Largest JSON answer accepted. Default 1 MiB. */
  maxJsonBytes?: number;
}

/** A provider's 4xx/5xx answer: `agentCode` is the agent's own error code (POLICY_REJECTED, ...). */
export class ProviderRejectedError extends StrataError {
  readonly agentCode: string;
  readonly status: number;

  constructor(endpoint: string, status: number, agentCode: string, agentMessage: string) {
    super("PROVIDER_REJECTED", `${endpoint} refused: ${agentMessage} (${agentCode}, HTTP ${status})`);
    this.agentCode = agentCode;
    this.status = status;
  }
}

const TRANSFER_CHUNK = 256 * 1024;
/** Wait before resuming an upload (times the attempt number). */
const RESUME_DELAY_MS = 250;

export function createAgentClient(endpoint: string, options: AgentClientOptions = {}): AgentClient {
  const base = endpoint.replace(/\/+$/, "");
  const fetchFn = options.fetch ?? fetch;
  const putTransport = options.put ?? httpPut;
  const getTransport = options.get ?? (options.fetch === undefined ? workerGetRange : undefined);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const minRate = options.minBytesPerSecond ?? 256 * 1024;
  const maxJson = options.maxJsonBytes ?? 1 << 20;
  const transferTimeout = (size: number) => timeoutMs + Math.ceil((size / minRate) * 1000);

  async function send(path: string, init: RequestInit, timeout: number): Promise<Response> {
    const url = /^https?:\/\//.test(path) ? path : `${base}${path}`;
    try {
      return await fetchFn(url, { ...init, signal: AbortSignal.timeout(timeout) });
    } catch (cause) {
      throw unreachable(base, cause);
    }
  }

  async function readJson(response: Response, where: string): Promise<unknown> {
    const bytes = await readLimited(response, maxJson, where, base);
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(bytes));
    } catch (cause) {
      throw badData(where, "answer is not JSON", cause);
    }
    return value;
  }

  async function expectOk(response: Response, where: string, ok: readonly number[]): Promise<void> {
    if (ok.includes(response.status)) return;
    let code = `HTTP_${response.status}`;
    let message = response.statusText || "error";
    try {
      const { error } = decodeAnswer(apiErrorSchema, where, await readJson(response, where));
      code = error.code;
      message = error.message ?? message;
    } catch {
      // An error answer without the API's error shape: keep the HTTP status as the code.
    }
    throw new ProviderRejectedError(base, response.status, code, message);
  }

  async function getJson<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
    const where = `${base}${path}`;
    const response = await send(path, { method: "GET" }, timeoutMs);
    await expectOk(response, where, [200]);
    return decodeAnswer(schema, where, await readJson(response, where));
  }

  async function postJson<S extends z.ZodType>(
    path: string,
    body: unknown,
    ok: readonly number[],
    schema: S,
  ): Promise<z.output<S>> {
    const where = `${base}${path}`;
    const response = await send(
      path,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(toJsonValue(body)),
      },
      timeoutMs,
    );
    await expectOk(response, where, ok);
    return decodeAnswer(schema, where, await readJson(response, where));
  }

  const uploadStatus = (dataSetId: bigint, root: string, size: number): Promise<PieceUploadStatusResponse> =>
    getJson(`/v1/datasets/${dataSetId}/pieces/${root}/upload?size=${size}`, pieceUploadStatusResponse);

  const namedUploadStatus = (
    dataSetId: bigint,
    uploadId: string,
    size: number,
  ): Promise<UploadStatusResponse> =>
    getJson(`/v1/datasets/${dataSetId}/uploads/${uploadId}?size=${size}`, uploadStatusResponse);

  /**
   * PUT bytes [offset, size) from `body(offset)` to `where`; after a dropped connection or an incomplete body, ask
   * `received()` how many bytes the agent holds and send the rest, up to `attempts` times. Resolves with the
   * agent's acknowledgement, or `{ received }` when the status says the whole piece already arrived.
   */
  async function resumablePut(
    where: string,
    size: number,
    body: (offset: number) => AsyncIterable<Uint8Array>,
    received: () => Promise<number>,
    attempts: number,
  ): Promise<PieceUploadResponse | { received: number }> {
    let offset = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        let response: Response;
        try {
          response = await putTransport(
            where,
            {
              "content-type": "application/octet-stream",
              "content-length": String(size - offset),
              [PIECE_SIZE_HEADER]: String(size),
              [UPLOAD_OFFSET_HEADER]: String(offset),
            },
            body(offset),
            transferTimeout(size - offset),
          );
        } catch (cause) {
          if (cause instanceof StrataError && cause.code !== "PROVIDER_UNREACHABLE") throw cause;
          throw unreachable(base, cause);
        }
        await expectOk(response, where, [200, 201]);
        const stored = decodeAnswer(pieceUploadResponse, where, await readJson(response, where));
        if (stored.size !== BigInt(size)) {
          throw badData(where, `the agent acknowledged ${stored.root} of ${stored.size} bytes`);
        }
        return stored;
      } catch (error) {
        const resumable =
          (error instanceof StrataError && error.code === "PROVIDER_UNREACHABLE") ||
          (error instanceof ProviderRejectedError &&
            ["INCOMPLETE_UPLOAD", "UPLOAD_OFFSET_MISMATCH", "UPLOAD_IN_PROGRESS"].includes(error.agentCode));
        if (!resumable || attempt >= attempts) throw error;
        // Give the agent a moment to notice the dropped connection before asking what it holds.
        await new Promise((resolve) => setTimeout(resolve, RESUME_DELAY_MS * attempt));
        const held = await received();
        if (held === size) return { received: held };
        offset = held;
      }
    }
  }

  return {
    endpoint: base,

    health: () => getJson("/health", healthResponse),

    status: () => getJson("/v1/status", statusResponse),

    terms: () => getJson("/v1/terms", dataSetTermsResponse),

    createDataSet: (request) => postJson("/v1/datasets", request, [200, 201], createDataSetResponse),

    getDataSet: (dataSetId) => getJson(`/v1/datasets/${dataSetId}`, dataSetResponse),

    async putPiece(dataSetId, root, bytes, onProgress) {
      checkRoot(root);
      const path = `/v1/datasets/${dataSetId}/pieces/${root}`;
      const where = `${base}${path}`;
      const response = await send(
        path,
        {
          method: "PUT",
          headers: {
            "content-type": "application/octet-stream",
            "content-length": String(bytes.length),
          },
          body: chunkedBody(bytes, onProgress),
          duplex: "half",
        },
        transferTimeout(bytes.length),
      );
      await expectOk(response, where, [200, 201]);
      const stored = decodeAnswer(pieceUploadResponse, where, await readJson(response, where));
      if (stored.root.toLowerCase() !== root.toLowerCase() || stored.size !== BigInt(bytes.length)) {
        throw badData(where, `the agent acknowledged ${stored.root} of ${stored.size} bytes`);
      }
      return stored;
    },

    postState: (request) =>
      postJson(
        `/v1/datasets/${request.state.dataSetId}/state`,
        request,
        [200, 201, 202],
        dataSetStateResponse,
      ),

    leaf: (dataSetId, leaf) => getJson(`/v1/datasets/${dataSetId}/leaves/${leaf}`, dataSetLeafResponse),

    async putPieceFile(dataSetId, root, file, onProgress, putOptions) {
      checkRoot(root);
      const stored = await resumablePut(
        `${base}/v1/datasets/${dataSetId}/pieces/${root}`,
        file.size,
        async function* (offset) {
          const handle = await open(file.path, "r").catch((cause: unknown) => {
            throw new StrataError("FILE_NOT_FOUND", `cannot read the piece file ${file.path}`, { cause });
          });
          try {
            yield* fileBody(handle, offset, file.size, onProgress);
          } finally {
            await handle.close();
          }
        },
        async () => (await uploadStatus(dataSetId, root, file.size)).received,
        putOptions?.attempts ?? 4,
      );
      if ("received" in stored) return { root, size: BigInt(file.size) };
      if (stored.root.toLowerCase() !== root.toLowerCase()) {
        throw badData(
          `${base}/v1/datasets/${dataSetId}/pieces/${root}`,
          `the agent acknowledged ${stored.root}`,
        );
      }
      return stored;
    },

    async uploadPiece(dataSetId, upload, onProgress, putOptions) {
      checkRoot(upload.id);
      const where = `${base}/v1/datasets/${dataSetId}/uploads/${upload.id}`;
      let completedRoot: string | undefined;
      const stored = await resumablePut(
        where,
        upload.size,
        async function* (offset) {
          let sent = offset;
          for await (const chunk of upload.read(offset)) {
            sent += chunk.length;
            onProgress?.(sent, upload.size);
            yield chunk;
          }
        },
        async () => {
          const status = await namedUploadStatus(dataSetId, upload.id, upload.size);
          completedRoot = status.root;
          return status.received;
        },
        putOptions?.attempts ?? 4,
      );
      if (!("received" in stored)) return stored;
      if (completedRoot === undefined) throw badData(where, "the upload completed without a root");
      return { root: completedRoot, size: BigInt(upload.size) };
    },

    namedUploadStatus,

    uploadStatus,

    async putPublicIndex(dataSetId, root, entries) {
      checkRoot(root);
      const path = `/v1/datasets/${dataSetId}/pieces/${root}/public-index`;
      const where = `${base}${path}`;
      const body = JSON.stringify({ entries });
      // The agent recomputes every CID from the piece: allow time for reading it once.
      const response = await send(
        path,
        { method: "PUT", headers: { "content-type": "application/json" }, body },
        transferTimeout(entries.reduce((sum, e) => sum + e.size, body.length)),
      );
      await expectOk(response, where, [200]);
      return decodeAnswer(publicIndexResponse, where, await readJson(response, where));
    },

    async downloadRange(root, start, end, into) {
      checkRoot(root);
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) {
        throw new StrataError("INVALID_ARGUMENT", `bad byte range ${start}-${end}`);
      }
      const path = `/v1/pieces/${root}`;
      const where = `${base}${path}`;
      const range = `bytes=${start}-${end - 1}`;
      if (getTransport !== undefined) {
        let answer: RangeAnswer;
        try {
          answer = await getTransport(where, { range }, end - start, transferTimeout(end - start), into);
        } catch (cause) {
          throw unreachable(base, cause);
        }
        if (answer.status !== 206) {
          await expectOk(new Response(answer.body, { status: answer.status }), where, [206]);
        }
        if (answer.tooLong) throw badData(where, `answer is larger than ${end - start} bytes`);
        if (answer.body.length !== end - start) {
          throw badData(where, `range is ${answer.body.length} bytes, expected ${end - start}`);
        }
        return answer.body;
      }
      const response = await send(path, { method: "GET", headers: { range } }, transferTimeout(end - start));
      await expectOk(response, where, [206]);
      const bytes = await readLimited(response, end - start, where, base, noProgress);
      if (bytes.length !== end - start) {
        throw badData(where, `range is ${bytes.length} bytes, expected ${end - start}`);
      }
      return bytes;
    },

    async *pieceBody(root, size, onProgress) {
      checkRoot(root);
      const path = `/v1/pieces/${root}`;
      const where = `${base}${path}`;
      const response = await send(path, { method: "GET" }, transferTimeout(size));
      await expectOk(response, where, [200]);
      const body = response.body;
      if (body === null) throw badData(where, `piece is 0 bytes, expected ${size}`);
      const reader: ReadableStreamDefaultReader<Uint8Array> = body.getReader();
      let received = 0;
      try {
        for (;;) {
          let next: Awaited<ReturnType<typeof reader.read>>;
          try {
            next = await reader.read();
          } catch (error) {
            throw unreachable(base, error);
          }
          if (next.done) break;
          received += next.value.length;
          if (received > size) throw badData(where, `piece is longer than ${size} bytes`);
          onProgress?.(received, size);
          yield next.value;
        }
      } finally {
        await reader.cancel().catch(() => undefined);
        reader.releaseLock();
      }
      if (received !== size) throw badData(where, `piece is ${received} bytes, expected ${size}`);
    },
  };
}

function checkRoot(root: string): void {
  if (!/^0x[0-9a-fA-F]{64}$/.test(root)) throw new StrataError("INVALID_ARGUMENT", `bad piece root ${root}`);
}

/**
 * Read a response body, never more than `limit` bytes whatever Content-Length says: the read stops at
 * `limit + 1` bytes and fails with PROVIDER_BAD_DATA.
 */
async function readLimited(
  response: Response,
  limit: number,
  where: string,
  endpoint: string,
  onProgress?: ProgressCallback,
): Promise<Uint8Array> {
  const body = response.body;
  if (body === null) return new Uint8Array(0);
  const reader: ReadableStreamDefaultReader<Uint8Array> = body.getReader();
  // A piece (progress wanted, size known) is written straight into its final buffer; small JSON answers
  // are collected chunk by chunk so that a 1 MiB limit does not allocate 1 MiB per request.
  const out = onProgress ? new Uint8Array(limit) : null;
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (received + value.length > limit) {
        await reader.cancel().catch(() => undefined);
        throw badData(where, `answer is larger than ${limit} bytes`);
      }
      if (out) out.set(value, received);
      else chunks.push(value);
      received += value.length;
      onProgress?.(received, limit);
    }
  } catch (error) {
    if (error instanceof StrataError) throw error;
    throw unreachable(endpoint, error);
  } finally {
    reader.releaseLock();
  }
  return out ? out.subarray(0, received) : Buffer.concat(chunks);
}

/** The piece as a stream of chunks, reporting progress as the transport pulls them. */
function chunkedBody(bytes: Uint8Array, onProgress?: ProgressCallback): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= bytes.length) {
          controller.close();
          return;
        }
        const end = Math.min(offset + TRANSFER_CHUNK, bytes.length);
        controller.enqueue(bytes.subarray(offset, end));
        offset = end;
        onProgress?.(offset, bytes.length);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Bytes [offset, size) of an open file, read on demand as the transport pulls them. */
async function* fileBody(
  handle: Awaited<ReturnType<typeof open>>,
  offset: number,
  size: number,
  onProgress?: ProgressCallback,
): AsyncGenerator<Uint8Array> {
  const ended = (at: number): StrataError =>
    new StrataError("FILE_NOT_FOUND", `the piece file ended at byte ${at} of ${size}`);
  let at = offset;
  for await (const chunk of fileRangeChunks(handle, offset, size, TRANSFER_CHUNK, ended)) {
    at += chunk.length;
    onProgress?.(at, size);
    yield chunk;
  }
}

function noProgress(): void {
  // A range read asks readLimited for one preallocated buffer (progress given); nobody listens to it.
}

function unreachable(endpoint: string, cause: unknown): StrataError {
  const timedOut = cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError");
  return new StrataError(
    "PROVIDER_UNREACHABLE",
    timedOut ? `${endpoint} did not answer in time` : `cannot reach ${endpoint}`,
    { details: timedOut ? "timeout" : "connection failed", cause },
  );
}
