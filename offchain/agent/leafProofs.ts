/**
 * Merkle proofs of single leaves without holding a piece in memory. Proofs for the HTTP proof route and for
 * on-chain retrieval challenges touch one leaf each, at random: building the whole tree for each (the piece
 * plus its hash levels: 512 MiB for a 256 MiB piece, too big for the tree cache's default budget) would let
 * anyone asking for proofs exhaust the agent's memory.
 *
 * Instead the piece is split into aligned blocks of 2^10 leaves (64 KiB). Once per piece the file is streamed
 * and hashed into the "top" of its tree: the root of every block and the levels above, 64 bytes per block
 * (256 KiB for a 256 MiB piece), kept in a small LRU. A proof then reads only the leaf's block, hashes it,
 * checks that the block still hashes to the stored block root, and joins the block's siblings with the top's.
 * The result is exactly what PieceTree gives (same zero padding, same complete binary tree).
 */
import { open, type FileHandle } from "node:fs/promises";
import { hash as hashChunks } from "@chainsafe/hashtree";
import { LEAF_SIZE, leafCount, toHex, treeDepth } from "../sdk/commitment/merkle.js";
import { StrataError } from "../sdk/errors.js";

/** log2 of the leaves per block: one proof reads 64 * 2^10 bytes = 64 KiB of the piece. */
export const BLOCK_DEPTH = 10;
/** Blocks hashed per read while computing a top (1 MiB reads). */
const BLOCKS_PER_READ = 16;
const NODE = 32;

/** A leaf and its authentication path, as the contracts take them (0x-hex words). */
export interface LeafProof {
  leaf: [string, string];
  /** Sibling hashes, bottom up. */
  path: string[];
}

/** The upper part of a piece's tree: block roots and the levels above them. */
interface PieceTop {
  size: number;
  depth: number;
  /** Tree levels inside a block (min(BLOCK_DEPTH, depth)). */
  blockDepth: number;
  /** levels[0]: block roots (tree level blockDepth); the last level holds the root. */
  levels: Uint8Array[];
  bytes: number;
}

export class LeafProver {
  private readonly tops = new Map<string, PieceTop>();
  private readonly building = new Map<string, Promise<PieceTop>>();
  private bytes = 0;

  /**
   * @param pathOf where the piece `root` is on disk
   * @param maxTopBytes memory budget of the cached tops (least recently used dropped first)
   */
  constructor(
    private readonly pathOf: (root: string) => string,
    private readonly maxTopBytes: number = 32 * 1024 * 1024,
  ) {}

  /**
   * Leaf `index` of the piece `root` of `size` bytes with its path. Throws LEAF_OUT_OF_RANGE, PIECE_NOT_FOUND
   * (no file) or PIECE_CORRUPT (wrong size, or bytes that no longer hash to `root`).
   */
  async proof(
    root: string,
    size: bigint,
    index: number,
    options: { padded?: boolean } = {},
  ): Promise<LeafProof> {
    const key = root.toLowerCase();
    // With `padded`, any leaf of the padded tree opens (the zero padding past the data included).
    const leaves =
      options.padded === true ? 2 ** treeDepth(leafCount(Number(size))) : leafCount(Number(size));
    if (!Number.isSafeInteger(index) || index < 0 || index >= leaves) {
      throw new StrataError("LEAF_OUT_OF_RANGE", `leaf ${index} is outside 0..${leaves - 1}`);
    }
    const top = await this.top(key, Number(size));
    const blockLeaves = 2 ** top.blockDepth;
    const blockIndex = Math.floor(index / blockLeaves);
    const within = index % blockLeaves;
    const block = await readBlock(this.pathOf(key), top, blockIndex);
    const levels = hashLevels(block, top.blockDepth);
    const blockRoot = levels[top.blockDepth];
    const expected = top.levels[0]?.subarray(blockIndex * NODE, blockIndex * NODE + NODE);
    if (blockRoot === undefined || expected === undefined || Buffer.compare(blockRoot, expected) !== 0) {
      this.forget(key);
      throw new StrataError("PIECE_CORRUPT", `piece ${key} changed on disk (block ${blockIndex})`);
    }
    const path: string[] = [];
    for (let level = 0; level < top.blockDepth; level++) {
      path.push(sibling(levels[level], within >> level));
    }
    for (let level = top.blockDepth; level < top.depth; level++) {
      path.push(sibling(top.levels[level - top.blockDepth], Math.floor(index / 2 ** level)));
    }
    const leaf = block.subarray(within * LEAF_SIZE, within * LEAF_SIZE + LEAF_SIZE);
    return { leaf: [toHex(leaf.subarray(0, NODE)), toHex(leaf.subarray(NODE))], path };
  }

  /** Drop what is known of `root` (the piece was deleted or found damaged). */
  forget(root: string): void {
    const key = root.toLowerCase();
    const top = this.tops.get(key);
    if (!top) return;
    this.tops.delete(key);
    this.bytes -= top.bytes;
  }

  get cachedTops(): number {
    return this.tops.size;
  }

