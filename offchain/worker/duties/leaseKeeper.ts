/**
 * The lease keeper: permissionless upkeep of the compute market's leases, each step decided once through the
 * actions log (recheck → simulate → send → receipt, see actions.ts).
 *
 * - report-missed-heartbeats (subject: lease id; key: the lease's `nextPeriod` when decided; a retry after a
 *   reverted report is `<nextPeriod>@<current period>`, at most one per heartbeat period). A closed
 *   heartbeat period without a heartbeat is reported with `reportMissedHeartbeats`; the reporter earns
 *   `reporterShareBps` of the `missedHeartbeatPenalty` per period slashed from the provider's collateral. The report that brings a lease's misses
 *   to its `maxMissedHeartbeats` also closes it for `MissedHeartbeats` (the contract applies that reason only
 *   there: `closeLease(…, MissedHeartbeats)` is refused to everyone).
 * - close-lease (subject: lease id; key: `InsufficientFunds@<fundedUntil>`). A lease whose escrow cannot pay
 *   the provider's resolved time is closed with `closeLease(…, InsufficientFunds)`; the closer earns the
 *   lease's close bounty buffer. `fundedUntil` does not move when the lease is settled and only grows with
 *   top-ups, so a lease that is topped up and runs dry again is a new decision.
 *
 * Reports go first: a lease both behind on heartbeats and overdrawn earns the report's bounty, then the
 * close's. The open leases' positions come from the index (kept in an `OpenLeaseBook`, refreshed only for
 * leases with new events); only leases the index cannot clear are read on chain (`leaseDue`: the index's
 * position never runs ahead of the chain, so a lease it clears is clear), at most LEASE_VIEWS_PER_TICK per
 * tick with a paging cursor, and at most LEASE_SENDS_PER_TICK new actions per tick. A read-only worker only
 * logs what is due.
 */
import { getAddress, ZeroAddress, type TransactionReceipt } from "ethers";
import { IComputeMarket__factory, type IComputeMarket } from "../../../typechain-types/index.js";
import { LeaseCloseReason } from "../../sdk/chain/enums.js";
import { closeReasonName } from "../../sdk/compute/orders.js";
import { ChainRevertError, decodeRevert, type Revert } from "../../sdk/chain/revert.js";
import type { Duty, WorkerContext } from "../context.js";
import type { ActionRecord, ActionStatus, IndexedLease } from "../db/index.js";
import { OpenLeaseBook } from "../db/leaseBook.js";
import type { Logger } from "../../runtime/logger.js";
import { ACTIVE_STATUSES, carryAction, isTerminal, type ActionPlan, type CarryResult } from "./actions.js";
import { StrataError } from "../../sdk/errors.js";
import { sendMissedHeartbeatsReport } from "../../sdk/compute/reportGas.js";

export const REPORT_MISSED_HEARTBEATS = "report-missed-heartbeats";
export const CLOSE_LEASE = "close-lease";

/** IComputeMarket.CloseReason values the keeper deals with. */
export const CLOSE_REASON = {
  MissedHeartbeats: LeaseCloseReason.indexOf("MissedHeartbeats"),
  InsufficientFunds: LeaseCloseReason.indexOf("InsufficientFunds"),
} as const;

/** Leases read on chain per tick. */
export const LEASE_VIEWS_PER_TICK = 100;
/** New lease actions per tick. */
export const LEASE_SENDS_PER_TICK = 10;

/** What one run did. */
export interface LeaseKeeperResult {
  /** Open leases in the index. */
  tracked: number;
  /** Leases the index could not clear (due per `leaseDue`). */
  candidates: number;
  /** Leases read on chain. */
  checked: number;
  /** Leases found with closed periods to report. */
  missed: number;
  /** Leases found overdrawn. */
  overdrawn: number;
  reported: number;
  closed: number;
  lostRace: number;
  skipped: number;
  /** Actions still pending or sent (account busy, receipt not yet in). */
  waiting: number;
}

/** State kept between ticks (one per worker). */
export interface LeaseKeeperState {
  /** Candidates with an id above this are read next tick (0: start over). */
  afterId: bigint;
  /** The open leases' positions, refreshed from the index incrementally. */
  book: OpenLeaseBook;
}

export function newLeaseKeeperState(): LeaseKeeperState {
  return { afterId: 0n, book: new OpenLeaseBook() };
}

/** The lease keeper duty (its own paging cursor and lease book per worker). */
export function leaseKeeperDuty(): Duty {
  const state = newLeaseKeeperState();
  return {
    name: "leaseKeeper",
    run: async (ctx) => ({ ...(await runLeaseKeeper(ctx, state)) }),
  };
}

