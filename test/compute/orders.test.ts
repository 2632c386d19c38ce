import { expect } from "chai";
import { ZeroHash } from "ethers";
import {
  CLOSE_BOUNTY,
  DEPOSIT,
  expectComputeFundsConserved,
  HEARTBEAT,
  mined,
  now,
  orderRequest,
  OrderStatus,
  PARAMS,
  placeBid,
  postOrder,
  useComputeFixture,
} from "./helpers.js";

describe("ComputeMarket orders", function () {
  const get = useComputeFixture();

  describe("createOrder", function () {
    it("test_createOrder_storesTheTermsAndPullsTheDepositFromTheAllowance", async function () {
      const f = get();
      const request = await orderRequest(f, { duration: 7200n, minNoticeWindow: 120n });
      const before = await f.token.balanceOf(f.client.address);
      const receipt = await mined(f.compute.connect(f.client).createOrder(request));
      expect(await f.compute.lastOrderId()).to.equal(1n);
      expect(await f.token.balanceOf(f.client.address)).to.equal(before - DEPOSIT);
      expect(await f.token.balanceOf(await f.compute.getAddress())).to.equal(DEPOSIT);

      const order = await f.compute.getOrder(1n);
      expect(order.tenant).to.equal(f.client.address);
      expect(order.status).to.equal(OrderStatus.Open);
      expect(order.bidCount).to.equal(0n);
      expect(order.expiresAt).to.equal(request.expiresAt);
      expect(order.duration).to.equal(7200n);
      expect(order.deposit).to.equal(DEPOSIT);
      expect(order.maxPricePerSecond).to.equal(request.maxPricePerSecond);
      expect(order.minNoticeWindow).to.equal(120n);
      expect(order.minCollateral).to.equal(request.minCollateral);
      expect(order.closeBounty).to.equal(CLOSE_BOUNTY);

      const [event] = await f.compute.queryFilter(f.compute.filters.OrderCreated(1n), receipt.blockNumber);
      if (!event) throw new Error("no OrderCreated");
      expect(event.args.orderId).to.equal(1n);
      expect(event.args.tenant).to.equal(f.client.address);
      expect(event.args.closeBounty).to.equal(CLOSE_BOUNTY);
      const r = event.args.request;
      expect(r.workloadHash).to.equal(request.workloadHash);
      expect(r.spec.cpuMillicores).to.equal(2000n);
      expect(r.spec.memoryMiB).to.equal(4096n);
      expect(r.spec.storageGiB).to.equal(20n);
      expect(r.spec.region).to.equal(request.spec.region);
      expect(r.deposit).to.equal(DEPOSIT);
      expect(r.duration).to.equal(7200n);
      expect(r.expiresAt).to.equal(request.expiresAt);
      expect(r.minNoticeWindow).to.equal(120n);
      await expectComputeFundsConserved(f, { orders: [1n] });
    });

    it("test_createOrder_takesTheDepositFromTheLedgerBalanceWhenItCovers", async function () {
      const f = get();
      const compute = await f.compute.getAddress();
      await f.compute.connect(f.client).deposit(f.client.address, DEPOSIT + 5n);
      const tokensBefore = await f.token.balanceOf(f.client.address);
      await postOrder(f);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(5n);
      expect(await f.token.balanceOf(f.client.address)).to.equal(tokensBefore);
      expect(await f.token.balanceOf(compute)).to.equal(DEPOSIT + 5n);
      await expectComputeFundsConserved(f, { orders: [1n] });
    });

    it("test_createOrder_numbersOrdersFromOne", async function () {
      const f = get();
      expect(await f.compute.lastOrderId()).to.equal(0n);
      expect(await postOrder(f)).to.equal(1n);
      expect(await postOrder(f, {}, f.client2)).to.equal(2n);
      expect((await f.compute.getOrder(2n)).tenant).to.equal(f.client2.address);
      expect((await f.compute.getOrder(3n)).status).to.equal(OrderStatus.None);
    });

    it("test_createOrder_revertsWithoutCpuOrMemory", async function () {
      const f = get();
      for (const spec of [
        { cpuMillicores: 0n, memoryMiB: 1n },
        { cpuMillicores: 1n, memoryMiB: 0n },
      ]) {
        const request = await orderRequest(f);
        request.spec = { ...request.spec, ...spec };
        await expect(f.compute.connect(f.client).createOrder(request)).to.be.revertedWithCustomError(
          f.compute,
          "ComputeEmptyResources",
        );
      }
    });

    it("test_createOrder_revertsOnAZeroMaximumPrice", async function () {
      const f = get();
      await expect(
        f.compute.connect(f.client).createOrder(await orderRequest(f, { maxPricePerSecond: 0n })),
      ).to.be.revertedWithCustomError(f.compute, "ComputeZeroPrice");
    });

    it("test_createOrder_revertsWhenTheDepositDoesNotExceedTheCloseBounty", async function () {
      const f = get();
      await expect(f.compute.connect(f.client).createOrder(await orderRequest(f, { deposit: CLOSE_BOUNTY })))
        .to.be.revertedWithCustomError(f.compute, "ComputeDepositTooSmall")
        .withArgs(CLOSE_BOUNTY, CLOSE_BOUNTY);
      await postOrder(f, { deposit: CLOSE_BOUNTY + 1n });
    });

    it("test_createOrder_acceptsOpenEndedOrBoundedDurations", async function () {
      const f = get();
      const max = BigInt(PARAMS.maxLeaseDuration);
      for (const duration of [HEARTBEAT - 1n, max + 1n]) {
        await expect(f.compute.connect(f.client).createOrder(await orderRequest(f, { duration })))
          .to.be.revertedWithCustomError(f.compute, "ComputeBadDuration")
          .withArgs(duration, HEARTBEAT, max);
      }
      for (const duration of [0n, HEARTBEAT, max]) await postOrder(f, { duration });
      expect(await f.compute.lastOrderId()).to.equal(3n);
    });

    it("test_createOrder_revertsOnAnExpiryOutsideTheOrderLifetime", async function () {
      const f = get();
      const lifetime = BigInt(PARAMS.maxOrderLifetime);
      const t = (await now(f)) + 1n;
      await f.helpers.time.setNextBlockTimestamp(t);
      await expect(f.compute.connect(f.client).createOrder(await orderRequest(f, { expiresAt: t })))
        .to.be.revertedWithCustomError(f.compute, "ComputeBadExpiry")
        .withArgs(t, t, t + lifetime);
      await f.helpers.time.setNextBlockTimestamp(t + 1n);
      await expect(
        f.compute.connect(f.client).createOrder(await orderRequest(f, { expiresAt: t + 2n + lifetime })),
      )
        .to.be.revertedWithCustomError(f.compute, "ComputeBadExpiry")
        .withArgs(t + 2n + lifetime, t + 1n, t + 1n + lifetime);
      await f.helpers.time.setNextBlockTimestamp(t + 2n);
      await f.compute.connect(f.client).createOrder(await orderRequest(f, { expiresAt: t + 2n + lifetime }));
    });

    it("test_createOrder_revertsWhenTheMinimumNoticeExceedsTheLongestAllowed", async function () {
      const f = get();
      const max = BigInt(PARAMS.maxNoticeWindow);
      await expect(
        f.compute.connect(f.client).createOrder(await orderRequest(f, { minNoticeWindow: max + 1n })),
      )
        .to.be.revertedWithCustomError(f.compute, "ComputeBadNoticeWindow")
        .withArgs(max + 1n, 0n, max);
    });

    it("test_createOrder_revertsWhenTheTenantCannotPay", async function () {
      const f = get();
      const broke = f.others[0];
      if (!broke) throw new Error("signer missing");
      await expect(f.compute.connect(broke).createOrder(await orderRequest(f)))
        .to.be.revertedWithCustomError(f.compute, "ComputeUnfunded")
        .withArgs(broke.address, DEPOSIT);
    });

    it("test_createOrder_acceptsAnyWorkloadHashAndZeroedOptionalFields", async function () {
      const f = get();
      const id = await postOrder(f, { workloadHash: ZeroHash, minCollateral: 0n });
      expect((await f.compute.getOrder(id)).minCollateral).to.equal(0n);
    });
  });

  describe("cancelOrder", function () {
    it("test_cancelOrder_creditsTheDepositToTheTenantsLedgerBalance", async function () {
      const f = get();
      const id = await postOrder(f);
      await expect(f.compute.connect(f.client).cancelOrder(id))
        .to.emit(f.compute, "OrderCancelled")
        .withArgs(id, DEPOSIT);
      expect((await f.compute.getOrder(id)).status).to.equal(OrderStatus.Cancelled);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(DEPOSIT);
      await expectComputeFundsConserved(f, { orders: [id] });
      const before = await f.token.balanceOf(f.client.address);
      await f.compute.connect(f.client).withdraw(DEPOSIT);
      expect(await f.token.balanceOf(f.client.address)).to.equal(before + DEPOSIT);
    });

    it("test_cancelOrder_revertsForAnyoneButTheTenant", async function () {
      const f = get();
      const id = await postOrder(f);
      await expect(f.compute.connect(f.client2).cancelOrder(id))
        .to.be.revertedWithCustomError(f.compute, "ComputeNotTenant")
        .withArgs(id, f.client2.address);
    });

    it("test_cancelOrder_revertsUnlessTheOrderIsOpen", async function () {
      const f = get();
      await expect(f.compute.connect(f.client).cancelOrder(9n))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderNotOpen")
        .withArgs(9n, OrderStatus.None);
      const id = await postOrder(f);
      await f.compute.connect(f.client).cancelOrder(id);
      await expect(f.compute.connect(f.client).cancelOrder(id))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderNotOpen")
        .withArgs(id, OrderStatus.Cancelled);
      const filled = await postOrder(f);
      await placeBid(f, filled);
      await f.compute.connect(f.client).acceptBid(filled, f.provider.address);
      await expect(f.compute.connect(f.client).cancelOrder(filled))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderNotOpen")
        .withArgs(filled, OrderStatus.Filled);
    });

    it("test_cancelOrder_worksAfterExpiryAndWhilePaused", async function () {
      const f = get();
      const id = await postOrder(f);
      await f.compute.connect(f.admin).pause();
      await f.helpers.time.increase(7200);
      await f.compute.connect(f.client).cancelOrder(id);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(DEPOSIT);
    });
  });

  describe("expireOrder", function () {
    it("test_expireOrder_letsAnyoneReturnTheDepositOnceTheExpiryIsReached", async function () {
      const f = get();
      const id = await postOrder(f);
      const { expiresAt } = await f.compute.getOrder(id);
      await f.helpers.time.setNextBlockTimestamp(expiresAt - 1n);
      await expect(f.compute.connect(f.watcher).expireOrder(id))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderNotExpired")
        .withArgs(id, expiresAt, expiresAt - 1n);
      await f.helpers.time.setNextBlockTimestamp(expiresAt);
      await expect(f.compute.connect(f.watcher).expireOrder(id))
        .to.emit(f.compute, "OrderExpired")
        .withArgs(id, DEPOSIT);
      expect((await f.compute.getOrder(id)).status).to.equal(OrderStatus.Expired);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(DEPOSIT);
      expect(await f.compute.balanceOf(f.watcher.address)).to.equal(0n);
      await expectComputeFundsConserved(f, { orders: [id] });
      await expect(f.compute.expireOrder(id))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderNotOpen")
        .withArgs(id, OrderStatus.Expired);
    });

    it("test_expireOrder_worksWhilePaused", async function () {
      const f = get();
      const id = await postOrder(f);
      await f.compute.connect(f.admin).pause();
      await f.helpers.time.increase(3600);
      await f.compute.expireOrder(id);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(DEPOSIT);
    });

    it("test_expireOrder_revertsOnAFilledOrder", async function () {
      const f = get();
      const id = await postOrder(f);
      await placeBid(f, id);
      await f.compute.connect(f.client).acceptBid(id, f.provider.address);
      await f.helpers.time.increase(3600);
      await expect(f.compute.expireOrder(id))
        .to.be.revertedWithCustomError(f.compute, "ComputeOrderNotOpen")
        .withArgs(id, OrderStatus.Filled);
    });

    it("test_expireOrder_leavesTheDepositUsableForANewOrder", async function () {
      const f = get();
      const id = await postOrder(f);
      await f.helpers.time.increase(3600);
      await f.compute.expireOrder(id);
      const tokensBefore = await f.token.balanceOf(f.client.address);
      await postOrder(f, { deposit: DEPOSIT });
      expect(await f.token.balanceOf(f.client.address)).to.equal(tokensBefore);
      expect(await f.compute.balanceOf(f.client.address)).to.equal(0n);
    });
  });
});