  /** The piece's top, from the cache or computed once however many proofs ask for it at the same time. */
  private async top(root: string, size: number): Promise<PieceTop> {
    const cached = this.tops.get(root);
    if (cached?.size === size) {
      this.tops.delete(root);
      this.tops.set(root, cached);
      return cached;
    }
    let pending = this.building.get(root);
    if (!pending) {
      pending = computeTop(this.pathOf(root), root, size).finally(() => this.building.delete(root));
      this.building.set(root, pending);
    }
    const top = await pending;
    if (top.size !== size) return computeTop(this.pathOf(root), root, size);
    this.remember(root, top);
    return top;
  }

  private remember(root: string, top: PieceTop): void {
    if (this.tops.get(root) === top) return;
    this.forget(root);
    if (top.bytes > this.maxTopBytes) return;
    this.tops.set(root, top);
    this.bytes += top.bytes;
    for (const [oldest, entry] of this.tops) {
      if (this.bytes <= this.maxTopBytes) break;
      this.tops.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }
}

/** Stream the piece file once and hash it into its top; checks the size and that it hashes to `root`. */
async function computeTop(path: string, root: string, size: number): Promise<PieceTop> {
  const depth = treeDepth(leafCount(size));
  const blockDepth = Math.min(BLOCK_DEPTH, depth);
  const blockBytes = LEAF_SIZE * 2 ** blockDepth;
  const blocks = 2 ** (depth - blockDepth);
  const blockRoots = new Uint8Array(NODE * blocks);
  const file = await openPiece(path, root, size);
  try {
    const readBlocks = Math.min(BLOCKS_PER_READ, blocks);
    const buffer = Buffer.alloc(blockBytes * readBlocks);
    let offset = 0;
    let block = 0;
    while (offset < size) {
      const length = Math.min(buffer.length, size - offset);
      if (length < buffer.length) buffer.fill(0);
      await readExactly(file, buffer, length, offset, root);
      // Aligned blocks laid side by side hash level by level into their roots, in order.
      const filled = Math.ceil(length / blockBytes);
      const roots = hashLevels(buffer.subarray(0, filled * blockBytes), blockDepth)[blockDepth];
      if (roots === undefined) throw new StrataError("PIECE_CORRUPT", `cannot hash piece ${root}`);
      blockRoots.set(roots, block * NODE);
      block += filled;
      offset += length;
    }
    if (block < blocks) {
      const zeroRoot = hashLevels(new Uint8Array(blockBytes), blockDepth)[blockDepth];
      if (zeroRoot === undefined) throw new StrataError("PIECE_CORRUPT", `cannot hash piece ${root}`);
      for (; block < blocks; block++) blockRoots.set(zeroRoot, block * NODE);
    }
  } finally {
    await file.close();
  }
  const levels: Uint8Array[] = [blockRoots];
  let level: Uint8Array = blockRoots;
  while (level.length > NODE) {
    level = hashChunks(level);
    levels.push(level);
  }
  if (toHex(level) !== root) {
    throw new StrataError("PIECE_CORRUPT", `piece ${root} on disk hashes to ${toHex(level)}`);
  }
  const bytes = levels.reduce((sum, l) => sum + l.length, 0);
  return { size, depth, blockDepth, levels, bytes };
}

/** Block `blockIndex` of the piece, zero-padded to the block size. */
async function readBlock(path: string, top: PieceTop, blockIndex: number): Promise<Uint8Array> {
  const blockBytes = LEAF_SIZE * 2 ** top.blockDepth;
  const offset = blockIndex * blockBytes;
  const buffer = Buffer.alloc(blockBytes);
  const length = Math.max(0, Math.min(blockBytes, top.size - offset));
  const file = await openPiece(path, `at ${path}`, top.size);
  try {
    if (length > 0) await readExactly(file, buffer, length, offset, path);
  } finally {
    await file.close();
  }
  return buffer;
}

/** Open the piece file, which must be exactly `size` bytes. */
async function openPiece(path: string, root: string, size: number): Promise<FileHandle> {
  let file: FileHandle;
  try {
    file = await open(path, "r");
  } catch (cause) {
    throw new StrataError("PIECE_NOT_FOUND", `piece ${root} is not on disk`, { cause });
  }
  const onDisk = (await file.stat()).size;
  if (onDisk !== size) {
    await file.close();
    throw new StrataError("PIECE_CORRUPT", `piece ${root} has ${onDisk} bytes on disk, expected ${size}`);
  }
  return file;
}

async function readExactly(
  file: FileHandle,
  buffer: Uint8Array,
  length: number,
  position: number,
  root: string,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) throw new StrataError("PIECE_CORRUPT", `piece ${root} is shorter than expected`);
    done += bytesRead;
  }
}

/** levels[0]: leaf nodes of `data` (64-byte leaves); each next level hashes pairs; `depth` levels above. */
function hashLevels(data: Uint8Array, depth: number): Uint8Array[] {
  let level = hashChunks(data);
  const levels = [level];
  for (let i = 0; i < depth; i++) {
    level = hashChunks(level);
    levels.push(level);
  }
  return levels;
}

function sibling(level: Uint8Array | undefined, position: number): string {
  if (level === undefined) throw new StrataError("PIECE_CORRUPT", "tree level missing");
  const at = (position ^ 1) * NODE;
  return toHex(level.subarray(at, at + NODE));
}
