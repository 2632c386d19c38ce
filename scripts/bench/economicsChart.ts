/**
 * bench/economics.svg: the economics table as grouped bars, one panel per gas price, bars per file size grouped
 * by provider size, on a log scale of percent of the reference price, with each group's goal drawn as a dashed
 * line. A small SVG writer (no dependency): the output is plain text, the same for the same rows.
 */
import { formatBytes, goalPercent, type EconomicsRow } from "./economicsModel.js";

const WIDTH = 880;
const PANEL_HEIGHT = 300;
const MARGIN = { left: 70, right: 20, top: 50, bottom: 50 };
const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2"];

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

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** The chart for `rows`, titled `title`. */
export function economicsSvg(rows: readonly EconomicsRow[], title: string): string {
  const gweis = unique(rows.map((r) => r.gwei)).sort((a, b) => a - b);
  const providers = unique(rows.map((r) => r.providerTiB)).sort((a, b) => a - b);
  const files = unique(rows.map((r) => r.fileSize)).sort((a, b) => a - b);
  const percents = rows.map((r) => Math.max(r.percentOfReference, 1e-3));
  const lowExp = Math.floor(Math.log10(Math.min(...percents, 0.1)));
  const highExp = Math.ceil(Math.log10(Math.max(...percents, 100)));
  const height = MARGIN.top + gweis.length * (PANEL_HEIGHT + MARGIN.bottom) + 40;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  gweis.forEach((gwei, panel) => {
    const top = MARGIN.top + panel * (PANEL_HEIGHT + MARGIN.bottom);
    const y = (percent: number) => {
      const t = (Math.log10(Math.max(percent, 1e-3)) - lowExp) / (highExp - lowExp);
      return top + PANEL_HEIGHT * (1 - t);
    };
    out.push(
      `<text x="${MARGIN.left}" y="${n(top - 8)}" font-weight="bold">at ${gwei} gwei: on-chain overhead, % of the reference price (log scale)</text>`,
    );
    for (let e = lowExp; e <= highExp; e++) {
      const value = 10 ** e;
      const label = value >= 1 ? value.toLocaleString("en-US") : String(value);
      out.push(
        `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${n(y(value))}" y2="${n(y(value))}" stroke="${e === 2 ? "#999" : "#e5e5e5"}"/>`,
        `<text x="${MARGIN.left - 6}" y="${n(y(value) + 4)}" text-anchor="end">${label}%</text>`,
      );
    }
    const groupWidth = plotWidth / providers.length;
    const barWidth = (groupWidth * 0.7) / files.length;
    providers.forEach((tib, g) => {
      const left = MARGIN.left + g * groupWidth + groupWidth * 0.15;
      const goal = goalPercent(tib, gwei);
      if (goal !== null) {
        out.push(
          `<line x1="${n(left - 6)}" x2="${n(left + barWidth * files.length + 6)}" y1="${n(y(goal))}" y2="${n(y(goal))}" stroke="#d62728" stroke-width="2" stroke-dasharray="6 4"/>`,
          `<text x="${n(left + barWidth * files.length + 8)}" y="${n(y(goal) + 4)}" fill="#d62728">goal ${goal}%</text>`,
        );
      }
      files.forEach((size, f) => {
        const row = rows.find((r) => r.gwei === gwei && r.providerTiB === tib && r.fileSize === size);
        if (row === undefined) return;
        const barTop = y(row.percentOfReference);
        const x = left + f * barWidth;
        out.push(
          `<rect x="${n(x)}" y="${n(barTop)}" width="${n(barWidth - 2)}" height="${n(top + PANEL_HEIGHT - barTop)}" fill="${COLORS[f % COLORS.length] ?? "#888"}"><title>${escapeXml(`${formatBytes(size)} files, ${tib} TiB provider: ${row.percentOfReference}%`)}</title></rect>`,
        );
      });
      out.push(
        `<text x="${n(left + (barWidth * files.length) / 2)}" y="${n(top + PANEL_HEIGHT + 18)}" text-anchor="middle">${tib} TiB provider</text>`,
      );
    });
  });
  const legendY = height - 18;
  files.forEach((size, f) => {
    const x = MARGIN.left + f * 150;
    out.push(
      `<rect x="${x}" y="${legendY - 10}" width="12" height="12" fill="${COLORS[f % COLORS.length] ?? "#888"}"/>`,
      `<text x="${x + 18}" y="${legendY}">${escapeXml(formatBytes(size))} files</text>`,
    );
  });
  out.push(
    `<line x1="${MARGIN.left + files.length * 150}" x2="${MARGIN.left + files.length * 150 + 24}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="#d62728" stroke-width="2" stroke-dasharray="6 4"/>`,
    `<text x="${MARGIN.left + files.length * 150 + 30}" y="${legendY}">goal (none for 1 TiB)</text>`,
    "</svg>",
  );
  return out.join("\n") + "\n";
}
