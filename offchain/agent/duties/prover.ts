/**
 * Prover duty, in the order the protocol needs:
 * 1. own closed, unproven periods are reported (by the provider itself: no bounty) so proving can resume;
 * 2. ended deals are finalized (a challenged deal past its end would make the proof revert);
 * 3. while the next period's seed block is not mined, deals whose piece is missing or corrupt are declared;
 * 4. inside the proof window, with the seed readable, each challenge is answered from the piece on disk and
 *    `submitProof` is sent, in one `multicall` with `declareFaults` for deals that cannot be proven next period
 *    (the declaration must land before the next seed block: atomically with the proof it always does).
 * A period is never submitted twice: the attempt is recorded (proofs table) before the transaction is sent.
 */
import { StrataError } from "../../sdk/errors.js";
import { answerChallenge, skippedChallenge, type ChallengeProof } from "../../sdk/proofs/challenges.js";
import { decodeRevert } from "../chain.js";
import type { AgentContext } from "../context.js";
import type { DealRecord } from "../db.js";
import type { Logger } from "../../runtime/logger.js";
import { syncDeals } from "./dealSync.js";
import { dealsWithBadPieces, releasePieceIfUnused } from "./pieceHealth.js";

export interface ProverResult {
  reportedMissed: boolean;
  finalized: bigint[];
  declared: bigint[];
  proven: bigint | null;
  refreshedSeed: boolean;
}

/** Proof record error of a period whose challenges hit a piece the agent does not have. */
const UNANSWERABLE = "unanswerable challenge";

type ProofState = Awaited<ReturnType<AgentContext["chain"]["market"]["proofState"]>>;

export async function runProver(ctx: AgentContext): Promise<ProverResult> {
  const log = ctx.logger.child({ duty: "prover" });
  const result: ProverResult = {
    reportedMissed: false,
    finalized: [],
    declared: [],
    proven: null,
    refreshedSeed: false,
  };
  const { chain } = ctx;
  let state = await chain.market.proofState(chain.me);
  if (state.activeDeals === 0n) return result;

  const now = await chain.now();
  if (state.nextPeriod < chain.periodAt(now)) {
    await chain.execute(
      () => chain.market.reportMissedProofs.staticCall(chain.me),
      () => chain.market.reportMissedProofs(chain.me),
    );
    log.warn(
      { from: state.nextPeriod, to: chain.periodAt(now) },
      "reported own missed periods to resume proving",
    );
    result.reportedMissed = true;
    state = await chain.market.proofState(chain.me);
  }

  result.finalized = await finalizeEnded(ctx, state, now, log);
  if (result.finalized.length > 0) state = await chain.market.proofState(chain.me);
  if (state.activeDeals === 0n) return result;

  const deals = ctx.db.activeDeals();
  const bad = await dealsWithBadPieces(ctx, deals);
  result.declared = await declareIfOpen(ctx, state, bad, log);

  const periodEnd = chain.periodStart(state.nextPeriod + 1n);
  const opensAt = periodEnd - (await chain.market.parameters()).proofWindow;
  const timeNow = await chain.now();
  if (timeNow < opensAt || timeNow >= periodEnd) return result;
  if (await proofInFlight(ctx, state.nextPeriod, log)) return result;

  const seed = await chain.market.challengeSeed(chain.me);
  if (BigInt(seed) === 0n) {
    if (BigInt(await chain.blockNumber()) > state.seedBlock)
      result.refreshedSeed = await refreshSeed(ctx, log);
    return result;
  }
  result.proven = await prove(ctx, state, deals, bad, log);
  return result;
}

