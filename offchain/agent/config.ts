/**
 * Provider agent configuration: a JSON file (amounts as decimal strings) plus overrides, validated into a
 * typed `AgentConfig`. Every problem is reported at once under one `CONFIG_*` error code.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { getAddress, isAddress } from "ethers";
import { formatScaledPrice, parseScaledPrice, type ResourcePrices } from "../sdk/compute/pricing.js";
import { StrataError } from "../sdk/errors.js";
import type { ComputeCapacity } from "./compute/bidding.js";

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

/** How the agent runs workloads (see compute/runner.ts for what each limit means). */
export interface ComputeRuntimeConfig {
  /** Node binary for "node" workloads; null: the agent's own. */
  nodePath: string | null;
  niceness: number;
  limitAddressSpace: boolean;
  stopGraceMs: number;
  logCapBytes: number;
  sampleMs: number;
  cpuWindowMs: number;
  cpuOverrunMs: number;
  /** Multiple of the CPU share tolerated on average (e.g. 1.25). */
  cpuTolerance: number;
}

/** Compute leases: the bidding policy, the capacity offered and the lease duties. */
export interface ComputeConfig {
  /** Bid on orders and run leases (needs deployment.computeMarket). */
  enabled: boolean;
  /** Cost per second of each resource, in billionths of a token base unit (the file takes decimals). */
  prices: ResourcePrices;
  /** Margin over cost of every bid, in bps. */
  minMarginBps: number;
  /** Collateral locked per lease: collateralPerLease + bid price × collateralPriceSeconds. */
  collateralPerLease: bigint;
  collateralPriceSeconds: bigint;
  /** Notice promised before leaving a lease, in seconds (must fit the order's and the market's bounds). */
  noticeWindowSeconds: number;
  /** Most live leases plus open bids at any time. */
  maxConcurrentLeases: number;
  capacity: ComputeCapacity;
  /** Region label of this provider ("" = none: only orders for any region). */
  region: string;
  /** Skip orders whose escrow pays for less than this many seconds at the bid price. */
  minFundedSeconds: number;
  /** On shutdown, give notice on every live lease (then the workloads stop with the agent). */
  noticeOnShutdown: boolean;
  /** Settle each lease this often (chain seconds); earnings are withdrawn after. */
  settleEverySeconds: number;
  runtime: ComputeRuntimeConfig;
}

export interface AgentConfig {
  rpcUrl: string;
  /** Expected chain id; the agent refuses to start on another chain. Null: accept whatever the RPC serves. */
  chainId: bigint | null;
  /**
   * The suite's addresses. `retrievalChallenges` is null for deployments made before the retrieval-challenge
   * contract existed: the agent then cannot answer retrieval challenges (and warns).
   */
  deployment: {
    market: string;
    registry: string;
    token: string;
    retrievalChallenges: string | null;
    /** The compute market; null for deployments without one (compute duties then stay off). */
    computeMarket: string | null;
  };
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
  compute: ComputeConfig;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
}

/** The JSON file form of the configuration: bigints as decimal strings. */
export interface AgentConfigFile {
  rpcUrl: string;
  chainId: string | null;
  deployment: {
    market: string;
    registry: string;
    token: string;
    retrievalChallenges?: string | null;
    computeMarket?: string | null;
  };
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
  compute: ComputeConfigFile;
  logLevel: AgentConfig["logLevel"];
}

/** File form of the compute section: amounts as decimal strings; prices may have up to 9 decimals. */
export interface ComputeConfigFile {
  enabled: boolean;
  pricePerMillicoreSecond: string;
  pricePerMiBSecond: string;
  pricePerStorageGiBSecond: string;
  pricePerGpuSecond: Record<string, string>;
  minMarginBps: number;
  collateralPerLease: string;
  collateralPriceSeconds: string;
  noticeWindowSeconds: number;
  maxConcurrentLeases: number;
  capacity: { cpuMillicores: number; memoryMiB: number; storageGiB: number; gpus: Record<string, number> };
  region: string;
  minFundedSeconds: number;
  noticeOnShutdown: boolean;
  settleEverySeconds: number;
  runtime: ComputeRuntimeConfig;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object | null ? DeepPartial<T[K]> | null : T[K] };

/** Values that replace the file's (e.g. from CLI flags); nested objects merge, null clears. */
export type ConfigOverrides = DeepPartial<AgentConfigFile>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Where `strata provider init` writes the configuration and `strata agent start` reads it (current folder). */
export const DEFAULT_CONFIG_FILE = "strata-agent.json";

