// Whole pieces on disk instead of in memory (docs/SPEC-DATA.md §8): a piece fetched from a holder is written to a
// file as it arrives and checked against its commitment on the way, and a rebuild reads its sources back one
// segment at a time. Memory stays at a few segments whatever the piece size (pieces may be 32 GiB).
import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AgentClient } from "../client/agentClient.js";
import { defaultCommitPool } from "../commitment/parallel.js";
import { PieceHasher } from "../commitment/stream.js";
import { reconstruct, reconstructData, STRIPE_BYTES } from "../data/erasure.js";
import { BatchedFileWriter } from "../data/writeAll.js";
import { StrataError } from "../errors.js";

/** Pieces from this size on are hashed on the commitment pool's worker threads. */
const POOL_MIN_BYTES = 8 << 20;

/** Bytes of every piece decoded at once by a segment-wise rebuild (whole stripes of the coder, STRIPE_BYTES). */
export const REBUILD_SEGMENT_BYTES = 8 << 20;

/**
 * A piece written to a file and hashed on the way: kept only if it is `size` bytes and, when `root` is given, hashes
 * to it (PIECE_CORRUPT otherwise, and the file is removed).
 */
export class PieceFileWriter {
  private readonly hasher: PieceHasher;
  private readonly out: BatchedFileWriter;

  private constructor(
    private readonly file: FileHandle,
    private readonly name: string,
    private readonly size: number,
    private readonly root: string | undefined,
  ) {
    this.out = new BatchedFileWriter(file, REBUILD_SEGMENT_BYTES);
    // A large piece is hashed on the commitment pool, overlapping the disk's work (as preparePayload does).
    this.hasher = new PieceHasher(size >= POOL_MIN_BYTES ? { pool: defaultCommitPool() } : {});
  }

  /** Create (or replace) `name` for a piece of `size` bytes, expected to hash to `root` when given. */
  static async create(name: string, size: number, root?: string): Promise<PieceFileWriter> {
    return new PieceFileWriter(await open(name, "w"), name, size, root);
  }

  private get label(): string {
    return this.root ?? this.name;
  }

  /** Append bytes (copied: the caller may reuse `chunk` once this resolves). */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.out.end + chunk.length > this.size) {
      throw new StrataError("PIECE_CORRUPT", `piece ${this.label} is longer than ${this.size} bytes`);
    }
    await this.hasher.update(chunk);
    await this.out.write(chunk);
  }

  /**
   * Close the file. With `ok`, check length and commitment and resolve to the piece's root; without it (the caller
   * failed), or when a check fails, the file is removed.
   */
  async finish(ok: boolean): Promise<string> {
    let kept = false;
    try {
      if (!ok) return "";
      await this.out.flush();
      if (this.out.end !== this.size) {
        throw new StrataError(
          "PIECE_CORRUPT",
          `piece ${this.label} is ${this.out.end} bytes, expected ${this.size}`,
        );
      }
      const actual = await this.hasher.digest();
      if (this.root !== undefined && actual !== this.root.toLowerCase()) {
        throw new StrataError("PIECE_CORRUPT", `the bytes of piece ${this.root} hash to ${actual}`);
      }
      // Scratch files, not synced: what a user needs to recover is elsewhere (the source file, the pieces on the
      // providers); a crash only means coding or fetching again.
      kept = true;
      return actual;
    } finally {
      await this.file.close();
      if (!kept) await rm(this.name, { force: true });
    }
  }
}

/**
 * Write the `size` bytes `body` yields to `file`, hashing them as they arrive. PIECE_CORRUPT (and no file) when
 * they do not hash to `root` or are not `size` bytes; `file` is replaced.
 */
export async function savePiece(
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  root: string,
  size: number,
  file: string,
): Promise<void> {
  const piece = await PieceFileWriter.create(file, size, root);
  let ok = false;
  try {
    for await (const chunk of body) await piece.write(chunk);
    ok = true;
  } finally {
    await piece.finish(ok);
  }
}

/** Fetch piece `root` of `size` bytes from an agent into `file`, checked on the way (see savePiece). */
export async function fetchPieceFile(
  agent: Pick<AgentClient, "pieceBody">,
  root: string,
  size: number,
  file: string,
): Promise<void> {
  await savePiece(agent.pieceBody(root, size), root, size, file);
}

/**
 * Try `candidates` in order, `k` at a time (pieces come from different holders: fetch them in parallel), until `k`
 * attempts succeeded or none are left; resolves to how many succeeded. `attempt` resolves false, or throws, on a
 * failure, and the next candidate is tried.
 */
export async function firstK<T>(
  candidates: readonly T[],
  k: number,
  attempt: (candidate: T) => Promise<boolean>,
): Promise<number> {
  let next = 0;
  let good = 0;
  const lane = async (): Promise<void> => {
    while (good < k && next < candidates.length) {
      const candidate = candidates[next++] as T;
      if (await attempt(candidate).catch(() => false)) good++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(k, candidates.length) }, lane));
  return good;
}

/** Run `work` with a fresh folder under `base` (the system's temporary folder by default), removed afterwards. */
export async function withScratch<T>(
  base: string | undefined,
  work: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(base ?? tmpdir(), "strata-pieces-"));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A segment-wise decode over pieces held in files. */
