/**
 * Provider agent configuration: a JSON file (amounts as decimal token strings, read with `tokenDecimals`) plus
 * overrides, validated into a typed `AgentConfig`. Every problem is reported at once under one `CONFIG_*` error
 * code.
 */
import { isAddress } from "ethers";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { ResourcePrices } from "../sdk/compute/pricing.js";
import { StrataError } from "../sdk/errors.js";
import { parseOrThrow } from "../sdk/schemas/issues.js";
import { isRecord, merge } from "../sdk/schemas/merge.js";
import type { ComputeCapacity } from "./compute/bidding.js";
import {
  agentConfigSchema,
  formatTokenPrice,
  formatTokens,
  LOG_LEVELS,
  MAX_TOKEN_DECIMALS,
} from "./configSchema.js";

/** Where the agent's signing key comes from. */
export type KeySource =
  | { env: string } // a 0x-hex private key in this environment variable
  | { account: number }; // index in Hardhat's default dev mnemonic (local chains only)

/** The provider's offer to clients (GET /v1/terms); a creation on other terms is refused with POLICY_REJECTED. */
export interface AgentPolicy {
  /** Price per TiB per 30 days (token base units), exact on chain. */
  pricePerTiBMonth: bigint;
  /** Collateral the provider locks per TiB of a data set's size class (token base units). */
  collateralPerTiB: bigint;
  /** Notice, in proving periods, between a termination and the data set's end. */
  noticePeriods: number;
  /** Largest piece accepted, in bytes. */
  maxPieceSize: bigint;
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
  /** Cost per second of each resource, in billionths of a token base unit (the file takes tokens per second). */
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
  /**
   * Decimals of the payment token the file's amounts are written in (recorded by `strata provider init`); the
   * agent refuses to start when the token has others (CONFIG_TOKEN_DECIMALS). Amounts below are base units.
   */
  tokenDecimals: number;
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
    /** The PermanentStorage contract; null for deployments without one (the permanent duty then stays off). */
    permanentStorage: string | null;
  };
  key: KeySource;
  /** Absolute path of the directory holding agent.db and pieces/. */
  dataDir: string;
  listen: { host: string; port: number };
  /** Base URL clients use to reach this agent (registered on chain by autoRegister). */
  publicEndpoint: string;
  policy: AgentPolicy;
  tickMs: number;
  /** Settle the data sets every this many periods (all due ones in one settleDataSets call); 0 disables it. */
  settleEveryPeriods: number;
  /** Most signed states per updateDataSets transaction (1..100, the market's MAX_BATCH). */
  updateBatchSize: number;
  /** A piece no signed state references is deleted after this long (ms). */
  unreferencedPieceMs: number;
  /** Re-hash every stored piece at this interval (ms) to detect silent corruption. */
  integrityScanMs: number;
  /** Memory budget of the cache of built piece trees, in bytes. */
  treeCacheBytes: number;
  /** How long to wait for a transaction to be mined. */
  txTimeoutMs: number;
  /** Register and stake on start when the provider is not registered. Null: never. */
  autoRegister: { capacityBytes: bigint; stake: bigint } | null;
  compute: ComputeConfig;
  permanent: PermanentConfig;
  logLevel: (typeof LOG_LEVELS)[number];
}

/** Permanent files (docs/SPEC.md §16.2): offers for their open slots, placing and keeping the pieces won. */
export interface PermanentConfig {
  /** Take staged pieces, offer for open slots and place the pieces won (needs deployment.permanentStorage). */
  enabled: boolean;
  /** Price offered per TiB-month (base units); no offer when it is above a file's ceiling. */
  pricePerTiBMonth: bigint;
  /** Largest piece taken (bytes). */
  maxPieceBytes: bigint;
  /** Files looked at per tick (the scan resumes where it stopped). */
  filesPerTick: number;
  /** Timeout of fetching a piece from the agent staging it (ms). */
  fetchTimeoutMs: number;
}

/** The JSON file form of the configuration: amounts as decimal token strings ("2.5"), other bigints as decimals. */
export interface AgentConfigFile {
  tokenDecimals: number;
  rpcUrl: string;
  chainId: string | null;
  deployment: {
    market: string;
    registry: string;
    token: string;
    retrievalChallenges?: string | null;
    computeMarket?: string | null;
    permanentStorage?: string | null;
  };
  key: KeySource;
  dataDir: string;
  listen: { host: string; port: number };
  publicEndpoint: string;
  policy: {
    pricePerTiBMonth: string;
    collateralPerTiB: string;
    noticePeriods: number;
    maxPieceSize: string;
  };
  tickMs: number;
  settleEveryPeriods: number;
  updateBatchSize: number;
  unreferencedPieceMs: number;
  integrityScanMs: number;
  treeCacheBytes: number;
  txTimeoutMs: number;
  autoRegister: { capacityBytes: string; stake: string } | null;
  compute: ComputeConfigFile;
  permanent: PermanentConfigFile;
  logLevel: AgentConfig["logLevel"];
}

