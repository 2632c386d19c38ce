import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** One row of bench/gas.json. */
export interface GasRow {
  operation: string;
  gas: number;
  budget: number | null;
  note?: string;
}

/** Merge `rows` into the JSON array at `file` (rows with the same operation are replaced; others are kept). */
export function mergeRows(file: string, rows: GasRow[]): GasRow[] {
  let existing: GasRow[] = [];
  if (existsSync(file)) {
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (Array.isArray(parsed)) existing = parsed as GasRow[];
  }
  const names = new Set(rows.map((r) => r.operation));
  const merged = [...existing.filter((r) => !names.has(r.operation)), ...rows];
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(merged, null, 2) + "\n");
  return merged;
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
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === 3 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
