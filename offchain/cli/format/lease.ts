import type { AgentLeaseView } from "../../sdk/compute/agentApi.js";
import type { LeaseStatus, LiveBid, MarketEntry } from "../../sdk/compute/market.js";
import { perSecondToPerHour } from "../../sdk/compute/pricing.js";
import { liveLeaseState, type LiveLeaseState } from "../../sdk/compute/tenantRules.js";
import type { LeaseEvent } from "../../sdk/compute/tenantApi.js";
import type { TokenUnits } from "../context.js";
import { isoTime } from "./units.js";

/** A price per second as tokens per hour ("0.036 tUSD/h"): prices are typed and shown per hour. */
export function perHour(units: TokenUnits, perSecond: bigint): string {
  return `${units.format(perSecondToPerHour(perSecond))}/h`;
}

export function bidLine(bid: LiveBid, units: TokenUnits): string {
  return (
    `  ${bid.provider}  ${perHour(units, bid.pricePerSecond)} (${bid.pricePerSecond}/s)  collateral ${units.format(bid.collateral)}` +
    `  notice ${bid.noticeWindow}s  ${bid.endpoint}`
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
      `  ${LIVE_STATE_LABELS[liveLeaseState(l)]}: heartbeat period ${l.currentPeriod} (${l.heartbeatPeriod}s periods, ${l.missedHeartbeats} missed, ` +
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
