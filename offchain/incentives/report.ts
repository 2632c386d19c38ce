/**
 * The model's report: every deviation of both markets for one parameter set and scenario, the smallest
 * collateral / escrow ratio that keeps each one unprofitable, the honest margin, sensitivity sweeps over the
 * contracts' bounds, and the gate (which results make a parameter set unsafe to ship).
 */
import { computeDeviation } from "./compute.js";
import {
  COMPUTE_DEVIATIONS,
  margin,
  STORAGE_DEVIATIONS,
  type DeviationName,
  type DeviationResult,
} from "./deviation.js";
import type { ModelGas } from "./gas.js";
import { simulateDrop, type MonteCarloResult } from "./monteCarlo.js";
import { MONTH_SECONDS, type ParameterSet, type Scenario } from "./parameters.js";
import { honestLease, honestStorage } from "./participation.js";
import { bestDrop, DILUTIONS, storageDeviation } from "./storage.js";

/** One row of bench/incentives.json (issue 12's format). */
export interface IncentiveRow {
  parameterSet: string;
  deviation: string;
  gain: number;
  loss: number;
  margin: number;
}

export interface EvaluatedDeviation extends DeviationResult {
  margin: number;
  /** Smallest collateral / escrow ratio at which the deviation stops paying (0: it never pays; null: collateral
   * cannot stop it). Escrow = one horizon of the revenue the collateral backs (a TiB's, or the lease's). */
  minRatio: number | null;
  /** For the partial drops: the Monte Carlo at the closed form's best strategy, with late terminations. */
  monteCarlo?: MonteCarloResult;
}

export interface SetReport {
  parameterSet: string;
  deviations: EvaluatedDeviation[];
  honest: ReturnType<typeof honestStorage>;
  honestLease: ReturnType<typeof honestLease>;
  /** The scenario's collateral / escrow ratios (storage per TiB, compute per lease). */
  storageRatio: number;
  leaseRatio: number;
}

export interface ReportOptions {
  /** Monte Carlo trials for the partial drops (0: closed form only). */
  trials: number;
  seed: number;
}

export const DEFAULT_REPORT_OPTIONS: ReportOptions = { trials: 400, seed: 12 };

function evaluate(
  name: DeviationName,
  set: ParameterSet,
  scenario: Scenario,
  gas: ModelGas,
): DeviationResult {
  return (STORAGE_DEVIATIONS as readonly string[]).includes(name)
    ? storageDeviation(name as (typeof STORAGE_DEVIATIONS)[number], set, scenario, gas)
    : computeDeviation(name as (typeof COMPUTE_DEVIATIONS)[number], set, scenario, gas);
}

/** Escrow the collateral is compared with: a horizon of revenue of one TiB, or of the lease. */
export function storageEscrow(scenario: Scenario): number {
  return scenario.pricePerTiBMonth * scenario.horizonMonths;
}
export function leaseEscrow(scenario: Scenario): number {
  return scenario.leasePricePerSecond * scenario.horizonMonths * MONTH_SECONDS;
}

/** The scenario with the collateral of `market` set to `ratio` × escrow. */
export function withRatio(scenario: Scenario, market: "storage" | "compute", ratio: number): Scenario {
  return market === "storage"
    ? { ...scenario, collateralPerTiB: ratio * storageEscrow(scenario) }
    : { ...scenario, leaseCollateral: ratio * leaseEscrow(scenario) };
}

const MAX_RATIO = 10_000;
/** Ratios tried before bisection: 0, then 0.01 … 10,000 on a log grid. */
const RATIO_GRID = [0, ...Array.from({ length: 25 }, (_, i) => 10 ** (-2 + i / 4))];

/**
 * Smallest collateral / escrow ratio from which on the deviation never pays (checked on a log grid up to
 * MAX_RATIO, then refined by bisection). 0 when it never pays; null when no ratio stops it — including
 * deviations that pay more the more collateral there is (an escape priced below what it avoids).
 */
export function minimumRatio(
  name: DeviationName,
  set: ParameterSet,
  scenario: Scenario,
  gas: ModelGas,
): number | null {
  const market = (STORAGE_DEVIATIONS as readonly string[]).includes(name) ? "storage" : "compute";
  const at = (ratio: number) => margin(evaluate(name, set, withRatio(scenario, market, ratio), gas));
  const holds = RATIO_GRID.map((ratio) => at(ratio) >= 0);
  let first = holds.length;
  while (first > 0 && holds[first - 1] === true) first--;
  if (first === holds.length) return null;
  if (first === 0) return 0;
  let low = RATIO_GRID[first - 1] ?? 0;
  let high = RATIO_GRID[first] ?? MAX_RATIO;
  for (let i = 0; i < 40 && high - low > 1e-3 * high; i++) {
    const mid = (low + high) / 2;
    if (at(mid) >= 0) high = mid;
    else low = mid;
  }
  return high;
}

