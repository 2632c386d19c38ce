// Rebuilding a lost piece of a file (docs/SPEC.md §16): from any k of the file's other pieces, by erasure decoding
// alone. Pieces are ciphertext shards, so a repairer needs no key and learns nothing of the file. Every piece used
// and the rebuilt one are checked against their commitments, so a corrupt source can never produce a piece
// whose commitment differs from the lost one's (which the repair contracts would refuse anyway).
import { pieceRoot } from "../commitment/parallel.js";
import { reconstruct } from "../data/erasure.js";
import { StrataError } from "../errors.js";

/** What rebuilding one piece needs. */
export interface RebuildRequest {
  /** The piece to rebuild (0..k+m-1). */
  index: number;
  /** Data pieces k and parity pieces m of the file. */
  k: number;
  m: number;
  /** Size of every piece in bytes. */
  pieceSize: number;
  /** The commitment of every piece, in order (the manifest's, or the piece list's). */
  pieceRoots: readonly string[];
  /** The pieces fetched so far (`null` = not available); at least k besides `index`. */
  pieces: readonly (Uint8Array | null)[];
}

/**
 * The lost piece `index`, rebuilt from the others. A fetched piece whose commitment is wrong is dropped (as if
 * missing) before decoding; fewer than k good pieces throw NOT_ENOUGH_PIECES; a rebuilt piece whose commitment
 * is not the expected one throws PIECE_CORRUPT.
 */
export async function rebuildPiece(request: RebuildRequest): Promise<Uint8Array> {
  const { index, k, m, pieceSize, pieceRoots, pieces } = request;
  const n = k + m;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new StrataError("INVALID_ARGUMENT", `piece ${index} is not in a ${k}-of-${n} file`);
  }
  if (pieceRoots.length !== n || pieces.length !== n) {
    throw new StrataError("INVALID_ARGUMENT", `expected ${n} piece roots and slots`);
  }
  const good: (Uint8Array | null)[] = pieces.map((piece, i) => {
    if (i === index || piece === null) return null;
    if (piece.length !== pieceSize) return null;
    return pieceRoot(piece) === pieceRoots[i] ? piece : null;
  });
  const available = good.filter((p) => p !== null).length;
  if (available < k) {
    throw new StrataError(
      "NOT_ENOUGH_PIECES",
      `${available} good pieces of the ${k} needed to rebuild piece ${index}`,
    );
  }
  const all = await reconstruct(good, k, m, pieceSize);
  const rebuilt = all[index];
  if (rebuilt === undefined || pieceRoot(rebuilt) !== pieceRoots[index]) {
    throw new StrataError("PIECE_CORRUPT", `rebuilt piece ${index} does not match its commitment`);
  }
  return rebuilt;
}
