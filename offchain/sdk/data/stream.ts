/**
 * The streaming payload pipeline (docs/SPEC-DATA.md §1, version 3). `preparePayload` reads a plaintext source of
 * known size once, in segments: sha256 of the plaintext, chunked AES-256-GCM (chunked.ts), erasure coding stripe by
 * stripe, and each shard written out (temporary files by default) while its piece root is computed incrementally.
 * `readRange` fetches and decrypts any byte range of a payload's plaintext from shard byte ranges, touching only
 * the stripes and chunks it needs: data shards first, parity only when a data shard is missing or returns bytes
 * that fail authentication.
 *
 * Memory: `segmentStripes` stripes of every shard per segment (default 16: 4 MiB per shard), at most two segments
 * in flight, plus the commitment blocks being hashed (4 MiB each); readRange holds the step it decrypts and the
 * steps it fetches ahead (a window of at most 32 MiB). The file size does not matter.
 *
 * This is the boundary for packing: a packed bundle is one payload (its plaintext is the files one after the
 * other); a file is a byte range of it, read with `readRange`.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { hexlify } from "ethers";
import { defaultCommitPool, type CommitPool } from "../commitment/parallel.js";
import { PieceHasher } from "../commitment/stream.js";
import { StrataError } from "../errors.js";
import {
  chunkCount,
  checkChunkSize,
  DEFAULT_CHUNK_SIZE,
  geometryFor,
  NONCE_PREFIX_BYTES,
  openChunk,
  payloadRuns,
  payloadSizeFor,
  sealChunkInto,
  sliceLength,
  type Geometry,
} from "./chunked.js";
import { KEY_BYTES, TAG_BYTES } from "./encryption.js";
import { checkCoding, codeStripe, STRIPE_BYTES } from "./erasure.js";
import { writeAll } from "./writeAll.js";

/** Stripes per segment by default: 16 × 256 KiB = 4 MiB of every shard. */
export const DEFAULT_SEGMENT_STRIPES = 16;

/** Steps readRange fetches ahead of the one it decrypts: at most 4, and at most READ_AHEAD_BYTES of payload. */
export const MAX_READ_WINDOW = 4;
export const READ_AHEAD_BYTES = 32 << 20;

/** Receives one shard's bytes in order. */
export interface ShardWriter {
  write(bytes: Uint8Array): Promise<void>;
  /** All bytes written: flush and close. */
  close(): Promise<void>;
  /** The preparation failed: drop what was written. */
  abort(): Promise<void>;
}

/** Where shards go: a directory (one temporary file per piece) or a writer per shard. */
export type ShardOutput = { dir: string } | ((index: number, shardSize: number) => Promise<ShardWriter>);

export interface PreparePayloadOptions {
  /** The plaintext: a file path or any async source of exactly `size` bytes. */
  source: string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  size: number;
  k: number;
  m: number;
  /** The 32-byte file key (the caller wraps it; preparePayload never keeps it). */
  key: Uint8Array;
  /** 8 bytes; default random. */
  noncePrefix?: Uint8Array;
  /** Plaintext bytes per chunk (1 KiB..16 MiB); default 262,128 (a sealed chunk fills one stripe slice). */
  chunkSize?: number;
  segmentStripes?: number;
  /** Where the shards go; default: files in a new directory under the OS temp dir is NOT assumed, so required. */
  output: ShardOutput;
  /** Commitment pool for the piece roots (default: the process's shared pool). */
  pool?: CommitPool;
  /** Plaintext bytes read so far. */
  onProgress?: (read: number, total: number) => void;
  /**
   * Payload byte ranges whose SHA-256 is computed as the sealed chunks are produced (PreparedPayload.spanHashes, in
   * the same order): the ciphertext ids of packed files cost no second read of the pieces.
   */
  hashSpans?: readonly PayloadSpan[];
}

/** Payload bytes [start, end). */
export interface PayloadSpan {
  start: number;
  end: number;
}

export interface PayloadPiece {
  index: number;
  root: string;
  size: number;
  /** The piece file, when the output was a directory. */
  path?: string;
}

