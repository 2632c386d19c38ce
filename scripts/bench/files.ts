/**
 * The committed benchmark files under bench/, their schemas, and typed readers. A missing snapshot reads as
 * empty (every figure then shows as new); a malformed one is an error with code BENCH_RESULT_INVALID.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { StrataError } from "../../offchain/sdk/errors.js";
import type { GasRow } from "./report.js";
import type { GasSnapshot, SizeSnapshot } from "./snapshot.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const GAS_JSON = path.join(ROOT, "bench", "gas.json");
export const GAS_SNAPSHOT = path.join(ROOT, "bench", "gas-snapshot.json");
export const SIZES_JSON = path.join(ROOT, "bench", "sizes.json");
export const DATA_JSON = path.join(ROOT, "bench", "data.json");
export const WORKER_JSON = path.join(ROOT, "bench", "worker.json");

const count = z.number().int().nonnegative();

export const gasRowsSchema = z.array(
  z.strictObject({
    operation: z.string(),
    gas: count,
    budget: count.nullable(),
    note: z.string().optional(),
  }),
);

export const gasSnapshotSchema = z.record(z.string(), count);

export const sizeSnapshotSchema = z.strictObject({
  limits: z.strictObject({ runtimeBytes: count, initcodeBytes: count }),
  contracts: z.array(
    z.strictObject({
      contract: z.string(),
      source: z.string(),
      kind: z.enum(["contract", "library"]),
      runtimeBytes: count,
      runtimeMargin: z.number().int(),
      initcodeBytes: count,
      initcodeMargin: z.number().int(),
      linkedLibraries: z.array(z.string()),
      linkedInto: z.array(z.string()),
    }),
  ),
});

/** bench/data.json (`npm run bench:data`): the fields the README shows. */
export const dataBenchSchema = z.looseObject({
  fileMiB: z.number(),
  commitMBps: z.number(),
  commitSingleThreadMBps: z.number(),
  opensslSha256MBps: z.number(),
  commitVsOpensslPercent: z.number(),
  encryptMBps: z.number(),
  erasureMBps: z.number(),
  storeSeconds: z.number(),
  retrieveSeconds: z.number(),
  storeClientPeakRssMB: z.number(),
  retrieveClientPeakRssMB: z.number(),
  agentPeakRssMB: z.number(),
  /** One entry per file size (streaming pipeline alone and through agents); absent in older results. */
  runs: z
    .array(
      z.looseObject({
        fileMiB: z.number(),
        prepareSeconds: z.number(),
        restoreSeconds: z.number(),
        storeSeconds: z.number().nullable(),
        retrieveSeconds: z.number().nullable(),
        storeClientPeakRssMB: z.number().nullable(),
        retrieveClientPeakRssMB: z.number().nullable(),
        agentPeakRssMB: z.number().nullable(),
        /** Measurements each timed figure is the median of (absent in older results: one). */
        repeats: z.number().optional(),
        storeVsPreparePercent: z.number().nullable().optional(),
        retrieveVsRestorePercent: z.number().nullable().optional(),
        /** The file as a permanent file (absent in older results). */
        permanentCodeSeconds: z.number().nullable().optional(),
        permanentReadSeconds: z.number().nullable().optional(),
        permanentReadDecodeSeconds: z.number().nullable().optional(),
        permanentPeakRssMB: z.number().nullable().optional(),
      }),
    )
    .optional(),
  /** Many small files stored by one command (bench:small-files, merged by bench:data); null until measured. */
  smallFiles: z.number().nullable().optional(),
  smallFilesMiB: z.number().nullable().optional(),
  smallFilesStoreSeconds: z.number().nullable().optional(),
  smallFilesGasPerFile: z.number().nullable().optional(),
  threads: z.number(),
  measuredAt: z.string(),
});
export type DataBench = z.infer<typeof dataBenchSchema>;

/** bench/worker.json (`npm run bench:worker`): the fields the README shows. */
export const workerBenchSchema = z.looseObject({
  dataSets: z.number(),
  providers: z.number(),
  steadyStateCpuPercent: z.number().nullable(),
  steadyStatePeakRssMB: z.number().nullable().optional(),
  steadyStateReportsSent: z.number().nullable(),
  runs: z.array(
    z.looseObject({
      dataSets: z.number(),
      events: z.number(),
      seconds: z.number(),
      eventsPerSecond: z.number(),
      peakRssMB: z.number().nullable(),
    }),
  ),
  measuredAt: z.string(),
});
export type WorkerBench = z.infer<typeof workerBenchSchema>;

/** Parse the JSON file at `file` with `schema`; `fallback` when the file does not exist (undefined: required). */
export function readJson<T>(file: string, schema: z.ZodType<T>, fallback?: T): T {
  if (!existsSync(file)) {
    if (fallback !== undefined) return fallback;
    throw new StrataError("BENCH_RESULT_INVALID", `${path.relative(ROOT, file)} does not exist`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new StrataError("BENCH_RESULT_INVALID", `${path.relative(ROOT, file)} is not JSON`, { cause });
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new StrataError("BENCH_RESULT_INVALID", `${path.relative(ROOT, file)} does not match its format`, {
      details: z.prettifyError(result.error),
    });
  }
  return result.data;
}

export function readGasRows(file = GAS_JSON): GasRow[] {
  return readJson(file, gasRowsSchema, []);
}

export function readGasSnapshot(file = GAS_SNAPSHOT): GasSnapshot {
  return readJson(file, gasSnapshotSchema, {});
}

export function readSizes(file = SIZES_JSON): SizeSnapshot {
  return readJson(file, sizeSnapshotSchema, { limits: { runtimeBytes: 0, initcodeBytes: 0 }, contracts: [] });
}

export const ECONOMICS_JSON = path.join(ROOT, "bench", "economics.json");
export const ECONOMICS_SVG = path.join(ROOT, "bench", "economics.svg");

/** bench/economics.json (`npm run bench:economics`). */
export const economicsSchema = z.array(
  z.strictObject({
    fileSize: z.number().int().positive(),
    providerTiB: z.number().positive(),
    gwei: z.number().positive(),
    overheadPerTiBMonth: z.number().nonnegative(),
    percentOfReference: z.number().nonnegative(),
  }),
);

export const INCENTIVES_JSON = path.join(ROOT, "bench", "incentives.json");
export const INCENTIVES_SVG = path.join(ROOT, "bench", "incentives.svg");

/** bench/incentives.json (`npm run incentives`): one row per parameter set and deviation, plus "honest". */
export const incentivesSchema = z.array(
  z.strictObject({
    parameterSet: z.string().min(1),
    deviation: z.string().min(1),
    gain: z.number(),
    loss: z.number(),
    margin: z.number(),
  }),
);
