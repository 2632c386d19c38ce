/**
 * The bidding policy, as a pure function: given an order, the provider's price policy and what it has already
 * committed (live leases and open bids), bid or say why not.
 *
 * price = ceil(cost × (1 + minMarginBps / 10 000)), cost = the sum of each resource × its price per second.
 * The agent bids that price (not the order's maximum: the cheapest bid wins), if it is at most the order's
 * maximum, the order's escrow pays for at least `minFundedSeconds` at that price, and the resources fit.
 * Capacity is reserved when bidding, not when winning, so the agent never holds more leases than it can run
 * even if every open bid wins.
 */
import { costPerSecond, fundedSeconds, withMargin, type ResourcePrices } from "../../sdk/compute/pricing.js";
import type { ComputeResources, OrderRequest } from "../../sdk/compute/orders.js";

export interface ComputeCapacity {
  cpuMillicores: number;
  memoryMiB: number;
  storageGiB: number;
  /** GPUs by model label. */
  gpus: Readonly<Record<string, number>>;
}

export interface BidPolicy {
  prices: ResourcePrices;
  minMarginBps: number;
  /** Collateral locked per lease: collateralPerLease + price × collateralPriceSeconds. */
  collateralPerLease: bigint;
  collateralPriceSeconds: bigint;
  /** Notice the provider promises before leaving a lease, in seconds. */
  noticeWindowSeconds: number;
  maxConcurrentLeases: number;
  capacity: ComputeCapacity;
  /** The provider's region label; orders naming another region are skipped ("" serves only "any"). */
  region: string;
  /** Least time (s) the order's escrow must pay for at the bid price. */
  minFundedSeconds: number;
}

/** What is already promised: live leases plus open bids (counted and summed). */
export interface Commitments {
  count: number;
  used: ComputeCapacity;
}

/** The market's current bounds on a bid's notice window. */
export interface NoticeBounds {
  minNoticeWindow: bigint;
  maxNoticeWindow: bigint;
}

export interface OrderToJudge {
  id: bigint;
  tenant: string;
  request: OrderRequest;
  closeBounty: bigint;
}

/**
 * Why no bid. `capacity` and `concurrency` are worth another look while the order is open (a lease may end,
 * a bid may lose); the others are final for that order.
 */
export type SkipReason =
  | "expired"
  | "own-order"
  | "region"
  | "too-large"
  | "gpu-model"
  | "price"
  | "collateral"
  | "notice"
  | "underfunded"
  | "concurrency"
  | "capacity";

export const RETRYABLE_SKIPS: readonly SkipReason[] = ["concurrency", "capacity"];

export type BidDecision =
  | {
      bid: true;
      pricePerSecond: bigint;
      collateral: bigint;
      noticeWindow: number;
      /** The GPU model the lease will use (null without GPUs). */
      gpuModel: string | null;
      costPerSecond: bigint;
    }
  | { bid: false; reason: SkipReason; retry: boolean; detail: string };

function skip(reason: SkipReason, detail: string): BidDecision {
  return { bid: false, reason, retry: RETRYABLE_SKIPS.includes(reason), detail };
}