/** What a manifest records of a payload (docs/SPEC-DATA.md §6, version 3). */
export interface PayloadDescriptor {
  /** Plaintext bytes. */
  fileSize: number;
  /** sha256 of the plaintext (0x-hex). */
  fileHash: string;
  /** 0x-hex, 8 bytes. */
  noncePrefix: string;
  chunkSize: number;
  k: number;
  m: number;
  stripeSize: number;
  shardSize: number;
  payloadSize: number;
}

export interface PreparedPayload extends PayloadDescriptor {
  pieces: PayloadPiece[];
  /** SHA-256 (0x-hex) of each of `hashSpans`, when some were asked for. */
  spanHashes?: string[];
}

/**
 * Encrypt, erasure-code and commit a plaintext stream into k + m pieces (docs/SPEC-DATA.md §3, §5). The source
 * must yield exactly `size` bytes (INVALID_ARGUMENT otherwise, and the shard outputs are aborted).
 */
export async function preparePayload(options: PreparePayloadOptions): Promise<PreparedPayload> {
  const { k, m, size, key } = options;
  checkCoding(k, m);
  if (key.length !== KEY_BYTES) {
    throw new StrataError("INVALID_ARGUMENT", `an AES-256 key is ${KEY_BYTES} bytes, got ${key.length}`);
  }
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  checkChunkSize(chunkSize);
  const prefix = options.noncePrefix ?? new Uint8Array(randomBytes(NONCE_PREFIX_BYTES));
  if (prefix.length !== NONCE_PREFIX_BYTES) {
    throw new StrataError("INVALID_ARGUMENT", `a nonce prefix is ${NONCE_PREFIX_BYTES} bytes`);
  }
  const segmentStripes = options.segmentStripes ?? DEFAULT_SEGMENT_STRIPES;
  if (!Number.isSafeInteger(segmentStripes) || segmentStripes < 1) {
    throw new StrataError("INVALID_ARGUMENT", `segmentStripes must be a positive integer`);
  }
  const payloadSize = payloadSizeFor(size, chunkSize);
  const g = geometryFor(payloadSize, k, STRIPE_BYTES);
  const chunks = chunkCount(size, chunkSize);
  const pool = options.pool ?? (g.shardSize * (k + m) >= 8 << 20 ? defaultCommitPool() : undefined);

  const writers: ShardWriter[] = [];
  const paths: (string | undefined)[] = [];
  const output = options.output;
  try {
    for (let index = 0; index < k + m; index++) {
      if (typeof output === "function") {
        writers.push(await output(index, g.shardSize));
        paths.push(undefined);
      } else {
        await mkdir(output.dir, { recursive: true });
        const path = join(output.dir, `piece-${index}.bin`);
        writers.push(await fileWriter(path));
        paths.push(path);
      }
    }
  } catch (error) {
    await Promise.all(writers.map(async (w) => w.abort().catch(() => undefined)));
    throw error;
  }
  const hashers = writers.map(() => new PieceHasher(pool === undefined ? {} : { pool }));
  const segmentBytes = k * STRIPE_BYTES * segmentStripes;
  const fileHash = createHash("sha256");

  // The payload is written into two segment buffers: a full segment is coded and written while the other fills.
  // Each has its parity buffer; all four are reused for the whole payload (no allocation per segment).
  const buffers = [Buffer.alloc(segmentBytes), Buffer.alloc(segmentBytes)] as const;
  const parities = [
    Buffer.allocUnsafe(m * STRIPE_BYTES * segmentStripes),
    Buffer.allocUnsafe(m * STRIPE_BYTES * segmentStripes),
  ] as const;
  let which = 0;
  let segment: Buffer = buffers[0];
  let filled = 0;
  let segmentStart = 0; // payload offset of segment[0]
  let inFlight: Promise<void> | undefined;

  const emitSegment = async (): Promise<void> => {
    await inFlight;
    const written = writeSegment(segment, parities[which === 0 ? 0 : 1], segmentStart, filled);
    written.catch(() => undefined); // awaited below or by the next segment
    inFlight = written;
    segmentStart += filled;
    filled = 0;
    which ^= 1;
    segment = buffers[which === 0 ? 0 : 1];
  };

  const writeSegment = async (
    buffer: Buffer,
    parity: Buffer,
    start: number,
    length: number,
  ): Promise<void> => {
    const firstStripe = start / (k * STRIPE_BYTES);
    const stripes = Math.ceil(length / (k * STRIPE_BYTES));
    const coded: Promise<void>[] = [];
    for (let t = 0; t < stripes; t++) {
      const len = sliceLength(g, firstStripe + t);
      const data = buffer.subarray(t * k * STRIPE_BYTES, t * k * STRIPE_BYTES + k * len);
      // Zero padding of the last stripe (the buffer may hold an older segment's bytes).
      const used = Math.min(length - t * k * STRIPE_BYTES, k * len);
      if (used < k * len) data.fill(0, used);
      const dataMask = (1 << k) - 1;
      coded.push(
        codeStripe(
          k,
          m,
          len,
          data,
          parity.subarray(t * m * STRIPE_BYTES, t * m * STRIPE_BYTES + m * len),
          dataMask,
          ((1 << (k + m)) - 1) & ~dataMask,
        ),
      );
    }
    await Promise.all(coded);
    await Promise.all(
      writers.map(async (writer, index) => {
        const hasher = hashers[index];
        if (hasher === undefined) return;
        for (let t = 0; t < stripes; t++) {
          const len = sliceLength(g, firstStripe + t);
          const slice =
            index < k
              ? buffer.subarray(t * k * STRIPE_BYTES + index * len, t * k * STRIPE_BYTES + (index + 1) * len)
              : parity.subarray(
                  t * m * STRIPE_BYTES + (index - k) * len,
                  t * m * STRIPE_BYTES + (index - k + 1) * len,
                );
          await Promise.all([writer.write(slice), hasher.update(slice)]);
        }
      }),
    );
  };

  const appendPayload = async (bytes: Uint8Array): Promise<void> => {
    let offset = 0;
    while (offset < bytes.length) {
      const take = Math.min(bytes.length - offset, segmentBytes - filled);
      segment.set(bytes.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === segmentBytes) await emitSegment();
    }
  };

  const spans = spanHasher(options.hashSpans ?? [], payloadSize);
  const plain = Buffer.alloc(chunkSize);
  const sealed = Buffer.alloc(chunkSize + TAG_BYTES);
  let plainFilled = 0;
  let chunkIndex = 0;
  let read = 0;
  const sealPlain = async (): Promise<void> => {
    const n = sealChunkInto(
      key,
      prefix,
      chunkIndex,
      chunkIndex === chunks - 1,
      plain.subarray(0, plainFilled),
      sealed,
      0,
    );
    chunkIndex++;
    plainFilled = 0;
    spans.update(segmentStart + filled, sealed.subarray(0, n));
    await appendPayload(sealed.subarray(0, n));
  };

  try {
    const source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> =
      typeof options.source === "string" ? fileChunks(options.source) : options.source;
    for await (const part of source) {
      if (read + part.length > size) {
        throw new StrataError("INVALID_ARGUMENT", `the source holds more than the ${size} bytes announced`);
      }
      fileHash.update(part);
      read += part.length;
      let offset = 0;
      while (offset < part.length) {
        const take = Math.min(part.length - offset, chunkSize - plainFilled);
        plain.set(part.subarray(offset, offset + take), plainFilled);
        plainFilled += take;
        offset += take;
        if (plainFilled === chunkSize && chunkIndex < chunks - 1) await sealPlain();
      }
      options.onProgress?.(read, size);
    }
    if (read !== size) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `the source ended after ${read} of the ${size} bytes announced`,
      );
    }
    await sealPlain();
    if (chunkIndex !== chunks || segmentStart + filled !== payloadSize) {
      throw new StrataError(
        "INTERNAL_INVARIANT",
        `payload of ${segmentStart + filled} bytes, expected ${payloadSize}`,
      );
    }
    if (filled > 0) await emitSegment();
    await inFlight;
    await Promise.all(writers.map(async (w) => w.close()));
  } catch (error) {
    await inFlight?.catch(() => undefined);
    await Promise.all(writers.map(async (w) => w.abort().catch(() => undefined)));
    throw error;
  } finally {
    plain.fill(0);
  }
  const roots = await Promise.all(hashers.map(async (h) => h.digest()));
  return {
    ...(options.hashSpans === undefined ? {} : { spanHashes: spans.digests() }),
    fileSize: size,
    fileHash: hexlify(fileHash.digest()),
    noncePrefix: hexlify(prefix),
    chunkSize,
    k,
    m,
    stripeSize: STRIPE_BYTES,
    shardSize: g.shardSize,
    payloadSize,
    pieces: roots.map((root, index) => ({
      index,
      root,
      size: g.shardSize,
      ...(paths[index] === undefined ? {} : { path: paths[index] }),
    })),
  };
}