/** Every deviation of `set` under `scenario`; the partial drops re-evaluated by Monte Carlo at their best strategy. */
export function reportSet(
  set: ParameterSet,
  scenario: Scenario,
  gas: ModelGas,
  options: ReportOptions = DEFAULT_REPORT_OPTIONS,
): SetReport {
  const names: DeviationName[] = [...STORAGE_DEVIATIONS, ...COMPUTE_DEVIATIONS];
  const deviations = names.map((name, index): EvaluatedDeviation => {
    const result = evaluate(name, set, scenario, gas);
    const evaluated: EvaluatedDeviation = {
      ...result,
      margin: margin(result),
      minRatio: minimumRatio(name, set, scenario, gas),
    };
    if (options.trials > 0 && (name === "keep-fraction" || name === "dilute-self-deals")) {
      const best = bestDrop(set, scenario, gas, name === "keep-fraction" ? [0] : DILUTIONS);
      evaluated.monteCarlo = simulateDrop(set, scenario, gas, best.strategy, {
        trials: options.trials,
        seed: options.seed + index,
        terminationPresence: scenario.watcherPresence,
      });
    }
    return evaluated;
  });
  return {
    parameterSet: set.name,
    deviations,
    honest: honestStorage(set, scenario, gas),
    honestLease: honestLease(set, scenario, gas),
    storageRatio: scenario.collateralPerTiB / storageEscrow(scenario),
    leaseRatio: scenario.leaseCollateral / leaseEscrow(scenario),
  };
}

const round = (value: number) => Math.round(value * 1e6) / 1e6;

/** bench/incentives.json rows of a report: one per deviation, then "honest" (margin = honest monthly profit). */
export function incentiveRows(report: SetReport): IncentiveRow[] {
  const rows: IncentiveRow[] = report.deviations.map((d) => ({
    parameterSet: report.parameterSet,
    deviation: d.deviation,
    gain: round(d.gain),
    loss: round(d.loss),
    margin: round(d.margin),
  }));
  const h = report.honest;
  rows.push({
    parameterSet: report.parameterSet,
    deviation: "honest",
    gain: round(h.revenue),
    loss: round(h.storageCost + h.gas + h.capital),
    margin: round(h.profit),
  });
  return rows;
}

/**
 * What makes a parameter set unsafe to ship: a deviation the chain can stop that pays, or honest storage at a
 * loss (issue 12's "honest" row). The honest lease is reported beside it: its heartbeat gas depends on the
 * heartbeat period, which a local chain (no real gas) sets short for demonstrations.
 */
export function violations(report: SetReport): string[] {
  const out: string[] = [];
  for (const d of report.deviations) {
    if (d.residual) continue;
    if (d.margin < 0) {
      out.push(`${report.parameterSet}: ${d.deviation} pays ${d.gain - d.loss} tokens (${d.strategy})`);
    }
    // The Monte Carlo (late terminations, runs of failed samples) flags a deviation it finds paying beyond noise.
    const mc = d.monteCarlo;
    if (d.margin >= 0 && mc !== undefined && mc.gain - mc.loss > 3 * mc.standardError) {
      out.push(
        `${report.parameterSet}: ${d.deviation} pays ${mc.gain - mc.loss} ± ${mc.standardError} tokens by Monte Carlo (${d.strategy})`,
      );
    }
  }
  if (report.honest.profit < 0)
    out.push(`${report.parameterSet}: honest storage loses ${-report.honest.profit}`);
  return out;
}

/** One axis of a sensitivity sweep: a parameter (or scenario field) and the values tried within its bounds. */
export interface SweepAxis {
  label: string;
  values: readonly number[];
  apply: (set: ParameterSet, scenario: Scenario, value: number) => { set: ParameterSet; scenario: Scenario };
}

const storageField =
  (field: keyof ParameterSet["storage"]) => (set: ParameterSet, scenario: Scenario, value: number) => ({
    set: { ...set, storage: { ...set.storage, [field]: value } },
    scenario,
  });
const scenarioField = (field: keyof Scenario) => (set: ParameterSet, scenario: Scenario, value: number) => ({
  set,
  scenario: { ...scenario, [field]: value },
});

/** Sweeps over the contracts' bounds and the scenario's uncertain inputs, one axis at a time. */
export const SWEEPS: readonly SweepAxis[] = [
  { label: "challengeCount", values: [1, 2, 4, 8, 16], apply: storageField("challengeCount") },
  { label: "maxFaults", values: [1, 3, 5, 10, 30, 100], apply: storageField("maxFaults") },
  { label: "reporterShareBps", values: [0, 2_500, 5_000], apply: storageField("reporterShareBps") },
  {
    label: "providerTerminationFeeBps",
    values: [0, 2_000, 10_000],
    apply: storageField("providerTerminationFeeBps"),
  },
  {
    label: "faultTerminationBountyBps",
    values: [0, 1_000, 2_000],
    apply: storageField("faultTerminationBountyBps"),
  },
  { label: "watcherPresence", values: [0, 0.1, 0.5, 1], apply: scenarioField("watcherPresence") },
  { label: "noticePeriods", values: [0, 1, 24, 720], apply: scenarioField("noticePeriods") },
  { label: "storageCostPerTiBMonth", values: [0.5, 1, 2, 3], apply: scenarioField("storageCostPerTiBMonth") },
  { label: "gwei", values: [0.01, 1, 10], apply: scenarioField("gwei") },
];

export interface SweepPoint {
  axis: string;
  value: number;
  /** Deviations (the chain can stop) that pay at this point, and the honest profit. */
  profitable: DeviationName[];
  honestProfit: number;
}

/** Closed-form sweep of `set`: which deviations pay at each value of each axis, others at their shipped values. */
export function sweep(set: ParameterSet, scenario: Scenario, gas: ModelGas): SweepPoint[] {
  const out: SweepPoint[] = [];
  for (const axis of SWEEPS) {
    for (const value of axis.values) {
      const changed = axis.apply(set, scenario, value);
      const report = reportSet(changed.set, changed.scenario, gas, { trials: 0, seed: 0 });
      out.push({
        axis: axis.label,
        value,
        profitable: report.deviations.filter((d) => !d.residual && d.margin < 0).map((d) => d.deviation),
        honestProfit: report.honest.profit,
      });
    }
  }
  return out;
}