/** File form of the permanent section: the price in tokens per TiB-month, the size in bytes. */
export interface PermanentConfigFile {
  enabled: boolean;
  pricePerTiBMonth: string;
  maxPieceBytes: string;
  filesPerTick: number;
  fetchTimeoutMs: number;
}

/** File form of the compute section: amounts in tokens; prices in tokens per second (up to decimals + 9 digits). */
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

/** Token decimals of a configuration that does not say (the test stablecoin's); `provider init` records the token's. */
export const DEFAULT_TOKEN_DECIMALS = 6;

/** Where `strata provider init` writes the configuration and `strata agent start` reads it (current folder). */
export const DEFAULT_CONFIG_FILE = "strata-agent.json";

/** The configuration `strata provider init` writes; fill in `deployment` before use. */
export function defaultConfig(): AgentConfigFile {
  return {
    tokenDecimals: DEFAULT_TOKEN_DECIMALS,
    rpcUrl: "http://127.0.0.1:8545",
    chainId: null,
    deployment: {
      market: "",
      registry: "",
      token: "",
      retrievalChallenges: null,
      computeMarket: null,
      permanentStorage: null,
    },
    key: { env: "STRATA_PRIVATE_KEY" },
    dataDir: "./strata-agent",
    listen: { host: "127.0.0.1", port: 7001 },
    publicEndpoint: "http://127.0.0.1:7001",
    // 2.5 tokens per TiB-month, 50 tokens of collateral per TiB (20 months of revenue:
    // about 2.7 times the most any modelled deviation needs, docs/ECONOMICS.md), one day of notice with hourly
    // periods.
    policy: {
      pricePerTiBMonth: "2.5",
      collateralPerTiB: "50",
      noticePeriods: 24,
      maxPieceSize: String(1n << 30n),
    },
    tickMs: 2000,
    settleEveryPeriods: 6,
    updateBatchSize: 50,
    unreferencedPieceMs: 3_600_000,
    integrityScanMs: 3_600_000,
    treeCacheBytes: 256 * 1024 * 1024,
    txTimeoutMs: 120_000,
    autoRegister: null,
    compute: defaultComputeConfig(),
    // Off until enabled; the price is the local deployment's reference (2.5 tokens), below its 2x ceiling.
    permanent: {
      enabled: false,
      pricePerTiBMonth: "2.5",
      maxPieceBytes: String(1n << 30n),
      filesPerTick: 50,
      fetchTimeoutMs: 120_000,
    },
    logLevel: "info",
  };
}

/**
 * Compute defaults in tokens per second: a core-hour 0.036, a GiB-hour of memory 0.0037, a GiB-hour of disk
 * 0.0001 tokens, plus 20 % margin. Off until `enabled`.
 */
