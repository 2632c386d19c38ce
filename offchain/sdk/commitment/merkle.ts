import { createHash } from "node:crypto";
import { hash as hashChunks } from "@chainsafe/hashtree";
import { StrataError } from "../errors.js";

/** Leaf size of the piece commitment, in bytes (see docs/SPEC.md, "Proof scheme"). */
export const LEAF_SIZE = 64;

/** Number of 64-byte leaves of a piece of `size` bytes. */
export function leafCount(size: number): number {
  return Math.ceil(size / LEAF_SIZE);
}

/** Height of the tree over `count` leaves: ceil(log2(count)), 0 for one leaf. */
export function treeDepth(count: number): number {
  let depth = 0;
  while (2 ** depth < count) depth++;
  return depth;
}

/**
 * Complete binary SHA-256 Merkle tree of a piece, exactly as the StorageMarket verifies it: the piece is
 * zero-padded to 64 * 2^depth bytes, a leaf node is sha256(64-byte leaf), an inner node sha256(left || right).
 * `levels[0]` holds the leaf nodes, the last level the root.
 */
export class PieceTree {
  readonly size: number;
  readonly depth: number;
  private readonly data: Uint8Array;
  private readonly levels: Uint8Array[];

  private constructor(data: Uint8Array, levels: Uint8Array[], depth: number) {
    this.data = data;
    this.size = data.length;
    this.levels = levels;
    this.depth = depth;
  }

  /** Build the tree of `data` (which is kept by reference to open leaves). */
  static build(data: Uint8Array): PieceTree {
    if (data.length === 0) throw new StrataError("INVALID_ARGUMENT", "a piece must not be empty");
    const depth = treeDepth(leafCount(data.length));
    const padded = new Uint8Array(LEAF_SIZE * 2 ** depth);
    padded.set(data);
    // hashtree hashes consecutive 64-byte chunks in one native call: exactly one tree level.
    let level = hashChunks(padded);
    const levels: Uint8Array[] = [level];
    while (level.length > 32) {
      level = hashChunks(level);
      levels.push(level);
    }
    return new PieceTree(data, levels, depth);
  }

  /** The 32-byte root as 0x-hex. */
  get root(): string {
    const top = this.levels[this.levels.length - 1];
    if (top === undefined) throw new StrataError("INVALID_ARGUMENT", "empty tree");
    return toHex(top);
  }

  /** Number of real (unpadded) leaves. */
  get leafCount(): number {
    return leafCount(this.size);
  }

  /** The 64-byte leaf at `index` (zero-padded past the end of the piece) as two 32-byte 0x-hex words. */
  leaf(index: number): [string, string] {
    this.checkIndex(index);
    const bytes = new Uint8Array(LEAF_SIZE);
    bytes.set(this.data.subarray(index * LEAF_SIZE, Math.min(this.size, (index + 1) * LEAF_SIZE)));
    return [toHex(bytes.subarray(0, 32)), toHex(bytes.subarray(32))];
  }

  /** Sibling hashes from the bottom level up for leaf `index`. */
  path(index: number): string[] {
    this.checkIndex(index);
    return this.siblings(index);
  }

  /** Sibling hashes of any leaf position of the padded tree (unchecked). */
  private siblings(index: number): string[] {
    const siblings: string[] = [];
    let position = index;
    for (let level = 0; level < this.depth; level++) {
      const nodes = this.levels[level];
      if (nodes === undefined) throw new StrataError("INVALID_ARGUMENT", "tree level missing");
      const sibling = position ^ 1;
      siblings.push(toHex(nodes.subarray(sibling * 32, sibling * 32 + 32)));
      position >>= 1;
    }
    return siblings;
  }

  /**
   * Open any leaf of the padded tree (index < 2^depth), padding leaves included: a data set challenges every leaf of
   * a piece's aligned subtree, so the zero padding past the data must be openable too.
   */
  openPadded(index: number): { leaf: [string, string]; path: string[] } {
    if (!Number.isInteger(index) || index < 0 || index >= 2 ** this.depth) {
      throw new StrataError("LEAF_OUT_OF_RANGE", `leaf ${index} is outside 0..${2 ** this.depth - 1}`);
    }
    if (index < this.leafCount) return { leaf: this.leaf(index), path: this.path(index) };
    const zero = toHex(new Uint8Array(32));
    return { leaf: [zero, zero], path: this.siblings(index) };
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.leafCount) {
      throw new StrataError("LEAF_OUT_OF_RANGE", `leaf ${index} is outside 0..${this.leafCount - 1}`);
    }
  }
}

/** Recompute the root from a leaf and its path (what the contract does), for independent verification. */
export function rootFromPath(
  leaf: readonly [string, string],
  index: number,
  path: readonly string[],
): string {
  let node = sha256(concat(fromHex(leaf[0]), fromHex(leaf[1])));
  let position = index;
  for (const siblingHex of path) {
    const sibling = fromHex(siblingHex);
    node = position % 2 === 0 ? sha256(concat(node, sibling)) : sha256(concat(sibling, node));
    position = Math.floor(position / 2);
  }
  return toHex(node);
}

function sha256(data: Uint8Array): Uint8Array {
  return createHash("sha256").update(data).digest();
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new StrataError("INVALID_ARGUMENT", `not a hex string: ${hex.slice(0, 20)}`);
  }
  return Uint8Array.from(Buffer.from(clean, "hex"));
}
