/**
 * The provider agent configuration's file form as one zod schema: amounts as decimal strings, field ranges,
 * unknown fields (typos such as "tickMS" are reported, not ignored), and the conversion to the typed
 * `AgentConfig` (bigints, checksummed addresses, resolved dataDir, compute prices in billionths).
 */
import { resolve } from "node:path";
import { z } from "zod";
import { parseScaledPrice } from "../sdk/compute/pricing.js";
import {
  durationMs,
  durationSeconds,
  expected,
  nonZeroAddress,
  onceFieldsValid,
  safeInt,
  text,
  tokenAmount,
  uint,
  url,
} from "../sdk/schemas/primitives.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const bool = z.boolean(expected("must be true or false"));

/** An address, or null when the field is absent, null or empty. */
const optionalAddress = z
  .union([z.null(), z.literal(""), nonZeroAddress], expected("must be a non-zero 0x address, or null"))
  .optional()
  .transform((value) => (value === undefined || value === null || value === "" ? null : value));

/** A price in token base units with up to 9 decimals ("0.005"), as billionths of a unit. */
const PRICE = 'must be a decimal string of base units, up to 9 decimals (e.g. "0.005")';
const price = z.string(expected(PRICE)).transform((value, ctx) => {
  const parsed = parseScaledPrice(value.trim());
  if (parsed !== undefined) return parsed;
  ctx.addIssue({ code: "custom", message: PRICE });
  return z.NEVER;
});

/** A label stored on chain as bytes16: printable ASCII, at most 16 characters ("" allowed). */
const label = z
  .string(expected("must be printable ASCII of at most 16 characters"))
  .regex(/^[\x20-\x7e]{0,16}$/, "must be printable ASCII of at most 16 characters");

/** An object keyed by labels (GPU models; a key may hold dots, "a100.80gb"). */
function labelMap<T extends z.ZodType>(value: T) {
  return z.record(
    z.string().regex(/^[\x20-\x7e]{1,16}$/, "keys must be printable ASCII of 1 to 16 characters"),
    value,
    expected("must be an object keyed by label"),
  );
}

const keySource = z.union(
  [
    z.strictObject({
      env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"),
    }),
    z.strictObject({ account: safeInt(0) }),
  ],
  expected('must be {"env": "VAR_NAME"} or {"account": <index>}'),
);

const compute = z.strictObject({
  enabled: bool,
  pricePerMillicoreSecond: price,
  pricePerMiBSecond: price,
  pricePerStorageGiBSecond: price,
  pricePerGpuSecond: labelMap(price),
  minMarginBps: safeInt(0, 1_000_000),
  collateralPerLease: tokenAmount({ max: (1n << 96n) - 1n }),
  collateralPriceSeconds: uint({ max: 10n ** 9n }),
  noticeWindowSeconds: durationSeconds(0, 2 ** 32 - 1),
  maxConcurrentLeases: safeInt(1, 10_000),
  capacity: z.strictObject({
    cpuMillicores: safeInt(0, 2 ** 32 - 1),
    memoryMiB: safeInt(0, 2 ** 32 - 1),
    storageGiB: safeInt(0, 2 ** 32 - 1),
    gpus: labelMap(safeInt(0, 65_535)),
  }),
  region: label,
  minFundedSeconds: durationSeconds(0, 365 * 86_400),
  noticeOnShutdown: bool,
  settleEverySeconds: durationSeconds(1, 365 * 86_400),
  runtime: z.strictObject({
    nodePath: text.nullable(),
    niceness: safeInt(0, 19),
    limitAddressSpace: bool,
    stopGraceMs: durationMs(0, 600_000),
    logCapBytes: safeInt(0),
    sampleMs: durationMs(50, 600_000),
    cpuWindowMs: durationMs(100, 3_600_000),
    cpuOverrunMs: durationMs(0, 86_400_000),
    cpuTolerance: z.number(expected("must be a number in [1, 100]")).min(1).max(100),
  }),
});

/** The schema of the merged file form (defaults, file, overrides); a relative dataDir resolves against `baseDir`. */
export function agentConfigSchema(baseDir: string) {
  return z
    .strictObject({
      rpcUrl: url(["http:", "https:", "ws:", "wss:"]),
      chainId: uint({ min: 1n }).nullable(),
      deployment: z.strictObject({
        market: nonZeroAddress,
        registry: nonZeroAddress,
        token: nonZeroAddress,
        retrievalChallenges: optionalAddress,
        computeMarket: optionalAddress,
      }),
      key: keySource,
      dataDir: text.transform((dir) => resolve(baseDir, dir)),
      listen: z.strictObject({ host: text, port: safeInt(0, 65_535) }),
      publicEndpoint: url(["http:", "https:", "ws:", "wss:"]).transform((value) => value.replace(/\/+$/, "")),
      policy: z.strictObject({
        pricePerTiBMonth: tokenAmount({ min: 1n, max: (1n << 128n) - 1n }),
        collateralPerTiB: tokenAmount({ max: (1n << 128n) - 1n }),
        noticePeriods: safeInt(0, 2 ** 32 - 1),
        maxPieceSize: tokenAmount({ min: 64n }),
      }),
      tickMs: durationMs(50, 3_600_000),
      settleEveryPeriods: safeInt(0, 1_000_000),
      updateBatchSize: safeInt(1, 100),
      unreferencedPieceMs: durationMs(1000, 365 * 86_400_000),
      integrityScanMs: durationMs(1000, 365 * 86_400_000),
      treeCacheBytes: safeInt(0),
      txTimeoutMs: durationMs(1000, 3_600_000),
      autoRegister: z
        .strictObject({ capacityBytes: uint({ min: 1n, max: (1n << 64n) - 1n }), stake: tokenAmount() })
        .nullable(),
      compute: compute.transform(({ pricePerMillicoreSecond, pricePerMiBSecond, ...rest }) => {
        const { pricePerStorageGiBSecond, pricePerGpuSecond, ...others } = rest;
        return {
          ...others,
          prices: {
            perMillicoreSecond: pricePerMillicoreSecond,
            perMiBSecond: pricePerMiBSecond,
            perStorageGiBSecond: pricePerStorageGiBSecond,
            perGpuSecond: pricePerGpuSecond,
          },
        };
      }),
      logLevel: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(", ")}`),
    })
    .refine((config) => !config.compute.enabled || config.deployment.computeMarket !== null, {
      path: ["compute", "enabled"],
      message: "needs deployment.computeMarket (the compute market's address)",
      ...onceFieldsValid,
    });
}
