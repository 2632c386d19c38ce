/**
 * Independent proof verification: every indexed `ProofSubmitted` is checked off-chain, without trusting the
 * contract. The provider's DataSetReplay (offchain/sdk/datasets/replay.ts, kept in SQLite by verify/replayAt) gives
 * the state frozen for the period; the seed is the hash of the seed block the index says was in force; the draw is
 * re-derived with the SDK mirror and every answer read from the transaction's calldata (a direct call or the
 * market's multicall; verify/calldata) is checked with `verifyChallengeAnswer` (verify/proofCheck). When the node
 * serves historical state the worker also asks the market's `challengesFor(provider)` view one block before the
 * proof. The chain accepted the proof, so any disagreement is a `mismatch`: an alert row,
 * `alerts_total{kind="proof-mismatch"}` and an error log. A proof that cannot be checked (sent through another
 * contract, index gaps) gets verdict `error`.
 */
import { getAddress } from "ethers";
import { StrataError } from "../../sdk/errors.js";
import type { DrawnChallenge } from "../../sdk/datasets/index.js";
import type { Duty, WorkerContext } from "../context.js";
import type { Before, ProofRecord, ProofVerdict } from "../db/index.js";
import type { Logger } from "../../runtime/logger.js";
import { decodeProofCall } from "../verify/calldata.js";
import { checkProof } from "../verify/proofCheck.js";
import { replayBefore } from "../verify/replayAt.js";
import { dutyQueries } from "./queries.js";

/** Proofs checked per tick at most (the rest wait for the next tick). */
export const PROOFS_PER_TICK = 50;

export const PROOF_MISMATCH_ALERT = "proof-mismatch";

export interface ProofVerifierResult {
  ok: number;
  mismatch: number;
  error: number;
}

export const proofVerifierDuty: Duty = {
  name: "proofVerifier",
  run: async (ctx) => ({ ...(await runProofVerifier(ctx)) }),
};

