import { expect } from "chai";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { carryAction } from "../../offchain/worker/duties/actions.js";
import {
  missedProofsDuty,
  REPORT_MISSED,
  reportPlan,
  runMissedProofs,
} from "../../offchain/worker/duties/missedProofs.js";
import type { Worker } from "../../offchain/worker/worker.js";
import {
  defaultParameters,
  deployStorage,
  fundClient,
  registerProvider,
  type StorageFixture,
} from "../helpers/fixture.js";
import { openDataSet } from "./dataSets.helpers.js";
import { counterValue, dutyWorker, missPeriods, nonceOf } from "./duties.helpers.js";
import { removeTempDirs } from "./helpers.js";

// The reporter's share of one missed period's penalty (the default penalty divides exactly).
const BOUNTY =
  ((defaultParameters().missedProofPenalty as bigint) * (defaultParameters().reporterShareBps as bigint)) /
  10_000n;

describe("worker duty: missed proofs", function () {
  let f: StorageFixture;
  let provider: string;
  const workers: Worker[] = [];

  const worker = async (...args: Parameters<typeof dutyWorker>) => {
    const w = await dutyWorker(...args);
    workers.push(w);
    return w;
  };

  beforeEach(async function () {
    f = await deployStorage();
    provider = f.provider.address;
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    await openDataSet(f);
  });

  afterEach(async function () {
    for (const w of workers.splice(0)) await w.stop();
  });

  after(removeTempDirs);

  it("reports a missed period once, records the bounty, and does nothing on the next tick", async function () {
    const period = await missPeriods(f, provider, 2n);
    const w = await worker(f, { signer: f.watcher, duties: [missedProofsDuty] });
    const first = await w.tick();
    expect(first.duties.missedProofs).to.deep.include({ behind: 1, reported: 1, lostRace: 0 });

    const action = w.context.db.action(REPORT_MISSED, provider, period.toString());
    expect(action?.status).to.equal("confirmed");
    expect(action?.reward).to.equal(2n * BOUNTY);
    expect(action?.txHash).to.be.a("string");
    expect(await f.market.balanceOf(f.watcher.address)).to.equal(2n * BOUNTY);
    expect((await f.market.proofState(provider)).nextPeriod).to.equal(period + 2n);
    const { metrics } = w.context;
    expect(await counterValue(metrics.reportsSent)).to.equal(1);
    expect(await counterValue(metrics.reportsWon)).to.equal(1);
    expect(await counterValue(metrics.bountyEarned)).to.equal(Number(2n * BOUNTY));

    const nonce = await nonceOf(f, f.watcher.address);
    const second = await w.tick();
    expect(second.duties.missedProofs).to.deep.include({ behind: 0, reported: 0 });
    expect(await nonceOf(f, f.watcher.address)).to.equal(nonce);
    expect(w.context.db.actions({ kind: REPORT_MISSED })).to.have.length(1);
  });

  it("a second worker that decided on the same state records lost-race and sends nothing", async function () {
    const period = await missPeriods(f, provider);
    const a = await worker(f, { signer: f.watcher, duties: [missedProofsDuty] });
    const b = await worker(f, { signer: f.client2, duties: [] });
    await b.tick(); // b's index: the provider is behind
    b.context.db.claimAction(REPORT_MISSED, provider, period.toString()); // b decided, then a was faster
    await a.tick();
    expect(a.context.db.action(REPORT_MISSED, provider, period.toString())?.status).to.equal("confirmed");

    const nonce = await nonceOf(f, f.client2.address);
    const result = await runMissedProofs(b.context); // b has not indexed a's report
    expect(result).to.deep.include({ reported: 0, lostRace: 1 });
    expect(b.context.db.action(REPORT_MISSED, provider, period.toString())?.status).to.equal("lost-race");
    expect(await nonceOf(f, f.client2.address)).to.equal(nonce);
    expect(await counterValue(b.context.metrics.reportsLost)).to.equal(1);
    expect(await counterValue(b.context.metrics.reportsSent)).to.equal(0);
  });

  it("maps the market's MarketNoMissedPeriods revert to lost-race without sending", async function () {
    const period = await missPeriods(f, provider);
    const b = await worker(f, { signer: f.client2, duties: [] });
    await b.tick();
    const action = b.context.db.claimAction(REPORT_MISSED, provider, period.toString());
    await f.market.connect(f.watcher).reportMissedProofs(provider); // another watcher lands first
    const nonce = await nonceOf(f, f.client2.address);
    // Skip the re-read of the proving state: the simulation alone must catch the race.
    const plan = { ...reportPlan(b.context, action), recheck: () => Promise.resolve(undefined) };
    const outcome = await carryAction(b.context, action, plan, silentLogger());
    expect(outcome).to.deep.equal({ status: "lost-race", reason: "MarketNoMissedPeriods" });
    expect(await nonceOf(f, f.client2.address)).to.equal(nonce);
  });

  it("after a kill between claiming and sending, re-checks the chain and sends exactly once", async function () {
    const period = await missPeriods(f, provider);
    const first = await worker(f, { signer: f.watcher, duties: [] });
    await first.tick();
    first.context.db.claimAction(REPORT_MISSED, provider, period.toString());
    const dbPath = first.context.config.dbPath;
    await first.stop(); // killed before sending

    const restarted = await worker(f, { signer: f.watcher, duties: [missedProofsDuty], dbPath });
    const nonce = await nonceOf(f, f.watcher.address);
    const result = (await restarted.tick()).duties.missedProofs;
    expect(result).to.deep.include({ reported: 1 });
    expect(await nonceOf(f, f.watcher.address)).to.equal(nonce + 1);
    await restarted.tick();
    expect(await nonceOf(f, f.watcher.address)).to.equal(nonce + 1);
    expect(restarted.context.db.action(REPORT_MISSED, provider, period.toString())?.status).to.equal(
      "confirmed",
    );
  });

  it("after a kill between sending and recording the hash, finds its own report instead of sending again", async function () {
    const period = await missPeriods(f, provider);
    const first = await worker(f, { signer: f.watcher, duties: [] });
    await first.tick();
    first.context.db.claimAction(REPORT_MISSED, provider, period.toString());
    const dbPath = first.context.config.dbPath;
    await first.stop();
    // The transaction left before the process died; its hash never reached the database.
    await f.market.connect(f.watcher).reportMissedProofs(provider);

    const restarted = await worker(f, { signer: f.watcher, duties: [missedProofsDuty], dbPath });
    const nonce = await nonceOf(f, f.watcher.address);
    await restarted.tick();
    expect(await nonceOf(f, f.watcher.address)).to.equal(nonce);
    const action = restarted.context.db.action(REPORT_MISSED, provider, period.toString());
    expect(action?.status).to.equal("confirmed");
    expect(action?.reward).to.equal(BOUNTY);
  });

  it("resolves a sent action by its receipt after a restart", async function () {
    const period = await missPeriods(f, provider);
    const first = await worker(f, { signer: f.watcher, duties: [] });
    await first.tick();
    const action = first.context.db.claimAction(REPORT_MISSED, provider, period.toString());
    const tx = await f.market.connect(f.watcher).reportMissedProofs(provider);
    first.context.db.updateAction(action.id, { status: "sent", txHash: tx.hash, nonce: tx.nonce });
    const dbPath = first.context.config.dbPath;
    await first.stop();

    const restarted = await worker(f, { signer: f.watcher, duties: [missedProofsDuty], dbPath });
    const nonce = await nonceOf(f, f.watcher.address);
    await restarted.tick();
    expect(await nonceOf(f, f.watcher.address)).to.equal(nonce);
    const resolved = restarted.context.db.action(REPORT_MISSED, provider, period.toString());
    expect(resolved).to.deep.include({ status: "confirmed", txHash: tx.hash, reward: BOUNTY });
  });

  it("a read-only worker only logs what it would report", async function () {
    await missPeriods(f, provider);
    const w = await worker(f, { duties: [missedProofsDuty] });
    const result = (await w.tick()).duties.missedProofs;
    expect(result).to.deep.include({ behind: 1, reported: 0 });
    expect(w.context.db.actions()).to.deep.equal([]);
    expect((await f.market.proofState(provider)).missedPeriods).to.equal(0n);
  });

  it("with reporting disabled, decides nothing", async function () {
    await missPeriods(f, provider);
    const w = await worker(f, {
      signer: f.watcher,
      duties: [missedProofsDuty],
      overrides: { reporting: { enabled: false } },
    });
    await w.tick();
    expect(w.context.db.actions()).to.deep.equal([]);
  });

  it("waits while the gas price is above the configured limit", async function () {
    const period = await missPeriods(f, provider);
    const w = await worker(f, {
      signer: f.watcher,
      duties: [missedProofsDuty],
      overrides: { reporting: { enabled: true, maxGasPriceGwei: 1e-9 } },
    });
    const result = (await w.tick()).duties.missedProofs;
    expect(result).to.deep.include({ reported: 0, waiting: 1 });
    expect(w.context.db.action(REPORT_MISSED, provider, period.toString())?.status).to.equal("pending");
  });
});
