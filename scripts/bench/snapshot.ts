/**
 * The CI gate's logic, as pure functions: compare committed snapshots (bench/gas-snapshot.json, bench/gas.json,
 * bench/sizes.json) with a fresh measurement, check gas budgets and the EIP-170 / EIP-3860 size limits, and
 * render what failed. ./checkSnapshots.ts measures and calls `checkSnapshots`; tests call it with fixed inputs.
 */
import type { GasBudget } from "./budgets.js";
import { fixedWidth, type GasRow } from "./report.js";

/** The one command that re-measures and rewrites every snapshot and the README tables. */
export const UPDATE_COMMAND = "npm run snapshots:update";

/** EIP-170: largest deployed (runtime) code. */
export const RUNTIME_LIMIT = 24_576;
/** EIP-3860: largest init code (creation code plus constructor arguments). */
export const INITCODE_LIMIT = 49_152;

/** bench/gas-snapshot.json: gas per operation, in the benchmark's order. */
export type GasSnapshot = Record<string, number>;

/** Size of one deployable contract or library (a row of bench/sizes.json). */
export interface ContractSize {
  contract: string;
  source: string;
  kind: "contract" | "library";
  runtimeBytes: number;
  /** RUNTIME_LIMIT - runtimeBytes (negative: over the limit). */
  runtimeMargin: number;
  /** Creation code without constructor arguments. */
  initcodeBytes: number;
  /** INITCODE_LIMIT - initcodeBytes. */
  initcodeMargin: number;
  /** Libraries this contract links (deployed separately to keep it under the limit). */
  linkedLibraries: string[];
  /** Contracts that link this library. */
  linkedInto: string[];
}

/** bench/sizes.json. */
export interface SizeSnapshot {
  limits: { runtimeBytes: number; initcodeBytes: number };
  contracts: ContractSize[];
}

/** One figure that differs between a snapshot and now (null: absent on that side). */
export interface Drift {
  item: string;
  snapshot: number | null;
  now: number | null;
}

export function gasSnapshotOf(rows: readonly GasRow[]): GasSnapshot {
  return Object.fromEntries(rows.map((r) => [r.operation, r.gas]));
}

/** Every key whose value differs, was added or was removed: changed and added in `now`'s order, then removed. */
export function diffFigures(
  snapshot: Readonly<Record<string, number>>,
  now: Readonly<Record<string, number>>,
): Drift[] {
  const drifts: Drift[] = [];
  for (const [item, value] of Object.entries(now)) {
    const before = Object.hasOwn(snapshot, item) ? snapshot[item] : undefined;
    if (before !== value) drifts.push({ item, snapshot: before ?? null, now: value });
  }
  for (const [item, value] of Object.entries(snapshot)) {
    if (!Object.hasOwn(now, item)) drifts.push({ item, snapshot: value, now: null });
  }
  return drifts;
}

/** The size figures compared by the gate: runtime and init code bytes per contract. */
export function sizeFigures(sizes: SizeSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of sizes.contracts) {
    out[`${c.contract} runtime`] = c.runtimeBytes;
    out[`${c.contract} init code`] = c.initcodeBytes;
  }
  return out;
}

/** Contracts whose linked-library split changed (a new or dropped link is drift even at the same size). */
export function linkDrift(snapshot: SizeSnapshot, now: SizeSnapshot): string[] {
  const links = (s: SizeSnapshot) =>
    new Map(s.contracts.map((c) => [c.contract, [...c.linkedLibraries].sort().join(", ")]));
  const before = links(snapshot);
  const out: string[] = [];
  for (const [contract, list] of links(now)) {
    const was = before.get(contract);
    if (was !== undefined && was !== list)
      out.push(`${contract} links [${was}] in the snapshot, [${list}] now`);
  }
  return out;
}

/**
 * Budget verdicts: failures (over budget, or a budget for an operation no longer measured), accepted overruns,
 * and acceptances no longer needed (the row is within its budget: delete its `acceptedOverrun`).
 */
export function budgetVerdicts(
  rows: readonly GasRow[],
  budgets: readonly GasBudget[],
): { failures: string[]; accepted: string[]; unneeded: string[] } {
  const failures: string[] = [];
  const accepted: string[] = [];
  const unneeded: string[] = [];
  const measured = new Map(rows.map((r) => [r.operation, r]));
  if (measured.size !== rows.length) failures.push("two benchmark rows share an operation name");
  for (const b of budgets) {
    const row = measured.get(b.operation);
    if (row === undefined) {
      failures.push(
        `budget for "${b.operation}", which the benchmark no longer measures (rename it in budgets.ts)`,
      );
      continue;
    }
    if (row.gas <= b.budget) {
      if (b.acceptedOverrun !== undefined)
        unneeded.push(`"${b.operation}": ${fmt(row.gas)} gas, within its budget of ${fmt(b.budget)}`);
      continue;
    }
    const over = `"${b.operation}": ${fmt(row.gas)} gas, ${fmt(row.gas - b.budget)} over its budget of ${fmt(b.budget)}`;
    if (b.acceptedOverrun === undefined) failures.push(over);
    else accepted.push(`${over} (accepted: ${b.acceptedOverrun})`);
  }
  return { failures, accepted, unneeded };
}

