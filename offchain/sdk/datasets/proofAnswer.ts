// One answer of a provider's proof (design §4): the challenged 64-byte leaf of a data set and exactly `c` siblings
// bottom-up against the data set's frozen root, where c is its size class (= the depth of its frozen tree). The
// provider agent builds answers from the layout of the state frozen for the period; the proof-verifier worker
// checks them as the market does.
import { StrataError } from "../errors.js";
import type { DrawnChallenge, FrozenDataSet } from "./draw.js";
import type { PlacedPiece } from "./placement.js";
import { DataSetTree, EMPTY_DATA_SET_ROOT, verifyDataSetLeaf, type PieceSiblings } from "./tree.js";

/** A 64-byte leaf as two 32-byte 0x-hex words (the market's leafLo, leafHi). */
export type LeafWords = readonly [string, string];

/** The 64 zero bytes of a leaf in a gap or in a piece's padding. */
export const ZERO_LEAF: LeafWords = [EMPTY_DATA_SET_ROOT, EMPTY_DATA_SET_ROOT];

/** Reads the piece store: the piece-internal path and the bytes of one leaf of a placed piece. */
export interface PieceReader {
  /** Bottom-up siblings inside the piece (`piece.height` of them), padding leaves included. */
  readonly siblings: PieceSiblings;
  /** The leaf's 64 bytes (zeros past the piece's data). */
  readonly leaf: (
    pieceIndex: number,
    leafInPiece: number,
    piece: PlacedPiece,
  ) => LeafWords | Promise<LeafWords>;
}

/** What the proof carries for one accepted challenge, in draw order. */
export interface ChallengeAnswer {
  readonly dataSetId: bigint;
  readonly leafIndex: bigint;
  readonly leaf: LeafWords;
  /** Exactly `sizeClass` siblings, bottom-up. */
  readonly path: readonly string[];
}

/** What an answer needs of a challenge: the data set, the leaf and the depth of the frozen tree. */
export type ChallengeTarget = Pick<DrawnChallenge, "dataSetId" | "leaf" | "sizeClass">;

/**
 * Answer `challenge` from `tree`, the data-set tree of the state frozen for the period (not a newer one: its root
 * must equal the frozen root). Throws INVALID_ARGUMENT when the tree's depth is not the challenge's class.
 */
export async function answerChallenge(
  tree: DataSetTree,
  challenge: ChallengeTarget,
  reader: PieceReader,
): Promise<ChallengeAnswer> {
  if (tree.depth !== challenge.sizeClass) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `the tree of data set ${challenge.dataSetId} is not the frozen one`,
      {
        details: `depth ${tree.depth}, class ${challenge.sizeClass}`,
      },
    );
  }
  const opened = await tree.leafPath(Number(challenge.leaf), reader.siblings);
  const piece = tree.layout.pieces[opened.pieceIndex];
  const leaf =
    piece === undefined ? ZERO_LEAF : await reader.leaf(opened.pieceIndex, opened.leafInPiece, piece);
  return { dataSetId: challenge.dataSetId, leafIndex: challenge.leaf, leaf, path: opened.path };
}

/**
 * Check an answer as the market does: it names the challenged data set and leaf, the leaf is inside the frozen span,
 * and leaf + path (exactly `sizeClass` siblings) recompute the frozen root.
 */
export function verifyChallengeAnswer(
  challenge: ChallengeTarget,
  frozen: FrozenDataSet,
  answer: ChallengeAnswer,
): boolean {
  if (answer.dataSetId !== challenge.dataSetId || answer.leafIndex !== challenge.leaf) return false;
  if (challenge.leaf >= frozen.span) return false;
  return verifyDataSetLeaf(
    frozen.root,
    challenge.sizeClass,
    Number(challenge.leaf),
    answer.leaf,
    answer.path,
  );
}