/** Finalize active deals whose last period is resolved and whose end time has passed. */
async function finalizeEnded(
  ctx: AgentContext,
  state: ProofState,
  now: bigint,
  log: Logger,
): Promise<bigint[]> {
  const { chain } = ctx;
  const finalized: bigint[] = [];
  for (const deal of ctx.db.activeDeals()) {
    const { endPeriod } = deal.terms;
    if (endPeriod > state.nextPeriod || now < chain.periodStart(endPeriod)) continue;
    try {
      const receipt = await chain.execute(
        () => chain.market.finalizeDeal.staticCall(deal.terms),
        () => chain.market.finalizeDeal(deal.terms),
      );
      ctx.db.endDeal(deal.id, "Expired");
      await releasePieceIfUnused(ctx, deal.terms.root);
      finalized.push(deal.id);
      log.info({ dealId: deal.id, txHash: receipt.hash }, "deal finalized");
    } catch (error) {
      if (decodeRevert(error)?.name === "MarketUnknownDeal") await syncDeals(ctx, [deal]);
      else
        log.error({ err: error, dealId: deal.id, revert: decodeRevert(error)?.name }, "finalizeDeal failed");
    }
  }
  return finalized;
}

/** Declare bad deals for the next period while its seed block is not yet mined (the tx lands next block). */
async function declareIfOpen(
  ctx: AgentContext,
  state: ProofState,
  bad: DealRecord[],
  log: Logger,
): Promise<bigint[]> {
  if (bad.length === 0) return [];
  const { chain } = ctx;
  if (BigInt(await chain.blockNumber()) + 1n > state.seedBlock) return [];
  const ids = await undeclared(ctx, bad, state.nextPeriod);
  if (ids.length === 0) return [];
  try {
    const receipt = await chain.execute(
      () => chain.market.declareFaults.staticCall(ids),
      () => chain.market.declareFaults(ids),
    );
    log.warn({ period: state.nextPeriod, dealIds: ids, txHash: receipt.hash }, "declared faults");
    return ids;
  } catch (error) {
    log.error(
      { err: error, period: state.nextPeriod, revert: decodeRevert(error)?.name },
      "declareFaults failed",
    );
    return [];
  }
}

/** The deals among `deals` that cover `period` and are not yet declared faulty for it. */
async function undeclared(ctx: AgentContext, deals: DealRecord[], period: bigint): Promise<bigint[]> {
  const ids: bigint[] = [];
  for (const deal of deals) {
    if (deal.terms.endPeriod <= period) continue;
    const [, , , lastDeclaredPlusOne] = await ctx.chain.market.dealState(deal.id);
    if (lastDeclaredPlusOne !== period + 1n) ids.push(deal.id);
  }
  return ids;
}

/** True when a proof for `period` was sent and may still land (never send a second one meanwhile). */
async function proofInFlight(ctx: AgentContext, period: bigint, log: Logger): Promise<boolean> {
  const record = ctx.db.proof(period);
  if (!record || record.status === "failed" || record.status === "confirmed") return false;
  const { provider, me } = ctx.chain;
  if (record.txHash !== null) {
    const receipt = await provider.getTransactionReceipt(record.txHash);
    if (receipt) {
      ctx.db.putProof({ ...record, status: receipt.status === 1 ? "confirmed" : "failed" });
      return receipt.status === 1; // mined after the proof state was read: nothing more to do this tick
    }
    if (await provider.getTransaction(record.txHash)) {
      log.info({ period, txHash: record.txHash }, "proof transaction still pending");
      return true;
    }
    return false;
  }
  // Recorded as being sent but no hash: a crash mid-send. Wait while our transactions are pending.
  const [latest, pending] = await Promise.all([
    provider.getTransactionCount(me, "latest"),
    provider.getTransactionCount(me, "pending"),
  ]);
  return pending > latest;
}

async function refreshSeed(ctx: AgentContext, log: Logger): Promise<boolean> {
  const { market } = ctx.chain;
  try {
    const receipt = await ctx.chain.execute(
      () => market.refreshChallengeSeed.staticCall(),
      () => market.refreshChallengeSeed(),
    );
    log.warn({ txHash: receipt.hash }, "challenge seed expired; scheduled a new one");
    return true;
  } catch (error) {
    log.error({ err: error, revert: decodeRevert(error)?.name }, "refreshChallengeSeed failed");
    return false;
  }
}

