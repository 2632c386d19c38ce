import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** One measured operation, before its budget is looked up in ./budgets.ts. */
export interface MeasuredRow {
  operation: string;
  gas: number;
  note?: string;
}

/** One row of bench/gas.json. */
export interface GasRow {
  operation: string;
  gas: number;
  /** The operation's budget (./budgets.ts), or null for rows measured for reference. */
  budget: number | null;
  note?: string;
}

/** Write `value` as pretty JSON with a final newline, creating the folder if needed. */
export function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
}

/** Render rows as a fixed-width table with the budget verdict. */
export function gasTable(rows: GasRow[]): string {
  const header = ["operation", "gas", "budget", "verdict"];
  const body = rows.map((r) => [
    r.operation,
    r.gas.toLocaleString("en-US"),
    r.budget === null ? "-" : r.budget.toLocaleString("en-US"),
    r.budget === null
      ? ""
      : r.gas <= r.budget
        ? "within"
        : `MISSED by ${(r.gas - r.budget).toLocaleString("en-US")}`,
  ]);
  return fixedWidth(header, body, new Set([0, 3]));
}

/** A plain-text table: columns padded to their widest cell, left-aligned where `left` says, else right. */
export function fixedWidth(header: string[], body: string[][], left: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (left.has(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