/** Bytes read from a source file at a time. */
const SOURCE_READ_BYTES = 1 << 20;

/**
 * The file's bytes in order, read into one reused buffer: each chunk is valid until the next is asked for (the
 * pipeline copies it into its chunk buffer first), so reading a file allocates nothing per chunk.
 */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(SOURCE_READ_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * SHA-256 of payload spans fed with the payload in order (`update(offset, bytes)` for consecutive bytes). Spans may
 * overlap (files packed in one chunk share it) and come in any order; each payload byte reaches only the spans that
 * hold it, so the cost is the spans' bytes, whatever their number.
 */
function spanHasher(
  spans: readonly PayloadSpan[],
  payloadSize: number,
): { update(offset: number, bytes: Uint8Array): void; digests(): string[] } {
  for (const span of spans) {
    if (
      !Number.isSafeInteger(span.start) ||
      !Number.isSafeInteger(span.end) ||
      span.start < 0 ||
      span.end < span.start ||
      span.end > payloadSize
    ) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `span ${span.start}-${span.end} is outside the ${payloadSize}-byte payload`,
      );
    }
  }
  const hashes = spans.map(() => createHash("sha256"));
  const byStart = spans
    .map((_, index) => index)
    .sort((a, b) => (spans[a]?.start ?? 0) - (spans[b]?.start ?? 0));
  let waiting = 0; // byStart[waiting..] have not started yet
  let active: number[] = [];
  return {
    update(offset, bytes) {
      const end = offset + bytes.length;
      for (; waiting < byStart.length && (spans[byStart[waiting] ?? 0]?.start ?? 0) < end; waiting++) {
        active.push(byStart[waiting] ?? 0);
      }
      for (const index of active) {
        const span = spans[index];
        const hash = hashes[index];
        if (span === undefined || hash === undefined) continue;
        const lo = Math.max(span.start, offset);
        const hi = Math.min(span.end, end);
        if (hi > lo) hash.update(bytes.subarray(lo - offset, hi - offset));
      }
      active = active.filter((index) => (spans[index]?.end ?? 0) > end);
    },
    digests: () => hashes.map((hash) => hexlify(hash.digest())),
  };
}