/** What the index says may be due for `lease` at chain time `now` (a superset of what the chain says). */
export interface LeaseDue {
  /** A closed period may lack its heartbeat. */
  missedHeartbeats: boolean;
  /** The escrow may not cover the provider's time. */
  overdrawn: boolean;
}

/**
 * Which actions `lease` may need at `now`, from the index alone, with the contract's rules (LeaseMath):
 * - missed heartbeats: the periods before `min(current period, periods inside the lease)` are not all
 *   resolved;
 * - overdrawn: the paid horizon `min(now, end)` is past `fundedUntil = start + missed + paid + escrow / price`
 *   (the chain's horizon also stops at the first unresolved period, so this can only say "maybe").
 * The index trails the chain and every event moves the chain's position forward (heartbeats and reports raise
 * `nextPeriod`, top-ups and reports raise `fundedUntil`, notices lower the end), so a lease cleared here is
 * clear on chain.
 */
export function leaseDue(lease: IndexedLease, now: bigint): LeaseDue {
  const period = lease.heartbeatPeriod;
  if (now <= lease.startedAt || period === 0n || lease.pricePerSecond === 0n) {
    return { missedHeartbeats: false, overdrawn: false };
  }
  let upTo = (now - lease.startedAt) / period;
  if (lease.endsAt !== 0n) {
    const inLease =
      lease.endsAt > lease.startedAt ? (lease.endsAt - lease.startedAt + period - 1n) / period : 0n;
    if (inLease < upTo) upTo = inLease;
  }
  const horizon = lease.endsAt !== 0n && lease.endsAt < now ? lease.endsAt : now;
  const fundedUntil =
    lease.startedAt + lease.missedSeconds + lease.paidSeconds + lease.escrow / lease.pricePerSecond;
  return { missedHeartbeats: upTo > lease.nextPeriod, overdrawn: horizon > fundedUntil };
}

