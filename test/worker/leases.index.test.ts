import { expect } from "chai";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { StrataError } from "../../offchain/sdk/errors.js";
import { parseWorkerConfig } from "../../offchain/worker/config.js";
import { leaseDue } from "../../offchain/worker/duties/leaseKeeper.js";
import { WorkerDb, type IndexedEvent, type IndexedLease } from "../../offchain/worker/db/index.js";
import { OpenLeaseBook } from "../../offchain/worker/db/leaseBook.js";
import { MIGRATIONS } from "../../offchain/worker/db/migrations.js";
import { Indexer } from "../../offchain/worker/indexer/indexer.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { createMetrics } from "../../offchain/worker/metrics.js";
import {
  atNextBlock,
  CloseReason,
  ESCROW,
  HEARTBEAT,
  heartbeatThrough,
  mined,
  placeBid,
  postOrder,
  PRICE,
  setComputeParams,
  startLease,
} from "../compute/helpers.js";
import { USDC, type StorageFixture } from "../helpers/fixture.js";
import { FAST_RPC, removeTempDirs, tempDir, testWorker, workerConfig } from "./helpers.js";
import { freshComputeIndex, fullDeployment, leaseFixture, leaseWorker } from "./leases.helpers.js";

function failure(fn: () => unknown): StrataError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StrataError) return error;
    throw error;
  }
  throw new Error("expected a StrataError");
}

async function failureOf(promise: Promise<unknown>): Promise<StrataError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StrataError) return error;
    throw error;
  }
  throw new Error("expected a StrataError");
}

/** An indexer over the fixture's whole deployment (compute market included) into `db`. */
async function computeIndexer(f: StorageFixture, db: WorkerDb) {
  const metrics = createMetrics({ defaults: false });
  const indexer = new Indexer({
    db,
    provider: f.ethers.provider,
    deployment: await fullDeployment(f),
    confirmations: 0,
    startBlock: 0,
    maxBlockRange: 2000,
    retry: FAST_RPC,
    logger: silentLogger(),
    metrics,
  });
  return { indexer, metrics };
}

