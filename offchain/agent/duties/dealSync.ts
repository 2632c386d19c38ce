/**
 * Keep the database's active deals in step with the chain: deals ended by someone else (client termination,
 * termination for faults, a watcher's finalize) are marked ended and their pieces released; deals whose
 * commitment changed (extension) get their new end period from DealExtended events.
 */
import { DealEndReason } from "../../sdk/chain/enums.js";
import { termsHash, withEndPeriod } from "../../sdk/deals/terms.js";
import type { AgentContext } from "../context.js";
import type { DealRecord } from "../db.js";
import { releasePieceIfUnused } from "./pieceHealth.js";

export interface SyncResult {
  ended: bigint[];
  updated: bigint[];
}

export async function syncDeals(
  ctx: AgentContext,
  deals: readonly DealRecord[] = ctx.db.activeDeals(),
): Promise<SyncResult> {
  const log = ctx.logger.child({ duty: "deal-sync" });
  const { market } = ctx.chain;
  const result: SyncResult = { ended: [], updated: [] };
  for (const deal of deals) {
    const [stored] = await market.dealState(deal.id);
    if (stored === termsHash(deal.terms)) continue;
    const fromBlock = fromBlockOf(ctx, deal);
    if (stored === 0n) {
      const ended = await market.queryFilter(market.filters.DealEnded(deal.id), fromBlock);
      const last = ended[ended.length - 1];
      const reason = last ? (DealEndReason.nameOf(last.args.reason) ?? "unknown") : "ended";
      ctx.db.endDeal(deal.id, reason);
      await releasePieceIfUnused(ctx, deal.terms.root);
      result.ended.push(deal.id);
      log.info({ dealId: deal.id, reason, txHash: last?.transactionHash }, "deal ended on chain");
      continue;
    }
    const extensions = await market.queryFilter(market.filters.DealExtended(deal.id), fromBlock);
    const latest = extensions[extensions.length - 1];
    const terms = latest ? withEndPeriod(deal.terms, latest.args.newEndPeriod) : undefined;
    if (terms && termsHash(terms) === stored) {
      ctx.db.updateDealTerms(terms);
      result.updated.push(deal.id);
      log.info({ dealId: deal.id, endPeriod: terms.endPeriod }, "deal extended");
    } else {
      log.error({ dealId: deal.id }, "deal terms do not match the chain's commitment");
    }
  }
  return result;
}

function fromBlockOf(ctx: AgentContext, deal: DealRecord): number {
  const upload = deal.uploadId === null ? undefined : ctx.db.upload(deal.uploadId);
  return upload?.createdBlock ?? 0;
}
