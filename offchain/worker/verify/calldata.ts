/** One answer as the proof's calldata carries it (IStorageMarket.ChallengeAnswer). */
export interface CalldataAnswer {
  leaf: readonly [string, string];
  path: readonly string[];
}

/**
 * The answers of a proof, read from its transaction's calldata: a direct `submitProof(period, answers)` call to
 * the market, or one inside the market's own `multicall` (the agent sends proofs with next period's fault
 * declarations that way). A proof sent through another contract (a smart-wallet provider) cannot be read from
 * calldata alone; the worker reports that rather than guessing.
 */
import { getAddress, type Result } from "ethers";
import { StorageMarket__factory } from "../../../typechain-types/index.js";
import { StrataError } from "../../sdk/errors.js";

const MARKET = StorageMarket__factory.createInterface();
/** `multicall` delegates to the market itself, so it may nest; real callers never go deeper than this. */
const MAX_MULTICALL_DEPTH = 3;

export type ProofCall =
  | { ok: true; period: bigint; answers: CalldataAnswer[]; via: "direct" | "multicall" }
  | { ok: false; reason: string };

/** Find the `submitProof(period, …)` call in `tx` sent to `market`. */
export function decodeProofCall(
  tx: { to: string | null; data: string },
  market: string,
  period: bigint,
): ProofCall {
  if (tx.to === null || getAddress(tx.to) !== getAddress(market)) {
    return { ok: false, reason: `the transaction calls ${tx.to ?? "no contract"}, not the market` };
  }
  const found: { period: bigint; answers: CalldataAnswer[]; depth: number }[] = [];
  const problem = collect(tx.data, 0, found);
  if (problem !== undefined) return { ok: false, reason: problem };
  const matching = found.filter((call) => call.period === period);
  const call = matching[0];
  if (call === undefined || matching.length > 1) {
    return {
      ok: false,
      reason: `the transaction holds ${matching.length} submitProof calls for period ${period}`,
    };
  }
  return {
    ok: true,
    period: call.period,
    answers: call.answers,
    via: call.depth === 0 ? "direct" : "multicall",
  };
}

function collect(
  data: string,
  depth: number,
  found: { period: bigint; answers: CalldataAnswer[]; depth: number }[],
): string | undefined {
  let parsed: ReturnType<typeof MARKET.parseTransaction>;
  try {
    parsed = MARKET.parseTransaction({ data });
  } catch {
    return "the calldata does not decode as a market call";
  }
  if (!parsed) return "the calldata does not decode as a market call";
  if (parsed.name === "submitProof") {
    const [period, answers] = parsed.args as unknown as [bigint, Result[]];
    found.push({ period, answers: answers.map(toAnswer), depth });
    return undefined;
  }
  if (parsed.name === "multicall") {
    if (depth >= MAX_MULTICALL_DEPTH) return "multicall nested too deeply";
    const [calls] = parsed.args as unknown as [string[]];
    for (const inner of calls) {
      const problem = collect(inner, depth + 1, found);
      // Calls that are not proofs (declareFaults, finalizeDataSet, ...) are fine; undecodable ones are not.
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

function toAnswer(answer: Result): CalldataAnswer {
  const [leaf, path] = answer as unknown as [string[], string[]];
  const [lo, hi] = leaf;
  if (lo === undefined || hi === undefined)
    throw new StrataError("INTERNAL_INVARIANT", "a leaf has two words");
  return { leaf: [lo, hi], path: [...path] };
}
