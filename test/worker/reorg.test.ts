import { expect } from "chai";
import { WorkerDb } from "../../offchain/worker/db/index.js";
import { Indexer } from "../../offchain/worker/indexer/indexer.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { createMetrics } from "../../offchain/worker/metrics.js";
import type { Worker } from "../../offchain/worker/worker.js";
import {
  deployStorage,
  fundClient,
  publishOne,
  registerProvider,
  USDC,
  type StorageFixture,
} from "../helpers/fixture.js";
import { FAST_RPC, removeTempDirs, testWorker } from "./helpers.js";

/** Index the chain as it is now into a fresh database: what the reorged index must equal. */
async function freshIndex(f: StorageFixture): Promise<Record<string, string[]>> {
  const db = WorkerDb.open(":memory:");
  try {
    const indexer = new Indexer({
      db,
      provider: f.ethers.provider,
      deployment: {
        market: f.market.target as string,
        registry: f.registry.target as string,
        retrievalChallenges: f.retrievalChallenges.target as string,
      },
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

async function reorgs(worker: Worker): Promise<number> {
  return (await worker.context.metrics.reorgs.get()).values[0]?.value ?? 0;
}

describe("worker reorg handling", function () {
  let f: StorageFixture;
  let worker: Worker;

  beforeEach(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    await registerProvider(f, f.provider2);
    await fundClient(f, f.client);
    await publishOne(f);
    worker = await testWorker(f, { overrides: { confirmations: 0 } });
    await worker.tick();
  });

  afterEach(async function () {
    await worker.stop();
  });

  after(removeTempDirs);

  /** Fork A: two deals, a profile update and a few empty blocks, indexed by the worker. */
  async function forkA(): Promise<void> {
    await publishOne(f);
    await publishOne(f, { provider: f.provider2 });
    await f.registry.connect(f.provider).updateProvider(f.provider.address, "http://fork-a", 1n << 40n, USDC);
    await f.helpers.mine(3);
    await worker.tick();
    expect(worker.context.db.activeDeals()).to.have.length(3);
    expect(worker.context.db.providerEndpoint(f.provider.address)).to.equal("http://fork-a");
  }

  it("test_reorg_longerFork: rolls back to the common ancestor and indexes the new fork", async function () {
    const snapshot = await f.helpers.takeSnapshot();
    const ancestor = await f.ethers.provider.getBlockNumber();
    await forkA();
    await snapshot.restore();
    // Fork B: a different deal from another provider, a different profile, and more blocks than fork A.
    const { deal } = await publishOne(f, { provider: f.provider2 });
    await f.registry.connect(f.provider).updateProvider(f.provider.address, "http://fork-b", 1n << 40n, USDC);
    await f.helpers.mine(8);
    const report = await worker.tick();
    expect(report.index?.caughtUp).to.equal(true);
    expect(await reorgs(worker)).to.equal(1);
    expect((await worker.context.metrics.reorgDepth.get()).values[0]?.value).to.be.greaterThan(0);
    const { db } = worker.context;
    expect(db.cursor()).to.equal(await f.ethers.provider.getBlockNumber());
    expect(db.activeDeals().map((d) => d.provider)).to.deep.equal([f.provider.address, f.provider2.address]);
    expect(db.dealById(deal.id)?.root).to.equal(deal.root.toLowerCase());
    expect(db.providerEndpoint(f.provider.address)).to.equal("http://fork-b");
    // Every kept hash is the new chain's (fork A's were dropped with its rows).
    for (const kept of db.recentBlocks()) {
      expect((await f.ethers.provider.getBlock(kept.number))?.hash?.toLowerCase()).to.equal(kept.hash);
    }
    expect(db.blockHash(ancestor)).to.not.equal(undefined);
    expect(db.dumpChainTables()).to.deep.equal(await freshIndex(f));
  });

  it("test_reorg_shorterFork: a head below the indexed block is a reorg too", async function () {
    const snapshot = await f.helpers.takeSnapshot();
    await forkA();
    await snapshot.restore();
    await publishOne(f);
    const report = await worker.tick();
    expect(report.index?.caughtUp).to.equal(true);
    expect(await reorgs(worker)).to.equal(1);
    expect(worker.context.db.activeDeals()).to.have.length(2);
    expect(worker.context.db.dumpChainTables()).to.deep.equal(await freshIndex(f));
  });

  it("test_reorg_proofChecksRollBack: checks of orphaned proofs go with them", async function () {
    const snapshot = await f.helpers.takeSnapshot();
    await forkA();
    const { db } = worker.context;
    const published = db.activeDeals()[2];
    if (!published) throw new Error("fork A deal missing");
    // A check describing an event of fork A (the check table has no chain event of its own to roll back).
    db.putProofCheck({
      provider: f.provider.address,
      period: 1n,
      txHash: published.publishedTx,
      blockNumber: published.publishedBlock,
      verdict: "ok",
      detail: null,
    });
    const action = db.claimAction("settle", String(published.id), "1");
    await snapshot.restore();
    await f.helpers.mine(10);
    await worker.tick();
    expect(db.proofCheck(published.publishedTx)).to.equal(undefined);
    expect(db.action("settle", String(published.id), "1")?.id).to.equal(action.id); // worker records stay
  });

  it("test_reorg_deeperThanKeptHashes: re-indexes from the start block", async function () {
    const snapshot = await f.helpers.takeSnapshot();
    await forkA();
    const { db } = worker.context;
    const cursor = db.cursor() ?? 0;
    // As if every older hash had been pruned: no stored block is left to find the ancestor with.
    db.handle.prepare("DELETE FROM blocks WHERE number < ?").run(cursor);
    await snapshot.restore();
    await publishOne(f);
    await f.helpers.mine(2);
    await worker.tick();
    expect(await reorgs(worker)).to.equal(1);
    // Rolled back to startBlock - 1 = -1: everything indexed again.
    expect((await worker.context.metrics.reorgDepth.get()).values[0]?.value).to.equal(cursor + 1);
    expect(db.dumpChainTables()).to.deep.equal(await freshIndex(f));
  });

  it("test_noReorg: an unchanged chain is not rolled back", async function () {
    await publishOne(f);
    await worker.tick();
    await f.helpers.mine(2);
    await worker.tick();
    expect(await reorgs(worker)).to.equal(0);
    expect(worker.context.db.dumpChainTables()).to.deep.equal(await freshIndex(f));
  });
});
