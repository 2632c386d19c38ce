/**
 * The economics benchmark's inputs as the project ships them: the deployment's proving period
 * (deploy/parameters), the agent's settlement cadence (its configuration defaults) and the client's coding
 * defaults (`strata store`'s options), and the scenarios of issue 11. Used by `npm run bench:economics`
 * (./economics.ts) and by `npm run check:snapshots`, which fails when bench/economics.json is not the model's
 * output for bench/gas.json.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { z } from "zod";
import { defaultConfig } from "../../offchain/agent/config.js";
import { registerStoreCommand } from "../../offchain/cli/commands/store.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import {
  economicsRow,
  GIB,
  MIB,
  type EconomicsRow,
  type ModelSettings,
  type OperationGas,
  type Scenario,
} from "./economicsModel.js";
import { ROOT } from "./files.js";

export const FILE_SIZES = [10 * MIB, GIB, 32 * GIB];
export const PROVIDER_TIB = [1, 10, 100];
export const GWEI = [0.01, 0.1];
export const DEFAULTS = {
  parameters: "deploy/parameters/base-sepolia.json",
  ethPrice: "3000",
  dataSetTiB: "1",
  filesPerState: "1",
};

const parameterFile = z.record(z.string(), z.looseObject({ provingPeriod: z.number().int().positive() }));
const positiveInt = z.number().int().positive();

/** The deployment's proving period (seconds) from a deploy/parameters file. */
function provingPeriodOf(file: string): number {
  const parsed = parameterFile.safeParse(JSON.parse(readFileSync(path.resolve(ROOT, file), "utf8")));
  const module = parsed.success ? Object.values(parsed.data)[0] : undefined;
  if (module === undefined) throw new StrataError("BENCH_SETUP_FAILED", `${file} names no proving period`);
  return module.provingPeriod;
}

/** The client's coding defaults, read from `strata store`'s options (--k data, --m parity pieces). */
function clientCoding(): { k: number; m: number } {
  const program = new Command();
  // Only the options are read: the command never runs.
  registerStoreCommand(program, () => Promise.resolve());
  const store = program.commands.find((c) => c.name() === "store");
  const value = (flag: string) => {
    const parsed = positiveInt.safeParse(store?.options.find((o) => o.long === flag)?.defaultValue);
    if (!parsed.success)
      throw new StrataError("BENCH_SETUP_FAILED", `strata store has no default for ${flag}`);
    return parsed.data;
  };
  return { k: value("--k"), m: value("--m") };
}

/** The settings of bench/economics.json, with `overrides`. */
export function shippedSettings(
  overrides: Partial<Pick<ModelSettings, "dataSetTiB" | "filesPerState" | "ethPrice">> & {
    parameters?: string;
  } = {},
): ModelSettings {
  const { k, m } = clientCoding();
  return {
    k,
    m,
    provingPeriod: provingPeriodOf(overrides.parameters ?? DEFAULTS.parameters),
    settleEveryPeriods: positiveInt.parse(defaultConfig().settleEveryPeriods),
    dataSetTiB: overrides.dataSetTiB ?? Number(DEFAULTS.dataSetTiB),
    filesPerState: overrides.filesPerState ?? Number(DEFAULTS.filesPerState),
    ethPrice: overrides.ethPrice ?? Number(DEFAULTS.ethPrice),
  };
}

/** Issue 11's scenarios: every gas price, provider size and file size. */
export const SCENARIOS: readonly Scenario[] = GWEI.flatMap((gwei) =>
  PROVIDER_TIB.flatMap((providerTiB) => FILE_SIZES.map((fileBytes) => ({ fileBytes, providerTiB, gwei }))),
);

export function economicsRows(gas: OperationGas, settings: ModelSettings): EconomicsRow[] {
  return SCENARIOS.map((s) => economicsRow(gas, settings, s));
}
