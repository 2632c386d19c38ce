/** Types of treeHash.mjs (plain JavaScript so that worker threads load it without a TypeScript loader). */

/** Leaf size in bytes. */
export declare const LEAF_BYTES: number;
/** Deepest supported tree height. */
export declare const MAX_HEIGHT: number;
/** ZERO_NODES[h] is the root of a subtree of height h whose leaves are all zero bytes. */
export declare const ZERO_NODES: readonly Uint8Array[];

/** Reusable scratch buffers for subtreeRoot (one per thread). */
export interface TreeScratch {
  readonly block: Uint8Array;
  readonly levels: Uint8Array;
}

/** Height of the tree over a piece of `size` bytes. */
export declare function pieceHeight(size: number): number;
/** Lift `count` 32-byte nodes at `fromHeight` to one root at `toHeight`, padding with zero subtrees. */
export declare function liftNodes(
  nodes: Uint8Array,
  count: number,
  fromHeight: number,
  toHeight: number,
): Uint8Array;
/** Allocate scratch buffers for subtreeRoot. */
export declare function createScratch(): TreeScratch;
/** Root of the height-`height` subtree whose leaves are `data` then zero bytes. */
export declare function subtreeRoot(data: Uint8Array, height: number, scratch?: TreeScratch): Uint8Array;
