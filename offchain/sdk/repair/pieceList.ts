import { AbiCoder, concat, getBytes, keccak256 } from "ethers";
import { StrataError } from "../errors.js";

/** One piece of a file as a repair mandate or a permanent file names it (docs/SPEC.md §16). */
export interface ListedPiece {
  /** Position in the file (0..n-1). */
  index: number;
  /** The piece commitment: SHA-256 root of the piece as an aligned subtree of 64-byte leaves. */
  pieceRoot: string;
  /** Span in 64-byte leaves. */
  span: bigint;
  /** The data set first holding the piece (0 when none yet, as for a permanent file). */
  dataSetId: bigint;
}

const coder = AbiCoder.defaultAbiCoder();

/** The list leaf of `piece`: double keccak of its ABI encoding, as `DurabilityRules.pieceLeaf` computes it. */
export function pieceLeaf(piece: ListedPiece): string {
  const inner = keccak256(
    coder.encode(
      ["uint32", "bytes32", "uint64", "uint64"],
      [piece.index, piece.pieceRoot, piece.span, piece.dataSetId],
    ),
  );
  return keccak256(inner);
}

function hashPair(a: string, b: string): string {
  // OpenZeppelin's MerkleProof hashes each pair in sorted order.
  return BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/**
 * The Merkle tree over a file's piece leaves that `MerkleProof.verifyCalldata` checks: pairs hashed in sorted
 * order, an odd node carried up unchanged.
 */
export class PieceList {
  private readonly levels: string[][];

  constructor(readonly pieces: readonly ListedPiece[]) {
    if (pieces.length === 0)
      throw new StrataError("INVALID_ARGUMENT", "a piece list needs at least one piece");
    pieces.forEach((p, i) => {
      if (p.index !== i) throw new StrataError("INVALID_ARGUMENT", `piece ${i} has index ${p.index}`);
      if (getBytes(p.pieceRoot).length !== 32)
        throw new StrataError("INVALID_ARGUMENT", "a piece root is 32 bytes");
    });
    const levels: string[][] = [pieces.map(pieceLeaf)];
    for (let level = levels[0] ?? []; level.length > 1;) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += 2) {
        const a = level[i];
        const b = level[i + 1];
        if (a !== undefined) next.push(b === undefined ? a : hashPair(a, b));
      }
      levels.push(next);
      level = next;
    }
    this.levels = levels;
  }

  /** The root signed into a mandate or a permanent file. */
  get root(): string {
    const top = this.levels[this.levels.length - 1];
    const root = top?.[0];
    if (root === undefined) throw new StrataError("INTERNAL_INVARIANT", "empty piece list");
    return root;
  }

  /** The proof of piece `index`, bottom up. */
  proof(index: number): string[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieces.length) {
      throw new StrataError("INVALID_ARGUMENT", `no piece ${index}`);
    }
    const out: string[] = [];
    let i = index;
    for (const level of this.levels.slice(0, -1)) {
      const sibling = level[i ^ 1];
      if (sibling !== undefined) out.push(sibling);
      i >>= 1;
    }
    return out;
  }
}

/** Whether `proof` proves `leaf` under `root` (OpenZeppelin's MerkleProof: pairs hashed in sorted order). */
export function verifyPieceProof(leaf: string, proof: readonly string[], root: string): boolean {
  let node = leaf;
  for (const sibling of proof) node = hashPair(node, sibling);
  return node.toLowerCase() === root.toLowerCase();
}
