/**
 * Independent check of one accepted proof: the challenges are drawn again with the SDK mirror of the market's draw
 * (offchain/sdk/datasets/draw.ts) from the seed and the provider's state frozen for the period (rebuilt by the
 * DataSetReplay from indexed events), and every answer read from the proof's calldata is checked with
 * `verifyChallengeAnswer` against the frozen root, as the market does. A proof the chain accepted that fails here
 * means the contract, the index or this code is wrong: the worker raises an alert.
 */
import {
  drawChallenges,
  verifyChallengeAnswer,
  type DrawnChallenge,
  type DrawParameters,
  type FrozenProviderState,
} from "../../sdk/datasets/index.js";
import type { CalldataAnswer } from "./calldata.js";

/** Why a proof, or one of its answers, does not verify. */
export type ProofProblemCode = "NOTHING_FROZEN" | "WRONG_ANSWER_COUNT" | "BAD_PATH_LENGTH" | "INVALID_PATH";

export interface ProofProblem {
  code: ProofProblemCode;
  /** Challenge number (draw order), when the problem is with one answer. */
  challenge?: number;
  dataSetId?: bigint;
  detail: string;
}

/** How one challenge was answered. */
export interface ChallengeOutcome extends DrawnChallenge {
  index: number;
  /** `declared`: the data set was declared faulty for the period and its answer is ignored. */
  status: "proven" | "declared" | "failed";
}

export interface ProofCheckInput extends DrawParameters {
  /** The provider's state frozen for the period. */
  frozen: FrozenProviderState;
  /** Data sets declared faulty for the period before the proof. */
  declared: ReadonlySet<bigint>;
  /** The answers from the proof's calldata, in draw order. */
  answers: readonly CalldataAnswer[];
}

export interface ProofCheck {
  ok: boolean;
  challenges: ChallengeOutcome[];
  problems: ProofProblem[];
}

/** Draw the period's challenges and check `input.answers` against them. */
export function checkProof(input: ProofCheckInput): ProofCheck {
  const drawn = drawChallenges(input, input.frozen);
  const problems: ProofProblem[] = [];
  if (drawn.length === 0 && input.answers.length > 0) {
    problems.push({
      code: "NOTHING_FROZEN",
      detail: "nothing was challengeable, yet the proof carries answers",
    });
  }
  if (input.answers.length !== drawn.length) {
    problems.push({
      code: "WRONG_ANSWER_COUNT",
      detail: `${drawn.length} challenges were drawn, the proof answers ${input.answers.length}`,
    });
  }
  const challenges = drawn.map((challenge, index): ChallengeOutcome => {
    if (input.declared.has(challenge.dataSetId)) return { ...challenge, index, status: "declared" };
    const answer = input.answers[index];
    const frozen = input.frozen.dataSets.get(challenge.dataSetId);
    if (answer === undefined || frozen === undefined) return { ...challenge, index, status: "failed" };
    if (answer.path.length !== challenge.sizeClass) {
      problems.push({
        code: "BAD_PATH_LENGTH",
        challenge: index,
        dataSetId: challenge.dataSetId,
        detail: `the path has ${answer.path.length} siblings, the frozen tree has depth ${challenge.sizeClass}`,
      });
      return { ...challenge, index, status: "failed" };
    }
    const ok = verifyChallengeAnswer(challenge, frozen, {
      dataSetId: challenge.dataSetId,
      leafIndex: challenge.leaf,
      leaf: answer.leaf,
      path: answer.path,
    });
    if (!ok) {
      problems.push({
        code: "INVALID_PATH",
        challenge: index,
        dataSetId: challenge.dataSetId,
        detail: `leaf ${challenge.leaf} and its path do not recompute the frozen root ${frozen.root}`,
      });
    }
    return { ...challenge, index, status: ok ? "proven" : "failed" };
  });
  return { ok: problems.length === 0, challenges, problems };
}
