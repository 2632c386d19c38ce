/**
 * Reading the compute market for tenants and tools: the market of a deployment, an order's live bids
 * (cheapest first), a lease's state now or how it closed, and funding a deposit or top-up.
 */
import { type ContractRunner, type Signer } from "ethers";
import { IComputeMarket__factory, type IComputeMarket } from "../../../typechain-types/index.js";
import type { PaymentToken } from "../chain/connect.js";
import { rawAmounts, tokenAmountFormat, type DescribableToken } from "../chain/tokenAmounts.js";
import type { StrataDeployment } from "../chain/deployment.js";
import { StrataError } from "../errors.js";
import {
  bidStatusName,
  closeReasonName,
  findPostedOrder,
  orderStatusName,
  requestFromChain,
  type CloseReason,
  type OrderRequest,
  type OrderStatus,
  type PostedOrder,
} from "./orders.js";
import { confirmTransaction } from "../chain/confirm.js";

/** The deployment's compute market bound to `runner`; DEPLOYMENT_NOT_FOUND when the deployment has none. */
export function computeMarketOf(
  deployment: Pick<StrataDeployment, "computeMarket" | "source">,
  runner: ContractRunner | null,
): IComputeMarket {
  if (deployment.computeMarket === undefined) {
    throw new StrataError("DEPLOYMENT_NOT_FOUND", `${deployment.source} has no compute market`, {
      details: "redeploy the suite (the compute market is part of it), or pass a --deployment that has one",
    });
  }
  return IComputeMarket__factory.connect(deployment.computeMarket, runner);
}

export interface LiveBid {
  provider: string;
  pricePerSecond: bigint;
  collateral: bigint;
  noticeWindow: bigint;
  /** The provider's agent endpoint from the registry. */
  endpoint: string;
}

export interface OrderView {
  order: PostedOrder;
  status: OrderStatus;
  /** True when the order is open but its expiry has passed (anyone may expire it). */
  expired: boolean;
  bidCount: bigint;
}

/** An order with its current status; ORDER_NOT_FOUND when it does not exist. */
export async function orderView(market: IComputeMarket, orderId: bigint, now: bigint): Promise<OrderView> {
  const order = await findPostedOrder(market, orderId);
  const stored = await market.getOrder(orderId);
  const status = orderStatusName(stored.status);
  return { order, status, expired: status === "open" && stored.expiresAt <= now, bidCount: stored.bidCount };
}

/**
 * The active bids on `orderId`, cheapest first (then more collateral, then a longer notice window, then the
 * earlier bid). Read from BidCreated events and checked against the market's current state.
 */
