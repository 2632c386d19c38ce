import { expect } from "chai";
import { Log, type Filter, type FilterByBlockHash } from "ethers";
import { Writable } from "node:stream";
import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";
import { WorkerDb } from "../../offchain/worker/db/index.js";
import { Indexer } from "../../offchain/worker/indexer/indexer.js";
import { createLogger, silentLogger, type Logger } from "../../offchain/runtime/logger.js";
import { createMetrics } from "../../offchain/worker/metrics.js";
import {
  deployStorage,
  fundClient,
  proveNext,
  registerProvider,
  type UniformTree,
  type StorageFixture,
} from "../helpers/fixture.js";
import { openDataSet } from "./dataSets.helpers.js";
import { FAST_RPC, removeTempDirs, testWorker, workerConfig } from "./helpers.js";

/** Provider with 3 data sets, one proof, one missed period reported by the watcher, one data set terminated. */
async function populate(f: StorageFixture): Promise<{ ids: bigint[]; trees: Map<bigint, UniformTree> }> {
  await registerProvider(f, f.provider);
  await fundClient(f, f.client);
  const trees = new Map<bigint, UniformTree>();
  for (const span of [64n, 300n, 5n]) {
    const { id, tree } = await openDataSet(f, span);
    trees.set(id, tree);
  }
  await (await proveNext(f, f.provider, trees)).wait();
  const next = (await f.market.proofState(f.provider.address)).nextPeriod;
  await f.helpers.time.increaseTo(await f.market.periodStart(next + 1n));
  await (await f.market.connect(f.watcher).reportMissedProofs(f.provider.address)).wait();
  const ids = [...trees.keys()];
  const last = ids[2];
  if (last === undefined) throw new Error("no third data set");
  // The provider walks away from one data set (with notice).
  await (await f.market.connect(f.provider).terminateDataSet(last)).wait();
  return { ids, trees };
}

/** An indexer over `provider` into a fresh in-memory database. */
function indexerFor(
  f: StorageFixture,
  provider: HardhatEthersProvider,
  options: { maxBlockRange?: number; logger?: Logger; confirmations?: number; startBlock?: number } = {},
): { indexer: Indexer; db: WorkerDb } {
  const db = WorkerDb.open(":memory:");
  const indexer = new Indexer({
    db,
    provider,
    deployment: {
      market: f.market.target as string,
      registry: f.registry.target as string,
      retrievalChallenges: f.retrievalChallenges.target as string,
    },
    confirmations: options.confirmations ?? 0,
    startBlock: options.startBlock ?? 0,
    maxBlockRange: options.maxBlockRange ?? 2000,
    retry: FAST_RPC,
    logger: options.logger ?? silentLogger(),
    metrics: createMetrics({ defaults: false }),
  });
  return { indexer, db };
}