describe("worker lease index", function () {
  let f: StorageFixture;

  beforeEach(async function () {
    f = await leaseFixture();
  });

  after(removeTempDirs);

  it("test_catchUp_computeMarket: orders, bids, leases, heartbeats, reports, notice, close, parameters", async function () {
    // Order 1 becomes lease 1 (provider); provider2 bids and withdraws.
    const order1 = await postOrder(f);
    await placeBid(f, order1, f.provider);
    await placeBid(f, order1, f.provider2, { price: 90n });
    await mined(f.compute.connect(f.provider2).withdrawBid(order1));
    // Order 2: its only bid rejected, then cancelled.
    const order2 = await postOrder(f, {}, f.client2);
    await placeBid(f, order2, f.provider);
    await mined(f.compute.connect(f.client2).rejectBid(order2, f.provider.address));
    await mined(f.compute.connect(f.client2).cancelOrder(order2));
    await mined(f.compute.connect(f.client).acceptBid(order1, f.provider.address));
    const { startedAt } = await f.compute.getLease(order1);
    // Lease 1: heartbeats 0 and 1, a top-up, a settlement, period 2 missed and reported, heartbeat 3, notice.
    await heartbeatThrough(f, order1, 1n);
    await mined(f.compute.connect(f.client).topUp(order1, 5n * USDC));
    await mined(f.compute.connect(f.watcher).settleLease(order1));
    await atNextBlock(f, startedAt + 3n * HEARTBEAT + 5n);
    await mined(f.compute.connect(f.watcher).reportMissedHeartbeats(order1));
    await mined(f.compute.connect(f.provider).heartbeat(order1));
    await mined(f.compute.connect(f.provider).giveNotice(order1));
    // Lease 3: closed by its tenant.
    const { leaseId: lease3 } = await startLease(f, { tenant: f.client2, provider: f.provider2 });
    await mined(f.compute.connect(f.client2).closeLease(lease3, CloseReason.Tenant));
    await setComputeParams(f, { closeBounty: 2_000_000n });

    const db = WorkerDb.open(":memory:");
    try {
      const { indexer, metrics } = await computeIndexer(f, db);
      const result = await indexer.catchUp();
      expect(result.caughtUp).to.equal(true);

      expect(db.orderById(order1)).to.deep.include({ status: "filled", tenant: f.client.address });
      expect(db.orderById(order2)).to.deep.include({ status: "cancelled", tenant: f.client2.address });
      expect(db.bidsOn(order1).map((b) => [b.provider, b.status, b.pricePerSecond])).to.deep.equal([
        [f.provider.address, "created", PRICE],
        [f.provider2.address, "withdrawn", 90n],
      ]);
      expect(db.bidsOn(order2).map((b) => [b.provider, b.status])).to.deep.equal([
        [f.provider.address, "rejected"],
      ]);

      // The rebuilt position of lease 1 is the chain's.
      const onChain = await f.compute.getLease(order1);
      const accrual = await f.compute.leaseAccrual(order1);
      const lease = db.leaseById(order1);
      if (!lease) throw new Error("lease 1 not indexed");
      expect(lease).to.deep.include({
        tenant: f.client.address,
        provider: f.provider.address,
        pricePerSecond: onChain.pricePerSecond,
        startedAt: onChain.startedAt,
        heartbeatPeriod: onChain.heartbeatPeriod,
        maxMissedHeartbeats: onChain.maxMissedHeartbeats,
        escrow: onChain.escrow,
        paidSeconds: onChain.paidSeconds,
        missedSeconds: onChain.missedSeconds,
        missedHeartbeats: onChain.missedHeartbeats,
        nextPeriod: onChain.nextPeriod,
        endsAt: onChain.endsAt,
        noticeGiven: true,
        closed: null,
      });
      expect(lease.missedSeconds).to.equal(HEARTBEAT);
      expect(lease.nextPeriod).to.equal(4n);
      expect(
        lease.startedAt + lease.missedSeconds + lease.paidSeconds + lease.escrow / lease.pricePerSecond,
      ).to.equal(accrual.fundedUntil);
      expect(db.leaseMissedReports(order1).map((r) => [r.fromPeriod, r.count, r.reporter])).to.deep.equal([
        [2n, 1n, f.watcher.address],
      ]);

      expect(db.leaseById(lease3)?.closed).to.deep.include({ reason: 0, closer: f.client2.address });
      expect(db.openLeases().map((l) => l.id)).to.deep.equal([order1]);
      expect(db.openLeaseCount()).to.equal(1);
      expect(db.counts().openLeases).to.equal(1);
      expect((await metrics.leasesTracked.get()).values[0]?.value).to.equal(1);

      const dump = db.dumpChainTables();
      expect(dump.lease_heartbeats).to.have.length(3); // lease 1: periods 0, 1 and 3
      expect(dump.lease_slashes).to.have.length(1); // the report's bounty out of the collateral
      expect(dump.lease_topups).to.have.length(1);
      expect(dump.lease_settlements).to.have.length(1);
      expect(dump.lease_notices).to.have.length(1);
      expect(dump.compute_orders).to.have.length(3);
      expect(dump.compute_orders_ended).to.have.length(1);
      const head = await f.ethers.provider.getBlockNumber();
      expect(db.parametersAt(head, "compute")?.closeBounty).to.equal(2_000_000n);
      expect(db.parametersAt(head, "market")?.closeBounty).to.equal(undefined);
    } finally {
      db.close();
    }
  });

  it("test_reorg_computeTables: lease events of an orphaned fork are rolled back; the index equals a fresh one", async function () {
    const { leaseId } = await startLease(f);
    const worker = await leaseWorker(f);
    try {
      await worker.tick();
      const { db } = worker.context;
      const snapshot = await f.helpers.takeSnapshot();
      // Fork A: a heartbeat, a top-up, another order with a bid.
      await heartbeatThrough(f, leaseId, 0n);
      await mined(f.compute.connect(f.client).topUp(leaseId, USDC));
      const order = await postOrder(f, {}, f.client2);
      await placeBid(f, order, f.provider2);
      await worker.tick();
      expect(db.leaseById(leaseId)).to.deep.include({ nextPeriod: 1n, escrow: ESCROW + USDC });
      expect(db.orderById(order)).to.not.equal(undefined);

      await snapshot.restore();
      // Fork B: the provider gives notice instead; more blocks than fork A.
      await mined(f.compute.connect(f.provider).giveNotice(leaseId));
      await f.helpers.mine(8);
      await worker.tick();
      expect((await worker.context.metrics.reorgs.get()).values[0]?.value).to.equal(1);
      expect(db.leaseById(leaseId)).to.deep.include({ nextPeriod: 0n, escrow: ESCROW, noticeGiven: true });
      expect(db.orderById(order)).to.equal(undefined);
      const dump = db.dumpChainTables();
      expect(dump.lease_heartbeats).to.deep.equal([]);
      expect(dump.lease_topups).to.deep.equal([]);
      expect(dump.compute_bids).to.have.length(1); // the lease's own bid
      expect(dump.lease_notices).to.have.length(1);
      expect(dump).to.deep.equal(await freshComputeIndex(f));
    } finally {
      await worker.stop();
    }
  });

  it("test_reorg_closeRolledBack: a lease closed on an orphaned fork is open again", async function () {
    const { leaseId } = await startLease(f);
    const worker = await leaseWorker(f);
    try {
      await worker.tick();
      const snapshot = await f.helpers.takeSnapshot();
      await mined(f.compute.connect(f.client).closeLease(leaseId, CloseReason.Tenant));
      await worker.tick();
      expect(worker.context.db.openLeaseCount()).to.equal(0);
      await snapshot.restore();
      await f.helpers.mine(5);
      await worker.tick();
      expect(worker.context.db.openLeaseCount()).to.equal(1);
      expect(worker.context.db.leaseById(leaseId)?.closed).to.equal(null);
      expect(worker.context.db.dumpChainTables()).to.deep.equal(await freshComputeIndex(f));
    } finally {
      await worker.stop();
    }
  });
});