export async function activeBids(
  market: IComputeMarket,
  registry: { providerInfo(provider: string): Promise<{ endpoint: string }> },
  orderId: bigint,
  fromBlock = 0,
): Promise<LiveBid[]> {
  const events = await market.queryFilter(market.filters.BidCreated(orderId), fromBlock);
  const providers = [...new Set(events.map((e) => e.args.provider))];
  const bids = await Promise.all(
    providers.map(async (provider) => {
      const bid = await market.getBid(orderId, provider);
      if (bidStatusName(bid.status) !== "active") return undefined;
      const { endpoint } = await registry.providerInfo(provider);
      return {
        provider,
        pricePerSecond: bid.pricePerSecond,
        collateral: bid.collateral,
        noticeWindow: bid.noticeWindow,
        endpoint,
      };
    }),
  );
  const order = new Map(providers.map((p, i) => [p, i]));
  return bids
    .filter((b): b is LiveBid => b !== undefined)
    .sort(
      (a, b) =>
        compare(a.pricePerSecond, b.pricePerSecond) ||
        compare(b.collateral, a.collateral) ||
        compare(b.noticeWindow, a.noticeWindow) ||
        (order.get(a.provider) ?? 0) - (order.get(b.provider) ?? 0),
    );
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface LeaseClosure {
  reason: CloseReason | "unknown";
  closer: string;
  paidToProvider: bigint;
  refundedToTenant: bigint;
  bountyToCloser: bigint;
  compensationToTenant: bigint;
  collateralReleased: bigint;
  txHash: string;
}

export interface LeaseStatus {
  id: bigint;
  tenant: string;
  provider: string;
  pricePerSecond: bigint;
  startedAt: bigint;
  startBlock: number;
  /** null while live. */
  closed: LeaseClosure | null;
  /** The live lease (null once closed). */
  live: {
    endsAt: bigint;
    heartbeatPeriod: bigint;
    nextPeriod: bigint;
    currentPeriod: bigint;
    heartbeatDue: boolean;
    missedHeartbeats: bigint;
    reportablePeriods: bigint;
    noticeGiven: boolean;
    noticeWindow: bigint;
    collateral: bigint;
    escrow: bigint;
    paidSeconds: bigint;
    settleable: bigint;
    overdrawn: boolean;
    ended: boolean;
    fundedUntil: bigint;
  } | null;
}

/** A lease now (live) or how it closed; LEASE_NOT_FOUND when no lease has this id. */
export async function leaseStatus(market: IComputeMarket, leaseId: bigint): Promise<LeaseStatus> {
  const [started] = await market.queryFilter(market.filters.LeaseStarted(leaseId));
  if (!started) {
    throw new StrataError("LEASE_NOT_FOUND", `lease ${leaseId} does not exist`, {
      details:
        "a lease has the id of the order it filled; an order becomes a lease once the tenant accepts a bid",
    });
  }
  const a = started.args;
  const base = {
    id: leaseId,
    tenant: a.tenant,
    provider: a.provider,
    pricePerSecond: a.pricePerSecond,
    startedAt: a.startedAt,
    startBlock: started.blockNumber,
  };
  const [lease, accrual] = await Promise.all([market.getLease(leaseId), market.leaseAccrual(leaseId)]);
  if (accrual.active) {
    return {
      ...base,
      closed: null,
      live: {
        endsAt: lease.endsAt,
        heartbeatPeriod: lease.heartbeatPeriod,
        nextPeriod: lease.nextPeriod,
        currentPeriod: accrual.currentPeriod,
        heartbeatDue: accrual.heartbeatDue,
        missedHeartbeats: lease.missedHeartbeats,
        reportablePeriods: accrual.reportablePeriods,
        noticeGiven: lease.noticeGiven,
        noticeWindow: lease.noticeWindow,
        collateral: lease.collateral,
        escrow: lease.escrow,
        paidSeconds: lease.paidSeconds,
        settleable: accrual.settleable,
        overdrawn: accrual.overdrawn,
        ended: accrual.ended,
        fundedUntil: accrual.fundedUntil,
      },
    };
  }
  const closedEvents = await market.queryFilter(market.filters.LeaseClosed(leaseId), started.blockNumber);
  const last = closedEvents[closedEvents.length - 1];
  return {
    ...base,
    live: null,
    closed: last
      ? {
          reason: closeReasonName(last.args.reason),
          closer: last.args.closer,
          paidToProvider: last.args.paidToProvider,
          refundedToTenant: last.args.refundedToTenant,
          bountyToCloser: last.args.bountyToCloser,
          compensationToTenant: last.args.compensationToTenant,
          collateralReleased: last.args.collateralReleased,
          txHash: last.transactionHash,
        }
      : null,
  };
}

/** How a deposit or top-up will be paid: the payer's compute ledger balance if it covers it, else allowance. */
export interface ComputeFunding {
  source: "ledger" | "allowance";
  needed: bigint;
  ledger: bigint;
  wallet: bigint;
  approveTx: string | null;
}

/**
 * Make sure the compute market can take `needed` from the signer: from its ledger balance (refunds, earnings)
 * if that covers it, else from its allowance, raised with one approve when short. INSUFFICIENT_FUNDS when
 * neither the ledger nor the wallet holds enough, before anything is sent.
 */
export async function ensureComputeFunding(
  needed: bigint,
  deps: {
    market: IComputeMarket;
    token: Pick<PaymentToken, "allowance" | "balanceOf" | "approve"> & DescribableToken;
    signer: Signer;
  },
): Promise<ComputeFunding> {
  const payer = await deps.signer.getAddress();
  const spender = await deps.market.getAddress();
  const [ledger, allowance, wallet] = await Promise.all([
    deps.market.balanceOf(payer),
    deps.token.allowance(payer, spender),
    deps.token.balanceOf(payer),
  ]);
  if (ledger >= needed) return { source: "ledger", needed, ledger, wallet, approveTx: null };
  if (wallet < needed) {
    const format = await tokenAmountFormat(deps.token);
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `${format(needed)} are needed; the wallet ${payer} holds ${format(wallet)} and its compute market balance is ${format(ledger)}`,
      {
        details: "send tokens to the wallet (local chain: strata dev mint <amount>)",
        data: rawAmounts({ needed, wallet, ledger }),
      },
    );
  }
  if (allowance >= needed) return { source: "allowance", needed, ledger, wallet, approveTx: null };
  const tx = await deps.token.approve(spender, needed);
  await confirmTransaction(tx);
  return { source: "allowance", needed, ledger, wallet, approveTx: tx.hash };
}

