/**
 * `npm run check:snapshots` (part of `npm test`): re-measure gas and bytecode sizes and fail, with a table of
 * what moved and the command that updates, when they differ from the committed bench/gas-snapshot.json,
 * bench/gas.json and bench/sizes.json, or when a gas row is over its budget or a contract over a size limit.
 */
import hre from "hardhat";
import { StrataError } from "../../offchain/sdk/errors.js";
import { GAS_BUDGETS } from "./budgets.js";
import { measureSizes } from "./contractSizes.js";
import { readGasRows, readGasSnapshot, readSizes } from "./files.js";
import { measureGas } from "./measureGas.js";
import { checkSnapshots } from "./snapshot.js";

const started = performance.now();
const sizesNow = await measureSizes(hre.artifacts);
const gasNow = await measureGas(hre.hooks, () => undefined);
const verdict = checkSnapshots({
  gasSnapshot: readGasSnapshot(),
  gasJson: readGasRows(),
  gasNow,
  budgets: GAS_BUDGETS,
  sizeSnapshot: readSizes(),
  sizesNow,
});
console.log(verdict.report);
console.log(`\nchecked in ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (verdict.drift || verdict.overLimit) {
  const code = verdict.drift ? "SNAPSHOT_DRIFT" : "OVER_LIMIT";
  const error = new StrataError(code, verdict.drift ? "gas or sizes moved" : "over a budget or size limit");
  console.error(`\nerror ${error.code}: ${error.message}`);
  process.exitCode = 1;
}
