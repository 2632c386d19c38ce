/**
 * Runnable entry of the proof-verifier worker. `strata worker start` calls `startWorkerFromConfig`; running
 * this file directly (`tsx offchain/worker/main.ts [worker-config.json]`) does the same and stops on
 * SIGINT/SIGTERM.
 */
import type { DestinationStream } from "pino";
import { keySourceFromConfig, loadSigner } from "../runtime/keys.js";
import { exitOnStartupError, exitWithUsage, isEntryPoint, stopOnSignals } from "../runtime/lifecycle.js";
import { createLogger, type Logger } from "../runtime/logger.js";
import { createRpcProvider, waitForChainId } from "../runtime/rpc/connect.js";
import { RPC_URL_ENV } from "../runtime/rpc/endpoint.js";
import type { RpcProvider } from "../runtime/rpc/provider.js";
import {
  LOG_LEVELS,
  loadWorkerConfig,
  parseWorkerConfig,
  resolveWorkerConfig,
  type WorkerConfig,
  type WorkerConfigOverrides,
  type WorkerSettings,
} from "./config.js";
import type { Duty } from "./context.js";
import { defaultDuties } from "./duties/index.js";
import { createWorker, type Worker } from "./worker.js";

export interface StartedWorker {
  worker: Worker;
  config: WorkerConfig;
  logger: Logger;
  provider: RpcProvider;
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
  // $STRATA_RPC_URL overrides the file's rpcUrl (flag > environment > file > default), as for every tool.
  const envRpc = options.env?.[RPC_URL_ENV]?.trim();
  const overrides: WorkerConfigOverrides = {
    ...(level !== undefined && options.overrides?.logLevel === undefined ? { logLevel: level } : {}),
    ...(envRpc === undefined || envRpc === "" ? {} : { rpcUrl: envRpc }),
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
      name: "strata-worker",
      level: settings.logLevel,
      ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
    });
  const fetchFn = options.fetch ?? globalThis.fetch;
  const chainId = await waitForChainId({ url: settings.rpcUrl, retry: settings.rpc, logger, fetch: fetchFn });
  const config = await resolveWorkerConfig(settings, {
    chainId,
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
  });
  // The runtime's transport: bounded memory per response, and eth_getLogs answers capped in size (the indexer
  // halves the range past the cap). The worker retries around its own calls (labels, metrics), so the
  // transport does not.
  const provider = createRpcProvider(
    { url: config.rpcUrl, retry: config.rpc, pollingIntervalMs: config.pollIntervalMs, fetch: fetchFn },
    chainId,
  );
  try {
    const signer =
      config.key === null
        ? null
        : loadSigner(keySourceFromConfig(config.key), {
            chainId,
            provider,
            env: options.env ?? process.env,
            ...(options.allowDevKeys === undefined ? {} : { allowDevKeys: options.allowDevKeys }),
          });
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

if (isEntryPoint(import.meta.url)) {
  const configPath = process.argv[2];
  if (configPath === "--help" || configPath === "-h") {
    exitWithUsage("tsx offchain/worker/main.ts [worker-config.json]");
  }
  startWorkerFromConfig({ env: process.env, ...(configPath === undefined ? {} : { configPath }) }).then(
    stopOnSignals,
    exitOnStartupError,
  );
}
