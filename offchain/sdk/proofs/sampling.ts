/**
 * Retrieval sampling: ask a provider's agent for one 64-byte leaf of a piece and check it against the piece's
 * root, the way a watcher tests whether a provider still serves the data it is paid to keep.
 *
 * Two requests run in parallel under one deadline: the leaf's Merkle proof
 * (`GET /v1/pieces/:root/proof?leaf=i`) and the leaf's bytes (`GET /v1/pieces/:root` with a `Range` header).
 * The bytes must equal the proof's leaf (a last partial leaf zero-padded to 64 bytes, as in the commitment)
 * and the leaf with its path must hash to the root. The provider is not trusted: every answer is read with a
 * hard byte cap, redirects are not followed, and any misbehaviour is a result, never an exception.
 */
import { StrataError, type StrataErrorCode } from "../errors.js";
import { leafProofResponse } from "../api/routes.js";
import { decodeAnswer } from "../client/agentJson.js";
import { fromHex, LEAF_SIZE, leafCount, rootFromPath, treeDepth } from "../commitment/merkle.js";

export interface SampleLeafOptions {
  /** The provider's agent URL (from the registry: provider data, so a malformed one is UNREACHABLE). */
  endpoint: string;
  /** The piece's root, 0x-hex 32 bytes. */
  root: string;
  /** The piece's size in bytes (from the deal). */
  size: bigint;
  /** The leaf to sample, 0 <= leafIndex < ceil(size / 64). */
  leafIndex: number;
  /** Deadline of the whole sample: connecting, headers and bodies of both requests. */
  timeoutMs: number;
  /** Largest proof answer read; more is PROVIDER_BAD_DATA. */
  maxBytes: number;
  fetch?: typeof fetch;
}

/** The outcome of one sample; `code` says how the provider failed. */
export type SampleResult =
  { ok: true; latencyMs: number } | { ok: false; code: StrataErrorCode; message: string; latencyMs: number };

/** Codes a failed sample carries. */
export type SampleFailureCode = Extract<
  StrataErrorCode,
  "PROVIDER_UNREACHABLE" | "PROVIDER_TIMEOUT" | "PROVIDER_REJECTED" | "PROVIDER_BAD_DATA"
>;

