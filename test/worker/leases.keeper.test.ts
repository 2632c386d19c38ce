import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { carryAction } from "../../offchain/worker/duties/actions.js";
import { defaultDuties } from "../../offchain/worker/duties/index.js";
import {
  CLOSE_LEASE,
  closePlan,
  leaseKeeperDuty,
  REPORT_MISSED_HEARTBEATS,
  reportPlan,
  runLeaseKeeper,
} from "../../offchain/worker/duties/leaseKeeper.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import type { Worker } from "../../offchain/worker/worker.js";
import {
  CLOSE_BOUNTY,
  CloseReason,
  HEARTBEAT,
  heartbeatThrough,
  mined,
  MISSED_PENALTY,
  reportSplit,
  PRICE,
  startLease,
} from "../compute/helpers.js";
import type { StorageFixture } from "../helpers/fixture.js";
import { counterValue, nonceOf } from "./duties.helpers.js";
import { removeTempDirs, workerConfig } from "./helpers.js";
import { fullDeployment, leaseFixture, leaseWorker, timeTo } from "./leases.helpers.js";

/** A lease whose escrow pays 100 seconds, heartbeated through period 2: overdrawn from start + 100. */
async function overdrawnLease(f: StorageFixture): Promise<{ leaseId: bigint; startedAt: bigint }> {
  const lease = await startLease(f, { order: { deposit: CLOSE_BOUNTY + PRICE * 100n } });
  await heartbeatThrough(f, lease.leaseId, 2n);
  return lease;
}

/** The reporter's share of the penalty of `periods` missed heartbeat periods. */
function shareOf(periods: bigint): bigint {
  return reportSplit(periods * MISSED_PENALTY).toReporter;
}

