/**
 * The provider agent configuration's file form as one zod schema: amounts as decimal token strings ("2.5",
 * read with `tokenDecimals`), field ranges,
 * unknown fields (typos such as "tickMS" are reported, not ignored), and the conversion to the typed
 * `AgentConfig` (bigints, checksummed addresses, resolved dataDir, compute prices in billionths of a base unit).
 */
import { resolve } from "node:path";
import { z } from "zod";
import {
  durationMs,
  durationSeconds,
  expected,
  nonZeroAddress,
  onceFieldsValid,
  safeInt,
  text,
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

/** Most decimals a token may have for the configuration (ERC-20 tokens in use have 0 to 18). */
export const MAX_TOKEN_DECIMALS = 36;

const DECIMAL = /^([0-9]+)(?:\.([0-9]+))?$/;

/** "2.5" tokens of `decimals` decimals as base units; undefined when malformed or finer than a base unit. */
export function parseTokens(text: string, decimals: number): bigint | undefined {
  const match = DECIMAL.exec(text.trim());
  if (!match?.[1]) return undefined;
  const fraction = match[2] ?? "";
  if (fraction.length > decimals) return undefined;
  return BigInt(match[1]) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

/** Base units back to the decimal token text `parseTokens` reads ("2.5", "50"). */
export function formatTokens(units: bigint, decimals: number): string {
  const scale = 10n ** BigInt(decimals);
  const fraction = (units % scale).toString().padStart(decimals, "0").replace(/0+$/, "");
  return fraction === "" ? (units / scale).toString() : `${units / scale}.${fraction}`;
}

/** A price in tokens per second, finer than a base unit, as billionths of a base unit (sdk/compute/pricing.ts PRICE_SCALE). */
export function parseTokenPrice(text: string, decimals: number): bigint | undefined {
  return parseTokens(text, decimals + 9);
}

/** Billionths of a base unit back to the token price text `parseTokenPrice` reads. */
export function formatTokenPrice(scaled: bigint, decimals: number): string {
  return formatTokens(scaled, decimals + 9);
}

/** An amount in tokens ("2.5", at most `decimals` decimals), as base units within the bounds. */
function tokens(decimals: number, bounds: { min?: bigint; max?: bigint } = {}) {
  const min = bounds.min ?? 0n;
  const max = bounds.max ?? (1n << 128n) - 1n;
  const what = `must be a decimal string of tokens with at most ${decimals} decimals (e.g. "2.5")`;
  return z.string(expected(what)).transform((value, ctx) => {
    const units = parseTokens(value, decimals);
    if (units === undefined) {
      ctx.addIssue({ code: "custom", message: what });
      return z.NEVER;
    }
    if (units < min || units > max) {
      ctx.addIssue({
        code: "custom",
        message: `must be between ${formatTokens(min, decimals)} and ${formatTokens(max, decimals)} tokens`,
      });
      return z.NEVER;
    }
    return units;
  });
}

/** A price in tokens per second with up to `decimals` + 9 decimals, as billionths of a base unit. */
function price(decimals: number) {
  const what = `must be a decimal string of tokens per second with at most ${decimals + 9} decimals (e.g. "0.00000001")`;
  return z.string(expected(what)).transform((value, ctx) => {
    const parsed = parseTokenPrice(value, decimals);
    if (parsed !== undefined) return parsed;
    ctx.addIssue({ code: "custom", message: what });
    return z.NEVER;
  });
}

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

const computeSchema = (decimals: number) =>
  z.strictObject({
    enabled: bool,
    pricePerMillicoreSecond: price(decimals),
    pricePerMiBSecond: price(decimals),
    pricePerStorageGiBSecond: price(decimals),
    pricePerGpuSecond: labelMap(price(decimals)),
    minMarginBps: safeInt(0, 1_000_000),
    collateralPerLease: tokens(decimals, { max: (1n << 96n) - 1n }),
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

/**
 * The schema of the merged file form (defaults, file, overrides); a relative dataDir resolves against `baseDir`,
 * amounts are read as tokens of `decimals` decimals (the file's `tokenDecimals`).
 */
export function agentConfigSchema(baseDir: string, decimals: number) {
  return z
    .strictObject({
      tokenDecimals: safeInt(0, MAX_TOKEN_DECIMALS),
      rpcUrl: url(["http:", "https:", "ws:", "wss:"]),
      chainId: uint({ min: 1n }).nullable(),
      deployment: z.strictObject({
        market: nonZeroAddress,
        registry: nonZeroAddress,
        token: nonZeroAddress,
        retrievalChallenges: optionalAddress,
        computeMarket: optionalAddress,
        permanentStorage: optionalAddress,
      }),
      key: keySource,
      dataDir: text.transform((dir) => resolve(baseDir, dir)),
      listen: z.strictObject({ host: text, port: safeInt(0, 65_535) }),
      publicEndpoint: url(["http:", "https:", "ws:", "wss:"]).transform((value) => value.replace(/\/+$/, "")),
      policy: z.strictObject({
        pricePerTiBMonth: tokens(decimals, { min: 1n, max: (1n << 128n) - 1n }),
        collateralPerTiB: tokens(decimals, { max: (1n << 128n) - 1n }),
        noticePeriods: safeInt(0, 2 ** 32 - 1),
        maxPieceSize: uint({ min: 64n, max: (1n << 128n) - 1n }),
      }),
      tickMs: durationMs(50, 3_600_000),
      settleEveryPeriods: safeInt(0, 1_000_000),
      updateBatchSize: safeInt(1, 100),
      unreferencedPieceMs: durationMs(1000, 365 * 86_400_000),
      integrityScanMs: durationMs(1000, 365 * 86_400_000),
      treeCacheBytes: safeInt(0),
      txTimeoutMs: durationMs(1000, 3_600_000),
      autoRegister: z
        .strictObject({ capacityBytes: uint({ min: 1n, max: (1n << 64n) - 1n }), stake: tokens(decimals) })
        .nullable(),
      compute: computeSchema(decimals).transform(
        ({ pricePerMillicoreSecond, pricePerMiBSecond, ...rest }) => {
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
        },
      ),
      permanent: z.strictObject({
        enabled: bool,
        pricePerTiBMonth: tokens(decimals, { min: 1n, max: (1n << 128n) - 1n }),
        maxPieceBytes: uint({ min: 64n, max: (1n << 53n) - 1n }),
        filesPerTick: safeInt(1, 10_000),
        fetchTimeoutMs: durationMs(1000, 3_600_000),
      }),
      logLevel: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(", ")}`),
    })
    .refine((config) => !config.compute.enabled || config.deployment.computeMarket !== null, {
      path: ["compute", "enabled"],
      message: "needs deployment.computeMarket (the compute market's address)",
      ...onceFieldsValid,
    })
    .refine((config) => !config.permanent.enabled || config.deployment.permanentStorage !== null, {
      path: ["permanent", "enabled"],
      message: "needs deployment.permanentStorage (the PermanentStorage contract's address)",
      ...onceFieldsValid,
    });
}