/** The configuration `strata provider init` writes; fill in `deployment` before use. */
export function defaultConfig(): AgentConfigFile {
  return {
    rpcUrl: "http://127.0.0.1:8545",
    chainId: null,
    deployment: { market: "", registry: "", token: "", retrievalChallenges: null, computeMarket: null },
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
    compute: defaultComputeConfig(),
    logLevel: "info",
  };
}

/**
 * Compute defaults, priced for a 6-decimal token: a core-hour 0.036, a GiB-hour of memory 0.0037, a
 * GiB-hour of disk 0.0001 tokens, plus 20 % margin. Off until `enabled`.
 */
export function defaultComputeConfig(): ComputeConfigFile {
  return {
    enabled: false,
    pricePerMillicoreSecond: "0.01",
    pricePerMiBSecond: "0.001",
    pricePerStorageGiBSecond: "0.00003",
    pricePerGpuSecond: {},
    minMarginBps: 2000,
    collateralPerLease: "10000000",
    collateralPriceSeconds: "0",
    noticeWindowSeconds: 3600,
    maxConcurrentLeases: 4,
    capacity: { cpuMillicores: 2000, memoryMiB: 4096, storageGiB: 20, gpus: {} },
    region: "",
    minFundedSeconds: 600,
    noticeOnShutdown: true,
    settleEverySeconds: 3600,
    runtime: {
      nodePath: null,
      niceness: 10,
      limitAddressSpace: true,
      stopGraceMs: 10_000,
      logCapBytes: 10 * 1024 * 1024,
      sampleMs: 1_000,
      cpuWindowMs: 10_000,
      cpuOverrunMs: 30_000,
      cpuTolerance: 1.25,
    },
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
    compute: computeToFile(config.compute),
  };
}

