/**
 * Provider agent configuration: a JSON file (amounts as decimal strings) plus overrides, validated into a
 * typed `AgentConfig`. Every problem is reported at once under one `CONFIG_*` error code.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { getAddress, isAddress } from "ethers";
import { StrataError } from "../sdk/errors.js";

/** Where the agent's signing key comes from. */
export type KeySource =
  | { env: string } // a 0x-hex private key in this environment variable
  | { account: number }; // index in Hardhat's default dev mnemonic (local chains only)

/** What the agent accepts: a proposal outside these bounds is rejected with 422 POLICY_REJECTED. */
export interface AgentPolicy {
  /** Asking price per TiB per 30 days (token base units); sets the minimum price per second of a piece. */
  pricePerTiBMonth: bigint | null;
  /** Alternative minimum: price per second per MiB (rounded up per piece). The higher minimum applies. */
  minPricePerSecondPerMiB: bigint | null;
  /** Largest piece accepted, in bytes (also capped by the market's maxPieceSize). */
  maxPieceSize: bigint;
  /** Longest deal accepted, in proving periods (also capped by the market's maxDealPeriods). */
  maxDurationPeriods: bigint;
  /** Most collateral the provider locks per GiB of piece (rounded up per piece). */
  collateralPerGiB: bigint;
  /** A proposal must leave at least this many seconds before its start deadline. */
  minStartDeadlineSeconds: number;
}

