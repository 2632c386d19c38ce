/**
 * Settler duty: settle each active deal's payment stream every `settleEveryPeriods` periods (only what is
 * proven is payable, so settling more often buys nothing), then withdraw the provider's ledger balance to
 * its payee.
 */
import { decodeRevert } from "../chain.js";
import type { AgentContext } from "../context.js";
import { syncDeals } from "./dealSync.js";

export interface SettleResult {
  settled: { dealId: bigint; amount: bigint }[];
  withdrawn: bigint;
}

export async function runSettler(ctx: AgentContext): Promise<SettleResult> {
  const log = ctx.logger.child({ duty: "settler" });
  const { chain } = ctx;
  const { market } = chain;
  const result: SettleResult = { settled: [], withdrawn: 0n };
  const every = BigInt(ctx.config.settleEveryPeriods);
  if (every > 0n) {
    const current = chain.periodAt(await chain.now());
    for (const deal of ctx.db.activeDeals()) {
      const since = deal.lastSettledAt ?? deal.terms.startPeriod;
      if (current - since < every) continue;
      try {
        const due = await market.settleableAmount(deal.terms);
        if (due > 0n) {
          const receipt = await chain.execute(
            () => market.settleDeal.staticCall(deal.terms),
            () => market.settleDeal(deal.terms),
          );
          result.settled.push({ dealId: deal.id, amount: due });
          log.info({ dealId: deal.id, amount: due, txHash: receipt.hash }, "deal settled");
        }
        ctx.db.setDealSettled(deal.id, current);
      } catch (error) {
        const revert = decodeRevert(error)?.name;
        if (revert === "MarketUnknownDeal") await syncDeals(ctx, [deal]);
        else log.error({ err: error, dealId: deal.id, revert }, "settleDeal failed");
      }
    }
  }
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
