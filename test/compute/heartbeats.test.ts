import { expect } from "chai";
import {
  atNextBlock,
  bpsOf,
  CLOSE_BOUNTY,
  CloseReason,
  COLLATERAL,
  ESCROW,
  expectComputeFundsConserved,
  HEARTBEAT,
  heartbeatAt,
  mined,
  MISSED_BOUNTY,
  PARAMS,
  PRICE,
  setComputeParams,
  stakeOf,
  STAKE,
  startLease,
  useComputeFixture,
} from "./helpers.js";

describe("ComputeMarket heartbeats", function () {
  const get = useComputeFixture();
  const PENALTY_BPS = BigInt(PARAMS.missedHeartbeatsPenaltyBps);
  const TREASURY_BPS = BigInt(PARAMS.treasuryShareBps);
  const MAX_MISSED = BigInt(PARAMS.maxMissedHeartbeats);

  describe("heartbeat", function () {
    it("test_heartbeat_resolvesTheCurrentPeriod", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await atNextBlock(f, startedAt + 5n);
      await expect(f.compute.connect(f.provider).heartbeat(leaseId))
        .to.emit(f.compute, "HeartbeatPosted")
        .withArgs(leaseId, 0n);
      expect((await f.compute.getLease(leaseId)).nextPeriod).to.equal(1n);
      await heartbeatAt(f, leaseId, startedAt, 1n, HEARTBEAT - 1n);
      expect((await f.compute.getLease(leaseId)).nextPeriod).to.equal(2n);
    });

    it("test_heartbeat_revertsASecondTimeInOnePeriod", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + HEARTBEAT - 1n);
      await expect(f.compute.connect(f.provider).heartbeat(leaseId))
        .to.be.revertedWithCustomError(f.compute, "ComputeHeartbeatAlreadyPosted")
        .withArgs(leaseId, 0n);
    });

    it("test_heartbeat_revertsForAnyoneButTheProviderOrOnAnUnknownLease", async function () {
      const f = get();
      const { leaseId } = await startLease(f);
      await expect(f.compute.connect(f.client).heartbeat(leaseId))
        .to.be.revertedWithCustomError(f.compute, "ComputeNotProvider")
        .withArgs(leaseId, f.client.address);
      await expect(f.compute.connect(f.provider).heartbeat(leaseId + 1n))
        .to.be.revertedWithCustomError(f.compute, "ComputeUnknownLease")
        .withArgs(leaseId + 1n);
    });

    it("test_heartbeat_revertsAfterAMissedPeriodUntilItIsReported", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 2n * HEARTBEAT + 1n);
      await expect(f.compute.connect(f.provider).heartbeat(leaseId))
        .to.be.revertedWithCustomError(f.compute, "ComputeUnresolvedHeartbeats")
        .withArgs(leaseId, 1n, 2n);
      // The provider may report its own miss (the bounty comes back to it) and carry on.
      await mined(f.compute.connect(f.provider).reportMissedHeartbeats(leaseId));
      await mined(f.compute.connect(f.provider).heartbeat(leaseId));
      expect((await f.compute.getLease(leaseId)).nextPeriod).to.equal(3n);
    });

    it("test_heartbeat_worksWhilePausedAndCostsUnder40kGas", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await f.compute.connect(f.admin).pause();
      const receipt = await heartbeatAt(f, leaseId, startedAt, 0n, 5n);
      expect(receipt.gasUsed).to.be.lessThanOrEqual(40_000n);
    });

    it("test_heartbeat_keepsTheLeasesPeriodAfterAParameterChange", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await setComputeParams(f, { heartbeatPeriod: 4n * HEARTBEAT, maxMissedHeartbeats: 1n });
      await heartbeatAt(f, leaseId, startedAt, 0n, 5n);
      await heartbeatAt(f, leaseId, startedAt, 1n);
      const lease = await f.compute.getLease(leaseId);
      expect([lease.heartbeatPeriod, lease.maxMissedHeartbeats, lease.nextPeriod]).to.deep.equal([
        HEARTBEAT,
        MAX_MISSED,
        2n,
      ]);
      // One missed period no longer closes the lease even though the parameter is now 1.
      await atNextBlock(f, startedAt + 3n * HEARTBEAT);
      await mined(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId));
      expect((await f.compute.getLease(leaseId)).missedHeartbeats).to.equal(1n);
    });
  });

  describe("reportMissedHeartbeats", function () {
    it("test_reportMissedHeartbeats_revertsWhileNoClosedPeriodIsUnresolved", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await atNextBlock(f, startedAt + HEARTBEAT - 1n);
      await expect(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId))
        .to.be.revertedWithCustomError(f.compute, "ComputeNoMissedHeartbeats")
        .withArgs(leaseId, 0n, 0n);
      await mined(f.compute.connect(f.provider).heartbeat(leaseId));
      await atNextBlock(f, startedAt + 2n * HEARTBEAT - 1n);
      await expect(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId))
        .to.be.revertedWithCustomError(f.compute, "ComputeNoMissedHeartbeats")
        .withArgs(leaseId, 1n, 1n);
      await expect(f.compute.reportMissedHeartbeats(55n))
        .to.be.revertedWithCustomError(f.compute, "ComputeUnknownLease")
        .withArgs(55n);
    });

    it("test_reportMissedHeartbeats_paysABountyFromTheCollateralAndNeverPaysTheMissedTime", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 2n * HEARTBEAT + 5n);
      const tx = f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId);
      await expect(tx)
        .to.emit(f.compute, "MissedHeartbeatsReported")
        .withArgs(leaseId, f.watcher.address, 1n, 1n, HEARTBEAT * PRICE, MISSED_BOUNTY);
      await expect(tx)
        .to.emit(f.compute, "LeaseSlashed")
        .withArgs(f.provider.address, leaseId, 0n, MISSED_BOUNTY, 0n);
      await expect(tx)
        .to.emit(f.registry, "StakeSlashed")
        .withArgs(f.provider.address, await f.compute.getAddress(), MISSED_BOUNTY, 0n);
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(MISSED_BOUNTY);
      let lease = await f.compute.getLease(leaseId);
      expect([lease.nextPeriod, lease.missedHeartbeats, lease.missedSeconds, lease.collateral]).to.deep.equal(
        [2n, 1n, HEARTBEAT, COLLATERAL - MISSED_BOUNTY],
      );
      expect(await stakeOf(f)).to.deep.equal({
        free: STAKE - COLLATERAL,
        locked: COLLATERAL - MISSED_BOUNTY,
      });
      await expectComputeFundsConserved(f, { leases: [leaseId] });

      // Period 2 is heartbeated: periods 0 and 2 are paid, period 1 never is.
      await heartbeatAt(f, leaseId, startedAt, 2n, 10n);
      await atNextBlock(f, startedAt + 2n * HEARTBEAT + 30n);
      await mined(f.compute.settleLease(leaseId));
      const paid = (HEARTBEAT + 30n) * PRICE;
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(paid);
      lease = await f.compute.getLease(leaseId);
      expect(lease.paidSeconds).to.equal(HEARTBEAT + 30n);

      // The missed period's cost stayed in the escrow and returns to the tenant when it closes.
      await atNextBlock(f, startedAt + 2n * HEARTBEAT + 30n + 1n);
      await mined(f.compute.connect(f.client).closeLease(leaseId, CloseReason.Tenant));
      expect(await f.compute.balanceOf(f.client.address)).to.equal(ESCROW - paid - PRICE + CLOSE_BOUNTY);
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(paid + PRICE);
      await expectComputeFundsConserved(f);
    });

    it("test_reportMissedHeartbeats_reportsEveryClosedPeriodAtOnce", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await atNextBlock(f, startedAt + 2n * HEARTBEAT);
      await expect(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId))
        .to.emit(f.compute, "MissedHeartbeatsReported")
        .withArgs(leaseId, f.watcher.address, 0n, 2n, 2n * HEARTBEAT * PRICE, 2n * MISSED_BOUNTY);
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(2n * MISSED_BOUNTY);
    });

    it("test_reportMissedHeartbeats_capsTheBountyAtTheLeasesCollateral", async function () {
      const f = get();
      const collateral = MISSED_BOUNTY + MISSED_BOUNTY / 2n;
      const { leaseId, startedAt } = await startLease(f, {
        order: { minCollateral: 0n },
        bid: { collateral },
      });
      await atNextBlock(f, startedAt + 2n * HEARTBEAT);
      await expect(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId))
        .to.emit(f.compute, "MissedHeartbeatsReported")
        .withArgs(leaseId, f.watcher.address, 0n, 2n, 2n * HEARTBEAT * PRICE, collateral);
      expect((await f.compute.getLease(leaseId)).collateral).to.equal(0n);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE - collateral, locked: 0n });
      await mined(f.compute.connect(f.client).closeLease(leaseId, CloseReason.Tenant));
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE - collateral, locked: 0n });
      await expectComputeFundsConserved(f);
    });

    it("test_reportMissedHeartbeats_closesTheLeaseAtTheLimitWithAPenaltyToTheTenant", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + (MAX_MISSED + 1n) * HEARTBEAT + 7n);
      const bounty = MAX_MISSED * MISSED_BOUNTY;
      const remaining = COLLATERAL - bounty;
      const penalty = bpsOf(remaining, PENALTY_BPS);
      const toTreasury = bpsOf(penalty, TREASURY_BPS);
      const toTenant = penalty - toTreasury;
      const paid = HEARTBEAT * PRICE;
      const refund = ESCROW - paid + CLOSE_BOUNTY;
      const tx = f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId);
      await expect(tx)
        .to.emit(f.compute, "MissedHeartbeatsReported")
        .withArgs(leaseId, f.watcher.address, 1n, MAX_MISSED, MAX_MISSED * HEARTBEAT * PRICE, bounty);
      await expect(tx)
        .to.emit(f.compute, "LeaseClosed")
        .withArgs(
          leaseId,
          CloseReason.MissedHeartbeats,
          f.watcher.address,
          paid,
          refund,
          0n,
          toTenant,
          remaining - penalty,
        );
      await expect(tx)
        .to.emit(f.compute, "LeaseSlashed")
        .withArgs(f.provider.address, leaseId, toTenant, 0n, toTreasury);
      await expect(tx)
        .to.emit(f.registry, "StakeSlashed")
        .withArgs(f.provider.address, await f.compute.getAddress(), bounty + penalty, 0n);
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(bounty);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(refund + toTenant);
      expect(await f.compute.balanceOf(f.treasury.address)).to.equal(toTreasury);
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(paid);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE - bounty - penalty, locked: 0n });
      expect((await f.compute.getLease(leaseId)).provider).to.equal(
        "0x0000000000000000000000000000000000000000",
      );
      await expectComputeFundsConserved(f);
      // The slashed tokens still sit in the registry; the first withdrawal that needs them collects them.
      expect(await f.registry.slashedOwedTo(await f.compute.getAddress())).to.equal(bounty + penalty);
      await mined(f.compute.connect(f.client).withdraw(refund + toTenant));
      await mined(f.compute.connect(f.watcher).withdraw(bounty));
      await mined(f.compute.connect(f.treasury).withdraw(toTreasury));
      await mined(f.compute.connect(f.provider).withdraw(paid));
      expect(await f.token.balanceOf(await f.compute.getAddress())).to.equal(0n);
      expect(await f.registry.slashedOwedTo(await f.compute.getAddress())).to.equal(0n);
    });

    it("test_reportMissedHeartbeats_countsOnlyTimeInsideTheLease", async function () {
      const f = get();
      const duration = 2n * HEARTBEAT + 30n;
      const { leaseId, startedAt } = await startLease(f, { order: { duration } });
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 10n * HEARTBEAT);
      // Periods 1 and 2 are missed; period 2 holds only 30 seconds of the lease.
      await expect(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId))
        .to.emit(f.compute, "MissedHeartbeatsReported")
        .withArgs(leaseId, f.watcher.address, 1n, 2n, (HEARTBEAT + 30n) * PRICE, 2n * MISSED_BOUNTY);
      const lease = await f.compute.getLease(leaseId);
      expect([lease.nextPeriod, lease.missedSeconds]).to.deep.equal([3n, HEARTBEAT + 30n]);
      await atNextBlock(f, startedAt + 10n * HEARTBEAT + 1n);
      await expect(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId))
        .to.be.revertedWithCustomError(f.compute, "ComputeNoMissedHeartbeats")
        .withArgs(leaseId, 3n, 10n);
      await mined(f.compute.connect(f.watcher).closeLease(leaseId, CloseReason.Expired));
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(HEARTBEAT * PRICE);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(ESCROW - HEARTBEAT * PRICE + CLOSE_BOUNTY);
      await expectComputeFundsConserved(f);
    });

    it("test_reportMissedHeartbeats_worksWhilePaused", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await f.compute.connect(f.admin).pause();
      await atNextBlock(f, startedAt + HEARTBEAT);
      await mined(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId));
      expect((await f.compute.getLease(leaseId)).missedHeartbeats).to.equal(1n);
    });
  });
});
