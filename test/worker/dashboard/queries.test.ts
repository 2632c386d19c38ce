/**
 * The dashboard's index queries over a hand-made index (WorkerDb in memory, synthetic events): totals, activity
 * per period, exact money sums, watchers (a provider recording its own missed periods is not one), and the
 * migration-4 indexes the lookups rely on.
 */
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { DashboardQueries } from "../../../offchain/worker/dashboard/queries.js";
import { WorkerDb, type IndexedEvent } from "../../../offchain/worker/db/index.js";
import { MIGRATIONS } from "../../../offchain/worker/db/migrations.js";

const P1 = "0x1000000000000000000000000000000000000001";
const P2 = "0x2000000000000000000000000000000000000002";
const CLIENT = "0x3000000000000000000000000000000000000003";
const WATCHER = "0x4000000000000000000000000000000000000004";
const TENANT = "0x5000000000000000000000000000000000000005";

type EventBody = IndexedEvent extends infer E
  ? E extends IndexedEvent
    ? Omit<E, "blockNumber" | "logIndex" | "txHash">
    : never
  : never;

function index(db: WorkerDb, blocks: EventBody[][]): void {
  let cursor = db.cursor() ?? 0;
  for (const bodies of blocks) {
    const n = ++cursor;
    const events = bodies.map((body, i) => ({
      ...body,
      blockNumber: n,
      logIndex: i,
      txHash: `0x${n.toString(16).padStart(64, "0")}`,
    }));
    db.applyBatch({
      from: n,
      to: n,
      events,
      blocks: [{ number: n, hash: `0x${"ab".repeat(31)}${n.toString(16).padStart(2, "0")}` }],
    });
  }
}

function created(id: bigint, provider: string): EventBody {
  return {
    kind: "DataSetCreated",
    dataSetId: id,
    client: CLIENT,
    provider,
    pricePerTiBMonth: 2_500_000n,
    collateralPerTiB: 1_000_000n,
    noticePeriods: 2n,
    nonce: id,
  };
}

function updated(id: bigint, version: bigint, span: bigint): EventBody {
  return {
    kind: "DataSetUpdated",
    dataSetId: id,
    version,
    root: `0x${"11".repeat(32)}`,
    span,
    effectivePeriod: version,
  };
}