/** The proof answer of GET /v1/pieces/:root/proof. */
interface LeafProof {
  leaf: [string, string];
  path: string[];
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/;

/**
 * Sample leaf `leafIndex` of piece `root` from the provider at `endpoint`. Resolves `{ ok: true }` when the
 * provider served the right bytes with a valid proof in time, else `{ ok: false, code }` with
 * PROVIDER_UNREACHABLE (connection refused, DNS, bad endpoint), PROVIDER_TIMEOUT, PROVIDER_REJECTED (4xx/5xx)
 * or PROVIDER_BAD_DATA (wrong bytes, bad or oversized answer, proof not matching the root).
 * Throws INVALID_ARGUMENT for bad arguments only.
 */
export async function sampleLeaf(opts: SampleLeafOptions): Promise<SampleResult> {
  checkArguments(opts);
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  const base = parseEndpoint(opts.endpoint);
  if (base === undefined) {
    return failure("PROVIDER_UNREACHABLE", `endpoint ${opts.endpoint} is not an http(s) URL`, latency());
  }
  const root = opts.root.toLowerCase();
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  // Aborted as soon as one request fails, so the other does not hold a socket until the deadline.
  const giveUp = new AbortController();
  const signal = AbortSignal.any([deadline, giveUp.signal]);
  const request: SampleRequest = {
    base,
    root,
    size: opts.size,
    leafIndex: opts.leafIndex,
    maxBytes: opts.maxBytes,
    fetch: opts.fetch ?? fetch,
    signal,
    timedOut: () => deadline.aborted,
  };

  const tasks = [fetchProof(request), fetchLeafBytes(request)] as const;
  let proof: LeafProof;
  let bytes: Uint8Array;
  try {
    [proof, bytes] = await Promise.all(tasks);
  } catch (error) {
    giveUp.abort();
    await Promise.allSettled(tasks);
    if (error instanceof SampleFailure) return failure(error.code, error.message, latency());
    throw error;
  }

  const leaf = concatLeaf(proof.leaf);
  if (!sameBytes(leaf, bytes)) {
    return failure(
      "PROVIDER_BAD_DATA",
      `leaf ${opts.leafIndex} bytes differ from the proof's leaf`,
      latency(),
    );
  }
  if (rootFromPath(proof.leaf, opts.leafIndex, proof.path) !== root) {
    return failure(
      "PROVIDER_BAD_DATA",
      `proof of leaf ${opts.leafIndex} does not hash to ${root}`,
      latency(),
    );
  }
  return { ok: true, latencyMs: latency() };
}

interface SampleRequest {
  base: string;
  root: string;
  size: bigint;
  leafIndex: number;
  maxBytes: number;
  fetch: typeof fetch;
  signal: AbortSignal;
  timedOut: () => boolean;
}

/** A provider failure inside a sample (turned into a result, never escapes sampleLeaf). */
class SampleFailure extends Error {
  constructor(
    readonly code: SampleFailureCode,
    message: string,
  ) {
    super(message);
    this.name = "SampleFailure";
  }
}

async function fetchProof(req: SampleRequest): Promise<LeafProof> {
  const url = `${req.base}/v1/pieces/${req.root}/proof?leaf=${req.leafIndex}`;
  const response = await send(req, url, {});
  if (response.status !== 200) throw await unexpectedStatus(response, url);
  const body = await readCapped(req, response, req.maxBytes, url);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new SampleFailure("PROVIDER_BAD_DATA", `${url}: answer is not JSON`);
  }
  try {
    return parseProof(json, req, url);
  } catch (error) {
    if (error instanceof StrataError) throw new SampleFailure("PROVIDER_BAD_DATA", error.message);
    throw error;
  }
}

/** The proof answer, checked to be for this root, size and leaf, with a path as long as the piece's tree. */
function parseProof(json: unknown, req: SampleRequest, url: string): LeafProof {
  const bad = (what: string) => new SampleFailure("PROVIDER_BAD_DATA", `${url}: ${what}`);
  const proof = decodeAnswer(leafProofResponse, url, json);
  if (proof.root !== req.root) throw bad("proof is for another root");
  if (proof.size !== req.size) throw bad("proof is for a piece of another size");
  if (proof.leafIndex !== req.leafIndex) throw bad("proof is for another leaf");
  const depth = treeDepth(leafCount(Number(req.size)));
  if (proof.path.length !== depth) throw bad(`field "path" must be ${depth} 32-byte hex words`);
  return { leaf: proof.leaf, path: proof.path };
}

/**
 * The leaf's bytes through a Range request: exactly min(64, size - start) bytes, zero-padded to 64. A server
 * that ignores the range (200 with the whole piece) is not read.
 */
async function fetchLeafBytes(req: SampleRequest): Promise<Uint8Array> {
  const url = `${req.base}/v1/pieces/${req.root}`;
  const size = Number(req.size);
  const start = req.leafIndex * LEAF_SIZE;
  const end = Math.min(size, start + LEAF_SIZE) - 1;
  const expected = end - start + 1;
  const response = await send(req, url, { range: `bytes=${start}-${start + LEAF_SIZE - 1}` });
  const wholePiece = response.status === 200 && start === 0 && end === size - 1;
  if (response.status !== 206 && !wholePiece) throw await unexpectedStatus(response, url);
  if (response.status === 206) {
    const range = response.headers.get("content-range");
    if (range !== `bytes ${start}-${end}/${size}`) {
      await cancelBody(response);
      throw new SampleFailure(
        "PROVIDER_BAD_DATA",
        `${url}: content-range ${JSON.stringify(range)}, expected bytes ${start}-${end}/${size}`,
      );
    }
  }
  const body = await readCapped(req, response, expected, url);
  if (body.length !== expected) {
    throw new SampleFailure(
      "PROVIDER_BAD_DATA",
      `${url}: range has ${body.length} bytes, expected ${expected}`,
    );
  }
  const leaf = new Uint8Array(LEAF_SIZE);
  leaf.set(body);
  return leaf;
}