/** Answer the challenges and send the proof (with next period's declarations). Returns the proven period. */
async function prove(
  ctx: AgentContext,
  state: ProofState,
  deals: DealRecord[],
  bad: DealRecord[],
  log: Logger,
): Promise<bigint | null> {
  const { chain } = ctx;
  const { market } = chain;
  const period = state.nextPeriod;
  let proofs: ChallengeProof[];
  try {
    proofs = await answerChallenges(ctx, period, deals);
  } catch (error) {
    // Retried every tick (the piece may be restored in time), but reported loudly once per period.
    const again = ctx.db.proof(period)?.error === UNANSWERABLE;
    (again ? log.debug.bind(log) : log.error.bind(log))(
      { err: error, period },
      "cannot answer this period's challenges; unless the piece comes back in time the period will be missed",
    );
    ctx.db.putProof({ period, txHash: null, status: "failed", declared: [], error: UNANSWERABLE });
    return null;
  }
  const next = period + 1n;
  const declare = await undeclared(
    ctx,
    bad.filter((d) => d.terms.endPeriod > next),
    next,
  );
  const calls = [market.interface.encodeFunctionData("submitProof", [period, proofs])];
  if (declare.length > 0) calls.push(market.interface.encodeFunctionData("declareFaults", [declare]));

  ctx.db.putProof({ period, txHash: null, status: "sending", declared: declare, error: null });
  try {
    const receipt = await chain.execute(
      () =>
        declare.length > 0
          ? market.multicall.staticCall(calls)
          : market.submitProof.staticCall(period, proofs),
      () => (declare.length > 0 ? market.multicall(calls) : market.submitProof(period, proofs)),
      (hash) => {
        ctx.db.putProof({ period, txHash: hash, status: "pending", declared: declare, error: null });
      },
    );
    ctx.db.putProof({ period, txHash: receipt.hash, status: "confirmed", declared: declare, error: null });
    log.info(
      {
        period,
        txHash: receipt.hash,
        challenges: proofs.length,
        declaredNext: declare,
        gasUsed: receipt.gasUsed,
      },
      "proof submitted",
    );
    return period;
  } catch (error) {
    const revert = decodeRevert(error)?.name;
    ctx.db.putProof({
      period,
      txHash: null,
      status: "failed",
      declared: declare,
      error: revert ?? String(error),
    });
    log.error({ err: error, period, revert }, "proof failed");
    if (revert === "MarketSeedExpired") await refreshSeed(ctx, log);
    if (revert === "MarketChallengeTermsMismatch" || revert === "MarketUnknownDeal") await syncDeals(ctx);
    return null;
  }
}

/** One answer per challenge, from the pieces on disk; skipped answers for deals declared for `period`. */
async function answerChallenges(
  ctx: AgentContext,
  period: bigint,
  deals: DealRecord[],
): Promise<ChallengeProof[]> {
  const { market, me } = ctx.chain;
  const byId = new Map(deals.map((d) => [d.id, d]));
  const [ids, words] = await market.challenges(me);
  const proofs: ChallengeProof[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const word = words[i];
    if (id === undefined || word === undefined) throw new StrataError("CHAIN_REVERT", "malformed challenges");
    const [, , , lastDeclaredPlusOne] = await market.dealState(id);
    if (lastDeclaredPlusOne === period + 1n) {
      proofs.push(skippedChallenge());
      continue;
    }
    const deal = byId.get(id);
    if (!deal) throw new StrataError("PIECE_NOT_FOUND", `challenged deal ${id} is unknown to this agent`);
    try {
      proofs.push(answerChallenge(deal.terms, await ctx.pieces.tree(deal.terms.root, deal.terms.size), word));
    } catch (error) {
      if (error instanceof StrataError) {
        const problem = error.code === "PIECE_NOT_FOUND" ? "missing" : "corrupt";
        ctx.db.setPieceHealth(deal.terms.root, false, problem, false);
      }
      throw error;
    }
  }
  return proofs;
}