describe("worker lease index: database", function () {
  const COMPUTE = "0x4444444444444444444444444444444444444444";
  const OTHER = "0x5555555555555555555555555555555555555555";

  after(removeTempDirs);

  it("test_bindComputeMarket: a fresh index binds; another compute market or none is WORKER_DB_MISMATCH", function () {
    const db = WorkerDb.open(":memory:");
    db.bindComputeMarket(COMPUTE);
    db.bindComputeMarket(COMPUTE); // idempotent
    expect(db.getMeta("compute_market")).to.equal(COMPUTE);
    expect(
      failure(() => {
        db.bindComputeMarket(OTHER);
      }).code,
    ).to.equal("WORKER_DB_MISMATCH");
    expect(
      failure(() => {
        db.bindComputeMarket(null);
      }).code,
    ).to.equal("WORKER_DB_MISMATCH");
    db.close();

    const none = WorkerDb.open(":memory:");
    none.bindComputeMarket(null);
    expect(
      failure(() => {
        none.bindComputeMarket(COMPUTE);
      }).code,
    ).to.equal("WORKER_DB_MISMATCH");
    none.close();
  });

  it("test_bindComputeMarket_indexWithoutBinding: an index built before compute events is refused for a compute market", function () {
    const db = WorkerDb.open(":memory:");
    db.initCursor(100); // indexed by a worker that did not follow any compute market
    expect(
      failure(() => {
        db.bindComputeMarket(COMPUTE);
      }).code,
    ).to.equal("WORKER_DB_MISMATCH");
    db.bindComputeMarket(null);
    expect(db.getMeta("compute_market")).to.equal("none");
    db.close();
  });

  it("test_bindIdentity_computeMarket: the identity check covers the compute market when given", function () {
    const db = WorkerDb.open(":memory:");
    const identity = {
      chainId: 31337n,
      market: "0x1111111111111111111111111111111111111111",
      registry: "0x2222222222222222222222222222222222222222",
      retrievalChallenges: null,
    };
    db.bindIdentity({ ...identity, computeMarket: COMPUTE });
    db.bindIdentity(identity); // not given: not checked
    expect(
      failure(() => {
        db.bindIdentity({ ...identity, computeMarket: OTHER });
      }).code,
    ).to.equal("WORKER_DB_MISMATCH");
    db.close();
  });

  it("test_migration_fromSchema1: compute tables are added and market parameters kept", async function () {
    const path = join(await tempDir(), "worker.db");
    const raw = new DatabaseSync(path);
    raw.exec(MIGRATIONS[0] ?? "");
    raw.exec("PRAGMA user_version = 1");
    raw.exec(
      `INSERT INTO market_parameters (contract, json, block_number, log_index, tx_hash)
       VALUES ('market', '{"maxFaults":"3"}', 7, 0, '0xaa')`,
    );
    raw.close();

    const db = WorkerDb.open(path);
    try {
      expect(db.schemaVersion()).to.equal(MIGRATIONS.length);
      expect(db.parametersAt(7)).to.deep.equal({ maxFaults: 3n });
      const inserted = db.applyBatch({
        from: 8,
        to: 8,
        events: [
          {
            kind: "ParametersSet",
            contract: "compute",
            params: { heartbeatPeriod: 60n },
            blockNumber: 8,
            logIndex: 0,
            txHash: "0x" + "bb".repeat(32),
          },
        ],
        blocks: [{ number: 8, hash: "0x" + "cc".repeat(32) }],
      });
      expect(inserted).to.equal(1);
      expect(db.parametersAt(8, "compute")).to.deep.equal({ heartbeatPeriod: 60n });
      expect(db.parametersAt(8, "market")).to.deep.equal({ maxFaults: 3n });
    } finally {
      db.close();
    }
  });

  it("test_pruneHeartbeats: below the kept block hashes only each open lease's newest heartbeat stays", function () {
    const db = WorkerDb.open(":memory:");
    let n = 0;
    const at = (blockNumber: number) => ({
      blockNumber,
      logIndex: n, // distinct per event, like the chain's within a block
      txHash: "0x" + (++n).toString(16).padStart(64, "0"),
    });
    const started = (leaseId: bigint, blockNumber: number): IndexedEvent => ({
      kind: "LeaseStarted",
      leaseId,
      tenant: "0x1111111111111111111111111111111111111111",
      provider: "0x2222222222222222222222222222222222222222",
      pricePerSecond: 10n,
      collateral: 1000n,
      noticeWindow: 600n,
      escrow: 100_000n,
      closeBounty: 10n,
      startedAt: 1000n,
      endsAt: 0n,
      heartbeatPeriod: 60n,
      maxMissedHeartbeats: 3n,
      ...at(blockNumber),
    });
    const beat = (leaseId: bigint, period: bigint, blockNumber: number): IndexedEvent => ({
      kind: "HeartbeatPosted",
      leaseId,
      period,
      ...at(blockNumber),
    });
    const hashes = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => ({
        number: from + i,
        hash: "0x" + (from + i).toString(16).padStart(64, "0"),
      }));
    db.applyBatch({
      from: 0,
      to: 10,
      events: [
        started(1n, 1),
        started(2n, 1),
        started(3n, 1),
        beat(1n, 0n, 2),
        beat(1n, 1n, 3),
        beat(2n, 0n, 4),
        {
          kind: "LeaseClosed",
          leaseId: 2n,
          reason: 0,
          closer: "0x1111111111111111111111111111111111111111",
          paidToProvider: 0n,
          refundedToTenant: 0n,
          bountyToCloser: 0n,
          compensationToTenant: 0n,
          collateralReleased: 1000n,
          ...at(5),
        },
        beat(3n, 0n, 6),
      ],
      blocks: hashes(0, 10),
    });
    expect(db.dumpChainTables().lease_heartbeats).to.have.length(4); // all within the kept hashes
    // 1,990 more hashes: the oldest kept one is now block 977.
    db.applyBatch({ from: 11, to: 2000, events: [beat(1n, 2n, 1999)], blocks: hashes(11, 2000) });
    const rows = db.handle
      .prepare("SELECT lease_id, period FROM lease_heartbeats ORDER BY lease_id, period")
      .all()
      .map((r) => [Number(r.lease_id), Number(r.period)]);
    expect(rows).to.deep.equal([
      [1, 2],
      [3, 0],
    ]);
    expect(db.leaseById(1n)?.nextPeriod).to.equal(3n);
    expect(db.leaseById(3n)?.nextPeriod).to.equal(1n);
    db.close();
  });
});

