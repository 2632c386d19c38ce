/**
 * The worker configuration's file form as one zod schema: field ranges, unknown fields, and the conversion
 * to `WorkerSettings` (paths resolved, `listen` split into host and port).
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
  url,
} from "../sdk/schemas/primitives.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** "host:port" ("[::1]:9464" for IPv6); port 0 picks a free port. */
const listen = z
  .string('must be a "host:port" string such as "127.0.0.1:9464"')
  .trim()
  .transform((value, ctx) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
    const host = match?.[1] ?? match?.[2];
    const port = Number(match?.[3]);
    if (host !== undefined && Number.isInteger(port) && port <= 65_535) return { host, port };
    ctx.addIssue({ code: "custom", message: 'must be a "host:port" string such as "127.0.0.1:9464"' });
    return z.NEVER;
  });

const keySource = z.union(
  [
    z.null(),
    z.strictObject({
      env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"),
    }),
    z.strictObject({ account: safeInt(0) }),
  ],
  { error: 'must be null (read-only), {"env": "VAR_NAME"} or {"account": <dev account index>}' },
);

const addresses = z.strictObject({
  market: nonZeroAddress,
  registry: nonZeroAddress,
  token: nonZeroAddress,
  retrievalChallenges: nonZeroAddress.nullish().transform((v) => v ?? null),
  computeMarket: nonZeroAddress.nullish().transform((v) => v ?? null),
});

function deployment(baseDir: string) {
  return z.union(
    [
      z.null().transform(() => ({ file: null })),
      text.transform((file) => ({ file: resolve(baseDir, file) })),
      addresses.transform((value) => ({ addresses: value })),
    ],
    {
      error:
        'must be null (Ignition\'s file for the chain), a deployed_addresses.json path, or {"market", "registry", "token"} addresses',
    },
  );
}

const positiveOrNull = (max: number) =>
  z
    .number(`must be null or a number in (0, ${max}]`)
    .positive(`must be null or a number in (0, ${max}]`)
    .max(max)
    .nullable();

const bool = z.boolean(expected("must be true or false"));

/** The schema of the merged file form (defaults, file, overrides); relative paths resolve against `baseDir`. */
export function workerConfigSchema(baseDir: string) {
  return z
    .strictObject({
      rpcUrl: url(["http:", "https:", "ws:", "wss:"]),
      deployment: deployment(baseDir),
      dbPath: text.transform((path) => resolve(baseDir, path)).nullable(),
      confirmations: safeInt(0, 1000).nullable(),
      startBlock: safeInt(0).nullable(),
      maxBlockRange: safeInt(1, 1_000_000),
      pollIntervalMs: durationMs(50, 3_600_000).nullable(),
      key: keySource,
      listen,
      logLevel: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(", ")}`),
      rpc: z.strictObject({
        attempts: safeInt(1, 100),
        baseMs: durationMs(1, 60_000),
        maxMs: durationMs(1, 600_000),
        timeoutMs: durationMs(100, 600_000),
      }),
      txTimeoutMs: durationMs(1000, 3_600_000),
      reporting: z.strictObject({ enabled: bool, maxGasPriceGwei: positiveOrNull(1_000_000) }),
      sampling: z.strictObject({
        enabled: bool,
        intervalMs: durationMs(100, 86_400_000),
        perTick: safeInt(1, 10_000),
        timeoutMs: durationMs(100, 600_000),
        maxBytes: safeInt(64, 1 << 30),
        failuresBeforeChallenge: safeInt(1, 1000),
      }),
      challenges: z.strictObject({ enabled: bool, maxOpen: safeInt(0, 10_000) }),
      keeper: z.strictObject({
        terminateFaulty: bool,
        terminateUnfunded: bool,
        finalizeExpired: bool,
        settleAfterSeconds: durationSeconds(0, 10 * 365 * 86_400),
        settleBatchSize: safeInt(1, 500),
      }),
      leases: z.strictObject({ enabled: bool, reportMissedHeartbeats: bool, closeOverdrawn: bool }),
      repair: z.strictObject({
        enabled: bool,
        factory: nonZeroAddress.nullable(),
        briefsDir: text.transform((path) => resolve(baseDir, path)).nullable(),
        fetchTimeoutMs: durationMs(100, 3_600_000),
      }),
    })
    .refine((config) => config.rpc.baseMs <= config.rpc.maxMs, {
      path: ["rpc", "baseMs"],
      message: "must not exceed rpc.maxMs (raise rpc.maxMs or lower rpc.baseMs)",
      ...onceFieldsValid,
    });
}
