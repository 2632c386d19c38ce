/**
 * The rules a tenant's tools apply before sending a compute market transaction, so that a mistake is reported
 * with a stable code and a reason instead of a revert: an order that fits its workload and prices at least one
 * base unit per second, which bid to accept, who may close a lease and for which reason, what may be reported,
 * topped up or withdrawn. Every check throws a StrataError (INVALID_ARGUMENT unless said otherwise).
 */
import { getAddress } from "ethers";
import { StrataError } from "../errors.js";
import type { LeaseStatus, LiveBid, MarketEntry, OrderView } from "./market.js";
import type { CloseReason, ComputeResources } from "./orders.js";
import { perHourToPerSecond, SECONDS_PER_HOUR } from "./pricing.js";
import type { WorkloadLimits } from "./workload.js";

/** How amounts appear in messages (e.g. "12.5 tUSD"); default: "<n> token units". */
export type AmountFormat = (units: bigint) => string;

const tokenUnits: AmountFormat = (units) => `${units} token units`;

const sameAddress = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** An order must offer at least the workload's CPU and memory, and a GPU model only with GPUs. */
export function checkOrderResources(
  resources: Pick<ComputeResources, "cpuMillicores" | "memoryMiB" | "gpuCount" | "gpuModel">,
  limits: WorkloadLimits,
): void {
  const { cpuMillicores: cpu, memoryMiB: memory } = resources;
  if (cpu < limits.cpuMillicores || memory < limits.memoryMiB) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `the order (${cpu} millicores, ${memory} MiB) is smaller than the workload's limits (${limits.cpuMillicores} millicores, ${limits.memoryMiB} MiB)`,
      { details: "raise --cpu / --memory or lower the workload's limits" },
    );
  }
  if (resources.gpuCount === 0 && resources.gpuModel !== "") {
    throw new StrataError("INVALID_ARGUMENT", "--gpu-model needs --gpus <n>");
  }
}

/**
 * A price typed per hour as the market's price per second, rounded down (so it is never above what was
 * typed); INVALID_ARGUMENT when it rounds to zero. `label` names the price in the message.
 */
export function pricePerSecondFromHourly(
  perHour: bigint,
  options: { label?: string; format?: AmountFormat } = {},
): bigint {
  const perSecond = perHourToPerSecond(perHour);
  if (perSecond === 0n) {
    const format = options.format ?? tokenUnits;
    throw new StrataError(
      "INVALID_ARGUMENT",
      `${options.label ?? "the price"} is less than one base unit per second`,
      { details: `the smallest price is ${format(SECONDS_PER_HOUR)} per hour` },
    );
  }
  return perSecond;
}

/** The deposit of an order must exceed the close bounty the market sets aside when the lease starts. */
export function checkOrderDeposit(
  deposit: bigint,
  closeBounty: bigint,
  format: AmountFormat = tokenUnits,
): void {
  if (deposit <= closeBounty) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `the deposit must exceed the close bounty of ${format(closeBounty)} set aside at lease start`,
    );
  }
}

/** Only the order's tenant may accept a bid, and only while the order is open and not past its expiry. */
export function checkAcceptable(view: OrderView, account: string): void {
  const id = view.order.id;
  if (!sameAddress(view.order.tenant, account)) {
    throw new StrataError("INVALID_ARGUMENT", `order ${id} belongs to ${view.order.tenant}`, {
      details: "sign with the tenant's key (--key-env / --account)",
    });
  }
  if (view.status !== "open" || view.expired) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `order ${id} is ${view.expired ? "expired" : view.status}, not open`,
    );
  }
}

/**
 * The bid to accept among `live` (cheapest first, as activeBids returns them): `provider`'s, or the cheapest
 * when no provider is given. BID_NOT_FOUND when there is none.
 */