/** A shard writer over a new file (removed on abort). */
export async function fileWriter(path: string): Promise<ShardWriter> {
  const file: FileHandle = await open(path, "w");
  let closed = false;
  return {
    async write(bytes) {
      await writeAll(file, bytes);
    },
    async close() {
      closed = true;
      await file.close();
    },
    async abort() {
      if (!closed) await file.close().catch(() => undefined);
      closed = true;
      await rm(path, { force: true });
    },
  };
}

/** A shard writer collecting the bytes in memory (tests, small payloads). */
export function memoryWriter(size: number, onClose: (bytes: Uint8Array) => void): ShardWriter {
  const bytes = new Uint8Array(size);
  let at = 0;
  return {
    write(part) {
      bytes.set(part, at);
      at += part.length;
      return Promise.resolve();
    },
    close() {
      onClose(bytes);
      return Promise.resolve();
    },
    abort() {
      return Promise.resolve();
    },
  };
}

/**
 * Bytes [start, end) of shard `index`. Throwing marks the shard unusable for the rest of the read (a parity
 * shard is used instead).
 */
export type FetchShardRange = (index: number, start: number, end: number) => Promise<Uint8Array>;

export interface ReadRangeOptions {
  /** Receives the plaintext in order; without it readRange returns the bytes. */
  write?: (bytes: Uint8Array) => Promise<void>;
  /** Payload bytes fetched per step (default 16 stripes of every data shard). */
  segmentStripes?: number;
  /** Shards known to be unusable before the read starts. */
  skip?: readonly number[];
  /** Called when a shard is dropped (fetch failure or bytes that failed authentication). */
  onShardFailed?: (index: number, reason: string) => void;
  /**
   * Steps fetched ahead of the one being decrypted (default: up to 4, within READ_AHEAD_BYTES): memory is about
   * (window + 1) × the step's payload bytes.
   */
  window?: number;
  /**
   * Receives every array `fetchShardRange` returned once readRange holds no view of it any more (its chunks are
   * decrypted), so that the fetcher can read the next ranges into it instead of allocating.
   */
  recycle?: (bytes: Uint8Array) => void;
}

