/**
 * Lease duties, every tick:
 * 1. LeaseStarted events naming this provider (cursor in the database) are recorded as leases.
 * 2. Heartbeats first (they are what the provider is slashed for): for each live lease, closed periods left
 *    without a heartbeat (after downtime) are reported first (the market wants every earlier period resolved,
 *    and reporting our own misses costs their penalty less the reporter share, which is ours), then the current period's heartbeat is posted as
 *    soon as it is due, early in the period rather than near its end.
 * 3. Leases that are over are closed (Expired or ProviderWithNotice; InsufficientFunds for an overdrawn
 *    lease, which pays this provider the close bounty), leases closed by others are noticed; either way the
 *    workload is stopped.
 * 4. Workloads start once the tenant's description is in (PUT /v1/workloads/:hash); a workload stopped by an
 *    agent shutdown resumes while its lease is live; one that exited by itself is not restarted.
 * 5. Leases are settled every `settleEverySeconds` and the compute market balance withdrawn.
 */
import {
  findPostedOrder,
  closeReasonIndex,
  closeReasonName,
  type CloseReason,
} from "../../sdk/compute/orders.js";
import { parseWorkloadJson, type WorkloadDescription } from "../../sdk/compute/workload.js";
import type { LeaseRecord } from "../db.js";
import type { Logger } from "../../runtime/logger.js";
import { computeRevertName, LEASES_CURSOR_KEY, scanBlocks, type ComputeContext } from "./context.js";
import { effectiveLimits } from "./workloads.js";
import { sendMissedHeartbeatsReport } from "../../sdk/compute/reportGas.js";

export interface LeaseDutyResult {
  discovered: bigint[];
  heartbeats: { leaseId: bigint; period: bigint }[];
  reportedOwnMisses: bigint[];
  closed: { leaseId: bigint; reason: string; byUs: boolean }[];
  started: bigint[];
  settled: { leaseId: bigint; amount: bigint }[];
  withdrawn: bigint;
}

type Accrual = Awaited<ReturnType<ComputeContext["market"]["leaseAccrual"]>>;

export async function runLeaseDuties(ctx: ComputeContext): Promise<LeaseDutyResult> {
  const log = ctx.logger.child({ duty: "leases" });
  const result: LeaseDutyResult = {
    discovered: [],
    heartbeats: [],
    reportedOwnMisses: [],
    closed: [],
    started: [],
    settled: [],
    withdrawn: 0n,
  };
  result.discovered = await discoverLeases(ctx, log);

  const live: { lease: LeaseRecord; accrual: Accrual }[] = [];
  for (const lease of ctx.db.compute.activeLeases()) {
    try {
      const accrual = await heartbeat(ctx, lease, result, log);
      if (accrual) live.push({ lease, accrual });
    } catch (error) {
      log.error({ err: error, leaseId: lease.id, revert: computeRevertName(error) }, "heartbeat duty failed");
    }
  }
  for (const { lease, accrual } of live) {
    try {
      if (await closeIfOver(ctx, lease, accrual, result, log)) continue;
      await ensureWorkload(ctx, lease, result, log);
      await settle(ctx, lease, accrual, result, log);
    } catch (error) {
      log.error({ err: error, leaseId: lease.id, revert: computeRevertName(error) }, "lease duty failed");
    }
  }
  result.withdrawn = await withdrawEarnings(ctx, log);
  return result;
}

/** Record LeaseStarted events for this provider since the cursor. */
async function discoverLeases(ctx: ComputeContext, log: Logger): Promise<bigint[]> {
  const { market, db, chain } = ctx;
  const found: bigint[] = [];
  // Nothing can have started before the earliest order this agent recorded.
  const first = db.compute.ordersIn(["bidding", "bid", "won", "released", "rejected"])[0];
  const start = first?.createdBlock ?? (await chain.blockNumber());
  await scanBlocks(ctx, LEASES_CURSOR_KEY, start, async (from, to) => {
    const events = await market.queryFilter(
      market.filters.LeaseStarted(undefined, undefined, chain.me),
      from,
      to,
    );
    for (const event of events) {
      const a = event.args;
      if (db.compute.lease(a.leaseId)) continue;
      const order = db.compute.order(a.leaseId);
      const request = order?.request ?? (await findPostedOrder(market, a.leaseId)).request;
      db.compute.insertLease({
        id: a.leaseId,
        tenant: a.tenant,
        workloadHash: request.workloadHash,
        resources: request.resources,
        gpuModel: order?.bid?.gpuModel ?? null,
        pricePerSecond: a.pricePerSecond,
        collateral: a.collateral,
        noticeWindow: Number(a.noticeWindow),
        startedAt: a.startedAt,
        endsAt: a.endsAt,
        heartbeatPeriod: a.heartbeatPeriod,
        startedBlock: event.blockNumber,
      });
      found.push(a.leaseId);
      log.info(
        {
          leaseId: a.leaseId,
          tenant: a.tenant,
          pricePerSecond: a.pricePerSecond,
          endsAt: a.endsAt,
          txHash: event.transactionHash,
        },
        "lease started",
      );
    }
  });
  return found;
}

