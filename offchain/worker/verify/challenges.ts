/**
 * Challenge re-derivation, independent of the contract: words from the seed (offchain/sdk/proofs), positions
 * with the market's rule (ProvingLib.challengedPosition), deal ids from the rebuilt active list.
 */
import { challengeWord } from "../../sdk/proofs/challenges.js";
import { StrataError } from "../../sdk/errors.js";

/** One challenge of a period as the worker derives it. */
export interface DerivedChallenge {
  /** Challenge number (0-based). */
  index: number;
  word: bigint;
  /** Position in the active list the word selects. */
  position: number;
  dealId: bigint;
}

/**
 * The position challenge `word` selects: uniform over the `challengeable` positions that existed when the
 * seed was scheduled (0 = the current length); a position vacated since (the list only shrinks by swap-remove)
 * wraps onto the current list.
 */
export function challengedPosition(word: bigint, challengeable: number, activeDeals: number): number {
  if (activeDeals <= 0) throw new StrataError("INTERNAL_INVARIANT", "the active list is empty");
  const n = BigInt(challengeable === 0 ? activeDeals : challengeable);
  let position = word % n;
  if (position >= BigInt(activeDeals)) position %= BigInt(activeDeals);
  return Number(position);
}

export interface ChallengeInputs {
  /** Hash of the seed block (0x-hex, 32 bytes). */
  seed: string;
  provider: string;
  period: bigint;
  /** The market's `challengeCount` when the proof was accepted. */
  challengeCount: number;
  /** The provider's active list just before the proof. */
  list: readonly bigint[];
  /** List length when the seed was scheduled. */
  challengeable: number;
}

/** The period's challenges (empty when the list is empty: there is nothing to challenge). */
export function deriveChallenges(inputs: ChallengeInputs): DerivedChallenge[] {
  const { list } = inputs;
  if (list.length === 0) return [];
  const out: DerivedChallenge[] = [];
  for (let index = 0; index < inputs.challengeCount; index++) {
    const word = challengeWord(inputs.seed, inputs.provider, inputs.period, BigInt(index));
    const position = challengedPosition(word, inputs.challengeable, list.length);
    const dealId = list[position];
    if (dealId === undefined)
      throw new StrataError("INTERNAL_INVARIANT", `position ${position} outside the list`);
    out.push({ index, word, position, dealId });
  }
  return out;
}

/** What the market's `challenges(provider)` view returned (deal ids and words, in challenge order). */
export interface ChallengesView {
  dealIds: readonly bigint[];
  words: readonly bigint[];
}

/** Human-readable differences between the derivation and the market's view (empty when they agree). */
export function compareWithView(derived: readonly DerivedChallenge[], view: ChallengesView): string[] {
  const problems: string[] = [];
  if (view.dealIds.length !== derived.length || view.words.length !== derived.length) {
    problems.push(`the market lists ${view.dealIds.length} challenges, the worker derived ${derived.length}`);
    return problems;
  }
  for (const challenge of derived) {
    const word = view.words[challenge.index];
    const dealId = view.dealIds[challenge.index];
    if (word !== challenge.word) {
      problems.push(`challenge ${challenge.index}: word differs from the worker's derivation`);
    }
    if (dealId !== challenge.dealId) {
      problems.push(
        `challenge ${challenge.index}: the market challenges deal ${String(dealId)}, the worker derived deal ${challenge.dealId}`,
      );
    }
  }
  return problems;
}