export function defaultComputeConfig(): ComputeConfigFile {
  return {
    enabled: false,
    pricePerMillicoreSecond: "0.00000001",
    pricePerMiBSecond: "0.000000001",
    pricePerStorageGiBSecond: "0.00000000003",
    pricePerGpuSecond: {},
    minMarginBps: 2000,
    collateralPerLease: "10",
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
  const d = config.tokenDecimals;
  return {
    ...config,
    chainId: config.chainId === null ? null : config.chainId.toString(),
    deployment: { ...config.deployment },
    listen: { ...config.listen },
    policy: {
      pricePerTiBMonth: formatTokens(config.policy.pricePerTiBMonth, d),
      collateralPerTiB: formatTokens(config.policy.collateralPerTiB, d),
      noticePeriods: config.policy.noticePeriods,
      maxPieceSize: config.policy.maxPieceSize.toString(),
    },
    autoRegister:
      config.autoRegister === null
        ? null
        : {
            capacityBytes: config.autoRegister.capacityBytes.toString(),
            stake: formatTokens(config.autoRegister.stake, d),
          },
    compute: computeToFile(config.compute, d),
    permanent: {
      ...config.permanent,
      pricePerTiBMonth: formatTokens(config.permanent.pricePerTiBMonth, d),
      maxPieceBytes: config.permanent.maxPieceBytes.toString(),
    },
  };
}

function computeToFile(c: ComputeConfig, d: number): ComputeConfigFile {
  return {
    enabled: c.enabled,
    pricePerMillicoreSecond: formatTokenPrice(c.prices.perMillicoreSecond, d),
    pricePerMiBSecond: formatTokenPrice(c.prices.perMiBSecond, d),
    pricePerStorageGiBSecond: formatTokenPrice(c.prices.perStorageGiBSecond, d),
    pricePerGpuSecond: Object.fromEntries(
      Object.entries(c.prices.perGpuSecond).map(([model, price]) => [model, formatTokenPrice(price, d)]),
    ),
    minMarginBps: c.minMarginBps,
    collateralPerLease: formatTokens(c.collateralPerLease, d),
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
export async function loadConfig(
  path: string,
  overrides: ConfigOverrides = {},
  options: { tokenDecimals?: number } = {},
): Promise<AgentConfig> {
  return parseConfig(await readConfigFile(path), {
    baseDir: dirname(resolve(path)),
    overrides,
    ...options,
  });
}

/** The parsed JSON of a configuration file (CONFIG_NOT_FOUND, CONFIG_PARSE_ERROR), not yet validated. */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new StrataError("CONFIG_NOT_FOUND", `cannot read the agent configuration ${path}`, { cause });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new StrataError("CONFIG_PARSE_ERROR", `${path} is not valid JSON`, { cause });
  }
}

/** True when the configuration (file or overrides) states the decimals its amounts are written in. */
export function declaresTokenDecimals(input: unknown, overrides: ConfigOverrides = {}): boolean {
  return overrides.tokenDecimals !== undefined || (isRecord(input) && input.tokenDecimals !== undefined);
}

/**
 * Load a configuration file whose amounts are read in the payment token's own decimals when the file does not
 * state `tokenDecimals`: `readDecimals` asks the chain (the token and RPC URL read from the raw file), and the
 * file is parsed with them. A file that states them is parsed with its own (the agent then refuses to start
 * when the token disagrees, CONFIG_TOKEN_DECIMALS). Never guesses a default for a real token.
 */
export async function loadConfigWithChainDecimals(
  path: string,
  overrides: ConfigOverrides,
  readDecimals: (where: { token: string; rpcUrl: string }) => Promise<number>,
): Promise<{ config: AgentConfig; decimalsFrom: "file" | "chain" }> {
  const json = await readConfigFile(path);
  const baseDir = dirname(resolve(path));
  if (declaresTokenDecimals(json, overrides)) {
    return { config: parseConfig(json, { baseDir, overrides }), decimalsFrom: "file" };
  }
  // The token is read from the raw file: its amounts cannot be validated before the decimals are known.
  const deployment = isRecord(json) && isRecord(json.deployment) ? json.deployment : {};
  const token = overrides.deployment?.token ?? deployment.token;
  // Without a valid token address the full validation reports the problem (the decimals do not matter then).
  if (typeof token !== "string" || !isAddress(token)) {
    return { config: parseConfig(json, { baseDir, overrides }), decimalsFrom: "file" };
  }
  const rpcUrl = overrides.rpcUrl ?? (isRecord(json) ? json.rpcUrl : undefined) ?? defaultConfig().rpcUrl;
  if (typeof rpcUrl !== "string") {
    return { config: parseConfig(json, { baseDir, overrides }), decimalsFrom: "file" };
  }
  const tokenDecimals = await readDecimals({ token, rpcUrl });
  return { config: parseConfig(json, { baseDir, overrides, tokenDecimals }), decimalsFrom: "chain" };
}

/**
 * Validate a configuration object (file form, missing fields taken from `defaultConfig()`), apply overrides,
 * against `agentConfigSchema` (configSchema.ts). Throws CONFIG_INVALID with one line per problem in
 * `details`, each starting with the field's path.
 */
export function parseConfig(
  input: unknown,
  options: { baseDir?: string; overrides?: ConfigOverrides; tokenDecimals?: number } = {},
): AgentConfig {
  if (!isRecord(input))
    throw new StrataError("CONFIG_INVALID", "the agent configuration must be a JSON object");
  // `key` always replaces (one source, not two). Decimals the file does not state are the token's when known.
  const defaults = defaultConfig();
  if (options.tokenDecimals !== undefined) defaults.tokenDecimals = options.tokenDecimals;
  const merged = merge(merge(defaults, input, ["key"]), options.overrides ?? {}, ["key"]);
  // The amounts are read with the file's decimals; an invalid `tokenDecimals` is reported by the schema.
  const declared = merged.tokenDecimals;
  const decimals =
    typeof declared === "number" &&
    Number.isInteger(declared) &&
    declared >= 0 &&
    declared <= MAX_TOKEN_DECIMALS
      ? declared
      : DEFAULT_TOKEN_DECIMALS;
  return parseOrThrow(
    agentConfigSchema(options.baseDir ?? process.cwd(), decimals),
    merged,
    "CONFIG_INVALID",
    "agent configuration",
  );
}
