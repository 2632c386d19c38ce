/**
 * Worker configuration: an optional JSON file, overrides (CLI flags), defaults. `parseWorkerConfig` validates
 * the file form into `WorkerSettings` (null = "choose for me"); `resolveWorkerConfig` fills those in once the
 * chain id is known (deployment file, database path, confirmations, start block, poll interval) and returns
 * the `WorkerConfig` every part of the worker reads.
 */
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { isLocalChain } from "../sdk/chain/connect.js";
import { loadDeployment, defaultDeploymentPath, type DeploymentModule } from "../sdk/chain/deployment.js";
import { StrataError } from "../sdk/errors.js";
import { mandateFactoryAddress } from "../sdk/repair/forFile.js";
import { parseOrThrow } from "../sdk/schemas/issues.js";
import { isRecord, merge, type Json } from "../sdk/schemas/merge.js";
import { LOG_LEVELS, workerConfigSchema } from "./configSchema.js";

export { LOG_LEVELS };
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where the worker's signing key comes from (same sources as the provider agent). */
export type WorkerKeySource =
  | { env: string } // a 0x-hex private key in this environment variable
  | { account: number }; // index in Hardhat's development mnemonic (local chains only)

/** Addresses the worker follows. */
export interface WorkerDeployment {
  market: string;
  registry: string;
  token: string;
  /** Null when the deployment predates the retrieval-challenge contract: challenges are then off. */
  retrievalChallenges: string | null;
  /** Null when the deployment has no compute market: leases are then neither indexed nor kept. */
  computeMarket: string | null;
  /** The deployed_addresses.json the addresses came from (null: given as addresses). */
  source: string | null;
  /** Ignition module of `source` (null: given as addresses). */
  module: DeploymentModule | null;
}

export interface RetrySettings {
  /** Tries per call (1 = no retry). */
  attempts: number;
  /** First backoff; doubles per try, with jitter. */
  baseMs: number;
  /** Largest backoff between tries. */
  maxMs: number;
  /** Timeout of one call. */
  timeoutMs: number;
}

export interface ReportingSettings {
  enabled: boolean;
  /** Do not send reports while the gas price is above this (gwei); null: no limit. */
  maxGasPriceGwei: number | null;
}

export interface SamplingSettings {
  enabled: boolean;
  /** Time between sampling rounds. */
  intervalMs: number;
  /** Data sets sampled per round (one random leaf each). */
  perTick: number;
  /** Timeout of one retrieval. */
  timeoutMs: number;
  /** Most bytes read from a provider per sample. */
  maxBytes: number;
  /** Consecutive failed samples of a data set before an on-chain retrieval challenge. */
  failuresBeforeChallenge: number;
}

export interface ChallengeSettings {
  enabled: boolean;
  /** Most retrieval challenges this worker keeps open at once (each holds a bond). */
  maxOpen: number;
}

export interface KeeperSettings {
  /** Terminate data sets whose faults reached the market's maxFaults (earns a bounty share). */
  terminateFaulty: boolean;
  /** End live data sets whose escrow no longer covers their lockup (terminateUnfunded; no penalty, no bounty). */
  terminateUnfunded: boolean;
  /** Finalize ending data sets once their end period is resolved. */
  finalizeExpired: boolean;
  /** Settle a data set not settled for this many seconds of chain time; 0 = never. */
  settleAfterSeconds: number;
  /** Data sets settled in one settleDataSets call (the policy: due ones, least recently settled first). */
  settleBatchSize: number;
}

export interface LeaseSettings {
  /** Follow the compute market's leases (when the deployment has one) and act on them. */
  enabled: boolean;
  /** Report closed heartbeat periods without a heartbeat (bounty per period from the provider's collateral). */
  reportMissedHeartbeats: boolean;
  /** Close leases whose escrow cannot pay the provider (InsufficientFunds; earns the lease's close bounty). */
  closeOverdrawn: boolean;
}

export interface RepairSettings {
  /** Repair the mandated files whose briefs it has (needs `factory`; a read-only worker only watches). */
  enabled: boolean;
  /** The RepairMandateFactory whose MandateOpened events are followed (null: the deployment file's, if any). */
  factory: string | null;
  /** Folder of repair briefs (`strata mandate --share <dir>` writes `<mandate>.json`); null: `repair-briefs` next to the database. */
  briefsDir: string | null;
  /** Time allowed to fetch one piece from a provider. */
  fetchTimeoutMs: number;
}