describe("worker dashboard: index queries", function () {
  let db: WorkerDb;

  beforeEach(function () {
    db = WorkerDb.open(":memory:");
    // Amounts above 2^64 prove the sums are exact bigints, not SQLite integers or floats.
    const huge = 2n ** 70n + 1n;
    index(db, [
      [
        { kind: "ProviderRegistered", provider: P1, payee: P1, endpoint: "http://p1" },
        { kind: "ProviderRegistered", provider: P2, payee: P2, endpoint: "http://p2" },
      ],
      [created(1n, P1), created(2n, P2), created(3n, P1)],
      [updated(1n, 1n, 64n), updated(2n, 1n, 128n), updated(3n, 1n, 32n)],
      [
        { kind: "DataSetToppedUp", dataSetId: 1n, from: CLIENT, amount: huge },
        { kind: "DataSetToppedUp", dataSetId: 2n, from: CLIENT, amount: huge },
      ],
      [
        { kind: "ProofSubmitted", provider: P1, period: 5n, nextSeedBlock: 10n },
        { kind: "ProofSubmitted", provider: P2, period: 5n, nextSeedBlock: 10n },
        { kind: "FaultDeclared", provider: P1, period: 6n, dataSetId: 3n },
      ],
      [
        { kind: "DataSetSettled", dataSetId: 1n, amount: 7n, leafSeconds: 100n },
        // P2 missed 6 and 7, reported by the watcher; P1 recorded its own missed period 7 (no bounty).
        {
          kind: "MissedProofsReported",
          provider: P2,
          fromPeriod: 6n,
          count: 2n,
          reporter: WATCHER,
          bounty: 40n,
          nextSeedBlock: 12n,
        },
        { kind: "Slashed", provider: P2, dataSetId: 2n, toHarmed: 30n, toReporter: 20n, toTreasury: 10n },
        {
          kind: "MissedProofsReported",
          provider: P1,
          fromPeriod: 7n,
          count: 1n,
          reporter: P1,
          bounty: 0n,
          nextSeedBlock: 12n,
        },
      ],
      [
        { kind: "DataSetTerminated", dataSetId: 3n, by: CLIENT, reason: 1, endPeriod: 9n },
        {
          kind: "DataSetEnded",
          dataSetId: 2n,
          reason: 3,
          paidToProvider: 5n,
          refundedToClient: huge,
          compensationToClient: 30n,
          collateralReleased: 0n,
        },
      ],
      [
        {
          kind: "LeaseStarted",
          leaseId: 1n,
          tenant: TENANT,
          provider: P1,
          pricePerSecond: 3n,
          collateral: 1000n,
          noticeWindow: 60n,
          escrow: 900n,
          closeBounty: 50n,
          startedAt: 1000n,
          endsAt: 0n,
          heartbeatPeriod: 60n,
          maxMissedHeartbeats: 3n,
        },
      ],
      [
        {
          kind: "MissedHeartbeatsReported",
          leaseId: 1n,
          reporter: WATCHER,
          fromPeriod: 1n,
          count: 1n,
          refunded: 180n,
          bounty: 4n,
        },
        { kind: "LeaseSettled", leaseId: 1n, amount: 180n, paidSeconds: 60n, escrow: 540n },
        {
          kind: "LeaseClosed",
          leaseId: 1n,
          reason: 4,
          closer: WATCHER,
          paidToProvider: 9n,
          refundedToTenant: 0n,
          bountyToCloser: 50n,
          compensationToTenant: 0n,
          collateralReleased: 1000n,
        },
      ],
    ]);
  });

  afterEach(function () {
    db.close();
  });

  it("test_totals: providers, data sets by status, bytes of the sets not finalized, proofs, missed periods", function () {
    const q = new DashboardQueries(db);
    const t = q.totals();
    expect(t.providersRegistered).to.equal(2);
    expect(t.dataSets).to.deep.equal({ total: 3, live: 1, ending: 1, finalized: 1 });
    // Sets 1 (64 leaves) and 3 (32 leaves, ending) hold data; set 2 is finalized.
    expect(t.bytesStored).to.equal((64n + 32n) * 64n);
    expect(t.proofs).to.equal(2);
    expect(t.missedPeriods).to.equal(3n);
    expect(t.declaredFaults).to.equal(1);
    expect(t.slashes).to.equal(1);
    expect(t.leases).to.deep.equal({ total: 1, open: 0 });
  });

  it("test_activity: proofs, declared faults and missed periods per period, missed ranges spread over periods", function () {
    const q = new DashboardQueries(db);
    expect(q.lastActivePeriod()).to.equal(7n);
    const all = q.activity(5n, 7n);
    expect(all.map((a) => [a.period, a.proofs, a.declaredFaults, a.missed])).to.deep.equal([
      [5n, 2, 0, 0],
      [6n, 0, 1, 1],
      [7n, 0, 0, 2],
    ]);
    const p2 = q.activity(5n, 7n, P2);
    expect(p2.map((a) => a.missed)).to.deep.equal([0, 1, 1]);
    expect(p2.map((a) => a.declaredFaults)).to.deep.equal([0, 0, 0]);
  });

  it("test_moneyFlows_exact: sums above 2^64 are exact", function () {
    const f = new DashboardQueries(db).moneyFlows();
    expect(f.storage.deposited).to.equal(2n * (2n ** 70n + 1n));
    expect(f.storage.refundedToClients).to.equal(2n ** 70n + 1n);
    expect(f.storage.settledToProviders).to.equal(7n);
    expect(f.storage.slashedToReporters).to.equal(20n);
    expect(f.compute.escrowAtStart).to.equal(900n);
    expect(f.compute.closeBounties).to.equal(50n);
    expect(f.compute.heartbeatBounties).to.equal(4n);
  });

  it("test_totals_followTheIndex: aggregates are recomputed once the index moves (and after a rollback)", function () {
    const q = new DashboardQueries(db);
    expect(q.totals().proofs).to.equal(2);
    expect(q.moneyFlows().compute.toppedUp).to.equal(0n);
    index(db, [
      [
        { kind: "ProofSubmitted", provider: P1, period: 8n, nextSeedBlock: 20n },
        { kind: "LeaseToppedUp", leaseId: 1n, payer: TENANT, amount: 11n, escrow: 551n },
      ],
    ]);
    expect(q.totals().proofs).to.equal(3);
    expect(q.moneyFlows().compute.toppedUp).to.equal(11n);
    db.rollbackTo((db.cursor() ?? 1) - 1);
    expect(q.totals().proofs).to.equal(2);
    expect(q.moneyFlows().compute.toppedUp).to.equal(0n);
  });

  it("test_earnings: a provider's settlements and end/close payments; its slashes", function () {
    const q = new DashboardQueries(db);
    expect(q.earnings(P1)).to.deep.equal({ storage: 7n, compute: 180n + 9n, slashed: 0n });
    expect(q.earnings(P2)).to.deep.equal({ storage: 5n, compute: 0n, slashed: 60n });
  });

  it("test_watchers: reports, closes and bounties; a provider recording its own missed period is no watcher", function () {
    const q = new DashboardQueries(db);
    const watchers = q.watchers();
    expect(watchers.map((w) => w.address)).to.deep.equal([WATCHER]);
    expect(watchers[0]?.bounties).to.equal(40n + 4n + 50n);
    const kinds = q.watcherActions(WATCHER).map((a) => a.kind);
    expect(kinds).to.have.members(["missed-proofs-report", "missed-heartbeats-report", "lease-close"]);
    expect(q.watcherActions(P1)).to.deep.equal([]);
    expect(q.watcherActions(ZeroAddress)).to.deep.equal([]);
  });

  it("test_lists: data sets newest first with status and bytes; a data set's payments and a lease's events", function () {
    const q = new DashboardQueries(db);
    expect(q.dataSets().map((d) => [d.id, d.status, d.bytes])).to.deep.equal([
      [3n, "ending", 32n * 64n],
      [2n, "finalized", 128n * 64n],
      [1n, "live", 64n * 64n],
    ]);
    expect(q.dataSets({ provider: P1 }).map((d) => d.id)).to.deep.equal([3n, 1n]);
    expect(q.dataSetPayments(2n).map((p) => p.label)).to.include.members([
      "paid to the provider at the end",
      "refunded to the client at the end",
      `top-up by ${CLIENT}`,
    ]);
    expect(q.leaseEvents(1n).map((e) => e.kind)).to.deep.equal([
      "closed",
      "settled",
      "missed heartbeats",
      "started",
    ]);
    expect(q.leaseMissedRanges(1n)).to.deep.equal([{ from: 1n, count: 1n }]);
    expect(q.slashes({ provider: P2 }).map((s) => s.subject.href)).to.deep.equal(["/data-sets/2"]);
    expect(q.provider(P1)?.liveDataSets).to.equal(1);
    expect(q.provider("0x9000000000000000000000000000000000000009")).to.equal(undefined);
  });

  it("test_migration4_indexes: the watcher and per-period lookups use the indexes", function () {
    expect(db.schemaVersion()).to.equal(MIGRATIONS.length);
    const plan = (sql: string): string =>
      db.handle
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all()
        .map((row) => String(row.detail))
        .join("\n");
    expect(plan(`SELECT * FROM missed_reports WHERE reporter = '${WATCHER}'`)).to.include(
      "missed_reports_reporter",
    );
    expect(plan(`SELECT * FROM lease_missed_reports WHERE reporter = '${WATCHER}'`)).to.include(
      "lease_missed_reports_reporter",
    );
    expect(plan(`SELECT * FROM leases_closed WHERE closer = '${WATCHER}'`)).to.include(
      "leases_closed_closer",
    );
    expect(
      plan("SELECT period, COUNT(*) FROM proofs WHERE period BETWEEN 1 AND 5 GROUP BY period"),
    ).to.include("proofs_period");
    expect(plan("SELECT * FROM slashes WHERE data_set_id = 2")).to.include("slashes_set");
    expect(plan(`SELECT * FROM data_sets WHERE client = '${CLIENT}'`)).to.include("data_sets_client");
  });
});
