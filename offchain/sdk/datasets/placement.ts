// Where pieces sit in a data set's leaf space (docs/SPEC.md, "Data sets"; design §1). Placement is the client's
// business: only (root, span) go on chain. The rule here is deterministic so that a client, its provider and a
// repairer rebuild the same layout from the same sequence of additions and removals.
import { StrataError } from "../errors.js";
import { leafCount, treeDepth } from "../commitment/merkle.js";

/** Deepest data-set tree: 2^47 leaves (8 PiB), the largest size class (c in 0..47); offsets stay exact numbers. */
export const MAX_DATA_SET_HEIGHT = 47;

/** A piece placed as an aligned subtree: `2^height` leaves starting at `offset`, a multiple of `2^height`. */
export interface PlacedPiece {
  /** Piece root (0x-hex, 32 bytes): the root of the piece's own tree (docs/SPEC.md §7.1). */
  readonly root: string;
  /** Height of the piece tree: the piece covers 2^height leaves of 64 bytes. */
  readonly height: number;
  /** First leaf of the piece in the data set, a multiple of 2^height. */
  readonly offset: number;
}

/** The pieces of one data set, sorted by offset, never overlapping. */
export interface DataSetLayout {
  readonly pieces: readonly PlacedPiece[];
}

/** How `placePiece` chooses an offset. */
export interface PlacementOptions {
  /**
   * Reuse freed ranges: take the lowest aligned free range inside the span that fits (first fit, deterministic).
   * Default false: always append at `roundUp(span, 2^height)`.
   */
  readonly reuseFreed?: boolean;
}

/** The empty layout (span 0). */
export const EMPTY_LAYOUT: DataSetLayout = { pieces: [] };

/** Height of the tree of a piece of `sizeBytes` bytes: ceil(log2(ceil(size / 64))), 0 for one leaf. */
export function pieceHeight(sizeBytes: number): number {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
    throw new StrataError("INVALID_ARGUMENT", `a piece size must be a positive integer, got ${sizeBytes}`);
  }
  return treeDepth(leafCount(sizeBytes));
}

/** The span of a layout: the end of its last used leaf range (0 when empty). */
export function layoutSpan(layout: DataSetLayout): number {
  const last = layout.pieces[layout.pieces.length - 1];
  return last === undefined ? 0 : last.offset + 2 ** last.height;
}

/** `value` rounded up to a multiple of `2^height`. */
export function roundUpToAlignment(value: number, height: number): number {
  const unit = 2 ** height;
  return Math.ceil(value / unit) * unit;
}

/**
 * Place a piece of `2^height` leaves: append at `roundUp(span, 2^height)`, or with `reuseFreed` the lowest aligned
 * gap that fits. Returns the new layout and the placed piece; the input layout is not modified.
 */
export function placePiece(
  layout: DataSetLayout,
  root: string,
  height: number,
  options: PlacementOptions = {},
): { layout: DataSetLayout; piece: PlacedPiece } {
  checkHeight(height);
  const size = 2 ** height;
  let offset: number | undefined;
  let insertAt = layout.pieces.length;
  if (options.reuseFreed === true) {
    let gapStart = 0;
    for (const [index, piece] of layout.pieces.entries()) {
      const candidate = roundUpToAlignment(gapStart, height);
      if (candidate + size <= piece.offset) {
        offset = candidate;
        insertAt = index;
        break;
      }
      gapStart = piece.offset + 2 ** piece.height;
    }
  }
  offset ??= roundUpToAlignment(layoutSpan(layout), height);
  if (offset + size > 2 ** MAX_DATA_SET_HEIGHT) {
    throw new StrataError("INVALID_ARGUMENT", "the data set would exceed 2^47 leaves", {
      details: `offset ${offset}, piece of 2^${height} leaves`,
    });
  }
  const piece: PlacedPiece = { root, height, offset };
  const pieces = [...layout.pieces];
  pieces.splice(insertAt, 0, piece);
  return { layout: { pieces }, piece };
}

/**
 * Remove the piece at `offset`: its subtree becomes zeros. The span shrinks only when the removed piece was the
 * last one (the new span is the end of the remaining last piece).
 */
export function removePiece(layout: DataSetLayout, offset: number): DataSetLayout {
  const index = layout.pieces.findIndex((piece) => piece.offset === offset);
  if (index < 0) throw new StrataError("INVALID_ARGUMENT", `no piece starts at leaf ${offset}`);
  return { pieces: layout.pieces.filter((_, at) => at !== index) };
}

/**
 * Check a layout received from elsewhere (a database, a peer): sorted, aligned, non-overlapping, within bounds.
 * Returns it unchanged, throws INVALID_ARGUMENT otherwise.
 */
export function validateLayout(layout: DataSetLayout): DataSetLayout {
  let end = 0;
  for (const piece of layout.pieces) {
    checkHeight(piece.height);
    if (!Number.isSafeInteger(piece.offset) || piece.offset < 0 || piece.offset % 2 ** piece.height !== 0) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `piece at ${piece.offset} is not aligned to 2^${piece.height}`,
      );
    }
    if (piece.offset < end) {
      throw new StrataError("INVALID_ARGUMENT", `piece at ${piece.offset} overlaps the previous piece`);
    }
    end = piece.offset + 2 ** piece.height;
  }
  if (end > 2 ** MAX_DATA_SET_HEIGHT) throw new StrataError("INVALID_ARGUMENT", "layout exceeds 2^47 leaves");
  return layout;
}

/** Index (in `layout.pieces`) of the piece holding data-set leaf `leaf`, or -1 when the leaf is in a gap. */
export function pieceAt(layout: DataSetLayout, leaf: number): number {
  let low = 0;
  let high = layout.pieces.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const piece = layout.pieces[middle];
    if (piece === undefined) break;
    if (leaf < piece.offset) high = middle - 1;
    else if (leaf >= piece.offset + 2 ** piece.height) low = middle + 1;
    else return middle;
  }
  return -1;
}

function checkHeight(height: number): void {
  if (!Number.isInteger(height) || height < 0 || height > MAX_DATA_SET_HEIGHT) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `piece height must be in 0..${MAX_DATA_SET_HEIGHT}, got ${height}`,
    );
  }
}
