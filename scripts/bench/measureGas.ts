/**
 * One gas measurement of every benchmarked operation, the same to the unit in every run (see
 * ./deterministicChain.ts), with budgets from ./budgets.ts. Used by `npm run bench:gas` (./gas.ts) and
 * `npm run check:snapshots` (./checkSnapshots.ts).
 */
import type { HookManager } from "hardhat/types/hooks";
import { withBudgets } from "./budgets.js";
import { computeRows } from "./computeGas.js";
import { fixBlockTimes } from "./deterministicChain.js";
import type { GasRow } from "./report.js";
import { storageRows } from "./storageGas.js";

/** Piece size of the committed snapshot (the proof and retrieval rows depend on the Merkle depth). */
export const SNAPSHOT_PIECE_MIB = 256;

export async function measureGas(
  hooks: HookManager,
  log: (line: string) => void,
  pieceMiB: number = SNAPSHOT_PIECE_MIB,
): Promise<GasRow[]> {
  const release = fixBlockTimes(hooks);
  try {
    const storage = await storageRows(pieceMiB, log);
    log("measuring the compute market");
    const compute = await computeRows();
    return withBudgets([...storage, ...compute]);
  } finally {
    release();
  }
}
