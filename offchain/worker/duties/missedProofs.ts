/**
 * Missed proofs: a provider whose first unresolved period `nextPeriod` is already closed (nextPeriod <
 * current period, by chain time) missed it — one proof per provider per period over all its data sets; anyone may
 * report it and earns `reporterShareBps` of the missed-proof penalty slashed from the provider's proof bond. Each
 * (provider, nextPeriod) is decided once (`report-missed` action): a second worker that finds the periods
 * already reported records `lost-race` without sending anything.
 */
import { getAddress, type TransactionReceipt } from "ethers";
import type { Duty, WorkerContext } from "../context.js";
import type { ActionRecord } from "../db/index.js";
import type { Logger } from "../../runtime/logger.js";
import { ACTIVE_STATUSES, carryAction, isTerminal, type ActionPlan } from "./actions.js";
import { logClaimable } from "./claimable.js";
import { dutyQueries } from "./queries.js";

export const REPORT_MISSED = "report-missed";

export interface MissedProofsResult {
  /** Providers whose proving state was read on chain (those the index could not clear). */
  checked: number;
  /** Providers found with closed, unresolved periods. */
  behind: number;
  reported: number;
  lostRace: number;
  /** Actions still pending or sent (gas limit, account busy, receipt not yet in). */
  waiting: number;
}

export const missedProofsDuty: Duty = {
  name: "missedProofs",
  run: async (ctx) => ({ ...(await runMissedProofs(ctx)) }),
};

export async function runMissedProofs(ctx: WorkerContext): Promise<MissedProofsResult> {
  const log = ctx.logger.child({ duty: "missedProofs" });
  const result: MissedProofsResult = { checked: 0, behind: 0, reported: 0, lostRace: 0, waiting: 0 };
  const { chain, config } = ctx;
  const acting = config.reporting.enabled && !chain.readOnly;

  // Finish what earlier ticks (or a process that died) left in flight.
  if (acting) {
    for (const action of ctx.db.actions({ kind: REPORT_MISSED, statuses: ACTIVE_STATUSES })) {
      await carry(ctx, action, result, log);
    }
  }

  const current = chain.periodAt(await chain.now());
  const queries = dutyQueries(ctx.db);
  for (const provider of ctx.db.providersWithOpenDataSets()) {
    // Only providers the index cannot clear are read on chain (bounded RPC work with many providers).
    const indexed = queries.indexedNextPeriod(provider);
    if (indexed !== undefined && indexed >= current) continue;
    const state = await chain.read("proofState", () => chain.market.proofState(provider));
    result.checked++;
    if (state.nextPeriod >= current) continue;
    // Nothing frozen now and nothing held: the market skips such periods (no proof is owed).
    const weight = await chain.read("weight", () => chain.market.weight(provider));
    if (weight.frozen === 0n && weight.current === 0n) continue;
    result.behind++;
    const missed = { provider, from: state.nextPeriod, to: current - 1n };
    if (!acting) {
      log.info(
        missed,
        chain.readOnly ? "missed proof (read-only: not reporting)" : "missed proof (reporting off)",
      );
      continue;
    }
    const action = ctx.db.claimAction(REPORT_MISSED, provider, state.nextPeriod.toString());
    if (isTerminal(action.status)) continue;
    log.info(missed, "missed proof: reporting");
    await carry(ctx, action, result, log);
  }
  if (result.reported > 0) await logClaimable(ctx, log);
  return result;
}

async function carry(
  ctx: WorkerContext,
  action: ActionRecord,
  result: MissedProofsResult,
  log: Logger,
): Promise<void> {
  const outcome = await carryAction(ctx, action, reportPlan(ctx, action), log);
  if (outcome.status === "confirmed") result.reported++;
  else if (outcome.status === "lost-race") result.lostRace++;
  else if (outcome.status === "pending" || outcome.status === "sent") result.waiting++;
}

/** The plan of a `report-missed` action: subject = provider, key = its nextPeriod when decided. */
export function reportPlan(ctx: WorkerContext, action: ActionRecord): ActionPlan {
  const { chain, metrics } = ctx;
  const { market } = chain;
  const provider = getAddress(action.subject);
  const fromPeriod = BigInt(action.key);
  const me = chain.me;
  return {
    raceErrors: ["MarketNoMissedPeriods"],
    async recheck() {
      // Already reported (by us before a crash, or by someone else) and indexed?
      const report = dutyQueries(ctx.db).missedReportFrom(provider, fromPeriod);
      if (report) {
        return me !== null && getAddress(report.reporter) === me
          ? { status: "confirmed", reason: "reported", txHash: report.txHash, reward: report.bounty }
          : { status: "lost-race", reason: `reported by ${report.reporter}` };
      }
      const state = await chain.read("proofState", () => market.proofState(provider));
      if (state.nextPeriod > fromPeriod) {
        return { status: "lost-race", reason: `period ${fromPeriod} was resolved meanwhile` };
      }
      const limit = ctx.config.reporting.maxGasPriceGwei;
      if (limit !== null) {
        const fees = await chain.read("eth_feeHistory", () => chain.provider.getFeeData());
        const price = fees.maxFeePerGas ?? fees.gasPrice;
        if (price !== null && price > BigInt(Math.floor(limit * 1e9))) {
          return { status: "wait", reason: `gas price ${price} wei is above the ${limit} gwei limit` };
        }
      }
      return undefined;
    },
    simulate: () => market.reportMissedProofs.staticCall(provider),
    send: () => market.reportMissedProofs(provider),
    onSent: () => {
      metrics.reportsSent.inc();
    },
    reward: (receipt) => bountyIn(ctx, receipt, provider),
    onConfirmed: (_receipt, reward) => {
      metrics.reportsWon.inc();
      if (reward !== null && reward > 0n) metrics.bountyEarned.inc(Number(reward));
    },
    onLostRace: () => {
      metrics.reportsLost.inc();
    },
  };
}

/** The bounty credited to this worker by the MissedProofsReported event in `receipt`. */
function bountyIn(ctx: WorkerContext, receipt: TransactionReceipt, provider: string): bigint | null {
  const { market } = ctx.chain;
  const address = ctx.config.deployment.market.toLowerCase();
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = market.interface.parseLog(log);
    if (parsed?.name !== "MissedProofsReported") continue;
    const [who, , , reporter, bounty] = parsed.args as unknown as [string, bigint, bigint, string, bigint];
    if (getAddress(who) === provider && getAddress(reporter) === ctx.chain.me) return bounty;
  }
  return null;
}