/** `provider` with getLogs replaced. */
function withGetLogs(
  provider: HardhatEthersProvider,
  getLogs: (filter: Filter | FilterByBlockHash) => Promise<Log[]>,
): HardhatEthersProvider {
  return new Proxy(provider, {
    get(target, property, receiver) {
      if (property === "getLogs") return getLogs;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe("worker indexer", function () {
  let f: StorageFixture;

  beforeEach(async function () {
    f = await deployStorage();
  });

  after(removeTempDirs);

  it("test_catchUp_indexesTheMarket: data sets, provider, proof, seeds, missed report, slash, parameters", async function () {
    const { ids, trees } = await populate(f);
    const worker = await testWorker(f);
    try {
      const report = await worker.tick();
      const head = await f.ethers.provider.getBlockNumber();
      expect(report.index?.caughtUp).to.equal(true);
      const { db, metrics } = worker.context;
      expect(db.cursor()).to.equal(head);
      const open = db.openDataSets();
      expect(open.map((d) => d.dataSetId)).to.deep.equal(ids);
      for (const set of open) {
        const tree = trees.get(set.dataSetId);
        expect(set).to.include({ client: f.client.address, provider: f.provider.address, version: 1n });
        expect([set.root, set.span]).to.deep.equal([tree?.root.toLowerCase(), tree?.span]);
      }
      const terminated = db.dataSetById(ids[2] ?? 0n);
      expect(terminated?.terminated).to.include({ by: f.provider.address, reason: 2 }); // ProviderTerminated
      expect(terminated?.terminated?.endPeriod).to.equal((await f.market.dataSet(ids[2] ?? 0n)).endPeriod);
      expect(db.liveDataSetIds()).to.deep.equal(ids.slice(0, 2));
      expect(db.providersWithOpenDataSets()).to.deep.equal([f.provider.address]);
      expect(db.providerEndpoint(f.provider.address)).to.equal(`http://127.0.0.1:9000/${f.provider.address}`);

      const state = await f.market.proofState(f.provider.address);
      const [proof] = db.proofsSince(0);
      expect(proof?.provider).to.equal(f.provider.address);
      const provenPeriod = proof?.period ?? -1n;
      expect(db.seedFor(f.provider.address, provenPeriod)).to.not.equal(undefined);
      const [missed] = db.missedReports(f.provider.address);
      expect(missed).to.include({ reporter: f.watcher.address, fromPeriod: provenPeriod + 1n, count: 1n });
      expect(missed?.fromPeriod).to.equal(state.nextPeriod - (missed?.count ?? 0n));
      const seed = db.seedFor(f.provider.address, state.nextPeriod);
      expect(seed?.seedBlock).to.equal(Number(state.seedBlock));

      const params = await f.market.parameters();
      expect(db.parametersAt(head)?.challengeCount).to.equal(params.challengeCount);
      expect(db.parametersAt(head)?.maxFaults).to.equal(params.maxFaults);

      expect((await metrics.indexedBlock.get()).values[0]?.value).to.equal(head);
      expect((await metrics.dataSetsTracked.get()).values[0]?.value).to.equal(3);
      expect(worker.health()).to.include({
        status: "ok",
        indexedBlock: head,
        blocksBehind: 0,
        dataSetsTracked: 3,
      });
    } finally {
      await worker.stop();
    }
  });

  it("test_step_confirmations: the index stays `confirmations` blocks behind the head", async function () {
    await populate(f);
    const worker = await testWorker(f, { overrides: { confirmations: 3 } });
    try {
      const report = await worker.tick();
      const head = await f.ethers.provider.getBlockNumber();
      expect(report.index).to.include({ head, target: head - 3, indexed: head - 3, caughtUp: true });
      expect(worker.context.db.cursor()).to.equal(head - 3);
    } finally {
      await worker.stop();
    }
  });

  it("test_step_boundedRange: one step indexes at most maxBlockRange blocks; catchUp loops to the target", async function () {
    await populate(f);
    const head = await f.ethers.provider.getBlockNumber();
    const { indexer, db } = indexerFor(f, f.ethers.provider, { maxBlockRange: 4 });
    const first = await indexer.step();
    expect(first).to.include({ blocks: 4, indexed: 3, caughtUp: false });
    const last = await indexer.catchUp({ maxSteps: 1000 });
    expect(last).to.include({ indexed: head, caughtUp: true });
    const { db: reference, indexer: whole } = indexerFor(f, f.ethers.provider);
    await whole.catchUp();
    expect(db.dumpChainTables()).to.deep.equal(reference.dumpChainTables());
    db.close();
    reference.close();
  });

  it("test_step_rangeTooLarge: halves the range until the node accepts it", async function () {
    await populate(f);
    let calls = 0;
    let refused = 0;
    const limited = withGetLogs(f.ethers.provider, async (filter) => {
      calls++;
      const { fromBlock, toBlock } = filter as { fromBlock: number; toBlock: number };
      if (toBlock - fromBlock + 1 > 3) {
        refused++;
        throw Object.assign(new Error("query returned more than 10000 results"), { code: -32005 });
      }
      return f.ethers.provider.getLogs(filter);
    });
    const { indexer, db } = indexerFor(f, limited);
    const result = await indexer.catchUp();
    expect(result.caughtUp).to.equal(true);
    expect(refused).to.be.greaterThan(0);
    expect(calls).to.be.greaterThan(refused);
    const { db: reference, indexer: whole } = indexerFor(f, f.ethers.provider);
    await whole.catchUp();
    expect(db.dumpChainTables()).to.deep.equal(reference.dumpChainTables());
    db.close();
    reference.close();
  });

  it("test_step_undecodableLog: skipped with a warning, the rest indexed", async function () {
    await populate(f);
    const dataSetCreated = f.market.interface.getEvent("DataSetCreated").topicHash;
    const lines: string[] = [];
    const logger = createLogger({
      name: "strata-worker",
      level: "warn",
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    const noisy = withGetLogs(f.ethers.provider, async (filter) => {
      const logs = await f.ethers.provider.getLogs(filter);
      const model = logs[0];
      if (model === undefined) return logs;
      const broken = new Log(
        {
          transactionHash: model.transactionHash,
          blockHash: model.blockHash,
          blockNumber: model.blockNumber,
          removed: false,
          address: model.address,
          topics: [dataSetCreated],
          data: "0x1234",
          index: 999,
          transactionIndex: model.transactionIndex,
        },
        f.ethers.provider,
      );
      return [...logs, broken];
    });
    const { indexer, db } = indexerFor(f, noisy, { logger });
    await indexer.catchUp();
    const { db: reference, indexer: whole } = indexerFor(f, f.ethers.provider);
    await whole.catchUp();
    expect(db.dumpChainTables()).to.deep.equal(reference.dumpChainTables());
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; logIndex?: number });
    expect(warnings.some((w) => w.level === 40 && w.logIndex === 999)).to.equal(true);
    db.close();
    reference.close();
  });

  it("test_catchUp_retrievalChallenges: opened, failed (data set ended as RetrievalFailed), parameters", async function () {
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const { id } = await openDataSet(f);
    const { bond, responseWindow } = await f.retrievalChallenges.parameters();
    await f.token.mint(f.watcher.address, bond);
    await f.token.connect(f.watcher).approve(f.retrievalChallenges.target, bond);
    await (await f.retrievalChallenges.connect(f.watcher).openChallenge(id, 3n)).wait();
    await f.helpers.time.increase(responseWindow + 1n);
    await (await f.retrievalChallenges.connect(f.watcher).enforceChallenge(1n)).wait();

    const worker = await testWorker(f);
    try {
      await worker.tick();
      const { db } = worker.context;
      expect(db.openChallenges()).to.deep.equal([]);
      const challenge = db.challengeById(1n);
      expect(challenge).to.include({
        dataSetId: id,
        provider: f.provider.address,
        challenger: f.watcher.address,
        leafIndex: 3n,
        bond,
        status: "failed",
        enforcer: f.watcher.address,
      });
      expect(db.dataSetById(id)?.ended?.reason).to.equal(4); // RetrievalFailed
      const head = await f.ethers.provider.getBlockNumber();
      expect(db.parametersAt(head, "retrieval")).to.deep.equal({ responseWindow, bond });
      expect(db.parametersAt(head, "market")?.challengeCount).to.equal(
        (await f.market.parameters()).challengeCount,
      );
    } finally {
      await worker.stop();
    }
  });

  it("test_startBlock: events before the start block are not indexed", async function () {
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    await openDataSet(f);
    const from = (await f.ethers.provider.getBlockNumber()) + 1;
    const { id } = await openDataSet(f);
    const config = await workerConfig(f, { startBlock: from });
    const worker = await testWorker(f, { config });
    try {
      await worker.tick();
      expect(worker.context.db.openDataSets().map((d) => d.dataSetId)).to.deep.equal([id]);
      expect(worker.context.db.startBlock()).to.equal(from);
    } finally {
      await worker.stop();
    }
  });
});
