import type { DealExtension } from "../deals/eip712.js";
import type { DealProposal } from "../deals/terms.js";
import { StrataError } from "../errors.js";
import { badData, JsonReader, toJsonValue } from "./agentJson.js";

/** GET /health */
export interface AgentHealth {
  ok: boolean;
  provider: string;
  chainId: bigint;
  market: string;
  version: string;
}

/** GET /v1/terms: what the provider asks and offers. */
export interface AgentTerms {
  provider: string;
  pricePerTiBMonth: bigint;
  /** Optional policy floor: the provider rejects a pricePerSecond below ceil(this * size / MiB). */
  minPricePerSecondPerMiB: bigint | null;
  maxPieceSize: bigint;
  maxDurationPeriods: bigint;
  /** Collateral the provider locks per GiB of piece. */
  collateralPerGiB: bigint;
  provingPeriod: bigint;
}

/** GET /v1/status */
export interface AgentStatus {
  provider: string;
  chainId: bigint;
  market: string;
  deals: { active: bigint; published: bigint; pending: bigint };
  pieces: bigint;
  bytesStored: bigint;
  proof: { nextPeriod: bigint; lastProvenPeriod: bigint | null; lastProofTx: string | null };
  balance: { ledger: bigint; freeStake: bigint; lockedStake: bigint };
}

/** 201 answer to POST /v1/deals. */
export interface DealOffer {
  uploadId: string;
  uploadUrl: string;
}

export const UPLOAD_STATES = ["awaiting-data", "accepted", "published", "skipped", "failed"] as const;
export type UploadState = (typeof UPLOAD_STATES)[number];

/** GET /v1/uploads/:id */
export interface UploadStatus {
  state: UploadState;
  dealId: bigint | null;
  txHash: string | null;
  reason: string | null;
}

/** Body of POST /v1/extensions (bigints as decimal strings on the wire). */
export interface ExtensionRequest {
  dealId: bigint;
  extension: DealExtension;
  signature: string;
}

/** Answer to POST /v1/extensions. */
export interface ExtensionReceipt {
  state: string;
  txHash: string | null;
}

/** Typed client of one provider agent's HTTP API (see the agent's routes). */
export interface AgentClient {
  readonly endpoint: string;
  health(): Promise<AgentHealth>;
  status(): Promise<AgentStatus>;
  terms(): Promise<AgentTerms>;
  proposeDeal(signed: { proposal: DealProposal; signature: string }): Promise<DealOffer>;
  /** PUT the piece; resolves once the agent has checked that the bytes hash to the proposal's root. */
  upload(offer: DealOffer, bytes: Uint8Array, onProgress?: ProgressCallback): Promise<UploadState>;
  uploadStatus(uploadId: string): Promise<UploadStatus>;
  /** GET /v1/pieces/:root, reading at most `size` bytes: a longer or shorter body is PROVIDER_BAD_DATA. */
  downloadPiece(root: string, size: number, onProgress?: ProgressCallback): Promise<Uint8Array>;
  submitExtension(request: ExtensionRequest): Promise<ExtensionReceipt>;
}

export type ProgressCallback = (done: number, total: number) => void;

