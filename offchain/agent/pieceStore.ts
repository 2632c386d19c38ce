/**
 * Piece bytes on disk: <dir>/<root>.piece. An upload is streamed to <dir>/<root>.<size>.upload as it arrives
 * (never held in memory) while its piece root is computed incrementally; once all `size` bytes are there and they
 * hash to `root`, the file is synced and renamed, so a piece file either holds the whole verified piece or does
 * not exist. A dropped upload keeps its partial file: the client asks how much arrived (uploadStatus) and sends
 * the rest (write with an offset); the bytes already on disk are re-hashed from disk to resume the commitment.
 * Leaf openings and proofs read one 64 KiB block from disk against a small cached top of the tree
 * (leafProofs.ts); full checks stream the file.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { PieceTree } from "../sdk/commitment/merkle.js";
import { PieceHasher, streamRoot } from "../sdk/commitment/stream.js";
import { StrataError } from "../sdk/errors.js";
import { LeafProver, type LeafProof } from "./leafProofs.js";
import { TreeCache } from "./treeCache.js";
import { BatchedFileWriter } from "../sdk/data/writeAll.js";
import { fileRangeChunks } from "../sdk/data/fileRanges.js";

const PIECE_SUFFIX = ".piece";
const TMP_SUFFIX = ".tmp";
const UPLOAD_SUFFIX = ".upload";
/** Partial files of uploads named by an upload id: upload-<id>.<size>.upload. */
const NAMED_PREFIX = "upload-";
/** Partial uploads untouched for this long are removed at start-up. */
const STALE_UPLOAD_MS = 24 * 3600 * 1000;
/** Bytes read at a time when re-hashing a partial upload or verifying a piece. */
const READ_BYTES = 1 << 20;
/** Bytes of an upload collected (copied) before one write. */
const WRITE_BATCH_BYTES = 1 << 20;
/** An upload's bytes are synced to disk every this many bytes while it is received. */
const SYNC_EVERY_BYTES = 64 << 20;
/** Bytes read at a time when serving a piece. */
const SERVE_READ_BYTES = 1 << 20;

export type WriteOutcome =
  | {
      ok: true;
      path: string;
      /** The root the bytes hash to (the announced one, or computed for an upload id). */ root: string;
    }
  | {
      ok: false;
      /** too-small: the body ended early; the bytes are kept and the upload can resume from `received`. */
      reason: "too-large" | "too-small" | "root-mismatch" | "offset-mismatch";
      received: number;
    };

/** How much of an interrupted upload the agent holds. */
export interface UploadStatus {
  size: number;
  received: number;
}

/** A piece opened for serving (PieceStore.open). */
export interface OpenedPiece {
  /** Bytes of the whole piece file. */
  size: number;
  /** The asked bytes in order; a chunk's memory is reused once the next one is asked for. */
  chunks: AsyncGenerator<Uint8Array>;
  close(): Promise<void>;
}

export type PieceHealth = { ok: true } | { ok: false; problem: "missing" | "corrupt" };

export class PieceStore {
  readonly dir: string;
  private readonly cache: TreeCache;
  private readonly leafProver: LeafProver;

  constructor(dir: string, options: { cacheBytes: number }) {
    this.dir = dir;
    this.cache = new TreeCache(options.cacheBytes);
    this.leafProver = new LeafProver((root) => this.path(root));
  }

  /** Create the directory; remove temporary files a crash left behind and uploads abandoned for a day. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      if (name.endsWith(TMP_SUFFIX)) await rm(path, { force: true });
      if (name.endsWith(UPLOAD_SUFFIX)) {
        const info = await stat(path).catch(() => undefined);
        if (info === undefined || Date.now() - info.mtimeMs > STALE_UPLOAD_MS)
          await rm(path, { force: true });
      }
    }
  }

  path(root: string): string {
    return join(this.dir, `${root.toLowerCase()}${PIECE_SUFFIX}`);
  }

  private uploadPath(root: string, size: number): string {
    return join(this.dir, `${root.toLowerCase()}.${size}${UPLOAD_SUFFIX}`);
  }

  /** Partial file of an upload named by the client's upload id (its root is not known until the last byte). */
  private namedUploadPath(uploadId: string, size: number): string {
    return join(this.dir, `${NAMED_PREFIX}${uploadId.toLowerCase()}.${size}${UPLOAD_SUFFIX}`);
  }

