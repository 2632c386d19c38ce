/** A lease's page: terms, escrow left, heartbeats per period, events (top-ups, settlements, reports, close). */
import type { IndexedLease } from "../../db/index.js";
import { periodStrip, type PeriodState } from "../charts.js";
import { formatDuration, formatTime } from "../format.js";
import { html, type SafeHtml } from "../html.js";
import type { LeaseChainView } from "../chainReads.js";
import type { LeaseEventRow, SlashRow } from "../queries.js";
import {
  addressText,
  badge,
  blockTime,
  cards,
  count,
  page,
  providerLink,
  table,
  tokens,
  watcherLink,
  type ViewContext,
} from "./layout.js";
import { closeReasonName } from "./names.js";
import { slashTable } from "./provider.js";

export interface LeaseData {
  lease: IndexedLease;
  /** Null once closed (the chain keeps no record of closed leases). */
  chain: LeaseChainView | null;
  missed: { from: bigint; count: bigint }[];
  events: LeaseEventRow[];
  slashes: SlashRow[];
}

/** Periods shown at most in the heartbeat strip (the newest ones). */
const STRIP_PERIODS = 400n;

/** Each heartbeat period's state: before `nextPeriod` heartbeated or reported missed, then due/unresolved. */
export function heartbeatPeriods(
  nextPeriod: bigint,
  currentPeriod: bigint | null,
  missed: readonly { from: bigint; count: bigint }[],
): { period: bigint; state: PeriodState }[] {
  const last = currentPeriod ?? (nextPeriod > 0n ? nextPeriod - 1n : -1n);
  const first = last + 1n > STRIP_PERIODS ? last + 1n - STRIP_PERIODS : 0n;
  const out: { period: bigint; state: PeriodState }[] = [];
  for (let p = first; p <= last; p++) {
    let state: PeriodState;
    if (p < nextPeriod)
      state = missed.some((m) => p >= m.from && p < m.from + m.count) ? "missed" : "heartbeat";
    else state = p === currentPeriod ? "due" : "open";
    out.push({ period: p, state });
  }
  return out;
}

export function renderLease(ctx: ViewContext, d: LeaseData): SafeHtml {
  const l = d.lease;
  const c = d.chain;
  const escrow = c?.escrow ?? (l.closed === null ? l.escrow : 0n);
  const nextPeriod = c?.nextPeriod ?? l.nextPeriod;
  const periods = heartbeatPeriods(nextPeriod, c === null ? null : c.currentPeriod, d.missed);
  const heartbeats = periods.filter((p) => p.state === "heartbeat").length;
  const body = html`<h1>Lease ${l.id}</h1>
    <p>
      ${l.closed === null ? badge("open") : badge("closed")} tenant ${addressText(l.tenant)} · provider
      ${providerLink(l.provider)} · started
      ${formatTime(l.startedAt)}${l.endsAt === 0n ? "" : html` · ends ${formatTime(l.endsAt)}`}
    </p>
    ${cards([
      { id: "lease-escrow", label: "escrow left", value: tokens(ctx, escrow) },
      { id: "lease-price", label: "price per hour", value: tokens(ctx, l.pricePerSecond * 3600n) },
      {
        id: "lease-collateral",
        label: "provider collateral",
        value: tokens(ctx, c?.collateral ?? l.collateral),
      },
      { id: "lease-paid-time", label: "time paid", value: formatDuration(c?.paidSeconds ?? l.paidSeconds) },
      {
        id: "lease-funded-until",
        label: "funded until",
        value: c === null ? "closed" : formatTime(c.fundedUntil),
      },
      {
        id: "lease-settleable",
        label: "settleable now",
        value: c === null ? tokens(ctx, 0n) : tokens(ctx, c.settleable),
      },
      { id: "lease-heartbeats", label: "heartbeats (shown periods)", value: count(heartbeats) },
      {
        id: "lease-missed",
        label: "missed heartbeats",
        value: `${c?.missedHeartbeats ?? l.missedHeartbeats} (closes at ${l.maxMissedHeartbeats})`,
      },
      { id: "lease-period", label: "heartbeat period", value: formatDuration(l.heartbeatPeriod) },
      { id: "lease-notice", label: "notice window", value: formatDuration(l.noticeWindow) },
    ])}
    ${c?.overdrawn === true ? html`<p><strong>Overdrawn:</strong> the escrow cannot pay the provider's time; anyone may close it for the bounty.</p>` : ""}
    ${
      l.closed === null
        ? ""
        : html`<p id="lease-close">
            Closed ${blockTime(ctx, l.closed.blockNumber)}: ${closeReasonName(l.closed.reason)} by
            ${watcherLink(l.closed.closer)} · paid ${tokens(ctx, l.closed.paidToProvider)} · refunded
            ${tokens(ctx, l.closed.refundedToTenant)} · bounty ${tokens(ctx, l.closed.bountyToCloser)} ·
            compensation ${tokens(ctx, l.closed.compensationToTenant)}.
          </p>`
    }
    <h2>Heartbeats</h2>
    ${periods.length === 0 ? html`<p class="empty">No heartbeat period has passed yet.</p>` : periodStrip(`heartbeat periods ${periods[0]?.period ?? 0n}–${periods[periods.length - 1]?.period ?? 0n} (${formatDuration(l.heartbeatPeriod)} each)`, periods)}
    <h2>Events</h2>
    ${table(
      "lease-events",
      ["when", "event", "detail", "#amount"],
      d.events.map((e) => [blockTime(ctx, e.blockNumber), e.kind, e.detail, tokens(ctx, e.amount)]),
      "No events.",
    )}
    <h2>Slashes</h2>
    ${slashTable(ctx, "slashes", d.slashes)}`;
  return page(ctx, `Lease ${l.id}`, body);
}