/**
 * Report our own unresolved periods if any, then post the current heartbeat if due. Returns the lease's
 * accrual afterwards, or undefined when the lease is no longer live (recorded as closed, workload stopped).
 */
async function heartbeat(
  ctx: ComputeContext,
  lease: LeaseRecord,
  result: LeaseDutyResult,
  log: Logger,
): Promise<Accrual | undefined> {
  const { market, chain, db } = ctx;
  let accrual = await market.leaseAccrual(lease.id);
  if (!accrual.active) {
    await noticeClosed(ctx, lease, result, log);
    return undefined;
  }
  if (accrual.reportablePeriods > 0n) {
    try {
      const receipt = await chain.execute(
        () => market.reportMissedHeartbeats.staticCall(lease.id),
        () => sendMissedHeartbeatsReport(market, lease.id),
      );
      result.reportedOwnMisses.push(lease.id);
      log.warn(
        { leaseId: lease.id, periods: accrual.reportablePeriods, txHash: receipt.hash },
        "heartbeat periods were missed (agent down?); reported them to resume heartbeats",
      );
    } catch (error) {
      // Someone else may have reported them first; the accrual read below tells.
      log.warn(
        { err: error, leaseId: lease.id, revert: computeRevertName(error) },
        "reporting missed periods failed",
      );
    }
    accrual = await market.leaseAccrual(lease.id);
    if (!accrual.active) {
      await noticeClosed(ctx, lease, result, log);
      return undefined;
    }
  }
  if (accrual.heartbeatDue && accrual.reportablePeriods === 0n) {
    const period = accrual.currentPeriod;
    try {
      const receipt = await chain.execute(
        () => market.heartbeat.staticCall(lease.id),
        () => market.heartbeat(lease.id),
      );
      db.compute.setHeartbeat(lease.id, period);
      result.heartbeats.push({ leaseId: lease.id, period });
      log.debug(
        { leaseId: lease.id, period, txHash: receipt.hash, gasUsed: receipt.gasUsed },
        "heartbeat posted",
      );
    } catch (error) {
      // Retried next tick; the lease's other duties (closing an ended lease) still run.
      log.error(
        { err: error, leaseId: lease.id, period, revert: computeRevertName(error) },
        "heartbeat failed",
      );
    }
    accrual = await market.leaseAccrual(lease.id);
  }
  return accrual;
}

/** Close a lease that is over (duration reached, notice run out, escrow exhausted). True when closed. */
async function closeIfOver(
  ctx: ComputeContext,
  lease: LeaseRecord,
  accrual: Accrual,
  result: LeaseDutyResult,
  log: Logger,
): Promise<boolean> {
  const { market, chain } = ctx;
  let reason: CloseReason | undefined;
  if (accrual.ended) {
    const onChain = await market.getLease(lease.id);
    reason = onChain.noticeGiven ? "ProviderWithNotice" : "Expired";
  } else if (accrual.overdrawn) {
    reason = "InsufficientFunds";
  }
  if (reason === undefined) return false;
  const index = closeReasonIndex(reason);
  try {
    const receipt = await chain.execute(
      () => market.closeLease.staticCall(lease.id, index),
      () => market.closeLease(lease.id, index),
    );
    log.info({ leaseId: lease.id, reason, txHash: receipt.hash }, "lease closed");
    await finish(ctx, lease, reason, true, result);
  } catch (error) {
    // Someone else closed it first (anyone may): noticed on the next tick.
    log.warn(
      { err: error, leaseId: lease.id, reason, revert: computeRevertName(error) },
      "closing a lease failed",
    );
  }
  return true;
}

/** The lease is gone on chain: find why, record it, stop the workload. */
async function noticeClosed(
  ctx: ComputeContext,
  lease: LeaseRecord,
  result: LeaseDutyResult,
  log: Logger,
): Promise<void> {
  const { market } = ctx;
  const events = await market.queryFilter(market.filters.LeaseClosed(lease.id), lease.startedBlock);
  const last = events[events.length - 1];
  const reason = last ? closeReasonName(last.args.reason) : "closed";
  log.info(
    { leaseId: lease.id, reason, closer: last?.args.closer, txHash: last?.transactionHash },
    "lease closed on chain",
  );
  await finish(ctx, lease, reason, false, result);
}

