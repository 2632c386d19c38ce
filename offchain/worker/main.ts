/**
 * Runnable entry of the proof-verifier worker. `strata worker start` calls `startWorkerFromConfig`; running
 * this file directly (`tsx offchain/worker/main.ts [worker-config.json]`) does the same and stops on
 * SIGINT/SIGTERM.
 */
import { JsonRpcProvider, Network, type Signer } from "ethers";
import type { DestinationStream } from "pino";
import { loadSigner, probeChainId } from "../sdk/chain/connect.js";
import { StrataError } from "../sdk/errors.js";
import {
  LOG_LEVELS,
  loadWorkerConfig,
  parseWorkerConfig,
  resolveWorkerConfig,
  type WorkerConfig,
  type WorkerConfigOverrides,
  type WorkerKeySource,
  type WorkerSettings,
} from "./config.js";
import type { Duty } from "./context.js";
import { createLogger, type Logger } from "./logger.js";
import { withRetry } from "./rpc.js";
import { WorkerRpcProvider } from "./rpcProvider.js";
import { defaultDuties } from "./duties/index.js";
import { createWorker, type Worker } from "./worker.js";
import { exitOnStartupError, isEntryPoint, stopOnSignals } from "../sdk/process/lifecycle.js";

export interface StartedWorker {
  worker: Worker;
  config: WorkerConfig;
  logger: Logger;
  provider: JsonRpcProvider;
  /** Stop the worker and the RPC provider. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** JSON configuration file (optional: defaults and overrides alone are a valid configuration). */
  configPath?: string;
  overrides?: WorkerConfigOverrides;
  env?: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
  /** Folder under which the default database path is made (default: the working directory). */
  dataDir?: string;
  duties?: readonly Duty[];
  fetch?: typeof fetch;
  /** Where logs go (default: stdout). */
  logDestination?: DestinationStream;
  /** Sign with this key source even on chains other than 31337 (dev accounts' keys are public!). */
  allowDevKeys?: boolean;
}

/** The settings from the file (if any) and overrides; STRATA_LOG_LEVEL applies unless a flag sets the level. */
export async function loadSettings(options: StartOptions): Promise<WorkerSettings> {
  const envLevel = options.env?.STRATA_LOG_LEVEL;
  const level = LOG_LEVELS.find((l) => l === envLevel);
  const overrides: WorkerConfigOverrides = {
    ...(level !== undefined && options.overrides?.logLevel === undefined ? { logLevel: level } : {}),
    ...options.overrides,
  };
  return options.configPath === undefined
    ? parseWorkerConfig({}, { overrides })
    : loadWorkerConfig(options.configPath, overrides);
}

/** Load and resolve the configuration, connect with the configured key (if any), start the worker. */
export async function startWorkerFromConfig(options: StartOptions = {}): Promise<StartedWorker> {
  const settings = await loadSettings(options);
  const logger =
    options.logger ??
    createLogger({
      level: settings.logLevel,
      ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
    });
  const fetchFn = options.fetch ?? globalThis.fetch;
  const chainId = await withRetry(() => probeChainId(settings.rpcUrl, fetchFn, settings.rpc.timeoutMs), {
    ...settings.rpc,
    label: `eth_chainId at ${settings.rpcUrl}`,
    onError: (error, info) => {
      if (info.delayMs === null) return;
      const message = error instanceof Error ? error.message : String(error);
      logger.warn(
        { attempt: info.attempt, retryInMs: info.delayMs, error: message },
        "RPC not reachable yet",
      );
    },
  }).catch((error: unknown) => {
    // At start-up the probe's own error (RPC_UNREACHABLE, with its hint) says more than "tries exhausted".
    throw error instanceof StrataError && error.cause instanceof StrataError ? error.cause : error;
  });
  const config = await resolveWorkerConfig(settings, {
    chainId,
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
  });
  // staticNetwork: the chain id is known, and ethers must not retry network detection forever while the RPC
  // is down (the worker's own retries and backoff handle that). cacheTimeout -1: no stale block numbers.
  // The worker's transport: bounded memory per response, and eth_getLogs answers capped in size (the indexer
  // halves the range past the cap).
  const provider = new WorkerRpcProvider(config.rpcUrl, Network.from(chainId), {
    staticNetwork: true,
    cacheTimeout: -1,
    pollingInterval: config.pollIntervalMs,
    fetch: fetchFn,
    timeoutMs: config.rpc.timeoutMs,
  });
  try {
    const signer = config.key === null ? null : signerFor(config.key, provider, chainId, options);
    const worker = await createWorker({
      config,
      provider,
      signer,
      logger,
      fetch: fetchFn,
      duties: options.duties ?? defaultDuties(config),
    });
    await worker.start();
    return {
      worker,
      config,
      logger,
      provider,
      async stop() {
        await worker.stop();
        provider.destroy();
      },
    };
  } catch (error) {
    provider.destroy();
    throw error;
  }
}

function signerFor(
  key: WorkerKeySource,
  provider: JsonRpcProvider,
  chainId: bigint,
  options: StartOptions,
): Signer {
  return loadSigner(
    "env" in key ? { kind: "env", variable: key.env } : { kind: "account", index: key.account },
    {
      chainId,
      provider,
      env: options.env ?? process.env,
      ...(options.allowDevKeys === undefined ? {} : { allowDevKeys: options.allowDevKeys }),
    },
  );
}

if (isEntryPoint(import.meta.url)) {
  const configPath = process.argv[2];
  if (configPath === "--help" || configPath === "-h") {
    console.error("usage: tsx offchain/worker/main.ts [worker-config.json]");
    process.exit(2);
  }
  startWorkerFromConfig({ env: process.env, ...(configPath === undefined ? {} : { configPath }) }).then(
    stopOnSignals,
    exitOnStartupError,
  );
}
