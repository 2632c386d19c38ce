/**
 * Rendering of the durability simulation (offchain/durability/simulation.ts): the printed table, the SVG chart
 * and the README region, as pure functions of bench/durability.json rows.
 */
import path from "node:path";
import { z } from "zod";
import type { SimulationRow } from "../offchain/durability/simulation.js";
import { ROOT } from "./bench/files.js";

export const DURABILITY_JSON = path.join(ROOT, "bench", "durability.json");
export const DURABILITY_SVG = path.join(ROOT, "bench", "durability.svg");

export const durabilityRowsSchema = z.array(
  z.strictObject({
    years: z.number(),
    churnPerMonth: z.number(),
    survival: z.number(),
    principalLeftFraction: z.number(),
    repairs: z.number(),
  }),
);

/** Survival goal at 5% monthly churn over 200 years with the default coding. */
export const SURVIVAL_GOAL = 0.9999;

function pct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)}%`;
}

/** Survival as people read it: "1 − 1.1e-12" when it rounds to 100%. */
export function formatSurvival(s: number): string {
  if (s >= 0.999999) return s === 1 ? "1 − <1e-15" : `1 − ${(1 - s).toExponential(1)}`;
  return pct(s, 4);
}

/** The Markdown table of the rows. */
export function durabilityMarkdown(rows: readonly SimulationRow[]): string {
  const header = "| years | churn / month | survival | principal left | repairs per file |";
  const rule = "| ---: | ---: | ---: | ---: | ---: |";
  const lines = rows.map(
    (r) =>
      `| ${r.years} | ${pct(r.churnPerMonth, 0)} | ${formatSurvival(r.survival)} | ${pct(r.principalLeftFraction)} | ${Math.round(r.repairs).toLocaleString("en-US")} |`,
  );
  const goal = rows.find((r) => r.years === 200 && r.churnPerMonth === 0.05);
  const verdict =
    goal === undefined
      ? "The goal row (200 years, 5% a month) is missing."
      : `Goal (200 years at 5% monthly churn, k = 10 of n = 16): survival >= ${pct(SURVIVAL_GOAL, 2)} — ${
          goal.survival >= SURVIVAL_GOAL && goal.principalLeftFraction > 0 ? "met" : "NOT met"
        }, with ${pct(goal.principalLeftFraction)} of the principal left at the horizon.`;
  return [header, rule, ...lines, "", verdict].join("\n");
}

/** A line chart of the principal left over the years, one line per churn rate. */
export function durabilitySvg(series: readonly { label: string; points: readonly number[] }[]): string {
  const w = 640;
  const h = 360;
  const m = { l: 56, r: 150, t: 30, b: 40 };
  const years = Math.max(...series.map((s) => s.points.length), 1);
  const x = (i: number) => m.l + (i / years) * (w - m.l - m.r);
  const y = (v: number) => m.t + (1 - v) * (h - m.t - m.b);
  const colors = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e"];
  const lines = series.map((s, i) => {
    const d = s.points.map((v, j) => `${j === 0 ? "M" : "L"}${x(j).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    const color = colors[i % colors.length] ?? "#000";
    return `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/><text x="${w - m.r + 8}" y="${m.t + 16 + i * 18}" fill="${color}" font-size="12">${s.label}</text>`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map(
    (v) =>
      `<line x1="${m.l}" x2="${w - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${m.l - 6}" y="${y(v) + 4}" font-size="11" text-anchor="end">${v * 100}%</text>`,
  );
  const xt = [0, 50, 100, 150, 200]
    .filter((v) => v <= years)
    .map((v) => `<text x="${x(v)}" y="${h - m.b + 16}" font-size="11" text-anchor="middle">${v}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`,
    `<text x="${m.l}" y="18" font-size="13">Principal left of a permanent file (mean of the trials), by year</text>`,
    ...ticks,
    ...xt,
    `<text x="${(m.l + w - m.r) / 2}" y="${h - 6}" font-size="11" text-anchor="middle">years</text>`,
    ...lines,
    "</svg>",
    "",
  ].join("\n");
}