export interface SegmentRebuild {
  /** Data pieces k and parity pieces m of the file. */
  k: number;
  m: number;
  /** Size of every piece in bytes (a multiple of 64). */
  pieceSize: number;
  /** The file of each piece already checked against its commitment (`null` = not held); k or more. */
  sources: readonly (string | null)[];
  /** The pieces to produce, in the order `sink` receives them. */
  wanted: readonly number[];
  /** Bytes decoded per piece at a time: a multiple of STRIPE_BYTES (default REBUILD_SEGMENT_BYTES). */
  segmentBytes?: number;
}

/**
 * Produce pieces `wanted` segment by segment, in order: a held piece is read from its file, a missing one decoded
 * from k held ones. `sink` gets each segment of each wanted piece with its offset, and may keep none of them (the
 * buffers are read into again). NOT_ENOUGH_PIECES when fewer than k are held.
 */
export async function rebuildSegments(
  request: SegmentRebuild,
  sink: (index: number, bytes: Uint8Array, offset: number) => Promise<void>,
): Promise<void> {
  const { k, m, pieceSize, sources, wanted } = request;
  const segment = request.segmentBytes ?? REBUILD_SEGMENT_BYTES;
  // The coder works in stripes of STRIPE_BYTES from each piece's start: a segment must cover whole stripes, or its
  // decode would differ from the encode.
  if (!Number.isSafeInteger(segment) || segment <= 0 || segment % STRIPE_BYTES !== 0) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `segments must be a multiple of ${STRIPE_BYTES} bytes, got ${segment}`,
    );
  }
  if (sources.length !== k + m) {
    throw new StrataError("INVALID_ARGUMENT", `expected ${k + m} piece files, got ${sources.length}`);
  }
  // A wanted piece that is held is read from its file; when one is missing, the first k held pieces are read too
  // and decoded.
  const held = sources.flatMap((s, i) => (s === null ? [] : [i]));
  if (held.length < k) {
    throw new StrataError("NOT_ENOUGH_PIECES", `${held.length} good pieces of the ${k} needed`);
  }
  const decode = wanted.some((i) => sources[i] === null);
  const heldWanted = wanted.filter((i) => sources[i] !== null);
  const decoders = held.slice(0, k);
  const read = new Set(decode ? [...decoders, ...heldWanted] : heldWanted);
  const files = new Map<number, FileHandle>();
  const buffers = new Map<number, Uint8Array>();
  try {
    for (const i of read) {
      files.set(i, await open(sources[i] ?? "", "r"));
      buffers.set(i, new Uint8Array(Math.min(segment, pieceSize)));
    }
    for (let offset = 0; offset < pieceSize; offset += segment) {
      const length = Math.min(segment, pieceSize - offset);
      const shards: (Uint8Array | null)[] = Array.from({ length: k + m }, () => null);
      for (const [i, file] of files) {
        const view = (buffers.get(i) ?? new Uint8Array(length)).subarray(0, length);
        await readExactly(file, view, offset);
        shards[i] = view;
      }
      // Decoding with exactly k sources keeps the others out of the stripes (and out of the result).
      const sourcesOnly = shards.map((s, i) => (decoders.includes(i) ? s : null));
      // Only data pieces wanted (a read): the missing parity is not computed.
      const all = !decode
        ? shards
        : wanted.every((i) => i < k)
          ? await reconstructData(sourcesOnly, k, m, length)
          : await reconstruct(sourcesOnly, k, m, length);
      for (const index of wanted) {
        const bytes = shards[index] ?? all[index];
        if (bytes === null || bytes === undefined) {
          throw new StrataError("INTERNAL_INVARIANT", `piece ${index} was neither read nor decoded`);
        }
        await sink(index, bytes, offset);
      }
    }
  } finally {
    for (const file of files.values()) await file.close();
  }
}

/** What rebuilding one piece into a file needs. */
export interface RebuildPieceFile {
  /** The piece to rebuild (0..k+m-1). */
  index: number;
  k: number;
  m: number;
  pieceSize: number;
  /** Its commitment: the rebuilt bytes must hash to it. */
  root: string;
  /** The other pieces' files, already checked against their commitments (`null` = not held). */
  sources: readonly (string | null)[];
  /** Where the rebuilt piece goes (replaced). */
  out: string;
}

/**
 * Rebuild piece `index` into `out` from k checked pieces, segment by segment. PIECE_CORRUPT (and no file) when the
 * result does not hash to `root`; NOT_ENOUGH_PIECES when fewer than k others are held.
 */
export async function rebuildPieceFile(request: RebuildPieceFile): Promise<void> {
  const { index, k, m, pieceSize, root, out } = request;
  if (!Number.isInteger(index) || index < 0 || index >= k + m) {
    throw new StrataError("INVALID_ARGUMENT", `piece ${index} is not in a ${k}-of-${k + m} file`);
  }
  const sources = request.sources.map((s, i) => (i === index ? null : s));
  const piece = await PieceFileWriter.create(out, pieceSize, root);
  let ok = false;
  try {
    await rebuildSegments({ k, m, pieceSize, sources, wanted: [index] }, (_i, bytes) => piece.write(bytes));
    ok = true;
  } finally {
    await piece.finish(ok).catch((error: unknown) => {
      if (error instanceof StrataError && error.code === "PIECE_CORRUPT") {
        throw new StrataError("PIECE_CORRUPT", `rebuilt piece ${index} does not match its commitment`, {
          cause: error,
        });
      }
      throw error;
    });
  }
}

async function readExactly(file: FileHandle, into: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < into.length;) {
    const { bytesRead } = await file.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) {
      throw new StrataError("PIECE_CORRUPT", `a piece file ended at ${position + done} bytes`);
    }
    done += bytesRead;
  }
}
