import type { AgentLeaseView } from "../../sdk/compute/agentApi.js";
import type {
  ComputeFunding,
  LeaseClosure,
  LeaseStatus,
  LiveBid,
  MarketEntry,
} from "../../sdk/compute/market.js";
import type { OrderRequest } from "../../sdk/compute/orders.js";
import { perSecondToPerHour } from "../../sdk/compute/pricing.js";
import { liveLeaseState, type LiveLeaseState } from "../../sdk/compute/tenantRules.js";
import type { LeaseEvent } from "../../sdk/compute/tenantApi.js";
import type { TokenUnits } from "../context.js";
import { amountJson, amountsJson, formatSpan, isoTime, type AmountUnits } from "./units.js";

/** A price per second as tokens per hour ("0.036 tUSD/h"): prices are typed and shown per hour. */
export function perHour(units: TokenUnits, perSecond: bigint): string {
  return `${units.format(perSecondToPerHour(perSecond))}/h`;
}

export function bidLine(bid: LiveBid, units: TokenUnits): string {
  return (
    `  ${bid.provider}  ${perHour(units, bid.pricePerSecond)}  collateral ${units.format(bid.collateral)}` +
    `  notice ${formatSpan(bid.noticeWindow)}  ${bid.endpoint}`
  );
}

const LIVE_STATE_LABELS: Record<LiveLeaseState, string> = {
  overdrawn: "overdrawn",
  ended: "ended (closable)",
  noticeGiven: "notice given",
  live: "live",
};

/** `lease status`: the lease, how it closed or how it runs, and what its provider's agent reports. */
export function leaseStatusLines(
  lease: LeaseStatus,
  agent: AgentLeaseView | null,
  agentError: string | null,
  units: TokenUnits,
  ingress: readonly LeaseIngress[] = [],
): string[] {
  const head = `lease ${lease.id}: tenant ${lease.tenant}, provider ${lease.provider}, ${perHour(units, lease.pricePerSecond)}`;
  const lines = [head];
  if (lease.closed) {
    const c = lease.closed;
    lines.push(
      `  closed (${c.reason}) by ${c.closer}: paid to provider ${units.format(c.paidToProvider)}, refunded ${units.format(c.refundedToTenant)}` +
        `, bounty ${units.format(c.bountyToCloser)}, compensation ${units.format(c.compensationToTenant)}`,
    );
  } else if (lease.live) {
    const l = lease.live;
    lines.push(
      `  ${LIVE_STATE_LABELS[liveLeaseState(l)]}: heartbeat period ${l.currentPeriod} (periods of ${formatSpan(l.heartbeatPeriod)}, ${l.missedHeartbeats} missed, ` +
        `${l.reportablePeriods} reportable), escrow ${units.format(l.escrow)}, settleable ${units.format(l.settleable)}`,
      `  funded until ${isoTime(l.fundedUntil)}` +
        (l.endsAt === 0n ? ", open-ended" : `, ends ${isoTime(l.endsAt)}`),
    );
  }
  if (agent) {
    lines.push(
      `  agent: workload ${agent.workloadReceived ? agent.runState : "not received (strata lease upload)"}` +
        (agent.usage
          ? `, ${Math.round(agent.usage.rssBytes / 1048576)} MiB, ${agent.usage.cpuMillicores ?? "?"} millicores`
          : "") +
        (agent.runtime === undefined ? "" : `, ${agent.runtime} runtime`) +
        (agent.manifestVersion === undefined ? "" : `, manifest version ${agent.manifestVersion}`),
    );
    const unhealthy = Object.entries(agent.health ?? {}).filter(([, h]) => h === "unhealthy");
    if (unhealthy.length > 0) {
      lines.push(
        `  UNHEALTHY: ${unhealthy.map(([service]) => service).join(", ")} failing health checks (strata lease events)`,
      );
    }
  } else if (agentError !== null) {
    lines.push(`  agent: ${agentError}`);
  }
  for (const i of ingress) lines.push(`  ${i.service}: ${i.url} (port ${i.port})`);
  return lines;
}

/** Where a lease's exposed service is reachable: the provider agent's ingress path. */
export interface LeaseIngress {
  service: string;
  port: number;
  url: string;
}

