/**
 * Settler duty: every `settleEveryPeriods` periods, settle all of the provider's data sets with something payable
 * in one `settleDataSets` call per 100 (only proven periods are payable, so settling more often buys nothing);
 * finalize data sets whose notice has run out; then withdraw the provider's ledger balance.
 */
import { decodeRevert } from "../chain.js";
import type { AgentContext } from "../context.js";
import { syncDataSets } from "./dataSetSync.js";

/** Data sets per settleDataSets call (the market's MAX_BATCH). */
export const SETTLE_BATCH = 100;
/** Database key of the period of the last settlement round. */
export const SETTLED_PERIOD_KEY = "settler.period";

export interface SettleResult {
  settled: { dataSetIds: bigint[]; amount: bigint; txHash: string }[];
  finalized: bigint[];
  withdrawn: bigint;
}

export async function runSettler(ctx: AgentContext): Promise<SettleResult> {
  const log = ctx.logger.child({ duty: "settler" });
  const { chain } = ctx;
  const { market } = chain;
  const result: SettleResult = { settled: [], finalized: [], withdrawn: 0n };
  await syncDataSets(ctx);

  const every = BigInt(ctx.config.settleEveryPeriods);
  const current = chain.periodAt(await chain.now());
  const last = ctx.db.getKv(SETTLED_PERIOD_KEY);
  if (every > 0n && (last === undefined || current - BigInt(last) >= every)) {
    const due: bigint[] = [];
    let amount = 0n;
    for (const dataSet of ctx.db.dataSets.dataSets(["live", "ending"])) {
      const settleable = await market.settleableAmount(dataSet.id);
      if (settleable === 0n) continue;
      due.push(dataSet.id);
      amount += settleable;
    }
    for (let i = 0; i < due.length; i += SETTLE_BATCH) {
      const ids = due.slice(i, i + SETTLE_BATCH);
      try {
        const receipt = await chain.execute(
          () => market.settleDataSets.staticCall(ids),
          () => market.settleDataSets(ids),
        );
        result.settled.push({ dataSetIds: ids, amount, txHash: receipt.hash });
        log.info({ dataSets: ids.length, amount, txHash: receipt.hash }, "data sets settled");
      } catch (error) {
        log.error({ err: error, revert: decodeRevert(error)?.name }, "settleDataSets failed");
      }
    }
    ctx.db.setKv(SETTLED_PERIOD_KEY, current.toString());
  }

  result.finalized = await finalizeEnded(ctx);
  const balance = await market.balanceOf(chain.me);
  if (balance > 0n) {
    try {
      const receipt = await chain.execute(
        () => market.withdraw.staticCall(balance),
        () => market.withdraw(balance),
      );
      result.withdrawn = balance;
      log.info({ amount: balance, txHash: receipt.hash }, "earnings withdrawn");
    } catch (error) {
      log.error({ err: error, revert: decodeRevert(error)?.name }, "withdraw failed");
    }
  }
  return result;
}

/**
 * Finalize ending data sets whose end is reached (the market takes them out of their class first, then closes
 * them once the provider's periods are resolved up to the end: it may take two calls).
 */
async function finalizeEnded(ctx: AgentContext): Promise<bigint[]> {
  const { chain } = ctx;
  const { market } = chain;
  const ending = ctx.db.dataSets.dataSets(["ending"]);
  if (ending.length === 0) return [];
  const log = ctx.logger.child({ duty: "settler" });
  // The stored next period of a provider with nothing to prove lags (the market catches it up inside the call), so
  // the clock decides when to try: a provider's next period is at most the current one plus one.
  const current = await market.currentPeriod();
  const finalized: bigint[] = [];
  for (const dataSet of ending) {
    const view = await market.dataSet(dataSet.id);
    if (current + 2n < view.endPeriod) continue;
    try {
      const receipt = await chain.execute(
        () => market.finalizeDataSet.staticCall(dataSet.id),
        () => market.finalizeDataSet(dataSet.id),
      );
      finalized.push(dataSet.id);
      log.info({ dataSetId: dataSet.id, txHash: receipt.hash }, "data set finalize step done");
    } catch (error) {
      const revert = decodeRevert(error)?.name;
      if (revert !== "MarketNotOver")
        log.error({ err: error, dataSetId: dataSet.id, revert }, "finalizeDataSet failed");
    }
  }
  if (finalized.length > 0) await syncDataSets(ctx, ending);
  return finalized;
}