export function decideBid(
  order: OrderToJudge,
  policy: BidPolicy,
  committed: Commitments,
  bounds: NoticeBounds,
  context: { now: bigint; me: string },
): BidDecision {
  const { request } = order;
  const r = request.resources;
  if (request.expiresAt <= context.now) return skip("expired", `the order expired at ${request.expiresAt}`);
  if (order.tenant.toLowerCase() === context.me.toLowerCase())
    return skip("own-order", "this provider posted it");
  if (r.region !== "" && r.region !== policy.region) {
    return skip("region", `the order wants region "${r.region}", this provider serves "${policy.region}"`);
  }
  const cap = policy.capacity;
  if (r.cpuMillicores > cap.cpuMillicores || r.memoryMiB > cap.memoryMiB || r.storageGiB > cap.storageGiB) {
    return skip("too-large", "the order needs more than this provider's whole capacity");
  }

  // GPUs: priced models (final) that also have room now (retryable).
  const priced = Object.keys(policy.prices.perGpuSecond);
  let gpuModels = priced;
  if (r.gpuCount > 0) {
    const wanted = r.gpuModel === "" ? priced : priced.filter((m) => m === r.gpuModel);
    if (wanted.length === 0) return skip("gpu-model", `no price for GPU model "${r.gpuModel || "any"}"`);
    if (!wanted.some((m) => (cap.gpus[m] ?? 0) >= r.gpuCount)) {
      return skip("too-large", `fewer than ${r.gpuCount} GPUs of model "${r.gpuModel || "any"}" installed`);
    }
    gpuModels = wanted.filter((m) => (cap.gpus[m] ?? 0) - (committed.used.gpus[m] ?? 0) >= r.gpuCount);
    if (gpuModels.length === 0) return skip("capacity", "the GPUs are committed to other leases or bids");
  }
  const quote = costPerSecond(r, policy.prices, gpuModels);
  if (!quote.ok) return skip("gpu-model", `no price for GPU model "${r.gpuModel || "any"}"`);

  let price = withMargin(quote.costPerSecond, policy.minMarginBps);
  if (price === 0n) price = 1n; // the market rejects a zero price
  if (price > request.maxPricePerSecond) {
    return skip("price", `our price ${price}/s is above the order's maximum ${request.maxPricePerSecond}/s`);
  }
  const collateral = policy.collateralPerLease + price * policy.collateralPriceSeconds;
  if (collateral < request.minCollateral) {
    return skip(
      "collateral",
      `the order wants ${request.minCollateral} collateral, the policy locks ${collateral}`,
    );
  }
  const notice = BigInt(policy.noticeWindowSeconds);
  if (
    notice < request.minNoticeWindow ||
    notice < bounds.minNoticeWindow ||
    notice > bounds.maxNoticeWindow
  ) {
    return skip(
      "notice",
      `notice window ${notice}s is outside [max(order ${request.minNoticeWindow}, market ${bounds.minNoticeWindow}), ${bounds.maxNoticeWindow}]`,
    );
  }
  const escrow = request.deposit > order.closeBounty ? request.deposit - order.closeBounty : 0n;
  const funded = fundedSeconds(escrow, price);
  if (funded < BigInt(policy.minFundedSeconds)) {
    return skip(
      "underfunded",
      `the escrow pays ${funded}s at ${price}/s, less than ${policy.minFundedSeconds}s`,
    );
  }
  if (committed.count >= policy.maxConcurrentLeases) {
    return skip(
      "concurrency",
      `${committed.count} leases and bids already (max ${policy.maxConcurrentLeases})`,
    );
  }
  const u = committed.used;
  if (
    u.cpuMillicores + r.cpuMillicores > cap.cpuMillicores ||
    u.memoryMiB + r.memoryMiB > cap.memoryMiB ||
    u.storageGiB + r.storageGiB > cap.storageGiB
  ) {
    return skip("capacity", "the resources are committed to other leases or bids");
  }
  return {
    bid: true,
    pricePerSecond: price,
    collateral,
    noticeWindow: policy.noticeWindowSeconds,
    gpuModel: quote.gpuModel,
    costPerSecond: quote.costPerSecond,
  };
}

/** Add `resources` (using `gpuModel` for its GPUs) to a running total. */
export function addResources(
  total: ComputeCapacity,
  resources: ComputeResources,
  gpuModel: string | null,
): ComputeCapacity {
  const gpus = { ...total.gpus };
  if (resources.gpuCount > 0 && gpuModel !== null)
    gpus[gpuModel] = (gpus[gpuModel] ?? 0) + resources.gpuCount;
  return {
    cpuMillicores: total.cpuMillicores + resources.cpuMillicores,
    memoryMiB: total.memoryMiB + resources.memoryMiB,
    storageGiB: total.storageGiB + resources.storageGiB,
    gpus,
  };
}

export const NO_RESOURCES: ComputeCapacity = { cpuMillicores: 0, memoryMiB: 0, storageGiB: 0, gpus: {} };
