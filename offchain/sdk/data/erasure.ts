import { createRequire } from "node:module";
import { StrataError } from "../errors.js";

/**
 * k-of-(k+m) erasure coding of a payload into equal shards (docs/SPEC-DATA.md §5), on @ronomon/reed-solomon 6
 * (Cauchy Reed-Solomon over GF(2^w), native, runs in libuv's thread pool). Shards 0..k-1 are the zero-padded
 * payload itself (systematic code), shards k..k+m-1 are parity. Coding runs stripe by stripe: STRIPE_BYTES of
 * every shard at a time, each stripe one library call, so the only memory besides the shards is two small staging
 * buffers per concurrent stripe. The stripe size is part of the format: the library's output depends on the
 * length it is given, so encoder and decoder must cut the same stripes.
 */

/** Library limits (ReedSolomon.MAX_K / MAX_M). */
export const MAX_DATA_SHARDS = 24;
export const MAX_PARITY_SHARDS = 6;
/** Shards are a whole number of commitment leaves. */
export const SHARD_ALIGN = 64;
/** Bytes of each shard per coding call; the last stripe is `shardSize mod STRIPE_BYTES` when that is non-zero. */
export const STRIPE_BYTES = 256 << 10;
/** Stripes coded concurrently (each on a libuv thread). */
const CONCURRENT_STRIPES = 2;

type Done = (error: Error | undefined) => void;
interface ReedSolomonBinding {
  create(k: number, m: number): Buffer;
  encode(
    context: Buffer,
    sources: number,
    targets: number,
    buffer: Buffer,
    bufferOffset: number,
    bufferSize: number,
    parity: Buffer,
    parityOffset: number,
    paritySize: number,
    callback: Done,
  ): void;
}

const require = createRequire(import.meta.url);
const ReedSolomon = require("@ronomon/reed-solomon") as ReedSolomonBinding;
const contexts = new Map<string, Buffer>();

/** Allocates a shard; prepareFile passes one that returns SharedArrayBuffer views (zero-copy commitment). */
export type ShardAllocator = (bytes: number) => Uint8Array;
const allocateShard: ShardAllocator = (bytes) => new Uint8Array(bytes);

/** Reject coding parameters outside the format and the library: 1 <= k <= 24, 0 <= m <= 6. */
export function checkCoding(k: number, m: number): void {
  if (!Number.isInteger(k) || k < 1 || k > MAX_DATA_SHARDS) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `k (data pieces) must be an integer in 1..${MAX_DATA_SHARDS}, got ${k}`,
    );
  }
  if (!Number.isInteger(m) || m < 0 || m > MAX_PARITY_SHARDS) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `m (parity pieces) must be an integer in 0..${MAX_PARITY_SHARDS}, got ${m}`,
    );
  }
}

/** Shard size for a payload: ceil(payloadSize / k) rounded up to a multiple of 64, at least 64. */
export function shardSizeFor(payloadSize: number, k: number): number {
  checkCoding(k, 0);
  if (!Number.isSafeInteger(payloadSize) || payloadSize < 0) {
    throw new StrataError("INVALID_ARGUMENT", `bad payload size ${payloadSize}`);
  }
  return Math.max(SHARD_ALIGN, Math.ceil(Math.ceil(payloadSize / k) / SHARD_ALIGN) * SHARD_ALIGN);
}

/** Split `payload` into k zero-padded data shards plus m parity shards, all `shardSizeFor(payload.length, k)` long. */
export async function encode(
  payload: Uint8Array,
  k: number,
  m: number,
  allocate: ShardAllocator = allocateShard,
): Promise<Uint8Array[]> {
  checkCoding(k, m);
  const shardSize = shardSizeFor(payload.length, k);
  const data: Uint8Array[] = [];
  for (let i = 0; i < k; i++) {
    const shard = allocate(shardSize);
    shard.set(
      payload.subarray(
        Math.min(payload.length, i * shardSize),
        Math.min(payload.length, (i + 1) * shardSize),
      ),
    );
    data.push(shard);
  }
  return [...data, ...(await computeParity(data, m, allocate))];
}

/** The m parity shards of k equal, 64-aligned data shards. */
export async function computeParity(
  data: readonly Uint8Array[],
  m: number,
  allocate: ShardAllocator = allocateShard,
): Promise<Uint8Array[]> {
  const k = data.length;
  checkCoding(k, m);
  const shardSize = data[0]?.length ?? 0;
  checkShardSize(shardSize);
  data.forEach((shard, index) => {
    if (shard.length !== shardSize) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `data shard ${index} is ${shard.length} bytes, expected ${shardSize}`,
      );
    }
  });
  const parity = Array.from({ length: m }, () => allocate(shardSize));
  if (m === 0) return parity;
  const shards = [...data, ...parity];
  const dataMask = (1 << k) - 1;
  await codeStripes(shards, k, m, shardSize, dataMask, ((1 << (k + m)) - 1) & ~dataMask);
  return parity;
}

/**
 * All k+m shards from any k of them (`null` = missing). Missing shards are rebuilt; given ones are returned as is.
 * Fewer than k present throws NOT_ENOUGH_PIECES.
 */