function computeToFile(c: ComputeConfig): ComputeConfigFile {
  return {
    enabled: c.enabled,
    pricePerMillicoreSecond: formatScaledPrice(c.prices.perMillicoreSecond),
    pricePerMiBSecond: formatScaledPrice(c.prices.perMiBSecond),
    pricePerStorageGiBSecond: formatScaledPrice(c.prices.perStorageGiBSecond),
    pricePerGpuSecond: Object.fromEntries(
      Object.entries(c.prices.perGpuSecond).map(([model, price]) => [model, formatScaledPrice(price)]),
    ),
    minMarginBps: c.minMarginBps,
    collateralPerLease: c.collateralPerLease.toString(),
    collateralPriceSeconds: c.collateralPriceSeconds.toString(),
    noticeWindowSeconds: c.noticeWindowSeconds,
    maxConcurrentLeases: c.maxConcurrentLeases,
    capacity: { ...c.capacity, gpus: { ...c.capacity.gpus } },
    region: c.region,
    minFundedSeconds: c.minFundedSeconds,
    noticeOnShutdown: c.noticeOnShutdown,
    settleEverySeconds: c.settleEverySeconds,
    runtime: { ...c.runtime },
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
  const compute = v.record(merged, "compute");
  const capacity = v.record(compute, "compute.capacity");
  const runtime = v.record(compute, "compute.runtime");
  v.unknownFields(compute, "compute");
  v.unknownFields(capacity, "compute.capacity");
  v.unknownFields(runtime, "compute.runtime");
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
      retrievalChallenges: v.optionalAddress(deployment, "deployment.retrievalChallenges"),
      computeMarket: v.optionalAddress(deployment, "deployment.computeMarket"),
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
    compute: {
      enabled: v.bool(compute, "compute.enabled"),
      prices: {
        perMillicoreSecond: v.price(compute, "compute.pricePerMillicoreSecond"),
        perMiBSecond: v.price(compute, "compute.pricePerMiBSecond"),
        perStorageGiBSecond: v.price(compute, "compute.pricePerStorageGiBSecond"),
        perGpuSecond: v.labelMap(compute, "compute.pricePerGpuSecond", (obj, path) => v.price(obj, path)),
      },
      minMarginBps: v.int(compute, "compute.minMarginBps", 0, 1_000_000),
      collateralPerLease: v.uint(compute, "compute.collateralPerLease", { max: (1n << 96n) - 1n }),
      collateralPriceSeconds: v.uint(compute, "compute.collateralPriceSeconds", { max: 10n ** 9n }),
      noticeWindowSeconds: v.int(compute, "compute.noticeWindowSeconds", 0, 2 ** 32 - 1),
      maxConcurrentLeases: v.int(compute, "compute.maxConcurrentLeases", 1, 10_000),
      capacity: {
        cpuMillicores: v.int(capacity, "compute.capacity.cpuMillicores", 0, 2 ** 32 - 1),
        memoryMiB: v.int(capacity, "compute.capacity.memoryMiB", 0, 2 ** 32 - 1),
        storageGiB: v.int(capacity, "compute.capacity.storageGiB", 0, 2 ** 32 - 1),
        gpus: v.labelMap(capacity, "compute.capacity.gpus", (obj, path) => v.int(obj, path, 0, 65_535)),
      },
      region: v.label(compute, "compute.region"),
      minFundedSeconds: v.int(compute, "compute.minFundedSeconds", 0, 365 * 86_400),
      noticeOnShutdown: v.bool(compute, "compute.noticeOnShutdown"),
      settleEverySeconds: v.int(compute, "compute.settleEverySeconds", 1, 365 * 86_400),
      runtime: {
        nodePath: runtime.nodePath === null ? null : v.string(runtime, "compute.runtime.nodePath"),
        niceness: v.int(runtime, "compute.runtime.niceness", 0, 19),
        limitAddressSpace: v.bool(runtime, "compute.runtime.limitAddressSpace"),
        stopGraceMs: v.int(runtime, "compute.runtime.stopGraceMs", 0, 600_000),
        logCapBytes: v.int(runtime, "compute.runtime.logCapBytes", 0, Number.MAX_SAFE_INTEGER),
        sampleMs: v.int(runtime, "compute.runtime.sampleMs", 50, 600_000),
        cpuWindowMs: v.int(runtime, "compute.runtime.cpuWindowMs", 100, 3_600_000),
        cpuOverrunMs: v.int(runtime, "compute.runtime.cpuOverrunMs", 0, 86_400_000),
        cpuTolerance: v.number(runtime, "compute.runtime.cpuTolerance", 1, 100),
      },
    },
    logLevel: v.logLevel(merged.logLevel),
  };
  if (config.compute.enabled && config.deployment.computeMarket === null) {
    v.problem("compute.enabled needs deployment.computeMarket (the compute market's address)");
  }
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
  compute: Object.keys(defaultComputeConfig()),
  "compute.capacity": Object.keys(defaultComputeConfig().capacity),
  "compute.runtime": Object.keys(defaultComputeConfig().runtime),
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

  /** An address, or null when the field is absent, null or empty. */
  optionalAddress(obj: Json, path: string): string | null {
    const value = obj[this.last(path)];
    if (value === undefined || value === null || value === "") return null;
    return this.address(obj, path);
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

  bool(obj: Json, path: string): boolean {
    const value = obj[this.last(path)];
    return typeof value === "boolean" ? value : this.fail(path, "true or false", value, false);
  }

  number(obj: Json, path: string, min: number, max: number): number {
    const value = obj[this.last(path)];
    if (typeof value === "number" && Number.isFinite(value) && value >= min && value <= max) return value;
    return this.fail(path, `a number in [${min}, ${max}]`, value, min);
  }

  /** A price in token base units with up to 9 decimals ("0.005"), as billionths of a unit. */
  price(obj: Json, path: string): bigint {
    const value = obj[this.last(path)];
    const parsed = typeof value === "string" ? parseScaledPrice(value) : undefined;
    return (
      parsed ?? this.fail(path, 'a decimal string of base units, up to 9 decimals (e.g. "0.005")', value, 0n)
    );
  }

  /** A label stored on chain as bytes16: printable ASCII, at most 16 characters ("" allowed). */
  label(obj: Json, path: string): string {
    const value = obj[this.last(path)];
    if (typeof value === "string" && /^[\x20-\x7e]{0,16}$/.test(value)) return value;
    return this.fail(path, "printable ASCII of at most 16 characters", value, "");
  }

  /** An object keyed by labels (GPU models), each value read by `read`. */
  labelMap<T>(obj: Json, path: string, read: (obj: Json, path: string) => T): Record<string, T> {
    const map = this.record(obj, path);
    const out: Record<string, T> = {};
    for (const key of Object.keys(map)) {
      if (!/^[\x20-\x7e]{1,16}$/.test(key)) {
        this.problems.push(`${path}.${key}: keys must be printable ASCII of 1 to 16 characters`);
        continue;
      }
      const full = `${path}.${key}`;
      // Readers look the value up by the path's last segment; a key may hold dots ("a100.80gb").
      out[key] = read({ [this.last(full)]: map[key] }, full);
    }
    return out;
  }

  problem(text: string): void {
    this.problems.push(text);
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
