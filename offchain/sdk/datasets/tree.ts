// The data-set Merkle tree (docs/SPEC.md, "Data sets"; design §1), computed from piece roots alone. The tree is
// the one MerkleSha256 verifies: 64-byte leaves, leaf node = sha256(leaf), inner node = sha256(left || right),
// unused leaves are 64 zero bytes. Each piece is an aligned subtree, so its piece root is an interior node and
// the upper tree needs only the piece roots and the zero-subtree hashes: no piece bytes are read here.
import { createHash } from "node:crypto";
import { fromHex, rootFromPath, toHex } from "../commitment/merkle.js";
import { ZERO_NODES } from "../commitment/treeHash.mjs";
import { StrataError } from "../errors.js";
import {
  layoutSpan,
  MAX_DATA_SET_HEIGHT,
  pieceAt,
  validateLayout,
  type DataSetLayout,
  type PlacedPiece,
} from "./placement.js";

/** The root of an empty data set (span 0): bytes32(0). */
export const EMPTY_DATA_SET_ROOT = "0x" + "00".repeat(32);

/** `ZERO_SUBTREE_ROOTS[h]` (0x-hex) is the root of 2^h zero leaves: z0 = sha256(64 zero bytes), z(h+1) = sha256(zh || zh). */
export const ZERO_SUBTREE_ROOTS: readonly string[] = ZERO_NODES.slice(0, MAX_DATA_SET_HEIGHT + 1).map(
  (node) => toHex(node),
);

/** Depth of the data-set tree for `span` leaves: D = ceil(log2(span)), 0 for span 1 (and for the empty set). */
export function dataSetDepth(span: number | bigint): number {
  const leaves = BigInt(span);
  if (leaves < 0n) throw new StrataError("INVALID_ARGUMENT", `span must not be negative, got ${leaves}`);
  let depth = 0;
  while (1n << BigInt(depth) < leaves) depth++;
  return depth;
}

/** Supplies a piece's internal path (bottom-up siblings, `piece.height` of them) for leaf `leafInPiece`. */
export type PieceSiblings = (
  pieceIndex: number,
  leafInPiece: number,
  piece: PlacedPiece,
) => readonly string[] | Promise<readonly string[]>;

/** Inclusion path of one data-set leaf. */
export interface DataSetLeafPath {
  /** The data-set leaf index. */
  readonly leaf: number;
  /** Index in `layout.pieces` of the piece holding the leaf, or -1 when the leaf is in a gap (its bytes are zero). */
  readonly pieceIndex: number;
  /** Leaf index inside that piece (-1 in a gap). */
  readonly leafInPiece: number;
  /** Sibling hashes bottom-up, exactly `depth` of them: the piece-internal path, then the upper path. */
  readonly path: readonly string[];
}

/**
 * The upper tree of a data set: every node whose subtree holds at least one whole piece, from the pieces' roots
 * up to the data-set root. Memory is O(pieces x depth); build once per (layout) and reuse for many paths.
 */
export class DataSetTree {
  /** The layout the tree was built from. */
  readonly layout: DataSetLayout;
  /** Leaves covered: the end of the last piece. */
  readonly span: number;
  /** D = ceil(log2(span)). */
  readonly depth: number;
  /** levels[h] maps a node index at height h to its hash; absent nodes are zero subtrees (or inside a piece). */
  private readonly levels: Map<number, Uint8Array>[];

  private constructor(layout: DataSetLayout, span: number, depth: number, levels: Map<number, Uint8Array>[]) {
    this.layout = layout;
    this.span = span;
    this.depth = depth;
    this.levels = levels;
  }

  /** Build the upper tree of `layout` (validated: aligned, sorted, non-overlapping). */
  static build(layout: DataSetLayout): DataSetTree {
    validateLayout(layout);
    const span = layoutSpan(layout);
    const depth = dataSetDepth(span);
    const levels: Map<number, Uint8Array>[] = Array.from(
      { length: depth + 1 },
      () => new Map<number, Uint8Array>(),
    );
    for (const piece of layout.pieces) {
      const root = fromHex(piece.root);
      if (root.length !== 32)
        throw new StrataError("INVALID_ARGUMENT", `piece root is not 32 bytes: ${piece.root}`);
      levelAt(levels, piece.height).set(piece.offset / 2 ** piece.height, root);
    }
    for (let height = 0; height < depth; height++) {
      const nodes = levelAt(levels, height);
      const parents = levelAt(levels, height + 1);
      const zero = zeroNode(height);
      for (const index of nodes.keys()) {
        const parent = Math.floor(index / 2);
        if (parents.has(parent)) continue;
        const left = nodes.get(parent * 2) ?? zero;
        const right = nodes.get(parent * 2 + 1) ?? zero;
        parents.set(parent, sha256Pair(left, right));
      }
    }
    return new DataSetTree(layout, span, depth, levels);
  }