export interface ReadRangeResult {
  bytes: Buffer | undefined;
  /** Shards dropped during the read. */
  failed: number[];
  /** sha256 of the plaintext read (the whole file when the range was [0, fileSize)). */
  sha256: string;
}

/**
 * Plaintext bytes [start, end) of a payload, fetched through `fetchShardRange` and decrypted chunk by chunk.
 * Errors: INVALID_ARGUMENT (bad range), NOT_ENOUGH_PIECES (fewer than k usable shards), CHUNK_AUTH_FAILED (a chunk
 * fails authentication with every combination of shards tried: tampered data or a wrong key).
 */
export async function readRange(
  payload: Omit<PayloadDescriptor, "fileHash">,
  key: Uint8Array,
  start: number,
  end: number,
  fetchShardRange: FetchShardRange,
  options: ReadRangeOptions = {},
): Promise<ReadRangeResult> {
  const { fileSize, chunkSize, k, m, payloadSize } = payload;
  checkCoding(k, m);
  checkChunkSize(chunkSize);
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    start < 0 ||
    end < start ||
    end > fileSize
  ) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `range ${start}-${end} is outside the file's ${fileSize} bytes`,
    );
  }
  if (payloadSizeFor(fileSize, chunkSize) !== payloadSize) {
    throw new StrataError("INVALID_ARGUMENT", `payload size ${payloadSize} does not match the file size`);
  }
  const g = geometryFor(payloadSize, k, payload.stripeSize);
  if (g.shardSize !== payload.shardSize) {
    throw new StrataError("INVALID_ARGUMENT", `shard size ${payload.shardSize} does not match the payload`);
  }
  const prefix = Buffer.from(payload.noncePrefix.replace(/^0x/, ""), "hex");
  const chunks = chunkCount(fileSize, chunkSize);
  const sealedSize = chunkSize + TAG_BYTES;
  const segmentStripes = options.segmentStripes ?? DEFAULT_SEGMENT_STRIPES;
  const chunksPerStep = Math.max(1, Math.floor((segmentStripes * k * g.stripeSize) / sealedSize));
  const failed = new Set<number>(options.skip ?? []);
  const dropped: number[] = [];
  /** Shards dropped because a fetch failed (not because of their bytes). */
  const unreachable = new Set<number>();
  const hash = createHash("sha256");
  const collected: Buffer[] = [];
  const write =
    options.write ??
    ((bytes: Uint8Array): Promise<void> => {
      collected.push(Buffer.from(bytes));
      return Promise.resolve();
    });

  const recycle = (step: StepBytes | undefined): void => {
    if (step === undefined || options.recycle === undefined) return;
    for (const bytes of step.sources) options.recycle(bytes);
  };

  const drop = (index: number, reason: string, fetchFailed = false): void => {
    if (fetchFailed) unreachable.add(index);
    if (failed.has(index)) return;
    failed.add(index);
    dropped.push(index);
    options.onShardFailed?.(index, reason);
  };

  // An empty range still authenticates nothing; the empty file's only chunk is checked when the range is [0, 0)
  // of an empty file (a whole-file read).
  const firstChunk = Math.floor(start / chunkSize);
  const lastChunk = end > start ? Math.floor((end - 1) / chunkSize) : fileSize === 0 ? 0 : -1;

  /** Payload bytes [from, to) with data shards only; undefined if a data shard is unusable. */
  const fetchDirect = async (from: number, to: number): Promise<StepBytes | undefined> => {
    const runs = payloadRuns(g, from, to);
    if (runs.some((run) => failed.has(run.shard))) return undefined;
    // Runs of one shard are contiguous in that shard across stripes: one request per shard.
    const byShard = new Map<number, { lo: number; hi: number }>();
    for (const run of runs) {
      const span = byShard.get(run.shard);
      if (span === undefined)
        byShard.set(run.shard, { lo: run.shardOffset, hi: run.shardOffset + run.length });
      else {
        span.lo = Math.min(span.lo, run.shardOffset);
        span.hi = Math.max(span.hi, run.shardOffset + run.length);
      }
    }
    const fetched = new Map<number, Uint8Array>();
    const lost: number[] = [];
    await Promise.all(
      [...byShard.entries()].map(async ([shard, { lo, hi }]) => {
        try {
          const bytes = await fetchShardRange(shard, lo, hi);
          if (bytes.length !== hi - lo) {
            options.recycle?.(bytes);
            throw new StrataError("PROVIDER_BAD_DATA", `got ${bytes.length} bytes`);
          }
          fetched.set(shard, bytes);
        } catch (error) {
          drop(shard, error instanceof Error ? error.message : String(error), true);
          lost.push(shard);
        }
      }),
    );
    if (lost.length > 0) {
      for (const bytes of fetched.values()) options.recycle?.(bytes);
      return undefined;
    }
    // The step stays as views of the fetched shard ranges: a chunk inside one run (every chunk, with the default
    // chunk size: a sealed chunk is one stripe slice) is decrypted in place, without assembling the step.
    const views: PayloadView[] = [];
    for (const run of runs) {
      const bytes = fetched.get(run.shard);
      const lo = byShard.get(run.shard)?.lo ?? 0;
      if (bytes === undefined) return undefined;
      views.push({
        payloadOffset: run.payloadOffset,
        bytes: bytes.subarray(run.shardOffset - lo, run.shardOffset - lo + run.length),
      });
    }
    return stepOfViews(views, [...fetched.values()]);
  };

  /** Payload bytes [from, to) rebuilt from whole stripes of k usable shards (parity included). */
  const fetchDecoded = async (from: number, to: number): Promise<StepBytes> => {
    const stripeBytes = k * g.stripeSize;
    const s0 = Math.floor(from / stripeBytes);
    const s1 = Math.floor((to - 1) / stripeBytes);
    const shardLo = s0 * g.stripeSize;
    const shardHi = s1 * g.stripeSize + sliceLength(g, s1);
    for (;;) {
      const usable = Array.from({ length: k + m }, (_, i) => i).filter((i) => !failed.has(i));
      if (usable.length < k) {
        throw new StrataError(
          "NOT_ENOUGH_PIECES",
          `${usable.length} usable piece(s) of the ${k} needed (${k + m} exist)`,
          { details: `failed: ${[...failed].join(", ")}` },
        );
      }
      const chosen = usable.slice(0, k);
      const got = new Map<number, Uint8Array>();
      const lost: number[] = [];
      await Promise.all(
        chosen.map(async (shard) => {
          try {
            const bytes = await fetchShardRange(shard, shardLo, shardHi);
            if (bytes.length !== shardHi - shardLo) {
              options.recycle?.(bytes);
              throw new StrataError("PROVIDER_BAD_DATA", `got ${bytes.length} bytes`);
            }
            got.set(shard, bytes);
          } catch (error) {
            drop(shard, error instanceof Error ? error.message : String(error), true);
            lost.push(shard);
          }
        }),
      );
      if (lost.length > 0) {
        for (const bytes of got.values()) options.recycle?.(bytes);
        continue;
      }
      const out = Buffer.alloc((s1 - s0 + 1) * stripeBytes);
      let sources = 0;
      for (const shard of chosen) sources |= 1 << shard;
      let targets = 0;
      for (let j = 0; j < k; j++) if (!got.has(j)) targets |= 1 << j;
      for (let s = s0; s <= s1; s++) {
        const len = sliceLength(g, s);
        const at = (s - s0) * g.stripeSize;
        const data = Buffer.alloc(k * len);
        const parity = Buffer.alloc(Math.max(1, m) * len);
        for (const [shard, bytes] of got) {
          const slice = bytes.subarray(at, at + len);
          if (shard < k) data.set(slice, shard * len);
          else parity.set(slice, (shard - k) * len);
        }
        await codeStripe(k, m, len, data, parity, sources, targets);
        out.set(data, (s - s0) * stripeBytes);
      }
      for (const bytes of got.values()) options.recycle?.(bytes);
      const base = s0 * stripeBytes;
      return stepOfViews([{ payloadOffset: from, bytes: out.subarray(from - base, to - base) }], []);
    }
  };

  /** Decrypt the sealed chunks [c0, c1] from `sealed` (payload bytes from c0's start); throws on auth failure. */
  const openChunks = (c0: number, c1: number, bytes: StepBytes): Buffer[] => {
    const plains: Buffer[] = [];
    for (let c = c0; c <= c1; c++) {
      const lo = c * sealedSize;
      const hi = Math.min(payloadSize, lo + sealedSize);
      plains.push(openChunk(key, prefix, c, c === chunks - 1, bytes.slice(lo, hi)));
    }
    return plains;
  };

  /**
   * A chunk failed authentication: some usable shard returned altered bytes. Rebuild the step without each usable
   * shard in turn; the first combination that authenticates names the culprit, which is dropped for the rest of
   * the read. When none does: CHUNK_AUTH_FAILED if every shard answered (the data or the key is wrong), else
   * NOT_ENOUGH_PIECES (too few good shards are reachable).
   */
  const recover = async (
    c0: number,
    c1: number,
    from: number,
    to: number,
    cause: StrataError,
  ): Promise<Buffer[]> => {
    const suspects = Array.from({ length: k + m }, (_, i) => i).filter((i) => !failed.has(i));
    for (const suspect of suspects) {
      if (suspects.length - 1 < k) break;
      const before = new Set(failed);
      failed.add(suspect);
      try {
        const plains = openChunks(c0, c1, await fetchDecoded(from, to));
        failed.delete(suspect);
        drop(suspect, "bytes failed chunk authentication");
        return plains;
      } catch (retryError) {
        failed.clear();
        for (const f of before) failed.add(f);
        const known = retryError instanceof StrataError && retryError.code === "CHUNK_AUTH_FAILED";
        if (!known && !(retryError instanceof StrataError && retryError.code === "NOT_ENOUGH_PIECES"))
          throw retryError;
      }
    }
    if (unreachable.size === 0) throw cause;
    throw new StrataError(
      "NOT_ENOUGH_PIECES",
      `fewer than ${k} pieces return authentic bytes (${[...unreachable].join(", ")} unreachable)`,
      { details: cause.message, cause },
    );
  };

  /** Decrypt one step from its prefetched data-shard bytes (undefined: rebuild it with parity). */
  const openStep = async (c0: number, c1: number, direct: StepBytes | undefined): Promise<Buffer[]> => {
    const from = c0 * sealedSize;
    const to = Math.min(payloadSize, (c1 + 1) * sealedSize);
    // Prefetched before a shard failed: bytes of a shard dropped since are not trusted (refetched without it).
    const bytes = direct !== undefined && !stale(from, to) ? direct : await fetchDirect(from, to);
    try {
      return openChunks(c0, c1, bytes ?? (await fetchDecoded(from, to)));
    } catch (error) {
      if (!(error instanceof StrataError) || error.code !== "CHUNK_AUTH_FAILED") throw error;
      return await recover(c0, c1, from, to, error);
    } finally {
      // The plaintext is a copy: the fetched arrays are free again.
      if (bytes !== direct) recycle(bytes);
      recycle(direct);
    }
  };
  /** Whether a data shard holding payload bytes [from, to) was dropped. */
  const stale = (from: number, to: number): boolean =>
    payloadRuns(g, from, to).some((run) => failed.has(run.shard));

  // Fetch ahead: up to `window` steps' data-shard requests in flight (one request per data shard and step, so a
  // bounded number per provider, all providers in parallel) while earlier steps are decrypted and written. A step
  // is decrypted, repaired and written in order; repair (parity, culprit search) runs on the decrypting side only.
  const steps: [number, number][] = [];
  for (let c = firstChunk; c <= lastChunk; c += chunksPerStep)
    steps.push([c, Math.min(lastChunk, c + chunksPerStep - 1)]);
  const stepBytes = chunksPerStep * sealedSize;
  const window = Math.max(
    1,
    options.window ?? Math.min(MAX_READ_WINDOW, Math.floor(READ_AHEAD_BYTES / stepBytes)),
  );
  const ahead = new Map<number, Promise<StepBytes | undefined>>();
  const prefetch = (i: number): void => {
    const span = steps[i];
    if (span === undefined) return;
    const fetched = fetchDirect(span[0] * sealedSize, Math.min(payloadSize, (span[1] + 1) * sealedSize));
    fetched.catch(() => undefined); // awaited in order below
    ahead.set(i, fetched);
  };
  for (let i = 0; i < Math.min(window, steps.length); i++) prefetch(i);
  try {
    for (let i = 0; i < steps.length; i++) {
      const [c0, c1] = steps[i] ?? [0, -1];
      const direct = await ahead.get(i);
      ahead.delete(i);
      prefetch(i + window);
      const plains = await openStep(c0, c1, direct);
      for (const [offset, plain] of plains.entries()) {
        const chunkStart = (c0 + offset) * chunkSize;
        const lo = Math.max(start, chunkStart) - chunkStart;
        const hi = Math.min(end, chunkStart + plain.length) - chunkStart;
        if (hi > lo) {
          const part = plain.subarray(lo, hi);
          hash.update(part);
          await write(part);
        }
      }
    }
  } finally {
    await Promise.all([...ahead.values()].map(async (pending) => pending.catch(() => undefined)));
  }
  return {
    bytes: options.write === undefined ? Buffer.concat(collected) : undefined,
    failed: dropped,
    sha256: hexlify(hash.digest()),
  };
}