export function chooseBid(live: readonly LiveBid[], orderId: bigint, provider?: string): LiveBid {
  const chosen = provider === undefined ? live[0] : live.find((b) => b.provider === getAddress(provider));
  if (!chosen) {
    throw new StrataError(
      "BID_NOT_FOUND",
      provider === undefined
        ? `order ${orderId} has no active bid`
        : `${provider} has no active bid on order ${orderId}`,
      { details: `see strata lease bids ${orderId}` },
    );
  }
  return chosen;
}

/** A live lease as one word: overdrawn and past-its-end leases may be closed by anyone. */
export type LiveLeaseState = "overdrawn" | "ended" | "noticeGiven" | "live";

export function liveLeaseState(live: NonNullable<LeaseStatus["live"]>): LiveLeaseState {
  if (live.overdrawn) return "overdrawn";
  if (live.ended) return "ended";
  if (live.noticeGiven) return "noticeGiven";
  return "live";
}

/** The live part of a lease; LEASE_NOT_FOUND once it has closed. */
export function requireLive(lease: LeaseStatus): NonNullable<LeaseStatus["live"]> {
  if (!lease.live) throw new StrataError("LEASE_NOT_FOUND", `lease ${lease.id} has closed`);
  return lease.live;
}

/**
 * The reason `closer` may close `lease` for: `requested` if given (the market checks it), else Tenant for the
 * tenant, InsufficientFunds for an overdrawn lease, Expired or ProviderWithNotice for one past its end.
 * LEASE_NOT_FOUND when it has closed; INVALID_ARGUMENT when nobody but the tenant may close it now.
 */
export function closeReasonFor(lease: LeaseStatus, closer: string, requested?: CloseReason): CloseReason {
  if (!lease.live) {
    throw new StrataError(
      "LEASE_NOT_FOUND",
      `lease ${lease.id} has already closed (${lease.closed?.reason ?? "?"})`,
    );
  }
  const live = lease.live;
  const reason: CloseReason | undefined =
    requested ??
    (sameAddress(lease.tenant, closer)
      ? "Tenant"
      : live.overdrawn
        ? "InsufficientFunds"
        : live.ended
          ? live.noticeGiven
            ? "ProviderWithNotice"
            : "Expired"
          : undefined);
  if (reason === undefined) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `lease ${lease.id} is live and funded: only its tenant may close it now`,
      {
        details:
          "anyone may close a lease that is overdrawn, past its duration or past its provider's notice",
      },
    );
  }
  return reason;
}

/** Missed heartbeats may be reported while the lease is live and at least one period is reportable. */
export function checkReportable(lease: LeaseStatus): void {
  const live = requireLive(lease);
  if (live.reportablePeriods === 0n) {
    throw new StrataError("INVALID_ARGUMENT", `lease ${lease.id} has no missed heartbeat period to report`);
  }
}

/** A top-up adds a positive amount. */
export function checkTopUpAmount(amount: bigint): void {
  if (amount === 0n) throw new StrataError("INVALID_ARGUMENT", "the top-up amount must be more than 0");
}

/**
 * What to withdraw from a compute market balance of `available`: `requested`, or everything when not given.
 * INVALID_ARGUMENT for nothing; INSUFFICIENT_FUNDS for more than the balance.
 */
export function withdrawalAmount(
  available: bigint,
  requested?: bigint,
  format: AmountFormat = tokenUnits,
): bigint {
  const amount = requested ?? available;
  if (amount === 0n)
    throw new StrataError("INVALID_ARGUMENT", "nothing to withdraw: the compute market balance is 0");
  if (amount > available) {
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the compute market balance is ${format(available)}, less than ${format(amount)}`,
    );
  }
  return amount;
}

/** True when `account` is the entry's tenant or its lease's provider. */
export function isPartyTo(entry: Pick<MarketEntry, "tenant" | "provider">, account: string): boolean {
  return (
    sameAddress(entry.tenant, account) || (entry.provider !== null && sameAddress(entry.provider, account))
  );
}

/** Without --mine a listing shows the market's current business: open orders and live leases. */
export function isCurrent(entry: Pick<MarketEntry, "status">): boolean {
  return entry.status === "open" || entry.status === "leased";
}