  /** The data-set root (0x-hex); bytes32(0) for an empty data set, as the market stores it. */
  get root(): string {
    if (this.span === 0) return EMPTY_DATA_SET_ROOT;
    return toHex(this.node(this.depth, 0));
  }

  /** Siblings from piece `pieceIndex`'s root up to the data-set root (depth − piece height of them). */
  upperPath(pieceIndex: number): string[] {
    const piece = this.layout.pieces[pieceIndex];
    if (piece === undefined)
      throw new StrataError("INVALID_ARGUMENT", `no piece ${pieceIndex} in the layout`);
    return this.siblings(piece.offset / 2 ** piece.height, piece.height);
  }

  /**
   * Full inclusion path of data-set leaf `leaf` (< span): the piece-internal path from `pieceSiblings` (which reads
   * the piece tree, e.g. from disk), then the upper path. A leaf in a gap gets a path of zero subtrees and
   * neighbouring nodes; its leaf bytes are 64 zeros.
   */
  async leafPath(leaf: number, pieceSiblings: PieceSiblings): Promise<DataSetLeafPath> {
    if (!Number.isSafeInteger(leaf) || leaf < 0 || leaf >= this.span) {
      throw new StrataError("LEAF_OUT_OF_RANGE", `leaf ${leaf} is outside the span 0..${this.span - 1}`);
    }
    const pieceIndex = pieceAt(this.layout, leaf);
    const piece = this.layout.pieces[pieceIndex];
    if (piece === undefined) {
      return { leaf, pieceIndex: -1, leafInPiece: -1, path: this.siblings(leaf, 0) };
    }
    const leafInPiece = leaf - piece.offset;
    const inner = await pieceSiblings(pieceIndex, leafInPiece, piece);
    if (inner.length !== piece.height) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `piece path has ${inner.length} siblings, the piece height is ${piece.height}`,
      );
    }
    return { leaf, pieceIndex, leafInPiece, path: [...inner, ...this.upperPath(pieceIndex)] };
  }

  /** Siblings of node `index` at `fromHeight` up to the root. */
  private siblings(index: number, fromHeight: number): string[] {
    const out: string[] = [];
    let position = index;
    for (let height = fromHeight; height < this.depth; height++) {
      out.push(toHex(this.node(height, position % 2 === 0 ? position + 1 : position - 1)));
      position = Math.floor(position / 2);
    }
    return out;
  }

  private node(height: number, index: number): Uint8Array {
    return this.levels[height]?.get(index) ?? zeroNode(height);
  }
}

/** The data-set root of `layout` (convenience for `DataSetTree.build(layout).root`). */
export function dataSetRoot(layout: DataSetLayout): string {
  return DataSetTree.build(layout).root;
}

/**
 * Verify a data-set leaf against `root` exactly as the market does (MerkleSha256): the path length MUST equal
 * `depth`, the leaf index must lie within 2^depth, and the recomputed root must equal `root`.
 */
export function verifyDataSetLeaf(
  root: string,
  depth: number,
  leafIndex: number,
  leaf: readonly [string, string],
  path: readonly string[],
): boolean {
  if (path.length !== depth) return false;
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= 2 ** depth) return false;
  return rootFromPath(leaf, leafIndex, path).toLowerCase() === root.toLowerCase();
}

function levelAt(levels: Map<number, Uint8Array>[], height: number): Map<number, Uint8Array> {
  const level = levels[height];
  if (level === undefined)
    throw new StrataError("INVALID_ARGUMENT", `a piece of height ${height} is above the tree`);
  return level;
}

function zeroNode(height: number): Uint8Array {
  const node = ZERO_NODES[height];
  if (node === undefined) throw new StrataError("INVALID_ARGUMENT", `no zero subtree of height ${height}`);
  return node;
}

function sha256Pair(left: Uint8Array, right: Uint8Array): Uint8Array {
  return createHash("sha256").update(left).update(right).digest();
}
