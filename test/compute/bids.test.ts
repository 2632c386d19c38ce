import { expect } from "chai";
import { registerProvider } from "../helpers/fixture.js";
import {
  BidStatus,
  CLOSE_BOUNTY,
  COLLATERAL,
  DEPOSIT,
  ESCROW,
  expectComputeFundsConserved,
  HEARTBEAT,
  MAX_PRICE,
  MIN_COLLATERAL,
  mined,
  NOTICE,
  now,
  OrderStatus,
  PARAMS,
  placeBid,
  postOrder,
  PRICE,
  stakeOf,
  STAKE,
  useComputeFixture,
} from "./helpers.js";

describe("ComputeMarket bids", function () {
  const get = useComputeFixture();

  describe("createBid", function () {
    it("test_createBid_locksTheCollateralAndRecordsTheBid", async function () {
      const f = get();
      const id = await postOrder(f);
      const tx = f.compute.connect(f.provider).createBid(id, PRICE, COLLATERAL, NOTICE);
      await expect(tx)
        .to.emit(f.compute, "BidCreated")
        .withArgs(id, f.provider.address, PRICE, COLLATERAL, NOTICE);
      await expect(tx)
        .to.emit(f.registry, "CollateralLocked")
        .withArgs(f.provider.address, await f.compute.getAddress(), COLLATERAL);
      const bid = await f.compute.getBid(id, f.provider.address);
      expect([bid.status, bid.pricePerSecond, bid.collateral, bid.noticeWindow]).to.deep.equal([
        BidStatus.Active,
        PRICE,
        COLLATERAL,
        NOTICE,
      ]);
      expect((await f.compute.getOrder(id)).bidCount).to.equal(1n);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE - COLLATERAL, locked: COLLATERAL });
      await placeBid(f, id, f.provider2, { price: MAX_PRICE });
      expect((await f.compute.getOrder(id)).bidCount).to.equal(2n);
    });

    it("test_createBid_revertsUnlessTheOrderIsOpen", async function () {
      const f = get();
      await expect(f.compute.connect(f.provider).createBid(5n, PRICE, COLLATERAL, NOTICE))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderNotOpen")
        .withArgs(5n, OrderStatus.None);
      const cancelled = await postOrder(f);
      await f.compute.connect(f.client).cancelOrder(cancelled);
      await expect(f.compute.connect(f.provider).createBid(cancelled, PRICE, COLLATERAL, NOTICE))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderNotOpen")
        .withArgs(cancelled, OrderStatus.Cancelled);
      const filled = await postOrder(f);
      await placeBid(f, filled);
      await f.compute.connect(f.client).acceptBid(filled, f.provider.address);
      await expect(f.compute.connect(f.provider2).createBid(filled, PRICE, COLLATERAL, NOTICE))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderNotOpen")
        .withArgs(filled, OrderStatus.Filled);
    });

    it("test_createBid_revertsFromTheOrdersExpiry", async function () {
      const f = get();
      const id = await postOrder(f);
      const { expiresAt } = await f.compute.getOrder(id);
      await f.helpers.time.setNextBlockTimestamp(expiresAt);
      await expect(f.compute.connect(f.provider).createBid(id, PRICE, COLLATERAL, NOTICE))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderExpired")
        .withArgs(id, expiresAt, expiresAt);
    });

    it("test_createBid_revertsOnTheTenantsOwnOrder", async function () {
      const f = get();
      await registerProvider(f, f.client2);
      const id = await postOrder(f, {}, f.client2);
      await expect(f.compute.connect(f.client2).createBid(id, PRICE, COLLATERAL, NOTICE))
        .to.be.revertedWithCustomError(f.compute, "ComputeSelfBid")
        .withArgs(id);
    });

    it("test_createBid_revertsOnAZeroPriceOrOneAboveTheMaximum", async function () {
      const f = get();
      const id = await postOrder(f);
      for (const price of [0n, MAX_PRICE + 1n]) {
        await expect(f.compute.connect(f.provider).createBid(id, price, COLLATERAL, NOTICE))
          .to.be.revertedWithCustomError(f.compute, "ComputeBadBidPrice")
          .withArgs(price, MAX_PRICE);
      }
      await placeBid(f, id, f.provider, { price: MAX_PRICE });
      await placeBid(f, id, f.provider2, { price: 1n });
    });

    it("test_createBid_revertsBelowTheOrdersMinimumCollateral", async function () {
      const f = get();
      const id = await postOrder(f);
      await expect(f.compute.connect(f.provider).createBid(id, PRICE, MIN_COLLATERAL - 1n, NOTICE))
        .to.be.revertedWithCustomError(f.compute, "ComputeCollateralTooLow")
        .withArgs(MIN_COLLATERAL - 1n, MIN_COLLATERAL);
      await placeBid(f, id, f.provider, { collateral: MIN_COLLATERAL });
    });

    it("test_createBid_boundsTheNoticeWindowByTheParametersAndTheOrder", async function () {
      const f = get();
      const min = BigInt(PARAMS.minNoticeWindow);
      const max = BigInt(PARAMS.maxNoticeWindow);
      const id = await postOrder(f);
      for (const notice of [min - 1n, max + 1n]) {
        await expect(f.compute.connect(f.provider).createBid(id, PRICE, COLLATERAL, notice))
          .to.be.revertedWithCustomError(f.compute, "ComputeBadNoticeWindow")
          .withArgs(notice, min, max);
      }
      const strict = await postOrder(f, { minNoticeWindow: 3600n });
      await expect(f.compute.connect(f.provider).createBid(strict, PRICE, COLLATERAL, 3599n))
        .to.be.revertedWithCustomError(f.compute, "ComputeBadNoticeWindow")
        .withArgs(3599n, 3600n, max);
      await placeBid(f, strict, f.provider, { notice: 3600n });
      await placeBid(f, id, f.provider, { notice: max });
    });

    it("test_createBid_allowsOneBidPerProviderPerOrder", async function () {
      const f = get();
      const id = await postOrder(f);
      await placeBid(f, id);
      await expect(f.compute.connect(f.provider).createBid(id, PRICE - 1n, COLLATERAL, NOTICE))
        .to.be.revertedWithCustomError(f.compute, "ComputeBidExists")
        .withArgs(id, f.provider.address, BidStatus.Active);
    });

    it("test_createBid_revertsForUnregisteredOrUnderstakedProviders", async function () {
      const f = get();
      const id = await postOrder(f, { minCollateral: 0n });
      await expect(f.compute.connect(f.watcher).createBid(id, PRICE, COLLATERAL, NOTICE))
        .to.be.revertedWithCustomError(f.registry, "RegistryNotRegistered")
        .withArgs(f.watcher.address);
      await expect(f.compute.connect(f.watcher).createBid(id, PRICE, 0n, NOTICE))
        .to.be.revertedWithCustomError(f.compute, "ComputeNotRegistered")
        .withArgs(f.watcher.address);
      await expect(f.compute.connect(f.provider).createBid(id, PRICE, STAKE + 1n, NOTICE))
        .to.be.revertedWithCustomError(f.registry, "RegistryInsufficientFreeStake")
        .withArgs(f.provider.address, STAKE, STAKE + 1n);
      await placeBid(f, id, f.provider, { collateral: 0n });
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE, locked: 0n });
    });

    it("test_createBid_revertsWhilePaused", async function () {
      const f = get();
      const id = await postOrder(f);
      await f.compute.connect(f.admin).pause();
      await expect(
        f.compute.connect(f.provider).createBid(id, PRICE, COLLATERAL, NOTICE),
      ).to.be.revertedWithCustomError(f.compute, "EnforcedPause");
    });
  });

  describe("withdrawBid", function () {
    it("test_withdrawBid_unlocksTheCollateralAndFreesTheSlotWhileOpen", async function () {
      const f = get();
      const id = await postOrder(f);
      await placeBid(f, id);
      const tx = f.compute.connect(f.provider).withdrawBid(id);
      await expect(tx).to.emit(f.compute, "BidWithdrawn").withArgs(id, f.provider.address, COLLATERAL);
      await expect(tx)
        .to.emit(f.registry, "CollateralUnlocked")
        .withArgs(f.provider.address, await f.compute.getAddress(), COLLATERAL);
      expect((await f.compute.getBid(id, f.provider.address)).status).to.equal(BidStatus.None);
      expect((await f.compute.getOrder(id)).bidCount).to.equal(0n);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE, locked: 0n });
      // A withdrawn bid can be placed again (for instance at a new price).
      await placeBid(f, id, f.provider, { price: PRICE - 10n });
      expect((await f.compute.getBid(id, f.provider.address)).pricePerSecond).to.equal(PRICE - 10n);
    });

    it("test_withdrawBid_letsLosingBiddersTakeBackTheirCollateralAfterTheOrderIsFilled", async function () {
      const f = get();
      const id = await postOrder(f);
      await placeBid(f, id, f.provider);
      await placeBid(f, id, f.provider2);
      await f.compute.connect(f.client).acceptBid(id, f.provider.address);
      expect(await stakeOf(f, f.provider2)).to.deep.equal({ free: STAKE - COLLATERAL, locked: COLLATERAL });
      await f.compute.connect(f.provider2).withdrawBid(id);
      expect(await stakeOf(f, f.provider2)).to.deep.equal({ free: STAKE, locked: 0n });
      // The winning bid became the lease: there is no bid left to withdraw, and its collateral stays locked.
      await expect(f.compute.connect(f.provider).withdrawBid(id))
        .to.be.revertedWithCustomError(f.compute, "ComputeBidNotActive")
        .withArgs(id, f.provider.address, BidStatus.None);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE - COLLATERAL, locked: COLLATERAL });
    });

    it("test_withdrawBid_worksAfterCancellationOrExpiryAndWhilePaused", async function () {
      const f = get();
      const cancelled = await postOrder(f);
      const expired = await postOrder(f);
      await placeBid(f, cancelled);
      await placeBid(f, expired);
      await f.compute.connect(f.client).cancelOrder(cancelled);
      await f.helpers.time.increase(3600);
      await f.compute.expireOrder(expired);
      await f.compute.connect(f.admin).pause();
      await f.compute.connect(f.provider).withdrawBid(cancelled);
      await f.compute.connect(f.provider).withdrawBid(expired);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE, locked: 0n });
    });

    it("test_withdrawBid_revertsWithoutAnActiveBid", async function () {
      const f = get();
      const id = await postOrder(f);
      await expect(f.compute.connect(f.provider).withdrawBid(id))
        .to.be.revertedWithCustomError(f.compute, "ComputeBidNotActive")
        .withArgs(id, f.provider.address, BidStatus.None);
      await placeBid(f, id);
      await f.compute.connect(f.provider).withdrawBid(id);
      await expect(f.compute.connect(f.provider).withdrawBid(id))
        .to.be.revertedWithCustomError(f.compute, "ComputeBidNotActive")
        .withArgs(id, f.provider.address, BidStatus.None);
    });
  });

  describe("rejectBid", function () {
    it("test_rejectBid_unlocksTheCollateralAndBarsTheProviderFromTheOrder", async function () {
      const f = get();
      const id = await postOrder(f);
      await placeBid(f, id);
      await expect(f.compute.connect(f.client).rejectBid(id, f.provider.address))
        .to.emit(f.compute, "BidRejected")
        .withArgs(id, f.provider.address, COLLATERAL);
      expect((await f.compute.getBid(id, f.provider.address)).status).to.equal(BidStatus.Rejected);
      expect((await f.compute.getOrder(id)).bidCount).to.equal(0n);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE, locked: 0n });
      await expect(f.compute.connect(f.provider).createBid(id, PRICE, COLLATERAL, NOTICE))
        .to.be.revertedWithCustomError(f.compute, "ComputeBidExists")
        .withArgs(id, f.provider.address, BidStatus.Rejected);
      await expect(f.compute.connect(f.provider).withdrawBid(id))
        .to.be.revertedWithCustomError(f.compute, "ComputeBidNotActive")
        .withArgs(id, f.provider.address, BidStatus.Rejected);
      await expect(f.compute.connect(f.client).acceptBid(id, f.provider.address))
        .to.be.revertedWithCustomError(f.compute, "ComputeBidNotActive")
        .withArgs(id, f.provider.address, BidStatus.Rejected);
    });

    it("test_rejectBid_revertsForAnyoneButTheTenantOrOnAClosedOrder", async function () {
      const f = get();
      const id = await postOrder(f);
      await placeBid(f, id);
      await expect(f.compute.connect(f.provider2).rejectBid(id, f.provider.address))
        .to.be.revertedWithCustomError(f.compute, "ComputeNotTenant")
        .withArgs(id, f.provider2.address);
      await expect(f.compute.connect(f.client).rejectBid(id, f.provider2.address))
        .to.be.revertedWithCustomError(f.compute, "ComputeBidNotActive")
        .withArgs(id, f.provider2.address, BidStatus.None);
      await f.compute.connect(f.client).cancelOrder(id);
      await expect(f.compute.connect(f.client).rejectBid(id, f.provider.address))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderNotOpen")
        .withArgs(id, OrderStatus.Cancelled);
    });
  });

  describe("acceptBid", function () {
    it("test_acceptBid_startsALeaseWithTheBidsTermsAndTheDepositAsEscrow", async function () {
      const f = get();
      const id = await postOrder(f, { duration: 86_400n });
      await placeBid(f, id);
      await placeBid(f, id, f.provider2, { price: PRICE + 1n });
      const t = (await now(f)) + 10n;
      await f.helpers.time.setNextBlockTimestamp(t);
      await expect(f.compute.connect(f.client).acceptBid(id, f.provider.address))
        .to.emit(f.compute, "LeaseStarted")
        .withArgs(
          id,
          f.client.address,
          f.provider.address,
          PRICE,
          COLLATERAL,
          NOTICE,
          ESCROW,
          CLOSE_BOUNTY,
          t,
          t + 86_400n,
          HEARTBEAT,
          PARAMS.maxMissedHeartbeats,
        );
      const lease = await f.compute.getLease(id);
      expect(lease.provider).to.equal(f.provider.address);
      expect(lease.tenant).to.equal(f.client.address);
      expect(lease.startedAt).to.equal(t);
      expect(lease.endsAt).to.equal(t + 86_400n);
      expect(lease.nextPeriod).to.equal(0n);
      expect(lease.heartbeatPeriod).to.equal(HEARTBEAT);
      expect(lease.maxMissedHeartbeats).to.equal(PARAMS.maxMissedHeartbeats);
      expect(lease.escrow).to.equal(ESCROW);
      expect(lease.closeBounty).to.equal(CLOSE_BOUNTY);
      expect(lease.collateral).to.equal(COLLATERAL);
      expect(lease.pricePerSecond).to.equal(PRICE);
      expect(lease.noticeWindow).to.equal(NOTICE);
      expect([
        lease.paidSeconds,
        lease.missedSeconds,
        lease.missedHeartbeats,
        lease.noticeGiven,
      ]).to.deep.equal([0n, 0n, 0n, false]);
      expect((await f.compute.getOrder(id)).status).to.equal(OrderStatus.Filled);
      expect((await f.compute.getBid(id, f.provider.address)).status).to.equal(BidStatus.None);
      expect((await f.compute.getBid(id, f.provider2.address)).status).to.equal(BidStatus.Active);
      await expectComputeFundsConserved(f, { leases: [id] });
      expect(await f.token.balanceOf(await f.compute.getAddress())).to.equal(DEPOSIT);
    });

    it("test_acceptBid_startsAnOpenEndedLeaseWithoutAnEnd", async function () {
      const f = get();
      const id = await postOrder(f);
      await placeBid(f, id);
      await f.compute.connect(f.client).acceptBid(id, f.provider.address);
      expect((await f.compute.getLease(id)).endsAt).to.equal(0n);
    });

    it("test_acceptBid_revertsForAnyoneButTheTenant", async function () {
      const f = get();
      const id = await postOrder(f);
      await placeBid(f, id);
      await expect(f.compute.connect(f.provider).acceptBid(id, f.provider.address))
        .to.be.revertedWithCustomError(f.compute, "ComputeNotTenant")
        .withArgs(id, f.provider.address);
    });

    it("test_acceptBid_revertsOnAnExpiredOrder", async function () {
      const f = get();
      const id = await postOrder(f);
      await placeBid(f, id);
      const { expiresAt } = await f.compute.getOrder(id);
      await f.helpers.time.setNextBlockTimestamp(expiresAt);
      await expect(f.compute.connect(f.client).acceptBid(id, f.provider.address))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderExpired")
        .withArgs(id, expiresAt, expiresAt);
    });

    it("test_acceptBid_revertsWithoutAnActiveBidOrTwice", async function () {
      const f = get();
      const id = await postOrder(f);
      await expect(f.compute.connect(f.client).acceptBid(id, f.provider.address))
        .to.be.revertedWithCustomError(f.compute, "ComputeBidNotActive")
        .withArgs(id, f.provider.address, BidStatus.None);
      await placeBid(f, id);
      await placeBid(f, id, f.provider2);
      await f.compute.connect(f.client).acceptBid(id, f.provider.address);
      await expect(f.compute.connect(f.client).acceptBid(id, f.provider2.address))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderNotOpen")
        .withArgs(id, OrderStatus.Filled);
    });

    it("test_acceptBid_revertsWhilePaused", async function () {
      const f = get();
      const id = await postOrder(f);
      await placeBid(f, id);
      await f.compute.connect(f.admin).pause();
      await expect(
        f.compute.connect(f.client).acceptBid(id, f.provider.address),
      ).to.be.revertedWithCustomError(f.compute, "EnforcedPause");
      await f.compute.connect(f.admin).unpause();
      await mined(f.compute.connect(f.client).acceptBid(id, f.provider.address));
    });

    it("test_acceptBid_keepsTheCloseBountyFixedWhenTheOrderWasPosted", async function () {
      const f = get();
      const id = await postOrder(f);
      await placeBid(f, id);
      await f.compute
        .connect(f.admin)
        .setParameters({ ...PARAMS, closeBounty: CLOSE_BOUNTY * 2n, heartbeatPeriod: 120n });
      await f.compute.connect(f.client).acceptBid(id, f.provider.address);
      const lease = await f.compute.getLease(id);
      expect(lease.closeBounty).to.equal(CLOSE_BOUNTY);
      expect(lease.escrow).to.equal(DEPOSIT - CLOSE_BOUNTY);
      // The heartbeat rules are the ones in force when the lease starts.
      expect(lease.heartbeatPeriod).to.equal(120n);
    });
  });
});
