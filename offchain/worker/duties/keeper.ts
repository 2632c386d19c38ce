/**
 * The keeper: permissionless upkeep of the storage market, each step decided once through `actions`.
 * - terminate-faulty: data sets whose faults (missed + declared) reached `maxFaults` are ended at once with their
 *   collateral slashed; the caller earns the fault-termination bounty. Only data sets that can have that many
 *   faults per the index are simulated, a bounded number per tick.
 * - terminate-unfunded: live data sets whose escrow no longer covers their lockup are set to end (no penalty for
 *   the provider, no bounty): the simulation of terminateUnfunded decides, a page of live data sets per tick.
 * - finalize: ending data sets whose end period is (about to be) resolved are finalized: taken out of their class,
 *   then closed (client refund, collateral back).
 * - settle: with `keeper.settleAfterSeconds` > 0, data sets not settled for that long (chain time) are settled,
 *   `keeper.settleBatchSize` of them in one settleDataSets call.
 * Work per tick is bounded (views and transactions per task); paging cursors carry on next tick.
 */
import type { TransactionReceipt } from "ethers";
import type { WorkerConfig } from "../config.js";
import type { Duty, WorkerContext } from "../context.js";
import type { ActionRecord } from "../db/index.js";
import type { Logger } from "../../runtime/logger.js";
import { ACTIVE_STATUSES, carryAction, isTerminal, type ActionPlan } from "./actions.js";
import { logClaimable } from "./claimable.js";
import { dutyQueries } from "./queries.js";

export const TERMINATE_FAULTY = "terminate-faulty";
export const TERMINATE_UNFUNDED = "terminate-unfunded";
export const FINALIZE = "finalize";
export const SETTLE = "settle";

/** Contract views per task per tick. */
export const VIEWS_PER_TICK = 100;
/** Transactions per task per tick. */
export const SENDS_PER_TICK = 10;

/** What one task did in one tick. */
export interface KeeperTaskResult {
  /** Candidates looked at on chain. */
  checked: number;
  confirmed: number;
  lostRace: number;
  skipped: number;
  /** Actions still pending or sent. */
  waiting: number;
}

/**
 * One kind of upkeep. Each task owns one action kind; a tick first carries that kind's in-flight actions,
 * then looks for new work. This is the extension point for compute-lease upkeep (closing overdrawn leases,
 * missed heartbeats): more tasks passed to `keeperDuty` next to `storageKeeperTasks()`.
 */
export interface KeeperTask {
  name: string;
  /** The action kind this task decides (actions of it in flight are resumed first). */
  actionKind: string;
  enabled(config: WorkerConfig): boolean;
  /** The plan that carries one of this task's actions. */
  plan(ctx: WorkerContext, action: ActionRecord, log: Logger): ActionPlan;
  /** Find and act on new work, at most `SENDS_PER_TICK` actions. */
  findWork(
    ctx: WorkerContext,
    act: (subject: string, key: string) => Promise<void>,
    log: Logger,
  ): Promise<number>;
}

/** The keeper duty running `tasks` (default: the storage market's). */
export function keeperDuty(tasks: readonly KeeperTask[] = storageKeeperTasks()): Duty {
  return {
    name: "keeper",
    run: (ctx) => runKeeper(ctx, tasks),
  };
}

export async function runKeeper(
  ctx: WorkerContext,
  tasks: readonly KeeperTask[] = storageKeeperTasks(),
): Promise<Record<string, KeeperTaskResult>> {
  const results: Record<string, KeeperTaskResult> = {};
  const log = ctx.logger.child({ duty: "keeper" });
  for (const task of tasks) {
    if (!task.enabled(ctx.config)) continue;
    results[task.name] = await runTask(ctx, task, log.child({ task: task.name }));
  }
  if (Object.values(results).some((r) => r.confirmed > 0)) await logClaimable(ctx, log);
  return results;
}