export async function reconstruct(
  shards: readonly (Uint8Array | null)[],
  k: number,
  m: number,
  shardSize: number,
  allocate: ShardAllocator = allocateShard,
): Promise<Uint8Array[]> {
  return rebuild(shards, k, m, shardSize, k + m, allocate);
}

/** The k data shards from any k shards, rebuilding only missing data shards (what a restore needs). */
export async function reconstructData(
  shards: readonly (Uint8Array | null)[],
  k: number,
  m: number,
  shardSize: number,
  allocate: ShardAllocator = allocateShard,
): Promise<Uint8Array[]> {
  return rebuild(shards, k, m, shardSize, k, allocate);
}

async function rebuild(
  shards: readonly (Uint8Array | null)[],
  k: number,
  m: number,
  shardSize: number,
  wanted: number,
  allocate: ShardAllocator,
): Promise<Uint8Array[]> {
  checkCoding(k, m);
  checkShardSize(shardSize);
  if (shards.length !== k + m) {
    throw new StrataError("INVALID_ARGUMENT", `expected ${k + m} shard slots, got ${shards.length}`);
  }
  let sources = 0;
  shards.forEach((shard, index) => {
    if (shard === null) return;
    if (shard.length !== shardSize) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `shard ${index} is ${shard.length} bytes, expected ${shardSize}`,
      );
    }
    sources |= 1 << index;
  });
  const present = popcount(sources);
  if (present < k) {
    throw new StrataError("NOT_ENOUGH_PIECES", `${present} of ${k + m} pieces available, ${k} needed`);
  }
  let targets = 0;
  const out = shards.slice(0, wanted).map((shard, index) => {
    if (shard !== null) return shard;
    targets |= 1 << index;
    return allocate(shardSize);
  });
  if (targets !== 0) {
    const staged = shards.map((shard, index) => (index < wanted ? (out[index] ?? null) : shard));
    await codeStripes(staged, k, m, shardSize, sources, targets);
  }
  return out;
}

/**
 * Run the library over every stripe: `sources` are read from `shards`, `targets` written back into them. Missing
 * shards that are neither (null) are only staged, never read.
 */
async function codeStripes(
  shards: readonly (Uint8Array | null)[],
  k: number,
  m: number,
  shardSize: number,
  sources: number,
  targets: number,
): Promise<void> {
  const context = contextFor(k, m);
  const stripes = Math.ceil(shardSize / STRIPE_BYTES);
  let next = 0;
  const lane = async (): Promise<void> => {
    const dataStage = Buffer.allocUnsafeSlow(k * STRIPE_BYTES);
    const parityStage = Buffer.allocUnsafeSlow(m * STRIPE_BYTES);
    const stage = (index: number, length: number): Buffer =>
      index < k
        ? dataStage.subarray(index * length, (index + 1) * length)
        : parityStage.subarray((index - k) * length, (index - k + 1) * length);
    while (next < stripes) {
      const start = STRIPE_BYTES * next++;
      const length = Math.min(STRIPE_BYTES, shardSize - start);
      shards.forEach((shard, index) => {
        if (shard !== null && (sources >> index) & 1)
          stage(index, length).set(shard.subarray(start, start + length));
      });
      await runCode(context, sources, targets, dataStage, k * length, parityStage, m * length);
      shards.forEach((shard, index) => {
        if (shard !== null && (targets >> index) & 1) shard.set(stage(index, length), start);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_STRIPES, stripes) }, lane));
}

/**
 * Code one stripe in place: `data` holds the k slices of `length` bytes one after the other, `parity` the m
 * slices. `sources` and `targets` are bit masks over the k + m shards (targets are written, sources read).
 * With sources = the data shards and targets = the parity shards this encodes; other masks rebuild.
 */
export async function codeStripe(
  k: number,
  m: number,
  length: number,
  data: Buffer,
  parity: Buffer,
  sources: number,
  targets: number,
): Promise<void> {
  checkCoding(k, m);
  checkShardSize(length);
  if (targets === 0) return;
  await runCode(contextFor(k, m), sources, targets, data, k * length, parity, m * length);
}

async function runCode(
  context: Buffer,
  sources: number,
  targets: number,
  data: Buffer,
  dataSize: number,
  parity: Buffer,
  paritySize: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    ReedSolomon.encode(context, sources, targets, data, 0, dataSize, parity, 0, paritySize, (error) => {
      if (error)
        reject(
          new StrataError("INVALID_ARGUMENT", `erasure coding failed: ${error.message}`, { cause: error }),
        );
      else resolve();
    });
  });
}

function contextFor(k: number, m: number): Buffer {
  const key = `${k}/${m}`;
  let context = contexts.get(key);
  if (context === undefined) {
    context = ReedSolomon.create(k, m);
    contexts.set(key, context);
  }
  return context;
}

function checkShardSize(shardSize: number): void {
  if (!Number.isSafeInteger(shardSize) || shardSize <= 0 || shardSize % SHARD_ALIGN !== 0) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `shard size must be a positive multiple of ${SHARD_ALIGN}, got ${shardSize}`,
    );
  }
}

function popcount(mask: number): number {
  let count = 0;
  for (let bits = mask; bits !== 0; bits &= bits - 1) count++;
  return count;
}
