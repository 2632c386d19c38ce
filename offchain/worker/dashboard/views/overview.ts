/** The network overview: key figures, proofs and faults per period, money flows, and the main tables. */
import { amountBarChart, stackedBarChart } from "../charts.js";
import { formatBytes, formatDuration, formatTime } from "../format.js";
import { html, type SafeHtml } from "../html.js";
import type {
  DataSetRow,
  LeaseRow,
  MoneyFlows,
  NetworkTotals,
  PeriodActivity,
  ProviderRow,
  WatcherRow,
} from "../queries.js";
import type { StakeView } from "../chainReads.js";
import {
  addressText,
  badge,
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

export interface OverviewData {
  totals: NetworkTotals;
  /** Stake per provider as read from the chain (same order as `providers`). */
  providers: { row: ProviderRow; stake: StakeView }[];
  activity: PeriodActivity[];
  flows: MoneyFlows;
  dataSets: DataSetRow[];
  leases: LeaseRow[];
  watchers: WatcherRow[];
}

/** "periods 3–7, 2026-12-05 01:00:00 UTC to 06:00:00 UTC (1h each)": the chart's window in clock time. */
export function activityCaption(ctx: ViewContext, activity: readonly PeriodActivity[]): string {
  const first = activity[0]?.period ?? 0n;
  const last = activity[activity.length - 1]?.period ?? 0n;
  const start = ctx.genesis + first * ctx.provingPeriod;
  const end = ctx.genesis + (last + 1n) * ctx.provingPeriod;
  return `proving periods ${first}–${last}: ${formatTime(start)} to ${formatTime(end)} (${formatDuration(ctx.provingPeriod)} each)`;
}

export function activityChart(title: string, activity: readonly PeriodActivity[]): SafeHtml {
  return stackedBarChart(
    title,
    activity.map((a) => String(a.period)),
    [
      { name: "proofs", className: "s-proof", values: activity.map((a) => a.proofs) },
      { name: "declared faults", className: "s-declared", values: activity.map((a) => a.declaredFaults) },
      { name: "missed proofs", className: "s-missed", values: activity.map((a) => a.missed) },
    ],
  );
}

export function dataSetTable(ctx: ViewContext, rows: readonly DataSetRow[]): SafeHtml {
  return table(
    "data-sets",
    ["data set", "client", "provider", "status", "#bytes", "#price per TiB-month"],
    rows.map((d) => [
      html`<a href="/data-sets/${d.id}">${d.id}</a>`,
      addressText(d.client),
      providerLink(d.provider),
      badge(d.status),
      formatBytes(d.bytes),
      tokens(ctx, d.pricePerTiBMonth),
    ]),
    "No data sets yet.",
  );
}

export function leaseTable(ctx: ViewContext, rows: readonly LeaseRow[]): SafeHtml {
  return table(
    "leases",
    ["lease", "tenant", "provider", "#price per hour", "started", "status"],
    rows.map((l) => [
      html`<a href="/leases/${l.id}">${l.id}</a>`,
      addressText(l.tenant),
      providerLink(l.provider),
      tokens(ctx, l.pricePerSecond * 3600n),
      formatTime(l.startedAt),
      l.closedReason === null ? badge("open") : html`${badge("closed")} ${closeReasonName(l.closedReason)}`,
    ]),
    "No leases yet.",
  );
}

export function renderOverview(ctx: ViewContext, d: OverviewData): SafeHtml {
  const t = d.totals;
  const stake = d.providers.reduce(
    (s, p) => s + p.stake.free + p.stake.locked + p.stake.unbonding + p.stake.proofBond,
    0n,
  );
  const locked = d.providers.reduce((s, p) => s + p.stake.locked, 0n);
  const f = d.flows;
  const slashed =
    f.storage.slashedToClients +
    f.storage.slashedToReporters +
    f.storage.slashedToTreasury +
    f.compute.slashedToTenants +
    f.compute.slashedToTreasury;
  const flowBars = [
    { label: "storage: deposited by clients", value: f.storage.deposited, className: "s-in" },
    { label: "storage: settled to providers", value: f.storage.settledToProviders, className: "s-out" },
    { label: "storage: paid at the end", value: f.storage.paidAtEnd, className: "s-out" },
    { label: "storage: refunded to clients", value: f.storage.refundedToClients, className: "s-in" },
    { label: "slashed: to clients", value: f.storage.slashedToClients, className: "s-slash" },
    { label: "slashed: to reporters", value: f.storage.slashedToReporters, className: "s-bounty" },
    { label: "slashed: to the treasury", value: f.storage.slashedToTreasury, className: "s-slash" },
    { label: "missed-proof bounties", value: f.storage.missedProofBounties, className: "s-bounty" },
    { label: "leases: escrow at start", value: f.compute.escrowAtStart, className: "s-in" },
    { label: "leases: top-ups", value: f.compute.toppedUp, className: "s-in" },
    { label: "leases: settled to providers", value: f.compute.settledToProviders, className: "s-out" },
    { label: "leases: paid at close", value: f.compute.paidAtClose, className: "s-out" },
    { label: "leases: refunded to tenants", value: f.compute.refundedToTenants, className: "s-in" },
    { label: "leases: close bounties", value: f.compute.closeBounties, className: "s-bounty" },
    { label: "leases: heartbeat bounties", value: f.compute.heartbeatBounties, className: "s-bounty" },
    { label: "leases: penalties to tenants", value: f.compute.slashedToTenants, className: "s-slash" },
    { label: "leases: penalties to the treasury", value: f.compute.slashedToTreasury, className: "s-slash" },
  ].map((b) => ({ ...b, display: tokens(ctx, b.value) }));
  const body = html`<h1>Network overview</h1>
    ${cards([
      { id: "providers-registered", label: "providers registered", value: count(t.providersRegistered) },
      {
        id: "total-stake",
        label: "stake (free + locked + unbonding + proof bonds)",
        value: tokens(ctx, stake),
      },
      { id: "locked-collateral", label: "collateral locked", value: tokens(ctx, locked) },
      { id: "bytes-stored", label: "bytes stored", value: formatBytes(t.bytesStored) },
      { id: "data-set-count", label: "data sets", value: count(t.dataSets.total) },
      {
        id: "data-sets-live",
        label: "live / ending / finalized",
        value: `${t.dataSets.live} / ${t.dataSets.ending} / ${t.dataSets.finalized}`,
      },
      { id: "proof-count", label: "proofs", value: count(t.proofs) },
      { id: "missed-periods", label: "missed proof periods", value: count(t.missedPeriods) },
      { id: "slash-count", label: "slashes", value: count(t.slashes) },
      { id: "slashed-total", label: "slashed in total", value: tokens(ctx, slashed) },
      {
        id: "lease-count",
        label: "leases (open)",
        value: `${count(t.leases.total)} (${count(t.leases.open)})`,
      },
      { id: "order-count", label: "compute orders", value: count(t.orders) },
    ])}
    <h2>Proofs and faults per proving period</h2>
    ${d.activity.length === 0 ? html`<p class="empty">No proving activity yet.</p>` : activityChart(activityCaption(ctx, d.activity), d.activity)}
    <h2>Money flows</h2>
    ${amountBarChart("tokens moved, by flow, since the index started", flowBars)}
    ${table(
      "money-flows",
      ["flow", "#amount"],
      flowBars.map((b) => [b.label, b.display]),
      "",
    )}
    <h2>Providers</h2>
    ${table(
      "providers",
      [
        "provider",
        "status",
        "endpoint",
        "#stake",
        "#locked",
        "#data sets (live)",
        "#bytes",
        "#proofs",
        "#missed periods",
        "#leases",
      ],
      d.providers.map(({ row: p, stake }) => [
        providerLink(p.provider),
        badge(p.status),
        html`<span class="mono">${p.endpoint ?? ""}</span>`,
        tokens(ctx, stake.free + stake.locked + stake.unbonding + stake.proofBond),
        tokens(ctx, stake.locked),
        `${p.dataSets} (${p.liveDataSets})`,
        formatBytes(p.bytesStored),
        count(p.proofs),
        count(p.missedPeriods),
        count(p.leases),
      ]),
      "No providers registered yet.",
    )}
    <h2>Data sets</h2>
    ${dataSetTable(ctx, d.dataSets)}
    <h2>Compute leases</h2>
    ${leaseTable(ctx, d.leases)}
    <h2>Watchers</h2>
    ${table(
      "watchers",
      ["watcher", "#actions", "#bounties earned"],
      d.watchers.map((w) => [watcherLink(w.address), count(w.actions), tokens(ctx, w.bounties)]),
      "No watcher has reported anything yet.",
    )}
    <p class="note">
      Read from this worker's index (up to block ${ctx.indexedBlock ?? "none"}) and the chain; tables show at
      most 100 rows.
    </p>`;
  return page(ctx, "Network overview", body);
}