async function runTask(ctx: WorkerContext, task: KeeperTask, log: Logger): Promise<KeeperTaskResult> {
  const result: KeeperTaskResult = { checked: 0, confirmed: 0, lostRace: 0, skipped: 0, waiting: 0 };
  const carry = async (action: ActionRecord): Promise<void> => {
    const outcome = await carryAction(ctx, action, task.plan(ctx, action, log), log);
    switch (outcome.status) {
      case "confirmed":
        result.confirmed++;
        return;
      case "lost-race":
        result.lostRace++;
        return;
      case "pending":
      case "sent":
        result.waiting++;
        return;
      case "skipped":
      case "reverted":
        result.skipped++;
        return;
    }
  };
  if (!ctx.chain.readOnly) {
    for (const action of ctx.db.actions({ kind: task.actionKind, statuses: ACTIVE_STATUSES }))
      await carry(action);
  }
  let sends = 0;
  result.checked = await task.findWork(
    ctx,
    async (subject, key) => {
      if (ctx.chain.readOnly) {
        log.info({ subject, key }, "upkeep due (read-only: not sending)");
        return;
      }
      if (sends >= SENDS_PER_TICK) return;
      const action = ctx.db.claimAction(task.actionKind, subject, key);
      if (isTerminal(action.status)) return;
      sends++;
      await carry(action);
    },
    log,
  );
  return result;
}

// ------------------------------------------------------------------ storage-market tasks

/** The storage market's upkeep tasks, each with its own paging cursor. */
export function storageKeeperTasks(): KeeperTask[] {
  return [terminateFaultyTask(), terminateUnfundedTask(), finalizeTask(), settleTask()];
}

/** IStorageMarket.Status.Finalized. */
const FINALIZED = 3n;

function terminateFaultyTask(): KeeperTask {
  let afterId = 0n;
  return {
    name: "terminateFaulty",
    actionKind: TERMINATE_FAULTY,
    enabled: (config) => config.keeper.terminateFaulty,
    plan: (ctx, action) => {
      const id = BigInt(action.subject);
      return {
        ...endingPlan(ctx, id),
        simulate: () => ctx.chain.market.terminateFaultyDataSet.staticCall(id),
        send: () => ctx.chain.market.terminateFaultyDataSet(id),
        reward: (receipt) => slashBounty(ctx, receipt, id),
        onConfirmed: (_receipt, reward) => {
          if (reward !== null && reward > 0n) ctx.metrics.bountyEarned.inc(Number(reward));
        },
      };
    },
    async findWork(ctx, act) {
      const { market } = ctx.chain;
      const maxFaults = Number((await ctx.chain.read("parameters", () => market.parameters())).maxFaults);
      const ids = dutyQueries(ctx.db).faultyCandidates(maxFaults, afterId, VIEWS_PER_TICK);
      afterId = ids.length < VIEWS_PER_TICK ? 0n : (ids[ids.length - 1] ?? 0n);
      let checked = 0;
      for (const id of ids) {
        checked++;
        // The market's own count decides (missed periods are caught up inside the call).
        const due = await market.terminateFaultyDataSet.staticCall(id).then(
          () => true,
          () => false,
        );
        if (due) await act(id.toString(), "");
      }
      return checked;
    },
  };
}

function terminateUnfundedTask(): KeeperTask {
  let afterId = 0n;
  return {
    name: "terminateUnfunded",
    actionKind: TERMINATE_UNFUNDED,
    enabled: (config) => config.keeper.terminateUnfunded,
    plan: (ctx, action) => {
      const id = BigInt(action.subject);
      return {
        ...endingPlan(ctx, id),
        raceErrors: ["MarketWrongStatus", "MarketStillFunded"],
        simulate: () => ctx.chain.market.terminateUnfunded.staticCall(id),
        send: () => ctx.chain.market.terminateUnfunded(id),
      };
    },
    async findWork(ctx, act) {
      const { market } = ctx.chain;
      const ids = dutyQueries(ctx.db).liveIds(afterId, VIEWS_PER_TICK);
      afterId = ids.length < VIEWS_PER_TICK ? 0n : (ids[ids.length - 1] ?? 0n);
      for (const id of ids) {
        const unfunded = await market.terminateUnfunded.staticCall(id).then(
          () => true,
          () => false,
        );
        if (unfunded) await act(id.toString(), "");
      }
      return ids.length;
    },
  };
}

