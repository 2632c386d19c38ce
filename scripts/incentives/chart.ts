/**
 * bench/incentives.svg: every parameter set's margins (loss − gain of each deviation, and the honest monthly
 * profit) as horizontal bars on a signed log scale, one panel per parameter set. Bars right of zero do not pay
 * (or, for "honest", pay the provider); left of zero they pay. Residual deviations (the chain cannot see them)
 * are grey. A small SVG writer in the house style of scripts/bench/economicsChart.ts.
 */
import type { IncentiveRow } from "../../offchain/incentives/index.js";

const WIDTH = 880;
const ROW = 18;
const MARGIN = { left: 190, right: 30, top: 50, bottom: 40 };
const COLORS = { holds: "#4e79a7", pays: "#d62728", residual: "#9d9d9d", honest: "#59a14f" } as const;

function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** Signed log scale: sign × log10(1 + |v|). */
const slog = (v: number) => Math.sign(v) * Math.log10(1 + Math.abs(v));

/** The chart of `rows`; `residual` names the deviations drawn grey. */
export function incentivesSvg(
  rows: readonly IncentiveRow[],
  residual: ReadonlySet<string>,
  title: string,
): string {
  const sets = [...new Set(rows.map((r) => r.parameterSet))];
  const perSet = Math.max(...sets.map((s) => rows.filter((r) => r.parameterSet === s).length));
  const panel = perSet * ROW + 56;
  const height = MARGIN.top + sets.length * panel + MARGIN.bottom;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const extent = Math.max(1, ...rows.map((r) => Math.ceil(Math.abs(slog(r.margin)))));
  const x = (v: number) => MARGIN.left + plotWidth * ((slog(v) + extent) / (2 * extent));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  sets.forEach((set, p) => {
    const top = MARGIN.top + p * panel;
    const own = rows.filter((r) => r.parameterSet === set);
    out.push(`<text x="${MARGIN.left}" y="${n(top + 4)}" font-weight="bold">${escapeXml(set)}</text>`);
    for (let e = -extent; e <= extent; e++) {
      const v = Math.sign(e) * (10 ** Math.abs(e) - 1);
      const label = e === 0 ? "0" : `${e < 0 ? "−" : ""}${(10 ** Math.abs(e)).toLocaleString("en-US")}`;
      out.push(
        `<line x1="${n(x(v))}" x2="${n(x(v))}" y1="${n(top + 10)}" y2="${n(top + 12 + own.length * ROW)}" stroke="${e === 0 ? "#333" : "#e5e5e5"}"/>`,
        `<text x="${n(x(v))}" y="${n(top + 26 + own.length * ROW)}" text-anchor="middle" font-size="10">${label}</text>`,
      );
    }
    own.forEach((r, i) => {
      const y = top + 12 + i * ROW;
      const color =
        r.deviation === "honest"
          ? COLORS.honest
          : residual.has(r.deviation)
            ? COLORS.residual
            : r.margin < 0
              ? COLORS.pays
              : COLORS.holds;
      const left = Math.min(x(0), x(r.margin));
      const width = Math.max(1, Math.abs(x(r.margin) - x(0)));
      out.push(
        `<text x="${MARGIN.left - 6}" y="${n(y + ROW - 6)}" text-anchor="end">${escapeXml(r.deviation)}</text>`,
        `<rect x="${n(left)}" y="${n(y + 2)}" width="${n(width)}" height="${ROW - 4}" fill="${color}"><title>${escapeXml(`${set}, ${r.deviation}: gain ${r.gain}, loss ${r.loss}, margin ${r.margin} tokens`)}</title></rect>`,
      );
    });
  });
  const legendY = height - 14;
  const legend: [string, string][] = [
    [COLORS.holds, "does not pay (loss − gain, tokens)"],
    [COLORS.pays, "pays"],
    [COLORS.residual, "residual: the chain cannot see it"],
    [COLORS.honest, "honest profit per month"],
  ];
  let lx = MARGIN.left;
  for (const [color, label] of legend) {
    out.push(
      `<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${color}"/>`,
      `<text x="${lx + 18}" y="${legendY}">${escapeXml(label)}</text>`,
    );
    lx += 40 + label.length * 6.6;
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
