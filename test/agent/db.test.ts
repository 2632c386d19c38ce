import { expect } from "chai";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { AgentDb } from "../../offchain/agent/db.js";
import { MIGRATIONS } from "../../offchain/agent/db/migrations.js";
import type { DealProposal, DealTerms } from "../../offchain/sdk/deals/terms.js";
import { removeTempDirs, tempDataDir } from "./helpers.js";

const CLIENT = "0x1000000000000000000000000000000000000001";
const PROVIDER = "0x2000000000000000000000000000000000000002";
const ROOT = `0x${"11".repeat(32)}`;

const proposal = (nonce: bigint): DealProposal => ({
  client: CLIENT,
  provider: PROVIDER,
  root: ROOT,
  size: 4096n,
  duration: 7200n,
  pricePerSecond: 10n,
  collateral: (1n << 100n) + 7n,
  startDeadline: 1_900_000_000n,
  nonce,
});

const terms: DealTerms = {
  id: 12_345_678_901_234n,
  client: CLIENT,
  provider: PROVIDER,
  root: ROOT,
  size: 4096n,
  startPeriod: 5n,
  endPeriod: 7n,
  pricePerSecond: 10n,
  collateral: (1n << 100n) + 7n,
};

describe("agent database", function () {
  after(removeTempDirs);

  it("keeps uploads, deals, pieces, proofs and kv across close and reopen", async function () {
    const path = join(await tempDataDir(), "agent.db");
    let now = 1000;
    const db = AgentDb.open(path, () => now);
    expect(
      db.insertUpload({
        id: "u1",
        client: CLIENT,
        nonce: 1n,
        proposal: proposal(1n),
        signature: "0xab",
        size: 4096n,
        root: ROOT,
        createdBlock: 42,
      }),
    ).to.equal(true);
    expect(
      db.insertUpload({
        id: "u2",
        client: CLIENT.toUpperCase().replace("0X", "0x"),
        nonce: 1n,
        proposal: proposal(1n),
        signature: "0xcd",
        size: 4096n,
        root: ROOT,
        createdBlock: 43,
      }),
    ).to.equal(false);
    now = 2000;
    db.acceptUpload("u1", { root: ROOT, size: 4096n, path: "/pieces/x.piece" });
    db.setUploadState("u1", "publishing", { txHash: "0xfeed", attempt: true });
    db.recordPublished("u1", terms, "0xfeed");
    db.setDealSettled(terms.id, 6n);
    db.putProof({ period: 5n, txHash: "0xbeef", status: "confirmed", declared: [terms.id], error: null });
    db.setKv("dealSyncPeriod", "6");
    db.close();

    const reopened = AgentDb.open(path, () => now);
    const upload = reopened.upload("u1");
    expect(upload).to.deep.include({
      state: "published",
      dealId: terms.id,
      txHash: "0xfeed",
      attempts: 1,
      createdBlock: 42,
    });
    expect(upload?.proposal).to.deep.equal(proposal(1n));
    expect(reopened.uploadByClientNonce(CLIENT, 1n)?.id).to.equal("u1");
    const deal = reopened.deal(terms.id);
    expect(deal?.terms).to.deep.equal(terms);
    expect(deal).to.deep.include({ state: "active", uploadId: "u1", lastSettledAt: 6n });
    expect(reopened.piece(ROOT)).to.deep.include({ size: 4096n, ok: true, problem: null, verifiedAt: 2000 });
    expect(reopened.lastConfirmedProof()).to.deep.include({
      period: 5n,
      txHash: "0xbeef",
      declared: [terms.id],
    });
    expect(reopened.getKv("dealSyncPeriod")).to.equal("6");
    expect(reopened.counts()).to.deep.equal({
      activeDeals: 1,
      publishedDeals: 1,
      pendingUploads: 0,
      pieces: 1,
      bytesStored: 4096n,
    });
    expect(reopened.pieceNeeded(ROOT)).to.equal(true);
    reopened.endDeal(terms.id, "Expired");
    expect(reopened.pieceNeeded(ROOT)).to.equal(false);
    reopened.close();

    const raw = new DatabaseSync(path);
    expect(raw.prepare("PRAGMA journal_mode").get()).to.deep.equal({ journal_mode: "wal" });
    expect(raw.prepare("PRAGMA user_version").get()).to.deep.equal({ user_version: MIGRATIONS.length });
    raw.close();
  });

  it("rolls back a failed transaction as a whole", async function () {
    const db = AgentDb.open(join(await tempDataDir(), "agent.db"));
    db.insertUpload({
      id: "u1",
      client: CLIENT,
      nonce: 9n,
      proposal: proposal(9n),
      signature: "0xab",
      size: 4096n,
      root: ROOT,
      createdBlock: 1,
    });
    expect(() => {
      db.tx(() => {
        db.setUploadState("u1", "accepted");
        db.setUploadState("missing", "accepted");
      });
    }).to.throw();
    expect(db.upload("u1")?.state).to.equal("awaiting-data");
    db.close();
  });
});
