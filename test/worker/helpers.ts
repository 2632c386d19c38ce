/**
 * Helpers of the worker tests: configurations for the fixture's deployment, workers on the in-process
 * network, and a JSON-RPC HTTP proxy in front of any upstream that can be switched to fail.
 */
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Provider, Signer } from "ethers";
import {
  parseWorkerConfig,
  resolveWorkerConfig,
  type WorkerConfig,
  type WorkerConfigOverrides,
} from "../../offchain/worker/config.js";
import type { Duty } from "../../offchain/worker/context.js";
import { createLogger, silentLogger, type Logger } from "../../offchain/runtime/logger.js";
import { createMetrics } from "../../offchain/worker/metrics.js";
import { createWorker, type Worker } from "../../offchain/worker/worker.js";
import type { StorageFixture } from "../helpers/fixture.js";

/** Worker logs are silent unless STRATA_TEST_LOG names a level (e.g. STRATA_TEST_LOG=debug). */
export function testLogger(): Logger {
  const level = process.env.STRATA_TEST_LOG;
  return level ? createLogger({ name: "strata-worker", level }) : silentLogger();
}

const dirs: string[] = [];

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "strata-worker-test-"));
  dirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** Fast retries for tests: failures surface in well under a second. */
export const FAST_RPC = { attempts: 2, baseMs: 10, maxMs: 50, timeoutMs: 2000 };

/**
 * A resolved configuration for the fixture's deployment: a fresh database file, confirmations 0, start block
 * 0, port 0, fast retries, silent logs.
 */
export async function workerConfig(
  f: StorageFixture,
  overrides: WorkerConfigOverrides = {},
): Promise<WorkerConfig> {
  const settings = parseWorkerConfig(
    {
      deployment: {
        market: await f.market.getAddress(),
        registry: await f.registry.getAddress(),
        token: await f.token.getAddress(),
        retrievalChallenges: await f.retrievalChallenges.getAddress(),
      },
      dbPath: join(await tempDir(), "worker.db"),
      confirmations: 0,
      startBlock: 0,
      pollIntervalMs: 50,
      listen: "127.0.0.1:0",
      logLevel: "silent",
      rpc: FAST_RPC,
    },
    { overrides },
  );
  return resolveWorkerConfig(settings, { chainId: f.chainId });
}

/** A worker on the fixture's chain (read-only unless `signer`), not started. */
export async function testWorker(
  f: StorageFixture,
  options: {
    config?: WorkerConfig;
    overrides?: WorkerConfigOverrides;
    provider?: Provider;
    signer?: Signer;
    duties?: Duty[];
    clock?: () => number;
  } = {},
): Promise<Worker> {
  const config = options.config ?? (await workerConfig(f, options.overrides));
  return createWorker({
    config,
    provider: options.provider ?? f.ethers.provider,
    signer: options.signer ?? null,
    logger: testLogger(),
    metrics: createMetrics({ defaults: false }),
    ...(options.duties === undefined ? {} : { duties: options.duties }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
}

/** Wait until `predicate` holds (polling), or fail after `timeoutMs`. */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Write the configuration of a read-only worker process (`offchain/worker/main.ts <file>`) indexing `chain` into
 * `dbPath`, polling every 100 ms with no confirmations, listening on `port`.
 */
export function writeProcessWorkerConfig(
  file: string,
  chain: { rpcUrl: string; deploymentFile: string },
  options: { dbPath: string; port: number; maxBlockRange?: number },
): void {
  writeFileSync(
    file,
    JSON.stringify({
      rpcUrl: chain.rpcUrl,
      deployment: chain.deploymentFile,
      dbPath: options.dbPath,
      confirmations: 0,
      ...(options.maxBlockRange === undefined ? {} : { maxBlockRange: options.maxBlockRange }),
      pollIntervalMs: 100,
      listen: `127.0.0.1:${options.port}`,
      logLevel: "warn",
      key: null,
    }),
  );
}
