/**
 * Independent proof verification: every indexed `ProofSubmitted` is checked off-chain, without trusting the
 * contract. From the index alone the worker rebuilds the provider's active list and the seed in force
 * (verify/activeList), re-derives the challenges from the seed block's hash (verify/challenges), reads the
 * answers from the transaction's calldata (verify/calldata) and checks each against the challenged deal's
 * indexed terms and Merkle root (verify/proofCheck). When the node serves historical state it also asks the
 * market's `challenges(provider)` view one block before the proof. The chain accepted the proof, so any
 * disagreement is a `mismatch`: an alert row, `alerts_total{kind="proof-mismatch"}` and an error log.
 * A proof that cannot be checked (sent through another contract, index gaps) gets verdict `error`.
 */
import { getAddress } from "ethers";
import { StrataError } from "../../sdk/errors.js";
import type { DealTerms } from "../../sdk/deals/terms.js";
import type { Duty, WorkerContext } from "../context.js";
import type { ProofRecord, ProofVerdict } from "../db/index.js";
import type { Logger } from "../../runtime/logger.js";
import { provingStateAt, type ChainPosition, type ProvingSnapshot } from "../verify/activeList.js";
import { decodeProofCall } from "../verify/calldata.js";
import { compareWithView, deriveChallenges } from "../verify/challenges.js";
import { checkProof } from "../verify/proofCheck.js";
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
  seedBlock?: bigint;
  challengeable?: number;
  activeDeals?: number;
  challenges?: { index: number; dealId: bigint; leafIndex?: number; status: string }[];
  problems?: { code: string; challenge?: number; dealId?: bigint; detail: string }[];
  /** The market's view one block before the proof: agreed, disagreed (with the differences) or unavailable. */
  crossCheck?: { result: "agreed" | "disagreed" | "unavailable"; detail?: string[] };
}

/** Check one indexed proof; RPC failures propagate (the proof is retried next tick). */
export async function verifyProof(
  ctx: WorkerContext,
  proof: ProofRecord,
): Promise<{ verdict: ProofVerdict; detail: ProofCheckDetail }> {
  const { chain } = ctx;
  const queries = dutyQueries(ctx.db);
  const at: ChainPosition = { blockNumber: proof.blockNumber, logIndex: proof.logIndex };

  const tx = await chain.read("eth_getTransactionByHash", () => chain.provider.getTransaction(proof.txHash));
  if (!tx)
    return { verdict: "error", detail: { reason: `transaction ${proof.txHash} is unknown to the node` } };
  const call = decodeProofCall(tx, ctx.config.deployment.market, proof.period);
  if (!call.ok) return { verdict: "error", detail: { reason: call.reason } };

  let snapshot: ProvingSnapshot;
  try {
    snapshot = provingStateAt(queries.provingEvents(proof.provider, at), at);
  } catch (error) {
    if (error instanceof StrataError && error.code === "WORKER_DB_ERROR") {
      return { verdict: "error", detail: { reason: error.message, via: call.via } };
    }
    throw error;
  }
  const seed = snapshot.seed;
  if (seed === null) {
    return {
      verdict: "error",
      detail: { reason: "no seed was scheduled before the proof in the index", via: call.via },
    };
  }
  const base: ProofCheckDetail = {
    via: call.via,
    seedBlock: seed.seedBlock,
    challengeable: seed.challengeable,
    activeDeals: snapshot.list.length,
  };
  if (seed.period !== proof.period) {
    // The chain accepted a proof for a period other than the one the last seed was scheduled for.
    return {
      verdict: "mismatch",
      detail: {
        ...base,
        problems: [
          {
            code: "SEED_PERIOD",
            detail: `the seed in force was scheduled for period ${seed.period}, the proof is for ${proof.period}`,
          },
        ],
      },
    };
  }
  if (seed.seedBlock >= BigInt(proof.blockNumber)) {
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
  const seedBlock = await chain.read("seed block", () => chain.provider.getBlock(Number(seed.seedBlock)));
  if (!seedBlock?.hash) {
    return { verdict: "error", detail: { ...base, reason: `the node has no block ${seed.seedBlock}` } };
  }
  const challengeCount = await challengeCountAt(ctx, at);

  const inputs = {
    seed: seedBlock.hash,
    provider: proof.provider,
    period: proof.period,
    challengeCount,
    list: snapshot.list,
    challengeable: seed.challengeable,
  };
  const derived = deriveChallenges(inputs);
  const deals = new Map<bigint, DealTerms>();
  for (const { dealId } of derived) {
    const terms = queries.termsBefore(dealId, at);
    if (terms) deals.set(dealId, terms);
  }
  const declared = new Set(ctx.db.declaredFaults(proof.provider, proof.period, at));
  const check = checkProof({ ...inputs, deals, declared, answers: call.answers });
  const crossCheck = await crossCheckWithMarket(ctx, proof, derived);
  const detail: ProofCheckDetail = {
    ...base,
    challenges: check.challenges.map((c) => ({
      index: c.index,
      dealId: c.dealId,
      status: c.status,
      ...(c.leafIndex === undefined ? {} : { leafIndex: c.leafIndex }),
    })),
    problems: check.problems,
    crossCheck,
  };
  return { verdict: check.ok && crossCheck.result !== "disagreed" ? "ok" : "mismatch", detail };
}

/** The market's challengeCount before the proof: from the index, else a historical call. */
async function challengeCountAt(ctx: WorkerContext, at: ChainPosition): Promise<number> {
  const indexed = dutyQueries(ctx.db).challengeCountBefore(at);
  if (indexed !== undefined) return indexed;
  const { chain } = ctx;
  const params = await chain.read("parameters", () =>
    chain.market.parameters({ blockTag: at.blockNumber - 1 }),
  );
  return Number(params.challengeCount);
}

/**
 * Ask the market's `challenges(provider)` view at the block before the proof. It describes the state before
 * the proof only when nothing in the proof's own block changed the provider's list, seed or the parameters
 * first, and only once the seed was readable at that block; otherwise (or without historical state) the
 * cross-check is unavailable, which is not a disagreement.
 */
async function crossCheckWithMarket(
  ctx: WorkerContext,
  proof: ProofRecord,
  derived: ReturnType<typeof deriveChallenges>,
): Promise<NonNullable<ProofCheckDetail["crossCheck"]>> {
  const queries = dutyQueries(ctx.db);
  if (queries.hadEventsInBlockBefore(proof.provider, proof.blockNumber, proof.logIndex)) {
    return { result: "unavailable", detail: ["the provider's state changed earlier in the proof's block"] };
  }
  const { market } = ctx.chain;
  let view: { dealIds: bigint[]; words: bigint[] };
  try {
    const [dealIds, words] = await ctx.chain.read("challenges view", () =>
      market.challenges(proof.provider, { blockTag: proof.blockNumber - 1 }),
    );
    view = { dealIds: [...dealIds], words: [...words] };
  } catch (error) {
    return { result: "unavailable", detail: [`no historical state: ${messageOf(error)}`] };
  }
  if (view.dealIds.length === 0 && derived.length > 0) {
    return { result: "unavailable", detail: ["the seed was not yet readable one block before the proof"] };
  }
  const differences = compareWithView(derived, view);
  return differences.length === 0 ? { result: "agreed" } : { result: "disagreed", detail: differences };
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
