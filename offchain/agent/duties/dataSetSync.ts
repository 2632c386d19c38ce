/**
 * Keeps the agent's data sets in step with the chain: each data set's lifecycle status, and what became of signed
 * states sent in an updateDataSets transaction whose outcome the agent did not record (a crash after sending).
 */
import type { AgentContext } from "../context.js";
import type { DataSetRecord, DataSetStatus } from "../db.js";

/** IStorageMarket.Status, by value. */
const STATUS: readonly (DataSetStatus | undefined)[] = [undefined, "live", "ending", "finalized"];

/** Refresh the status of `dataSets` (default: every live or ending one) from the chain. */
export async function syncDataSets(
  ctx: AgentContext,
  dataSets: readonly DataSetRecord[] = ctx.db.dataSets.dataSets(),
): Promise<void> {
  for (const dataSet of dataSets) {
    const view = await ctx.chain.market.dataSet(dataSet.id);
    const status = STATUS[Number(view.status)];
    if (status !== undefined && status !== dataSet.status) {
      ctx.db.dataSets.setStatus(dataSet.id, status);
      ctx.logger.info({ dataSetId: dataSet.id, from: dataSet.status, to: status }, "data set status changed");
    }
  }
}

/**
 * Resolve submitted states from the chain: applied (with the effective period of its DataSetUpdated event) when
 * the chain holds its version or a later one, queued again when its transaction is gone.
 */
export async function reconcileSubmittedStates(ctx: AgentContext): Promise<void> {
  const { market, provider } = ctx.chain;
  for (const record of ctx.db.dataSets.submittedStates()) {
    const { dataSetId, version } = record.state;
    const view = await market.dataSet(dataSetId);
    if (view.version >= version) {
      const events = await market.queryFilter(market.filters.DataSetUpdated(dataSetId));
      const applied = events.find((event) => event.args.version === version);
      if (applied) {
        ctx.db.dataSets.setStateStatus(dataSetId, version, "applied", {
          effectivePeriod: applied.args.effectivePeriod,
        });
      } else {
        ctx.db.dataSets.setStateStatus(dataSetId, version, "superseded");
      }
      continue;
    }
    const receipt = record.txHash === null ? null : await provider.getTransactionReceipt(record.txHash);
    if (receipt !== null) {
      ctx.db.dataSets.setStateStatus(dataSetId, version, "skipped");
      continue;
    }
    if (record.txHash === null || (await provider.getTransaction(record.txHash)) === null) {
      ctx.db.dataSets.setStateStatus(dataSetId, version, "queued");
    }
  }
}