/** Contracts over EIP-170 or EIP-3860. */
export function limitFailures(sizes: SizeSnapshot): string[] {
  const out: string[] = [];
  for (const c of sizes.contracts) {
    if (c.runtimeBytes > RUNTIME_LIMIT)
      out.push(`${c.contract}: runtime ${fmt(c.runtimeBytes)} bytes, over EIP-170's ${fmt(RUNTIME_LIMIT)}`);
    if (c.initcodeBytes > INITCODE_LIMIT)
      out.push(
        `${c.contract}: init code ${fmt(c.initcodeBytes)} bytes, over EIP-3860's ${fmt(INITCODE_LIMIT)}`,
      );
  }
  return out;
}

/** Rows of bench/gas.json that differ from this run's rows (gas, budget or note). */
export function gasJsonDrift(committed: readonly GasRow[], now: readonly GasRow[]): string[] {
  const key = (r: GasRow) => JSON.stringify([r.gas, r.budget, r.note ?? null]);
  const before = new Map(committed.map((r) => [r.operation, r]));
  const out: string[] = [];
  for (const r of now) {
    const was = before.get(r.operation);
    if (was === undefined) out.push(`"${r.operation}" is missing`);
    else if (key(was) !== key(r)) out.push(`"${r.operation}" differs`);
  }
  const names = new Set(now.map((r) => r.operation));
  for (const r of committed) if (!names.has(r.operation)) out.push(`"${r.operation}" is no longer measured`);
  return out;
}

/** The drift table: item, snapshot, now, delta (with the change in percent). */
export function driftTable(firstColumn: string, drifts: readonly Drift[]): string {
  const body = drifts.map((d) => {
    const delta =
      d.snapshot === null
        ? "new"
        : d.now === null
          ? "removed"
          : signed(d.now - d.snapshot) + percent(d.snapshot, d.now);
    return [d.item, d.snapshot === null ? "-" : fmt(d.snapshot), d.now === null ? "-" : fmt(d.now), delta];
  });
  return fixedWidth([firstColumn, "snapshot", "now", "delta"], body, new Set([0]));
}

export interface SnapshotInputs {
  gasSnapshot: GasSnapshot;
  gasJson: readonly GasRow[];
  gasNow: readonly GasRow[];
  budgets: readonly GasBudget[];
  sizeSnapshot: SizeSnapshot;
  sizesNow: SizeSnapshot;
}

export interface SnapshotVerdict {
  /** Something differs from the committed snapshots. */
  drift: boolean;
  /** A budget or size limit is broken. */
  overLimit: boolean;
  /** What to print, failures first. */
  report: string;
}

/** Compare everything the gate checks and say what failed, readably, with the command that updates. */
export function checkSnapshots(input: SnapshotInputs): SnapshotVerdict {
  const sections: string[] = [];
  const gasDrift = diffFigures(input.gasSnapshot, gasSnapshotOf(input.gasNow));
  if (gasDrift.length > 0)
    sections.push(`Gas differs from bench/gas-snapshot.json:\n\n${driftTable("operation", gasDrift)}`);
  const jsonDrift = gasJsonDrift(input.gasJson, input.gasNow);
  if (jsonDrift.length > 0) sections.push(`bench/gas.json is not this run's output:\n${bullets(jsonDrift)}`);
  const sizeDrift = diffFigures(sizeFigures(input.sizeSnapshot), sizeFigures(input.sizesNow));
  if (sizeDrift.length > 0)
    sections.push(`Bytecode sizes differ from bench/sizes.json:\n\n${driftTable("contract", sizeDrift)}`);
  const links = linkDrift(input.sizeSnapshot, input.sizesNow);
  if (links.length > 0) sections.push(`Linked libraries differ from bench/sizes.json:\n${bullets(links)}`);
  const drift = sections.length > 0;

  const { failures, accepted, unneeded } = budgetVerdicts(input.gasNow, input.budgets);
  const limits = [...failures, ...limitFailures(input.sizesNow)];
  if (limits.length > 0)
    sections.push(`Over a gas budget (scripts/bench/budgets.ts) or a size limit:\n${bullets(limits)}`);
  const overLimit = limits.length > 0;

  if (drift)
    sections.push(
      `If the change is intended, update the snapshots and README tables with \`${UPDATE_COMMAND}\` and commit ` +
        "bench/ and README.md with a note on why the figures moved.",
    );
  if (accepted.length > 0)
    sections.push(`Accepted overruns (scripts/bench/budgets.ts):\n${bullets(accepted)}`);
  if (unneeded.length > 0)
    sections.push(
      `Accepted overruns no longer needed (delete their acceptedOverrun in scripts/bench/budgets.ts):\n${bullets(unneeded)}`,
    );
  if (!drift && !overLimit) {
    const n = input.sizesNow.contracts.length;
    sections.unshift(
      `Snapshots match: ${input.gasNow.length} gas rows, ${n} contracts and libraries within limits.`,
    );
  }
  return { drift, overLimit, report: sections.join("\n\n") };
}

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

function signed(n: number): string {
  return (n > 0 ? "+" : "") + fmt(n);
}

function percent(before: number, now: number): string {
  if (before === 0) return "";
  return ` (${signed(Math.round(((now - before) / before) * 1000) / 10)}%)`;
}

function bullets(lines: readonly string[]): string {
  return lines.map((l) => `  - ${l}`).join("\n");
}