/** The settings every part of the worker reads, fully resolved for one chain. */
export interface WorkerConfig {
  rpcUrl: string;
  chainId: bigint;
  deployment: WorkerDeployment;
  /** Absolute path of the SQLite database. */
  dbPath: string;
  /** Blocks behind the head that the index stays (reorg safety). */
  confirmations: number;
  /** First block indexed by a fresh database. */
  startBlock: number;
  /** Most blocks per eth_getLogs request. */
  maxBlockRange: number;
  /** Time between ticks (a new block also triggers one). */
  pollIntervalMs: number;
  /** Null: read-only (index, verify, sample, alert; never send). */
  key: WorkerKeySource | null;
  listen: { host: string; port: number };
  logLevel: LogLevel;
  rpc: RetrySettings;
  /** How long to wait for a sent transaction to be mined. */
  txTimeoutMs: number;
  reporting: ReportingSettings;
  sampling: SamplingSettings;
  challenges: ChallengeSettings;
  keeper: KeeperSettings;
  leases: LeaseSettings;
  repair: RepairSettings;
}

/** Validated settings before the chain is known: null fields are chosen by `resolveWorkerConfig`. */
export interface WorkerSettings extends Omit<
  WorkerConfig,
  "chainId" | "deployment" | "dbPath" | "confirmations" | "startBlock" | "pollIntervalMs"
> {
  /** A deployed_addresses.json path, the addresses themselves, or null (Ignition's file for the chain id). */
  deployment: { file: string } | { addresses: Omit<WorkerDeployment, "source" | "module"> } | { file: null };
  dbPath: string | null;
  confirmations: number | null;
  startBlock: number | null;
  pollIntervalMs: number | null;
}

/** The JSON file form. */
export interface WorkerConfigFile {
  rpcUrl: string;
  deployment:
    | string
    | {
        market: string;
        registry: string;
        token: string;
        retrievalChallenges?: string | null;
        computeMarket?: string | null;
      }
    | null;
  dbPath: string | null;
  confirmations: number | null;
  startBlock: number | null;
  maxBlockRange: number;
  pollIntervalMs: number | null;
  key: WorkerKeySource | null;
  listen: string;
  logLevel: LogLevel;
  rpc: RetrySettings;
  txTimeoutMs: number;
  reporting: ReportingSettings;
  sampling: SamplingSettings;
  challenges: ChallengeSettings;
  keeper: KeeperSettings;
  leases: LeaseSettings;
  repair: RepairSettings;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object | null ? DeepPartial<T[K]> | null : T[K] };

/** Values that replace the file's (CLI flags); nested objects merge, `key` and `deployment` replace. */
export type WorkerConfigOverrides = DeepPartial<WorkerConfigFile>;

export function defaultWorkerConfig(): WorkerConfigFile {
  return {
    rpcUrl: "http://127.0.0.1:8545",
    deployment: null,
    dbPath: null,
    confirmations: null,
    startBlock: null,
    maxBlockRange: 2000,
    pollIntervalMs: null,
    key: null,
    listen: "127.0.0.1:9464",
    logLevel: "info",
    rpc: { attempts: 5, baseMs: 250, maxMs: 30_000, timeoutMs: 15_000 },
    txTimeoutMs: 120_000,
    reporting: { enabled: true, maxGasPriceGwei: null },
    sampling: {
      enabled: true,
      intervalMs: 60_000,
      perTick: 4,
      timeoutMs: 10_000,
      maxBytes: 256 * 1024,
      failuresBeforeChallenge: 3,
    },
    challenges: { enabled: true, maxOpen: 4 },
    keeper: {
      terminateFaulty: true,
      terminateUnfunded: true,
      finalizeExpired: true,
      settleAfterSeconds: 0,
      settleBatchSize: 100,
    },
    leases: { enabled: true, reportMissedHeartbeats: true, closeOverdrawn: true },
    repair: { enabled: true, factory: null, briefsDir: null, fetchTimeoutMs: 60_000 },
  };
}

/** Read and validate a JSON configuration file; relative paths in it are resolved against its folder. */
export async function loadWorkerConfig(
  path: string,
  overrides: WorkerConfigOverrides = {},
): Promise<WorkerSettings> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new StrataError("CONFIG_NOT_FOUND", `cannot read the worker configuration ${path}`, {
      details: "check the --config path, or leave --config out to use the defaults and flags",
      cause,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new StrataError("CONFIG_PARSE_ERROR", `${path} is not valid JSON`, { cause });
  }
  return parseWorkerConfig(json, { baseDir: dirname(resolve(path)), overrides });
}

const ATOMIC_FIELDS = ["key", "deployment"] as const;

/**
 * Validate a configuration object (file form; missing fields from `defaultWorkerConfig()`) with overrides
 * applied, against `workerConfigSchema` (configSchema.ts). Relative paths resolve against `baseDir` (default:
 * the working directory). Throws CONFIG_INVALID with one line per problem in `details`, each starting with
 * the field's path.
 */
