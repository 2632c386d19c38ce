/**
 * `npm run incentives`: the incentive model (offchain/incentives) on every shipped parameter set
 * (deploy/parameters/*.json) with the agent's default terms and the measured gas (bench/gas.json). Prints, per
 * parameter set and deviation, the expected gain, loss and margin (loss − gain) over one escrow's horizon and the
 * smallest collateral / escrow ratio that keeps the deviation from paying, then the honest margins and the
 * sensitivity sweeps over the contracts' bounds; writes bench/incentives.json and bench/incentives.svg.
 * Exits 1 when a shipped set lets a deviation the chain can stop pay, or leaves honest storage at a loss.
 *   npm run incentives -- --gwei 1 --eth-price 3500 --watcher-presence 0.1
 *   (options other than the defaults print the tables and write nothing)
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  incentiveRows,
  reportSet,
  SCENARIO_DEFAULTS,
  sweep,
  violations,
  type Scenario,
  type SetReport,
} from "../offchain/incentives/index.js";
import { StrataError } from "../offchain/sdk/errors.js";
import { INCENTIVES_JSON, INCENTIVES_SVG, ROOT } from "./bench/files.js";
import { writeJson } from "./bench/report.js";
import { incentivesSvg } from "./incentives/chart.js";
import { defaultScenario, shippedGas, shippedParameterSets } from "./incentives/inputs.js";

/** The defaults are set at least this many times above the largest minimum ratio of a shipped set. */
export const SAFETY_FACTOR = 2;

function number(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    throw new StrataError("INVALID_ARGUMENT", `--${name} must be a non-negative number`);
  }
  return value;
}

const fixed = (v: number, digits = 3) => v.toFixed(digits);
const ratio = (v: number | null) => (v === null ? "none" : v === 0 ? "0" : v.toFixed(2));

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) =>
      i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0),
    )
    .join("  ");
}

function printSet(report: SetReport): void {
  const widths = [28, 11, 11, 11, 9, 0];
  console.log(
    `\n${report.parameterSet}  (collateral / escrow: storage ${fixed(report.storageRatio, 2)}, lease ${fixed(report.leaseRatio, 2)})`,
  );
  console.log(pad(["deviation", "gain", "loss", "margin", "min ratio", "strategy"], widths));
  for (const d of report.deviations) {
    const mc = d.monteCarlo;
    const tag = d.residual
      ? " [residual]"
      : mc === undefined
        ? ""
        : ` [monte carlo: margin ${fixed(mc.loss - mc.gain)} ± ${fixed(mc.standardError)}]`;
    console.log(
      pad(
        [d.deviation, fixed(d.gain), fixed(d.loss), fixed(d.margin), ratio(d.minRatio), d.strategy + tag],
        widths,
      ),
    );
  }
  const h = report.honest;
  console.log(
    `honest storage per month: revenue ${fixed(h.revenue)} − storage ${fixed(h.storageCost)} − gas ${fixed(h.gas)} ` +
      `− capital ${fixed(h.capital)} = ${fixed(h.profit)}`,
  );
  const l = report.honestLease;
  console.log(
    `honest lease per month:   revenue ${fixed(l.revenue)} − running ${fixed(l.runCost)} − gas ${fixed(l.gas)} ` +
      `− capital ${fixed(l.capital)} = ${fixed(l.profit)}`,
  );
}

