/**
 * The keeper: permissionless upkeep of the storage market, each step decided once through `actions`.
 * - terminate-faulty: deals whose faults (missed + declared) reached `maxFaults` are terminated; the caller
 *   earns the fault-termination bounty. Only deals that can have that many faults per the index (their
 *   provider was reported missing periods, or they were declared faulty) are read with `dealFaults`, a
 *   bounded number per tick.
 * - finalize: deals past their end period whose last period is resolved are finalized (client refund,
 *   collateral back), one period after the end so the provider's own agent normally does it first.
 * - settle: with `keeper.settleAfterSeconds` > 0, deals not settled for that long (chain time) are settled.
 * Work per tick is bounded (views and transactions per task); paging cursors carry on next tick.
 */
import type { TransactionReceipt } from "ethers";
import type { DealTerms } from "../../sdk/deals/terms.js";
import { faultRunHint, foldFaultRuns } from "../../sdk/deals/faultRuns.js";
import type { WorkerConfig } from "../config.js";
import type { Duty, WorkerContext } from "../context.js";
import { dealTerms, type ActionRecord } from "../db/index.js";
import type { Logger } from "../../runtime/logger.js";
import { ACTIVE_STATUSES, carryAction, isTerminal, type ActionPlan } from "./actions.js";
import { logClaimable } from "./claimable.js";
import { dutyQueries } from "./queries.js";
import { StrataError } from "../../sdk/errors.js";

export const TERMINATE_FAULTY = "terminate-faulty";
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
  return [terminateFaultyTask(), finalizeTask(), settleTask()];
}

function terminateFaultyTask(): KeeperTask {
  let afterId = 0n;
  return {
    name: "terminateFaulty",
    actionKind: TERMINATE_FAULTY,
    enabled: (config) => config.keeper.terminateFaulty,
    plan: (ctx, action) => {
      const terms = termsOf(ctx, action);
      return {
        ...endingPlan(ctx, terms),
        simulate: () => ctx.chain.market.terminateFaultyDeal.staticCall(required(terms)),
        send: () => ctx.chain.market.terminateFaultyDeal(required(terms)),
        reward: (receipt) => slashBounty(ctx, receipt, action.subject),
        onConfirmed: (_receipt, reward) => {
          if (reward !== null && reward > 0n) ctx.metrics.bountyEarned.inc(Number(reward));
        },
      };
    },
    async findWork(ctx, act) {
      const { market } = ctx.chain;
      const maxFaults = Number((await ctx.chain.read("parameters", () => market.parameters())).maxFaults);
      const ids = dutyQueries(ctx.db).faultyDealCandidates(maxFaults, afterId, VIEWS_PER_TICK);
      afterId = ids.length < VIEWS_PER_TICK ? 0n : (ids[ids.length - 1] ?? 0n);
      let checked = 0;
      for (const id of ids) {
        const deal = ctx.db.dealById(id);
        if (!deal || deal.ended) continue;
        checked++;
        let faults: bigint;
        try {
          const [missed, declared] = await ctx.chain.read("dealFaults", () =>
            market.dealFaults(dealTerms(deal)),
          );
          faults = missed + declared;
        } catch {
          continue; // the deal ended meanwhile (MarketUnknownDeal): the index will catch up
        }
        if (faults >= BigInt(maxFaults)) await act(id.toString(), "");
      }
      return checked;
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
      const terms = termsOf(ctx, action);
      return {
        ...endingPlan(ctx, terms),
        simulate: () => ctx.chain.market.finalizeDeal.staticCall(required(terms)),
        send: () => ctx.chain.market.finalizeDeal(required(terms)),
      };
    },
    async findWork(ctx, act) {
      const { chain } = ctx;
      const current = chain.periodAt(await chain.now());
      // One period of grace after the end: the provider's agent finalizes its own deals before proving.
      const ids = dutyQueries(ctx.db).endedDealCandidates(current - 1n, afterId, VIEWS_PER_TICK);
      afterId = ids.length < VIEWS_PER_TICK ? 0n : (ids[ids.length - 1] ?? 0n);
      const resolvedUntil = new Map<string, bigint>();
      let checked = 0;
      for (const id of ids) {
        const deal = ctx.db.dealById(id);
        if (!deal || deal.ended) continue;
        let next = resolvedUntil.get(deal.provider);
        if (next === undefined) {
          checked++;
          next = (await chain.read("proofState", () => chain.market.proofState(deal.provider))).nextPeriod;
          resolvedUntil.set(deal.provider, next);
        }
        // Unresolved periods first go through a missed-proof report (missedProofs duty).
        if (next >= deal.endPeriod) await act(id.toString(), "");
      }
      return checked;
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
      const terms = termsOf(ctx, action);
      const { market } = ctx.chain;
      let hint = 0n;
      return {
        raceErrors: [],
        async recheck() {
          if (!terms) return { status: "skipped", reason: "the deal is not in the index" };
          const [stored] = await ctx.chain.read("dealState", () => market.dealState(terms.id));
          if (stored === 0n) return { status: "skipped", reason: "the deal has ended" };
          const due = await ctx.chain.read("settleableAmount", () => market.settleableAmount(terms));
          if (due === 0n) return { status: "skipped", reason: "nothing to settle" };
          hint = faultRunHint(
            foldFaultRuns(
              ctx.db.missedReports(terms.provider).map((r) => ({ fromPeriod: r.fromPeriod, count: r.count })),
            ),
            terms.startPeriod,
          );
          return undefined;
        },
        simulate: () => market.settleDealWithHint.staticCall(required(terms), hint),
        send: () => market.settleDealWithHint(required(terms), hint),
      };
    },
    async findWork(ctx, act) {
      const { chain } = ctx;
      const now = await chain.now();
      const current = chain.periodAt(now);
      const after = BigInt(ctx.config.keeper.settleAfterSeconds);
      let checked = 0;
      // Least recently settled first: stop at the first deal settled recently enough.
      for (const { dealId, lastBlock } of dutyQueries(ctx.db).settleCandidates(current, VIEWS_PER_TICK)) {
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
        await act(dealId.toString(), current.toString());
      }
      return checked;
    },
  };
}

