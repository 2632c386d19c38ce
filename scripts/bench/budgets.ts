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

const ADD = "PRODUCT / issue 11: add pieces (one call), <= 60k + 2k per piece";
const PROOF_1TIB =
  "PRODUCT / issue 11: proof, 4 challenges, 1 TiB provider (any number of pieces or data sets)";
const SETTLE = "PRODUCT / issue 11: settle a data set, any backlog, any number of pieces (flat)";

export const GAS_BUDGETS: readonly GasBudget[] = [
  { operation: "create data set", budget: 150_000, basis: "PRODUCT / issue 11: create a data set" },
  { operation: "add pieces, 1 piece (one call)", budget: 62_000, basis: ADD },
  { operation: "add pieces, 100 pieces (one call)", budget: 260_000, basis: ADD },
  { operation: "add pieces, 10,000 pieces (one call)", budget: 20_060_000, basis: ADD },
  { operation: "remove pieces (one call)", budget: 60_000, basis: "issue 11: remove pieces" },
  {
    operation: "proof, 4 challenges, 1 TiB as 1 GiB pieces in 1 data set",
    budget: 230_000,
    basis: PROOF_1TIB,
  },
  {
    operation: "proof, 4 challenges, 1 TiB as 1 GiB pieces in 100 data sets",
    budget: 230_000,
    basis: PROOF_1TIB,
  },
  { operation: "proof, 4 challenges, 10,000 pieces of 100 MiB", budget: 230_000, basis: PROOF_1TIB },
  {
    operation: "proof, 4 challenges, 100 TiB as 32 GiB pieces",
    budget: 260_000,
    basis: "PRODUCT / issue 11: proof, 4 challenges, 100 TiB provider (grows only with the log of the bytes)",
  },
  {
    operation: "report a missed proof (slash bounty), first report by this watcher",
    budget: 80_000,
    basis: "PRODUCT: report a missed proof",
    acceptedOverrun:
      "one-time storage creation: a watcher's first report creates its ledger balance and the provider's fault " +
      "log; the steady-state row below is the recurring cost",
  },
  {
    operation: "report a missed proof (slash bounty), watcher with a balance",
    budget: 80_000,
    basis: "PRODUCT: report a missed proof",
  },
  ...["1 day", "1 year", "5 years"].flatMap((after) =>
    ["1 piece", "10,000 pieces"].map((pieces) => ({
      operation: `settle data set after ${after}, ${pieces}`,
      budget: 60_000,
      basis: SETTLE,
    })),
  ),
  {
    operation: "settle 100 data sets in one call (per set)",
    budget: 25_000,
    basis: "PRODUCT / issue 11: settle 100 data sets in one call, per set",
  },
  {
    operation: "open a retrieval challenge (bond from the challenger's ledger balance)",
    budget: 150_000,
    basis: "ours: a bonded commitment to one data set, like creating a data set",
  },
  {
    operation: "answer a retrieval challenge",
    budget: 120_000,
    basis: "ours: one Merkle opening, like a proof",
  },
  {
    operation: "enforce an unanswered retrieval challenge (data set ends, collateral slashed)",
    budget: 150_000,
    basis: "ours: ends a data set with a slash through one call to the market",
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
