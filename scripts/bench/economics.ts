/**
 * `npm run bench:economics`: the on-chain overhead per TiB-month of a year of storage (create, add, prove,
 * settle, end, withdraw; model in ./economicsModel.ts) from the measured gas in bench/gas.json, the deployment's
 * proving period, the agent's settlement cadence and the client's coding defaults. Prints the table beside the
 * reference price and S3, writes bench/economics.json and bench/economics.svg.
 *   npm run bench:economics -- --eth-price 3500 --data-set-tib 4 --files-per-state 100
 *   (options other than the defaults print the table and write nothing)
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { StrataError } from "../../offchain/sdk/errors.js";
import { economicsSvg } from "./economicsChart.js";
import { DEFAULTS, economicsRows, SCENARIOS, shippedSettings } from "./economicsInputs.js";
import {
  economicsTable,
  filesPerStateForGoal,
  formatBytes,
  meetsGoal,
  operationGas,
  REFERENCE_PER_TIB_MONTH,
  round,
  s3PerTiBMonth,
  S3_PER_TB_MONTH,
} from "./economicsModel.js";
import { ECONOMICS_JSON, ECONOMICS_SVG, readGasRows, ROOT } from "./files.js";
import { writeJson } from "./report.js";

function number(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new StrataError("INVALID_ARGUMENT", `--${name} must be a positive number`);
  }
  return value;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      parameters: { type: "string", default: DEFAULTS.parameters },
      "eth-price": { type: "string", default: DEFAULTS.ethPrice },
      "data-set-tib": { type: "string", default: DEFAULTS.dataSetTiB },
      "files-per-state": { type: "string", default: DEFAULTS.filesPerState },
    },
  });
  const settings = shippedSettings({
    parameters: values.parameters,
    dataSetTiB: number(values["data-set-tib"], "data-set-tib"),
    filesPerState: number(values["files-per-state"], "files-per-state"),
    ethPrice: number(values["eth-price"], "eth-price"),
  });
  const { k, m } = settings;
  const isDefault =
    values.parameters === DEFAULTS.parameters &&
    values["eth-price"] === DEFAULTS.ethPrice &&
    values["data-set-tib"] === DEFAULTS.dataSetTiB &&
    values["files-per-state"] === DEFAULTS.filesPerState;
  const gas = operationGas(readGasRows());
  const scenarios = SCENARIOS;
  const rows = economicsRows(gas, settings);

  console.log(
    `Settings: k=${k}, m=${m} (strata store), proving period ${settings.provingPeriod} s (${values.parameters}), ` +
      `settle every ${settings.settleEveryPeriods} periods (agent default), ${settings.dataSetTiB} TiB per data set, ` +
      `${settings.filesPerState} file(s) per signed state, ETH = ${settings.ethPrice}`,
  );
  console.log(
    `Reference: ${REFERENCE_PER_TIB_MONTH} per TiB-month; S3 Standard ${S3_PER_TB_MONTH} per TB-month ` +
      `(${round(s3PerTiBMonth(), 2)} per TiB-month)\n`,
  );
  console.log(economicsTable(rows, settings.ethPrice));
  const missed = scenarios.filter((_, i) => {
    const row = rows[i];
    return row !== undefined && meetsGoal(row) === false;
  });
  if (missed.length > 0) {
    console.log(
      `\n${missed.length} row(s) miss the goal. Files per signed state (and top-up) that would meet it:`,
    );
    for (const s of missed) {
      const fold = filesPerStateForGoal(gas, settings, s);
      console.log(
        `  ${formatBytes(s.fileBytes)} files, ${s.providerTiB} TiB, ${s.gwei} gwei: ` +
          (fold === null ? "none (the costs that do not depend on files exceed the goal)" : String(fold)),
      );
    }
  }
  if (!isDefault) {
    console.log("\nnot written: bench/economics.json holds the default settings");
    return;
  }
  writeJson(ECONOMICS_JSON, rows);
  const title = `On-chain overhead per TiB-month, ETH = ${settings.ethPrice}, reference ${REFERENCE_PER_TIB_MONTH} per TiB-month`;
  writeFileSync(ECONOMICS_SVG, economicsSvg(rows, title));
  console.log(
    `\nwritten to ${path.relative(ROOT, ECONOMICS_JSON)} and ${path.relative(ROOT, ECONOMICS_SVG)}`,
  );
}

try {
  main();
} catch (error: unknown) {
  if (!(error instanceof StrataError)) throw error;
  console.error(
    `error ${error.code}: ${error.message}${error.details === undefined ? "" : `\n${error.details}`}`,
  );
  process.exitCode = 1;
}
