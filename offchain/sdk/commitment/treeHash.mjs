// Piece-root hashing shared by the main thread (offchain/sdk/commitment/parallel.ts) and the commitment worker
// (commitWorker.mjs). Plain JavaScript on purpose: a worker_threads entry must load without a TypeScript loader,
// whether the process runs under tsx (the CLI), Hardhat's test runner or plain node. Types: treeHash.d.mts.
//
// The tree is the one of docs/SPEC.md §7.1 (and PieceTree): 64-byte leaves, leaf node = sha256(leaf), inner node =
// sha256(left || right), the piece zero-padded to 64 * 2^depth bytes. Padding is never hashed here: a subtree made
// only of zero leaves has a fixed root (ZERO_NODES[height]), so the cost is proportional to the real data only.
import { createHash } from "node:crypto";
import { hash as hashLevel, hashInto } from "@chainsafe/hashtree";

/** Leaf size in bytes. */
export const LEAF_BYTES = 64;

/** Leaves hashed per native call sequence; 2^10 leaves = 64 KiB of data, whose levels stay in L2 cache. */
const BLOCK_HEIGHT = 10;

/** Deepest tree supported: 2^48 leaves (16 PiB), far beyond any piece a deal can hold (uint64 size). */
export const MAX_HEIGHT = 48;

function sha256(bytes) {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/** ZERO_NODES[h] is the root of a subtree of height h whose 2^h leaves are all zero bytes. */
export const ZERO_NODES = (() => {
  const nodes = [sha256(new Uint8Array(LEAF_BYTES))];
  for (let h = 1; h <= MAX_HEIGHT; h++) {
    const pair = new Uint8Array(64);
    pair.set(nodes[h - 1], 0);
    pair.set(nodes[h - 1], 32);
    nodes.push(sha256(pair));
  }
  return nodes;
})();

/** Height of the tree over a piece of `size` bytes: ceil(log2(ceil(size / 64))), 0 for a single leaf. */
export function pieceHeight(size) {
  const leaves = Math.ceil(size / LEAF_BYTES);
  let height = 0;
  while (2 ** height < leaves) height++;
  return height;
}

/**
 * Root of `count` consecutive nodes (32 bytes each, in `nodes`) sitting at level `fromHeight`, lifted to level
 * `toHeight` with zero subtrees on the right. `nodes` is consumed (used as scratch).
 */
export function liftNodes(nodes, count, fromHeight, toHeight) {
  let level = nodes.subarray(0, count * 32);
  let height = fromHeight;
  while (height < toHeight) {
    let width = level.length / 32;
    if (width % 2 === 1) {
      const padded = new Uint8Array((width + 1) * 32);
      padded.set(level);
      padded.set(ZERO_NODES[height], width * 32);
      level = padded;
      width++;
    }
    level = hashLevel(level);
    height++;
  }
  if (level.length !== 32)
    throw new RangeError(`${count} nodes do not fit under height ${toHeight - fromHeight}`);
  return level;
}

/** Scratch space for subtreeRoot: one block of data plus its first two levels. */
export function createScratch() {
  const blockBytes = LEAF_BYTES << BLOCK_HEIGHT;
  return { block: new Uint8Array(blockBytes), levels: new Uint8Array(blockBytes / 2 + blockBytes / 4) };
}

/** Root of one full block (2^blockHeight leaves, `block.length` = 64 << blockHeight) into `out` (32 bytes). */
function blockRoot(block, scratch, out) {
  let current = scratch.levels.subarray(0, block.length / 2);
  hashInto(block, current);
  let spare = scratch.levels.subarray(block.length / 2);
  while (current.length > 32) {
    const next = spare.subarray(0, current.length / 2);
    hashInto(current, next);
    spare = current;
    current = next;
  }
  out.set(current);
}

/**
 * Root of the subtree of height `height` whose leaves are `data` followed by zero bytes
 * (data.length <= 64 * 2^height, data.length > 0). With height = pieceHeight(piece.length) this is the piece root.
 */
export function subtreeRoot(data, height, scratch = createScratch()) {
  if (!(data.length > 0)) throw new RangeError("cannot hash an empty piece");
  if (
    !Number.isInteger(height) ||
    height < 0 ||
    height > MAX_HEIGHT ||
    data.length > LEAF_BYTES * 2 ** height
  ) {
    throw new RangeError(`${data.length} bytes do not fit in a subtree of height ${height}`);
  }
  const blockHeight = Math.min(height, BLOCK_HEIGHT);
  const blockBytes = LEAF_BYTES << blockHeight;
  const blocks = Math.ceil(data.length / blockBytes);
  const roots = new Uint8Array(blocks * 32);
  const fullBlocks = Math.floor(data.length / blockBytes);
  for (let b = 0; b < fullBlocks; b++) {
    blockRoot(
      data.subarray(b * blockBytes, (b + 1) * blockBytes),
      scratch,
      roots.subarray(b * 32, b * 32 + 32),
    );
  }
  if (fullBlocks < blocks) {
    // The last block is partial: zero-fill it, exactly the padding the tree definition prescribes.
    const block = scratch.block.subarray(0, blockBytes);
    block.fill(0);
    block.set(data.subarray(fullBlocks * blockBytes));
    blockRoot(block, scratch, roots.subarray(fullBlocks * 32));
  }
  return liftNodes(roots, blocks, blockHeight, height);
}
