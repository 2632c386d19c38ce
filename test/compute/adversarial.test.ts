import { expect } from "chai";
import { Wallet, type Signer } from "ethers";
import type { ComputeMarket, ProviderRegistry } from "../../typechain-types/index.js";
import {
  defaultComputeParameters,
  deployComputeMarket,
  fundClient,
  createDataSet,
  putState,
  topUp,
  UniformTree,
  USDC,
  type StorageFixture,
} from "../helpers/fixture.js";
import {
  atNextBlock,
  BidStatus,
  CloseReason,
  COLLATERAL,
  DEPOSIT,
  expectComputeFundsConserved,
  HEARTBEAT,
  heartbeatAt,
  mined,
  PARAMS,
  setComputeParams,
  NOTICE,
  orderRequest,
  OrderStatus,
  placeBid,
  postOrder,
  PRICE,
  stakeOf,
  STAKE,
  startLease,
  useComputeFixture,
} from "./helpers.js";

/** A registry and compute market on `token`, with the fixture provider registered and staked there. */
async function deployOnToken(
  f: StorageFixture,
  token: string,
): Promise<{ registry: ProviderRegistry; compute: ComputeMarket }> {
  const registry = await f.ethers.deployContract("ProviderRegistry", [token, f.admin.address, 86_400n]);
  const compute = await deployComputeMarket(f.ethers, {
    registry: await registry.getAddress(),
    token,
    admin: f.admin.address,
    treasury: f.treasury.address,
    params: defaultComputeParameters(),
  });
  await registry.grantRole(await registry.MARKET_ROLE(), await compute.getAddress());
  await registry.connect(f.provider).register(f.provider.address, "https://p", 1n, 1n);
  return { registry, compute };
}

