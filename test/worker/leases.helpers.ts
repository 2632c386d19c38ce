// Helpers of the worker's lease tests (test/worker/leases*.test.ts): the fixture with both providers staked and
// both clients funded as tenants, workers that follow the compute market, and indexers over it.
import type { Signer } from "ethers";
import { WorkerDb } from "../../offchain/worker/db/index.js";
import type { WorkerConfigOverrides } from "../../offchain/worker/config.js";
import type { Duty } from "../../offchain/worker/context.js";
import { Indexer } from "../../offchain/worker/indexer/indexer.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { createMetrics } from "../../offchain/worker/metrics.js";
import type { Worker } from "../../offchain/worker/worker.js";
import { fundTenant, STAKE } from "../compute/helpers.js";
import { deployStorage, registerProvider, type StorageFixture } from "../helpers/fixture.js";
import { dutyWorker } from "./duties.helpers.js";
import { FAST_RPC } from "./helpers.js";

/** The fixture with both providers staked and both clients funded (and approving) as tenants. */
export async function leaseFixture(): Promise<StorageFixture> {
  const f = await deployStorage();
  await registerProvider(f, f.provider, STAKE);
  await registerProvider(f, f.provider2, STAKE);
  await fundTenant(f, f.client);
  await fundTenant(f, f.client2);
  return f;
}

/** Every contract of the fixture, the compute market included (the worker's deployment setting). */
export async function fullDeployment(f: StorageFixture): Promise<{
  market: string;
  registry: string;
  token: string;
  retrievalChallenges: string;
  computeMarket: string;
}> {
  return {
    market: await f.market.getAddress(),
    registry: await f.registry.getAddress(),
    token: await f.token.getAddress(),
    retrievalChallenges: await f.retrievalChallenges.getAddress(),
    computeMarket: await f.compute.getAddress(),
  };
}

/** A worker (not started) that also follows the compute market. */
export async function leaseWorker(
  f: StorageFixture,
  options: { signer?: Signer; duties?: Duty[]; overrides?: WorkerConfigOverrides; dbPath?: string } = {},
): Promise<Worker> {
  return dutyWorker(f, {
    ...options,
    overrides: { deployment: await fullDeployment(f), ...options.overrides },
  });
}

/** Index the chain as it is now (compute market included) into a fresh database and dump its chain tables. */
export async function freshComputeIndex(f: StorageFixture): Promise<Record<string, string[]>> {
  const db = WorkerDb.open(":memory:");
  try {
    const indexer = new Indexer({
      db,
      provider: f.ethers.provider,
      deployment: await fullDeployment(f),
      confirmations: 0,
      startBlock: 0,
      maxBlockRange: 2000,
      retry: FAST_RPC,
      logger: silentLogger(),
      metrics: createMetrics({ defaults: false }),
    });
    await indexer.catchUp();
    return db.dumpChainTables();
  } finally {
    db.close();
  }
}

/** Move chain time to `ts` (no-op when already there or later). */
export async function timeTo(f: StorageFixture, ts: bigint): Promise<void> {
  if (BigInt(await f.helpers.time.latest()) < ts) await f.helpers.time.increaseTo(ts);
}