/** Payload bytes starting at `payloadOffset`. */
interface PayloadView {
  payloadOffset: number;
  bytes: Uint8Array;
}

/** The payload bytes of one read step, kept as the views they arrived in. */
interface StepBytes {
  /** Payload bytes [from, to): a view when they lie in one view, else a copy. */
  slice(from: number, to: number): Uint8Array;
  /** The fetched arrays the views are of (recycled once the step is decrypted). */
  sources: readonly Uint8Array[];
}

/** A step over contiguous views in payload order. */
function stepOfViews(views: readonly PayloadView[], sources: readonly Uint8Array[]): StepBytes {
  return {
    sources,
    slice(from, to) {
      const first = views.findIndex(
        (v) => from >= v.payloadOffset && from < v.payloadOffset + v.bytes.length,
      );
      const view = views[first];
      if (view === undefined) {
        throw new StrataError("INTERNAL_INVARIANT", `payload bytes ${from}-${to} are not in the step`);
      }
      if (to <= view.payloadOffset + view.bytes.length) {
        return view.bytes.subarray(from - view.payloadOffset, to - view.payloadOffset);
      }
      const out = new Uint8Array(to - from);
      for (let i = first, at = from; at < to; i++) {
        const next = views[i];
        if (next === undefined) {
          throw new StrataError("INTERNAL_INVARIANT", `payload bytes ${from}-${to} run past the step`);
        }
        const part = next.bytes.subarray(
          at - next.payloadOffset,
          Math.min(to - next.payloadOffset, next.bytes.length),
        );
        out.set(part, at - from);
        at += part.length;
      }
      return out;
    },
  };
}

/** The geometry of a descriptor (for callers mapping shards to pieces). */
export function payloadGeometry(
  payload: Pick<PayloadDescriptor, "payloadSize" | "k" | "stripeSize">,
): Geometry {
  return geometryFor(payload.payloadSize, payload.k, payload.stripeSize);
}
