/**
 * Bidding duty: follow OrderCreated events (cursor in the database), judge each order with the price policy
 * (bidding.ts) and bid on those that fit; follow the bids until they are decided and take the collateral of
 * losing bids back (the market leaves that to each bidder, so accepting costs the same whatever the bids).
 *
 * Order states in the database: see `ComputeOrderState` (db/records.ts).
 */
import { BidStatus as BidStatusEnum, OrderStatus as OrderStatusEnum } from "../../sdk/chain/enums.js";
import { requestFromChain } from "../../sdk/compute/orders.js";
import type { ComputeOrderRecord } from "../db.js";
import type { Logger } from "../../runtime/logger.js";
import {
  addResources,
  decideBid,
  NO_RESOURCES,
  type BidPolicy,
  type Commitments,
  type NoticeBounds,
} from "./bidding.js";
import {
  computeRevertName,
  ORDER_LOOKBACK_BLOCKS,
  ORDERS_CURSOR_KEY,
  scanBlocks,
  type ComputeContext,
} from "./context.js";

const OrderStatus = OrderStatusEnum.value;
const BidStatus = BidStatusEnum.value;

/** Reverts after which the same bid may succeed later (stake freed, order still open). */
const RETRY_REVERTS = new Set(["RegistryInsufficientFreeStake", "ComputeTooManyBids", "EnforcedPause"]);

export interface BidderResult {
  discovered: bigint[];
  bid: { orderId: bigint; pricePerSecond: bigint; collateral: bigint }[];
  skipped: { orderId: bigint; reason: string }[];
  released: bigint[];
}

export interface BidderState {
  /** The "not registered" warning is logged once per process. */
  warnedUnregistered: boolean;
}

export function bidPolicy(ctx: ComputeContext): BidPolicy {
  const c = ctx.compute;
  return {
    prices: c.prices,
    minMarginBps: c.minMarginBps,
    collateralPerLease: c.collateralPerLease,
    collateralPriceSeconds: c.collateralPriceSeconds,
    noticeWindowSeconds: c.noticeWindowSeconds,
    maxConcurrentLeases: c.maxConcurrentLeases,
    capacity: c.capacity,
    region: c.region,
    minFundedSeconds: c.minFundedSeconds,
  };
}

/** Live leases plus bids being sent or active: what a new bid must fit beside. */
export function commitments(ctx: ComputeContext): Commitments {
  let used = NO_RESOURCES;
  let count = 0;
  for (const lease of ctx.db.compute.activeLeases()) {
    used = addResources(used, lease.resources, lease.gpuModel);
    count++;
  }
  for (const order of ctx.db.compute.ordersIn(["bidding", "bid"])) {
    used = addResources(used, order.request.resources, order.bid?.gpuModel ?? null);
    count++;
  }
  return { count, used };
}

export async function runBidder(ctx: ComputeContext, state: BidderState): Promise<BidderResult> {
  const log = ctx.logger.child({ duty: "bidder" });
  const result: BidderResult = { discovered: [], bid: [], skipped: [], released: [] };
  result.discovered = await discoverOrders(ctx, log);
  await followBids(ctx, result, log);

  const registered = (await ctx.chain.registry.providerInfo(ctx.chain.me)).registered;
  if (!registered) {
    if (!state.warnedUnregistered) {
      log.warn("this provider is not registered: not bidding on compute orders");
      state.warnedUnregistered = true;
    }
    return result;
  }
  const params = await ctx.market.parameters();
  const bounds: NoticeBounds = {
    minNoticeWindow: params.minNoticeWindow,
    maxNoticeWindow: params.maxNoticeWindow,
  };
  const policy = bidPolicy(ctx);
  for (const order of ctx.db.compute.ordersIn(["waiting"])) {
    await judge(ctx, order, policy, bounds, result, log);
  }
  return result;
}

/** Record OrderCreated events since the cursor as waiting orders. */
async function discoverOrders(ctx: ComputeContext, log: Logger): Promise<bigint[]> {
  const { market, db } = ctx;
  const found: bigint[] = [];
  const start = Math.max(0, (await ctx.chain.blockNumber()) - ORDER_LOOKBACK_BLOCKS);
  await scanBlocks(ctx, ORDERS_CURSOR_KEY, start, async (from, to) => {
    for (const event of await market.queryFilter(market.filters.OrderCreated(), from, to)) {
      const { orderId, tenant, request, closeBounty } = event.args;
      const inserted = db.compute.insertOrder({
        id: orderId,
        tenant,
        request: requestFromChain(request),
        closeBounty,
        createdBlock: event.blockNumber,
        state: "waiting",
        reason: "new",
      });
      if (inserted) {
        found.push(orderId);
        log.debug({ orderId, tenant, txHash: event.transactionHash }, "compute order seen");
      }
    }
  });
  return found;
}