describe("worker lease index: open lease book", function () {
  const A = "0x1111111111111111111111111111111111111111";
  let n = 0;
  const at = (blockNumber: number) => ({
    blockNumber,
    logIndex: n,
    txHash: "0x" + (++n).toString(16).padStart(64, "0"),
  });
  const started = (leaseId: bigint, blockNumber: number): IndexedEvent => ({
    kind: "LeaseStarted",
    leaseId,
    tenant: A,
    provider: A,
    pricePerSecond: 10n,
    collateral: 1000n,
    noticeWindow: 600n,
    escrow: 100_000n,
    closeBounty: 10n,
    startedAt: 1000n,
    endsAt: 0n,
    heartbeatPeriod: 60n,
    maxMissedHeartbeats: 3n,
    ...at(blockNumber),
  });
  const step = (db: WorkerDb, block: number, events: IndexedEvent[]) =>
    db.applyBatch({
      from: block,
      to: block,
      events,
      blocks: [{ number: block, hash: "0x" + block.toString(16).padStart(64, "0") }],
    });

  it("test_openLeaseBook: refreshes only changed leases, and everything after a rollback", function () {
    const db = WorkerDb.open(":memory:");
    const book = new OpenLeaseBook();
    try {
      step(db, 0, []);
      step(db, 1, [started(1n, 1), started(2n, 1)]);
      expect(book.sync(db).map((l) => [l.id, l.nextPeriod])).to.deep.equal([
        [1n, 0n],
        [2n, 0n],
      ]);
      step(db, 2, [{ kind: "HeartbeatPosted", leaseId: 1n, period: 0n, ...at(2) }]);
      step(db, 3, [
        { kind: "LeaseToppedUp", leaseId: 2n, payer: A, amount: 5n, escrow: 100_005n, ...at(3) },
        started(3n, 3),
      ]);
      expect(book.sync(db).map((l) => [l.id, l.nextPeriod, l.escrow])).to.deep.equal([
        [1n, 1n, 100_000n],
        [2n, 0n, 100_005n],
        [3n, 0n, 100_000n],
      ]);
      step(db, 4, [
        {
          kind: "LeaseClosed",
          leaseId: 2n,
          reason: 0,
          closer: A,
          paidToProvider: 0n,
          refundedToTenant: 0n,
          bountyToCloser: 0n,
          compensationToTenant: 0n,
          collateralReleased: 1000n,
          ...at(4),
        },
      ]);
      expect(book.sync(db).map((l) => l.id)).to.deep.equal([1n, 3n]);
      expect(book.size).to.equal(2);
      // A reorg back to block 1, then a different block 2: the book starts over from the index.
      db.rollbackTo(1);
      step(db, 2, [{ kind: "HeartbeatPosted", leaseId: 2n, period: 0n, ...at(2) }]);
      expect(book.sync(db).map((l) => [l.id, l.nextPeriod, l.escrow])).to.deep.equal([
        [1n, 0n, 100_000n],
        [2n, 1n, 100_000n],
      ]);
    } finally {
      db.close();
    }
  });
});

