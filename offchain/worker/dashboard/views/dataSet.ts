/** A data set's page: terms, span and version over time, health (faults, slashes, challenges, samples), payments. */
import type { IndexedDataSet, SampleRecord } from "../../db/index.js";
import { stackedBarChart } from "../charts.js";
import { formatBytes, formatTime } from "../format.js";
import { html, type SafeHtml } from "../html.js";
import type { DataSetChainView } from "../chainReads.js";
import type { AmountRow, ChallengeRow, FaultRow, SlashRow, UpdateRow } from "../queries.js";
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
import { dataSetStatusName, endReasonName } from "./names.js";
import { slashTable } from "./provider.js";

export interface DataSetData {
  set: IndexedDataSet;
  /** Null when the chain no longer has a record (e.g. after a local chain restart). */
  chain: DataSetChainView | null;
  updates: UpdateRow[];
  payments: AmountRow[];
  faults: FaultRow[];
  slashes: SlashRow[];
  challenges: ChallengeRow[];
  samples: SampleRecord[];
}

const LEAF_BYTES = 64n;

export function renderDataSet(ctx: ViewContext, d: DataSetData): SafeHtml {
  const s = d.set;
  const c = d.chain;
  const status =
    c === null ? (s.ended ? "finalized" : s.terminated ? "ending" : "live") : dataSetStatusName(c.status);
  const okSamples = d.samples.filter((x) => x.ok).length;
  const body = html`<h1>Data set ${s.dataSetId}</h1>
    <p>
      ${badge(status)} client ${addressText(s.client)} · provider ${providerLink(s.provider)} · created
      ${blockTime(ctx, s.createdBlock)}
    </p>
    ${cards([
      { id: "data-set-status", label: "status", value: status },
      {
        id: "data-set-span",
        label: "span (64-byte leaves)",
        value: `${count(c?.span ?? s.span)} (${formatBytes((c?.span ?? s.span) * LEAF_BYTES)})`,
      },
      { id: "data-set-version", label: "state version", value: count(c?.version ?? s.version) },
      { id: "data-set-price", label: "price per TiB-month", value: tokens(ctx, s.pricePerTiBMonth) },
      { id: "data-set-escrow", label: "escrow left", value: c === null ? "unknown" : tokens(ctx, c.escrow) },
      {
        id: "data-set-paid",
        label: "paid to the provider",
        value: c === null ? "unknown" : tokens(ctx, c.paid),
      },
      {
        id: "data-set-settleable",
        label: "settleable now",
        value: c === null ? "unknown" : tokens(ctx, c.settleable),
      },
      {
        id: "data-set-faults",
        label: "faults (missed / declared)",
        value: c === null ? "unknown" : `${c.missedFaults} / ${c.declaredFaults}`,
      },
      {
        id: "data-set-samples",
        label: "retrieval samples ok",
        value: d.samples.length === 0 ? "none yet" : `${okSamples} of ${d.samples.length}`,
      },
    ])}
    ${
      s.terminated === null
        ? ""
        : html`<p>
            Terminated by ${addressText(s.terminated.by)}, paid until period ${s.terminated.endPeriod}
            (${formatTime(ctx.genesis + s.terminated.endPeriod * ctx.provingPeriod)}).
          </p>`
    }
    ${
      s.ended === null
        ? ""
        : html`<p>
            Ended: ${endReasonName(s.ended.reason)} · paid ${tokens(ctx, s.ended.paidToProvider)} · refunded
            ${tokens(ctx, s.ended.refundedToClient)} · compensation
            ${tokens(ctx, s.ended.compensationToClient)} · collateral released
            ${tokens(ctx, s.ended.collateralReleased)}.
          </p>`
    }
    <h2>Size over its states</h2>
    ${
      d.updates.length === 0
        ? html`<p class="empty">No state applied yet.</p>`
        : stackedBarChart(
            "span (leaves) per state version",
            d.updates.map((u) => `v${u.version}`),
            [{ name: "leaves", className: "s-proof", values: d.updates.map((u) => Number(u.span)) }],
          )
    }
    ${table(
      "updates",
      ["version", "applied", "#span", "#bytes", "effective period", "root"],
      [...d.updates]
        .reverse()
        .map((u) => [
          String(u.version),
          blockTime(ctx, u.blockNumber),
          count(u.span),
          formatBytes(u.span * LEAF_BYTES),
          String(u.effectivePeriod),
          html`<span class="mono" title="${u.root}">${u.root.slice(0, 18)}…</span>`,
        ]),
      "No state applied yet.",
    )}
    <h2>Health</h2>
    ${table(
      "faults",
      ["when", "kind", "period"],
      d.faults.map((f) => [
        blockTime(ctx, f.blockNumber),
        f.kind === "declared" ? "declared by the provider" : "missed",
        String(f.period),
      ]),
      "No faults declared for this data set.",
    )}
    ${slashTable(ctx, "slashes", d.slashes)}
    ${table(
      "challenges",
      ["when", "challenge", "event", "challenger", "leaf"],
      d.challenges.map((r) => [
        blockTime(ctx, r.blockNumber),
        String(r.id),
        r.kind,
        r.challenger === null ? "" : watcherLink(r.challenger),
        r.leafIndex === null ? "" : String(r.leafIndex),
      ]),
      "No retrieval challenges.",
    )}
    <h2>Payments</h2>
    ${table(
      "payments",
      ["when", "what", "#amount"],
      d.payments.map((p) => [blockTime(ctx, p.blockNumber), p.label, tokens(ctx, p.amount)]),
      "No payments yet.",
    )}`;
  return page(ctx, `Data set ${s.dataSetId}`, body);
}
