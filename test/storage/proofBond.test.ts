// The proof bond and the penalty-and-share rules of docs/SPEC.md §8.2 and §14: unit tests for every rule, and
// adversarial tests where the provider reports or terminates itself through a second address and the sum over
// its addresses is compared with an honest twin.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import {
  createDataSet,
  defaultParameters,
  deployStorage,
  fundClient,
  proveNext,
  putState,
  registerProvider,
  topUp,
  UniformTree,
  USDC,
  type StorageFixture,
} from "../helpers/fixture.js";
import { liveDataSet, setup } from "./dataSets.helpers.js";

const COLLATERAL_PER_TIB = 100n * USDC;
const TIB = 1n << 34n;

async function bondTarget(f: StorageFixture): Promise<bigint> {
  const p = await f.market.parameters();
  return (p.maxFaults + 2n) * p.missedProofPenalty;
}

/** Everything `who` holds in the suite: stake in the registry, its proof bond and ledger balances in the market. */
async function wealth(f: StorageFixture, who: HardhatEthersSigner[]): Promise<bigint> {
  let total = 0n;
  for (const w of who) {
    const s = await f.registry.stakeInfo(w.address);
    const [bond] = await f.market.proofBond(w.address);
    total += s.free + s.locked + s.unbonding + bond + (await f.market.balanceOf(w.address));
  }
  return total;
}

async function toPeriodStart(f: StorageFixture, period: bigint) {
  await f.helpers.time.increaseTo(await f.market.periodStart(period));
}

