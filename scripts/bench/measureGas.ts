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

export async function measureGas(hooks: HookManager, log: (line: string) => void): Promise<GasRow[]> {
  const release = fixBlockTimes(hooks);
  try {
    const storage = await storageRows(log);
    log("measuring the compute market");
    const compute = await computeRows();
    return withBudgets([...storage, ...compute]);
  } finally {
    release();
  }
}