/** One order of the market and what became of it, as its events tell. */
export interface MarketEntry {
  orderId: bigint;
  tenant: string;
  /** leased: a live lease; closed: a lease that closed; expired: past its expiry without a lease. */
  status: "open" | "expired" | "cancelled" | "leased" | "closed";
  provider: string | null;
  pricePerSecond: bigint | null;
  maxPricePerSecond: bigint;
  closeReason: CloseReason | "unknown" | null;
  request: OrderRequest;
  blockNumber: number;
}

/**
 * Every order posted since `fromBlock` with its fate, from five event queries (no call per order): created,
 * leased (LeaseStarted), closed (LeaseClosed), cancelled, expired (OrderExpired, or an open order past its
 * expiry at `now`).
 */
export async function marketEntries(
  market: IComputeMarket,
  options: { fromBlock?: number; now: bigint },
): Promise<MarketEntry[]> {
  const from = options.fromBlock ?? 0;
  const [created, started, closed, cancelled, expired] = await Promise.all([
    market.queryFilter(market.filters.OrderCreated(), from),
    market.queryFilter(market.filters.LeaseStarted(), from),
    market.queryFilter(market.filters.LeaseClosed(), from),
    market.queryFilter(market.filters.OrderCancelled(), from),
    market.queryFilter(market.filters.OrderExpired(), from),
  ]);
  const leases = new Map(started.map((e) => [e.args.leaseId, e.args]));
  const closes = new Map(closed.map((e) => [e.args.leaseId, closeReasonName(e.args.reason)]));
  const cancelledIds = new Set(cancelled.map((e) => e.args.orderId));
  const expiredIds = new Set(expired.map((e) => e.args.orderId));
  return created.map((e) => {
    const id = e.args.orderId;
    const request = requestFromChain(e.args.request);
    const lease = leases.get(id);
    const closeReason = closes.get(id) ?? null;
    let status: MarketEntry["status"];
    if (lease) status = closeReason === null ? "leased" : "closed";
    else if (cancelledIds.has(id)) status = "cancelled";
    else if (expiredIds.has(id) || request.expiresAt <= options.now) status = "expired";
    else status = "open";
    return {
      orderId: id,
      tenant: e.args.tenant,
      status,
      provider: lease?.provider ?? null,
      pricePerSecond: lease?.pricePerSecond ?? null,
      maxPricePerSecond: request.maxPricePerSecond,
      closeReason,
      request,
      blockNumber: e.blockNumber,
    };
  });
}