/** Recheck and race handling shared by the actions that end a deal (it may have ended meanwhile). */
function endingPlan(
  ctx: WorkerContext,
  terms: DealTerms | undefined,
): Pick<ActionPlan, "recheck" | "raceErrors"> {
  return {
    raceErrors: ["MarketUnknownDeal"],
    async recheck() {
      if (!terms) return { status: "skipped", reason: "the deal is not in the index" };
      const [stored] = await ctx.chain.read("dealState", () => ctx.chain.market.dealState(terms.id));
      return stored === 0n ? { status: "lost-race", reason: "the deal has already ended" } : undefined;
    },
  };
}

function termsOf(ctx: WorkerContext, action: ActionRecord): DealTerms | undefined {
  const deal = ctx.db.dealById(BigInt(action.subject));
  return deal ? dealTerms(deal) : undefined;
}

function required(terms: DealTerms | undefined): DealTerms {
  if (terms === undefined) throw new StrataError("INTERNAL_INVARIANT", "deal terms were not loaded");
  return terms;
}

/** The reporter's share of the Slashed event of deal `subject` in `receipt` (credited to the caller). */
function slashBounty(ctx: WorkerContext, receipt: TransactionReceipt, subject: string): bigint | null {
  const { market } = ctx.chain;
  const address = ctx.config.deployment.market.toLowerCase();
  for (const entry of receipt.logs) {
    if (entry.address.toLowerCase() !== address) continue;
    const parsed = market.interface.parseLog(entry);
    if (parsed?.name !== "Slashed") continue;
    const [, id, , toReporter] = parsed.args as unknown as [string, bigint, bigint, bigint];
    if (id.toString() === subject) return toReporter;
  }
  return null;
}