/** `lease events`: one event. */
export function leaseEventLine(event: LeaseEvent): string {
  const { at, type, service, ...details } = event;
  const rest = Object.entries(details)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== "object")
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ");
  return `${new Date(at).toISOString()}  ${type.padEnd(14)} ${service ?? "-"}${rest === "" ? "" : `  ${rest}`}`;
}

/** `lease list`: one order or lease. */
export function marketEntryLine(x: MarketEntry, units: TokenUnits): string {
  return (
    `  #${x.orderId} ${x.status}${x.closeReason === null ? "" : ` (${x.closeReason})`}: ${x.request.resources.cpuMillicores} millicores, ` +
    `${x.request.resources.memoryMiB} MiB, tenant ${x.tenant}` +
    (x.provider === null
      ? `, max ${perHour(units, x.maxPricePerSecond)}`
      : `, provider ${x.provider} at ${perHour(units, x.pricePerSecond ?? 0n)}`)
  );
}

// --json forms: every amount as a decimal token string under its name plus `<name>Raw` in base units (see
// amountJson), prices per second also per hour; times stay Unix seconds, durations seconds.

type Json = Record<string, unknown>;

/** `name` (tokens per second) and `name` with PerHour for PerSecond (tokens per hour), each with its Raw. */
export function priceJson(name: string, perSecond: bigint | null, units: AmountUnits): Json {
  const hourly = name.replace(/PerSecond$/, "PerHour");
  if (perSecond === null)
    return { [name]: null, [`${name}Raw`]: null, [hourly]: null, [`${hourly}Raw`]: null };
  return {
    ...amountJson(name, perSecond, units),
    ...amountJson(hourly, perSecondToPerHour(perSecond), units),
  };
}

/** An order's request for --json. */
export function requestJson(r: OrderRequest, units: AmountUnits): Json {
  return {
    resources: { ...r.resources },
    workloadHash: r.workloadHash,
    ...priceJson("maxPricePerSecond", r.maxPricePerSecond, units),
    ...amountsJson({ deposit: r.deposit, minCollateral: r.minCollateral }, units),
    duration: r.duration,
    expiresAt: r.expiresAt,
    minNoticeWindow: r.minNoticeWindow,
  };
}

/** How a lease closed, for --json. */
export function closureJson(c: LeaseClosure | null, units: AmountUnits): Json | null {
  if (c === null) return null;
  const {
    paidToProvider,
    refundedToTenant,
    bountyToCloser,
    compensationToTenant,
    collateralReleased,
    ...rest
  } = c;
  return {
    ...rest,
    ...amountsJson(
      { paidToProvider, refundedToTenant, bountyToCloser, compensationToTenant, collateralReleased },
      units,
    ),
  };
}

/** A lease (live or closed) for --json. */
export function leaseJson(lease: LeaseStatus, units: AmountUnits): Json {
  const { pricePerSecond, closed, live, ...rest } = lease;
  let liveJson: Json | null = null;
  if (live !== null) {
    const { collateral, escrow, settleable, ...others } = live;
    liveJson = { ...others, ...amountsJson({ collateral, escrow, settleable }, units) };
  }
  return {
    ...rest,
    ...priceJson("pricePerSecond", pricePerSecond, units),
    closed: closureJson(closed, units),
    live: liveJson,
  };
}

/** A bid for --json. */
export function bidJson(bid: LiveBid, units: AmountUnits): Json {
  const { pricePerSecond, collateral, ...rest } = bid;
  return {
    ...rest,
    ...priceJson("pricePerSecond", pricePerSecond, units),
    ...amountJson("collateral", collateral, units),
  };
}

/** An order or lease of `lease list` for --json. */
export function marketEntryJson(x: MarketEntry, units: AmountUnits): Json {
  const { pricePerSecond, maxPricePerSecond, request, ...rest } = x;
  return {
    ...rest,
    ...priceJson("pricePerSecond", pricePerSecond, units),
    ...priceJson("maxPricePerSecond", maxPricePerSecond, units),
    request: requestJson(request, units),
  };
}

/** How an order or top-up was paid for (ensureComputeFunding), for --json. */
export function fundingJson(f: ComputeFunding, units: AmountUnits): Json {
  const { needed, ledger, wallet, ...rest } = f;
  return { ...rest, ...amountsJson({ needed, ledger, wallet }, units) };
}
