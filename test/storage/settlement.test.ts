import { expect } from "chai";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import { skippedChallenge } from "../../offchain/sdk/proofs/challenges.js";
import {
  defaultParameters,
  deployMarket,
  enterProofWindow,
  PERIOD,
  proveNext,
  USDC,
  type StorageFixture,
} from "../helpers/fixture.js";
import {
  atNextBlock,
  bpsOf,
  COLLATERAL,
  EndReason,
  escrowOf,
  expectFundsConserved,
  goToPeriod,
  publishDeal,
  publishDeals,
  useStorageFixture,
} from "./streams.helpers.js";

describe("StorageMarket settlement and ledger", function () {
  const get = useStorageFixture();

  /** Settle `deal` at timestamp `ts` and check the DealSettled event and the provider's credit. */
  async function settleAt(
    f: StorageFixture,
    deal: DealTerms,
    ts: bigint,
    amount: bigint,
    paidSeconds: bigint,
  ): Promise<void> {
    const before = await f.market.balanceOf(deal.provider);
    await atNextBlock(f, ts);
    await expect(f.market.connect(f.watcher).settleDeal(deal))
      .to.emit(f.market, "DealSettled")
      .withArgs(deal.id, amount);
    expect(await f.market.balanceOf(deal.provider)).to.equal(before + amount);
    const [, paid] = await f.market.dealState(deal.id);
    expect(paid).to.equal(paidSeconds);
  }

  describe("settleDeal", function () {
    it("pays nothing before the deal starts", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      expect(await f.market.settleableAmount(deal)).to.equal(0n);
      await settleAt(f, deal, (await f.market.periodStart(deal.startPeriod)) - 1n, 0n, 0n);
    });

    it("pays exactly the seconds elapsed in a proven period, and only up to the proven horizon", async function () {
      const f = get();
      const price = 7n;
      const { deal, held } = await publishDeal(f, { pricePerSecond: price });
      const start = await f.market.periodStart(deal.startPeriod);
      await enterProofWindow(f, deal.startPeriod);
      await proveNext(f, f.provider, held);
      // The proven period is paid second by second while it runs.
      await settleAt(f, deal, start + 2000n, price * 2000n, 2000n);
      expect(await f.market.settleableAmount(deal)).to.equal(0n);
      // The next period is not proven yet: payment stops at its start however late it gets.
      await goToPeriod(f, deal.startPeriod + 1n, 1000n);
      expect(await f.market.settleableAmount(deal)).to.equal(price * (PERIOD - 2000n));
      await settleAt(f, deal, start + PERIOD + 1001n, price * (PERIOD - 2000n), PERIOD);
      await goToPeriod(f, deal.startPeriod + 1n, 2500n);
      expect(await f.market.settleableAmount(deal)).to.equal(0n);
      await settleAt(f, deal, start + PERIOD + 2501n, 0n, PERIOD);
      // Once proven, the rest of that period is paid up to now.
      await proveNext(f, f.provider, held);
      await settleAt(f, deal, start + 2n * PERIOD - 100n, price * (PERIOD - 100n), 2n * PERIOD - 100n);
      await expectFundsConserved(f, [deal]);
    });

    it("pays at most up to the deal's end, however long after it is settled", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f, { periods: 2n, pricePerSecond: 3n });
      await proveNext(f, f.provider, held);
      await proveNext(f, f.provider, held);
      const end = await f.market.periodStart(deal.endPeriod);
      await goToPeriod(f, deal.endPeriod + 5n);
      expect(await f.market.settleableAmount(deal)).to.equal(escrowOf(deal));
      await settleAt(f, deal, end + 5n * PERIOD + 10n, escrowOf(deal), 2n * PERIOD);
      await settleAt(f, deal, end + 5n * PERIOD + 20n, 0n, 2n * PERIOD);
    });

    it("settling twice at the same horizon pays nothing the second time", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f, { pricePerSecond: 5n });
      await proveNext(f, f.provider, held);
      await goToPeriod(f, deal.startPeriod + 1n, 60n);
      await f.market.connect(f.provider).settleDeal(deal);
      const credited = await f.market.balanceOf(f.provider.address);
      expect(credited).to.equal(5n * PERIOD);
      await expect(f.market.connect(f.client).settleDeal(deal))
        .to.emit(f.market, "DealSettled")
        .withArgs(deal.id, 0n);
      expect(await f.market.balanceOf(f.provider.address)).to.equal(credited);
      expect((await f.market.dealState(deal.id))[1]).to.equal(PERIOD);
    });

    it("never pays missed or declared periods, before or after they are resolved", async function () {
      const f = get();
      const price = 10n;
      const { deal, held } = await publishDeal(f, { periods: 4n, pricePerSecond: price });
      const s = deal.startPeriod;
      const start = await f.market.periodStart(s);
      await proveNext(f, f.provider, held);
      // Period s+1 is missed.
      await goToPeriod(f, s + 2n, 10n);
      await f.market.connect(f.provider).reportMissedProofs(f.provider.address);
      await settleAt(f, deal, start + 2n * PERIOD + 20n, price * PERIOD, PERIOD);
      // Period s+2 is declared faulty, then "proven" with skipped answers.
      await f.market.connect(f.provider).declareFaults([deal.id]);
      await enterProofWindow(f, s + 2n);
      await f.market.connect(f.provider).submitProof(s + 2n, [skippedChallenge(), skippedChallenge()]);
      await settleAt(f, deal, start + 3n * PERIOD + 5n, 0n, PERIOD);
      // Period s+3 is proven: in total two of four periods are paid.
      await proveNext(f, f.provider, held);
      await settleAt(f, deal, start + 4n * PERIOD + 50n, price * PERIOD, 2n * PERIOD);
      expect(await f.market.dealFaults(deal)).to.deep.equal([1n, 1n]);
      // Finalizing pays nothing more and refunds the two faulted periods.
      const penalty = bpsOf(COLLATERAL, 1000n + 500n);
      const toTreasury = bpsOf(penalty, 1000n);
      await expect(f.market.connect(f.watcher).finalizeDeal(deal))
        .to.emit(f.market, "DealEnded")
        .withArgs(
          deal.id,
          EndReason.Expired,
          0n,
          price * 2n * PERIOD,
          penalty - toTreasury,
          COLLATERAL - penalty,
        );
      await expectFundsConserved(f, []);
    });

    it("settleableAmount matches what settleDeal credits", async function () {
      const f = get();
      const price = 9n;
      const { deal, held } = await publishDeal(f, { pricePerSecond: price });
      const start = await f.market.periodStart(deal.startPeriod);
      await proveNext(f, f.provider, held);
      // Views run at the latest block's timestamp.
      const latest = BigInt(await f.helpers.time.latest());
      expect(await f.market.settleableAmount(deal)).to.equal(price * (latest - start));
      // In the unproven part of the next period the amount no longer depends on the time.
      await goToPeriod(f, deal.startPeriod + 1n, 700n);
      const view = await f.market.settleableAmount(deal);
      expect(view).to.equal(price * PERIOD);
      await expect(f.market.connect(f.watcher).settleDeal(deal))
        .to.emit(f.market, "DealSettled")
        .withArgs(deal.id, view);
      expect((await f.market.dealState(deal.id))[1]).to.equal(PERIOD);
      expect(await f.market.settleableAmount(deal)).to.equal(0n);
    });

    it("settles each deal of a provider independently", async function () {
      const f = get();
      const { deals, held } = await publishDeals(f, [
        { pricePerSecond: 2n },
        { pricePerSecond: 3n, client: f.client2 },
      ]);
      const [a, b] = deals as [DealTerms, DealTerms];
      await proveNext(f, f.provider, held);
      await goToPeriod(f, a.startPeriod + 1n);
      await f.market.settleDeal(a);
      expect(await f.market.balanceOf(f.provider.address)).to.equal(2n * PERIOD);
      expect(await f.market.settleableAmount(b)).to.equal(3n * PERIOD);
      await f.market.settleDeal(b);
      expect(await f.market.balanceOf(f.provider.address)).to.equal(5n * PERIOD);
      await expectFundsConserved(f, [a, b]);
    });

    it("settleDealWithHint pays exactly what settleDeal pays, whatever the fault-run hint", async function () {
      const f = get();
      const { deal: a, held } = await publishDeal(f, { pricePerSecond: 3n });
      // Fault runs of the provider: [1, 2], [4], and after b is published, [7].
      await goToPeriod(f, a.startPeriod + 2n, 10n);
      await f.market.connect(f.provider).reportMissedProofs(f.provider.address);
      await proveNext(f, f.provider, held);
      await goToPeriod(f, a.startPeriod + 4n, 10n);
      await f.market.connect(f.provider).reportMissedProofs(f.provider.address);
      const { deal: b, held: heldB } = await publishDeal(f, { pricePerSecond: 5n });
      for (const [id, entry] of heldB) held.set(id, entry);
      await proveNext(f, f.provider, held);
      await proveNext(f, f.provider, held);
      await goToPeriod(f, b.startPeriod + 2n, 10n);
      await f.market.connect(f.provider).reportMissedProofs(f.provider.address);
      await proveNext(f, f.provider, held);
      await goToPeriod(f, b.startPeriod + 3n);
      expect(await f.market.dealFaults(a)).to.deep.equal([4n, 0n]);
      expect(await f.market.dealFaults(b)).to.deep.equal([1n, 0n]);
      const expected = new Map([
        [a.id, 3n * 4n * PERIOD],
        [b.id, 5n * 2n * PERIOD],
      ]);
      for (const deal of [a, b]) {
        expect(await f.market.settleDeal.staticCall(deal)).to.equal(expected.get(deal.id));
        for (const hint of [0n, 1n, 2n, 3n, 4n, 1n << 255n, (1n << 256n) - 1n]) {
          expect(await f.market.settleDealWithHint.staticCall(deal, hint), `hint ${hint}`).to.equal(
            expected.get(deal.id),
          );
        }
      }
      await expect(f.market.settleDealWithHint(b, 7n))
        .to.emit(f.market, "DealSettled")
        .withArgs(b.id, 5n * 2n * PERIOD);
      await expect(f.market.settleDealWithHint(a, 0n))
        .to.emit(f.market, "DealSettled")
        .withArgs(a.id, 3n * 4n * PERIOD);
      expect((await f.market.dealState(a.id))[1]).to.equal(4n * PERIOD);
      expect((await f.market.dealState(b.id))[1]).to.equal(2n * PERIOD);
      await expectFundsConserved(f, [a, b]);
    });

    it("rejects terms that differ from the published deal in any field (MarketUnknownDeal)", async function () {
      const f = get();
      const { deals } = await publishDeals(f, [{}, {}]);
      const [deal, other] = deals as [DealTerms, DealTerms];
      const altered: DealTerms[] = [
        { ...deal, id: other.id },
        { ...deal, id: 12_345n },
        { ...deal, client: f.client2.address },
        { ...deal, provider: f.provider2.address },
        { ...deal, root: other.root },
        { ...deal, size: deal.size + 1n },
        { ...deal, startPeriod: deal.startPeriod + 1n },
        { ...deal, endPeriod: deal.endPeriod + 1n },
        { ...deal, pricePerSecond: deal.pricePerSecond + 1n },
        { ...deal, collateral: deal.collateral - 1n },
      ];
      for (const terms of altered) {
        await expect(f.market.settleDeal(terms))
          .to.be.revertedWithCustomError(f.market, "MarketUnknownDeal")
          .withArgs(terms.id);
        await expect(f.market.settleableAmount(terms))
          .to.be.revertedWithCustomError(f.market, "MarketUnknownDeal")
          .withArgs(terms.id);
      }
      await expect(f.market.settleDeal(deal)).to.emit(f.market, "DealSettled");
    });

    it("rejects the terms of a deal that has ended", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      await f.market.connect(f.client).terminateDeal(deal);
      await expect(f.market.settleDeal(deal))
        .to.be.revertedWithCustomError(f.market, "MarketUnknownDeal")
        .withArgs(deal.id);
    });

    it("keeps settling while the market is paused", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f, { pricePerSecond: 4n });
      await proveNext(f, f.provider, held);
      await f.market.connect(f.admin).pause();
      await goToPeriod(f, deal.startPeriod + 1n);
      await expect(f.market.settleDeal(deal))
        .to.emit(f.market, "DealSettled")
        .withArgs(deal.id, 4n * PERIOD);
    });
  });

  describe("ledger", function () {
    async function providerEarns(f: StorageFixture, price = 10n): Promise<bigint> {
      const { deal, held } = await publishDeal(f, { pricePerSecond: price });
      await proveNext(f, f.provider, held);
      await goToPeriod(f, deal.startPeriod + 1n);
      await f.market.settleDeal(deal);
      return price * PERIOD;
    }

    it("withdraws a provider's earnings to its registry payee", async function () {
      const f = get();
      const earned = await providerEarns(f);
      const payee = f.others[2];
      if (!payee) throw new Error("signer missing");
      await f.registry
        .connect(f.provider)
        .updateProvider(payee.address, "http://127.0.0.1:9000/p", 1n << 40n, 2n * USDC);
      const part = earned / 3n;
      const tx = await f.market.connect(f.provider).withdraw(part);
      await expect(tx).to.emit(f.market, "Withdrawn").withArgs(f.provider.address, payee.address, part);
      await expect(tx).to.changeTokenBalances(
        f.ethers,
        f.token,
        [payee, f.provider, f.market],
        [part, 0n, -part],
      );
      expect(await f.market.balanceOf(f.provider.address)).to.equal(earned - part);
      await f.market.connect(f.provider).withdraw(earned - part);
      expect(await f.market.balanceOf(f.provider.address)).to.equal(0n);
      expect(await f.token.balanceOf(payee.address)).to.equal(earned);
    });

    it("withdraws a client's refund to the client itself, also while the market is paused", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      await f.market.connect(f.client).terminateDeal(deal);
      const refund = escrowOf(deal);
      expect(await f.market.balanceOf(f.client.address)).to.equal(refund);
      await f.market.connect(f.admin).pause();
      const tx = await f.market.connect(f.client).withdraw(refund);
      await expect(tx).to.emit(f.market, "Withdrawn").withArgs(f.client.address, f.client.address, refund);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [f.client, f.market], [refund, -refund]);
      await expectFundsConserved(f, []);
    });

    it("rejects withdrawing more than the balance (LedgerInsufficientBalance)", async function () {
      const f = get();
      const earned = await providerEarns(f);
      await expect(f.market.connect(f.provider).withdraw(earned + 1n))
        .to.be.revertedWithCustomError(f.market, "LedgerInsufficientBalance")
        .withArgs(f.provider.address, earned, earned + 1n);
      await expect(f.market.connect(f.watcher).withdraw(1n))
        .to.be.revertedWithCustomError(f.market, "LedgerInsufficientBalance")
        .withArgs(f.watcher.address, 0n, 1n);
    });

    it("rejects zero amounts (LedgerZeroAmount)", async function () {
      const f = get();
      await expect(f.market.connect(f.client).withdraw(0n)).to.be.revertedWithCustomError(
        f.market,
        "LedgerZeroAmount",
      );
      await expect(f.market.connect(f.client).deposit(f.client.address, 0n)).to.be.revertedWithCustomError(
        f.market,
        "LedgerZeroAmount",
      );
    });

    it("credits a deposit to any account, pulling exactly the amount from the payer", async function () {
      const f = get();
      const amount = 123n * USDC;
      const tx = await f.market.connect(f.client).deposit(f.client.address, amount);
      await expect(tx).to.emit(f.market, "Deposited").withArgs(f.client.address, f.client.address, amount);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [f.client, f.market], [-amount, amount]);
      await expect(f.market.connect(f.client).deposit(f.watcher.address, 7n))
        .to.emit(f.market, "Deposited")
        .withArgs(f.watcher.address, f.client.address, 7n);
      expect(await f.market.balanceOf(f.client.address)).to.equal(amount);
      expect(await f.market.balanceOf(f.watcher.address)).to.equal(7n);
      await expectFundsConserved(f, []);
      // A deposit is withdrawable in full.
      await f.market.connect(f.watcher).withdraw(7n);
      expect(await f.token.balanceOf(f.watcher.address)).to.equal(7n);
    });

    it("funds a deal from the deposited balance instead of the allowance when it covers the escrow", async function () {
      const f = get();
      await f.market.connect(f.client).deposit(f.client.address, 1_000n * USDC);
      const tokensBefore = await f.token.balanceOf(f.client.address);
      const { deal } = await publishDeal(f);
      expect(await f.market.balanceOf(f.client.address)).to.equal(1_000n * USDC - escrowOf(deal));
      expect(await f.token.balanceOf(f.client.address)).to.equal(tokensBefore);
      await expectFundsConserved(f, [deal]);
    });

    it("rejects a deposit of a token that delivers less than the amount (PaymentTokenShortfall)", async function () {
      const f = get();
      const token = await f.ethers.deployContract("FeeOnTransferToken");
      const registry = await f.ethers.deployContract("ProviderRegistry", [
        await token.getAddress(),
        f.admin.address,
        86_400n,
      ]);
      const market = await deployMarket(f.ethers, {
        registry: await registry.getAddress(),
        token: await token.getAddress(),
        admin: f.admin.address,
        treasury: f.treasury.address,
        provingPeriod: PERIOD,
        params: defaultParameters(),
      });
      await token.mint(f.client.address, 1_000n);
      await token.connect(f.client).approve(await market.getAddress(), 1_000n);
      await expect(market.connect(f.client).deposit(f.client.address, 1_000n))
        .to.be.revertedWithCustomError(market, "PaymentTokenShortfall")
        .withArgs(1_000n, 990n);
    });

    it("collects the slashed tokens the registry owes when a withdrawal needs them", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      await goToPeriod(f, deal.startPeriod + 3n, 10n);
      await f.market.connect(f.provider).reportMissedProofs(f.provider.address);
      await f.market.connect(f.watcher).terminateFaultyDeal(deal);
      const market = await f.market.getAddress();
      expect(await f.registry.slashedOwedTo(market)).to.equal(COLLATERAL);
      expect(await f.token.balanceOf(market)).to.equal(escrowOf(deal));
      const owed = await f.market.balanceOf(f.client.address);
      expect(owed).to.equal(escrowOf(deal) + bpsOf(COLLATERAL, 8000n));
      const tx = await f.market.connect(f.client).withdraw(owed);
      await expect(tx).to.emit(f.registry, "SlashedCollected").withArgs(market, COLLATERAL);
      await expect(tx).to.changeTokenBalance(f.ethers, f.token, f.client, owed);
      expect(await f.registry.slashedOwedTo(market)).to.equal(0n);
      await expectFundsConserved(f, []);
      // The treasury and the caller can still withdraw their shares.
      await f.market.connect(f.treasury).withdraw(bpsOf(COLLATERAL, 1000n));
      await f.market.connect(f.watcher).withdraw(bpsOf(COLLATERAL, 1000n));
      expect(await f.token.balanceOf(market)).to.equal(0n);
    });
  });
});
