import { expect } from "chai";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { AgentDb } from "../../offchain/agent/db.js";
import { MIGRATIONS } from "../../offchain/agent/db/migrations.js";
import type { SizedPlacedPiece } from "../../offchain/sdk/api/datasets.js";
import type { CreateDataSet } from "../../offchain/sdk/datasets/eip712.js";
import { removeTempDirs, tempDataDir } from "./helpers.js";

const CLIENT = "0x1000000000000000000000000000000000000001";
const PROVIDER = "0x2000000000000000000000000000000000000002";
const piece = (byte: string, offset: number): SizedPlacedPiece => ({
  root: `0x${byte.repeat(32)}`,
  size: 4096,
  offset,
  height: 6,
});
const [A, B, C] = [piece("11", 0), piece("22", 64), piece("33", 128)];

const terms = (nonce: bigint): CreateDataSet => ({
  client: CLIENT,
  provider: PROVIDER,
  pricePerTiBMonth: (1n << 127n) + 3n,
  collateralPerTiB: 100_000_000n,
  noticePeriods: 24n,
  nonce,
  deadline: 1_900_000_000n,
});

/** A state record of data set 7 at `version` holding `layout` (root and span are not checked by the store). */
const state = (version: bigint, layout: SizedPlacedPiece[]) => ({
  state: {
    dataSetId: 7n,
    version,
    root: `0x${version.toString(16).padStart(64, "0")}`,
    span: BigInt(layout.length * 64),
  },
  signer: CLIENT,
  signature: "0xab",
  layout,
});

describe("agent database", function () {
  after(removeTempDirs);

  it("keeps data sets, every signed state (newest wins), pieces, proofs and kv across close and reopen", async function () {
    const path = join(await tempDataDir(), "agent.db");
    let now = 1000;
    const db = AgentDb.open(path, () => now);
    db.dataSets.insertDataSet({
      id: 7n,
      client: CLIENT,
      nonce: 1n,
      terms: terms(1n),
      signature: "0xcd",
      txHash: "0xfeed",
    });
    db.dataSets.insertDataSet({
      id: 7n,
      client: CLIENT,
      nonce: 2n,
      terms: terms(2n),
      signature: "0xef",
      txHash: "0xbad",
    }); // ignored
    db.dataSets.putState(state(1n, [A]));
    db.dataSets.putState(state(2n, [A, B]));
    now = 2000;
    db.putPiece({
      root: A.root,
      size: 4096n,
      path: "/pieces/a.piece",
      verifiedAt: 2000,
      ok: true,
      problem: null,
    });
    db.putProof({ period: 5n, txHash: "0xbeef", status: "confirmed", declared: [7n], error: null });
    db.setKv("settler.period", "6");
    db.close();

    const reopened = AgentDb.open(path, () => now);
    const record = reopened.dataSets.dataSet(7n);
    expect(record).to.deep.include({
      client: CLIENT.toLowerCase(),
      nonce: 1n,
      txHash: "0xfeed",
      status: "live",
    });
    expect(record?.terms).to.deep.equal(terms(1n));
    expect(reopened.dataSets.byClientNonce(CLIENT.toUpperCase().replace("0X", "0x"), 1n)?.id).to.equal(7n);
    expect(reopened.dataSets.state(7n, 1n)?.status).to.equal("superseded");
    const newest = reopened.dataSets.newestState(7n);
    expect(newest).to.deep.include({ status: "queued", signature: "0xab" });
    expect(newest?.layout).to.deep.equal([A, B]);
    expect(reopened.dataSets.queuedStates(10).map((s) => s.state.version)).to.deep.equal([2n]);
    expect(reopened.piece(A.root)).to.deep.include({
      size: 4096n,
      ok: true,
      problem: null,
      verifiedAt: 2000,
    });
    expect(reopened.lastConfirmedProof()).to.deep.include({ period: 5n, txHash: "0xbeef", declared: [7n] });
    expect(reopened.getKv("settler.period")).to.equal("6");
    expect(reopened.counts()).to.deep.equal({ pieces: 1, bytesStored: 4096n });
    expect(reopened.dataSets.counts()).to.deep.equal({ live: 1, ending: 0, pendingStates: 1 });
    reopened.close();

    const raw = new DatabaseSync(path);
    expect(raw.prepare("PRAGMA journal_mode").get()).to.deep.equal({ journal_mode: "wal" });
    expect(raw.prepare("PRAGMA user_version").get()).to.deep.equal({ user_version: MIGRATIONS.length });
    raw.close();
  });

  it("answers the layout frozen for a period and keeps a removed piece needed until its removal is frozen", async function () {
    const db = AgentDb.open(join(await tempDataDir(), "agent.db"));
    const store = db.dataSets;
    store.insertDataSet({
      id: 7n,
      client: CLIENT,
      nonce: 1n,
      terms: terms(1n),
      signature: "0xcd",
      txHash: "0xfeed",
    });
    store.putState(state(1n, [A, B]));
    store.setStateStatus(7n, 1n, "applied", { effectivePeriod: 4n });
    store.putState(state(2n, [A, C])); // B removed, C added
    store.setStateStatus(7n, 2n, "submitted", { txHash: "0x01" });
    expect(store.submittedStates().map((s) => s.txHash)).to.deep.equal(["0x01"]);
    store.setStateStatus(7n, 2n, "applied", { effectivePeriod: 9n });

    expect(store.frozenState(7n, 3n)).to.equal(undefined);
    expect(store.frozenState(7n, 4n)?.state.version).to.equal(1n);
    expect(store.frozenState(7n, 8n)?.state.version).to.equal(1n);
    expect(store.frozenState(7n, 9n)?.state.version).to.equal(2n);
    expect([...store.neededRoots(8n)].sort()).to.deep.equal([A.root, B.root, C.root]);
    expect([...store.neededRoots(9n)].sort()).to.deep.equal([A.root, C.root]);
    store.setStatus(7n, "finalized");
    expect(store.neededRoots(9n).size).to.equal(0);
    db.close();
  });

  it("rolls back a failed transaction as a whole", async function () {
    const db = AgentDb.open(join(await tempDataDir(), "agent.db"));
    db.dataSets.insertDataSet({
      id: 7n,
      client: CLIENT,
      nonce: 1n,
      terms: terms(1n),
      signature: "0xcd",
      txHash: "0xfeed",
    });
    expect(() => {
      db.tx(() => {
        db.dataSets.putState(state(1n, [A]));
        db.dataSets.putState(state(1n, [A])); // same version: primary key
      });
    }).to.throw();
    expect(db.dataSets.newestState(7n)).to.equal(undefined);
    db.close();
  });
});