  /** The interrupted upload named `uploadId` announced as `size` bytes, if any. */
  async namedUploadStatus(uploadId: string, size: number): Promise<UploadStatus | undefined> {
    return statusOf(this.namedUploadPath(uploadId, size), size);
  }

  /**
   * Like `write`, for an upload named by a client-chosen id instead of its root: a client streams a piece while it
   * is still being produced, before its root is known. The root is computed from the bytes as they arrive; once
   * all `size` bytes are there the piece is stored under that root and the outcome names it (the client compares
   * it with its own). Resumes from `offset` like `write`.
   */
  async writeNamed(
    uploadId: string,
    size: number,
    source: AsyncIterable<Uint8Array>,
    offset = 0,
  ): Promise<WriteOutcome> {
    return this.receive(this.namedUploadPath(uploadId, size), size, source, offset, undefined);
  }

  /** The interrupted upload of `root` announced as `size` bytes, if any. */
  async uploadStatus(root: string, size: number): Promise<UploadStatus | undefined> {
    return statusOf(this.uploadPath(root, size), size);
  }

  /**
   * Stream the bytes of piece `root` (`size` bytes in all) from `source`, starting at byte `offset` (0 for a new
   * upload; for a resumed one, exactly the bytes already received). The piece root is computed as bytes arrive;
   * reading stops as soon as more than `size` bytes arrive. On a root mismatch or an oversized body the partial
   * file is deleted; when the body ends early, or the connection drops (the source throws), it is kept for a
   * resume. Memory: one 4 MiB hashing block and a 1 MiB write batch, whatever the piece size. A chunk is copied
   * before the next one is asked for, so the source may reuse its memory.
   */
  async write(
    root: string,
    size: number,
    source: AsyncIterable<Uint8Array>,
    offset = 0,
  ): Promise<WriteOutcome> {
    return this.receive(this.uploadPath(root, size), size, source, offset, root.toLowerCase());
  }