export async function runProofVerifier(ctx: WorkerContext): Promise<ProofVerifierResult> {
  const log = ctx.logger.child({ duty: "proofVerifier" });
  const result: ProofVerifierResult = { ok: 0, mismatch: 0, error: 0 };
  for (const proof of ctx.db.uncheckedProofs(PROOFS_PER_TICK)) {
    const { verdict, detail } = await verifyProof(ctx, proof).catch((error: unknown) => {
      // RPC trouble: leave the proof unchecked and retry next tick. Anything else would fail the same way
      // every time and hold up every later proof: record it.
      if (isRpcFailure(error)) throw error;
      return { verdict: "error" as const, detail: { reason: `check failed: ${messageOf(error)}` } };
    });
    ctx.db.putProofCheck({
      provider: proof.provider,
      period: proof.period,
      txHash: proof.txHash,
      blockNumber: proof.blockNumber,
      verdict,
      detail: JSON.stringify(detail, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
    });
    ctx.metrics.proofChecks.inc({ verdict });
    result[verdict]++;
    report(ctx, log, proof, verdict, detail);
  }
  return result;
}

/** What a check found, stored as JSON in proof_checks.detail. */
export interface ProofCheckDetail {
  /** Why the proof could not be checked (verdict `error`). */
  reason?: string;
  via?: "direct" | "multicall";
  seedBlock?: number;
  /** Number of data sets frozen for the period. */
  dataSets?: number;
  challenges?: { index: number; dataSetId: bigint; leaf: bigint; status: string }[];
  problems?: { code: string; challenge?: number; dataSetId?: bigint; detail: string }[];
  /** The market's view one block before the proof: agreed, disagreed (with the differences) or unavailable. */
  crossCheck?: { result: "agreed" | "disagreed" | "unavailable"; detail?: string[] };
}

/** Check one indexed proof; RPC failures propagate (the proof is retried next tick). */
export async function verifyProof(
  ctx: WorkerContext,
  proof: ProofRecord,
): Promise<{ verdict: ProofVerdict; detail: ProofCheckDetail }> {
  const { chain } = ctx;
  const at: Before = { blockNumber: proof.blockNumber, logIndex: proof.logIndex };

  const tx = await chain.read("eth_getTransactionByHash", () => chain.provider.getTransaction(proof.txHash));
  if (!tx)
    return { verdict: "error", detail: { reason: `transaction ${proof.txHash} is unknown to the node` } };
  const call = decodeProofCall(tx, ctx.config.deployment.market, proof.period);
  if (!call.ok) return { verdict: "error", detail: { reason: call.reason } };

  const seed = ctx.db.seedFor(proof.provider, proof.period, at);
  if (seed === undefined) {
    return {
      verdict: "error",
      detail: { reason: "no seed was scheduled for the period before the proof in the index", via: call.via },
    };
  }
  const base: ProofCheckDetail = { via: call.via, seedBlock: seed.seedBlock };
  if (seed.seedBlock >= proof.blockNumber) {
    return {
      verdict: "mismatch",
      detail: {
        ...base,
        problems: [
          { code: "SEED_NOT_MINED", detail: `seed block ${seed.seedBlock} is not before the proof` },
        ],
      },
    };
  }
  let frozen;
  try {
    frozen = replayBefore(ctx.db, proof.provider, at).replay.frozenState(proof.provider, proof.period);
  } catch (error) {
    if (error instanceof StrataError) {
      return { verdict: "error", detail: { ...base, reason: `replay: ${error.message}` } };
    }
    throw error;
  }
  const seedBlock = await chain.read("seed block", () => chain.provider.getBlock(seed.seedBlock));
  if (!seedBlock?.hash) {
    return { verdict: "error", detail: { ...base, reason: `the node has no block ${seed.seedBlock}` } };
  }
  const challengeCount = await challengeCountAt(ctx, at);
  const declared = new Set(ctx.db.declaredFaults(proof.provider, proof.period, at));
  const check = checkProof({
    seed: seedBlock.hash,
    provider: getAddress(proof.provider),
    period: proof.period,
    challengeCount,
    frozen,
    declared,
    answers: call.answers,
  });
  const crossCheck = await crossCheckWithMarket(ctx, proof, check.challenges);
  const detail: ProofCheckDetail = {
    ...base,
    dataSets: frozen.dataSets.size,
    challenges: check.challenges.map((c) => ({
      index: c.index,
      dataSetId: c.dataSetId,
      leaf: c.leaf,
      status: c.status,
    })),
    problems: check.problems,
    crossCheck,
  };
  return { verdict: check.ok && crossCheck.result !== "disagreed" ? "ok" : "mismatch", detail };
}

/** The market's challengeCount before the proof: from the index, else a historical call. */
async function challengeCountAt(ctx: WorkerContext, at: Before): Promise<number> {
  const indexed = dutyQueries(ctx.db).challengeCountBefore(at);
  if (indexed !== undefined) return indexed;
  const { chain } = ctx;
  const params = await chain.read("parameters", () =>
    chain.market.parameters({ blockTag: at.blockNumber - 1 }),
  );
  return Number(params.challengeCount);
}

/**
 * Ask the market's `challengesFor(provider)` view at the block before the proof. It describes the state before
 * the proof only when nothing in the proof's own block changed the provider's data sets, seed or the parameters
 * first, and only once the seed was readable at that block; otherwise (or without historical state) the
 * cross-check is unavailable, which is not a disagreement.
 */
async function crossCheckWithMarket(
  ctx: WorkerContext,
  proof: ProofRecord,
  derived: readonly DrawnChallenge[],
): Promise<NonNullable<ProofCheckDetail["crossCheck"]>> {
  const queries = dutyQueries(ctx.db);
  if (queries.hadEventsInBlockBefore(proof.provider, proof.blockNumber, proof.logIndex)) {
    return { result: "unavailable", detail: ["the provider's state changed earlier in the proof's block"] };
  }
  const { market } = ctx.chain;
  let view: { dataSetId: bigint; leaf: bigint }[];
  try {
    const drawn = await ctx.chain.read("challengesFor view", () =>
      market.challengesFor(proof.provider, { blockTag: proof.blockNumber - 1 }),
    );
    view = drawn.map((c) => ({ dataSetId: c.dataSetId, leaf: c.leaf }));
  } catch (error) {
    return { result: "unavailable", detail: [`no historical state: ${messageOf(error)}`] };
  }
  const differences = compareWithView(derived, view);
  return differences.length === 0 ? { result: "agreed" } : { result: "disagreed", detail: differences };
}

/** Human-readable differences between the worker's draw and the market's view (empty when they agree). */
export function compareWithView(
  derived: readonly DrawnChallenge[],
  view: readonly { dataSetId: bigint; leaf: bigint }[],
): string[] {
  if (view.length !== derived.length) {
    return [`the market lists ${view.length} challenges, the worker drew ${derived.length}`];
  }
  const problems: string[] = [];
  derived.forEach((challenge, index) => {
    const theirs = view[index];
    if (theirs?.dataSetId !== challenge.dataSetId || theirs.leaf !== challenge.leaf) {
      problems.push(
        `challenge ${index}: the market draws (${String(theirs?.dataSetId)}, ${String(theirs?.leaf)}), the worker (${challenge.dataSetId}, ${challenge.leaf})`,
      );
    }
  });
  return problems;
}

function report(
  ctx: WorkerContext,
  log: Logger,
  proof: ProofRecord,
  verdict: ProofVerdict,
  detail: ProofCheckDetail,
): void {
  const where = { provider: proof.provider, period: proof.period, txHash: proof.txHash };
  switch (verdict) {
    case "ok":
      log.debug({ ...where, crossCheck: detail.crossCheck?.result }, "proof verified");
      return;
    case "error":
      log.warn({ ...where, reason: detail.reason }, "proof could not be verified");
      return;
    case "mismatch":
      ctx.db.insertAlert({
        kind: PROOF_MISMATCH_ALERT,
        subject: `${getAddress(proof.provider)}:${proof.period}`,
        detail: JSON.stringify(
          { txHash: proof.txHash, problems: detail.problems, crossCheck: detail.crossCheck },
          (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
        ),
      });
      ctx.metrics.alerts.inc({ kind: PROOF_MISMATCH_ALERT });
      log.error(
        { ...where, problems: detail.problems, crossCheck: detail.crossCheck },
        "the chain accepted a proof that the off-chain check rejects",
      );
      return;
  }
}

function isRpcFailure(error: unknown): boolean {
  if (error instanceof StrataError) return error.code === "RPC_TIMEOUT" || error.code === "RPC_FAILED";
  return !(error instanceof RangeError || error instanceof TypeError);
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
