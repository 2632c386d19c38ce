import { expect } from "chai";
import { WorkerDb } from "../../offchain/worker/db/index.js";
import { Indexer } from "../../offchain/worker/indexer/indexer.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { createMetrics } from "../../offchain/worker/metrics.js";
import type { Worker } from "../../offchain/worker/worker.js";
import { USDC, type StorageFixture } from "../helpers/fixture.js";
import { setup } from "../storage/dataSets.helpers.js";
import { openDataSet } from "./dataSets.helpers.js";
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
    f = await setup();
    await openDataSet(f);
    worker = await testWorker(f, { overrides: { confirmations: 0 } });
    await worker.tick();
  });

  afterEach(async function () {
    await worker.stop();
  });

  after(removeTempDirs);

  /** Fork A: two data sets, a profile update and a few empty blocks, indexed by the worker. */
  async function forkA(): Promise<void> {
    await openDataSet(f);
    await openDataSet(f, 64n, { provider: f.provider2 });
    await f.registry.connect(f.provider).updateProvider(f.provider.address, "http://fork-a", 1n << 40n, USDC);
    await f.helpers.mine(3);
    await worker.tick();
    expect(worker.context.db.openDataSets()).to.have.length(3);
    expect(worker.context.db.providerEndpoint(f.provider.address)).to.equal("http://fork-a");
  }

  it("test_reorg_longerFork: rolls back to the common ancestor and indexes the new fork", async function () {
    const snapshot = await f.helpers.takeSnapshot();
    const ancestor = await f.ethers.provider.getBlockNumber();
    await forkA();
    await snapshot.restore();
    // Fork B: a different data set of another provider, a different profile, and more blocks than fork A.
    const { id, tree } = await openDataSet(f, 64n, { provider: f.provider2 });
    await f.registry.connect(f.provider).updateProvider(f.provider.address, "http://fork-b", 1n << 40n, USDC);
    await f.helpers.mine(8);
    const report = await worker.tick();
    expect(report.index?.caughtUp).to.equal(true);
    expect(await reorgs(worker)).to.equal(1);
    expect((await worker.context.metrics.reorgDepth.get()).values[0]?.value).to.be.greaterThan(0);
    const { db } = worker.context;
    expect(db.cursor()).to.equal(await f.ethers.provider.getBlockNumber());
    expect(db.openDataSets().map((d) => d.provider)).to.deep.equal([f.provider.address, f.provider2.address]);
    expect(db.dataSetById(id)?.root).to.equal(tree.root.toLowerCase());
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
    await openDataSet(f);
    const report = await worker.tick();
    expect(report.index?.caughtUp).to.equal(true);
    expect(await reorgs(worker)).to.equal(1);
    expect(worker.context.db.openDataSets()).to.have.length(2);
    expect(worker.context.db.dumpChainTables()).to.deep.equal(await freshIndex(f));
  });

  it("test_reorg_proofChecksRollBack: checks of orphaned proofs and replay checkpoints go with them", async function () {
    const snapshot = await f.helpers.takeSnapshot();
    const before = { blockNumber: await f.ethers.provider.getBlockNumber(), logIndex: 0 };
    worker.context.db.putReplayCheckpoint(f.provider.address, before, '{"kept":true}');
    await forkA();
    const { db } = worker.context;
    const created = db.openDataSets()[2];
    if (!created) throw new Error("fork A data set missing");
    const published = {
      id: created.dataSetId,
      publishedTx: created.createdTx,
      publishedBlock: created.createdBlock,
    };
    // A replay checkpoint taken on fork A: the replay must not keep fork A's data sets.
    db.putReplayCheckpoint(f.provider.address, { blockNumber: published.publishedBlock, logIndex: 9 }, "{}");
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
    const far = { blockNumber: Number.MAX_SAFE_INTEGER, logIndex: 0 };
    expect(db.replayCheckpoint(f.provider.address, far)?.snapshot).to.equal('{"kept":true}');
  });

  it("test_reorg_deeperThanKeptHashes: re-indexes from the start block", async function () {
    const snapshot = await f.helpers.takeSnapshot();
    await forkA();
    const { db } = worker.context;
    const cursor = db.cursor() ?? 0;
    // As if every older hash had been pruned: no stored block is left to find the ancestor with.
    db.handle.prepare("DELETE FROM blocks WHERE number < ?").run(cursor);
    await snapshot.restore();
    await openDataSet(f);
    await f.helpers.mine(2);
    await worker.tick();
    expect(await reorgs(worker)).to.equal(1);
    // Rolled back to startBlock - 1 = -1: everything indexed again.
    expect((await worker.context.metrics.reorgDepth.get()).values[0]?.value).to.equal(cursor + 1);
    expect(db.dumpChainTables()).to.deep.equal(await freshIndex(f));
  });

  it("test_noReorg: an unchanged chain is not rolled back", async function () {
    await openDataSet(f);
    await worker.tick();
    await f.helpers.mine(2);
    await worker.tick();
    expect(await reorgs(worker)).to.equal(0);
    expect(worker.context.db.dumpChainTables()).to.deep.equal(await freshIndex(f));
  });
});
