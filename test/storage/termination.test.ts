import { expect } from "chai";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import { skippedChallenge } from "../../offchain/sdk/proofs/challenges.js";
import {
  buildProofs,
  enterProofWindow,
  PERIOD,
  proveNext,
  USDC,
  type StorageFixture,
} from "../helpers/fixture.js";
import {
  allAccounts,
  atNextBlock,
  bpsOf,
  COLLATERAL,
  EndReason,
  escrowOf,
  expectFundsConserved,
  goToPeriod,
  publishDeal,
  publishDeals,
  setParams,
  STAKE,
  useStorageFixture,
  type Held,
} from "./streams.helpers.js";

describe("StorageMarket deal endings", function () {
  const get = useStorageFixture();

  async function expectStake(f: StorageFixture, free: bigint, locked: bigint): Promise<void> {
    const stake = await f.registry.stakeInfo(f.provider.address);
    expect([stake.free, stake.locked]).to.deep.equal([free, locked]);
  }

  describe("finalizeDeal", function () {
    it("releases the whole collateral and pays the rest of a clean deal", async function () {
      const f = get();
      const price = 10n;
      const { deal, held } = await publishDeal(f, { periods: 2n, pricePerSecond: price });
      await proveNext(f, f.provider, held);
      await goToPeriod(f, deal.startPeriod + 1n, 5n);
      await f.market.settleDeal(deal);
      await proveNext(f, f.provider, held);
      await goToPeriod(f, deal.endPeriod);
      const tx = await f.market.connect(f.watcher).finalizeDeal(deal);
      await expect(tx)
        .to.emit(f.market, "DealEnded")
        .withArgs(deal.id, EndReason.Expired, price * PERIOD, 0n, 0n, COLLATERAL);
      await expect(tx)
        .to.emit(f.registry, "CollateralUnlocked")
        .withArgs(f.provider.address, await f.market.getAddress(), COLLATERAL);
      await expect(tx).not.to.emit(f.market, "Slashed");
      expect(await f.market.balanceOf(f.provider.address)).to.equal(escrowOf(deal));
      await expectStake(f, STAKE, 0n);
      expect((await f.market.proofState(f.provider.address)).activeDeals).to.equal(0n);
      await expectFundsConserved(f, []);
      await expect(f.market.finalizeDeal(deal))
        .to.be.revertedWithCustomError(f.market, "MarketUnknownDeal")
        .withArgs(deal.id);
    });

    it("rejects finalizing before the end period starts, even with every period proven", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f, { periods: 2n });
      await proveNext(f, f.provider, held);
      await proveNext(f, f.provider, held);
      expect((await f.market.proofState(f.provider.address)).nextPeriod).to.equal(deal.endPeriod);
      await expect(f.market.finalizeDeal(deal))
        .to.be.revertedWithCustomError(f.market, "MarketDealNotOver")
        .withArgs(deal.id, deal.endPeriod, deal.endPeriod);
      await atNextBlock(f, await f.market.periodStart(deal.endPeriod));
      await expect(f.market.finalizeDeal(deal)).to.emit(f.market, "DealEnded");
    });

    it("rejects finalizing while the last period is unresolved, and finalizes once it is reported missed", async function () {
      const f = get();
      const price = 10n;
      const { deal, held } = await publishDeal(f, { periods: 2n, pricePerSecond: price });
      await proveNext(f, f.provider, held);
      await goToPeriod(f, deal.endPeriod, 10n);
      await expect(f.market.finalizeDeal(deal))
        .to.be.revertedWithCustomError(f.market, "MarketDealNotOver")
        .withArgs(deal.id, deal.endPeriod, deal.endPeriod - 1n);
      await goToPeriod(f, deal.endPeriod + 1n, 10n);
      await f.market.connect(f.watcher).reportMissedProofs(f.provider.address);
      const penalty = bpsOf(COLLATERAL, 1000n);
      const toTreasury = bpsOf(penalty, 1000n);
      await expect(f.market.connect(f.watcher).finalizeDeal(deal))
        .to.emit(f.market, "DealEnded")
        .withArgs(
          deal.id,
          EndReason.Expired,
          price * PERIOD,
          escrowOf(deal) - price * PERIOD,
          penalty - toTreasury,
          COLLATERAL - penalty,
        )
        .and.to.emit(f.market, "Slashed")
        .withArgs(f.provider.address, deal.id, penalty - toTreasury, 0n, toTreasury);
      await expectFundsConserved(f, []);
    });

    it("slashes missed and declared penalties from the collateral to the client, with the treasury share", async function () {
      const f = get();
      await setParams(f, {
        missedFaultPenaltyBps: 2500n,
        declaredFaultPenaltyBps: 1000n,
        treasuryShareBps: 3000n,
      });
      const price = 3n;
      const { deal, held } = await publishDeal(f, { periods: 3n, pricePerSecond: price });
      await f.market.connect(f.provider).declareFaults([deal.id]);
      await enterProofWindow(f, deal.startPeriod);
      await f.market
        .connect(f.provider)
        .submitProof(deal.startPeriod, [skippedChallenge(), skippedChallenge()]);
      await proveNext(f, f.provider, held);
      await goToPeriod(f, deal.endPeriod, 10n);
      await f.market.connect(f.provider).reportMissedProofs(f.provider.address);
      expect(await f.market.dealFaults(deal)).to.deep.equal([1n, 1n]);
      const penalty = bpsOf(COLLATERAL, 2500n + 1000n);
      const toTreasury = bpsOf(penalty, 3000n);
      const toClient = penalty - toTreasury;
      expect([penalty, toTreasury, toClient]).to.deep.equal([35n * USDC, 10_500_000n, 24_500_000n]);
      await expect(f.market.connect(f.watcher).finalizeDeal(deal))
        .to.emit(f.market, "DealEnded")
        .withArgs(
          deal.id,
          EndReason.Expired,
          price * PERIOD,
          escrowOf(deal) - price * PERIOD,
          toClient,
          65n * USDC,
        )
        .and.to.emit(f.market, "Slashed")
        .withArgs(f.provider.address, deal.id, toClient, 0n, toTreasury);
      expect(await f.market.balanceOf(f.client.address)).to.equal(escrowOf(deal) - price * PERIOD + toClient);
      expect(await f.market.balanceOf(f.treasury.address)).to.equal(toTreasury);
      await expectStake(f, STAKE - penalty, 0n);
      await expectFundsConserved(f, []);
    });

    it("caps the fault penalty at the collateral", async function () {
      const f = get();
      await setParams(f, { missedFaultPenaltyBps: 5000n, maxFaults: 100n });
      const { deal } = await publishDeal(f, { periods: 3n });
      await goToPeriod(f, deal.endPeriod, 10n);
      await f.market.connect(f.provider).reportMissedProofs(f.provider.address);
      expect(await f.market.dealFaults(deal)).to.deep.equal([3n, 0n]);
      const toTreasury = bpsOf(COLLATERAL, 1000n);
      await expect(f.market.connect(f.watcher).finalizeDeal(deal))
        .to.emit(f.market, "DealEnded")
        .withArgs(deal.id, EndReason.Expired, 0n, escrowOf(deal), COLLATERAL - toTreasury, 0n);
      await expectStake(f, STAKE - COLLATERAL, 0n);
      await expectFundsConserved(f, []);
    });
  });

  describe("terminateDeal", function () {
    it("client: refunds the unstreamed escrow and pays the provider through its proven horizon", async function () {
      const f = get();
      const price = 10n;
      const { deal, held } = await publishDeal(f, { pricePerSecond: price });
      await proveNext(f, f.provider, held);
      await goToPeriod(f, deal.startPeriod + 1n, 100n);
      await f.market.settleDeal(deal);
      await proveNext(f, f.provider, held);
      // Two periods proven; the third is under way and unproven when the client leaves.
      await goToPeriod(f, deal.startPeriod + 2n, 500n);
      const tx = await f.market.connect(f.client).terminateDeal(deal);
      await expect(tx)
        .to.emit(f.market, "DealEnded")
        .withArgs(
          deal.id,
          EndReason.ClientTerminated,
          price * PERIOD,
          escrowOf(deal) - 2n * price * PERIOD,
          0n,
          COLLATERAL,
        );
      await expect(tx).not.to.emit(f.market, "Slashed");
      expect(await f.market.balanceOf(f.provider.address)).to.equal(2n * price * PERIOD);
      expect(await f.market.balanceOf(f.client.address)).to.equal(escrowOf(deal) - 2n * price * PERIOD);
      await expectStake(f, STAKE, 0n);
      await expectFundsConserved(f, []);
    });

    it("client: pays the proven part of the current period up to the termination second", async function () {
      const f = get();
      const price = 7n;
      const { deal, held } = await publishDeal(f, { pricePerSecond: price });
      await proveNext(f, f.provider, held);
      const at = (await f.market.periodStart(deal.startPeriod)) + 3000n;
      await atNextBlock(f, at);
      await expect(f.market.connect(f.client).terminateDeal(deal))
        .to.emit(f.market, "DealEnded")
        .withArgs(
          deal.id,
          EndReason.ClientTerminated,
          price * 3000n,
          escrowOf(deal) - price * 3000n,
          0n,
          COLLATERAL,
        );
      await expectFundsConserved(f, []);
    });

    it("client: gets the whole escrow back before the deal starts", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      await expect(f.market.connect(f.client).terminateDeal(deal))
        .to.emit(f.market, "DealEnded")
        .withArgs(deal.id, EndReason.ClientTerminated, 0n, escrowOf(deal), 0n, COLLATERAL);
      expect(await f.market.balanceOf(f.client.address)).to.equal(escrowOf(deal));
      await expectFundsConserved(f, []);
    });

    it("provider: pays the termination fee from its collateral to the client, with the treasury share", async function () {
      const f = get();
      const price = 10n;
      const { deal, held } = await publishDeal(f, { pricePerSecond: price });
      await proveNext(f, f.provider, held);
      await goToPeriod(f, deal.startPeriod + 1n, 10n);
      const fee = bpsOf(COLLATERAL, 2000n);
      const toTreasury = bpsOf(fee, 1000n);
      const tx = await f.market.connect(f.provider).terminateDeal(deal);
      await expect(tx)
        .to.emit(f.market, "DealEnded")
        .withArgs(
          deal.id,
          EndReason.ProviderTerminated,
          price * PERIOD,
          escrowOf(deal) - price * PERIOD,
          fee - toTreasury,
          COLLATERAL - fee,
        );
      await expect(tx)
        .to.emit(f.market, "Slashed")
        .withArgs(f.provider.address, deal.id, fee - toTreasury, 0n, toTreasury);
      expect(await f.market.balanceOf(f.client.address)).to.equal(
        escrowOf(deal) - price * PERIOD + fee - toTreasury,
      );
      expect(await f.market.balanceOf(f.treasury.address)).to.equal(toTreasury);
      await expectStake(f, STAKE - fee, 0n);
      await expectFundsConserved(f, []);
    });

    it("provider: adds fault penalties to the fee, capped at the collateral", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      await goToPeriod(f, deal.startPeriod + 1n, 10n);
      await f.market.connect(f.provider).reportMissedProofs(f.provider.address);
      const withFault = bpsOf(COLLATERAL, 1000n + 2000n);
      const snapshot = await f.helpers.takeSnapshot();
      await expect(f.market.connect(f.provider).terminateDeal(deal))
        .to.emit(f.market, "DealEnded")
        .withArgs(
          deal.id,
          EndReason.ProviderTerminated,
          0n,
          escrowOf(deal),
          withFault - bpsOf(withFault, 1000n),
          COLLATERAL - withFault,
        );
      await expectFundsConserved(f, []);
      await snapshot.restore();
      await setParams(f, { providerTerminationFeeBps: 9500n });
      await expect(f.market.connect(f.provider).terminateDeal(deal))
        .to.emit(f.market, "DealEnded")
        .withArgs(
          deal.id,
          EndReason.ProviderTerminated,
          0n,
          escrowOf(deal),
          COLLATERAL - bpsOf(COLLATERAL, 1000n),
          0n,
        );
      await expectStake(f, STAKE - COLLATERAL, 0n);
      await expectFundsConserved(f, []);
    });

    it("rejects anyone but the deal's client and provider (MarketNotDealParty)", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      for (const caller of [f.watcher, f.provider2, f.client2, f.admin]) {
        await expect(f.market.connect(caller).terminateDeal(deal))
          .to.be.revertedWithCustomError(f.market, "MarketNotDealParty")
          .withArgs(deal.id, caller.address);
      }
    });

    it("rejects terminating a deal whose end period has started (MarketDealOver)", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f, { periods: 1n });
      await proveNext(f, f.provider, held);
      await atNextBlock(f, await f.market.periodStart(deal.endPeriod));
      for (const party of [f.client, f.provider]) {
        await expect(f.market.connect(party).terminateDeal(deal))
          .to.be.revertedWithCustomError(f.market, "MarketDealOver")
          .withArgs(deal.id, deal.endPeriod);
      }
      await expect(f.market.finalizeDeal(deal)).to.emit(f.market, "DealEnded");
    });
  });

  describe("active deal list", function () {
    async function listOf(f: StorageFixture): Promise<bigint[]> {
      const { activeDeals } = await f.market.proofState(f.provider.address);
      const ids: bigint[] = [];
      for (let i = 0n; i < activeDeals; i++) ids.push(await f.market.activeDealAt(f.provider.address, i));
      return ids;
    }

    async function indexOf(f: StorageFixture, id: bigint): Promise<bigint> {
      const [, , , , index] = await f.market.dealState(id);
      return index;
    }

    it("swap-removes an ended deal from the middle and keeps the other deals provable", async function () {
      const f = get();
      await setParams(f, { challengeCount: 16n });
      const { deals, held } = await publishDeals(f, [{ size: 64 }, { size: 5000 }, { size: 333 }]);
      const [a, b, c] = deals as [DealTerms, DealTerms, DealTerms];
      expect(await listOf(f)).to.deep.equal([a.id, b.id, c.id]);
      await proveNext(f, f.provider, held);
      await f.market.connect(f.client).terminateDeal(b);
      expect(await listOf(f)).to.deep.equal([a.id, c.id]);
      expect(await indexOf(f, c.id)).to.equal(1n);
      expect(await f.market.activeDealAt(f.provider.address, 2n)).to.equal(0n);
      const remaining: Held = new Map([...held].filter(([id]) => id !== b.id));
      await expect(proveNext(f, f.provider, remaining)).to.emit(f.market, "ProofSubmitted");
      // Removing the last entry moves nothing; removing the first moves the last into its place.
      await f.market.connect(f.client).terminateDeal(c);
      expect(await listOf(f)).to.deep.equal([a.id]);
      expect(await indexOf(f, a.id)).to.equal(0n);
      await expectFundsConserved(f, [a]);
    });

    it("moves the last deal into the first slot when the first deal ends, and proves the new list", async function () {
      const f = get();
      await setParams(f, { challengeCount: 16n });
      const { deals, held } = await publishDeals(f, [
        { size: 100 },
        { size: 200 },
        { size: 300 },
        { size: 400 },
      ]);
      const [a, b, c, d] = deals as [DealTerms, DealTerms, DealTerms, DealTerms];
      await f.market.connect(f.provider).terminateDeal(a);
      expect(await listOf(f)).to.deep.equal([d.id, b.id, c.id]);
      expect(await indexOf(f, d.id)).to.equal(0n);
      await enterProofWindow(f, a.startPeriod);
      held.delete(a.id);
      const proofs = await buildProofs(f, f.provider.address, held);
      await expect(f.market.connect(f.provider).submitProof(a.startPeriod, proofs)).to.emit(
        f.market,
        "ProofSubmitted",
      );
      await expectFundsConserved(f, [b, c, d]);
    });
  });

  describe("funds conservation", function () {
    it("keeps market assets equal to ledger balances plus live escrow through every kind of ending", async function () {
      const f = get();
      const { deals, held } = await publishDeals(f, [
        { periods: 6n, pricePerSecond: 11n },
        { periods: 6n, pricePerSecond: 5n, client: f.client2 },
        { periods: 6n, pricePerSecond: 7n },
        { periods: 3n, pricePerSecond: 13n, client: f.client2 },
        { periods: 3n, pricePerSecond: 2n, collateral: 0n },
      ]);
      const [d1, d2, d3, d4, d5] = deals as [DealTerms, DealTerms, DealTerms, DealTerms, DealTerms];
      const { deal: other, held: otherHeld } = await publishDeal(
        f,
        { periods: 2n, client: f.client2 },
        f.provider2,
      );
      const live = new Set<DealTerms>([...deals, other]);
      const check = () => expectFundsConserved(f, [...live]);
      const end = async (deal: DealTerms, action: Promise<unknown>) => {
        await action;
        live.delete(deal);
        await check();
      };
      await check();
      const s = d1.startPeriod;
      await proveNext(f, f.provider, held);
      await proveNext(f, f.provider2, otherHeld);
      await f.market.settleDeal(d1);
      await check();
      await end(d1, f.market.connect(f.client).terminateDeal(d1));
      await end(d2, f.market.connect(f.provider).terminateDeal(d2));
      held.delete(d1.id);
      held.delete(d2.id);
      await proveNext(f, f.provider, held);
      // The provider then misses three periods in a row: d3 reaches maxFaults, d4 ends with one missed period.
      await goToPeriod(f, s + 5n, 10n);
      await f.market.connect(f.watcher).reportMissedProofs(f.provider.address);
      await f.market.connect(f.watcher).reportMissedProofs(f.provider2.address);
      await check();
      await f.market.settleDeal(d4);
      await check();
      await end(d3, f.market.connect(f.client2).terminateFaultyDeal(d3));
      await end(d4, f.market.connect(f.watcher).finalizeDeal(d4));
      await end(d5, f.market.connect(f.watcher).finalizeDeal(d5));
      await end(other, f.market.connect(f.watcher).finalizeDeal(other));
      expect(live.size).to.equal(0);
      // Everyone withdraws everything: nothing is left behind and nothing is missing.
      for (const account of allAccounts(f)) {
        const balance = await f.market.balanceOf(account.address);
        if (balance > 0n) await f.market.connect(account).withdraw(balance);
      }
      const market = await f.market.getAddress();
      expect(await f.token.balanceOf(market)).to.equal(0n);
      expect(await f.registry.slashedOwedTo(market)).to.equal(0n);
    });

    // Regression (found in review): a fault declared for the provider's next period must not be charged
    // against time that is already paid; the ending must never credit more than the escrow.
    it("keeps funds conserved when a settled deal gets a declared fault and then ends", async function () {
      const f = get();
      const price = 10n;
      const { deal, held } = await publishDeal(f, { periods: 3n, pricePerSecond: price });
      await enterProofWindow(f, deal.startPeriod);
      const start = await f.market.periodStart(deal.startPeriod);
      await f.market
        .connect(f.provider)
        .submitProof(deal.startPeriod, await buildProofs(f, f.provider.address, held));
      await atNextBlock(f, start + 2000n);
      await f.market.connect(f.provider).settleDeal(deal);
      expect(await f.market.balanceOf(f.provider.address)).to.equal(price * 2000n);
      await f.market.connect(f.provider).declareFaults([deal.id]);
      await expectFundsConserved(f, [deal]);
      await f.market.connect(f.client).terminateDeal(deal);
      // Between them, client and provider can never be credited more than the escrow (plus the penalty).
      const penaltyToClient = bpsOf(bpsOf(COLLATERAL, 500n), 9000n);
      const credited =
        (await f.market.balanceOf(f.client.address)) + (await f.market.balanceOf(f.provider.address));
      expect(credited - penaltyToClient).to.be.at.most(escrowOf(deal));
      await expectFundsConserved(f, []);
    });
  });
});
