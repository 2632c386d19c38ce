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
      // The storage side also keeps the provider's proof bond locked.
      const [bond] = await f.market.proofBond(f.provider.address);
      expect(bond).to.be.greaterThan(0n);
      expect(await stakeOf(f)).to.deep.equal({
        free: STAKE - 100n * USDC - bond - 2n * COLLATERAL,
        locked: 100n * USDC + bond + 2n * COLLATERAL,
      });
      await mined(f.compute.connect(f.provider).closeLease(a.leaseId, CloseReason.ProviderWithoutNotice));
      const penalty = COLLATERAL / 2n;
      expect(await stakeOf(f)).to.deep.equal({
        free: STAKE - 100n * USDC - bond - COLLATERAL - penalty,
        locked: 100n * USDC + bond + COLLATERAL,
      });
      expect(await f.registry.slashedOwedTo(await f.compute.getAddress())).to.equal(penalty);
      expect(await f.registry.slashedOwedTo(await f.market.getAddress())).to.equal(0n);
      expect((await f.compute.getLease(b.leaseId)).collateral).to.equal(COLLATERAL);
      expect((await f.market.dataSet(dataSetId)).status).to.equal(1n);
      await expectComputeFundsConserved(f, { leases: [b.leaseId] });
    });
  });
});
