import { expect } from "chai";
import { join } from "node:path";
import { StrataError } from "../../offchain/sdk/errors.js";
import {
  KEPT_BLOCK_HASHES,
  KEPT_SAMPLES_PER_DATA_SET,
  WorkerDb,
  type DbIdentity,
  type IndexBatch,
  type IndexedEvent,
} from "../../offchain/worker/db/index.js";
import { MIGRATIONS } from "../../offchain/worker/db/migrations.js";
import { removeTempDirs, tempDir } from "./helpers.js";

const P1 = "0x1111111111111111111111111111111111111111";
const P2 = "0x2222222222222222222222222222222222222222";
const CLIENT = "0x3333333333333333333333333333333333333333";
const IDENTITY: DbIdentity = {
  chainId: 31337n,
  market: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  registry: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  retrievalChallenges: null,
};

let txCounter = 0;
function tx(): string {
  return "0x" + (++txCounter).toString(16).padStart(64, "0");
}

function hash(n: number, fork = 0): string {
  return "0x" + (n * 16 + fork).toString(16).padStart(64, "0");
}

function published(dataSetId: bigint, provider: string, blockNumber: number, logIndex: number): IndexedEvent {
  return {
    kind: "DataSetCreated",
    dataSetId,
    client: CLIENT,
    provider,
    pricePerTiBMonth: 2_500_000n,
    collateralPerTiB: 10_000_000n,
    noticePeriods: 7n,
    nonce: dataSetId + 1000n,
    blockNumber,
    logIndex,
    txHash: tx(),
  };
}

function updated(
  dataSetId: bigint,
  version: bigint,
  span: bigint,
  blockNumber: number,
  logIndex: number,
): IndexedEvent {
  return {
    kind: "DataSetUpdated",
    dataSetId,
    version,
    root: "0x" + (span === 0n ? "00" : "ab").repeat(32),
    span,
    effectivePeriod: 6n,
    blockNumber,
    logIndex,
    txHash: tx(),
  };
}

function batch(from: number, to: number, events: IndexedEvent[], fork = 0): IndexBatch {
  const numbers = new Set([to, ...events.map((e) => e.blockNumber)]);
  return { from, to, events, blocks: [...numbers].map((n) => ({ number: n, hash: hash(n, fork) })) };
}

function failure(fn: () => unknown): StrataError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StrataError) return error;
    throw error;
  }
  throw new Error("expected a StrataError");
}

