/**
 * `npm run check:snapshots` (part of `npm test`): re-measure gas and bytecode sizes and fail, with a table of
 * what moved and the command that updates, when they differ from the committed bench/gas-snapshot.json,
 * bench/gas.json and bench/sizes.json, when bench/economics.json is not the economics model's output for this
 * run's gas, or when a gas row is over its budget or a contract over a size limit.
 */
import hre from "hardhat";
import { StrataError } from "../../offchain/sdk/errors.js";
import { GAS_BUDGETS } from "./budgets.js";
import { economicsRows, shippedSettings } from "./economicsInputs.js";
import { operationGas } from "./economicsModel.js";
import { measureSizes } from "./contractSizes.js";
import {
  ECONOMICS_JSON,
  economicsSchema,
  readGasRows,
  readGasSnapshot,
  readJson,
  readSizes,
} from "./files.js";
import { measureGas } from "./measureGas.js";
import { checkSnapshots, UPDATE_COMMAND } from "./snapshot.js";

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
const economicsNow = economicsRows(operationGas(gasNow), shippedSettings());
const economicsStale =
  JSON.stringify(readJson(ECONOMICS_JSON, economicsSchema, [])) !== JSON.stringify(economicsNow);
console.log(verdict.report);
if (economicsStale) {
  console.log(
    `\nbench/economics.json is not the economics model's output for this run's gas: run \`${UPDATE_COMMAND}\`.`,
  );
}
console.log(`\nchecked in ${((performance.now() - started) / 1000).toFixed(1)} s`);
const drift = verdict.drift || economicsStale;
if (drift || verdict.overLimit) {
  const code = drift ? "SNAPSHOT_DRIFT" : "OVER_LIMIT";
  const error = new StrataError(
    code,
    drift ? "gas, sizes or economics moved" : "over a budget or size limit",
  );
  console.error(`\nerror ${error.code}: ${error.message}`);
  process.exitCode = 1;
}
