/**
 * State submitter duty: the newest accepted state of each data set goes on chain in one `updateDataSets` call per
 * tick (up to `updateBatchSize` states). A state whose escrow does not yet cover the lockup of its span waits (the
 * client tops up after signing); a state the market refuses in simulation (a bad signature reverts the whole batch)
 * is found by simulating the entries one by one and set aside, so the others still go through.
 */
import type { IStorageMarket } from "../../../typechain-types/index.js";
import { decodeRevert } from "../chain.js";
import type { AgentContext } from "../context.js";
import type { StateRecord } from "../db.js";
import { reconcileSubmittedStates } from "./dataSetSync.js";

/** IStorageMarket.SkipReason, by value. */
const SKIP_REASONS = ["StaleVersion", "Unfunded", "NotLive"] as const;

export interface SubmitResult {
  applied: { dataSetId: bigint; version: bigint; effectivePeriod: bigint }[];
  skipped: { dataSetId: bigint; version: bigint; reason: string }[];
  /** States waiting for the client's top-up. */
  unfunded: bigint[];
  txHash: string | null;
}

export async function runStateSubmitter(ctx: AgentContext): Promise<SubmitResult> {
  const log = ctx.logger.child({ duty: "stateSubmitter" });
  const result: SubmitResult = { applied: [], skipped: [], unfunded: [], txHash: null };
  await reconcileSubmittedStates(ctx);
  const { market } = ctx.chain;
  const ready: StateRecord[] = [];
  for (const record of ctx.db.dataSets.queuedStates(ctx.config.updateBatchSize)) {
    const { dataSetId, span } = record.state;
    const [view, lockup] = await Promise.all([market.dataSet(dataSetId), market.lockupFor(dataSetId, span)]);
    if (view.version >= record.state.version) {
      ctx.db.dataSets.setStateStatus(dataSetId, record.state.version, "superseded");
      continue;
    }
    if (view.escrow < lockup) {
      result.unfunded.push(dataSetId);
      continue;
    }
    ready.push(record);
  }
  if (ready.length === 0) return result;

  let batch = ready;
  try {
    await market.updateDataSets.staticCall(batch.map(signedState));
  } catch (error) {
    log.warn(
      { err: error, revert: decodeRevert(error)?.name },
      "updateDataSets batch would revert; checking entries",
    );
    batch = [];
    for (const record of ready) {
      try {
        await market.updateDataSets.staticCall([signedState(record)]);
        batch.push(record);
      } catch (entryError) {
        const reason = decodeRevert(entryError)?.name ?? "REVERT";
        ctx.db.dataSets.setStateStatus(record.state.dataSetId, record.state.version, "skipped");
        result.skipped.push({ dataSetId: record.state.dataSetId, version: record.state.version, reason });
        log.error(
          { dataSetId: record.state.dataSetId, version: record.state.version, revert: reason },
          "signed state refused by the market",
        );
      }
    }
    if (batch.length === 0) return result;
  }

  const states = batch.map(signedState);
  const receipt = await ctx.chain.execute(
    () => market.updateDataSets.staticCall(states),
    () => market.updateDataSets(states),
    (hash) => {
      for (const record of batch) {
        ctx.db.dataSets.setStateStatus(record.state.dataSetId, record.state.version, "submitted", {
          txHash: hash,
        });
      }
    },
  );
  result.txHash = receipt.hash;
  for (const entry of receipt.logs) {
    const parsed = market.interface.parseLog({ topics: [...entry.topics], data: entry.data });
    if (parsed?.name === "DataSetUpdated") {
      const dataSetId = parsed.args.getValue("id") as bigint;
      const version = parsed.args.getValue("version") as bigint;
      const effectivePeriod = parsed.args.getValue("effectivePeriod") as bigint;
      ctx.db.dataSets.setStateStatus(dataSetId, version, "applied", { effectivePeriod });
      result.applied.push({ dataSetId, version, effectivePeriod });
    } else if (parsed?.name === "DataSetUpdateSkipped") {
      const dataSetId = parsed.args.getValue("id") as bigint;
      const version = parsed.args.getValue("version") as bigint;
      const reason = SKIP_REASONS[Number(parsed.args.getValue("reason") as bigint)] ?? "Unknown";
      // An unfunded state waits for the top-up; a stale or dead one never applies.
      ctx.db.dataSets.setStateStatus(dataSetId, version, reason === "Unfunded" ? "queued" : "skipped");
      result.skipped.push({ dataSetId, version, reason });
      log.warn({ dataSetId, version, reason }, "signed state skipped by the market");
    }
  }
  log.info(
    { txHash: receipt.hash, applied: result.applied.length, skipped: result.skipped.length },
    "data sets updated",
  );
  return result;
}

function signedState(record: StateRecord): IStorageMarket.SignedStateStruct {
  return { state: record.state, signer: record.signer, signature: record.signature };
}