export function parseWorkerConfig(
  input: unknown,
  options: { baseDir?: string; overrides?: WorkerConfigOverrides } = {},
): WorkerSettings {
  if (!isRecord(input)) {
    throw new StrataError("CONFIG_INVALID", "the worker configuration must be a JSON object", {
      details: 'write an object such as {"rpcUrl": "http://127.0.0.1:8545"} (every field is optional)',
    });
  }
  const merged = merge(
    merge(defaultWorkerConfig(), input, ATOMIC_FIELDS),
    options.overrides ?? {},
    ATOMIC_FIELDS,
  );
  return parseOrThrow(
    workerConfigSchema(options.baseDir ?? process.cwd()),
    merged,
    "CONFIG_INVALID",
    "worker configuration",
  );
}

// ------------------------------------------------------------------ resolution

/**
 * Fill in what depends on the chain: deployment addresses (Ignition's file for `chainId` unless given), the
 * database path (`<dataDir>/.strata/worker/<chainId>/worker.db`), confirmations (1 locally, 12 elsewhere),
 * the start block (the market's deployment block from Ignition's journal, else 0), the poll interval, and the
 * repair duty's factory (the deployment file's) and briefs folder (`repair-briefs` next to the database).
 */
export async function resolveWorkerConfig(
  settings: WorkerSettings,
  context: { chainId: bigint; dataDir?: string },
): Promise<WorkerConfig> {
  const { chainId } = context;
  const local = isLocalChain(chainId); // local defaults: 1 confirmation, 1 s polling
  const deployment = await resolveDeployment(settings.deployment, chainId);
  const startBlock =
    settings.startBlock ??
    (deployment.source !== null && deployment.module !== null
      ? await deploymentBlock(deployment.source, deployment.module)
      : null) ??
    0;
  const dbPath =
    settings.dbPath ??
    join(resolve(context.dataDir ?? process.cwd()), ".strata", "worker", chainId.toString(), "worker.db");
  return {
    ...settings,
    chainId,
    deployment,
    dbPath,
    confirmations: settings.confirmations ?? (local ? 1 : 12),
    startBlock,
    pollIntervalMs: settings.pollIntervalMs ?? (local ? 1000 : 4000),
    repair: {
      ...settings.repair,
      briefsDir: settings.repair.briefsDir ?? join(dirname(dbPath), "repair-briefs"),
      // The factory deployed with the suite (Ignition's file) unless one is configured.
      factory:
        settings.repair.factory ??
        (deployment.source !== null && deployment.module !== null
          ? await mandateFactoryAddress({ source: deployment.source, module: deployment.module })
          : null),
    },
  };
}

async function resolveDeployment(
  setting: WorkerSettings["deployment"],
  chainId: bigint,
): Promise<WorkerDeployment> {
  if ("addresses" in setting) return { ...setting.addresses, source: null, module: null };
  const file = setting.file ?? defaultDeploymentPath(chainId);
  const loaded = await loadDeployment({ chainId, file });
  return {
    market: loaded.market,
    registry: loaded.registry,
    token: loaded.token,
    retrievalChallenges: loaded.retrievalChallenges ?? null,
    computeMarket: loaded.computeMarket ?? null,
    source: loaded.source,
    module: loaded.module,
  };
}

/**
 * The block in which the market was deployed, from Ignition's journal.jsonl next to deployed_addresses.json
 * (the receipt of the StorageMarket deployment). Undefined when there is no journal or no such receipt.
 */
export async function deploymentBlock(
  deployedAddressesFile: string,
  module: DeploymentModule,
): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(join(dirname(deployedAddressesFile), "journal.jsonl"), "utf8");
  } catch {
    return undefined;
  }
  const futureId = `${module}#StorageMarket`;
  for (const line of text.split("\n")) {
    if (!line.includes(futureId) || !line.includes("TRANSACTION_CONFIRM")) continue;
    try {
      const entry = JSON.parse(line) as Json;
      const receipt = entry.receipt;
      if (entry.type === "TRANSACTION_CONFIRM" && entry.futureId === futureId && isRecord(receipt)) {
        const block = receipt.blockNumber;
        if (typeof block === "number" && Number.isSafeInteger(block) && block >= 0) return block;
      }
    } catch {
      // a torn last line of an interrupted deployment
    }
  }
  return undefined;
}

/** The file form of a resolved configuration (to print the effective settings). */
export function workerConfigToJson(config: WorkerConfig): Json {
  const host = config.listen.host.includes(":") ? `[${config.listen.host}]` : config.listen.host;
  return {
    ...config,
    chainId: config.chainId.toString(),
    listen: `${host}:${config.listen.port}`,
  };
}
