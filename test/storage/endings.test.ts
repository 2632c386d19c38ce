import { expect } from "chai";
import type { FeeOnTransferToken } from "../../typechain-types/index.js";
import { enterProofWindow, proveNext, signState, USDC, UniformTree, PERIOD } from "../helpers/fixture.js";
import { liveDataSet, marketOnToken, setup } from "./dataSets.helpers.js";

const COLLATERAL_PER_TIB = 100n * USDC;

describe("StorageMarket: endings, penalties and re-entrancy", () => {
  it("test_terminate_byClientEndsAfterNoticeThenFinalizeRemovesAndCloses", async () => {
    const f = await setup();
    const { id, tree } = await liveDataSet(f, 1n << 30n, {
      price: 2_500n * USDC,
      escrow: 5_000n * USDC,
      notice: 2n,
    });
    const trees = new Map([[id, tree]]);
    await (await proveNext(f, f.provider, trees)).wait();
    const n = (await f.market.proofState(f.provider.address)).nextPeriod;
    await expect(f.market.connect(f.client).terminateDataSet(id))
      .to.emit(f.market, "DataSetTerminated")
      .withArgs(id, f.client.address, 1n, n + 3n);
    await expect(f.market.connect(f.watcher).terminateDataSet(id)).to.be.revertedWithCustomError(
      f.market,
      "MarketWrongStatus",
    );
    await expect(f.market.finalizeDataSet(id)).to.be.revertedWithCustomError(f.market, "MarketNotOver");
    await (await proveNext(f, f.provider, trees)).wait(); // n
    await (await proveNext(f, f.provider, trees)).wait(); // n + 1
    // The provider's next period is the last one: the removal applies from the end on.
    await (await f.market.finalizeDataSet(id)).wait();
    expect((await f.market.weight(f.provider.address)).current).to.equal(0n);
    await (await proveNext(f, f.provider, trees)).wait(); // n + 2, the last paid period
    const lockedBefore = (await f.registry.stakeInfo(f.provider.address)).locked;
    await expect(f.market.finalizeDataSet(id)).to.emit(f.market, "DataSetEnded");
    const ds = await f.market.dataSet(id);
    expect(ds.status).to.equal(3n);
    expect(ds.escrow).to.equal(0n);
    expect(ds.leafSeconds).to.equal(tree.span * 4n * PERIOD);
    expect(ds.paid + (await f.market.balanceOf(f.client.address))).to.equal(5_000n * USDC);
    const released = await f.market.lockupFor(id, 0n); // 0: just to touch the view
    expect(released).to.equal(0n);
    expect((await f.registry.stakeInfo(f.provider.address)).locked).to.be.lessThan(lockedBefore);
  });

  it("test_terminate_byProviderPaysTheTerminationFeeToTheClient", async () => {
    const f = await setup();
    const { id, tree } = await liveDataSet(f, 1n << 34n, { notice: 0n, escrow: 100n * USDC });
    await (await f.market.connect(f.provider).terminateDataSet(id)).wait();
    await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
    await (await f.market.finalizeDataSet(id)).wait();
    const p = await f.market.parameters();
    const collateral = COLLATERAL_PER_TIB; // class 34 = 1 TiB
    const fee = (collateral * p.providerTerminationFeeBps) / 10_000n;
    const treasury = (fee * p.treasuryShareBps) / 10_000n;
    await expect(f.market.finalizeDataSet(id)).to.be.revertedWithCustomError(f.market, "MarketWrongStatus");
    expect(await f.market.balanceOf(f.treasury.address)).to.equal(treasury);
  });

  it("test_terminateUnfunded_anyoneEndsADataSetWhoseEscrowRanOut", async () => {
    const f = await setup();
    const { id, tree } = await liveDataSet(f, 1n << 34n, {
      price: 2_500n * USDC,
      escrow: 20n * USDC,
      notice: 1n,
    });
    await expect(f.market.connect(f.watcher).terminateUnfunded(id)).to.be.revertedWithCustomError(
      f.market,
      "MarketStillFunded",
    );
    for (let i = 0; i < 5; i++) await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
    await expect(f.market.connect(f.watcher).terminateUnfunded(id))
      .to.emit(f.market, "DataSetTerminated")
      .withArgs(id, f.watcher.address, 5n, (x: bigint) => x > 0n);
  });

  it("test_terminateFaultyDataSet_slashesTheWholeCollateralWithABounty", async () => {
    const f = await setup();
    const { id, tree } = await liveDataSet(f, 1n << 34n, { escrow: 100n * USDC });
    await expect(f.market.connect(f.watcher).terminateFaultyDataSet(id)).to.be.revertedWithCustomError(
      f.market,
      "MarketNotEnoughFaults",
    );
    const n = (await f.market.proofState(f.provider.address)).nextPeriod;
    await f.helpers.time.increaseTo(await f.market.periodStart(n + 3n));
    const p = await f.market.parameters();
    await expect(f.market.connect(f.watcher).terminateFaultyDataSet(id)).to.emit(f.market, "Slashed");
    const bounty = (COLLATERAL_PER_TIB * p.faultTerminationBountyBps) / 10_000n;
    const treasury = (COLLATERAL_PER_TIB * p.treasuryShareBps) / 10_000n;
    expect(await f.market.balanceOf(f.watcher.address)).to.equal(bounty);
    // The provider's last open data set closed: the three missed periods recorded by the termination are charged
    // to its proof bond (no reporter: all to the treasury) and the rest of the bond is released.
    expect(await f.market.balanceOf(f.treasury.address)).to.equal(treasury + 3n * p.missedProofPenalty);
    expect(await f.market.proofBond(f.provider.address)).to.deep.equal([0n, 0n]);
    expect(await f.market.balanceOf(f.client.address)).to.equal(
      100n * USDC + COLLATERAL_PER_TIB - bounty - treasury,
    );
    // The frozen bytes of the current period must still be proven (ending never frees them).
    expect((await f.market.weight(f.provider.address)).frozen).to.equal(1n << 34n);
    await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
    expect((await f.market.weight(f.provider.address)).frozen).to.equal(0n);
  });

  it("test_missedFaults_chargeThePenaltyAtTheEnd", async () => {
    const f = await setup();
    const { id, tree } = await liveDataSet(f, 1n << 34n, { escrow: 100n * USDC, notice: 0n });
    const n = (await f.market.proofState(f.provider.address)).nextPeriod;
    await f.helpers.time.increaseTo(await f.market.periodStart(n + 1n));
    await (await f.market.connect(f.client).terminateDataSet(id)).wait();
    await (await f.market.finalizeDataSet(id)).wait();
    await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
    await (await f.market.finalizeDataSet(id)).wait();
    const p = await f.market.parameters();
    const penalty = (COLLATERAL_PER_TIB * p.missedFaultPenaltyBps) / 10_000n;
    expect((await f.market.dataSet(id)).missedFaults).to.equal(1n);
    // Plus the missed period charged to the proof bond when the provider's last data set closed.
    expect(await f.market.balanceOf(f.treasury.address)).to.equal(
      (penalty * p.treasuryShareBps) / 10_000n + p.missedProofPenalty,
    );
  });

  it("test_retrieval_unansweredChallengeEndsTheDataSet; an answered one pays the bond", async () => {
    const f = await setup();
    const { id, tree } = await liveDataSet(f, 1000n, { escrow: 100n * USDC });
    // The narrow view a challenge reads agrees with the full record.
    const record = await f.market.dataSet(id);
    expect(await f.market.retrievalTarget(id)).to.deep.equal([
      record.provider,
      record.status,
      record.endPeriod,
      record.root,
      record.span,
    ]);
    const rc = f.retrievalChallenges;
    const bond = (await rc.parameters()).bond;
    await f.token.mint(f.watcher.address, 10n * bond);
    await f.token.connect(f.watcher).approve(await rc.getAddress(), 10n * bond);
    await expect(rc.connect(f.watcher).openChallenge(id, 1000n)).to.be.revertedWithCustomError(
      rc,
      "RetrievalBadLeaf",
    );
    await (await rc.connect(f.watcher).openChallenge(id, 999n)).wait();
    const first = await rc.challengeCount();
    await expect(
      rc.connect(f.provider).answerChallenge(first, tree.leaf(1000n), tree.path(999n)),
    ).to.be.revertedWithCustomError(rc, "RetrievalInvalidProof");
    await expect(rc.connect(f.provider).answerChallenge(first, tree.leaf(999n), tree.path(999n))).to.emit(
      rc,
      "RetrievalChallengeAnswered",
    );
    await (await rc.connect(f.watcher).openChallenge(id, 5n)).wait();
    const second = await rc.challengeCount();
    await f.helpers.time.setNextBlockTimestamp((await rc.challengeOf(second)).deadline + 1n);
    await expect(rc.connect(f.watcher).enforceChallenge(second))
      .to.emit(f.market, "DataSetEnded")
      .and.to.emit(rc, "RetrievalChallengeFailed")
      .withArgs(second, id, f.provider.address, f.watcher.address);
    expect((await rc.challengeOf(second)).status).to.equal(3n);
    expect((await f.market.dataSet(id)).status).to.equal(3n);
  });

  it("test_enforceChallenge_voidsWhenTheDataSetWasClosedByAnotherPath; other market failures revert", async () => {
    const f = await setup();
    const { id } = await liveDataSet(f, 1000n, { escrow: 100n * USDC });
    const rc = f.retrievalChallenges;
    const bond = (await rc.parameters()).bond;
    await f.token.mint(f.watcher.address, 10n * bond);
    await f.token.connect(f.watcher).approve(await rc.getAddress(), 10n * bond);
    await (await rc.connect(f.watcher).openChallenge(id, 7n)).wait();
    const cid = await rc.challengeCount();
    await f.helpers.time.setNextBlockTimestamp((await rc.challengeOf(cid)).deadline + 1n);
    // Without the market's role the enforcement must fail whole, not void the challenge.
    const role = await f.market.RETRIEVAL_ROLE();
    await (await f.market.connect(f.admin).revokeRole(role, await rc.getAddress())).wait();
    await expect(rc.connect(f.watcher).enforceChallenge(cid)).to.be.revertedWithCustomError(
      f.market,
      "AccessControlUnauthorizedAccount",
    );
    await (await f.market.connect(f.admin).grantRole(role, await rc.getAddress())).wait();
    // While the challenge is open the data set cannot close by another path (escaping costs what failing costs).
    const n = (await f.market.proofState(f.provider.address)).nextPeriod;
    await f.helpers.time.increaseTo(await f.market.periodStart(n + 3n));
    await expect(f.market.connect(f.client2).terminateFaultyDataSet(id))
      .to.be.revertedWithCustomError(f.market, "MarketRetrievalChallengeOpen")
      .withArgs(id, cid);
    // Only the latest holder of the role is consulted: with the role moved to another contract the data set ends
    // for faults, and the old contract's challenge is void, the bond back.
    await (await f.market.connect(f.admin).grantRole(role, f.admin.address)).wait();
    await (await f.market.connect(f.client2).terminateFaultyDataSet(id)).wait();
    const before = await rc.balanceOf(f.watcher.address);
    await expect(rc.connect(f.client2).enforceChallenge(cid))
      .to.emit(rc, "RetrievalChallengeVoided")
      .withArgs(cid, id)
      .and.not.to.emit(rc, "RetrievalChallengeFailed");
    expect((await rc.challengeOf(cid)).status).to.equal(4n);
    expect(await rc.balanceOf(f.watcher.address)).to.equal(before + bond);
    expect(await rc.openChallengeOf(id)).to.equal(0n);
  });

  describe("re-entrancy and fee-on-transfer tokens", () => {
    async function onToken(kind: "ReentrantToken" | "FeeOnTransferToken") {
      const f = await setup();
      const token = (await f.ethers.deployContract(kind)) as unknown as FeeOnTransferToken;
      if (kind === "FeeOnTransferToken") await (await token.setFeePercent(0n)).wait();
      const { market, registry } = await marketOnToken(f, token, PERIOD);
      return { f, token, market, registry };
    }

    it("test_reentrantToken_everyTokenPathIsGuarded: top-up, deposit and withdraw cannot re-enter settlement", async () => {
      const { f, token, market } = await onToken("ReentrantToken");
      const reentrant = token as unknown as import("../../typechain-types/index.js").ReentrantToken;
      await (await market.connect(f.client).topUp(1n, 100n * USDC)).wait();
      const t = UniformTree.random(1n << 20n);
      const fx = { ...f, market };
      const signed = await signState(fx, f.client, {
        dataSetId: 1n,
        version: 1n,
        root: t.root,
        span: t.span,
      });
      await (await market.connect(f.provider).updateDataSets([signed])).wait();
      for (let i = 0; i < 2; i++) {
        const n = (await market.proofState(f.provider.address)).nextPeriod;
        await enterProofWindow(fx, n);
        const drawn = await market.challengesFor(f.provider.address);
        await (
          await market.connect(f.provider).submitProof(
            n,
            drawn.map((c) => ({ leaf: t.leaf(c.leaf), path: t.path(c.leaf) })),
          )
        ).wait();
      }
      const settle = market.interface.encodeFunctionData("settleDataSet", [1n]);
      const paths: [string, () => Promise<unknown>][] = [
        ["topUp", async () => (await market.connect(f.client).topUp(1n, USDC)).wait()],
        ["deposit", async () => (await market.connect(f.client).deposit(f.client.address, USDC)).wait()],
        ["withdraw", async () => (await market.connect(f.client).withdraw(USDC)).wait()],
      ];
      for (const [name, run] of paths) {
        await (await reentrant.arm(await market.getAddress(), settle)).wait();
        await run();
        expect(await reentrant.lastReentrySucceeded(), name).to.equal(false);
      }
      // Settlement from outside pays the proven seconds exactly once.
      await (await market.settleDataSet(1n)).wait();
      const ds = await market.dataSet(1n);
      expect(ds.leafSeconds).to.equal(t.span * 2n * PERIOD);
      expect(ds.paid).to.equal((((5n * USDC) / 2n) * ds.leafSeconds) / ((1n << 34n) * 2_592_000n));
      expect(ds.escrow + ds.paid).to.equal(101n * USDC);
    });

    it("test_feeOnTransferToken_topUpIsRejected", async () => {
      const { f, token, market } = await onToken("FeeOnTransferToken");
      const fee = token;
      await (await fee.setFeePercent(1n)).wait();
      await expect(market.connect(f.client).topUp(1n, 100n * USDC))
        .to.be.revertedWithCustomError(market, "PaymentTokenShortfall")
        .withArgs(100n * USDC, 99n * USDC);
    });
  });
});