describe("ComputeMarket adversarial", function () {
  const get = useComputeFixture();

  describe("hostile tokens", function () {
    it("test_reentrantToken_cannotReenterThroughAnyTokenTransfer", async function () {
      const f = get();
      const token = await f.ethers.deployContract("ReentrantToken");
      const { registry, compute } = await deployOnToken(f, await token.getAddress());
      const guard = compute.interface.getError("ReentrancyGuardReentrantCall")?.selector;
      if (!guard) throw new Error("no guard error");
      await token.mint(f.provider.address, STAKE);
      await token.connect(f.provider).approve(await registry.getAddress(), STAKE);
      await registry.connect(f.provider).stake(f.provider.address, STAKE);
      await token.mint(f.client.address, 1_000n * USDC);
      await token.connect(f.client).approve(await compute.getAddress(), 1_000n * USDC);

      // Deposit pull (createOrder) reentering topUp.
      await token.arm(await compute.getAddress(), compute.interface.encodeFunctionData("topUp", [1n, 1n]));
      await compute.connect(f.client).createOrder(await orderRequest(f));
      expect(await token.lastReentrySucceeded()).to.equal(false);
      expect(await token.lastReentryReturn()).to.equal(guard);

      // Escrow pull (topUp) reentering closeLease.
      await compute.connect(f.provider).createBid(1n, PRICE, COLLATERAL, NOTICE);
      await compute.connect(f.client).acceptBid(1n, f.provider.address);
      await token.arm(
        await compute.getAddress(),
        compute.interface.encodeFunctionData("closeLease", [1n, CloseReason.Tenant]),
      );
      await compute.connect(f.client).topUp(1n, 5n);
      expect(await token.lastReentrySucceeded()).to.equal(false);
      expect(await token.lastReentryReturn()).to.equal(guard);

      // Payout (withdraw) reentering createOrder.
      await compute.connect(f.client).closeLease(1n, CloseReason.Tenant);
      const balance = await compute.balanceOf(f.client.address);
      await token.arm(
        await compute.getAddress(),
        compute.interface.encodeFunctionData("createOrder", [await orderRequest(f)]),
      );
      await compute.connect(f.client).withdraw(balance);
      expect(await token.lastReentrySucceeded()).to.equal(false);
      expect(await token.lastReentryReturn()).to.equal(guard);
      expect(await compute.balanceOf(f.client.address)).to.equal(0n);
    });

    it("test_feeOnTransferToken_isRejectedForOrderAndLedgerDeposits", async function () {
      const f = get();
      const token = await f.ethers.deployContract("FeeOnTransferToken");
      const { compute } = await deployOnToken(f, await token.getAddress());
      await token.mint(f.client.address, 1_000n * USDC);
      await token.connect(f.client).approve(await compute.getAddress(), 1_000n * USDC);
      await expect(compute.connect(f.client).createOrder(await orderRequest(f)))
        .to.be.revertedWithCustomError(compute, "PaymentTokenShortfall")
        .withArgs(DEPOSIT, DEPOSIT - DEPOSIT / 100n);
      await expect(compute.connect(f.client).deposit(f.client.address, DEPOSIT))
        .to.be.revertedWithCustomError(compute, "PaymentTokenShortfall")
        .withArgs(DEPOSIT, DEPOSIT - DEPOSIT / 100n);
    });
  });

  describe("griefing with many bids", function () {
    async function bidders(f: StorageFixture, count: number): Promise<Signer[]> {
      const out: Signer[] = [];
      for (let i = 0; i < count; i++) {
        const wallet = Wallet.createRandom().connect(f.ethers.provider);
        await f.helpers.setBalance(wallet.address, 10n ** 20n);
        await f.registry.connect(wallet).register(wallet.address, "https://sybil", 1n, 1n);
        await f.token.mint(wallet.address, COLLATERAL);
        await f.token.connect(wallet).approve(await f.registry.getAddress(), COLLATERAL);
        await f.registry.connect(wallet).stake(wallet.address, COLLATERAL);
        out.push(wallet);
      }
      return out;
    }

    it("test_createBid_capsActiveBidsAndTheTenantCanFreeSlots", async function () {
      const f = get();
      this.timeout(120_000);
      const id = await postOrder(f, { expiresAt: BigInt(await f.helpers.time.latest()) + 86_400n });
      const max = Number(await f.compute.MAX_BIDS());
      const sybils = await bidders(f, max);
      for (const s of sybils) await f.compute.connect(s).createBid(id, PRICE, COLLATERAL, NOTICE);
      expect((await f.compute.getOrder(id)).bidCount).to.equal(BigInt(max));
      await expect(f.compute.connect(f.provider).createBid(id, PRICE, COLLATERAL, NOTICE))
        .to.be.revertedWithCustomError(f.compute, "ComputeTooManyBids")
        .withArgs(id, BigInt(max));
      const first = sybils[0];
      if (!first) throw new Error("no sybil");
      await f.compute.connect(f.client).rejectBid(id, await first.getAddress());
      // The rejected sybil cannot take the freed slot back; an honest provider can.
      await expect(f.compute.connect(first).createBid(id, PRICE, COLLATERAL, NOTICE))
        .to.be.revertedWithCustomError(f.compute, "ComputeBidExists")
        .withArgs(id, await first.getAddress(), BidStatus.Rejected);
      await placeBid(f, id);
      expect((await f.compute.getOrder(id)).bidCount).to.equal(BigInt(max));
      // Accepting costs the same with a full book; every loser then leaves on its own.
      await f.compute.connect(f.client).acceptBid(id, f.provider.address);
      for (const s of sybils.slice(1)) await f.compute.connect(s).withdrawBid(id);
      for (const s of sybils) {
        expect((await f.registry.stakeInfo(await s.getAddress())).locked).to.equal(0n);
      }
    });

    it("test_acceptBid_costsTheSameGasWithOneBidOrTwenty", async function () {
      const f = get();
      const one = await postOrder(f);
      const twenty = await postOrder(f);
      const crowd = await bidders(f, 19);
      for (const s of crowd) await f.compute.connect(s).createBid(twenty, PRICE, COLLATERAL, NOTICE);
      await placeBid(f, one);
      await placeBid(f, twenty);
      expect((await f.compute.getOrder(twenty)).bidCount).to.equal(20n);
      const gasOne = (await mined(f.compute.connect(f.client).acceptBid(one, f.provider.address))).gasUsed;
      const gasTwenty = (await mined(f.compute.connect(f.client).acceptBid(twenty, f.provider.address)))
        .gasUsed;
      expect(gasTwenty).to.equal(gasOne);
      expect(gasOne).to.be.lessThanOrEqual(200_000n);
    });
  });

  describe("replay and role confusion", function () {
    it("test_replay_everyOneShotActionRevertsTheSecondTime", async function () {
      const f = get();
      const { leaseId, startedAt } = await startLease(f);
      await heartbeatAt(f, leaseId, startedAt, 0n);
      await atNextBlock(f, startedAt + 3n * HEARTBEAT);
      await mined(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId));
      await expect(f.compute.connect(f.watcher).reportMissedHeartbeats(leaseId))
        .to.be.revertedWithCustomError(f.compute, "ComputeNoMissedHeartbeats")
        .withArgs(leaseId, 3n, 3n);
      await mined(f.compute.connect(f.client).closeLease(leaseId, CloseReason.Tenant));
      const credited = await f.compute.balanceOf(f.client.address);
      await expect(f.compute.connect(f.client).closeLease(leaseId, CloseReason.Tenant))
        .to.be.revertedWithCustomError(f.compute, "ComputeUnknownLease")
        .withArgs(leaseId);
      await expect(f.compute.connect(f.client).acceptBid(leaseId, f.provider.address))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderNotOpen")
        .withArgs(leaseId, OrderStatus.Filled);
      await expect(f.compute.connect(f.client).cancelOrder(leaseId))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderNotOpen")
        .withArgs(leaseId, OrderStatus.Filled);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(credited);
      await expectComputeFundsConserved(f);
    });

    it("test_closeLease_aProviderCannotDodgeThePenaltyWithAnotherReason", async function () {
      const f = get();
      const { leaseId } = await startLease(f);
      for (const reason of [
        CloseReason.Tenant,
        CloseReason.ProviderWithNotice,
        CloseReason.Expired,
        CloseReason.InsufficientFunds,
        CloseReason.MissedHeartbeats,
      ]) {
        await expect(f.compute.connect(f.provider).closeLease(leaseId, reason))
          .to.be.revertedWithCustomError(f.compute, "ComputeCloseNotAllowed")
          .withArgs(leaseId, reason, f.provider.address);
      }
    });

    it("test_leases_ofOneProviderAndItsStorageDataSetsKeepTheirCollateralApart", async function () {
      const f = get();
      await fundClient(f, f.client);
      // A 1 TiB data set at 100 tokens per TiB locks exactly 100 tokens (its class capacity).
      const dataSetId = await createDataSet(f, { collateralPerTiB: 100n * USDC });
      await topUp(f, dataSetId, 100n * USDC);
      await (await putState(f, dataSetId, UniformTree.random(1n << 34n))).wait();
      const a = await startLease(f);
      const b = await startLease(f, { tenant: f.client2 });
      // The storage market holds the provider's proof bond itself: it leaves free stake without being locked.
      const [bond] = await f.market.proofBond(f.provider.address);
      expect(bond).to.be.greaterThan(0n);
      expect(await f.registry.slashedOwedTo(await f.market.getAddress())).to.equal(bond);
      expect(await stakeOf(f)).to.deep.equal({
        free: STAKE - 100n * USDC - bond - 2n * COLLATERAL,
        locked: 100n * USDC + 2n * COLLATERAL,
      });
      await mined(f.compute.connect(f.provider).closeLease(a.leaseId, CloseReason.ProviderWithoutNotice));
      const penalty = COLLATERAL / 2n;
      expect(await stakeOf(f)).to.deep.equal({
        free: STAKE - 100n * USDC - bond - COLLATERAL - penalty,
        locked: 100n * USDC + COLLATERAL,
      });
      expect(await f.registry.slashedOwedTo(await f.compute.getAddress())).to.equal(penalty);
      // The compute penalty did not touch what the storage market holds.
      expect(await f.registry.slashedOwedTo(await f.market.getAddress())).to.equal(bond);
      expect((await f.compute.getLease(b.leaseId)).collateral).to.equal(COLLATERAL);
      expect((await f.market.dataSet(dataSetId)).status).to.equal(1n);
      await expectComputeFundsConserved(f, { leases: [b.leaseId] });
    });
  });

  describe("self-reporting through a second address (issue 12's exploit)", function () {
    /** The provider's stake plus the ledger balances of all its addresses. */
    async function wealth(f: StorageFixture, who: { address: string }[]): Promise<bigint> {
      let total = 0n;
      for (const w of who) {
        const s = await f.registry.stakeInfo(w.address);
        total += s.free + s.locked + s.unbonding + (await f.compute.balanceOf(w.address));
      }
      return total;
    }

    it("test_selfReportThenLeaveWithoutNotice_losesAgainstTheHonestTwinAndTheTenantIsCompensated", async function () {
      const f = get();
      // The reproduced exploit: penalty 25 per period, 50 of collateral, the largest reporter share allowed.
      const perPeriod = 25n * USDC;
      const collateral = 50n * USDC;
      await setComputeParams(f, { missedHeartbeatPenalty: perPeriod, reporterShareBps: 5_000n });
      const second = f.others[0];
      if (second === undefined) throw new Error("no spare signer");
      const dev = await startLease(f, { order: { minCollateral: 0n }, bid: { collateral } });
      const honest = await startLease(f, {
        order: { minCollateral: 0n },
        bid: { collateral },
        tenant: f.client2,
        provider: f.provider2,
      });
      const devStart = await wealth(f, [f.provider, second]);
      const honestStart = await wealth(f, [f.provider2]);
      const tenantStart = await f.compute.balanceOf(f.client.address);

      // The honest twin heartbeats periods 0 and 1; the deviator skips both and reports itself.
      await heartbeatAt(f, honest.leaseId, honest.startedAt, 0n, 1n, f.provider2);
      await heartbeatAt(f, honest.leaseId, honest.startedAt, 1n, 1n, f.provider2);
      await atNextBlock(f, dev.startedAt + 2n * HEARTBEAT + 1n);
      await mined(f.compute.connect(second).reportMissedHeartbeats(dev.leaseId));
      // The report could not touch the reserved no-notice penalty.
      const reserved = (collateral * BigInt(PARAMS.noNoticePenaltyBps)) / 10_000n;
      expect((await f.compute.getLease(dev.leaseId)).collateral).to.equal(reserved);
      // Then it leaves without notice; the honest twin's tenant ends its lease at the same time.
      await mined(f.compute.connect(f.provider).closeLease(dev.leaseId, CloseReason.ProviderWithoutNotice));
      await mined(f.compute.connect(f.client2).closeLease(honest.leaseId, CloseReason.Tenant));

      const devDelta = (await wealth(f, [f.provider, second])) - devStart;
      const honestDelta = (await wealth(f, [f.provider2])) - honestStart;
      expect(devDelta).to.be.lessThan(0n);
      expect(devDelta).to.be.lessThan(honestDelta);
      expect(honestDelta).to.be.greaterThan(0n);
      // The tenant receives at least the no-notice penalty on the collateral at acceptance (less the treasury
      // share) on top of its whole escrow: the provider was paid nothing.
      const penaltyToTenant = reserved - (reserved * BigInt(PARAMS.treasuryShareBps)) / 10_000n;
      const tenantGain = (await f.compute.balanceOf(f.client.address)) - tenantStart;
      expect(tenantGain).to.be.at.least(DEPOSIT + penaltyToTenant);
      await expectComputeFundsConserved(f);
    });

    it("test_fuzz_selfReportAtAnyPenaltyAndShare_neverBeatsHeartbeating", async function () {
      const f = get();
      const second = f.others[0];
      if (second === undefined) throw new Error("no spare signer");
      // A seeded sweep over the bounds: penalty per period, reporter share, collateral, missed periods.
      let seed = 12_345n;
      const next = (mod: bigint) => {
        seed = (seed * 6_364_136_223_846_793_005n + 1_442_695_040_888_963_407n) % (1n << 64n);
        return seed % mod;
      };
      for (let round = 0; round < 6; round++) {
        const perPeriod = 1n + next(100n * USDC);
        const share = next(5_001n);
        const collateral = 1n + next(100n * USDC);
        const missed = 1n + next(BigInt(PARAMS.maxMissedHeartbeats));
        await setComputeParams(f, { missedHeartbeatPenalty: perPeriod, reporterShareBps: share });
        const lease = await startLease(f, { order: { minCollateral: 0n }, bid: { collateral } });
        const start = await wealth(f, [f.provider, second]);
        await atNextBlock(f, lease.startedAt + missed * HEARTBEAT + 1n);
        await mined(f.compute.connect(second).reportMissedHeartbeats(lease.leaseId));
        if (
          (await f.compute.getLease(lease.leaseId)).provider !== "0x0000000000000000000000000000000000000000"
        ) {
          await mined(
            f.compute.connect(f.provider).closeLease(lease.leaseId, CloseReason.ProviderWithoutNotice),
          );
        }
        // Honest behaviour never loses stake; the deviator (both addresses) ends strictly below where it began.
        const delta = (await wealth(f, [f.provider, second])) - start;
        expect(
          delta,
          `round ${round}: penalty ${perPeriod}, share ${share}, collateral ${collateral}`,
        ).to.be.lessThan(0n);
      }
    });
  });
});
