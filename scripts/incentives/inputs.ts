/**
 * Inputs of `npm run incentives`: the shipped parameter sets (deploy/parameters/*.json), the measured gas
 * (bench/gas.json) and the scenario built from the provider agent's and the watcher's default configuration plus
 * the model's own defaults (offchain/incentives/parameters.ts).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { defaultConfig } from "../../offchain/agent/config.js";
import {
  checkScenario,
  modelGas,
  parameterSetFromFile,
  SCENARIO_DEFAULTS,
  type ModelGas,
  type ParameterSet,
  type Scenario,
} from "../../offchain/incentives/index.js";
import { defaultWorkerConfig } from "../../offchain/worker/config.js";
import { readGasRows, ROOT } from "../bench/files.js";

export const PARAMETERS_DIR = path.join(ROOT, "deploy", "parameters");

/** Every shipped parameter set, by file name without .json, sorted. */
export function shippedParameterSets(dir = PARAMETERS_DIR): ParameterSet[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) =>
      parameterSetFromFile(f.replace(/\.json$/, ""), JSON.parse(readFileSync(path.join(dir, f), "utf8"))),
    );
}

export function shippedGas(): ModelGas {
  return modelGas(readGasRows());
}

/** The representative lease: one core and 2 GiB of memory at the agent's default prices. */
export const LEASE = { millicores: 1_000, memoryMiB: 2_048 } as const;

/** The agent configuration writes amounts and prices in tokens. */
const tokens = (text: string) => Number(text);

/** The scenario of the agent's and the worker's defaults; `overrides` replace any field. */
export function defaultScenario(overrides: Partial<Scenario> = {}): Scenario {
  const agent = defaultConfig();
  const worker = defaultWorkerConfig();
  const compute = agent.compute;
  const pricePerSecond =
    LEASE.millicores * tokens(compute.pricePerMillicoreSecond) +
    LEASE.memoryMiB * tokens(compute.pricePerMiBSecond);
  return checkScenario({
    ...SCENARIO_DEFAULTS,
    pricePerTiBMonth: tokens(agent.policy.pricePerTiBMonth),
    collateralPerTiB: tokens(agent.policy.collateralPerTiB),
    noticePeriods: agent.policy.noticePeriods,
    settleEveryPeriods: Math.max(1, agent.settleEveryPeriods),
    // The worker samples 4 data sets a minute: 4 samples a day each while it watches up to 1,440 of them.
    samplesPerDataSetPerDay: 4,
    failuresBeforeChallenge: worker.sampling.failuresBeforeChallenge,
    leasePricePerSecond: pricePerSecond,
    leaseCostShare: 1 / (1 + compute.minMarginBps / 10_000),
    leaseCollateral: tokens(compute.collateralPerLease),
    leaseNoticeSeconds: compute.noticeWindowSeconds,
    overdraftCloseSeconds: compute.settleEverySeconds,
    ...overrides,
  });
}