export async function runLeaseKeeper(
  ctx: WorkerContext,
  state: LeaseKeeperState = newLeaseKeeperState(),
): Promise<LeaseKeeperResult> {
  const result: LeaseKeeperResult = {
    tracked: 0,
    candidates: 0,
    checked: 0,
    missed: 0,
    overdrawn: 0,
    reported: 0,
    closed: 0,
    lostRace: 0,
    skipped: 0,
    waiting: 0,
  };
  const { chain, config, db } = ctx;
  const compute = chain.compute;
  const settings = config.leases;
  if (compute === null || !settings.enabled) return result;
  const log = ctx.logger.child({ duty: "leaseKeeper" });
  const open = state.book.sync(db);
  result.tracked = open.length;
  ctx.metrics.leasesTracked.set(result.tracked);
  const acting = !chain.readOnly;

  const count = (outcome: CarryResult, kind: string): void => {
    switch (outcome.status) {
      case "confirmed":
        if (kind === CLOSE_LEASE) result.closed++;
        else result.reported++;
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
  const carried = new Set<number>();
  const carry = async (action: ActionRecord): Promise<ActionStatus> => {
    carried.add(action.id);
    const plan = action.kind === CLOSE_LEASE ? closePlan(ctx, action) : reportPlan(ctx, action);
    const outcome = await carryAction(ctx, action, plan, log);
    count(outcome, action.kind);
    return outcome.status;
  };

  // Finish what earlier ticks (or a process that died) left in flight.
  if (acting) {
    for (const kind of [REPORT_MISSED_HEARTBEATS, CLOSE_LEASE]) {
      for (const action of db.actions({ kind, statuses: ACTIVE_STATUSES })) await carry(action);
    }
  }

  const now = await chain.now();
  const afterId = state.afterId;
  const due = open
    .filter((lease) => lease.id > afterId)
    .map((lease) => ({ lease, due: leaseDue(lease, now) }))
    .filter(
      ({ due }) =>
        (due.missedHeartbeats && settings.reportMissedHeartbeats) ||
        (due.overdrawn && settings.closeOverdrawn),
    );
  result.candidates = due.length;
  const batch = due.slice(0, LEASE_VIEWS_PER_TICK);
  state.afterId = due.length > LEASE_VIEWS_PER_TICK ? (batch[batch.length - 1]?.lease.id ?? 0n) : 0n;

  let sends = 0;
  const decide = async (kind: string, subject: string, key: string): Promise<ActionStatus | null> => {
    if (sends >= LEASE_SENDS_PER_TICK) return null;
    // One close per lease in flight: a second decision would close the same lease twice in the books.
    if (kind === CLOSE_LEASE && db.actions({ kind, subject, statuses: ACTIVE_STATUSES }).length > 0) {
      return null;
    }
    const action = db.claimAction(kind, subject, key);
    // Terminal, or already carried this tick (still waiting for its receipt or for the account).
    if (isTerminal(action.status) || carried.has(action.id)) return action.status;
    sends++;
    return carry(action);
  };

  for (const { lease } of batch) {
    const id = lease.id;
    let accrual = await chain.read("leaseAccrual", () => compute.leaseAccrual(id));
    result.checked++;
    if (!accrual.active) continue; // closed on chain; the index catches up
    const where = { leaseId: id, provider: lease.provider, tenant: lease.tenant };

    if (accrual.reportablePeriods > 0n && settings.reportMissedHeartbeats) {
      result.missed++;
      const stored = await chain.read("getLease", () => compute.getLease(id));
      const missed = { ...where, fromPeriod: stored.nextPeriod, periods: accrual.reportablePeriods };
      if (!acting) {
        log.info(missed, "missed heartbeats (read-only: not reporting)");
      } else {
        log.info(missed, "missed heartbeats: reporting");
        let status = await decide(REPORT_MISSED_HEARTBEATS, id.toString(), stored.nextPeriod.toString());
        if (status === "reverted") {
          // The report's transaction reverted although its simulation passed (the chain moved between the two)
          // and the periods are still unreported: decide again, once per heartbeat period.
          const retry = `${stored.nextPeriod}@${accrual.currentPeriod}`;
          log.warn({ ...missed, key: retry }, "the last report reverted: reporting again");
          status = await decide(REPORT_MISSED_HEARTBEATS, id.toString(), retry);
        }
        if (status === "confirmed") {
          // The report may have closed the lease (limit reached); the overdraft is judged on the new state.
          accrual = await chain.read("leaseAccrual", () => compute.leaseAccrual(id));
        }
      }
    }

    if (accrual.active && accrual.overdrawn && settings.closeOverdrawn) {
      result.overdrawn++;
      const overdrawn = { ...where, fundedUntil: accrual.fundedUntil };
      if (!acting) {
        log.info(overdrawn, "overdrawn lease (read-only: not closing)");
      } else {
        log.info(overdrawn, "overdrawn lease: closing");
        await decide(CLOSE_LEASE, id.toString(), `InsufficientFunds@${accrual.fundedUntil}`);
      }
    }
  }
  if (result.reported > 0 || result.closed > 0) await logComputeClaimable(ctx, compute, log);
  return result;
}

// ------------------------------------------------------------------ plans

/**
 * The plan of a `report-missed-heartbeats` action: subject = lease id, key = its nextPeriod when decided (a
 * retry's key adds `@<period>` of the retry).
 */
export function reportPlan(ctx: WorkerContext, action: ActionRecord): ActionPlan {
  const { chain, metrics } = ctx;
  const compute = computeOf(ctx);
  const leaseId = BigInt(action.subject);
  const fromPeriod = BigInt(action.key.split("@")[0] ?? action.key);
  return {
    raceErrors: ["ComputeNoMissedHeartbeats", "ComputeUnknownLease"],
    async recheck() {
      // Already reported (by us before a crash, or by someone else) and indexed?
      const indexed = ctx.db.leaseMissedReports(leaseId).find((r) => r.fromPeriod === fromPeriod);
      if (indexed) {
        return isMe(ctx, indexed.reporter)
          ? { status: "confirmed", reason: "reported", txHash: indexed.txHash, reward: indexed.bounty }
          : { status: "lost-race", reason: `reported by ${indexed.reporter}` };
      }
      const lease = await chain.read("getLease", () => compute.getLease(leaseId));
      if (lease.provider !== ZeroAddress && lease.nextPeriod <= fromPeriod) return undefined;
      // Resolved or closed meanwhile, in blocks the index has not reached: by this worker's own report?
      const own = await recentOwnEvents(ctx, compute, "MissedHeartbeatsReported", leaseId);
      for (const event of own) {
        const [, , from, , , bounty] = event.args as unknown as [
          bigint,
          string,
          bigint,
          bigint,
          bigint,
          bigint,
        ];
        if (from === fromPeriod) {
          return { status: "confirmed", reason: "reported", txHash: event.transactionHash, reward: bounty };
        }
      }
      return {
        status: "lost-race",
        reason:
          lease.provider === ZeroAddress
            ? "the lease closed meanwhile"
            : `period ${fromPeriod} was resolved meanwhile`,
      };
    },
    simulate: () => simulate(() => compute.reportMissedHeartbeats.staticCall(leaseId)),
    // Room for the close the report may reach by the block it lands in (sdk/compute/reportGas.ts).
    send: () => sendMissedHeartbeatsReport(compute, leaseId),
    reward: (receipt) => {
      const event = eventIn(ctx, compute, receipt, "MissedHeartbeatsReported", leaseId);
      if (event === undefined) return null;
      const [, reporter, , , , bounty] = event as [bigint, string, bigint, bigint, bigint, bigint];
      return isMe(ctx, reporter) ? bounty : null;
    },
    onConfirmed: (receipt, reward) => {
      metrics.leaseReports.inc();
      if (reward !== null && reward > 0n) metrics.bountyEarned.inc(Number(reward));
      // The report that reaches the limit closes the lease for MissedHeartbeats.
      const closed =
        receipt === null
          ? ctx.db.leaseById(leaseId)?.closed
          : closedIn(eventIn(ctx, compute, receipt, "LeaseClosed", leaseId));
      if (closed && isMe(ctx, closed.closer) && closed.reason === CLOSE_REASON.MissedHeartbeats) {
        metrics.leasesClosed.inc({ reason: closeReasonName(closed.reason) });
      }
    },
    onLostRace: () => {
      metrics.leaseRacesLost.inc({ action: REPORT_MISSED_HEARTBEATS });
    },
  };
}

/** The plan of a `close-lease` action: subject = lease id, key = `InsufficientFunds@<fundedUntil>`. */
export function closePlan(ctx: WorkerContext, action: ActionRecord): ActionPlan {
  const { chain, metrics } = ctx;
  const compute = computeOf(ctx);
  const leaseId = BigInt(action.subject);
  const reason = CLOSE_REASON.InsufficientFunds;
  const closedBy = (closer: string, closedFor: number, txHash: string, bounty: bigint) => {
    if (!isMe(ctx, closer)) {
      return { status: "lost-race" as const, reason: `closed by ${closer} (${closeReasonName(closedFor)})` };
    }
    if (closedFor !== reason) {
      return { status: "skipped" as const, reason: `closed by this worker (${closeReasonName(closedFor)})` };
    }
    const confirmedElsewhere = ctx.db
      .actions({ kind: CLOSE_LEASE, subject: action.subject, statuses: ["confirmed"] })
      .some((other) => other.id !== action.id);
    return confirmedElsewhere
      ? { status: "skipped" as const, reason: "closed by another action of this worker" }
      : { status: "confirmed" as const, reason: "closed", txHash, reward: bounty };
  };
  return {
    raceErrors: ["ComputeUnknownLease"],
    async recheck() {
      const indexed = ctx.db.leaseById(leaseId)?.closed;
      if (indexed) return closedBy(indexed.closer, indexed.reason, indexed.txHash, indexed.bountyToCloser);
      const accrual = await chain.read("leaseAccrual", () => compute.leaseAccrual(leaseId));
      if (!accrual.active) {
        const [own] = await recentOwnEvents(ctx, compute, "LeaseClosed", leaseId);
        const closed = own === undefined ? undefined : closedIn(own.args);
        if (own !== undefined && closed !== undefined) {
          return closedBy(closed.closer, closed.reason, own.transactionHash, closed.bountyToCloser);
        }
        return { status: "lost-race", reason: "the lease closed meanwhile" };
      }
      if (!accrual.overdrawn) return { status: "skipped", reason: "the lease is funded again" };
      return undefined;
    },
    simulate: () => simulate(() => compute.closeLease.staticCall(leaseId, reason)),
    send: () => compute.closeLease(leaseId, reason),
    reward: (receipt) => {
      const closed = closedIn(eventIn(ctx, compute, receipt, "LeaseClosed", leaseId));
      return closed && isMe(ctx, closed.closer) ? closed.bountyToCloser : null;
    },
    onConfirmed: (_receipt, reward) => {
      metrics.leasesClosed.inc({ reason: closeReasonName(reason) });
      if (reward !== null && reward > 0n) metrics.bountyEarned.inc(Number(reward));
    },
    onLostRace: () => {
      metrics.leaseRacesLost.inc({ action: CLOSE_LEASE });
    },
  };
}

// ------------------------------------------------------------------ helpers

const COMPUTE_ERRORS = IComputeMarket__factory.createInterface();

function computeOf(ctx: WorkerContext): IComputeMarket {
  const compute = ctx.chain.compute;
  if (compute === null) throw new StrataError("INTERNAL_INVARIANT", "the deployment has no compute market");
  return compute;
}

function isMe(ctx: WorkerContext, who: string): boolean {
  return ctx.chain.me !== null && getAddress(who) === ctx.chain.me;
}

/**
 * Run a compute-market simulation; a revert is rethrown as CHAIN_REVERT naming the market's custom error, so
 * the actions log can tell a lost race from a refusal whatever errors the shared decoder knows.
 */
async function simulate(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return await call();
  } catch (error) {
    const revert = decodeRevert(error) ?? computeRevert(error);
    throw revert === undefined ? error : new ChainRevertError("simulation reverted", revert, error);
  }
}

/** The compute market's custom error in an ethers / node error (its `revert`, or revert data found in it). */
export function computeRevert(error: unknown, depth = 0): Revert | undefined {
  if (depth > 5 || typeof error !== "object" || error === null) return undefined;
  const record = error as Record<string, unknown>;
  const named = record.revert;
  if (typeof named === "object" && named !== null && typeof (named as { name?: unknown }).name === "string") {
    const { name, args } = named as { name: string; args?: unknown };
    return { name, args: Array.isArray(args) ? [...(args as unknown[])] : [] };
  }
  const data = record.data;
  if (typeof data === "string" && /^0x[0-9a-fA-F]{8}/.test(data)) {
    try {
      const parsed = COMPUTE_ERRORS.parseError(data);
      if (parsed) return { name: parsed.name, args: [...parsed.args] };
    } catch {
      // not a compute-market error
    }
  }
  for (const key of ["error", "info", "cause", "data"]) {
    const found = computeRevert(record[key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** The args of the compute market's `name` event about `leaseId` in `receipt`, if any. */
function eventIn(
  ctx: WorkerContext,
  compute: IComputeMarket,
  receipt: TransactionReceipt,
  name: "MissedHeartbeatsReported" | "LeaseClosed",
  leaseId: bigint,
): unknown[] | undefined {
  const address = ctx.config.deployment.computeMarket?.toLowerCase();
  for (const entry of receipt.logs) {
    if (entry.address.toLowerCase() !== address) continue;
    const parsed = compute.interface.parseLog(entry);
    if (parsed?.name !== name) continue;
    const args = [...parsed.args] as unknown[];
    if (args[0] === leaseId) return args;
  }
  return undefined;
}

/** LeaseClosed args as a record. */
function closedIn(
  args: readonly unknown[] | undefined,
): { reason: number; closer: string; bountyToCloser: bigint } | undefined {
  if (args === undefined) return undefined;
  const [, reason, closer, , , bounty] = args as [bigint, bigint, string, bigint, bigint, bigint];
  return { reason: Number(reason), closer, bountyToCloser: bounty };
}

/**
 * This worker's `name` events about `leaseId` in blocks the index has not reached yet (both are indexed
 * topics, so this is one small eth_getLogs over the blocks above the cursor).
 */
async function recentOwnEvents(
  ctx: WorkerContext,
  compute: IComputeMarket,
  name: "MissedHeartbeatsReported" | "LeaseClosed",
  leaseId: bigint,
) {
  const me = ctx.chain.me;
  if (me === null) return [];
  const fromBlock = (ctx.db.cursor() ?? ctx.config.startBlock - 1) + 1;
  const filter =
    name === "MissedHeartbeatsReported"
      ? compute.filters.MissedHeartbeatsReported(leaseId, me)
      : compute.filters.LeaseClosed(leaseId, undefined, me);
  return ctx.chain.read(`eth_getLogs ${name}`, () => compute.queryFilter(filter, fromBlock, "latest"));
}

const lastClaimable = new WeakMap<WorkerContext, bigint>();

/** Log this worker's compute-market ledger balance (bounties to withdraw) when it changed. */
async function logComputeClaimable(ctx: WorkerContext, compute: IComputeMarket, log: Logger): Promise<void> {
  const me = ctx.chain.me;
  if (me === null) return;
  const balance = await ctx.chain.read("compute balanceOf", () => compute.balanceOf(me));
  if (lastClaimable.get(ctx) === balance) return;
  lastClaimable.set(ctx, balance);
  if (balance > 0n) {
    log.info(
      { computeMarket: balance, worker: me },
      "claimable lease bounties in the compute market's ledger",
    );
  }
}