function main(): void {
  const { values } = parseArgs({
    options: {
      gwei: { type: "string", default: String(SCENARIO_DEFAULTS.gwei) },
      "eth-price": { type: "string", default: String(SCENARIO_DEFAULTS.ethPrice) },
      "watcher-presence": { type: "string", default: String(SCENARIO_DEFAULTS.watcherPresence) },
      "storage-cost": { type: "string", default: String(SCENARIO_DEFAULTS.storageCostPerTiBMonth) },
    },
  });
  const overrides: Partial<Scenario> = {
    gwei: number(values.gwei, "gwei"),
    ethPrice: number(values["eth-price"], "eth-price"),
    watcherPresence: number(values["watcher-presence"], "watcher-presence"),
    storageCostPerTiBMonth: number(values["storage-cost"], "storage-cost"),
  };
  const isDefault =
    overrides.gwei === SCENARIO_DEFAULTS.gwei &&
    overrides.ethPrice === SCENARIO_DEFAULTS.ethPrice &&
    overrides.watcherPresence === SCENARIO_DEFAULTS.watcherPresence &&
    overrides.storageCostPerTiBMonth === SCENARIO_DEFAULTS.storageCostPerTiBMonth;
  const scenario = defaultScenario(overrides);
  const gas = shippedGas();
  const sets = shippedParameterSets();
  console.log(
    `Scenario: ${scenario.providerTiB} TiB in ${scenario.dataSetTiB} TiB data sets at ${scenario.pricePerTiBMonth} per ` +
      `TiB-month, collateral ${scenario.collateralPerTiB} per TiB, notice ${scenario.noticePeriods} periods (agent ` +
      `defaults); storage cost ${scenario.storageCostPerTiBMonth} per TiB-month; gas ${scenario.gwei} gwei at ETH = ` +
      `${scenario.ethPrice}; capital ${scenario.capitalRatePerYear * 100} %/year; watcher presence ` +
      `${scenario.watcherPresence}; horizon ${scenario.horizonMonths} month(s). Amounts in tokens.`,
  );
  const reports = sets.map((set) => reportSet(set, scenario, gas));
  reports.forEach(printSet);

  const storageRatios = reports.flatMap((r) =>
    r.deviations.filter((d) => d.market === "storage" && !d.residual).map((d) => d.minRatio ?? Infinity),
  );
  const leaseRatios = reports.flatMap((r) =>
    r.deviations.filter((d) => d.market === "compute" && !d.residual).map((d) => d.minRatio ?? Infinity),
  );
  const needStorage = Math.max(0, ...storageRatios);
  const needLease = Math.max(0, ...leaseRatios);
  console.log(
    `\nLargest minimum collateral / escrow ratio: storage ${ratio(needStorage)} (× ${SAFETY_FACTOR} safety = ` +
      `${fixed(SAFETY_FACTOR * needStorage * scenario.pricePerTiBMonth * scenario.horizonMonths, 2)} per TiB; the ` +
      `agent offers ${scenario.collateralPerTiB}), lease ${ratio(needLease)} (× ${SAFETY_FACTOR} = ` +
      `${fixed(SAFETY_FACTOR * needLease * scenario.leasePricePerSecond * scenario.horizonMonths * 2_592_000, 2)} per ` +
      `lease; the agent offers ${scenario.leaseCollateral}).`,
  );

  console.log(
    "\nSweeps (one value changed at a time, closed form): deviations that pay, and the honest profit",
  );
  for (const set of sets) {
    const points = sweep(set, scenario, gas);
    const lines = points
      .filter((p) => p.profitable.length > 0 || p.honestProfit < 0)
      .map(
        (p) =>
          `  ${set.name}: ${p.axis} = ${p.value}: ${p.profitable.length > 0 ? p.profitable.join(", ") : "none"}` +
          (p.honestProfit < 0 ? `; honest profit ${fixed(p.honestProfit)}` : ""),
      );
    console.log(lines.length > 0 ? lines.join("\n") : `  ${set.name}: nothing pays at any swept value`);
  }

  const problems = reports.flatMap(violations);
  if (problems.length > 0) {
    console.error(
      `\n${problems.length} problem(s) with the shipped parameter sets:\n  ${problems.join("\n  ")}`,
    );
    process.exitCode = 1;
  }
  if (!isDefault) {
    console.log("\nnot written: bench/incentives.json holds the default scenario");
    return;
  }
  const rows = reports.flatMap(incentiveRows);
  writeJson(INCENTIVES_JSON, rows);
  const residual = new Set(
    reports.flatMap((r) => r.deviations.filter((d) => d.residual).map((d) => d.deviation)),
  );
  const title = `Margins of deviations (loss − gain, tokens, one month) and honest profit, ${scenario.gwei} gwei`;
  writeFileSync(INCENTIVES_SVG, incentivesSvg(rows, residual, title));
  console.log(
    `\nwritten to ${path.relative(ROOT, INCENTIVES_JSON)} and ${path.relative(ROOT, INCENTIVES_SVG)}`,
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
