import { expect } from "chai";
import { ZeroAddress } from "ethers";
import {
  missedHeartbeatsReportGasLimit,
  sendMissedHeartbeatsReport,
} from "../../offchain/sdk/compute/reportGas.js";
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
  MISSED_PENALTY,
  reportSplit,
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
  const NO_NOTICE_BPS = BigInt(PARAMS.noNoticePenaltyBps);

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

    it("test_reportMissedHeartbeats_slashesThePenaltyWithAReporterShareAndNeverPaysTheMissedTime", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 2n * HEARTBEAT + 5n);
      const { toTreasury, toReporter, toTenant } = reportSplit(MISSED_PENALTY);
      expect(toReporter).to.be.greaterThan(0n);
      const tx = f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId);
      await expect(tx)
        .to.emit(f.compute, "MissedHeartbeatsReported")
        .withArgs(leaseId, f.watcher.address, 1n, 1n, HEARTBEAT * PRICE, toReporter);
      await expect(tx)
        .to.emit(f.compute, "LeaseSlashed")
        .withArgs(f.provider.address, leaseId, toTenant, toReporter, toTreasury);
      await expect(tx)
        .to.emit(f.registry, "StakeSlashed")
        .withArgs(f.provider.address, await f.compute.getAddress(), MISSED_PENALTY, 0n);
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(toReporter);
      expect(await f.compute.balanceOf(f.treasury.address)).to.equal(toTreasury);
      // The tenant's compensation is credited to its ledger balance at once; the escrow is unchanged.
      expect(await f.compute.balanceOf(f.client.address)).to.equal(toTenant);
      let lease = await f.compute.getLease(leaseId);
      expect([
        lease.nextPeriod,
        lease.missedHeartbeats,
        lease.missedSeconds,
        lease.collateral,
        lease.escrow,
      ]).to.deep.equal([2n, 1n, HEARTBEAT, COLLATERAL - MISSED_PENALTY, ESCROW]);
      expect(await stakeOf(f)).to.deep.equal({
        free: STAKE - COLLATERAL,
        locked: COLLATERAL - MISSED_PENALTY,
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

      // The missed period's cost stayed in the escrow and returns at close, beside the compensation.
      await atNextBlock(f, startedAt + 2n * HEARTBEAT + 30n + 1n);
      await mined(f.compute.connect(f.client).closeLease(leaseId, CloseReason.Tenant));
      expect(await f.compute.balanceOf(f.client.address)).to.equal(
        ESCROW + toTenant - paid - PRICE + CLOSE_BOUNTY,
      );
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(paid + PRICE);
      await expectComputeFundsConserved(f);
    });

    it("test_reportMissedHeartbeats_reportsEveryClosedPeriodAtOnce", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await atNextBlock(f, startedAt + 2n * HEARTBEAT);
      const { toReporter } = reportSplit(2n * MISSED_PENALTY);
      await expect(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId))
        .to.emit(f.compute, "MissedHeartbeatsReported")
        .withArgs(leaseId, f.watcher.address, 0n, 2n, 2n * HEARTBEAT * PRICE, toReporter);
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(toReporter);
      expect((await f.compute.getLease(leaseId)).collateral).to.equal(COLLATERAL - 2n * MISSED_PENALTY);
    });

    it("test_reportMissedHeartbeats_neverTakesTheReservedNoNoticePenalty", async function () {
      const f = get();
      const collateral = MISSED_PENALTY + MISSED_PENALTY / 2n;
      const reserved = bpsOf(collateral, NO_NOTICE_BPS);
      const { leaseId, startedAt } = await startLease(f, {
        order: { minCollateral: 0n },
        bid: { collateral },
      });
      expect((await f.compute.leaseAccrual(leaseId)).reservedPenalty).to.equal(reserved);
      await atNextBlock(f, startedAt + 2n * HEARTBEAT);
      // Two periods owe 2 penalties; only the collateral above the reserve can be taken.
      const slashed = collateral - reserved;
      const { toReporter } = reportSplit(slashed);
      await expect(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId))
        .to.emit(f.compute, "MissedHeartbeatsReported")
        .withArgs(leaseId, f.watcher.address, 0n, 2n, 2n * HEARTBEAT * PRICE, toReporter);
      expect((await f.compute.getLease(leaseId)).collateral).to.equal(reserved);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE - collateral, locked: reserved });
      // The next report reaches the limit: the report itself takes nothing more, and the close pays the whole
      // reserve to the tenant (less the treasury share).
      await atNextBlock(f, startedAt + 2n * HEARTBEAT + HEARTBEAT);
      const before = await f.compute.balanceOf(f.watcher.address);
      const toTreasury = bpsOf(reserved, TREASURY_BPS);
      await expect(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId))
        .to.emit(f.compute, "MissedHeartbeatsReported")
        .withArgs(leaseId, f.watcher.address, 2n, 1n, HEARTBEAT * PRICE, 0n)
        .and.to.emit(f.compute, "LeaseSlashed")
        .withArgs(f.provider.address, leaseId, reserved - toTreasury, 0n, toTreasury);
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(before);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE - collateral, locked: 0n });
      await expectComputeFundsConserved(f);
    });

    it("test_reportMissedHeartbeats_thenLeavingWithoutNoticeStillPaysTheTenantTheFullPenalty", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await atNextBlock(f, startedAt + 2n * HEARTBEAT);
      await mined(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId));
      const reportTenant = reportSplit(2n * MISSED_PENALTY).toTenant;
      await atNextBlock(f, startedAt + 2n * HEARTBEAT + 1n);
      // The penalty is computed on the collateral at acceptance, not on what reports left.
      const penalty = bpsOf(COLLATERAL, NO_NOTICE_BPS);
      const toTreasury = bpsOf(penalty, TREASURY_BPS);
      await expect(f.compute.connect(f.provider).closeLease(leaseId, CloseReason.ProviderWithoutNotice))
        .to.emit(f.compute, "LeaseSlashed")
        .withArgs(f.provider.address, leaseId, penalty - toTreasury, 0n, toTreasury);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(
        ESCROW + reportTenant + CLOSE_BOUNTY + penalty - toTreasury,
      );
      expect(await stakeOf(f)).to.deep.equal({
        free: STAKE - 2n * MISSED_PENALTY - penalty,
        locked: 0n,
      });
      await expectComputeFundsConserved(f);
    });

    it("test_reportMissedHeartbeats_closesTheLeaseAtTheLimitWithAPenaltyToTheTenant", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + (MAX_MISSED + 1n) * HEARTBEAT + 7n);
      const slashed = MAX_MISSED * MISSED_PENALTY;
      const report = reportSplit(slashed);
      const remaining = COLLATERAL - slashed;
      // The larger of the limit's penalty on what remains and the reserved no-notice penalty.
      let penalty = bpsOf(remaining, PENALTY_BPS);
      const reserved = bpsOf(COLLATERAL, NO_NOTICE_BPS);
      if (reserved > penalty) penalty = reserved;
      const toTreasury = bpsOf(penalty, TREASURY_BPS);
      const toTenant = penalty - toTreasury;
      const paid = HEARTBEAT * PRICE;
      const refund = ESCROW - paid + CLOSE_BOUNTY;
      const tx = f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId);
      await expect(tx)
        .to.emit(f.compute, "MissedHeartbeatsReported")
        .withArgs(
          leaseId,
          f.watcher.address,
          1n,
          MAX_MISSED,
          MAX_MISSED * HEARTBEAT * PRICE,
          report.toReporter,
        );
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
        .withArgs(f.provider.address, await f.compute.getAddress(), slashed + penalty, 0n);
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(report.toReporter);
      const client = refund + report.toTenant + toTenant;
      expect(await f.compute.balanceOf(f.client.address)).to.equal(client);
      const treasury = report.toTreasury + toTreasury;
      expect(await f.compute.balanceOf(f.treasury.address)).to.equal(treasury);
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(paid);
      expect(await stakeOf(f)).to.deep.equal({ free: STAKE - slashed - penalty, locked: 0n });
      expect((await f.compute.getLease(leaseId)).provider).to.equal(
        "0x0000000000000000000000000000000000000000",
      );
      await expectComputeFundsConserved(f);
      // The slashed tokens still sit in the registry; the first withdrawal that needs them collects them.
      expect(await f.registry.slashedOwedTo(await f.compute.getAddress())).to.equal(slashed + penalty);
      await mined(f.compute.connect(f.client).withdraw(client));
      await mined(f.compute.connect(f.watcher).withdraw(report.toReporter));
      await mined(f.compute.connect(f.treasury).withdraw(treasury));
      await mined(f.compute.connect(f.provider).withdraw(paid));
      expect(await f.token.balanceOf(await f.compute.getAddress())).to.equal(0n);
      expect(await f.registry.slashedOwedTo(await f.compute.getAddress())).to.equal(0n);
    });

    it("test_reportMissedHeartbeats_leavesAnOverdrawnLeaseOverdrawnAndCreditsTheTenantsBalance", async function () {
      const f = get();
      // Escrow for 100 seconds; periods 0 and 1 are heartbeated, so the resolved time already overdraws it.
      const { leaseId, startedAt } = await startLease(f, { order: { deposit: CLOSE_BOUNTY + PRICE * 100n } });
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await heartbeatAt(f, leaseId, startedAt, 1n);
      await f.helpers.time.increaseTo(startedAt + 3n * HEARTBEAT); // period 2 closed without a heartbeat
      expect((await f.compute.leaseAccrual(leaseId)).overdrawn).to.equal(true);
      const { toTenant, toReporter } = reportSplit(MISSED_PENALTY);
      // The compensation is far larger than the overdraft: had it joined the escrow it would have cured it.
      expect(toTenant).to.be.greaterThan(2n * HEARTBEAT * PRICE);
      await expect(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId))
        .to.emit(f.compute, "LeaseSlashed")
        .withArgs(f.provider.address, leaseId, toTenant, toReporter, bpsOf(MISSED_PENALTY, TREASURY_BPS));
      expect((await f.compute.getLease(leaseId)).escrow).to.equal(PRICE * 100n);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(toTenant);
      expect((await f.compute.leaseAccrual(leaseId)).overdrawn).to.equal(true);
      await expectComputeFundsConserved(f, { leases: [leaseId] });

      // Still closable for insufficient funds: the closer earns the buffer, the provider the 100 paid seconds.
      await expect(f.compute.connect(f.watcher).closeLease(leaseId, CloseReason.InsufficientFunds))
        .to.emit(f.compute, "LeaseClosed")
        .withArgs(
          leaseId,
          CloseReason.InsufficientFunds,
          f.watcher.address,
          PRICE * 100n,
          0n,
          CLOSE_BOUNTY,
          0n,
          COLLATERAL - MISSED_PENALTY,
        );
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(toReporter + CLOSE_BOUNTY);
      await expectComputeFundsConserved(f);

      // The tenant withdraws its compensation (collected from the registry's slashed stake when needed).
      const wallet = await f.token.balanceOf(f.client.address);
      await mined(f.compute.connect(f.client).withdraw(toTenant));
      expect(await f.token.balanceOf(f.client.address)).to.equal(wallet + toTenant);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(0n);
    });

    it("test_reportMissedHeartbeats_countsOnlyTimeInsideTheLease", async function () {
      const f = get();
      const duration = 2n * HEARTBEAT + 30n;
      const { leaseId, startedAt } = await startLease(f, { order: { duration } });
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 10n * HEARTBEAT);
      const { toReporter, toTenant } = reportSplit(2n * MISSED_PENALTY);
      // Periods 1 and 2 are missed; period 2 holds only 30 seconds of the lease.
      await expect(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId))
        .to.emit(f.compute, "MissedHeartbeatsReported")
        .withArgs(leaseId, f.watcher.address, 1n, 2n, (HEARTBEAT + 30n) * PRICE, toReporter);
      const lease = await f.compute.getLease(leaseId);
      expect([lease.nextPeriod, lease.missedSeconds]).to.deep.equal([3n, HEARTBEAT + 30n]);
      await atNextBlock(f, startedAt + 10n * HEARTBEAT + 1n);
      await expect(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId))
        .to.be.revertedWithCustomError(f.compute, "ComputeNoMissedHeartbeats")
        .withArgs(leaseId, 3n, 10n);
      await mined(f.compute.connect(f.watcher).closeLease(leaseId, CloseReason.Expired));
      expect(await f.compute.balanceOf(f.provider.address)).to.equal(HEARTBEAT * PRICE);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(
        ESCROW + toTenant - HEARTBEAT * PRICE + CLOSE_BOUNTY,
      );
      await expectComputeFundsConserved(f);
    });

    it("test_reportMissedHeartbeats_gasLimitOfAnEarlierEstimateCoversTheCloseAPeriodLaterReaches", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      // A first report (its balances exist afterwards, as in a running market).
      await atNextBlock(f, startedAt + HEARTBEAT + 1n);
      await mined(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId));
      // One period short of the limit: the estimate is of a report that does not close the lease.
      await f.helpers.time.increaseTo(startedAt + (MAX_MISSED - 1n) * HEARTBEAT + 1n);
      const estimate = await f.compute.connect(f.watcher).reportMissedHeartbeats.estimateGas(leaseId);
      // The transaction lands a period later: it reports one more period, reaches the limit and closes. With the
      // bare estimate as its limit it runs out of gas (the close's refunds come only at the end).
      const landing = startedAt + MAX_MISSED * HEARTBEAT + 1n;
      const before = await f.helpers.takeSnapshot();
      await atNextBlock(f, landing);
      const bare = async () =>
        (await f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId, { gasLimit: estimate })).wait();
      expect(
        await bare().then(
          () => "landed",
          () => "failed",
        ),
      ).to.equal("failed");
      await before.restore();
      await atNextBlock(f, landing);
      await mined(sendMissedHeartbeatsReport(f.compute.connect(f.watcher), leaseId));
      expect((await f.compute.getLease(leaseId)).provider).to.equal(ZeroAddress);
      expect(missedHeartbeatsReportGasLimit(estimate)).to.be.greaterThan(estimate);
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