async function judge(
  ctx: ComputeContext,
  order: ComputeOrderRecord,
  policy: BidPolicy,
  bounds: NoticeBounds,
  result: BidderResult,
  log: Logger,
): Promise<void> {
  const { db, chain, market } = ctx;
  const [onChain, existing] = await Promise.all([
    market.getOrder(order.id),
    market.getBid(order.id, chain.me),
  ]);
  if (existing.status === BidStatus.Active) {
    // A bid sent earlier landed after its receipt wait gave up: adopt it.
    db.compute.setOrderState(order.id, "bid", {
      reason: null,
      bid: {
        pricePerSecond: existing.pricePerSecond,
        collateral: existing.collateral,
        noticeWindow: Number(existing.noticeWindow),
        gpuModel: order.bid?.gpuModel ?? null,
      },
    });
    return;
  }
  if (existing.status === BidStatus.Rejected) {
    db.compute.setOrderState(order.id, "rejected", { reason: "the tenant rejected the bid" });
    return;
  }
  if (onChain.status !== OrderStatus.Open) {
    db.compute.setOrderState(order.id, "closed", { reason: "the order closed before this provider bid" });
    return;
  }
  const decision = decideBid(order, policy, commitments(ctx), bounds, {
    now: await chain.now(),
    me: chain.me,
  });
  if (!decision.bid) {
    if (decision.retry) {
      if (order.reason !== decision.reason)
        log.info({ orderId: order.id, reason: decision.detail }, "order waits");
      db.compute.setOrderState(order.id, "waiting", { reason: decision.reason });
    } else {
      db.compute.setOrderState(order.id, "skipped", { reason: decision.reason });
      result.skipped.push({ orderId: order.id, reason: decision.reason });
      log.info({ orderId: order.id, reason: decision.reason, detail: decision.detail }, "order skipped");
    }
    return;
  }
  const bid = {
    pricePerSecond: decision.pricePerSecond,
    collateral: decision.collateral,
    noticeWindow: decision.noticeWindow,
    gpuModel: decision.gpuModel,
  };
  db.compute.setOrderState(order.id, "bidding", { bid, reason: null, txHash: null });
  try {
    const receipt = await chain.execute(
      () => market.createBid.staticCall(order.id, bid.pricePerSecond, bid.collateral, bid.noticeWindow),
      () => market.createBid(order.id, bid.pricePerSecond, bid.collateral, bid.noticeWindow),
      (hash) => {
        db.compute.setOrderState(order.id, "bidding", { txHash: hash });
      },
    );
    db.compute.setOrderState(order.id, "bid", { txHash: receipt.hash });
    result.bid.push({ orderId: order.id, pricePerSecond: bid.pricePerSecond, collateral: bid.collateral });
    log.info(
      {
        orderId: order.id,
        pricePerSecond: bid.pricePerSecond,
        maxPricePerSecond: order.request.maxPricePerSecond,
        collateral: bid.collateral,
        noticeWindow: bid.noticeWindow,
        txHash: receipt.hash,
        gasUsed: receipt.gasUsed,
      },
      "bid placed",
    );
  } catch (error) {
    const revert = computeRevertName(error);
    const retry = revert === undefined || RETRY_REVERTS.has(revert);
    db.compute.setOrderState(order.id, retry ? "waiting" : "failed", {
      reason: revert ?? "send failed",
      bid,
      txHash: null,
    });
    log.error({ err: error, orderId: order.id, revert }, "bidding failed");
  }
}

/**
 * Bring bids forward: a bid being sent when the agent stopped is found on chain (or not); an active bid on an
 * order that was filled by another bid, cancelled or expired is withdrawn (collateral back to free stake).
 */
async function followBids(ctx: ComputeContext, result: BidderResult, log: Logger): Promise<void> {
  const { db, chain, market } = ctx;
  const now = await chain.now();
  for (const order of db.compute.ordersIn(["bidding", "bid"])) {
    const [onChain, bid] = await Promise.all([market.getOrder(order.id), market.getBid(order.id, chain.me)]);
    if (order.state === "bidding") {
      if (bid.status === BidStatus.Active) db.compute.setOrderState(order.id, "bid");
      else if (!(await sendPending(ctx)))
        db.compute.setOrderState(order.id, "waiting", { reason: "bid not sent" });
      continue;
    }
    if (bid.status === BidStatus.Rejected) {
      db.compute.setOrderState(order.id, "rejected", { reason: "the tenant rejected the bid" });
      log.info({ orderId: order.id }, "bid rejected by the tenant");
      continue;
    }
    if (bid.status === BidStatus.None) {
      // Accepted (the bid is removed when it becomes a lease) or withdrawn earlier.
      const won = db.compute.lease(order.id) !== undefined || (await wonOnChain(ctx, order));
      db.compute.setOrderState(order.id, won ? "won" : "released");
      continue;
    }
    const open = onChain.status === OrderStatus.Open && onChain.expiresAt > now;
    if (open) continue;
    const why =
      onChain.status === OrderStatus.Filled
        ? "another bid won"
        : onChain.status === OrderStatus.Cancelled
          ? "the order was cancelled"
          : "the order expired";
    try {
      const receipt = await chain.execute(
        () => market.withdrawBid.staticCall(order.id),
        () => market.withdrawBid(order.id),
      );
      db.compute.setOrderState(order.id, "released", { reason: why });
      result.released.push(order.id);
      log.info({ orderId: order.id, why, collateral: bid.collateral, txHash: receipt.hash }, "bid withdrawn");
    } catch (error) {
      log.error(
        { err: error, orderId: order.id, revert: computeRevertName(error) },
        "withdrawing a bid failed",
      );
    }
  }
}

/** True while transactions of this account are pending (a send may still land). */
async function sendPending(ctx: ComputeContext): Promise<boolean> {
  const { provider, me } = ctx.chain;
  const [latest, pending] = await Promise.all([
    provider.getTransactionCount(me, "latest"),
    provider.getTransactionCount(me, "pending"),
  ]);
  return pending > latest;
}

async function wonOnChain(ctx: ComputeContext, order: ComputeOrderRecord): Promise<boolean> {
  const { market, chain } = ctx;
  const filter = market.filters.LeaseStarted(order.id, undefined, chain.me);
  const [event] = await market.queryFilter(filter, order.createdBlock);
  return event !== undefined;
}
