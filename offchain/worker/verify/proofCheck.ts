/**
 * Independent check of one accepted proof: the challenges are re-derived from the seed and the rebuilt
 * active list, and every answer is checked against the challenged deal's indexed terms and its Merkle root,
 * exactly as ProvingLib._verifyChallenge does, but with off-chain code (offchain/sdk). A proof the chain
 * accepted that fails here means the contract, the index or this code is wrong: the worker raises an alert.
 */
import { leafCount, rootFromPath, treeDepth } from "../../sdk/commitment/merkle.js";
import { partiesHash, type DealTerms } from "../../sdk/deals/terms.js";
import type { ChallengeProof } from "../../sdk/proofs/challenges.js";
import { deriveChallenges, type ChallengeInputs, type DerivedChallenge } from "./challenges.js";

/** Why a proof, or one of its answers, does not verify. */
export type ProofProblemCode =
  | "EMPTY_ACTIVE_LIST"
  | "WRONG_CHALLENGE_COUNT"
  | "UNKNOWN_DEAL"
  | "TERMS_MISMATCH"
  | "DEAL_ENDED"
  | "BAD_PATH_LENGTH"
  | "INVALID_PATH";

export interface ProofProblem {
  code: ProofProblemCode;
  /** Challenge number, when the problem is with one answer. */
  challenge?: number;
  dealId?: bigint;
  detail: string;
}

/** How one challenge was answered. */
export interface ChallengeOutcome extends DerivedChallenge {
  /** `declared`: the deal was declared faulty for the period and needs no answer. */
  status: "proven" | "declared" | "failed";
  /** The challenged leaf (for proven and failed answers whose size could be read). */
  leafIndex?: number;
}

export interface ProofCheckInput extends ChallengeInputs {
  /** Current terms (end period after extensions) of the deals in `list`, by id. */
  deals: ReadonlyMap<bigint, DealTerms>;
  /** Deals declared faulty for `period` before the proof. */
  declared: ReadonlySet<bigint>;
  /** The answers from the proof's calldata, in challenge order. */
  answers: readonly ChallengeProof[];
}

export interface ProofCheck {
  ok: boolean;
  challenges: ChallengeOutcome[];
  problems: ProofProblem[];
}

const U64 = (1n << 64n) - 1n;
const U32 = (1n << 32n) - 1n;

/** Check `input.answers` against the challenges derived from the rest of `input`. */
export function checkProof(input: ProofCheckInput): ProofCheck {
  const problems: ProofProblem[] = [];
  if (input.list.length === 0) {
    problems.push({ code: "EMPTY_ACTIVE_LIST", detail: "the provider had no active deal to prove" });
    return { ok: false, challenges: [], problems };
  }
  if (input.answers.length !== input.challengeCount) {
    problems.push({
      code: "WRONG_CHALLENGE_COUNT",
      detail: `${input.answers.length} answers for ${input.challengeCount} challenges`,
    });
  }
  const challenges = deriveChallenges(input).map((challenge): ChallengeOutcome => {
    if (input.declared.has(challenge.dealId)) return { ...challenge, status: "declared" };
    const answer = input.answers[challenge.index];
    if (answer === undefined) return { ...challenge, status: "failed" };
    const { problem, leafIndex } = checkAnswer(challenge, answer, input);
    if (problem) problems.push(problem);
    return {
      ...challenge,
      status: problem ? "failed" : "proven",
      ...(leafIndex === undefined ? {} : { leafIndex }),
    };
  });
  return { ok: problems.length === 0, challenges, problems };
}

function checkAnswer(
  challenge: DerivedChallenge,
  answer: ChallengeProof,
  input: ProofCheckInput,
): { problem?: ProofProblem; leafIndex?: number } {
  const { index, dealId } = challenge;
  const deal = input.deals.get(dealId);
  if (!deal) {
    return {
      problem: {
        code: "UNKNOWN_DEAL",
        challenge: index,
        dealId,
        detail: `challenged deal ${dealId} is not in the index`,
      },
    };
  }
  // The market reads `size` from the low 64 bits of `meta` and `endPeriod` from the next 32.
  const size = answer.meta & U64;
  const endPeriod = (answer.meta >> 64n) & U32;
  const mismatched: string[] = [];
  if (!sameHex(answer.root, deal.root)) mismatched.push("root");
  if (size !== deal.size) mismatched.push("size");
  if (endPeriod !== deal.endPeriod) mismatched.push("endPeriod");
  if (!sameHex(answer.partiesHash, partiesHash(deal))) mismatched.push("partiesHash");
  if (mismatched.length > 0) {
    return {
      problem: {
        code: "TERMS_MISMATCH",
        challenge: index,
        dealId,
        detail: `answer ${index} differs from deal ${dealId} in ${mismatched.join(", ")}`,
      },
    };
  }
  if (input.period >= deal.endPeriod) {
    return {
      problem: {
        code: "DEAL_ENDED",
        challenge: index,
        dealId,
        detail: `deal ${dealId} ended at period ${deal.endPeriod}, before period ${input.period}`,
      },
    };
  }
  const leaves = leafCount(Number(deal.size));
  const depth = treeDepth(leaves);
  const leafIndex = Number((challenge.word >> 128n) % BigInt(leaves));
  if (answer.path.length !== depth) {
    return {
      leafIndex,
      problem: {
        code: "BAD_PATH_LENGTH",
        challenge: index,
        dealId,
        detail: `path of ${answer.path.length} nodes for a tree of depth ${depth}`,
      },
    };
  }
  if (!sameHex(rootFromPath(answer.leaf, leafIndex, answer.path), deal.root)) {
    return {
      leafIndex,
      problem: {
        code: "INVALID_PATH",
        challenge: index,
        dealId,
        detail: `leaf ${leafIndex} of deal ${dealId} does not hash to its root`,
      },
    };
  }
  return { leafIndex };
}

function sameHex(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
