/**
 * `npm run bench:gas`: gas of the storage and compute markets' operations beside their budgets
 * (./budgets.ts). Prints the table and writes bench/gas.json (rows with budgets and notes) and
 * bench/gas-snapshot.json (gas per operation), which `npm run check:snapshots` compares against.
 *   STRATA_BENCH_PIECE_MIB=64 npm run bench:gas   # other piece sizes: printed, not written
 */
import hre from "hardhat";
import { StrataError } from "../../offchain/sdk/errors.js";
import { GAS_JSON, GAS_SNAPSHOT, ROOT } from "./files.js";
import { measureGas, SNAPSHOT_PIECE_MIB } from "./measureGas.js";
import { gasTable, writeJson } from "./report.js";
import { budgetVerdicts, gasSnapshotOf } from "./snapshot.js";
import { GAS_BUDGETS } from "./budgets.js";
import path from "node:path";

const pieceMiB = Number(process.env.STRATA_BENCH_PIECE_MIB ?? SNAPSHOT_PIECE_MIB);
if (!Number.isSafeInteger(pieceMiB) || pieceMiB <= 0) {
  throw new StrataError("INVALID_ARGUMENT", "STRATA_BENCH_PIECE_MIB must be a positive whole number of MiB");
}

const started = performance.now();
const rows = await measureGas(
  hre.hooks,
  (line) => {
    console.log(line);
  },
  pieceMiB,
);
console.log(`\n${gasTable(rows)}\n`);
if (pieceMiB === SNAPSHOT_PIECE_MIB) {
  writeJson(GAS_JSON, rows);
  writeJson(GAS_SNAPSHOT, gasSnapshotOf(rows));
  console.log(`written to ${path.relative(ROOT, GAS_JSON)} and ${path.relative(ROOT, GAS_SNAPSHOT)}`);
} else {
  console.log(`not written: the snapshot is measured on ${SNAPSHOT_PIECE_MIB} MiB pieces`);
}
const { failures, accepted } = budgetVerdicts(rows, GAS_BUDGETS);
for (const line of accepted) console.log(`accepted overrun: ${line}`);
for (const line of failures) console.log(`OVER BUDGET: ${line}`);
console.log(`measured in ${((performance.now() - started) / 1000).toFixed(1)} s`);