async function finish(
  ctx: ComputeContext,
  lease: LeaseRecord,
  reason: string,
  byUs: boolean,
  result: LeaseDutyResult,
): Promise<void> {
  ctx.db.compute.closeLease(lease.id, reason);
  result.closed.push({ leaseId: lease.id, reason, byUs });
  await ctx.supervisor.end(lease.id, `lease closed (${reason})`);
}

/** The manifest version a lease runs: the latest signed update, else version 1 (the order's manifest). */
export function currentManifest(
  ctx: Pick<ComputeContext, "db">,
  lease: Pick<LeaseRecord, "id" | "workloadHash">,
): { version: number; hash: string; manifest: WorkloadDescription | undefined } {
  const stored = ctx.db.getKv(manifestKey(lease.id));
  const { version, hash } =
    stored === undefined
      ? { version: 1, hash: lease.workloadHash }
      : (JSON.parse(stored) as { version: number; hash: string });
  const description = ctx.db.compute.workload(hash)?.description;
  return { version, hash, manifest: description === undefined ? undefined : parseWorkloadJson(description) };
}

export function setCurrentManifest(
  ctx: Pick<ComputeContext, "db">,
  leaseId: bigint,
  current: { version: number; hash: string },
): void {
  ctx.db.setKv(manifestKey(leaseId), JSON.stringify(current));
}

function manifestKey(leaseId: bigint): string {
  return `compute.lease.${leaseId}.manifest`;
}

/** Start the lease's current manifest (no-op when it is not in yet). True when started. */
export async function startLeaseWorkload(ctx: ComputeContext, lease: LeaseRecord): Promise<boolean> {
  const { supervisor, chain } = ctx;
  const { manifest } = currentManifest(ctx, lease);
  if (manifest === undefined) return false; // the tenant has not sent it yet
  const onChain = await ctx.market.getLease(lease.id);
  const limits = effectiveLimits(
    manifest,
    { resources: lease.resources, endsAt: onChain.endsAt },
    await chain.now(),
  );
  await supervisor.start(lease, manifest, limits);
  return true;
}

/** Start (or resume) the workload when its manifest is in and it is not running. */
async function ensureWorkload(
  ctx: ComputeContext,
  lease: LeaseRecord,
  result: LeaseDutyResult,
  log: Logger,
): Promise<void> {
  const { supervisor, db } = ctx;
  if (supervisor.isRunning(lease.id)) return;
  const current = db.compute.lease(lease.id) ?? lease;
  if (current.runState === "exited" || current.runState === "unrunnable") return;
  if (!(await startLeaseWorkload(ctx, current))) return;
  result.started.push(lease.id);
  if (current.runState === "stopped") log.info({ leaseId: lease.id }, "workload resumed");
}

async function settle(
  ctx: ComputeContext,
  lease: LeaseRecord,
  accrual: Accrual,
  result: LeaseDutyResult,
  log: Logger,
): Promise<void> {
  const { market, chain, db } = ctx;
  if (accrual.settleable === 0n) return;
  const now = await chain.now();
  const since = db.compute.lease(lease.id)?.lastSettledAt ?? lease.startedAt;
  if (now - since < BigInt(ctx.compute.settleEverySeconds)) return;
  const receipt = await chain.execute(
    () => market.settleLease.staticCall(lease.id),
    () => market.settleLease(lease.id),
  );
  db.compute.setSettled(lease.id, now);
  // What was credited, from the receipt (more time streamed since the accrual was read).
  let amount = accrual.settleable;
  for (const entry of receipt.logs) {
    const parsed = market.interface.parseLog(entry);
    if (parsed?.name === "LeaseSettled") amount = parsed.args.getValue("amount") as bigint;
  }
  result.settled.push({ leaseId: lease.id, amount });
  log.info({ leaseId: lease.id, amount, txHash: receipt.hash }, "lease settled");
}

/** Withdraw the provider's compute market balance (payments, close bounties) to its payee. */
async function withdrawEarnings(ctx: ComputeContext, log: Logger): Promise<bigint> {
  const { market, chain } = ctx;
  const balance = await market.balanceOf(chain.me);
  if (balance === 0n) return 0n;
  try {
    const receipt = await chain.execute(
      () => market.withdraw.staticCall(balance),
      () => market.withdraw(balance),
    );
    log.info({ amount: balance, txHash: receipt.hash }, "compute earnings withdrawn");
    return balance;
  } catch (error) {
    log.error({ err: error, revert: computeRevertName(error) }, "withdrawing compute earnings failed");
    return 0n;
  }
}