describe("worker lease index: leaseDue", function () {
  const base: IndexedLease = {
    id: 1n,
    tenant: "0x1111111111111111111111111111111111111111",
    provider: "0x2222222222222222222222222222222222222222",
    pricePerSecond: 10n,
    collateral: 1000n,
    noticeWindow: 600n,
    closeBounty: 10n,
    startedAt: 1000n,
    endsAt: 0n,
    noticeGiven: false,
    heartbeatPeriod: 60n,
    maxMissedHeartbeats: 3n,
    escrow: 10_000n, // funded until 2000
    paidSeconds: 0n,
    missedSeconds: 0n,
    missedHeartbeats: 0n,
    nextPeriod: 0n,
    startedBlock: 1,
    startedTx: "0x" + "00".repeat(32),
    closed: null,
  };
  const due = (overrides: Partial<IndexedLease>, now: bigint) => leaseDue({ ...base, ...overrides }, now);

  it("test_leaseDue_missedHeartbeats: a closed period below nextPeriod's reach", function () {
    expect(due({}, 1030n)).to.deep.equal({ missedHeartbeats: false, overdrawn: false });
    expect(due({}, 1060n).missedHeartbeats).to.equal(true); // period 0 just closed
    expect(due({ nextPeriod: 1n }, 1119n).missedHeartbeats).to.equal(false);
    expect(due({ nextPeriod: 2n }, 1130n).missedHeartbeats).to.equal(false);
  });

  it("test_leaseDue_endCapsThePeriods: only periods that start before the lease's end are reportable", function () {
    // End at 1090: periods 0 and 1 are inside the lease (ceil(90 / 60) = 2).
    expect(due({ endsAt: 1090n, nextPeriod: 2n }, 5000n).missedHeartbeats).to.equal(false);
    expect(due({ endsAt: 1090n, nextPeriod: 1n }, 5000n).missedHeartbeats).to.equal(true);
  });

  it("test_leaseDue_overdrawn: the paid horizon passes fundedUntil = start + missed + paid + escrow / price", function () {
    expect(due({ escrow: 500n }, 1050n).overdrawn).to.equal(false);
    expect(due({ escrow: 500n }, 1051n).overdrawn).to.equal(true);
    expect(due({ escrow: 300n, paidSeconds: 20n }, 1051n).overdrawn).to.equal(true);
    expect(due({ escrow: 300n, paidSeconds: 20n }, 1050n).overdrawn).to.equal(false);
    expect(due({ escrow: 509n }, 1051n).overdrawn).to.equal(true); // whole seconds only
    expect(due({ escrow: 500n, missedSeconds: 60n }, 1100n).overdrawn).to.equal(false);
    expect(due({ escrow: 500n, endsAt: 1040n }, 9000n).overdrawn).to.equal(false);
    expect(due({ escrow: 500n }, 1000n)).to.deep.equal({ missedHeartbeats: false, overdrawn: false });
  });
});

