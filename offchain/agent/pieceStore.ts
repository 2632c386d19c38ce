/**
 * Piece bytes on disk: <dir>/<root>.piece, written to a temporary file, synced, then renamed, so a piece
 * file either holds the whole verified piece or does not exist. Trees built for proofs are cached (LRU);
 * single-leaf proofs (HTTP, retrieval challenges) read one block from disk (see leafProofs.ts).
 */
import { randomUUID } from "node:crypto";
import { createReadStream, type ReadStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { PieceTree } from "../sdk/commitment/merkle.js";
import { StrataError } from "../sdk/errors.js";
import { LeafProver, type LeafProof } from "./leafProofs.js";
import { TreeCache } from "./treeCache.js";

const PIECE_SUFFIX = ".piece";
const TMP_SUFFIX = ".tmp";

export type WriteOutcome =
  | { ok: true; tree: PieceTree; path: string }
  | { ok: false; reason: "too-large" | "too-small" | "root-mismatch"; received: number };

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

  /** Create the directory and remove temporary files a crash left behind. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of await readdir(this.dir)) {
      if (name.endsWith(TMP_SUFFIX)) await rm(join(this.dir, name), { force: true });
    }
  }

  path(root: string): string {
    return join(this.dir, `${root.toLowerCase()}${PIECE_SUFFIX}`);
  }

  /**
   * Stream exactly `size` bytes from `source` into the piece `root`. Stops reading as soon as more than `size`
   * bytes arrive. The bytes must hash to `root`; only then is the file moved into place.
   */
  async write(root: string, size: number, source: AsyncIterable<Uint8Array>): Promise<WriteOutcome> {
    const data = Buffer.allocUnsafe(size);
    const tmp = join(this.dir, `${root.toLowerCase()}.${randomUUID()}${TMP_SUFFIX}`);
    const file = await open(tmp, "w");
    let received = 0;
    let moved = false;
    try {
      // A manual iterator: leaving early must not call return() on the source, which for an HTTP request
      // would destroy the socket before the 413 answer is sent.
      const chunks = source[Symbol.asyncIterator]();
      for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) {
        const chunk = next.value;
        if (received + chunk.length > size) {
          return { ok: false, reason: "too-large", received: received + chunk.length };
        }
        data.set(chunk, received);
        received += chunk.length;
        await file.write(chunk);
      }
      if (received < size) return { ok: false, reason: "too-small", received };
      const tree = PieceTree.build(data);
      if (tree.root !== root.toLowerCase()) return { ok: false, reason: "root-mismatch", received };
      await file.datasync();
      await file.close();
      await rename(tmp, this.path(root));
      await this.syncDir();
      moved = true;
      this.cache.set(root, tree);
      return { ok: true, tree, path: this.path(root) };
    } finally {
      if (!moved) {
        await file.close().catch(() => undefined);
        await rm(tmp, { force: true });
      }
    }
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
   * A read stream over the piece (or over the bytes `range.start..range.end` inclusive, which the caller
   * checks against `size`), or undefined when its file is missing.
   */
  async open(
    root: string,
    range?: { start: number; end: number },
  ): Promise<{ stream: ReadStream; size: number } | undefined> {
    const size = await this.sizeOnDisk(root);
    if (size === undefined) return undefined;
    return { stream: createReadStream(this.path(root), range), size };
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

  /** The piece's tree (cached), checked against `size` and `root`. Throws PIECE_NOT_FOUND or PIECE_CORRUPT. */
  async tree(root: string, size: bigint): Promise<PieceTree> {
    const cached = this.cache.get(root);
    if (cached) return cached;
    const data = await this.read(root);
    const tree = this.check(root, size, data);
    this.cache.set(root, tree);
    return tree;
  }

  /** Re-read and re-hash the piece (not cached: a full scan must not evict the trees proofs need). */
  async verify(root: string, size: bigint): Promise<PieceHealth> {
    let data: Buffer;
    try {
      data = await this.read(root);
    } catch {
      this.forget(root);
      return { ok: false, problem: "missing" };
    }
    try {
      this.check(root, size, data);
      return { ok: true };
    } catch {
      this.forget(root);
      return { ok: false, problem: "corrupt" };
    }
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
