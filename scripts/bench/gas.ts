/**
 * `npm run bench:gas`: gas of the storage and compute markets' operations beside their budgets
 * (./budgets.ts). Prints the table and writes bench/gas.json (rows with budgets and notes) and
 * bench/gas-snapshot.json (gas per operation), which `npm run check:snapshots` compares against.
 */
import path from "node:path";
import hre from "hardhat";
import { GAS_BUDGETS } from "./budgets.js";
import { GAS_JSON, GAS_SNAPSHOT, ROOT } from "./files.js";
import { measureGas } from "./measureGas.js";
import { gasTable, writeJson } from "./report.js";
import { budgetVerdicts, gasSnapshotOf } from "./snapshot.js";

const started = performance.now();
const rows = await measureGas(hre.hooks, (line) => {
  console.log(line);
});
console.log(`\n${gasTable(rows)}\n`);
writeJson(GAS_JSON, rows);
writeJson(GAS_SNAPSHOT, gasSnapshotOf(rows));
console.log(`written to ${path.relative(ROOT, GAS_JSON)} and ${path.relative(ROOT, GAS_SNAPSHOT)}`);
const { failures, accepted, unneeded } = budgetVerdicts(rows, GAS_BUDGETS);
for (const line of accepted) console.log(`accepted overrun: ${line}`);
for (const line of unneeded)
  console.log(`accepted overrun no longer needed (delete it in budgets.ts): ${line}`);
for (const line of failures) console.log(`OVER BUDGET: ${line}`);
console.log(`measured in ${((performance.now() - started) / 1000).toFixed(1)} s`);