describe("worker duty: lease keeper", function () {
  let f: StorageFixture;
  const workers: Worker[] = [];

  const worker = async (...args: Parameters<typeof leaseWorker>) => {
    const w = await leaseWorker(...args);
    workers.push(w);
    return w;
  };

  beforeEach(async function () {
    f = await leaseFixture();
  });

  afterEach(async function () {
    for (const w of workers.splice(0)) await w.stop();
  });

  after(removeTempDirs);

  describe("missed heartbeats", function () {
    it("reports a provider that stopped heart-beating once, records the bounty, and sends nothing next tick", async function () {
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatThrough(f, leaseId, 0n);
      await timeTo(f, startedAt + 3n * HEARTBEAT); // periods 1 and 2 closed without a heartbeat
      const w = await worker(f, { signer: f.watcher, duties: [leaseKeeperDuty()] });

      const first = await w.tick();
      expect(first.duties.leaseKeeper).to.deep.include({ tracked: 1, missed: 1, reported: 1, lostRace: 0 });
      const action = w.context.db.action(REPORT_MISSED_HEARTBEATS, leaseId.toString(), "1");
      expect(action?.status).to.equal("confirmed");
      expect(action?.reward).to.equal(shareOf(2n));
      expect(action?.txHash).to.be.a("string");
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(shareOf(2n));
      const lease = await f.compute.getLease(leaseId);
      expect(lease.nextPeriod).to.equal(3n);
      expect(lease.missedHeartbeats).to.equal(2n);
      const { metrics } = w.context;
      expect(await counterValue(metrics.leaseReports)).to.equal(1);
      expect(await counterValue(metrics.bountyEarned)).to.equal(Number(shareOf(2n)));
      expect(await counterValue(metrics.leasesClosed, { reason: "MissedHeartbeats" })).to.equal(0);
      expect((await metrics.leasesTracked.get()).values[0]?.value).to.equal(1);

      const nonce = await nonceOf(f, f.watcher.address);
      const second = await w.tick();
      expect(second.duties.leaseKeeper).to.deep.include({ candidates: 0, reported: 0 });
      expect(await nonceOf(f, f.watcher.address)).to.equal(nonce);
      expect(w.context.db.actions({ kind: REPORT_MISSED_HEARTBEATS })).to.have.length(1);
    });

    it("reports again, once per heartbeat period, when its report's transaction reverted", async function () {
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatThrough(f, leaseId, 0n);
      await timeTo(f, startedAt + 2n * HEARTBEAT); // period 1 closed without a heartbeat
      const w = await worker(f, { signer: f.watcher, duties: [leaseKeeperDuty()] });
      // As if its first report had landed in a later block than it was estimated for and run out of gas.
      const reverted = w.context.db.claimAction(REPORT_MISSED_HEARTBEATS, leaseId.toString(), "1");
      w.context.db.updateAction(reverted.id, {
        status: "reverted",
        error: "the transaction reverted on chain",
      });

      const result = (await w.tick()).duties.leaseKeeper;
      expect(result).to.deep.include({ reported: 1 });
      const retry = w.context.db.action(REPORT_MISSED_HEARTBEATS, leaseId.toString(), "1@2");
      expect(retry?.status).to.equal("confirmed");
      expect(retry?.reward).to.equal(shareOf(1n));
      expect((await f.compute.getLease(leaseId)).nextPeriod).to.equal(2n);
      expect(w.context.db.action(REPORT_MISSED_HEARTBEATS, leaseId.toString(), "1")?.status).to.equal(
        "reverted",
      );
    });

    it("the report that reaches maxMissedHeartbeats closes the lease for MissedHeartbeats", async function () {
      const { leaseId, startedAt } = await startLease(f);
      await timeTo(f, startedAt + 3n * HEARTBEAT); // periods 0, 1 and 2 missed: the limit (3)
      const w = await worker(f, { signer: f.watcher, duties: [leaseKeeperDuty()] });
      const result = (await w.tick()).duties.leaseKeeper;
      expect(result).to.deep.include({ reported: 1, closed: 0 });
      expect((await f.compute.getLease(leaseId)).provider).to.equal(ZeroAddress);
      expect(await counterValue(w.context.metrics.leasesClosed, { reason: "MissedHeartbeats" })).to.equal(1);
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(shareOf(2n) + shareOf(1n));
      await w.tick();
      expect(w.context.db.leaseById(leaseId)?.closed).to.deep.include({
        reason: Number(CloseReason.MissedHeartbeats),
        closer: f.watcher.address,
      });
      expect(w.context.db.openLeaseCount()).to.equal(0);
    });

    it("a second worker that decided on the same state records lost-race and sends nothing", async function () {
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatThrough(f, leaseId, 0n);
      await timeTo(f, startedAt + 2n * HEARTBEAT);
      const a = await worker(f, { signer: f.watcher, duties: [leaseKeeperDuty()] });
      const b = await worker(f, { signer: f.client2, duties: [] });
      await b.tick(); // b's index: period 1 is unresolved
      b.context.db.claimAction(REPORT_MISSED_HEARTBEATS, leaseId.toString(), "1"); // b decided; a was faster
      await a.tick();
      expect(a.context.db.action(REPORT_MISSED_HEARTBEATS, leaseId.toString(), "1")?.status).to.equal(
        "confirmed",
      );

      const nonce = await nonceOf(f, f.client2.address);
      const result = await runLeaseKeeper(b.context); // b has not indexed a's report
      expect(result).to.deep.include({ reported: 0, lostRace: 1 });
      expect(b.context.db.action(REPORT_MISSED_HEARTBEATS, leaseId.toString(), "1")?.status).to.equal(
        "lost-race",
      );
      expect(await nonceOf(f, f.client2.address)).to.equal(nonce);
      expect(
        await counterValue(b.context.metrics.leaseRacesLost, { action: REPORT_MISSED_HEARTBEATS }),
      ).to.equal(1);
      expect(await counterValue(b.context.metrics.leaseReports)).to.equal(0);
    });

    it("maps the market's ComputeNoMissedHeartbeats revert to lost-race without sending", async function () {
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatThrough(f, leaseId, 0n);
      await timeTo(f, startedAt + 2n * HEARTBEAT);
      const b = await worker(f, { signer: f.client2, duties: [] });
      await b.tick();
      const action = b.context.db.claimAction(REPORT_MISSED_HEARTBEATS, leaseId.toString(), "1");
      await mined(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId)); // another watcher lands first
      const nonce = await nonceOf(f, f.client2.address);
      // Skip the re-read of the lease: the simulation alone must catch the race.
      const plan = { ...reportPlan(b.context, action), recheck: () => Promise.resolve(undefined) };
      const outcome = await carryAction(b.context, action, plan, silentLogger());
      expect(outcome).to.deep.equal({ status: "lost-race", reason: "ComputeNoMissedHeartbeats" });
      expect(await nonceOf(f, f.client2.address)).to.equal(nonce);
    });

    it("after a kill between sending and recording the hash, finds its own report above the index", async function () {
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatThrough(f, leaseId, 0n);
      await timeTo(f, startedAt + 2n * HEARTBEAT);
      // One confirmation: the block holding the report stays above the index when the worker restarts.
      const overrides = { confirmations: 1 };
      const first = await worker(f, { signer: f.watcher, duties: [], overrides });
      await first.tick();
      first.context.db.claimAction(REPORT_MISSED_HEARTBEATS, leaseId.toString(), "1");
      const dbPath = first.context.config.dbPath;
      await first.stop();
      // The transaction left before the process died; its hash never reached the database.
      await mined(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId));

      const restarted = await worker(f, {
        signer: f.watcher,
        duties: [leaseKeeperDuty()],
        dbPath,
        overrides,
      });
      const nonce = await nonceOf(f, f.watcher.address);
      const result = (await restarted.tick()).duties.leaseKeeper;
      expect(result).to.deep.include({ reported: 1, lostRace: 0 });
      expect(await nonceOf(f, f.watcher.address)).to.equal(nonce);
      const action = restarted.context.db.action(REPORT_MISSED_HEARTBEATS, leaseId.toString(), "1");
      expect(action).to.deep.include({ status: "confirmed", reward: shareOf(1n) });
    });
  });

  describe("overdrawn leases", function () {
    it("closes an overdrawn lease for the close bounty, once", async function () {
      const { leaseId, startedAt } = await overdrawnLease(f);
      expect((await f.compute.leaseAccrual(leaseId)).overdrawn).to.equal(true);
      const w = await worker(f, { signer: f.watcher, duties: [leaseKeeperDuty()] });

      const first = (await w.tick()).duties.leaseKeeper;
      expect(first).to.deep.include({ overdrawn: 1, closed: 1, missed: 0 });
      const action = w.context.db.action(
        CLOSE_LEASE,
        leaseId.toString(),
        `InsufficientFunds@${startedAt + 100n}`,
      );
      expect(action).to.deep.include({ status: "confirmed", reward: CLOSE_BOUNTY });
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(CLOSE_BOUNTY);
      expect((await f.compute.getLease(leaseId)).provider).to.equal(ZeroAddress);
      const { metrics } = w.context;
      expect(await counterValue(metrics.leasesClosed, { reason: "InsufficientFunds" })).to.equal(1);
      expect(await counterValue(metrics.bountyEarned)).to.equal(Number(CLOSE_BOUNTY));

      const nonce = await nonceOf(f, f.watcher.address);
      const second = (await w.tick()).duties.leaseKeeper;
      expect(second).to.deep.include({ tracked: 0, candidates: 0, closed: 0 });
      expect(await nonceOf(f, f.watcher.address)).to.equal(nonce);
      expect(w.context.db.leaseById(leaseId)?.closed).to.deep.include({
        reason: Number(CloseReason.InsufficientFunds),
        closer: f.watcher.address,
        bountyToCloser: CLOSE_BOUNTY,
      });
    });

    it("a lease topped up after the decision is skipped without a transaction; running dry again is a new decision", async function () {
      const { leaseId, startedAt } = await overdrawnLease(f);
      const w = await worker(f, { signer: f.watcher, duties: [] });
      await w.tick();
      const { fundedUntil } = await f.compute.leaseAccrual(leaseId);
      const action = w.context.db.claimAction(
        CLOSE_LEASE,
        leaseId.toString(),
        `InsufficientFunds@${fundedUntil}`,
      );
      await mined(f.compute.connect(f.client).topUp(leaseId, PRICE * 60n)); // 60 more seconds: until start + 160
      const nonce = await nonceOf(f, f.watcher.address);
      const result = await runLeaseKeeper(w.context);
      expect(result).to.deep.include({ skipped: 1, closed: 0 });
      expect(w.context.db.action(CLOSE_LEASE, action.subject, action.key)?.status).to.equal("skipped");
      expect(await nonceOf(f, f.watcher.address)).to.equal(nonce);
      expect((await f.compute.getLease(leaseId)).provider).to.equal(f.provider.address);

      await heartbeatThrough(f, leaseId, 3n); // resolved time passes start + 160
      await w.tick();
      const again = await runLeaseKeeper(w.context);
      expect(again).to.deep.include({ closed: 1 });
      expect(
        w.context.db.action(CLOSE_LEASE, leaseId.toString(), `InsufficientFunds@${startedAt + 160n}`)?.status,
      ).to.equal("confirmed");
    });

    it("maps ComputeUnknownLease (closed by someone else) to lost-race without sending", async function () {
      const { leaseId } = await overdrawnLease(f);
      const b = await worker(f, { signer: f.client2, duties: [] });
      await b.tick();
      const { fundedUntil } = await f.compute.leaseAccrual(leaseId);
      const action = b.context.db.claimAction(
        CLOSE_LEASE,
        leaseId.toString(),
        `InsufficientFunds@${fundedUntil}`,
      );
      await mined(f.compute.connect(f.watcher).closeLease(leaseId, CloseReason.InsufficientFunds));
      const nonce = await nonceOf(f, f.client2.address);
      const plan = { ...closePlan(b.context, action), recheck: () => Promise.resolve(undefined) };
      const outcome = await carryAction(b.context, action, plan, silentLogger());
      expect(outcome).to.deep.equal({ status: "lost-race", reason: "ComputeUnknownLease" });
      expect(await nonceOf(f, f.client2.address)).to.equal(nonce);

      // Through the whole duty: the recheck finds the close in the index once indexed.
      const other = b.context.db.claimAction(CLOSE_LEASE, leaseId.toString(), "InsufficientFunds@0");
      await b.tick();
      expect((await runLeaseKeeper(b.context)).lostRace).to.equal(1);
      expect(b.context.db.action(CLOSE_LEASE, other.subject, other.key)?.status).to.equal("lost-race");
      expect(await counterValue(b.context.metrics.leaseRacesLost, { action: CLOSE_LEASE })).to.equal(2);
    });
  });

  describe("settings and read-only", function () {
    it("a read-only worker only logs what is due", async function () {
      const { leaseId, startedAt } = await overdrawnLease(f);
      await timeTo(f, startedAt + 5n * HEARTBEAT); // periods 3 and 4 missed too
      const w = await worker(f, { duties: [leaseKeeperDuty()] });
      const result = (await w.tick()).duties.leaseKeeper;
      expect(result).to.deep.include({ missed: 1, overdrawn: 1, reported: 0, closed: 0 });
      expect(w.context.db.actions()).to.deep.equal([]);
      expect((await f.compute.getLease(leaseId)).missedHeartbeats).to.equal(0n);
    });

    it("with closeOverdrawn off, reports but does not close; with leases off, does nothing", async function () {
      const { leaseId, startedAt } = await overdrawnLease(f);
      await timeTo(f, startedAt + 4n * HEARTBEAT); // period 3 missed
      const off = await worker(f, {
        signer: f.watcher,
        duties: [leaseKeeperDuty()],
        overrides: { leases: { enabled: false } },
      });
      expect((await off.tick()).duties.leaseKeeper).to.deep.include({ tracked: 0, checked: 0 });
      expect(off.context.db.actions()).to.deep.equal([]);

      const w = await worker(f, {
        signer: f.watcher,
        duties: [leaseKeeperDuty()],
        overrides: { leases: { closeOverdrawn: false } },
      });
      const result = (await w.tick()).duties.leaseKeeper;
      expect(result).to.deep.include({ reported: 1, overdrawn: 0, closed: 0 });
      expect(w.context.db.actions({ kind: CLOSE_LEASE })).to.deep.equal([]);
      expect((await f.compute.getLease(leaseId)).provider).to.equal(f.provider.address);
    });

    it("runs reports before closes: a lease behind on heartbeats and overdrawn earns both bounties", async function () {
      const { leaseId, startedAt } = await overdrawnLease(f);
      await timeTo(f, startedAt + 4n * HEARTBEAT); // period 3 missed
      const w = await worker(f, { signer: f.watcher, duties: [leaseKeeperDuty()] });
      const result = (await w.tick()).duties.leaseKeeper;
      expect(result).to.deep.include({ reported: 1, closed: 1 });
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(CLOSE_BOUNTY + shareOf(1n));
      expect((await f.compute.getLease(leaseId)).provider).to.equal(ZeroAddress);
    });

    it("defaultDuties runs the lease keeper only with a compute market and leases enabled", async function () {
      const names = (config: Awaited<ReturnType<typeof workerConfig>>) =>
        defaultDuties(config).map((d) => d.name);
      const deployment = await fullDeployment(f);
      expect(names(await workerConfig(f, { deployment }))).to.include("leaseKeeper");
      expect(names(await workerConfig(f, { deployment, leases: { enabled: false } }))).to.not.include(
        "leaseKeeper",
      );
      expect(names(await workerConfig(f))).to.not.include("leaseKeeper");
    });
  });
});