  /** Receive into `partial`; `expected` = the announced root (undefined: whatever root the bytes make). */
  private async receive(
    partial: string,
    size: number,
    source: AsyncIterable<Uint8Array>,
    offset: number,
    expected: string | undefined,
  ): Promise<WriteOutcome> {
    const hasher = new PieceHasher();
    let file: FileHandle;
    if (offset === 0) {
      file = await open(partial, "w");
    } else {
      const held = await statusOf(partial, size);
      if (held?.received !== offset)
        return { ok: false, reason: "offset-mismatch", received: held?.received ?? 0 };
      file = await open(partial, "r+");
      // Resume the commitment: the bytes already on disk are hashed again (streamed, not held). A file that
      // shrank meanwhile answers with what it holds now, as a wrong offset does.
      const shrank = (at: number): StrataError =>
        new StrataError("PIECE_CORRUPT", `the partial upload ended at byte ${at} of ${offset}`);
      try {
        for await (const chunk of fileRangeChunks(file, 0, offset, READ_BYTES, shrank))
          await hasher.update(chunk);
      } catch {
        await file.close();
        return {
          ok: false,
          reason: "offset-mismatch",
          received: (await statusOf(partial, size))?.received ?? 0,
        };
      }
    }
    let received = offset;
    let keep = true;
    let closed = false;
    // Arriving chunks (a socket read each, 64 KiB) are copied into one batch buffer that is written when full: the
    // copy makes what lands on disk exactly what was hashed, whatever the source does with a chunk's memory once the
    // next one is asked for (a file read into one reused buffer, say). A partial upload keeps exactly the bytes
    // received, so the batch is written before any early return that keeps the file.
    const out = new BatchedFileWriter(file, WRITE_BATCH_BYTES, offset);
    // The bytes are flushed to disk as they arrive (one sync in flight at a time), so that the sync before the
    // acknowledgement finds little left to write instead of the whole piece.
    let syncing: Promise<void> | undefined;
    let syncedTo = offset;
    const syncSoFar = async (): Promise<void> => {
      await syncing;
      syncedTo = out.flushed;
      syncing = file.datasync();
      syncing.catch(() => undefined); // awaited before the next sync and before the file is closed
    };
    try {
      // A manual iterator: leaving early must not call return() on the source, which for an HTTP request
      // would destroy the socket before the 413 answer is sent.
      const chunks = source[Symbol.asyncIterator]();
      try {
        for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) {
          const chunk = next.value;
          if (received + chunk.length > size) {
            keep = false;
            return { ok: false, reason: "too-large", received: received + chunk.length };
          }
          await hasher.update(chunk);
          await out.write(chunk);
          received += chunk.length;
          if (out.flushed - syncedTo >= SYNC_EVERY_BYTES) await syncSoFar();
        }
      } finally {
        // What arrived before the body ended or the connection dropped is kept for a resume.
        if (keep) await out.flush();
      }
      if (received < size) return { ok: false, reason: "too-small", received };
      const actual = await hasher.digest();
      if (expected !== undefined && actual !== expected) {
        keep = false;
        return { ok: false, reason: "root-mismatch", received };
      }
      await syncing;
      await file.datasync();
      await file.close();
      closed = true;
      await rename(partial, this.path(actual));
      await this.syncDir();
      return { ok: true, path: this.path(actual), root: actual };
    } finally {
      await syncing?.catch(() => undefined);
      if (!closed) await file.close().catch(() => undefined);
      if (!keep) await rm(partial, { force: true });
    }
  }

  /** Drop an interrupted upload. */
  async dropUpload(root: string, size: number): Promise<void> {
    await rm(this.uploadPath(root, size), { force: true });
  }

  /** The piece's bytes. Throws PIECE_NOT_FOUND. */
  async read(root: string): Promise<Buffer> {
    try {
      return await readFile(this.path(root));
    } catch (cause) {
      throw new StrataError("PIECE_NOT_FOUND", `piece ${root} is not on disk`, { cause });
    }
  }

  /**
   * The piece opened for reading the bytes `range.start..range.end` inclusive (which the caller checks against
   * `size`), or the whole piece; undefined when its file is missing. `chunks` reads in two recycled 1 MiB buffers
   * (fileRangeChunks: a chunk is overwritten once the one after it is asked for) and closes the file when it ends;
   * `close()` closes it in any case (call it when done, also when `chunks` was not read).
   */
  async open(root: string, range?: { start: number; end: number }): Promise<OpenedPiece | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.path(root), "r");
    } catch {
      return undefined;
    }
    const info = await handle.stat().catch(() => undefined);
    if (info?.isFile() !== true) {
      await handle.close();
      return undefined;
    }
    const file = handle;
    const start = range?.start ?? 0;
    const end = range === undefined ? info.size : range.end + 1;
    const short = (at: number): StrataError =>
      new StrataError("PIECE_CORRUPT", `piece ${root} ended at byte ${at}, before byte ${end}`);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      try {
        yield* fileRangeChunks(file, start, end, SERVE_READ_BYTES, short);
      } finally {
        await file.close();
      }
    }
    // FileHandle.close() on a closed handle resolves at once.
    return { size: info.size, chunks: chunks(), close: () => file.close() };
  }

  /**
   * Leaf `index` of the piece and its Merkle path, read from disk (never from a cached tree: the answer
   * proves the bytes are still stored). Throws LEAF_OUT_OF_RANGE, PIECE_NOT_FOUND or PIECE_CORRUPT.
   */
  async leafProof(root: string, size: bigint, index: number): Promise<LeafProof> {
    return this.leafProver.proof(root, size, index);
  }

  /** Size of the piece file, or undefined when it is missing. */
  async sizeOnDisk(root: string): Promise<number | undefined> {
    try {
      const info = await stat(this.path(root));
      return info.isFile() ? info.size : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The piece's whole tree (cached), checked against `size` and `root`: holds the piece and its hash levels in
   * memory, so only for small pieces and tests; the agent's routes use openPadded / leafProof.
   */
  async tree(root: string, size: bigint): Promise<PieceTree> {
    const cached = this.cache.get(root);
    if (cached) return cached;
    const data = await this.read(root);
    const tree = this.check(root, size, data);
    this.cache.set(root, tree);
    return tree;
  }

  /** Re-read and re-hash the piece, streamed from disk (a 64 GiB piece costs one hashing block of memory). */
  async verify(root: string, size: bigint): Promise<PieceHealth> {
    const onDisk = await this.sizeOnDisk(root);
    if (onDisk === undefined) {
      this.forget(root);
      return { ok: false, problem: "missing" };
    }
    let actual: string;
    try {
      // The whole file in two recycled buffers (PieceHasher copies each chunk before asking for the next).
      const opened = await this.open(root);
      if (opened === undefined) throw new StrataError("PIECE_NOT_FOUND", `piece ${root} is not on disk`);
      try {
        actual = await streamRoot(opened.chunks);
      } finally {
        await opened.close();
      }
    } catch {
      this.forget(root);
      return { ok: false, problem: "missing" };
    }
    if (BigInt(onDisk) !== size || actual !== root.toLowerCase()) {
      this.forget(root);
      return { ok: false, problem: "corrupt" };
    }
    return { ok: true };
  }

  /**
   * Any leaf of the piece's padded tree (index < 2^height, padding leaves open as zeros) with its path, read from
   * disk. Throws LEAF_OUT_OF_RANGE, PIECE_NOT_FOUND or PIECE_CORRUPT.
   */
  async openPadded(root: string, size: bigint, index: number): Promise<LeafProof> {
    return this.leafProver.proof(root, size, index, { padded: true });
  }

  /** Cheap check: the file exists with the right size. */
  async present(root: string, size: bigint): Promise<PieceHealth> {
    const onDisk = await this.sizeOnDisk(root);
    if (onDisk === undefined) {
      this.forget(root);
      return { ok: false, problem: "missing" };
    }
    if (BigInt(onDisk) !== size) {
      this.forget(root);
      return { ok: false, problem: "corrupt" };
    }
    return { ok: true };
  }

  async delete(root: string): Promise<void> {
    this.forget(root);
    await rm(this.path(root), { force: true });
  }

  /** Drop cached trees of `root`. */
  private forget(root: string): void {
    this.cache.delete(root);
    this.leafProver.forget(root);
  }

  /** Roots of the pieces on disk. */
  async list(): Promise<string[]> {
    const names = await readdir(this.dir);
    return names.filter((n) => n.endsWith(PIECE_SUFFIX)).map((n) => n.slice(0, -PIECE_SUFFIX.length));
  }

  get cachedTrees(): number {
    return this.cache.size;
  }

  private check(root: string, size: bigint, data: Buffer): PieceTree {
    if (BigInt(data.length) !== size) {
      throw new StrataError(
        "PIECE_CORRUPT",
        `piece ${root} has ${data.length} bytes on disk, expected ${size}`,
      );
    }
    const tree = PieceTree.build(data);
    if (tree.root !== root.toLowerCase()) {
      throw new StrataError("PIECE_CORRUPT", `piece ${root} on disk hashes to ${tree.root}`);
    }
    return tree;
  }

  private async syncDir(): Promise<void> {
    const dir = await open(this.dir, "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

async function statusOf(path: string, size: number): Promise<UploadStatus | undefined> {
  try {
    const info = await stat(path);
    return { size, received: info.size };
  } catch {
    return undefined;
  }
}
