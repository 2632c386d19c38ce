import { expect } from "chai";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import { skippedChallenge } from "../../offchain/sdk/proofs/challenges.js";
import {
  buildProofs,
  enterProofWindow,
  PERIOD,
  proveNext,
  registerProvider,
  USDC,
  type StorageFixture,
} from "../helpers/fixture.js";
import {
  bpsOf,
  COLLATERAL,
  EndReason,
  escrowOf,
  expectFundsConserved,
  goToPeriod,
  mined,
  nextBlock,
  publishDeal,
  publishDeals,
  setParams,
  STAKE,
  useStorageFixture,
} from "./streams.helpers.js";

const BOUNTY = 1n * USDC;

describe("StorageMarket faults", function () {
  const get = useStorageFixture();

  /** Let `count` periods after the provider's next one pass unproven (time moves to `offset` into the next). */
  async function missPeriods(f: StorageFixture, count: bigint, offset = 10n): Promise<bigint> {
    const next = (await f.market.proofState(f.provider.address)).nextPeriod;
    await goToPeriod(f, next + count, offset);
    return next;
  }

  describe("declareFaults", function () {
    it("records a fault for the provider's next period and emits FaultDeclared", async function () {
      const f = get();
      const { deals } = await publishDeals(f, [{}, {}]);
      const [a, b] = deals as [DealTerms, DealTerms];
      const period = a.startPeriod;
      await expect(f.market.connect(f.provider).declareFaults([a.id, b.id]))
        .to.emit(f.market, "FaultDeclared")
        .withArgs(f.provider.address, period, a.id)
        .and.to.emit(f.market, "FaultDeclared")
        .withArgs(f.provider.address, period, b.id);
      const [, paidSeconds, declaredFaults, lastDeclaredPlusOne, index] = await f.market.dealState(a.id);
      expect([paidSeconds, declaredFaults, lastDeclaredPlusOne, index]).to.deep.equal([
        0n,
        1n,
        period + 1n,
        0n,
      ]);
      // Declared, but not charged until the declared period is resolved (it may never come for the deal).
      expect(await f.market.dealFaults(a)).to.deep.equal([0n, 0n]);
      expect(await f.market.dealFaults(b)).to.deep.equal([0n, 0n]);
    });

    it("is open up to and including the seed block, and closed once it is mined", async function () {
      const f = get();
      const { deals } = await publishDeals(f, [{}, {}, {}]);
      const [a, b, c] = deals as [DealTerms, DealTerms, DealTerms];
      const { seedBlock } = await f.market.proofState(f.provider.address);
      expect(await nextBlock(f)).to.equal(seedBlock - 1n);
      await f.market.connect(f.provider).declareFaults([a.id]);
      expect(await nextBlock(f)).to.equal(seedBlock);
      await f.market.connect(f.provider).declareFaults([b.id]);
      await expect(f.market.connect(f.provider).declareFaults([c.id]))
        .to.be.revertedWithCustomError(f.market, "MarketDeclarationClosed")
        .withArgs(seedBlock, seedBlock + 1n);
    });

    it("closes again once the seed fixed by a proof is mined", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f);
      const receipt = await mined(proveNext(f, f.provider, held));
      const seedBlock = BigInt(receipt.blockNumber) + 2n;
      await f.helpers.mine(2);
      await expect(f.market.connect(f.provider).declareFaults([deal.id]))
        .to.be.revertedWithCustomError(f.market, "MarketDeclarationClosed")
        .withArgs(seedBlock, seedBlock + 1n);
    });

    it("rejects another provider's deal, an unknown id and an ended deal, reverting the whole batch", async function () {
      const f = get();
      const { deal: foreign } = await publishDeal(f, {}, f.provider2);
      const { deals } = await publishDeals(f, [{}, {}]);
      const [own, ended] = deals as [DealTerms, DealTerms];
      await f.market.connect(f.client).terminateDeal(ended);
      // Failed declarations mine no block, so every attempt below runs while declarations are open.
      for (const id of [foreign.id, 999n, ended.id, 0n]) {
        await expect(f.market.connect(f.provider).declareFaults([own.id, id]))
          .to.be.revertedWithCustomError(f.market, "MarketNotProviderDeal")
          .withArgs(id, f.provider.address);
      }
      const [, , declaredFaults] = await f.market.dealState(own.id);
      expect(declaredFaults).to.equal(0n);
    });

    it("rejects declaring the same deal twice for one period, in one call or in two", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      await expect(f.market.connect(f.provider).declareFaults([deal.id, deal.id]))
        .to.be.revertedWithCustomError(f.market, "MarketAlreadyDeclared")
        .withArgs(deal.id, deal.startPeriod);
      await f.market.connect(f.provider).declareFaults([deal.id]);
      await expect(f.market.connect(f.provider).declareFaults([deal.id]))
        .to.be.revertedWithCustomError(f.market, "MarketAlreadyDeclared")
        .withArgs(deal.id, deal.startPeriod);
    });

    it("rejects a declaration while closed periods are unresolved, and accepts it after they are reported", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      await missPeriods(f, 2n);
      const current = await f.market.currentPeriod();
      await expect(f.market.connect(f.provider).declareFaults([deal.id]))
        .to.be.revertedWithCustomError(f.market, "MarketUnresolvedPeriods")
        .withArgs(f.provider.address, deal.startPeriod, current);
      await f.market.connect(f.provider).reportMissedProofs(f.provider.address);
      await expect(f.market.connect(f.provider).declareFaults([deal.id]))
        .to.emit(f.market, "FaultDeclared")
        .withArgs(f.provider.address, current, deal.id);
    });

    it("skips the declared deal's challenges and charges the period as declared, not missed", async function () {
      const f = get();
      const { deal } = await publishDeal(f, { pricePerSecond: 10n });
      await f.market.connect(f.provider).declareFaults([deal.id]);
      await enterProofWindow(f, deal.startPeriod);
      await f.market
        .connect(f.provider)
        .submitProof(deal.startPeriod, [skippedChallenge(), skippedChallenge()]);
      expect(await f.market.dealFaults(deal)).to.deep.equal([0n, 1n]);
      expect((await f.market.proofState(f.provider.address)).missedPeriods).to.equal(0n);
      // The declared period is never paid.
      await goToPeriod(f, deal.startPeriod + 1n, 100n);
      expect(await f.market.settleableAmount(deal)).to.equal(0n);
    });

    it("stops at 255 declared faults per deal (MarketFaultLimitReached)", async function () {
      this.timeout(120_000);
      const f = get();
      const { deal } = await publishDeal(f, { periods: 300n, pricePerSecond: 1n });
      for (let i = 0; i < 255; i++) {
        await f.market.connect(f.provider).declareFaults([deal.id]);
        const next = (await f.market.proofState(f.provider.address)).nextPeriod;
        await f.helpers.time.increaseTo(await f.market.periodStart(next + 1n));
        // Reporting the period resolves it and fixes a fresh seed, which reopens declarations.
        await f.market.connect(f.provider).reportMissedProofs(f.provider.address);
      }
      const [, , declaredFaults] = await f.market.dealState(deal.id);
      expect(declaredFaults).to.equal(255n);
      await expect(f.market.connect(f.provider).declareFaults([deal.id]))
        .to.be.revertedWithCustomError(f.market, "MarketFaultLimitReached")
        .withArgs(deal.id);
    });
  });

  describe("reportMissedProofs", function () {
    it("rejects a report when no closed period is unresolved", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f);
      const current = await f.market.currentPeriod();
      await expect(f.market.connect(f.watcher).reportMissedProofs(f.provider.address))
        .to.be.revertedWithCustomError(f.market, "MarketNoMissedPeriods")
        .withArgs(f.provider.address, deal.startPeriod, current);
      // During the first period: it is not closed yet.
      await goToPeriod(f, deal.startPeriod, 3599n - 60n);
      await expect(f.market.connect(f.watcher).reportMissedProofs(f.provider.address))
        .to.be.revertedWithCustomError(f.market, "MarketNoMissedPeriods")
        .withArgs(f.provider.address, deal.startPeriod, deal.startPeriod);
      // After a proof, until the following period ends.
      await proveNext(f, f.provider, held);
      await goToPeriod(f, deal.startPeriod + 1n, 3000n);
      await expect(f.market.connect(f.watcher).reportMissedProofs(f.provider.address))
        .to.be.revertedWithCustomError(f.market, "MarketNoMissedPeriods")
        .withArgs(f.provider.address, deal.startPeriod + 1n, deal.startPeriod + 1n);
    });

    it("rejects a report against a provider without active deals, however long it has been", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      await f.market.connect(f.client).terminateDeal(deal);
      await goToPeriod(f, 6n, 5n);
      await expect(f.market.connect(f.watcher).reportMissedProofs(f.provider.address))
        .to.be.revertedWithCustomError(f.market, "MarketNoMissedPeriods")
        .withArgs(f.provider.address, deal.startPeriod, 6n);
      await expect(f.market.connect(f.watcher).reportMissedProofs(f.provider2.address))
        .to.be.revertedWithCustomError(f.market, "MarketNoMissedPeriods")
        .withArgs(f.provider2.address, 0n, 6n);
    });

    it("records several consecutive missed periods in one report and pays the reporter count * bounty", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f);
      await proveNext(f, f.provider, held);
      const from = await missPeriods(f, 3n);
      expect(from).to.equal(deal.startPeriod + 1n);
      const seedBlock = (await nextBlock(f)) + 2n;
      const market = await f.market.getAddress();
      await expect(f.market.connect(f.watcher).reportMissedProofs(f.provider.address))
        .to.emit(f.market, "MissedProofsReported")
        .withArgs(f.provider.address, from, 3n, f.watcher.address, 3n * BOUNTY, seedBlock)
        .and.to.emit(f.registry, "StakeSlashed")
        .withArgs(f.provider.address, market, 0n, 3n * BOUNTY);
      const state = await f.market.proofState(f.provider.address);
      expect(state.nextPeriod).to.equal(from + 3n);
      expect(state.nextPeriod).to.equal(await f.market.currentPeriod());
      expect(state.seedBlock).to.equal(seedBlock);
      expect(state.missedPeriods).to.equal(3n);
      expect(await f.market.balanceOf(f.watcher.address)).to.equal(3n * BOUNTY);
      const stake = await f.registry.stakeInfo(f.provider.address);
      expect(stake.free).to.equal(STAKE - COLLATERAL - 3n * BOUNTY);
      expect(stake.locked).to.equal(COLLATERAL);
      expect(await f.market.dealFaults(deal)).to.deep.equal([3n, 0n]);
      await expectFundsConserved(f, [deal]);
      // Everything is resolved now.
      await expect(f.market.connect(f.watcher).reportMissedProofs(f.provider.address))
        .to.be.revertedWithCustomError(f.market, "MarketNoMissedPeriods")
        .withArgs(f.provider.address, from + 3n, from + 3n);
    });

    it("lets the provider prove the current period right after the report, with the new seed", async function () {
      const f = get();
      const { held } = await publishDeal(f);
      await missPeriods(f, 2n, 100n);
      await f.market.connect(f.watcher).reportMissedProofs(f.provider.address);
      const current = await f.market.currentPeriod();
      await enterProofWindow(f, current);
      await expect(
        f.market.connect(f.provider).submitProof(current, await buildProofs(f, f.provider.address, held)),
      )
        .to.emit(f.market, "ProofSubmitted")
        .withArgs(f.provider.address, current, (await nextBlock(f)) + 2n);
    });

    it("caps the bounty at the provider's free plus unbonding stake, taking free stake first", async function () {
      const f = get();
      const lean = f.others[0];
      if (!lean) throw new Error("signer missing");
      await registerProvider(f, lean, COLLATERAL + 2n * USDC);
      const { deal } = await publishDeal(f, {}, lean);
      await f.registry.connect(lean).requestUnbond(USDC / 2n);
      await goToPeriod(f, deal.startPeriod + 3n, 10n);
      const market = await f.market.getAddress();
      await expect(f.market.connect(f.watcher).reportMissedProofs(lean.address))
        .to.emit(f.market, "MissedProofsReported")
        .withArgs(lean.address, deal.startPeriod, 3n, f.watcher.address, 2n * USDC, (await nextBlock(f)) + 2n)
        .and.to.emit(f.registry, "StakeSlashed")
        .withArgs(lean.address, market, 0n, 2n * USDC);
      const stake = await f.registry.stakeInfo(lean.address);
      expect([stake.free, stake.unbonding, stake.locked]).to.deep.equal([0n, 0n, COLLATERAL]);
      expect(await f.market.balanceOf(f.watcher.address)).to.equal(2n * USDC);
      await expectFundsConserved(f, [deal]);
    });

    it("pays no bounty when the provider has no unlocked stake", async function () {
      const f = get();
      const bare = f.others[0];
      if (!bare) throw new Error("signer missing");
      await registerProvider(f, bare, COLLATERAL);
      const { deal } = await publishDeal(f, {}, bare);
      await goToPeriod(f, deal.startPeriod + 2n, 10n);
      await expect(f.market.connect(f.watcher).reportMissedProofs(bare.address))
        .to.emit(f.market, "MissedProofsReported")
        .withArgs(bare.address, deal.startPeriod, 2n, f.watcher.address, 0n, (await nextBlock(f)) + 2n);
      expect(await f.market.balanceOf(f.watcher.address)).to.equal(0n);
    });

    it("pays no bounty when the provider reports itself", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      await goToPeriod(f, deal.startPeriod + 2n, 10n);
      await expect(f.market.connect(f.provider).reportMissedProofs(f.provider.address))
        .to.emit(f.market, "MissedProofsReported")
        .withArgs(f.provider.address, deal.startPeriod, 2n, f.provider.address, 0n, (await nextBlock(f)) + 2n)
        .and.not.to.emit(f.registry, "StakeSlashed");
      expect(await f.market.balanceOf(f.provider.address)).to.equal(0n);
      expect((await f.registry.stakeInfo(f.provider.address)).free).to.equal(STAKE - COLLATERAL);
      expect((await f.market.proofState(f.provider.address)).missedPeriods).to.equal(2n);
    });

    it("pays no bounty when missedProofBounty is zero", async function () {
      const f = get();
      await setParams(f, { missedProofBounty: 0n });
      const { deal } = await publishDeal(f);
      await goToPeriod(f, deal.startPeriod + 1n, 10n);
      await expect(f.market.connect(f.watcher).reportMissedProofs(f.provider.address))
        .to.emit(f.market, "MissedProofsReported")
        .withArgs(f.provider.address, deal.startPeriod, 1n, f.watcher.address, 0n, (await nextBlock(f)) + 2n)
        .and.not.to.emit(f.registry, "StakeSlashed");
    });
  });

  describe("terminateFaultyDeal", function () {
    it("rejects a deal below maxFaults, counting missed and declared faults together", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      await expect(f.market.connect(f.watcher).terminateFaultyDeal(deal))
        .to.be.revertedWithCustomError(f.market, "MarketNotEnoughFaults")
        .withArgs(deal.id, 0n, 3n);
      await f.market.connect(f.provider).declareFaults([deal.id]);
      await enterProofWindow(f, deal.startPeriod);
      await f.market
        .connect(f.provider)
        .submitProof(deal.startPeriod, [skippedChallenge(), skippedChallenge()]);
      await missPeriods(f, 1n);
      await f.market.connect(f.watcher).reportMissedProofs(f.provider.address);
      await expect(f.market.connect(f.watcher).terminateFaultyDeal(deal))
        .to.be.revertedWithCustomError(f.market, "MarketNotEnoughFaults")
        .withArgs(deal.id, 2n, 3n);
      await missPeriods(f, 1n);
      await f.market.connect(f.watcher).reportMissedProofs(f.provider.address);
      expect(await f.market.dealFaults(deal)).to.deep.equal([2n, 1n]);
      await expect(f.market.connect(f.watcher).terminateFaultyDeal(deal))
        .to.emit(f.market, "DealEnded")
        .withArgs(deal.id, EndReason.TooManyFaults, 0n, escrowOf(deal), bpsOf(COLLATERAL, 8000n), 0n);
    });

    it("slashes the whole collateral at maxFaults: caller bounty, treasury share, the rest to the client", async function () {
      const f = get();
      const price = 10n;
      const { deal, held } = await publishDeal(f, { pricePerSecond: price });
      await proveNext(f, f.provider, held);
      await missPeriods(f, 3n);
      await f.market.connect(f.watcher).reportMissedProofs(f.provider.address);
      expect(await f.market.dealFaults(deal)).to.deep.equal([3n, 0n]);
      const caller = f.others[1];
      if (!caller) throw new Error("signer missing");
      // Proven time: 4 periods from the start, 3 of them missed: one period is due to the provider.
      const paid = price * PERIOD;
      const refund = escrowOf(deal) - paid;
      const bounty = bpsOf(COLLATERAL, 1000n);
      const toTreasury = bpsOf(COLLATERAL, 1000n);
      const toClient = COLLATERAL - bounty - toTreasury;
      await expect(f.market.connect(caller).terminateFaultyDeal(deal))
        .to.emit(f.market, "DealEnded")
        .withArgs(deal.id, EndReason.TooManyFaults, paid, refund, toClient, 0n)
        .and.to.emit(f.market, "Slashed")
        .withArgs(f.provider.address, deal.id, toClient, bounty, toTreasury);
      expect(await f.market.balanceOf(caller.address)).to.equal(bounty);
      expect(await f.market.balanceOf(f.treasury.address)).to.equal(toTreasury);
      expect(await f.market.balanceOf(f.client.address)).to.equal(refund + toClient);
      expect(await f.market.balanceOf(f.provider.address)).to.equal(paid);
      expect(await f.market.balanceOf(f.watcher.address)).to.equal(3n * BOUNTY);
      const stake = await f.registry.stakeInfo(f.provider.address);
      expect(stake.locked).to.equal(0n);
      expect(stake.free).to.equal(STAKE - COLLATERAL - 3n * BOUNTY);
      const state = await f.market.proofState(f.provider.address);
      expect(state.activeDeals).to.equal(0n);
      const [termsHash] = await f.market.dealState(deal.id);
      expect(termsHash).to.equal(0n);
      await expectFundsConserved(f, []);
      await expect(f.market.connect(caller).terminateFaultyDeal(deal))
        .to.be.revertedWithCustomError(f.market, "MarketUnknownDeal")
        .withArgs(deal.id);
    });
  });

  describe("dealFaults", function () {
    it("does not charge a deal for periods missed before it started", async function () {
      const f = get();
      const { deal: early } = await publishDeal(f);
      await missPeriods(f, 2n);
      await f.market.connect(f.watcher).reportMissedProofs(f.provider.address);
      // Published in the period right after the misses: it starts one period later.
      const { deal: late } = await publishDeal(f);
      expect(late.startPeriod).to.equal(early.startPeriod + 3n);
      expect(await f.market.dealFaults(early)).to.deep.equal([2n, 0n]);
      expect(await f.market.dealFaults(late)).to.deep.equal([0n, 0n]);
      // The period it was published in is missed too, but only the next one falls inside the late deal.
      await missPeriods(f, 2n);
      await f.market.connect(f.watcher).reportMissedProofs(f.provider.address);
      expect(await f.market.dealFaults(early)).to.deep.equal([4n, 0n]);
      expect(await f.market.dealFaults(late)).to.deep.equal([1n, 0n]);
    });

    it("does not charge a deal for periods missed after it ended", async function () {
      const f = get();
      const { deals, held } = await publishDeals(f, [{ periods: 1n }, { periods: 24n }]);
      const [short, long] = deals as [DealTerms, DealTerms];
      await proveNext(f, f.provider, held);
      await missPeriods(f, 2n);
      await f.market.connect(f.watcher).reportMissedProofs(f.provider.address);
      expect(await f.market.dealFaults(short)).to.deep.equal([0n, 0n]);
      expect(await f.market.dealFaults(long)).to.deep.equal([2n, 0n]);
      // The short deal ends clean: paid in full, collateral back.
      await expect(f.market.connect(f.watcher).finalizeDeal(short))
        .to.emit(f.market, "DealEnded")
        .withArgs(short.id, EndReason.Expired, escrowOf(short), 0n, 0n, COLLATERAL);
      await expectFundsConserved(f, [long]);
    });
  });
});