function finalizeTask(): KeeperTask {
  let afterId = 0n;
  return {
    name: "finalize",
    actionKind: FINALIZE,
    enabled: (config) => config.keeper.finalizeExpired,
    plan: (ctx, action) => {
      const id = BigInt(action.subject);
      return {
        ...endingPlan(ctx, id),
        raceErrors: ["MarketWrongStatus", "MarketNotOver"],
        simulate: () => ctx.chain.market.finalizeDataSet.staticCall(id),
        send: () => ctx.chain.market.finalizeDataSet(id),
      };
    },
    async findWork(ctx, act) {
      const { chain } = ctx;
      const { market } = chain;
      const current = chain.periodAt(await chain.now());
      const ids = dutyQueries(ctx.db).finalizeCandidates(current, afterId, VIEWS_PER_TICK);
      afterId = ids.length < VIEWS_PER_TICK ? 0n : (ids[ids.length - 1] ?? 0n);
      for (const id of ids) {
        const due = await market.finalizeDataSet.staticCall(id).then(
          () => true,
          () => false,
        );
        // Key: the data set's indexed span (a finalize first removes it from its class, then closes it: two steps).
        if (due) await act(id.toString(), (ctx.db.dataSetById(id)?.span ?? 0n) === 0n ? "close" : "remove");
      }
      return ids.length;
    },
  };
}

function settleTask(): KeeperTask {
  const blockTimes = new Map<number, bigint>();
  return {
    name: "settle",
    actionKind: SETTLE,
    enabled: (config) => config.keeper.settleAfterSeconds > 0,
    plan: (ctx, action) => {
      const { market } = ctx.chain;
      let ids = action.subject.split(",").map((id) => BigInt(id));
      return {
        raceErrors: [],
        async recheck() {
          const due: bigint[] = [];
          for (const id of ids) {
            const amount = await ctx.chain.read("settleableAmount", () => market.settleableAmount(id));
            if (amount > 0n) due.push(id);
          }
          if (due.length === 0) return { status: "skipped", reason: "nothing to settle" };
          ids = due;
          return undefined;
        },
        simulate: () => market.settleDataSets.staticCall(ids),
        send: () => market.settleDataSets(ids),
      };
    },
    async findWork(ctx, act) {
      const { chain } = ctx;
      const now = await chain.now();
      const after = BigInt(ctx.config.keeper.settleAfterSeconds);
      const batchSize = ctx.config.keeper.settleBatchSize;
      let checked = 0;
      let batch: bigint[] = [];
      // Least recently settled first: stop at the first data set settled recently enough.
      for (const { dataSetId, lastBlock } of dutyQueries(ctx.db).settleCandidates(VIEWS_PER_TICK * 4)) {
        let at = blockTimes.get(lastBlock);
        if (at === undefined) {
          checked++;
          const block = await chain.read("block", () => chain.provider.getBlock(lastBlock));
          if (!block) break;
          at = BigInt(block.timestamp);
          if (blockTimes.size > 4 * VIEWS_PER_TICK) blockTimes.clear();
          blockTimes.set(lastBlock, at);
        }
        if (now - at < after) break;
        batch.push(dataSetId);
        if (batch.length === batchSize) {
          await act(batch.join(","), now.toString());
          batch = [];
        }
      }
      if (batch.length > 0) await act(batch.join(","), now.toString());
      return checked;
    },
  };
}

/** Recheck and race handling shared by the actions that end a data set (it may have ended meanwhile). */
function endingPlan(ctx: WorkerContext, id: bigint): Pick<ActionPlan, "recheck" | "raceErrors"> {
  return {
    raceErrors: ["MarketWrongStatus"],
    async recheck() {
      const view = await ctx.chain.read("dataSet", () => ctx.chain.market.dataSet(id));
      if (view.status === 0n) return { status: "skipped", reason: `data set ${id} does not exist` };
      return view.status === FINALIZED
        ? { status: "lost-race", reason: "the data set has already been finalized" }
        : undefined;
    },
  };
}

/** The reporter's share of the Slashed event of data set `id` in `receipt` (credited to the caller). */
function slashBounty(ctx: WorkerContext, receipt: TransactionReceipt, id: bigint): bigint | null {
  const { market } = ctx.chain;
  const address = ctx.config.deployment.market.toLowerCase();
  for (const entry of receipt.logs) {
    if (entry.address.toLowerCase() !== address) continue;
    const parsed = market.interface.parseLog(entry);
    if (parsed?.name !== "Slashed") continue;
    const [, dataSetId, , toReporter] = parsed.args as unknown as [string, bigint, bigint, bigint];
    if (dataSetId === id) return toReporter;
  }
  return null;
}
