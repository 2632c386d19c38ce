/**
 * The version 3 payload (docs/SPEC-DATA.md §3, §5): chunked authenticated encryption and the striped shard layout.
 *
 * Encryption: the plaintext is cut into chunks of `chunkSize` bytes (the last one shorter; an empty file is one
 * empty chunk). Chunk `i` is sealed with AES-256-GCM under the file key, nonce = noncePrefix (8 bytes) || uint32 BE
 * i, and additional data = uint64 BE i || final flag (1 byte: 1 for the last chunk, else 0). The payload is the
 * sealed chunks (ciphertext || 16-byte tag each) one after the other, so chunk i starts at i · (chunkSize + 16).
 * Because the index and the final flag are authenticated, a chunk moved to another position, swapped with
 * another, or a payload cut after a non-final chunk fails authentication.
 *
 * Layout: the payload is cut into stripes of k · stripeSize bytes; data shard j holds bytes
 * [j · stripeSize, (j+1) · stripeSize) of every stripe. The last stripe holds the rest, r bytes, zero-padded to
 * k · lastSlice with lastSlice = max(64, 64 · ceil(ceil(r / k) / 64)). Parity is coded stripe by stripe.
 * A writer therefore emits every shard in step with the plaintext, and a reader finds any payload byte in one shard.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { StrataError } from "../errors.js";
import { KEY_BYTES, TAG_BYTES } from "./encryption.js";
import { checkCoding, SHARD_ALIGN, STRIPE_BYTES } from "./erasure.js";

/** `encryption.algorithm` of manifest version 3. */
export const CHUNKED_ALGORITHM = "AES-256-GCM-chunked-v1";
export const NONCE_PREFIX_BYTES = 8;
/** Default plaintext bytes per chunk: 256 KiB − 16, so a sealed chunk is exactly one 256 KiB stripe slice. */
export const DEFAULT_CHUNK_SIZE = STRIPE_BYTES - TAG_BYTES;
export const MIN_CHUNK_SIZE = 1024;
export const MAX_CHUNK_SIZE = 16 << 20;
/** Chunk indices are 32 bits in the nonce. */
export const MAX_CHUNKS = 2 ** 32;

export function checkChunkSize(chunkSize: number): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `chunk size must be an integer in ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}, got ${chunkSize}`,
    );
  }
}

/** Chunks of a file: ceil(fileSize / chunkSize), and one (empty) chunk for an empty file. */
export function chunkCount(fileSize: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(fileSize / chunkSize));
}

/** Payload bytes of a file: the plaintext plus one 16-byte tag per chunk. */
export function payloadSizeFor(fileSize: number, chunkSize: number): number {
  checkChunkSize(chunkSize);
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) {
    throw new StrataError("INVALID_ARGUMENT", `bad file size ${fileSize}`);
  }
  const chunks = chunkCount(fileSize, chunkSize);
  if (chunks > MAX_CHUNKS) {
    throw new StrataError("INVALID_ARGUMENT", `${chunks} chunks exceed the 2^32 limit: raise the chunk size`);
  }
  return fileSize + TAG_BYTES * chunks;
}

function nonce(prefix: Uint8Array, index: number): Buffer {
  const out = Buffer.alloc(12);
  out.set(prefix, 0);
  out.writeUInt32BE(index, NONCE_PREFIX_BYTES);
  return out;
}

function aad(index: number, final: boolean): Buffer {
  const out = Buffer.alloc(9);
  out.writeBigUInt64BE(BigInt(index), 0);
  out[8] = final ? 1 : 0;
  return out;
}

function checkCipherInputs(key: Uint8Array, prefix: Uint8Array, index: number): void {
  if (key.length !== KEY_BYTES) {
    throw new StrataError("INVALID_ARGUMENT", `an AES-256 key is ${KEY_BYTES} bytes, got ${key.length}`);
  }
  if (prefix.length !== NONCE_PREFIX_BYTES) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `a nonce prefix is ${NONCE_PREFIX_BYTES} bytes, got ${prefix.length}`,
    );
  }
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_CHUNKS) {
    throw new StrataError("INVALID_ARGUMENT", `chunk index ${index} is outside 0..2^32-1`);
  }
}