describe("worker database", function () {
  let db: WorkerDb;

  beforeEach(function () {
    db = WorkerDb.open(":memory:", () => 1_000);
    db.bindIdentity(IDENTITY);
    db.initCursor(1);
  });

  afterEach(function () {
    db.close();
  });

  after(removeTempDirs);

  it("test_open_migrates: schema version, WAL, reopen keeps the data", async function () {
    const path = join(await tempDir(), "nested", "w.db");
    const first = WorkerDb.open(path);
    expect(first.schemaVersion()).to.equal(MIGRATIONS.length);
    first.bindIdentity(IDENTITY);
    first.initCursor(5);
    first.applyBatch(batch(5, 9, [published(1n, P1, 7, 0)]));
    first.close();
    const again = WorkerDb.open(path);
    expect(again.cursor()).to.equal(9);
    expect(again.openDataSets()).to.have.length(1);
    expect(String(again.handle.prepare("PRAGMA journal_mode").get()?.journal_mode)).to.equal("wal");
    again.close();
  });

  it("test_bindIdentity_mismatch: a database made for another chain or deployment is refused", function () {
    db.bindIdentity(IDENTITY);
    const bind = (identity: Partial<DbIdentity>) => () => {
      db.bindIdentity({ ...IDENTITY, ...identity });
    };
    expect(failure(bind({ chainId: 1n })).code).to.equal("WORKER_DB_MISMATCH");
    expect(failure(bind({ market: P1 })).code).to.equal("WORKER_DB_MISMATCH");
    expect(failure(bind({ retrievalChallenges: P2 })).code).to.equal("WORKER_DB_MISMATCH");
    bind({})(); // the same identity is accepted again
  });

  it("test_applyBatch_idempotent: re-applying the same events inserts nothing", function () {
    const events = [published(1n, P1, 3, 0), published(2n, P1, 3, 1)];
    expect(db.applyBatch(batch(1, 4, events))).to.equal(2);
    const before = db.dumpChainTables();
    db.setMeta("indexed_block", "0"); // as if the cursor had not moved
    expect(db.applyBatch(batch(1, 4, events))).to.equal(0);
    expect(db.dumpChainTables()).to.deep.equal(before);
    expect(db.cursor()).to.equal(4);
  });

  it("test_applyBatch_gap: a batch that does not follow the cursor is refused (WORKER_DB_ERROR)", function () {
    db.applyBatch(batch(1, 4, []));
    expect(failure(() => db.applyBatch(batch(6, 8, []))).code).to.equal("WORKER_DB_ERROR");
    expect(failure(() => db.applyBatch(batch(5, 4, []))).code).to.equal("WORKER_DB_ERROR");
    expect(db.cursor()).to.equal(4);
  });

  it("test_applyBatch_atomic: a failing event leaves no row and no cursor change", function () {
    const bad = published(2n ** 70n, P1, 3, 1); // does not fit SQLite's INTEGER
    expect(() => db.applyBatch(batch(1, 4, [published(1n, P1, 3, 0), bad]))).to.throw();
    expect(db.cursor()).to.equal(0);
    expect(db.counts().dataSets).to.equal(0);
    expect(db.blockHash(4)).to.equal(undefined);
  });

  it("test_rollbackTo: deletes chain rows above the ancestor (proof checks too), keeps worker records", function () {
    db.applyBatch(
      batch(1, 10, [
        published(1n, P1, 2, 0),
        {
          kind: "ProofSubmitted",
          provider: P1,
          period: 5n,
          nextSeedBlock: 9n,
          blockNumber: 4,
          logIndex: 0,
          txHash: tx(),
        },
        published(2n, P2, 8, 0),
        {
          kind: "ProofSubmitted",
          provider: P1,
          period: 6n,
          nextSeedBlock: 12n,
          blockNumber: 9,
          logIndex: 0,
          txHash: tx(),
        },
      ]),
    );
    const [early, late] = db.proofsSince(0);
    if (!early || !late) throw new Error("proofs not indexed");
    for (const proof of [early, late]) {
      db.putProofCheck({ ...proof, verdict: "ok", detail: null });
    }
    const action = db.claimAction("report-missed", P1, "6");
    db.insertAlert({ kind: "proof-mismatch", subject: P1, detail: "x" });
    db.insertSample({
      dataSetId: 2n,
      provider: P2,
      leafIndex: 0,
      ok: false,
      errorCode: "PROVIDER_TIMEOUT",
      latencyMs: 5,
    });

    const deleted = db.rollbackTo(5);
    expect(deleted).to.equal(3); // data set 2, the second proof and its check
    expect(db.cursor()).to.equal(5);
    expect(db.openDataSets().map((d) => d.dataSetId)).to.deep.equal([1n]);
    expect(db.proofsSince(0)).to.have.length(1);
    expect(db.proofCheck(early.txHash)?.verdict).to.equal("ok");
    expect(db.proofCheck(late.txHash)).to.equal(undefined);
    expect(db.blockHash(8)).to.equal(undefined);
    expect(db.blockHash(4)).to.equal(hash(4));
    expect(db.action("report-missed", P1, "6")?.id).to.equal(action.id);
    expect(db.alerts()).to.have.length(1);
    expect(db.recentSamples(2n)).to.have.length(1);
  });

  it("test_blocks_pruned: only the newest KEPT_BLOCK_HASHES hashes are kept", function () {
    const blocks = Array.from({ length: KEPT_BLOCK_HASHES + 50 }, (_, i) => ({
      number: i + 1,
      hash: hash(i + 1),
    }));
    db.applyBatch({ from: 1, to: blocks.length, events: [], blocks });
    const recent = db.recentBlocks(5000);
    expect(recent).to.have.length(KEPT_BLOCK_HASHES);
    expect(recent[0]?.number).to.equal(blocks.length);
    expect(db.blockHash(50)).to.equal(undefined);
    expect(db.blockHash(51)).to.equal(hash(51));
  });

  it("test_openDataSets: newest state, terminations and ends, filters, paging and replay events", function () {
    db.applyBatch(
      batch(1, 10, [
        published(1n, P1, 2, 0),
        published(2n, P1, 2, 1),
        published(3n, P2, 3, 0),
        updated(1n, 1n, 64n, 3, 1),
        updated(1n, 2n, 300n, 4, 0),
        updated(2n, 1n, 5n, 4, 1),
        {
          kind: "DataSetTerminated",
          dataSetId: 3n,
          by: CLIENT,
          reason: 1,
          endPeriod: 12n,
          blockNumber: 5,
          logIndex: 0,
          txHash: tx(),
        },
        updated(2n, 1n, 0n, 5, 1),
        {
          kind: "DataSetEnded",
          dataSetId: 2n,
          reason: 3,
          paidToProvider: 1n,
          refundedToClient: 2n,
          compensationToClient: 3n,
          collateralReleased: 4n,
          blockNumber: 6,
          logIndex: 0,
          txHash: tx(),
        },
      ]),
    );
    const open = db.openDataSets();
    expect(open.map((d) => d.dataSetId)).to.deep.equal([1n, 3n]);
    expect(open[0]).to.include({ version: 2n, span: 300n, terminated: null, ended: null });
    expect(open[1]?.terminated).to.deep.equal({ by: CLIENT, reason: 1, endPeriod: 12n });
    expect(db.liveDataSetIds()).to.deep.equal([1n]);
    expect(
      db.openDataSets({ provider: P2.toUpperCase().replace("0X", "0x") }).map((d) => d.dataSetId),
    ).to.deep.equal([3n]);
    expect(db.openDataSets({ afterId: 1n, limit: 1 }).map((d) => d.dataSetId)).to.deep.equal([3n]);
    expect(db.dataSetById(2n)).to.include({ version: 1n, span: 0n });
    expect(db.dataSetById(2n)?.ended?.reason).to.equal(3);
    expect(db.dataSetById(2n)?.ended?.collateralReleased).to.equal(4n);
    expect(db.providersWithOpenDataSets()).to.deep.equal([P1, P2]);
    const before = { blockNumber: 100, logIndex: 0 };
    expect(db.replayEvents(P1, { before }).map((e) => e.kind)).to.deep.equal([
      "DataSetCreated",
      "DataSetCreated",
      "DataSetUpdated",
      "DataSetUpdated",
      "DataSetUpdated",
      "DataSetUpdated",
    ]);
    expect(db.replayEvents(P1, { after: { blockNumber: 2, logIndex: 1 }, before })).to.have.length(4);
    expect(db.counts()).to.include({ dataSets: 3, openDataSets: 2 });
  });

  it("test_seedFor: the latest of a rescheduling, the previous proof and a missed-proof run", function () {
    db.applyBatch(
      batch(1, 20, [
        {
          kind: "ChallengeSeedScheduled",
          provider: P1,
          period: 5n,
          seedBlock: 3n,
          blockNumber: 2,
          logIndex: 0,
          txHash: tx(),
        },
        {
          kind: "ProofSubmitted",
          provider: P1,
          period: 5n,
          nextSeedBlock: 9n,
          blockNumber: 4,
          logIndex: 0,
          txHash: tx(),
        },
        {
          kind: "ChallengeSeedScheduled",
          provider: P1,
          period: 6n,
          seedBlock: 11n,
          blockNumber: 10,
          logIndex: 0,
          txHash: tx(),
        },
        {
          kind: "MissedProofsReported",
          provider: P1,
          fromPeriod: 6n,
          count: 2n,
          reporter: P2,
          bounty: 7n,
          nextSeedBlock: 15n,
          blockNumber: 14,
          logIndex: 0,
          txHash: tx(),
        },
      ]),
    );
    expect(db.seedFor(P1, 5n)).to.include({ seedBlock: 3, source: "scheduled" });
    expect(db.seedFor(P1, 6n)).to.include({ seedBlock: 11, source: "scheduled" });
    expect(db.seedFor(P1, 6n, { blockNumber: 10, logIndex: 0 })).to.include({
      seedBlock: 9,
      source: "proof",
    });
    expect(db.seedFor(P1, 8n)).to.include({ seedBlock: 15, source: "missed-report" });
    expect(db.seedFor(P2, 5n)).to.equal(undefined);
    expect(db.missedReports(P1)).to.have.length(1);
    expect(db.missedReports(P1)[0]).to.include({ count: 2n, bounty: 7n, reporter: P2 });
    expect(db.providersWithMissedReports()).to.deep.equal([P1]);
  });

  it("test_uncheckedProofs: proofs without a check, oldest first", function () {
    db.applyBatch(
      batch(1, 9, [
        {
          kind: "ProofSubmitted",
          provider: P1,
          period: 5n,
          nextSeedBlock: 9n,
          blockNumber: 4,
          logIndex: 0,
          txHash: tx(),
        },
        {
          kind: "ProofSubmitted",
          provider: P2,
          period: 5n,
          nextSeedBlock: 9n,
          blockNumber: 5,
          logIndex: 0,
          txHash: tx(),
        },
      ]),
    );
    const [first, second] = db.uncheckedProofs();
    if (!first || !second) throw new Error("missing proofs");
    expect(first.provider).to.equal(P1);
    db.putProofCheck({ ...first, verdict: "mismatch", detail: "leaf" });
    db.putProofCheck({ ...first, verdict: "mismatch", detail: "leaf again" }); // replaces, never duplicates
    expect(db.uncheckedProofs().map((p) => p.provider)).to.deep.equal([P2]);
    expect(db.proofChecks({ verdict: "mismatch" })).to.have.length(1);
    expect(db.counts()).to.include({ proofs: 2, uncheckedProofs: 1, proofMismatches: 1 });
    expect(db.proofFor(P2, 5n)?.txHash).to.equal(second.txHash);
  });

  it("test_providers_and_challenges: latest registry state, open challenges", function () {
    db.applyBatch(
      batch(1, 12, [
        {
          kind: "ProviderRegistered",
          provider: P1,
          payee: P1,
          endpoint: "http://a",
          blockNumber: 2,
          logIndex: 0,
          txHash: tx(),
        },
        {
          kind: "ProviderUpdated",
          provider: P1,
          payee: P2,
          endpoint: "http://b",
          blockNumber: 3,
          logIndex: 0,
          txHash: tx(),
        },
        {
          kind: "ProviderRegistered",
          provider: P2,
          payee: P2,
          endpoint: "http://c",
          blockNumber: 3,
          logIndex: 1,
          txHash: tx(),
        },
        { kind: "ProviderDeregistered", provider: P2, blockNumber: 4, logIndex: 0, txHash: tx() },
        {
          kind: "RetrievalChallengeOpened",
          challengeId: 1n,
          dataSetId: 7n,
          provider: P1,
          challenger: P2,
          leafIndex: 3n,
          deadline: 1000n,
          bond: 5n,
          blockNumber: 5,
          logIndex: 0,
          txHash: tx(),
        },
        {
          kind: "RetrievalChallengeOpened",
          challengeId: 2n,
          dataSetId: 8n,
          provider: P1,
          challenger: P2,
          leafIndex: 0n,
          deadline: 1000n,
          bond: 5n,
          blockNumber: 6,
          logIndex: 0,
          txHash: tx(),
        },
        {
          kind: "RetrievalChallengeFailed",
          challengeId: 2n,
          dataSetId: 8n,
          provider: P1,
          enforcer: P2,
          blockNumber: 9,
          logIndex: 0,
          txHash: tx(),
        },
        {
          kind: "ParametersSet",
          contract: "market",
          params: { challengeCount: 4n, maxFaults: 3n },
          blockNumber: 1,
          logIndex: 0,
          txHash: tx(),
        },
      ]),
    );
    expect(db.providerEndpoint(P1)).to.equal("http://b");
    expect(db.providerRecord(P1)?.payee).to.equal(P2);
    expect(db.providerEndpoint(P2)).to.equal(null);
    expect(db.providerRecord(P2)?.kind).to.equal("deregistered");
    expect(db.openChallenges().map((c) => c.challengeId)).to.deep.equal([1n]);
    expect(db.openChallenges({ dataSetId: 8n })).to.have.length(0);
    expect(db.challengeById(2n)).to.include({ status: "failed", enforcer: P2, resolvedBlock: 9 });
    expect(db.parametersAt(5)).to.deep.equal({ challengeCount: 4n, maxFaults: 3n });
    expect(db.parametersAt(0)).to.equal(undefined);
    expect(db.counts().openChallenges).to.equal(1);
  });

  it("test_claimAction: decide once; updates keep the row", function () {
    const first = db.claimAction("report-missed", P1, "7");
    expect(first.status).to.equal("pending");
    const again = db.claimAction("report-missed", P1, "7");
    expect(again.id).to.equal(first.id);
    const sent = db.updateAction(first.id, { status: "sent", txHash: "0xabc", nonce: 4 });
    expect(sent).to.include({ status: "sent", txHash: "0xabc", nonce: 4 });
    const done = db.updateAction(first.id, { status: "confirmed", gasUsed: 60_000n, reward: 5n });
    expect(done).to.include({ status: "confirmed", txHash: "0xabc", gasUsed: 60_000n, reward: 5n });
    expect(db.claimAction("report-missed", P1, "7").status).to.equal("confirmed");
    expect(db.claimAction("report-missed", P1, "8").id).to.not.equal(first.id);
    expect(db.actions({ statuses: ["pending"] })).to.have.length(1);
    expect(db.actions({ kind: "report-missed", subject: P1 })).to.have.length(2);
    expect(() =>
      db.handle
        .prepare(
          "INSERT INTO actions (kind, subject, key, status, created_at, updated_at) VALUES ('report-missed', ?, '7', 'pending', 0, 0)",
        )
        .run(P1),
    ).to.throw();
  });

  it("test_samples_pruned: only the newest KEPT_SAMPLES_PER_DATA_SET per data set", function () {
    for (let i = 0; i < KEPT_SAMPLES_PER_DATA_SET + 20; i++) {
      db.insertSample({
        dataSetId: 1n,
        provider: P1,
        leafIndex: i,
        ok: i % 2 === 0,
        errorCode: null,
        latencyMs: 3,
      });
    }
    db.insertSample({ dataSetId: 2n, provider: P1, leafIndex: 0, ok: true, errorCode: null, latencyMs: 3 });
    const kept = db.recentSamples(1n, 1000);
    expect(kept).to.have.length(KEPT_SAMPLES_PER_DATA_SET);
    expect(kept[0]?.leafIndex).to.equal(KEPT_SAMPLES_PER_DATA_SET + 19);
    expect(db.recentSamples(2n)).to.have.length(1);
  });
});
