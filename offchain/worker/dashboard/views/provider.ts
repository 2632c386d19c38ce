/** A provider's page: registry state, stake and collateral, proofs and faults per period, earnings, slashes. */
import { formatBytes, formatTime } from "../format.js";
import { html, type SafeHtml } from "../html.js";
import type { StakeView } from "../chainReads.js";
import type {
  DataSetRow,
  FaultRow,
  LeaseRow,
  PeriodActivity,
  ProofRow,
  ProviderRow,
  SlashRow,
} from "../queries.js";
import {
  badge,
  blockTime,
  cards,
  count,
  page,
  table,
  tokens,
  watcherLink,
  type ViewContext,
} from "./layout.js";
import { activityCaption, activityChart, dataSetTable, leaseTable } from "./overview.js";

export interface ProviderData {
  row: ProviderRow;
  stake: StakeView;
  earnings: { storage: bigint; compute: bigint; slashed: bigint };
  activity: PeriodActivity[];
  proofs: ProofRow[];
  faults: FaultRow[];
  slashes: SlashRow[];
  dataSets: DataSetRow[];
  leases: LeaseRow[];
}

export function slashTable(ctx: ViewContext, id: string, rows: readonly SlashRow[]): SafeHtml {
  return table(
    id,
    ["when", "of", "#to the harmed party", "#to the reporter", "#to the treasury"],
    rows.map((s) => [
      blockTime(ctx, s.blockNumber),
      html`<a href="${s.subject.href}">${s.subject.label}</a>`,
      tokens(ctx, s.toHarmed),
      tokens(ctx, s.toReporter),
      tokens(ctx, s.toTreasury),
    ]),
    "No slashes.",
  );
}

export function renderProvider(ctx: ViewContext, d: ProviderData): SafeHtml {
  const p = d.row;
  const s = d.stake;
  const body = html`<h1>Provider <span class="mono">${p.provider}</span></h1>
    <p>${badge(p.status)} endpoint <span class="mono">${p.endpoint ?? "none"}</span></p>
    ${cards([
      {
        id: "provider-stake",
        label: "stake (free + locked + unbonding + proof bond)",
        value: tokens(ctx, s.free + s.locked + s.unbonding + s.proofBond),
      },
      { id: "provider-free", label: "free stake", value: tokens(ctx, s.free) },
      { id: "provider-locked", label: "collateral locked", value: tokens(ctx, s.locked) },
      {
        id: "provider-proof-bond",
        label: "proof bond (held by the market)",
        value: tokens(ctx, s.proofBond),
      },
      {
        id: "provider-unbonding",
        label: "unbonding",
        value:
          s.unbonding === 0n
            ? tokens(ctx, 0n)
            : `${tokens(ctx, s.unbonding)} (from ${formatTime(s.unbondingReleaseAt)})`,
      },
      { id: "provider-data-sets", label: "data sets (live)", value: `${p.dataSets} (${p.liveDataSets})` },
      { id: "provider-bytes", label: "bytes stored", value: formatBytes(p.bytesStored) },
      { id: "provider-proofs", label: "proofs", value: count(p.proofs) },
      { id: "provider-missed", label: "missed proof periods", value: count(p.missedPeriods) },
      { id: "provider-earned-storage", label: "earned from storage", value: tokens(ctx, d.earnings.storage) },
      { id: "provider-earned-compute", label: "earned from compute", value: tokens(ctx, d.earnings.compute) },
      { id: "provider-slashed", label: "slashed", value: tokens(ctx, d.earnings.slashed) },
    ])}
    <h2>Proofs and faults per proving period</h2>
    ${d.activity.length === 0 ? html`<p class="empty">No proving activity yet.</p>` : activityChart(activityCaption(ctx, d.activity), d.activity)}
    <h2>Proofs</h2>
    ${table(
      "proofs",
      ["period", "period start", "submitted", "checked by this worker"],
      d.proofs.map((r) => [
        String(r.period),
        formatTime(ctx.genesis + r.period * ctx.provingPeriod),
        blockTime(ctx, r.blockNumber),
        r.verdict === null ? html`<span class="muted">not yet</span>` : badge(r.verdict),
      ]),
      "No proofs yet.",
    )}
    <h2>Faults</h2>
    ${table(
      "faults",
      ["when", "kind", "period", "#periods", "data set", "reported by", "#bounty"],
      d.faults.map((f) => [
        blockTime(ctx, f.blockNumber),
        f.kind === "declared" ? "declared by the provider" : "missed proof reported",
        String(f.period),
        count(f.count),
        f.dataSetId === null ? "" : html`<a href="/data-sets/${f.dataSetId}">${f.dataSetId}</a>`,
        f.reporter === null ? "" : watcherLink(f.reporter),
        tokens(ctx, f.bounty),
      ]),
      "No faults.",
    )}
    <h2>Slashes</h2>
    ${slashTable(ctx, "slashes", d.slashes)}
    <h2>Data sets</h2>
    ${dataSetTable(ctx, d.dataSets)}
    <h2>Compute leases</h2>
    ${leaseTable(ctx, d.leases)}`;
  return page(ctx, `Provider ${p.provider}`, body);
}