describe("StorageMarket: proof bond and reporter shares", () => {
  describe("the bond", () => {
    it("test_createDataSet_takesTheBondIntoTheMarketOnceAndCountsOpenDataSets", async () => {
      const f = await setup();
      const target = await bondTarget(f);
      const market = await f.market.getAddress();
      const freeBefore = (await f.registry.stakeInfo(f.provider.address)).free;
      const { terms, signature } = await (
        await import("../helpers/fixture.js")
      ).makeTerms(f, { provider: f.provider });
      await expect(f.market.connect(f.provider).createDataSet(terms, signature))
        .to.emit(f.market, "ProofBondLocked")
        .withArgs(f.provider.address, target, target)
        .and.to.emit(f.registry, "StakeBonded")
        .withArgs(f.provider.address, market, target);
      expect(await f.market.proofBond(f.provider.address)).to.deep.equal([target, 1n]);
      await createDataSet(f);
      expect(await f.market.proofBond(f.provider.address)).to.deep.equal([target, 2n]);
      // The bond left the provider's registry stake (not locked there): the registry holds it for the market.
      const s = await f.registry.stakeInfo(f.provider.address);
      expect([s.free, s.locked]).to.deep.equal([freeBefore - target, 0n]);
      expect(await f.registry.slashedOwedTo(market)).to.equal(target);
    });

    it("test_createDataSet_revertsWhenFreeStakeCannotFillTheBond", async () => {
      const f = await deployStorage();
      const target = await bondTarget(f);
      await registerProvider(f, f.provider, target - 1n);
      await fundClient(f, f.client);
      const { makeTerms } = await import("../helpers/fixture.js");
      const { terms, signature } = await makeTerms(f);
      await expect(f.market.connect(f.provider).createDataSet(terms, signature))
        .to.be.revertedWithCustomError(f.registry, "RegistryInsufficientFreeStake")
        .withArgs(f.provider.address, target - 1n, target);
    });

    it("test_reportMissedProofs_paysTheReporterFromTheBondWhateverTheFreeStake", async () => {
      const f = await setup();
      await liveDataSet(f, 1000n, { escrow: 100n * USDC });
      // The provider moves every free token out of reach: the watcher is paid all the same.
      const free = (await f.registry.stakeInfo(f.provider.address)).free;
      await (await f.registry.connect(f.provider).requestUnbond(free)).wait();
      await f.helpers.time.increase(86_400n * 2n);
      await (await f.registry.connect(f.provider).withdrawUnbonded()).wait();
      const s = await f.registry.stakeInfo(f.provider.address);
      expect([s.free, s.unbonding]).to.deep.equal([0n, 0n]);
      // A day of unbonding went by unproven: far more periods than the bond covers.
      const p = await f.market.parameters();
      const target = await bondTarget(f);
      const reported = await f.market.connect(f.watcher).reportMissedProofs.staticCall(f.provider.address);
      const slashed = target;
      const share = (slashed * p.reporterShareBps) / 10_000n;
      expect(reported).to.equal(share);
      await expect(f.market.connect(f.watcher).reportMissedProofs(f.provider.address))
        .to.emit(f.market, "ProofBondSlashed")
        .withArgs(
          f.provider.address,
          (x: bigint) => x * p.missedProofPenalty >= target,
          slashed,
          f.watcher.address,
          share,
          slashed - share,
        );
      expect(await f.market.balanceOf(f.watcher.address)).to.equal(share);
      expect(await f.market.balanceOf(f.treasury.address)).to.equal(slashed - share);
      expect((await f.market.proofBond(f.provider.address))[0]).to.equal((await bondTarget(f)) - slashed);
      // The bond's tokens were the market's already: its registry account is unchanged.
      expect(await f.registry.slashedOwedTo(await f.market.getAddress())).to.equal(target);
      // The watcher can take its share out (the market collects the bond's tokens from the registry).
      await (await f.market.connect(f.watcher).withdraw(share)).wait();
    });

    it("test_missedPeriodsRecordedByAChange_areChargedWithoutShareAtTheNextTouch", async () => {
      const f = await setup();
      const a = await liveDataSet(f, 1000n, { escrow: 100n * USDC });
      const n = (await f.market.proofState(f.provider.address)).nextPeriod;
      await toPeriodStart(f, n + 2n);
      // The provider makes a change first: the two periods are recorded with no reporter.
      await expect(putState(f, a.id, UniformTree.random(2000n)))
        .to.emit(f.market, "MissedProofsReported")
        .withArgs(
          f.provider.address,
          n,
          2n,
          "0x0000000000000000000000000000000000000000",
          0n,
          (x: bigint) => x > 0n,
        );
      // A watcher has nothing left to report; the provider gained nothing by recording them itself.
      await expect(
        f.market.connect(f.watcher).reportMissedProofs(f.provider.address),
      ).to.be.revertedWithCustomError(f.market, "MarketNoMissedPeriods");
      // The next touch of the bond (a new data set) charges them in full, to the treasury, then refills the bond.
      const p = await f.market.parameters();
      const slashed = 2n * p.missedProofPenalty;
      await createDataSet(f);
      expect(await f.market.balanceOf(f.treasury.address)).to.equal(slashed);
      expect(await f.market.balanceOf(f.provider.address)).to.equal(0n);
      expect((await f.market.proofBond(f.provider.address))[0]).to.equal(await bondTarget(f));
    });

    it("test_reportMissedProofs_slashesAtMostTheBondLeft_andAGrowingChangeRefillsIt", async () => {
      const f = await setup();
      const a = await liveDataSet(f, 1000n, { escrow: 1_000n * USDC });
      const target = await bondTarget(f);
      const p = await f.market.parameters();
      const n = (await f.market.proofState(f.provider.address)).nextPeriod;
      const periods = target / p.missedProofPenalty + 3n;
      await toPeriodStart(f, n + periods);
      const share = (target * p.reporterShareBps) / 10_000n;
      await expect(f.market.connect(f.watcher).reportMissedProofs(f.provider.address))
        .to.emit(f.market, "ProofBondSlashed")
        .withArgs(f.provider.address, periods, target, f.watcher.address, share, target - share);
      expect((await f.market.proofBond(f.provider.address))[0]).to.equal(0n);
      // A change that raises the provider's locked collateral refills the bond from free stake.
      await expect(putState(f, a.id, UniformTree.random(TIB)))
        .to.emit(f.market, "ProofBondLocked")
        .withArgs(f.provider.address, target, target);
      expect((await f.market.proofBond(f.provider.address))[0]).to.equal(target);
    });

    it("test_theLastCloseReleasesTheBond_andTheProviderCanLeave", async () => {
      const f = await setup();
      const { id, tree } = await liveDataSet(f, 1000n, { escrow: 100n * USDC, notice: 0n });
      const target = await bondTarget(f);
      await (await f.market.connect(f.client).terminateDataSet(id)).wait();
      await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
      await expect(f.market.finalizeDataSet(id))
        .to.emit(f.market, "ProofBondReleased")
        .withArgs(f.provider.address, target);
      expect(await f.market.proofBond(f.provider.address)).to.deep.equal([0n, 0n]);
      expect((await f.registry.stakeInfo(f.provider.address)).locked).to.equal(0n);
      expect(await f.registry.slashedOwedTo(await f.market.getAddress())).to.equal(0n);
      await expect(f.registry.connect(f.provider).deregister()).to.emit(f.registry, "ProviderDeregistered");
    });

    it("test_parameters_boundTheReporterShareAndThePenalty", async () => {
      const f = await setup();
      const p = defaultParameters();
      await expect(f.market.connect(f.admin).setParameters({ ...p, reporterShareBps: 5_001n }))
        .to.be.revertedWithCustomError(f.market, "MarketParameterOutOfBounds")
        .withArgs("reporterShareBps", 5_001n, 0n, 5_000n);
      await expect(f.market.connect(f.admin).setParameters({ ...p, missedProofPenalty: 100n * USDC + 1n }))
        .to.be.revertedWithCustomError(f.market, "MarketParameterOutOfBounds")
        .withArgs("missedProofPenalty", 100n * USDC + 1n, 0n, 100n * USDC);
      await expect(f.market.connect(f.admin).setParameters({ ...p, reporterShareBps: 5_000n })).to.emit(
        f.market,
        "ParametersSet",
      );
    });
  });

  describe("self-reporting through a second address never pays", () => {
    /** Deviator `provider` (+ `second`) and honest twin `provider2`, each with a 1 TiB data set. */
    async function twins() {
      const f = await setup();
      const second = f.others[0];
      if (second === undefined) throw new Error("no spare signer");
      const dev = await liveDataSet(f, TIB, { escrow: 1_000n * USDC });
      const honest = await liveDataSet(f, TIB, { escrow: 1_000n * USDC, provider: f.provider2 });
      const start = {
        dev: await wealth(f, [f.provider, second]),
        honest: await wealth(f, [f.provider2]),
      };
      return { f, second, dev, honest, start };
    }

    it("test_selfReportMissedProofs_theDeviatorsAddressesTogetherEndBelowTheHonestTwin", async () => {
      const { f, second, dev, honest, start } = await twins();
      const n = (await f.market.proofState(f.provider.address)).nextPeriod;
      for (let i = 0; i < 3; i++)
        await (await proveNext(f, f.provider2, new Map([[honest.id, honest.tree]]))).wait();
      await toPeriodStart(f, n + 3n);
      const bounty = await f.market.connect(second).reportMissedProofs.staticCall(f.provider.address);
      expect(bounty).to.be.greaterThan(0n);
      await (await f.market.connect(second).reportMissedProofs(f.provider.address)).wait();
      await (await f.market.settleDataSets([dev.id, honest.id])).wait();
      const devDelta = (await wealth(f, [f.provider, second])) - start.dev;
      const honestDelta = (await wealth(f, [f.provider2])) - start.honest;
      const p = await f.market.parameters();
      // The deviator pays the penalty less the share it paid itself: -(penalty - share) < 0.
      expect(devDelta).to.equal(bounty - 3n * p.missedProofPenalty);
      expect(devDelta).to.be.lessThan(0n);
      expect(honestDelta).to.be.greaterThan(0n);
    });

    it("test_selfTerminateForFaults_theDeviatorsAddressesTogetherEndBelowTheHonestTwin", async () => {
      const { f, second, dev, honest, start } = await twins();
      const n = (await f.market.proofState(f.provider.address)).nextPeriod;
      for (let i = 0; i < 3; i++)
        await (await proveNext(f, f.provider2, new Map([[honest.id, honest.tree]]))).wait();
      await toPeriodStart(f, n + 3n);
      const clientBefore = await f.market.balanceOf(f.client.address);
      await (await f.market.connect(second).terminateFaultyDataSet(dev.id)).wait();
      await (await f.market.settleDataSets([honest.id])).wait();
      const p = await f.market.parameters();
      const bounty = (COLLATERAL_PER_TIB * p.faultTerminationBountyBps) / 10_000n;
      expect(await f.market.balanceOf(second.address)).to.equal(bounty);
      const devDelta = (await wealth(f, [f.provider, second])) - start.dev;
      const honestDelta = (await wealth(f, [f.provider2])) - start.honest;
      // The whole collateral and three bond penalties go; the share of the collateral comes back: a net loss.
      expect(devDelta).to.equal(bounty - COLLATERAL_PER_TIB - 3n * p.missedProofPenalty);
      expect(devDelta).to.be.lessThan(honestDelta);
      expect(honestDelta).to.be.greaterThan(0n);
      // The client is compensated with the collateral less the bounty and the treasury share.
      const treasury = (COLLATERAL_PER_TIB * p.treasuryShareBps) / 10_000n;
      expect((await f.market.balanceOf(f.client.address)) - clientBefore).to.be.at.least(
        COLLATERAL_PER_TIB - bounty - treasury,
      );
    });
  });

  describe("escaping a retrieval challenge costs what failing it costs", () => {
    it("test_finalizeDataSet_refusedWhileAChallengeIsOpen_thenTheFailedChallengeTakesTheWholeCollateral", async () => {
      const f = await setup();
      const { id, tree } = await liveDataSet(f, TIB, { escrow: 100n * USDC, notice: 0n });
      const rc = f.retrievalChallenges;
      const bond = (await rc.parameters()).bond;
      await f.token.mint(f.watcher.address, bond);
      await f.token.connect(f.watcher).approve(await rc.getAddress(), bond);
      await (await rc.connect(f.watcher).openChallenge(id, 7n)).wait();
      const cid = await rc.challengeCount();
      // The provider cannot answer: it terminates with notice 0 and proves its last period to end the data set.
      await (await f.market.connect(f.provider).terminateDataSet(id)).wait();
      await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
      // Even past the deadline, nobody can close the data set before the challenge is enforced.
      expect(BigInt(await f.helpers.time.latest())).to.be.greaterThan((await rc.challengeOf(cid)).deadline);
      await expect(f.market.finalizeDataSet(id))
        .to.be.revertedWithCustomError(f.market, "MarketRetrievalChallengeOpen")
        .withArgs(id, cid);
      await expect(f.market.connect(f.client2).terminateFaultyDataSet(id)).to.be.revertedWithCustomError(
        f.market,
        "MarketNotEnoughFaults",
      );
      // The challenge is enforced: the whole collateral is slashed, with the challenger's bounty.
      const p = await f.market.parameters();
      const bounty = (COLLATERAL_PER_TIB * p.faultTerminationBountyBps) / 10_000n;
      const treasury = (COLLATERAL_PER_TIB * p.treasuryShareBps) / 10_000n;
      await expect(rc.connect(f.watcher).enforceChallenge(cid))
        .to.emit(f.market, "Slashed")
        .withArgs(f.provider.address, id, COLLATERAL_PER_TIB - bounty - treasury, bounty, treasury)
        .and.to.emit(rc, "RetrievalChallengeFailed");
      expect((await f.market.dataSet(id)).status).to.equal(3n);
    });

    it("test_answeredChallenge_letsTheDataSetCloseAsUsual", async () => {
      const f = await setup();
      const { id, tree } = await liveDataSet(f, 1000n, { escrow: 100n * USDC, notice: 0n });
      const rc = f.retrievalChallenges;
      const bond = (await rc.parameters()).bond;
      await f.token.mint(f.watcher.address, bond);
      await f.token.connect(f.watcher).approve(await rc.getAddress(), bond);
      await (await rc.connect(f.watcher).openChallenge(id, 7n)).wait();
      const cid = await rc.challengeCount();
      await (await rc.connect(f.provider).answerChallenge(cid, tree.leaf(7n), tree.path(7n))).wait();
      await (await f.market.connect(f.provider).terminateDataSet(id)).wait();
      await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
      await expect(f.market.finalizeDataSet(id)).to.emit(f.market, "DataSetEnded");
    });
  });

  it("test_topUpOfAnotherDataSet_doesNotTouchTheBond", async () => {
    const f = await setup();
    const id = await createDataSet(f);
    const before = await f.market.proofBond(f.provider.address);
    await topUp(f, id, 10n * USDC);
    expect(await f.market.proofBond(f.provider.address)).to.deep.equal(before);
  });
});