/** Seal chunk `index` (ciphertext || tag) into `out` at `at`; returns the bytes written (plaintext + 16). */
export function sealChunkInto(
  key: Uint8Array,
  prefix: Uint8Array,
  index: number,
  final: boolean,
  plaintext: Uint8Array,
  out: Uint8Array,
  at: number,
): number {
  checkCipherInputs(key, prefix, index);
  const cipher = createCipheriv("aes-256-gcm", key, nonce(prefix, index), { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(index, final));
  let written = 0;
  const body = cipher.update(plaintext);
  out.set(body, at);
  written += body.length;
  const rest = cipher.final();
  out.set(rest, at + written);
  written += rest.length;
  out.set(cipher.getAuthTag(), at + written);
  return written + TAG_BYTES;
}

/** Seal chunk `index`: ciphertext || tag. */
export function sealChunk(
  key: Uint8Array,
  prefix: Uint8Array,
  index: number,
  final: boolean,
  plaintext: Uint8Array,
): Buffer {
  const out = Buffer.allocUnsafe(plaintext.length + TAG_BYTES);
  sealChunkInto(key, prefix, index, final, plaintext, out, 0);
  return out;
}

/**
 * Open sealed chunk `index` (ciphertext || tag). Any failure — altered bytes, a chunk from another position or
 * file, a final chunk read as non-final or the reverse — throws CHUNK_AUTH_FAILED; no plaintext is returned.
 */
export function openChunk(
  key: Uint8Array,
  prefix: Uint8Array,
  index: number,
  final: boolean,
  sealed: Uint8Array,
): Buffer {
  checkCipherInputs(key, prefix, index);
  if (sealed.length < TAG_BYTES) {
    throw new StrataError(
      "CHUNK_AUTH_FAILED",
      `chunk ${index} is ${sealed.length} bytes, shorter than its tag`,
      {
        details: `chunk ${index}`,
      },
    );
  }
  const cut = sealed.length - TAG_BYTES;
  const decipher = createDecipheriv("aes-256-gcm", key, nonce(prefix, index), { authTagLength: TAG_BYTES });
  decipher.setAAD(aad(index, final));
  decipher.setAuthTag(sealed.subarray(cut));
  const body = decipher.update(sealed.subarray(0, cut));
  try {
    decipher.final();
  } catch (cause) {
    body.fill(0);
    throw new StrataError(
      "CHUNK_AUTH_FAILED",
      `chunk ${index} failed authentication: altered, truncated, reordered or from another file`,
      { details: `chunk ${index}`, cause },
    );
  }
  return body;
}

/** Where a payload's bytes sit in its shards (version 3 striped layout). */
export interface Geometry {
  k: number;
  payloadSize: number;
  stripeSize: number;
  stripes: number;
  /** Bytes of each shard in the last stripe (a multiple of 64, at most stripeSize). */
  lastSlice: number;
  /** Bytes of every shard (piece size). */
  shardSize: number;
}

export function geometryFor(payloadSize: number, k: number, stripeSize: number = STRIPE_BYTES): Geometry {
  checkCoding(k, 0);
  if (!Number.isSafeInteger(payloadSize) || payloadSize <= 0) {
    throw new StrataError("INVALID_ARGUMENT", `bad payload size ${payloadSize}`);
  }
  if (!Number.isSafeInteger(stripeSize) || stripeSize <= 0 || stripeSize % SHARD_ALIGN !== 0) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `stripe size must be a positive multiple of 64, got ${stripeSize}`,
    );
  }
  const stripeBytes = k * stripeSize;
  const stripes = Math.ceil(payloadSize / stripeBytes);
  const rest = payloadSize - (stripes - 1) * stripeBytes;
  const lastSlice = Math.max(SHARD_ALIGN, Math.ceil(Math.ceil(rest / k) / SHARD_ALIGN) * SHARD_ALIGN);
  return {
    k,
    payloadSize,
    stripeSize,
    stripes,
    lastSlice,
    shardSize: (stripes - 1) * stripeSize + lastSlice,
  };
}

/** Bytes of each shard in stripe `s`. */
export function sliceLength(g: Geometry, stripe: number): number {
  return stripe === g.stripes - 1 ? g.lastSlice : g.stripeSize;
}

/** One run of payload bytes inside one data shard. */
export interface ShardRun {
  shard: number;
  /** Offset in the shard. */
  shardOffset: number;
  /** Offset in the payload. */
  payloadOffset: number;
  length: number;
}

/** The data-shard runs holding payload bytes [start, end), in payload order. */
export function payloadRuns(g: Geometry, start: number, end: number): ShardRun[] {
  const runs: ShardRun[] = [];
  let at = start;
  while (at < end) {
    const stripe = Math.floor(at / (g.k * g.stripeSize));
    const slice = sliceLength(g, stripe);
    const within = at - stripe * g.k * g.stripeSize;
    const shard = Math.floor(within / slice);
    const offsetInSlice = within % slice;
    const length = Math.min(end - at, slice - offsetInSlice);
    runs.push({ shard, shardOffset: stripe * g.stripeSize + offsetInSlice, payloadOffset: at, length });
    at += length;
  }
  return runs;
}
