import { expect } from "chai";
import { USDC } from "../helpers/fixture.js";
import {
  atNextBlock,
  CLOSE_BOUNTY,
  ESCROW,
  expectComputeFundsConserved,
  HEARTBEAT,
  heartbeatAt,
  heartbeatThrough,
  mined,
  PRICE,
  startLease,
  useComputeFixture,
} from "./helpers.js";

describe("ComputeMarket lease streams", function () {
  const get = useComputeFixture();

  describe("settleLease", function () {
    it("test_settleLease_paysHeartbeatedTimeUpToNow", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 30n);
      await expect(f.compute.connect(f.watcher).settleLease(leaseId))
        .to.emit(f.compute, "LeaseSettled")
        .withArgs(leaseId, 30n * PRICE, 30n, ESCROW - 30n * PRICE);
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(30n * PRICE);
      const lease = await f.compute.getLease(leaseId);
      expect([lease.paidSeconds, lease.escrow]).to.deep.equal([30n, ESCROW - 30n * PRICE]);
      await expectComputeFundsConserved(f, { leases: [leaseId] });
    });

    it("test_settleLease_paysNothingForAPeriodWithoutAHeartbeat", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await atNextBlock(f, startedAt + 50n);
      await expect(f.compute.settleLease(leaseId))
        .to.emit(f.compute, "LeaseSettled")
        .withArgs(leaseId, 0n, 0n, ESCROW);
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(0n);
    });

    it("test_settleLease_stopsAtTheFirstUnresolvedPeriod", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatThrough(f, leaseId, 1n);
      // Period 2 has no heartbeat yet: only periods 0 and 1 are payable.
      await atNextBlock(f, startedAt + 2n * HEARTBEAT + 40n);
      await mined(f.compute.settleLease(leaseId));
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(2n * HEARTBEAT * PRICE);
      // Once period 2 is heartbeated, the time up to now becomes payable.
      await heartbeatAt(f, leaseId, startedAt, 2n, 50n);
      await atNextBlock(f, startedAt + 2n * HEARTBEAT + 55n);
      await mined(f.compute.settleLease(leaseId));
      expect(await f.compute.balanceOf(f.provider.address)).to.equal((2n * HEARTBEAT + 55n) * PRICE);
    });

    it("test_settleLease_isIdempotentWithinASecond", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      // Both settlements land in one block at startedAt + 21: the second pays nothing.
      await f.helpers.time.setNextBlockTimestamp(startedAt + 21n);
      await f.ethers.provider.send("evm_setAutomine", [false]);
      const a = await f.compute.settleLease(leaseId);
      const b = await f.compute.connect(f.watcher).settleLease(leaseId);
      await f.helpers.mine(1);
      await f.ethers.provider.send("evm_setAutomine", [true]);
      await expect(a)
        .to.emit(f.compute, "LeaseSettled")
        .withArgs(leaseId, 21n * PRICE, 21n, ESCROW - 21n * PRICE);
      await expect(b)
        .to.emit(f.compute, "LeaseSettled")
        .withArgs(leaseId, 0n, 21n, ESCROW - 21n * PRICE);
    });

    it("test_settleLease_neverPaysMoreThanTheEscrow", async function () {
      const f = get();
      // Escrow for 100.5 seconds at PRICE: pays 100 whole seconds and leaves the half-second dust.
      const escrow = 100n * PRICE + PRICE / 2n;
      const { leaseId, startedAt } = await startLease(f, { order: { deposit: escrow + CLOSE_BOUNTY } });
      await heartbeatThrough(f, leaseId, 2n);
      await atNextBlock(f, startedAt + 2n * HEARTBEAT + 30n);
      await expect(f.compute.settleLease(leaseId))
        .to.emit(f.compute, "LeaseSettled")
        .withArgs(leaseId, 100n * PRICE, 100n, PRICE / 2n);
      const accrual = await f.compute.leaseAccrual(leaseId);
      expect(accrual.overdrawn).to.equal(true);
      expect(accrual.settleable).to.equal(0n);
      await expectComputeFundsConserved(f, { leases: [leaseId] });
    });

    it("test_settleLease_stopsAtTheLeasesEnd", async function () {
      const f = get();
      const duration = 2n * HEARTBEAT + 30n;
      const { leaseId, startedAt } = await startLease(f, { order: { duration } });
      await heartbeatThrough(f, leaseId, 2n);
      await atNextBlock(f, startedAt + 10n * HEARTBEAT);
      await mined(f.compute.settleLease(leaseId));
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(duration * PRICE);
      expect((await f.compute.getLease(leaseId)).paidSeconds).to.equal(duration);
    });

    it("test_settleLease_revertsOnAnUnknownLease", async function () {
      const f = get();
      await expect(f.compute.settleLease(42n))
        .to.be.revertedWithCustomError(f.compute, "ComputeUnknownLease")
        .withArgs(42n);
    });
  });

  describe("topUp", function () {
    it("test_topUp_letsAnyonePayIntoTheEscrowFromTheirAllowance", async function () {
      const f = get();
      const { leaseId } = await startLease(f);
      const payer = f.watcher;
      await f.token.mint(payer.address, 5n * USDC);
      await f.token.connect(payer).approve(await f.compute.getAddress(), 5n * USDC);
      await expect(f.compute.connect(payer).topUp(leaseId, 5n * USDC))
        .to.emit(f.compute, "LeaseToppedUp")
        .withArgs(leaseId, payer.address, 5n * USDC, ESCROW + 5n * USDC);
      expect((await f.compute.getLease(leaseId)).escrow).to.equal(ESCROW + 5n * USDC);
      expect(await f.token.balanceOf(payer.address)).to.equal(0n);
      await expectComputeFundsConserved(f, { leases: [leaseId] });
    });

    it("test_topUp_usesTheLedgerBalanceWhenItCovers", async function () {
      const f = get();
      const { leaseId } = await startLease(f);
      await f.compute.connect(f.client).deposit(f.client.address, 3n * USDC);
      const tokens = await f.token.balanceOf(f.client.address);
      await f.compute.connect(f.client).topUp(leaseId, 3n * USDC);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(0n);
      expect(await f.token.balanceOf(f.client.address)).to.equal(tokens);
      expect((await f.compute.getLease(leaseId)).escrow).to.equal(ESCROW + 3n * USDC);
    });

    it("test_topUp_revertsOnZeroUnknownOrUnfunded", async function () {
      const f = get();
      const { leaseId } = await startLease(f);
      await expect(f.compute.connect(f.client).topUp(leaseId, 0n)).to.be.revertedWithCustomError(
        f.compute,
        "LedgerZeroAmount",
      );
      await expect(f.compute.connect(f.client).topUp(99n, 1n))
        .to.be.revertedWithCustomError(f.compute, "ComputeUnknownLease")
        .withArgs(99n);
      await expect(f.compute.connect(f.watcher).topUp(leaseId, 1n))
        .to.be.revertedWithCustomError(f.compute, "ComputeUnfunded")
        .withArgs(f.watcher.address, 1n);
    });

    it("test_topUp_paysTheProviderForTimeTheEscrowCouldNotCover", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f, { order: { deposit: 10n * PRICE + CLOSE_BOUNTY } });
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 40n);
      await mined(f.compute.settleLease(leaseId));
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(10n * PRICE);
      expect((await f.compute.leaseAccrual(leaseId)).overdrawn).to.equal(true);
      await f.compute.connect(f.client).topUp(leaseId, 1000n * PRICE);
      await atNextBlock(f, startedAt + 50n);
      await mined(f.compute.settleLease(leaseId));
      // Nothing is lost: the seconds the escrow could not pay are paid after the top-up.
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(50n * PRICE);
      expect((await f.compute.leaseAccrual(leaseId)).overdrawn).to.equal(false);
    });

    it("test_topUp_worksWhilePaused", async function () {
      const f = get();
      const { leaseId } = await startLease(f);
      await f.compute.connect(f.admin).pause();
      await f.compute.connect(f.client).topUp(leaseId, 1n);
      expect((await f.compute.getLease(leaseId)).escrow).to.equal(ESCROW + 1n);
    });
  });

  describe("withdraw", function () {
    it("test_withdraw_paysTheProvidersEarningsToItsPayee", async function () {
      const f = get();
      const payee = f.others[1];
      if (!payee) throw new Error("signer missing");
      await f.registry.connect(f.provider).updateProvider(payee.address, "http://127.0.0.1:9000/p", 1n, 1n);
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 60n);
      await mined(f.compute.settleLease(leaseId));
      const earned = 60n * PRICE;
      await expect(f.compute.connect(f.provider).withdraw(earned))
        .to.emit(f.compute, "Withdrawn")
        .withArgs(f.provider.address, payee.address, earned);
      expect(await f.token.balanceOf(payee.address)).to.equal(earned);
      await expect(f.compute.connect(f.provider).withdraw(1n))
        .to.be.revertedWithCustomError(f.compute, "LedgerInsufficientBalance")
        .withArgs(f.provider.address, 0n, 1n);
      await expectComputeFundsConserved(f, { leases: [leaseId] });
    });
  });

  describe("leaseAccrual", function () {
    it("test_leaseAccrual_reportsWhatAnAgentNeeds", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      let a = await f.compute.leaseAccrual(leaseId);
      expect([a.active, a.currentPeriod, a.heartbeatDue, a.reportablePeriods, a.settleable]).to.deep.equal([
        true,
        0n,
        true,
        0n,
        0n,
      ]);
      expect(a.fundedUntil).to.equal(startedAt + ESCROW / PRICE);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await f.helpers.time.increaseTo(startedAt + 3n * HEARTBEAT + 5n);
      a = await f.compute.leaseAccrual(leaseId);
      expect([
        a.currentPeriod,
        a.heartbeatDue,
        a.reportablePeriods,
        a.settleable,
        a.overdrawn,
        a.ended,
      ]).to.deep.equal([3n, false, 2n, HEARTBEAT * PRICE, false, false]);
      a = await f.compute.leaseAccrual(77n);
      expect([a.active, a.currentPeriod, a.fundedUntil]).to.deep.equal([false, 0n, 0n]);
    });
  });
});
