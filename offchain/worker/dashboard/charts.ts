/**
 * Server-rendered SVG charts (no script): stacked bars per period, horizontal bars for amounts, and a strip of
 * periods for heartbeats. Every mark carries a <title> (the browser shows it on hover) and every chart an
 * aria-label, and each chart sits next to a table with the same numbers.
 */
import { formatCount } from "./format.js";
import { html, type SafeHtml } from "./html.js";

export interface BarSeries {
  name: string;
  /** CSS class of its bars and legend swatch (colours live in the stylesheet). */
  className: string;
  values: readonly number[];
}

const WIDTH = 720;
const HEIGHT = 200;
const PAD = { left: 64, right: 8, top: 10, bottom: 24 };
/** Widest bar: a chart of one or two columns stays a bar chart, not a block. */
const MAX_BAR = 64;

function niceMax(max: number): number {
  if (max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (max <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

function legend(series: readonly { name: string; className: string }[]): SafeHtml {
  return html`<ul class="legend">
    ${series.map((s) => html`<li><span class="swatch ${s.className}"></span>${s.name}</li>`)}
  </ul>`;
}

/** Stacked bars, one column per label (e.g. per proving period). */
export function stackedBarChart(
  title: string,
  labels: readonly string[],
  series: readonly BarSeries[],
): SafeHtml {
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = labels.length === 0 ? plotW : plotW / labels.length;
  const barW = Math.min(MAX_BAR, Math.max(1, slot * 0.7));
  const y = (v: number): number => PAD.top + plotH - (v / max) * plotH;
  const labelEvery = Math.max(1, Math.ceil(labels.length / 12));
  const columns = labels.map((label, i) => {
    let base = 0;
    const x = PAD.left + i * slot + (slot - barW) / 2;
    const bars = series.map((s) => {
      const v = s.values[i] ?? 0;
      if (v === 0) return html``;
      const top = y(base + v);
      const height = y(base) - top;
      base += v;
      return html`<rect
        class="${s.className}"
        x="${x.toFixed(1)}"
        y="${top.toFixed(1)}"
        width="${barW.toFixed(1)}"
        height="${height.toFixed(1)}"
        ><title>${label}: ${v} ${s.name}</title></rect
      >`;
    });
    const tick =
      i % labelEvery === 0
        ? html`<text class="tick" x="${(x + barW / 2).toFixed(1)}" y="${HEIGHT - 8}" text-anchor="middle"
            >${label}</text
          >`
        : html``;
    return html`${bars}${tick}`;
  });
  return html`<figure class="chart">
    <svg
      viewBox="0 0 ${WIDTH} ${HEIGHT}"
      role="img"
      aria-label="${title}"
      preserveAspectRatio="xMidYMid meet"
    >
      <line class="axis" x1="${PAD.left}" y1="${y(0)}" x2="${WIDTH - PAD.right}" y2="${y(0)}"></line>
      <line class="grid" x1="${PAD.left}" y1="${y(max)}" x2="${WIDTH - PAD.right}" y2="${y(max)}"></line>
      <text class="tick" x="${PAD.left - 4}" y="${y(max) + 4}" text-anchor="end">${formatCount(max)}</text>
      <text class="tick" x="${PAD.left - 4}" y="${y(0) + 4}" text-anchor="end">0</text>
      ${columns}
    </svg>
    <figcaption>${title}</figcaption>
    ${legend(series)}
  </figure>`;
}

export interface AmountBar {
  label: string;
  value: bigint;
  /** The value as people read it (tokens with the symbol). */
  display: string;
  className: string;
}

/** Horizontal bars for amounts (exact bigints, scaled to the largest). */
export function amountBarChart(title: string, bars: readonly AmountBar[]): SafeHtml {
  const rowH = 26;
  const labelW = 230;
  const height = bars.length * rowH + 8;
  const max = bars.reduce((m, b) => (b.value > m ? b.value : m), 0n);
  const plotW = WIDTH - labelW - 170;
  const rows = bars.map((b, i) => {
    // Scale in bigints first (amounts can exceed 2^53), then to a pixel width.
    const w = max === 0n ? 0 : Number((b.value * 10_000n) / max) / 10_000;
    const top = 4 + i * rowH;
    return html`<text class="label" x="${labelW - 6}" y="${top + 16}" text-anchor="end">${b.label}</text>
      <rect
        class="${b.className}"
        x="${labelW}"
        y="${top + 3}"
        width="${Math.max(w * plotW, b.value > 0n ? 1 : 0).toFixed(1)}"
        height="${rowH - 8}"
        ><title>${b.label}: ${b.display}</title></rect
      >
      <text class="value" x="${labelW + w * plotW + 6}" y="${top + 16}">${b.display}</text>`;
  });
  return html`<figure class="chart">
    <svg viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${title}">${rows}</svg>
    <figcaption>${title}</figcaption>
  </figure>`;
}

export type PeriodState = "heartbeat" | "missed" | "due" | "open";

/** One square per period, coloured by what happened in it (lease heartbeats). */
export function periodStrip(
  title: string,
  periods: readonly { period: bigint; state: PeriodState }[],
): SafeHtml {
  const size = 14;
  const perRow = Math.floor((WIDTH - 8) / (size + 2));
  const rows = Math.max(1, Math.ceil(periods.length / perRow));
  const cells = periods.map((p, i) => {
    const x = 4 + (i % perRow) * (size + 2);
    const y = 4 + Math.floor(i / perRow) * (size + 2);
    return html`<rect class="period-${p.state}" x="${x}" y="${y}" width="${size}" height="${size}"
      ><title>period ${p.period}: ${p.state}</title></rect
    >`;
  });
  return html`<figure class="chart">
    <svg viewBox="0 0 ${WIDTH} ${rows * (size + 2) + 8}" role="img" aria-label="${title}">${cells}</svg>
    <figcaption>${title}</figcaption>
    ${legend([
      { name: "heartbeat", className: "period-heartbeat" },
      { name: "missed (reported)", className: "period-missed" },
      { name: "due now", className: "period-due" },
      { name: "not yet resolved", className: "period-open" },
    ])}
  </figure>`;
}
