/**
 * Gas budgets of the benchmarked operations, with where each comes from: the product brief's budget table
 * ("PRODUCT") or, for operations it does not list, ours, set beside the operation it resembles. Rows of
 * bench/gas.json that are not listed here are measured for reference (budget null). `npm run check:snapshots`
 * fails when a budgeted row is over its budget, unless the entry says why that overrun is accepted, and when
 * an entry names an operation the benchmark no longer measures.
 */
import type { GasRow, MeasuredRow } from "./report.js";

export interface GasBudget {
  operation: string;
  budget: number;
  /** Where the figure comes from. */
  basis: string;
  /** Why this row may stay over its budget (shown in the README beside the row); absent: it may not. */
  acceptedOverrun?: string;
}

const PROOF_NOTE = "ours for 2 challenges (PRODUCT: 4 challenges, 1 TiB provider <= 230k)";

export const GAS_BUDGETS: readonly GasBudget[] = [
  {
    operation: "publish one deal (escrow pulled from allowance)",
    budget: 150_000,
    basis: "PRODUCT: create a data set",
  },
  {
    operation: "publish deals, batch of 10, per deal",
    budget: 70_000,
    basis: "ours: a deal published in a batch",
  },
  { operation: "proof for a provider's period, 1 deal", budget: 120_000, basis: PROOF_NOTE },
  { operation: "proof for a provider's period, 10 deals", budget: 120_000, basis: PROOF_NOTE },
  { operation: "proof for a provider's period, 100 deals", budget: 120_000, basis: PROOF_NOTE },
  {
    operation: "report a missed proof (slash bounty), first report by this watcher",
    budget: 80_000,
    basis: "PRODUCT: report a missed proof",
    acceptedOverrun:
      "one-time storage creation: the watcher's ledger balance, the provider's first fault-log record and the " +
      "market's slashed-token account in the registry (three new storage words, ~60k); the steady-state row is within",
  },
  {
    operation: "report a missed proof (slash bounty), watcher with a balance",
    budget: 80_000,
    basis: "PRODUCT: report a missed proof",
  },
  {
    operation: "open a retrieval challenge (bond from the challenger's ledger balance)",
    budget: 150_000,
    basis: "ours: a bonded one-deal commitment, like publishing one deal",
  },
  {
    operation: "answer a retrieval challenge",
    budget: 120_000,
    basis: "ours: one Merkle opening, like a one-deal proof",
  },
  {
    operation: "enforce an unanswered retrieval challenge (deal ends, collateral slashed)",
    budget: 150_000,
    basis: "ours: ends a deal with a slash through one call to the market",
  },
  {
    operation: "settle payments after 1 day of backlog",
    budget: 60_000,
    basis: "PRODUCT: settle, any backlog",
  },
  {
    operation: "settle payments after 1 year of backlog",
    budget: 60_000,
    basis: "PRODUCT: settle, any backlog",
  },
  {
    operation: "settle payments, deal started between fault runs, no hint",
    budget: 60_000,
    basis: "PRODUCT: settle, any backlog",
    acceptedOverrun:
      "a binary search over the provider's fault runs when the caller passes no hint; with the O(1) hint " +
      "(settleDealWithHint, computed off chain from MissedProofsReported events) the row below is within",
  },
  {
    operation: "settle payments, deal started between fault runs, with hint",
    budget: 60_000,
    basis: "PRODUCT: settle, any backlog",
  },
  {
    operation: "compute: create bid (collateral locked in the registry)",
    budget: 120_000,
    basis: "PRODUCT: create bid",
  },
  {
    operation: "compute: accept bid into lease, 1 bid",
    budget: 200_000,
    basis: "PRODUCT: accept bid into lease",
  },
  {
    operation: "compute: accept bid into lease, 20 bids",
    budget: 200_000,
    basis: "PRODUCT: accept bid into lease (any number of bids)",
  },
  { operation: "compute: lease heartbeat", budget: 40_000, basis: "PRODUCT: lease heartbeat" },
  { operation: "compute: settle a lease (anyone)", budget: 60_000, basis: "ours: as settling a data set" },
  { operation: "compute: provider withdraws earnings", budget: 60_000, basis: "PRODUCT: lease withdraw" },
  {
    operation: "compute: report a missed heartbeat (watcher with a balance)",
    budget: 80_000,
    basis: "ours: as reporting a missed proof",
  },
];

/** `rows` with their budgets from `budgets` (null where none is listed). */
export function withBudgets(
  rows: readonly MeasuredRow[],
  budgets: readonly GasBudget[] = GAS_BUDGETS,
): GasRow[] {
  const byOperation = new Map(budgets.map((b) => [b.operation, b.budget]));
  return rows.map((r) => {
    const row: GasRow = { operation: r.operation, gas: r.gas, budget: byOperation.get(r.operation) ?? null };
    if (r.note !== undefined) row.note = r.note;
    return row;
  });
}