export interface AgentConfig {
  rpcUrl: string;
  /** Expected chain id; the agent refuses to start on another chain. Null: accept whatever the RPC serves. */
  chainId: bigint | null;
  deployment: { market: string; registry: string; token: string };
  key: KeySource;
  /** Absolute path of the directory holding agent.db and pieces/. */
  dataDir: string;
  listen: { host: string; port: number };
  /** Base URL clients use to reach this agent (registered on chain by autoRegister). */
  publicEndpoint: string;
  policy: AgentPolicy;
  tickMs: number;
  /** Settle each deal after this many periods since its last settlement; 0 disables settlement. */
  settleEveryPeriods: number;
  /** Most proposals per publishDeals transaction (1..100). */
  publishBatchSize: number;
  /** Re-hash every stored piece at this interval (ms) to detect silent corruption. */
  integrityScanMs: number;
  /** Memory budget of the cache of built piece trees, in bytes. */
  treeCacheBytes: number;
  /** How long to wait for a transaction to be mined. */
  txTimeoutMs: number;
  /** Register and stake on start when the provider is not registered. Null: never. */
  autoRegister: { capacityBytes: bigint; stake: bigint } | null;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

/** The JSON file form of the configuration: bigints as decimal strings. */
export interface AgentConfigFile {
  rpcUrl: string;
  chainId: string | null;
  deployment: { market: string; registry: string; token: string };
  key: KeySource;
  dataDir: string;
  listen: { host: string; port: number };
  publicEndpoint: string;
  policy: {
    pricePerTiBMonth: string | null;
    minPricePerSecondPerMiB: string | null;
    maxPieceSize: string;
    maxDurationPeriods: string;
    collateralPerGiB: string;
    minStartDeadlineSeconds: number;
  };
  tickMs: number;
  settleEveryPeriods: number;
  publishBatchSize: number;
  integrityScanMs: number;
  treeCacheBytes: number;
  txTimeoutMs: number;
  autoRegister: { capacityBytes: string; stake: string } | null;
  logLevel: AgentConfig["logLevel"];
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object | null ? DeepPartial<T[K]> | null : T[K] };

/** Values that replace the file's (e.g. from CLI flags); nested objects merge, null clears. */
export type ConfigOverrides = DeepPartial<AgentConfigFile>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** The configuration `strata provider init` writes; fill in `deployment` before use. */
export function defaultConfig(): AgentConfigFile {
  return {
    rpcUrl: "http://127.0.0.1:8545",
    chainId: null,
    deployment: { market: "", registry: "", token: "" },
    key: { env: "STRATA_PRIVATE_KEY" },
    dataDir: "./strata-agent",
    listen: { host: "127.0.0.1", port: 7001 },
    publicEndpoint: "http://127.0.0.1:7001",
    policy: {
      pricePerTiBMonth: "2000000",
      minPricePerSecondPerMiB: null,
      maxPieceSize: String(1n << 30n),
      maxDurationPeriods: "8760",
      collateralPerGiB: "10000000",
      minStartDeadlineSeconds: 300,
    },
    tickMs: 2000,
    settleEveryPeriods: 6,
    publishBatchSize: 20,
    integrityScanMs: 3_600_000,
    treeCacheBytes: 256 * 1024 * 1024,
    txTimeoutMs: 120_000,
    autoRegister: null,
    logLevel: "info",
  };
}

/** Serialise a configuration back to its file form (e.g. to print the effective configuration). */
export function configToFile(config: AgentConfig): AgentConfigFile {
  return {
    ...config,
    chainId: config.chainId === null ? null : config.chainId.toString(),
    deployment: { ...config.deployment },
    listen: { ...config.listen },
    policy: {
      pricePerTiBMonth: config.policy.pricePerTiBMonth?.toString() ?? null,
      minPricePerSecondPerMiB: config.policy.minPricePerSecondPerMiB?.toString() ?? null,
      maxPieceSize: config.policy.maxPieceSize.toString(),
      maxDurationPeriods: config.policy.maxDurationPeriods.toString(),
      collateralPerGiB: config.policy.collateralPerGiB.toString(),
      minStartDeadlineSeconds: config.policy.minStartDeadlineSeconds,
    },
    autoRegister:
      config.autoRegister === null
        ? null
        : {
            capacityBytes: config.autoRegister.capacityBytes.toString(),
            stake: config.autoRegister.stake.toString(),
          },
  };
}

/** Read and validate a JSON configuration file; a relative dataDir is resolved against the file's folder. */
export async function loadConfig(path: string, overrides: ConfigOverrides = {}): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new StrataError("CONFIG_NOT_FOUND", `cannot read the agent configuration ${path}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new StrataError("CONFIG_PARSE_ERROR", `${path} is not valid JSON`, { cause });
  }
  return parseConfig(json, { baseDir: dirname(resolve(path)), overrides });
}

/**
 * Validate a configuration object (file form, missing fields taken from `defaultConfig()`), apply overrides.
 * Throws CONFIG_INVALID listing every problem in `details`.
 */
export function parseConfig(
  input: unknown,
  options: { baseDir?: string; overrides?: ConfigOverrides } = {},
): AgentConfig {
  if (!isRecord(input))
    throw new StrataError("CONFIG_INVALID", "the agent configuration must be a JSON object");
  const merged = merge(merge(defaultConfig(), input), options.overrides ?? {});
  const v = new Validator();
  const deployment = v.record(merged, "deployment");
  const listen = v.record(merged, "listen");
  const policy = v.record(merged, "policy");
  const auto = merged.autoRegister === null ? null : v.record(merged, "autoRegister");
  v.unknownFields(merged, "");
  v.unknownFields(deployment, "deployment");
  v.unknownFields(listen, "listen");
  v.unknownFields(policy, "policy");
  if (auto !== null) v.unknownFields(auto, "autoRegister");
  const config: AgentConfig = {
    rpcUrl: v.url(merged, "rpcUrl"),
    chainId: merged.chainId === null ? null : v.uint(merged, "chainId", { min: 1n }),
    deployment: {
      market: v.address(deployment, "deployment.market"),
      registry: v.address(deployment, "deployment.registry"),
      token: v.address(deployment, "deployment.token"),
    },
    key: v.keySource(merged.key),
    dataDir: resolve(options.baseDir ?? process.cwd(), v.string(merged, "dataDir")),
    listen: {
      host: v.string(listen, "listen.host"),
      port: v.int(listen, "listen.port", 0, 65_535),
    },
    publicEndpoint: v.url(merged, "publicEndpoint").replace(/\/+$/, ""),
    policy: {
      pricePerTiBMonth: policy.pricePerTiBMonth === null ? null : v.uint(policy, "policy.pricePerTiBMonth"),
      minPricePerSecondPerMiB:
        policy.minPricePerSecondPerMiB === null ? null : v.uint(policy, "policy.minPricePerSecondPerMiB"),
      maxPieceSize: v.uint(policy, "policy.maxPieceSize", { min: 64n }),
      maxDurationPeriods: v.uint(policy, "policy.maxDurationPeriods", { min: 1n }),
      collateralPerGiB: v.uint(policy, "policy.collateralPerGiB"),
      minStartDeadlineSeconds: v.int(policy, "policy.minStartDeadlineSeconds", 0, 365 * 86_400),
    },
    tickMs: v.int(merged, "tickMs", 50, 3_600_000),
    settleEveryPeriods: v.int(merged, "settleEveryPeriods", 0, 1_000_000),
    publishBatchSize: v.int(merged, "publishBatchSize", 1, 100),
    integrityScanMs: v.int(merged, "integrityScanMs", 1000, 365 * 86_400_000),
    treeCacheBytes: v.int(merged, "treeCacheBytes", 0, Number.MAX_SAFE_INTEGER),
    txTimeoutMs: v.int(merged, "txTimeoutMs", 1000, 3_600_000),
    autoRegister:
      auto === null
        ? null
        : {
            capacityBytes: v.uint(auto, "autoRegister.capacityBytes", { min: 1n, max: (1n << 64n) - 1n }),
            stake: v.uint(auto, "autoRegister.stake"),
          },
    logLevel: v.logLevel(merged.logLevel),
  };
  v.throwIfAny();
  return config;
}

// ------------------------------------------------------------------ helpers

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge of plain objects; arrays, scalars and null replace. `key` always replaces (one source, not two). */
function merge(base: object, patch: object): Json {
  const out: Json = { ...(base as Json) };
  for (const [key, value] of Object.entries(patch as Json)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = key !== "key" && isRecord(value) && isRecord(current) ? merge(current, value) : value;
  }
  return out;
}

/** Field names of each object of the file form, to catch typos ("tickMS") instead of ignoring them. */
const KNOWN_FIELDS: Record<string, readonly string[]> = {
  "": Object.keys(defaultConfig()),
  deployment: Object.keys(defaultConfig().deployment),
  listen: Object.keys(defaultConfig().listen),
  policy: Object.keys(defaultConfig().policy),
  autoRegister: ["capacityBytes", "stake"],
};

/** Collects every problem so one run of the agent reports them all. */
class Validator {
  private readonly problems: string[] = [];

  private fail<T>(path: string, expected: string, got: unknown, fallback: T): T {
    this.problems.push(
      `${path} must be ${expected} (got ${got === undefined ? "nothing" : JSON.stringify(got)})`,
    );
    return fallback;
  }

  private last(path: string): string {
    return path.split(".").pop() ?? path;
  }

  record(obj: Json, path: string): Json {
    const value = obj[this.last(path)];
    return isRecord(value) ? value : this.fail(path, "an object", value, {});
  }

  string(obj: Json, path: string): string {
    const value = obj[this.last(path)];
    return typeof value === "string" && value.length > 0
      ? value
      : this.fail(path, "a non-empty string", value, "");
  }

  url(obj: Json, path: string): string {
    const value = this.string(obj, path);
    if (value === "") return value;
    try {
      const url = new URL(value);
      if (
        url.protocol === "http:" ||
        url.protocol === "https:" ||
        url.protocol === "ws:" ||
        url.protocol === "wss:"
      ) {
        return value;
      }
    } catch {
      // reported below
    }
    return this.fail(path, "an http(s) or ws(s) URL", value, "");
  }

  address(obj: Json, path: string): string {
    const value = obj[this.last(path)];
    if (typeof value === "string" && isAddress(value) && BigInt(value) !== 0n) return getAddress(value);
    return this.fail(path, "a non-zero 0x address", value, "");
  }

  int(obj: Json, path: string, min: number, max: number): number {
    const value = obj[this.last(path)];
    if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) return value;
    return this.fail(path, `an integer in [${min}, ${max}]`, value, min);
  }

  uint(obj: Json, path: string, bounds: { min?: bigint; max?: bigint } = {}): bigint {
    const value = obj[this.last(path)];
    const min = bounds.min ?? 0n;
    const max = bounds.max ?? (1n << 128n) - 1n;
    let parsed: bigint | undefined;
    if (typeof value === "string" && /^[0-9]+$/.test(value)) parsed = BigInt(value);
    else if (typeof value === "number" && Number.isSafeInteger(value)) parsed = BigInt(value);
    if (parsed !== undefined && parsed >= min && parsed <= max) return parsed;
    return this.fail(path, `a decimal integer string in [${min}, ${max}]`, value, min);
  }

  keySource(value: unknown): KeySource {
    if (isRecord(value)) {
      if (typeof value.env === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(value.env))
        return { env: value.env };
      if (typeof value.account === "number" && Number.isInteger(value.account) && value.account >= 0) {
        return { account: value.account };
      }
    }
    return this.fail("key", '{"env": "VAR_NAME"} or {"account": <index>}', value, {
      env: "STRATA_PRIVATE_KEY",
    });
  }

  logLevel(value: unknown): AgentConfig["logLevel"] {
    const found = LOG_LEVELS.find((level) => level === value);
    return found ?? this.fail("logLevel", `one of ${LOG_LEVELS.join(", ")}`, value, "info");
  }

  unknownFields(obj: Json, path: string): void {
    const known = KNOWN_FIELDS[path] ?? [];
    for (const key of Object.keys(obj)) {
      if (!known.includes(key))
        this.problems.push(`${path === "" ? key : `${path}.${key}`} is not a known field`);
    }
  }

  throwIfAny(): void {
    if (this.problems.length === 0) return;
    const [first] = this.problems;
    const more = this.problems.length > 1 ? ` (and ${this.problems.length - 1} more)` : "";
    throw new StrataError("CONFIG_INVALID", `invalid agent configuration: ${first ?? ""}${more}`, {
      details: this.problems.join("\n"),
    });
  }
}
