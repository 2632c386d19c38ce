/**
 * Carrying one on-chain action (a row of the `actions` table) to a terminal status, exactly once:
 *
 *   pending ──recheck──▶ lost-race | skipped | confirmed   (the chain already moved on)
 *      │
 *      └─simulate─▶ lost-race (a "someone was first" revert) | skipped (any other revert)
 *                └─send─▶ sent (tx hash and nonce stored BEFORE waiting) ──receipt──▶ confirmed | reverted
 *
 * A `sent` row found at the start of a tick (the process died while waiting) is resolved by its receipt; if
 * the receipt never comes and the worker's nonce has moved past the transaction's, the transaction was
 * dropped or replaced and the row goes back to `pending`, to be re-checked against the chain. A `pending` row
 * is never sent while the worker's account has transactions in flight: one may be this very action, sent
 * just before a crash and before its hash could be stored.
 */
import type { ContractTransactionResponse, TransactionReceipt } from "ethers";
import { decodeRevert } from "../../sdk/chain/revert.js";
import type { WorkerContext } from "../context.js";
import type { ActionRecord, ActionStatus } from "../db/index.js";
import type { Logger } from "../../runtime/logger.js";

/** What a plan's recheck found: a reason to stop, or nothing (go on and send). */
export type Recheck =
  | { status: "lost-race" | "skipped"; reason: string }
  | { status: "confirmed"; reason: string; txHash: string | null; reward: bigint | null }
  /** Not now (e.g. gas too expensive, bond not funded yet): stay pending, try again next tick. */
  | { status: "wait"; reason: string }
  | undefined;

/** How to carry out one action. */
export interface ActionPlan {
  /** Re-read the chain before sending: has the situation changed since the decision? */
  recheck(): Promise<Recheck>;
  simulate(): Promise<unknown>;
  send(): Promise<ContractTransactionResponse>;
  /** Custom errors meaning another account did it first (the action is then `lost-race`). */
  raceErrors: readonly string[];
  /** What the confirmed receipt earned this worker (bounty), if anything. */
  reward?(receipt: TransactionReceipt): bigint | null;
  /** Called once when the action is confirmed (metrics, logs). */
  onConfirmed?(receipt: TransactionReceipt | null, reward: bigint | null): void;
  /** Called once when another account won the race. */
  onLostRace?(reason: string): void;
  /** Called right after the transaction is broadcast. */
  onSent?(hash: string): void;
}

/** Where an action stands after `carryAction` (a terminal status, or still `pending` / `sent`). */
export interface CarryResult {
  status: ActionStatus;
  /** Why it is still pending or why it ended as it did. */
  reason?: string;
}

export const ACTIVE_STATUSES: readonly ActionStatus[] = ["pending", "sent"];

export function isTerminal(status: ActionStatus): boolean {
  return status !== "pending" && status !== "sent";
}

/**
 * Move `action` forward as far as it goes in this tick. Errors of the RPC (after retries) propagate: the row
 * keeps its status and the next tick picks it up again.
 */