async function send(req: SampleRequest, url: string, headers: Record<string, string>): Promise<Response> {
  try {
    return await req.fetch(url, {
      method: "GET",
      // Byte caps count what is read: no transparent decompression, so a range is exactly the piece's bytes.
      headers: { ...headers, "accept-encoding": "identity" },
      redirect: "manual",
      signal: req.signal,
    });
  } catch (cause) {
    throw transportFailure(req, url, cause);
  }
}

/** 4xx/5xx → PROVIDER_REJECTED; any other unexpected status (3xx, 200 for a range, ...) → PROVIDER_BAD_DATA. */
async function unexpectedStatus(response: Response, url: string): Promise<SampleFailure> {
  await cancelBody(response);
  if (response.status >= 400) {
    return new SampleFailure("PROVIDER_REJECTED", `${url}: HTTP ${response.status}`);
  }
  return new SampleFailure("PROVIDER_BAD_DATA", `${url}: unexpected HTTP ${response.status}`);
}

/**
 * Read a body, never more than `limit` bytes whatever Content-Length says. Each read also races the signal,
 * so a body trickling forever ends at the deadline even with a fetch that does not abort its body stream.
 */
async function readCapped(
  req: SampleRequest,
  response: Response,
  limit: number,
  url: string,
): Promise<Uint8Array> {
  const body = response.body;
  if (body === null) return new Uint8Array(0);
  const reader: ReadableStreamDefaultReader<Uint8Array> = body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await untilAborted(reader.read(), req.signal);
      if (done) break;
      received += value.length;
      if (received > limit) {
        throw new SampleFailure("PROVIDER_BAD_DATA", `${url}: answer is larger than ${limit} bytes`);
      }
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (error instanceof SampleFailure) throw error;
    throw transportFailure(req, url, error);
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks);
}

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts. */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => {
      reject(signal.reason as Error);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

function transportFailure(req: SampleRequest, url: string, cause: unknown): SampleFailure {
  if (req.timedOut()) return new SampleFailure("PROVIDER_TIMEOUT", `${url}: no complete answer in time`);
  const reason = cause instanceof Error && cause.cause instanceof Error ? cause.cause.message : String(cause);
  return new SampleFailure("PROVIDER_UNREACHABLE", `${url}: ${reason}`);
}

async function cancelBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function failure(code: StrataErrorCode, message: string, latencyMs: number): SampleResult {
  return { ok: false, code, message, latencyMs };
}

function checkArguments(opts: SampleLeafOptions): void {
  const invalid = (message: string) => new StrataError("INVALID_ARGUMENT", `sampleLeaf: ${message}`);
  if (!HEX32.test(opts.root)) throw invalid(`root ${opts.root} is not 32 bytes of 0x-hex`);
  if (typeof opts.size !== "bigint" || opts.size <= 0n || opts.size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw invalid(`size ${String(opts.size)} is not a positive safe integer`);
  }
  const leaves = leafCount(Number(opts.size));
  if (!Number.isSafeInteger(opts.leafIndex) || opts.leafIndex < 0 || opts.leafIndex >= leaves) {
    throw invalid(`leafIndex ${opts.leafIndex} is outside 0..${leaves - 1}`);
  }
  if (!Number.isFinite(opts.timeoutMs) || opts.timeoutMs <= 0) {
    throw invalid(`timeoutMs ${opts.timeoutMs} must be positive`);
  }
  if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes <= 0) {
    throw invalid(`maxBytes ${opts.maxBytes} must be a positive integer`);
  }
}

/** `endpoint` without trailing slashes when it is an http(s) URL, else undefined. */
function parseEndpoint(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  return endpoint.replace(/\/+$/, "");
}

function concatLeaf(words: readonly [string, string]): Uint8Array {
  const out = new Uint8Array(LEAF_SIZE);
  out.set(fromHex(words[0]));
  out.set(fromHex(words[1]), 32);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