describe("worker lease configuration", function () {
  after(removeTempDirs);

  it("test_parse_leases: defaults on; fields merge; unknown or mistyped fields are CONFIG_INVALID", function () {
    expect(parseWorkerConfig({}).leases).to.deep.equal({
      enabled: true,
      reportMissedHeartbeats: true,
      closeOverdrawn: true,
    });
    expect(parseWorkerConfig({ leases: { closeOverdrawn: false } }).leases).to.deep.equal({
      enabled: true,
      reportMissedHeartbeats: true,
      closeOverdrawn: false,
    });
    const error = failure(() => parseWorkerConfig({ leases: { enabled: "yes", closeOverdue: true } }));
    expect(error.code).to.equal("CONFIG_INVALID");
    const lines = (error.details ?? "").split("\n");
    for (const field of ["leases.enabled", "leases.closeOverdue"]) {
      expect(lines.some((line) => line.startsWith(field))).to.equal(true, field);
    }
  });

  it("test_parse_computeMarket: an optional address in the deployment", function () {
    const addresses = {
      market: "0x1111111111111111111111111111111111111111",
      registry: "0x2222222222222222222222222222222222222222",
      token: "0x3333333333333333333333333333333333333333",
    };
    const without = parseWorkerConfig({ deployment: addresses }).deployment;
    expect(without).to.deep.equal({
      addresses: { ...addresses, retrievalChallenges: null, computeMarket: null },
    });
    const withCompute = parseWorkerConfig({
      deployment: { ...addresses, computeMarket: "0x4444444444444444444444444444444444444444" },
    }).deployment;
    expect(withCompute).to.deep.equal({
      addresses: {
        ...addresses,
        retrievalChallenges: null,
        computeMarket: "0x4444444444444444444444444444444444444444",
      },
    });
    const error = failure(() => parseWorkerConfig({ deployment: { ...addresses, computeMarket: "0x12" } }));
    expect(error.code).to.equal("CONFIG_INVALID");
  });

  it("test_connect_computeMarketWithoutCode: CONFIG_DEPLOYMENT_MISMATCH", async function () {
    const f = await leaseFixture();
    const config = await workerConfig(f, {
      deployment: {
        ...(await fullDeployment(f)),
        computeMarket: "0x4444444444444444444444444444444444444444",
      },
    });
    const error = await failureOf(testWorker(f, { config }));
    expect(error.code).to.equal("CONFIG_DEPLOYMENT_MISMATCH");
  });

  it("test_resolve_computeMarket: read from Ignition's deployed_addresses.json when present", async function () {
    const f = await leaseFixture();
    const deployment = await fullDeployment(f);
    const dir = await tempDir();
    const file = join(dir, "deployed_addresses.json");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      file,
      JSON.stringify({
        "StrataLocal#TestStablecoin": deployment.token,
        "StrataLocal#ProviderRegistry": deployment.registry,
        "StrataLocal#StorageMarket": deployment.market,
        "StrataLocal#ComputeMarket": deployment.computeMarket,
      }),
    );
    const config = await workerConfig(f, { deployment: file });
    expect(config.deployment.computeMarket).to.equal(deployment.computeMarket);
    expect(config.deployment.retrievalChallenges).to.equal(null);
  });
});
