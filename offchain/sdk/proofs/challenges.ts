import { AbiCoder, keccak256 } from "ethers";
import { leafCount, type PieceTree } from "../commitment/merkle.js";
import { dealMeta, partiesHash, type DealTerms } from "../deals/terms.js";
import { StrataError } from "../errors.js";

const coder = AbiCoder.defaultAbiCoder();

/** Challenge word i of `provider`'s `period`: keccak256(abi.encode(seed, provider, period, i)). */
export function challengeWord(seed: string, provider: string, period: bigint, index: bigint): bigint {
  return BigInt(
    keccak256(coder.encode(["bytes32", "address", "uint256", "uint256"], [seed, provider, period, index])),
  );
}

/**
 * Position in the provider's active list that challenge `word` selects (mirrors ProvingLib.challengedPosition):
 * uniform over the `challengeable` positions that existed when the seed was scheduled (0: the current length);
 * a position vacated since (the list only shrinks by swap-remove) wraps onto the current list.
 */
export function challengedSlot(word: bigint, challengeable: bigint, activeDeals: bigint): bigint {
  if (activeDeals === 0n)
    throw new StrataError("INVALID_ARGUMENT", "challengedSlot: the active list is empty");
  const n = challengeable === 0n ? activeDeals : challengeable;
  const position = word % n;
  return position >= activeDeals ? position % activeDeals : position;
}

/** Leaf of a deal of `size` bytes that challenge `word` selects. */
export function challengedLeaf(word: bigint, size: bigint): number {
  return Number((word >> 128n) % BigInt(leafCount(Number(size))));
}

/** One answer of a proof, shaped as IStorageMarket.ChallengeProof. */
export interface ChallengeProof {
  root: string;
  meta: bigint;
  partiesHash: string;
  leaf: [string, string];
  path: string[];
}

const ZERO32 = "0x" + "00".repeat(32);

/** Answer for a challenge on a deal declared faulty for the period (no data needed). */
export function skippedChallenge(): ChallengeProof {
  return { root: ZERO32, meta: 0n, partiesHash: ZERO32, leaf: [ZERO32, ZERO32], path: [] };
}

/** Answer challenge `word` on `deal` from its piece tree. */
export function answerChallenge(deal: DealTerms, tree: PieceTree, word: bigint): ChallengeProof {
  const index = challengedLeaf(word, deal.size);
  return {
    root: deal.root,
    meta: dealMeta(deal),
    partiesHash: partiesHash(deal),
    leaf: tree.leaf(index),
    path: tree.path(index),
  };
}
