/**
 * Piece roots computed as the bytes arrive (docs/SPEC-DATA.md §2), so that neither a client writing pieces nor an
 * agent receiving one holds the piece in memory. Bytes are cut into aligned 4 MiB blocks (2^JOB_HEIGHT leaves);
 * each full block is hashed to its subtree root (on the commitment pool when one is given, else on the calling
 * thread) and only those 32-byte roots are kept; `digest()` lifts them to the piece root, padding with zero
 * subtrees exactly as PieceTree does. Memory: one block being filled plus `maxPending` blocks being hashed.
 */
import { StrataError } from "../errors.js";
import { toHex } from "./merkle.js";
import { commitPieces, JOB_HEIGHT, type CommitPool } from "./parallel.js";
import { createScratch, liftNodes, pieceHeight, subtreeRoot, type TreeScratch } from "./treeHash.mjs";

/** Bytes of one aligned block: 2^JOB_HEIGHT leaves of 64 bytes (4 MiB). */
export const HASH_BLOCK_BYTES = 64 << JOB_HEIGHT;

export interface PieceHasherOptions {
  /** Hash full blocks on this pool (worker threads); default: on the calling thread. */
  pool?: CommitPool;
  /** Blocks hashed at once on the pool before update() waits (default 4). */
  maxPending?: number;
}

export class PieceHasher {
  private block: Uint8Array = new Uint8Array(HASH_BLOCK_BYTES);
  private filled = 0;
  private total = 0;
  private readonly roots: (Uint8Array | Promise<Uint8Array>)[] = [];
  private readonly pending: Promise<unknown>[] = [];
  /** Blocks the pool has hashed, ready to be filled again (at most maxPending + 1 blocks ever exist). */
  private readonly spare: Uint8Array[] = [];
  private readonly scratch: TreeScratch | undefined;
  private readonly pool: CommitPool | undefined;
  private readonly maxPending: number;

  constructor(options: PieceHasherOptions = {}) {
    this.pool = options.pool;
    this.maxPending = options.maxPending ?? 4;
    this.scratch = this.pool === undefined ? createScratch() : undefined;
  }

  /** Bytes hashed so far. */
  get size(): number {
    return this.total;
  }

  /** Add bytes (the caller may reuse `bytes` once the promise resolves). */
  async update(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      // A full block is hashed only once more bytes follow: a piece of exactly one block keeps its own height.
      if (this.filled === HASH_BLOCK_BYTES) await this.flush();
      const take = Math.min(bytes.length - offset, HASH_BLOCK_BYTES - this.filled);
      this.block.set(bytes.subarray(offset, offset + take), this.filled);
      this.filled += take;
      this.total += take;
      offset += take;
    }
  }

  /** The piece root (0x-hex) of everything added. Throws INVALID_ARGUMENT for an empty piece. */
  async digest(): Promise<string> {
    if (this.total === 0) throw new StrataError("INVALID_ARGUMENT", "a piece must not be empty");
    const height = pieceHeight(this.total);
    const last = this.block.subarray(0, this.filled);
    if (this.roots.length === 0) return toHex(await this.hashBlock(last, height));
    this.roots.push(await this.hashBlock(last, JOB_HEIGHT));
    const roots = await Promise.all(this.roots.map(async (root) => root));
    const nodes = new Uint8Array(roots.length * 32);
    roots.forEach((root, index) => {
      nodes.set(root, index * 32);
    });
    return toHex(liftNodes(nodes, roots.length, JOB_HEIGHT, height));
  }

  private async flush(): Promise<void> {
    const full = this.block;
    if (this.pool === undefined) {
      this.roots.push(subtreeRoot(full, JOB_HEIGHT, this.scratch));
    } else {
      const root = this.hashBlock(full, JOB_HEIGHT);
      this.roots.push(root);
      this.pending.push(root);
      // Once hashed, the block is no longer read by the pool: it is filled again instead of allocating another.
      root.then(
        () => this.spare.push(full),
        () => undefined,
      );
      this.block = this.spare.pop() ?? new Uint8Array(HASH_BLOCK_BYTES);
      while (this.pending.length > this.maxPending) await this.pending.shift();
    }
    this.filled = 0;
  }

  private async hashBlock(data: Uint8Array, height: number): Promise<Uint8Array> {
    // The pool hashes at the data's own height; a short last block lifted to the block height, and everything
    // without a pool, is hashed here.
    if (this.pool === undefined || height !== pieceHeight(data.length)) {
      return subtreeRoot(data, height, this.scratch ?? createScratch());
    }
    const [root] = await commitPieces([data], { pool: this.pool });
    if (root === undefined) throw new StrataError("COMMIT_WORKER_FAILED", "no root for a block");
    return Uint8Array.from(Buffer.from(root.slice(2), "hex"));
  }
}

/** Root of the bytes an async source yields (a piece file, an upload). */
export async function streamRoot(
  source: AsyncIterable<Uint8Array>,
  options?: PieceHasherOptions,
): Promise<string> {
  const hasher = new PieceHasher(options);
  for await (const chunk of source) await hasher.update(chunk);
  return hasher.digest();
}