export interface AgentClientOptions {
  fetch?: typeof fetch;
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

export function createAgentClient(endpoint: string, options: AgentClientOptions = {}): AgentClient {
  const base = endpoint.replace(/\/+$/, "");
  const fetchFn = options.fetch ?? fetch;
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

  async function readJson(response: Response, where: string): Promise<JsonReader> {
    const bytes = await readLimited(response, maxJson, where, base);
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder().decode(bytes));
    } catch (cause) {
      throw badData(where, "answer is not JSON", cause);
    }
    return JsonReader.of(where, value);
  }

  async function expectOk(response: Response, where: string, ok: readonly number[]): Promise<void> {
    if (ok.includes(response.status)) return;
    let code = `HTTP_${response.status}`;
    let message = response.statusText || "error";
    try {
      const error = (await readJson(response, where)).object("error");
      code = error.string("code");
      message = error.optionalString("message") ?? message;
    } catch {
      // An error answer without the API's error shape: keep the HTTP status as the code.
    }
    throw new ProviderRejectedError(base, response.status, code, message);
  }

  async function getJson(path: string): Promise<JsonReader> {
    const where = `${base}${path}`;
    const response = await send(path, { method: "GET" }, timeoutMs);
    await expectOk(response, where, [200]);
    return readJson(response, where);
  }

  async function postJson(path: string, body: unknown, ok: readonly number[]): Promise<JsonReader> {
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
    return readJson(response, where);
  }

  return {
    endpoint: base,

    async health() {
      const r = await getJson("/health");
      return {
        ok: r.boolean("ok"),
        provider: r.address("provider"),
        chainId: r.bigint("chainId"),
        market: r.address("market"),
        version: r.optionalString("version") ?? "",
      };
    },

    async status() {
      const r = await getJson("/v1/status");
      const deals = r.object("deals");
      const proof = r.object("proof");
      const balance = r.object("balance");
      return {
        provider: r.address("provider"),
        chainId: r.bigint("chainId"),
        market: r.address("market"),
        deals: {
          active: deals.bigint("active"),
          published: deals.bigint("published"),
          pending: deals.bigint("pending"),
        },
        pieces: r.bigint("pieces"),
        bytesStored: r.bigint("bytesStored"),
        proof: {
          nextPeriod: proof.bigint("nextPeriod"),
          lastProvenPeriod: proof.optionalBigint("lastProvenPeriod"),
          lastProofTx: proof.optionalString("lastProofTx"),
        },
        balance: {
          ledger: balance.bigint("ledger"),
          freeStake: balance.bigint("freeStake"),
          lockedStake: balance.bigint("lockedStake"),
        },
      };
    },

    async terms() {
      const r = await getJson("/v1/terms");
      return {
        provider: r.address("provider"),
        pricePerTiBMonth: r.bigint("pricePerTiBMonth"),
        minPricePerSecondPerMiB: r.optionalBigint("minPricePerSecondPerMiB"),
        maxPieceSize: r.bigint("maxPieceSize"),
        maxDurationPeriods: r.bigint("maxDurationPeriods"),
        collateralPerGiB: r.bigint("collateralPerGiB"),
        provingPeriod: r.bigint("provingPeriod"),
      };
    },

    async proposeDeal(signed) {
      const r = await postJson("/v1/deals", signed, [200, 201]);
      const uploadId = r.string("uploadId");
      if (!/^[A-Za-z0-9._~-]{1,128}$/.test(uploadId)) throw badData(`${base}/v1/deals`, "bad uploadId");
      return { uploadId, uploadUrl: r.optionalString("uploadUrl") ?? `/v1/uploads/${uploadId}` };
    },

    async upload(offer, bytes, onProgress) {
      const path = /^https?:\/\//.test(offer.uploadUrl)
        ? offer.uploadUrl
        : `/${offer.uploadUrl.replace(/^\/+/, "")}`;
      const where = `${base}/v1/uploads/${offer.uploadId}`;
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
      await expectOk(response, where, [200, 201, 202]);
      return (await readJson(response, where)).oneOf("state", UPLOAD_STATES);
    },

    async uploadStatus(uploadId) {
      const r = await getJson(`/v1/uploads/${encodeURIComponent(uploadId)}`);
      return {
        state: r.oneOf("state", UPLOAD_STATES),
        dealId: r.optionalBigint("dealId"),
        txHash: r.optionalString("txHash"),
        reason: r.optionalString("reason"),
      };
    },

    async downloadPiece(root, size, onProgress) {
      if (!/^0x[0-9a-fA-F]{64}$/.test(root))
        throw new StrataError("INVALID_ARGUMENT", `bad piece root ${root}`);
      const path = `/v1/pieces/${root}`;
      const where = `${base}${path}`;
      const response = await send(path, { method: "GET" }, transferTimeout(size));
      await expectOk(response, where, [200]);
      const bytes = await readLimited(response, size, where, base, onProgress ?? noProgress);
      if (bytes.length !== size) {
        throw badData(where, `piece is ${bytes.length} bytes, expected ${size}`);
      }
      return bytes;
    },

    async submitExtension(request) {
      const r = await postJson("/v1/extensions", request, [200, 201, 202]);
      return { state: r.optionalString("state") ?? "accepted", txHash: r.optionalString("txHash") };
    },
  };
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

function noProgress(): void {
  // A piece download always preallocates its buffer; progress is optional for the caller.
}

function unreachable(endpoint: string, cause: unknown): StrataError {
  const timedOut = cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError");
  return new StrataError(
    "PROVIDER_UNREACHABLE",
    timedOut ? `${endpoint} did not answer in time` : `cannot reach ${endpoint}`,
    { details: timedOut ? "timeout" : "connection failed", cause },
  );
}
