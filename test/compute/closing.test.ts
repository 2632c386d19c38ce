import { expect } from "chai";
import { ZeroAddress } from "ethers";
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
  heartbeatThrough,
  mined,
  NOTICE,
  PARAMS,
  PRICE,
  stakeOf,
  STAKE,
  startLease,
  useComputeFixture,
} from "./helpers.js";

describe("ComputeMarket closing", function () {
  const get = useComputeFixture();
  const NO_NOTICE_BPS = BigInt(PARAMS.noNoticePenaltyBps);
  const TREASURY_BPS = BigInt(PARAMS.treasuryShareBps);

  describe("Tenant", function () {
    it("test_closeLease_tenantPaysTheHeartbeatedTimeAndGetsTheRestBack", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 40n);
      const paid = 40n * PRICE;
      const tx = f.compute.connect(f.client).closeLease(leaseId, CloseReason.Tenant);
      await expect(tx)
        .to.emit(f.compute, "LeaseClosed")
        .withArgs(
          leaseId,
          CloseReason.Tenant,
          f.client.address,
          paid,
          ESCROW - paid + CLOSE_BOUNTY,
          0n,
          0n,
          COLLATERAL,
        );
      await expect(tx)
        .to.emit(f.registry, "CollateralUnlocked")
        .withArgs(f.provider.address, await f.compute.getAddress(), COLLATERAL);
      await expect(tx).not.to.emit(f.compute, "LeaseSlashed");
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(paid);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(ESCROW - paid + CLOSE_BOUNTY);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE, locked: 0n });
      const lease = await f.compute.getLease(leaseId);
      expect([lease.provider, lease.tenant, lease.escrow]).to.deep.equal([ZeroAddress, ZeroAddress, 0n]);
      expect((await f.compute.leaseAccrual(leaseId)).active).to.equal(false);
      await expectComputeFundsConserved(f);
    });

    it("test_closeLease_revertsForTenantReasonFromAnyoneElse", async function () {
      const f = get();
      const { leaseId } = await startLease(f);
      for (const who of [f.provider, f.watcher]) {
        await expect(f.compute.connect(who).closeLease(leaseId, CloseReason.Tenant))
          .to.be.revertedWithCustomError(f.compute, "ComputeCloseNotAllowed")
          .withArgs(leaseId, CloseReason.Tenant, who.address);
      }
    });

    it("test_closeLease_worksWhilePausedAndOnlyOnce", async function () {
      const f = get();
      const { leaseId } = await startLease(f);
      await f.compute.connect(f.admin).pause();
      await mined(f.compute.connect(f.client).closeLease(leaseId, CloseReason.Tenant));
      await expect(f.compute.connect(f.client).closeLease(leaseId, CloseReason.Tenant))
        .to.be.revertedWithCustomError(f.compute, "ComputeUnknownLease")
        .withArgs(leaseId);
      for (const call of [
        f.compute.connect(f.provider).heartbeat(leaseId),
        f.compute.settleLease(leaseId),
        f.compute.connect(f.client).topUp(leaseId, 1n),
        f.compute.reportMissedHeartbeats(leaseId),
        f.compute.connect(f.provider).giveNotice(leaseId),
      ]) {
        await expect(call).to.be.revertedWithCustomError(f.compute, "ComputeUnknownLease").withArgs(leaseId);
      }
    });
  });

  describe("ProviderWithoutNotice", function () {
    it("test_closeLease_providerLeavingWithoutNoticeIsSlashedToTheTenant", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 20n);
      const paid = 20n * PRICE;
      const penalty = bpsOf(COLLATERAL, NO_NOTICE_BPS);
      const toTreasury = bpsOf(penalty, TREASURY_BPS);
      const toTenant = penalty - toTreasury;
      const tx = f.compute.connect(f.provider).closeLease(leaseId, CloseReason.ProviderWithoutNotice);
      await expect(tx)
        .to.emit(f.compute, "LeaseClosed")
        .withArgs(
          leaseId,
          CloseReason.ProviderWithoutNotice,
          f.provider.address,
          paid,
          ESCROW - paid + CLOSE_BOUNTY,
          0n,
          toTenant,
          COLLATERAL - penalty,
        );
      await expect(tx)
        .to.emit(f.compute, "LeaseSlashed")
        .withArgs(f.provider.address, leaseId, toTenant, 0n, toTreasury);
      await expect(tx)
        .to.emit(f.registry, "StakeSlashed")
        .withArgs(f.provider.address, await f.compute.getAddress(), penalty, 0n);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(ESCROW - paid + CLOSE_BOUNTY + toTenant);
      expect(await f.compute.balanceOf(f.treasury.address)).to.equal(toTreasury);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE - penalty, locked: 0n });
      await expectComputeFundsConserved(f);
    });

    it("test_closeLease_providerClosingDuringItsNoticeIsStillWithoutNotice", async function () {
      const f = get();
      const { leaseId } = await startLease(f);
      await mined(f.compute.connect(f.provider).giveNotice(leaseId));
      await expect(f.compute.connect(f.provider).closeLease(leaseId, CloseReason.ProviderWithNotice))
        .to.be.revertedWithCustomError(f.compute, "ComputeCloseNotAllowed")
        .withArgs(leaseId, CloseReason.ProviderWithNotice, f.provider.address);
      await expect(
        f.compute.connect(f.provider).closeLease(leaseId, CloseReason.ProviderWithoutNotice),
      ).to.emit(f.compute, "LeaseSlashed");
    });

    it("test_closeLease_revertsForProviderReasonsFromOthersOrAfterTheEnd", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f, { order: { duration: HEARTBEAT } });
      await expect(f.compute.connect(f.client).closeLease(leaseId, CloseReason.ProviderWithoutNotice))
        .to.be.revertedWithCustomError(f.compute, "ComputeCloseNotAllowed")
        .withArgs(leaseId, CloseReason.ProviderWithoutNotice, f.client.address);
      await atNextBlock(f, startedAt + HEARTBEAT);
      await expect(f.compute.connect(f.provider).closeLease(leaseId, CloseReason.ProviderWithoutNotice))
        .to.be.revertedWithCustomError(f.compute, "ComputeCloseNotAllowed")
        .withArgs(leaseId, CloseReason.ProviderWithoutNotice, f.provider.address);
    });
  });

  describe("giveNotice and ProviderWithNotice", function () {
    it("test_giveNotice_endsTheLeaseAfterTheNoticeWindow", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await atNextBlock(f, startedAt + 10n);
      await expect(f.compute.connect(f.provider).giveNotice(leaseId))
        .to.emit(f.compute, "LeaseNoticeGiven")
        .withArgs(leaseId, startedAt + 10n + NOTICE);
      const lease = await f.compute.getLease(leaseId);
      expect([lease.endsAt, lease.noticeGiven]).to.deep.equal([startedAt + 10n + NOTICE, true]);
    });

    it("test_giveNotice_revertsForOthersOrWhenItWouldNotEndTheLeaseEarlier", async function () {
      const f = get();
      const { leaseId } = await startLease(f);
      await expect(f.compute.connect(f.client).giveNotice(leaseId))
        .to.be.revertedWithCustomError(f.compute, "ComputeNotProvider")
        .withArgs(leaseId, f.client.address);
      await mined(f.compute.connect(f.provider).giveNotice(leaseId));
      const { endsAt } = await f.compute.getLease(leaseId);
      await expect(f.compute.connect(f.provider).giveNotice(leaseId))
        .to.be.revertedWithCustomError(f.compute, "ComputeAlreadyEnding")
        .withArgs(leaseId, endsAt);
      const short = await startLease(f, { order: { duration: NOTICE } });
      const shortLease = await f.compute.getLease(short.leaseId);
      await expect(f.compute.connect(f.provider).giveNotice(short.leaseId))
        .to.be.revertedWithCustomError(f.compute, "ComputeAlreadyEnding")
        .withArgs(short.leaseId, shortLease.endsAt);
    });

    it("test_closeLease_anyoneClosesAfterTheNoticeRanOutWithoutPenalty", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 5n);
      await mined(f.compute.connect(f.provider).giveNotice(leaseId));
      const endsAt = startedAt + 5n + NOTICE;
      // The provider keeps heartbeating through its notice window and is paid up to its end.
      await heartbeatThrough(f, leaseId, (NOTICE + 5n) / HEARTBEAT);
      await atNextBlock(f, endsAt - 1n);
      await expect(f.compute.connect(f.watcher).closeLease(leaseId, CloseReason.ProviderWithNotice))
        .to.be.revertedWithCustomError(f.compute, "ComputeCloseNotAllowed")
        .withArgs(leaseId, CloseReason.ProviderWithNotice, f.watcher.address);
      await atNextBlock(f, endsAt + 100n);
      await expect(f.compute.connect(f.watcher).closeLease(leaseId, CloseReason.Expired))
        .to.be.revertedWithCustomError(f.compute, "ComputeCloseNotAllowed")
        .withArgs(leaseId, CloseReason.Expired, f.watcher.address);
      const paid = (NOTICE + 5n) * PRICE;
      await atNextBlock(f, endsAt + 101n);
      const tx = f.compute.connect(f.watcher).closeLease(leaseId, CloseReason.ProviderWithNotice);
      await expect(tx)
        .to.emit(f.compute, "LeaseClosed")
        .withArgs(
          leaseId,
          CloseReason.ProviderWithNotice,
          f.watcher.address,
          paid,
          ESCROW - paid + CLOSE_BOUNTY,
          0n,
          0n,
          COLLATERAL,
        );
      await expect(tx).not.to.emit(f.compute, "LeaseSlashed");
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE, locked: 0n });
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(0n);
      await expectComputeFundsConserved(f);
    });
  });

  describe("Expired", function () {
    it("test_closeLease_anyoneClosesALeaseThatReachedItsDuration", async function () {
      const f = get();
      const duration = 2n * HEARTBEAT;
      const { leaseId, startedAt } = await startLease(f, { order: { duration } });
      await heartbeatThrough(f, leaseId, 1n);
      await atNextBlock(f, startedAt + duration - 1n);
      await expect(f.compute.connect(f.watcher).closeLease(leaseId, CloseReason.Expired))
        .to.be.revertedWithCustomError(f.compute, "ComputeCloseNotAllowed")
        .withArgs(leaseId, CloseReason.Expired, f.watcher.address);
      await atNextBlock(f, startedAt + duration);
      await expect(f.compute.connect(f.watcher).closeLease(leaseId, CloseReason.ProviderWithNotice))
        .to.be.revertedWithCustomError(f.compute, "ComputeCloseNotAllowed")
        .withArgs(leaseId, CloseReason.ProviderWithNotice, f.watcher.address);
      const paid = duration * PRICE;
      await atNextBlock(f, startedAt + duration + 1n);
      await expect(f.compute.connect(f.watcher).closeLease(leaseId, CloseReason.Expired))
        .to.emit(f.compute, "LeaseClosed")
        .withArgs(
          leaseId,
          CloseReason.Expired,
          f.watcher.address,
          paid,
          ESCROW - paid + CLOSE_BOUNTY,
          0n,
          0n,
          COLLATERAL,
        );
      await expectComputeFundsConserved(f);
    });
  });

  describe("InsufficientFunds", function () {
    it("test_closeLease_anyoneClosesAnOverdrawnLeaseForTheBuffer", async function () {
      const f = get();
      const escrow = 90n * PRICE + 7n;
      const { leaseId, startedAt } = await startLease(f, { order: { deposit: escrow + CLOSE_BOUNTY } });
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await heartbeatAt(f, leaseId, startedAt, 1n);
      await atNextBlock(f, startedAt + 90n);
      await expect(f.compute.connect(f.watcher).closeLease(leaseId, CloseReason.InsufficientFunds))
        .to.be.revertedWithCustomError(f.compute, "ComputeCloseNotAllowed")
        .withArgs(leaseId, CloseReason.InsufficientFunds, f.watcher.address);
      await atNextBlock(f, startedAt + 91n);
      const tx = f.compute.connect(f.watcher).closeLease(leaseId, CloseReason.InsufficientFunds);
      await expect(tx)
        .to.emit(f.compute, "LeaseClosed")
        .withArgs(
          leaseId,
          CloseReason.InsufficientFunds,
          f.watcher.address,
          90n * PRICE,
          7n,
          CLOSE_BOUNTY,
          0n,
          COLLATERAL,
        );
      await expect(tx).not.to.emit(f.compute, "LeaseSlashed");
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(CLOSE_BOUNTY);
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(90n * PRICE);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(7n);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE, locked: 0n });
      await expectComputeFundsConserved(f);
    });

    it("test_closeLease_providerOfAnOverdrawnLeaseLeavesWithoutPenalty", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f, { order: { deposit: 10n * PRICE + CLOSE_BOUNTY } });
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 30n);
      await mined(f.compute.connect(f.provider).closeLease(leaseId, CloseReason.InsufficientFunds));
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(10n * PRICE + CLOSE_BOUNTY);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE, locked: 0n });
    });

    it("test_closeLease_aTopUpBeforeTheCloseKeepsTheLeaseAlive", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f, { order: { deposit: 10n * PRICE + CLOSE_BOUNTY } });
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 30n);
      await mined(f.compute.connect(f.client).topUp(leaseId, 1000n * PRICE));
      // The closer named its reason, so the racing top-up makes it revert instead of turning into another close.
      await expect(f.compute.connect(f.provider).closeLease(leaseId, CloseReason.InsufficientFunds))
        .to.be.revertedWithCustomError(f.compute, "ComputeCloseNotAllowed")
        .withArgs(leaseId, CloseReason.InsufficientFunds, f.provider.address);
      expect((await f.compute.getLease(leaseId)).provider).to.equal(f.provider.address);
    });

    it("test_closeLease_unreportedMissesDoNotMakeALeaseOverdrawn", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f, { order: { deposit: 10n * PRICE + CLOSE_BOUNTY } });
      // No heartbeat at all: the time is unresolved, not owed, so the escrow is not overdrawn.
      await atNextBlock(f, startedAt + 3n * HEARTBEAT);
      await expect(f.compute.connect(f.watcher).closeLease(leaseId, CloseReason.InsufficientFunds))
        .to.be.revertedWithCustomError(f.compute, "ComputeCloseNotAllowed")
        .withArgs(leaseId, CloseReason.InsufficientFunds, f.watcher.address);
    });
  });

  describe("MissedHeartbeats", function () {
    it("test_closeLease_revertsForMissedHeartbeatsWhichOnlyReportsApply", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await atNextBlock(f, startedAt + 10n * HEARTBEAT);
      await expect(f.compute.connect(f.client).closeLease(leaseId, CloseReason.MissedHeartbeats))
        .to.be.revertedWithCustomError(f.compute, "ComputeCloseNotAllowed")
        .withArgs(leaseId, CloseReason.MissedHeartbeats, f.client.address);
    });
  });
});