export async function carryAction(
  ctx: WorkerContext,
  action: ActionRecord,
  plan: ActionPlan,
  log: Logger,
): Promise<CarryResult> {
  const where = { action: action.kind, subject: action.subject, key: action.key };
  if (isTerminal(action.status)) return { status: action.status };
  if (action.status === "sent") {
    const resolved = await resolveSent(ctx, action, plan, log);
    if (resolved.status !== "pending") return resolved;
    action = { ...action, status: "pending", txHash: null, nonce: null };
  }

  const recheck = await plan.recheck();
  if (recheck !== undefined) {
    switch (recheck.status) {
      case "wait":
        log.info({ ...where, reason: recheck.reason }, "action waits");
        return { status: "pending", reason: recheck.reason };
      case "confirmed":
        ctx.db.updateAction(action.id, {
          status: "confirmed",
          txHash: recheck.txHash,
          reward: recheck.reward,
          error: null,
        });
        plan.onConfirmed?.(null, recheck.reward);
        log.info({ ...where, reason: recheck.reason }, "action found done on chain");
        return { status: "confirmed", reason: recheck.reason };
      case "lost-race":
        ctx.db.updateAction(action.id, { status: "lost-race", error: recheck.reason });
        plan.onLostRace?.(recheck.reason);
        log.info({ ...where, reason: recheck.reason }, "another account acted first");
        return { status: "lost-race", reason: recheck.reason };
      case "skipped":
        ctx.db.updateAction(action.id, { status: "skipped", error: recheck.reason });
        log.info({ ...where, reason: recheck.reason }, "action no longer applies");
        return { status: "skipped", reason: recheck.reason };
    }
  }
  if (await accountBusy(ctx)) {
    return { status: "pending", reason: "the worker's account has transactions in flight" };
  }

  // Set from the send callback: whether a transaction was broadcast before an error.
  const sent: { hash: string | null } = { hash: null };
  try {
    const receipt = await ctx.chain.execute(
      () => plan.simulate(),
      () => plan.send(),
      (hash, nonce) => {
        sent.hash = hash;
        ctx.db.updateAction(action.id, { status: "sent", txHash: hash, nonce, error: null });
        plan.onSent?.(hash);
      },
    );
    return confirm(ctx, action, plan, receipt, log);
  } catch (error) {
    const revert = decodeRevert(error)?.name;
    if (sent.hash === null) {
      // Nothing was broadcast: the simulation reverted (or the send itself failed).
      if (revert !== undefined && plan.raceErrors.includes(revert)) {
        ctx.db.updateAction(action.id, { status: "lost-race", error: revert });
        plan.onLostRace?.(revert);
        log.info({ ...where, revert }, "another account acted first");
        return { status: "lost-race", reason: revert };
      }
      if (revert !== undefined) {
        ctx.db.updateAction(action.id, { status: "skipped", error: revert });
        log.warn({ ...where, revert }, "the chain refuses the action; giving it up");
        return { status: "skipped", reason: revert };
      }
      ctx.db.updateAction(action.id, { error: messageOf(error) });
      throw error;
    }
    // Broadcast, then the wait failed: the receipt decides (now, or on a later tick).
    return resolveSent(ctx, { ...action, status: "sent", txHash: sent.hash }, plan, log);
  }
}

/** Resolve a `sent` action by its receipt; `pending` when the transaction is gone and must be re-decided. */
async function resolveSent(
  ctx: WorkerContext,
  action: ActionRecord,
  plan: ActionPlan,
  log: Logger,
): Promise<CarryResult> {
  const { chain } = ctx;
  const hash = action.txHash;
  if (hash === null) return { status: "pending" };
  const receipt = await chain.read("eth_getTransactionReceipt", () =>
    chain.provider.getTransactionReceipt(hash),
  );
  if (receipt) {
    if (receipt.status === 1) return confirm(ctx, action, plan, receipt, log);
    ctx.db.updateAction(action.id, {
      status: "reverted",
      gasUsed: receipt.gasUsed,
      error: "the transaction reverted on chain",
    });
    log.warn({ action: action.kind, subject: action.subject, txHash: hash }, "action transaction reverted");
    return { status: "reverted" };
  }
  const me = chain.me;
  if (me !== null && action.nonce !== null) {
    const latest = await chain.read("eth_getTransactionCount", () =>
      chain.provider.getTransactionCount(me, "latest"),
    );
    if (latest > action.nonce) {
      // The nonce was used by another transaction and ours has no receipt: it was dropped or replaced.
      ctx.db.updateAction(action.id, {
        status: "pending",
        txHash: null,
        nonce: null,
        error: `transaction ${hash} was dropped`,
      });
      log.warn({ action: action.kind, subject: action.subject, txHash: hash }, "action transaction dropped");
      return { status: "pending", reason: "dropped" };
    }
  }
  return { status: "sent", reason: "waiting for the receipt" };
}

function confirm(
  ctx: WorkerContext,
  action: ActionRecord,
  plan: ActionPlan,
  receipt: TransactionReceipt,
  log: Logger,
): CarryResult {
  const reward = plan.reward?.(receipt) ?? null;
  ctx.db.updateAction(action.id, {
    status: "confirmed",
    txHash: receipt.hash,
    gasUsed: receipt.gasUsed,
    reward,
    error: null,
  });
  plan.onConfirmed?.(receipt, reward);
  log.info(
    {
      action: action.kind,
      subject: action.subject,
      key: action.key,
      txHash: receipt.hash,
      gasUsed: receipt.gasUsed,
      reward,
    },
    "action confirmed",
  );
  return { status: "confirmed" };
}

/** True when the worker's account has transactions broadcast but not mined. */
async function accountBusy(ctx: WorkerContext): Promise<boolean> {
  const { chain } = ctx;
  const me = chain.me;
  if (me === null) return false;
  const [latest, pending] = await chain.read("eth_getTransactionCount", () =>
    Promise.all([
      chain.provider.getTransactionCount(me, "latest"),
      chain.provider.getTransactionCount(me, "pending"),
    ]),
  );
  return pending > latest;
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 500 ? `${text.slice(0, 500)}...` : text;
}
