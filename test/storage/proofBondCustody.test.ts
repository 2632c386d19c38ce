// Where the proof bond lives (docs/SPEC.md §3, §8.2): the market holds it itself — taken from the provider's free
// stake when its first data set opens (and at refills), slashed by a report without any registry call, given back
// to its free stake when its last data set closes, from the tokens the registry holds for the market or, once the
// market collected them, pulled from the market. Conservation of the market's tokens with the bond in them, a
// provider leaving the registry while its bond is held, and a re-entrant token on the new token path.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import type { StorageMarket } from "../../typechain-types/index.js";
import {
  createDataSet,
  enterProofWindow,
  makeTerms,
  putState,
  signState,
  topUp,
  UniformTree,
  USDC,
  type StorageFixture,
} from "../helpers/fixture.js";
import { liveDataSet, marketOnToken, setup, toPeriod } from "./dataSets.helpers.js";

async function bondTarget(market: StorageMarket): Promise<bigint> {
  const p = await market.parameters();
  return (p.maxFaults + 2n) * p.missedProofPenalty;
}

/**
 * Invariant 1 of docs/SPEC.md §13 with the bond in it: the market's tokens (its balance and what the registry holds
 * for it) equal its ledger balances, the escrow of its data sets not finalized and the proof bonds it holds.
 */
async function expectMarketConserves(
  f: Pick<StorageFixture, "token" | "registry">,
  market: StorageMarket,
  accounts: string[],
  providers: string[],
) {
  const address = await market.getAddress();
  const tokens = (await f.token.balanceOf(address)) + (await f.registry.slashedOwedTo(address));
  let owed = 0n;
  for (const a of new Set(accounts)) owed += await market.balanceOf(a);
  const count = await market.dataSetCount();
  for (let id = 1n; id <= count; id++) {
    const d = await market.dataSet(id);
    if (d.status !== 3n) owed += d.escrow;
  }
  for (const p of new Set(providers)) owed += (await market.proofBond(p))[0];
  expect(tokens).to.equal(owed);
}

function accountsOf(f: StorageFixture): string[] {
  return [f.client, f.client2, f.provider, f.provider2, f.watcher, f.treasury, ...f.others].map(
    (s) => s.address,
  );
}

/** Terminate `id` (client, notice 0) and finalize it, proving `trees` of its provider meanwhile when given. */
async function closeDataSet(
  f: StorageFixture,
  id: bigint,
  prove?: { provider: HardhatEthersSigner; trees: Map<bigint, UniformTree> },
) {
  await (await f.market.connect(f.client).terminateDataSet(id)).wait();
  for (let i = 0; i < 12 && (await f.market.dataSet(id)).status !== 3n; i++) {
    if (prove) {
      const { proveNext } = await import("../helpers/fixture.js");
      await (await proveNext(f, prove.provider, prove.trees)).wait();
    } else {
      await toPeriod(f, (await f.market.currentPeriod()) + 1n);
    }
    try {
      await (await f.market.finalizeDataSet(id)).wait();
    } catch {
      // Not over yet: one more period.
    }
  }
  expect((await f.market.dataSet(id)).status).to.equal(3n);
}

describe("StorageMarket: the proof bond is held by the market", () => {
  it("test_reportMissedProofs_makesNoRegistryCall", async () => {
    const f = await setup();
    await liveDataSet(f, 1000n, { escrow: 100n * USDC });
    const n = (await f.market.proofState(f.provider.address)).nextPeriod;
    await toPeriod(f, n + 1n);
    const registry = await f.registry.getAddress();
    const stakeBefore = await f.registry.stakeInfo(f.provider.address);
    const heldBefore = await f.registry.slashedOwedTo(await f.market.getAddress());
    const receipt = await (await f.market.connect(f.watcher).reportMissedProofs(f.provider.address)).wait();
    expect(receipt?.logs.filter((l) => l.address === registry)).to.deep.equal([]);
    expect(await f.registry.stakeInfo(f.provider.address)).to.deep.equal(stakeBefore);
    expect(await f.registry.slashedOwedTo(await f.market.getAddress())).to.equal(heldBefore);
    const p = await f.market.parameters();
    expect((await f.market.proofBond(f.provider.address))[0]).to.equal(
      (await bondTarget(f.market)) - p.missedProofPenalty,
    );
    await expectMarketConserves(f, f.market, accountsOf(f), [f.provider.address, f.provider2.address]);
  });

  it("test_bond_conservedThroughLockSlashCollectAndRelease_theReleasePullsWhatTheMarketCollected", async () => {
    const f = await setup();
    const market = await f.market.getAddress();
    const target = await bondTarget(f.market);
    const p = await f.market.parameters();
    const freeStart = (await f.registry.stakeInfo(f.provider.address)).free;
    // A small data set funded with just its lockup: the market holds few tokens of its own.
    const id = await createDataSet(f);
    const tree = UniformTree.random(1000n);
    const lockup = await f.market.lockupFor(id, tree.span);
    await topUp(f, id, lockup + 1n);
    await (await putState(f, id, tree)).wait();
    const check = () =>
      expectMarketConserves(f, f.market, accountsOf(f), [f.provider.address, f.provider2.address]);
    await check();
    const n = (await f.market.proofState(f.provider.address)).nextPeriod;
    await toPeriod(f, n + 1n);
    await (await f.market.connect(f.watcher).reportMissedProofs(f.provider.address)).wait();
    const share = (p.missedProofPenalty * p.reporterShareBps) / 10_000n;
    expect(await f.market.balanceOf(f.watcher.address)).to.equal(share);
    await check();
    // The watcher's withdrawal needs more than the market's own tokens: it collects what the registry holds for it,
    // the rest of the bond included.
    expect(await f.token.balanceOf(market)).to.be.lessThan(share);
    await (await f.market.connect(f.watcher).withdraw(share)).wait();
    expect(await f.registry.slashedOwedTo(market)).to.equal(0n);
    await check();
    // The last close gives back the bond left: the registry pulls it from the market, exactly.
    const marketTokens = await f.token.balanceOf(market);
    await closeDataSet(f, id, { provider: f.provider, trees: new Map([[id, tree]]) });
    const left = target - p.missedProofPenalty;
    expect(await f.market.proofBond(f.provider.address)).to.deep.equal([0n, 0n]);
    const s = await f.registry.stakeInfo(f.provider.address);
    expect(s.free).to.equal(freeStart - p.missedProofPenalty);
    expect(s.locked).to.equal(0n);
    // Tokens left the market only for the bond's return (the rest of the close is ledger credits).
    const pulled = marketTokens - (await f.token.balanceOf(market));
    expect(pulled > 0n && pulled <= left, `pulled ${pulled} of ${left}`).to.equal(true);
    await check();
  });

  it("test_providerExit_withTheBondHeld_deregistersAndUnbonds_butTheBondStaysBoundUntilItsDataSetsClose", async () => {
    const f = await setup();
    const target = await bondTarget(f.market);
    const p = await f.market.parameters();
    // The shortest unbonding delay, so that the provider is out of the registry within one period.
    await (await f.registry.connect(f.admin).setUnbondingDelay(60n)).wait();
    // A data set without collateral holds bytes: only the proof bond stands behind it.
    const id = await createDataSet(f, { collateralPerTiB: 0n });
    await topUp(f, id, 100n * USDC);
    const tree = UniformTree.random(1000n);
    await (await putState(f, id, tree)).wait();
    expect((await f.registry.stakeInfo(f.provider.address)).locked).to.equal(0n);
    // The provider leaves the registry and takes every free token out.
    await expect(f.registry.connect(f.provider).deregister()).to.emit(f.registry, "ProviderDeregistered");
    await f.helpers.time.increase(await f.registry.unbondingDelay());
    await (await f.registry.connect(f.provider).withdrawUnbonded()).wait();
    let s = await f.registry.stakeInfo(f.provider.address);
    expect([s.free, s.locked, s.unbonding]).to.deep.equal([0n, 0n, 0n]);
    // The bond is still there, and a report still pays from it.
    expect(await f.market.proofBond(f.provider.address)).to.deep.equal([target, 1n]);
    const n = (await f.market.proofState(f.provider.address)).nextPeriod;
    await toPeriod(f, n + 1n);
    const bounty = await f.market.connect(f.watcher).reportMissedProofs.staticCall(f.provider.address);
    expect(bounty).to.equal((p.missedProofPenalty * p.reporterShareBps) / 10_000n);
    await (await f.market.connect(f.watcher).reportMissedProofs(f.provider.address)).wait();
    // The data set ends; the bond left goes back to the (deregistered) provider's free stake and can leave.
    await closeDataSet(f, id, { provider: f.provider, trees: new Map([[id, tree]]) });
    s = await f.registry.stakeInfo(f.provider.address);
    expect(s.free).to.equal(target - p.missedProofPenalty);
    await (await f.registry.connect(f.provider).requestUnbond(s.free)).wait();
    await f.helpers.time.increase(await f.registry.unbondingDelay());
    await expect(f.registry.connect(f.provider).withdrawUnbonded()).to.emit(f.registry, "StakeWithdrawn");
    await expectMarketConserves(f, f.market, accountsOf(f), [f.provider.address, f.provider2.address]);
  });

  it("test_releaseOfAnEmptyProvider_returnsTheWholeBond_andANewDataSetTakesItAgain", async () => {
    const f = await setup();
    const target = await bondTarget(f.market);
    const market = await f.market.getAddress();
    const freeStart = (await f.registry.stakeInfo(f.provider.address)).free;
    const id = await createDataSet(f);
    await closeDataSet(f, id);
    const s = await f.registry.stakeInfo(f.provider.address);
    expect(s.free).to.equal(freeStart);
    expect(await f.registry.slashedOwedTo(market)).to.equal(0n);
    const { terms, signature } = await makeTerms(f);
    await expect(f.market.connect(f.provider).createDataSet(terms, signature))
      .to.emit(f.registry, "StakeBonded")
      .withArgs(f.provider.address, market, target);
  });

  it("test_reentrantToken_theReleasePullCannotReEnterTheMarket", async () => {
    const f = await setup();
    const token = await f.ethers.deployContract("ReentrantToken");
    const { market, registry, fx, marketAddress } = await marketOnToken(
      f,
      token,
      await f.market.provingPeriod(),
    );
    const tree = UniformTree.random(1000n);
    await (await market.connect(f.client).topUp(1n, (await market.lockupFor(1n, tree.span)) + 1n)).wait();
    const signed = await signState(fx, f.client, {
      dataSetId: 1n,
      version: 1n,
      root: tree.root,
      span: tree.span,
    });
    await (await market.connect(f.provider).updateDataSets([signed])).wait();
    const proveOnce = async () => {
      const n = (await market.proofState(f.provider.address)).nextPeriod;
      await enterProofWindow(fx, n);
      const drawn = await market.challengesFor(f.provider.address);
      await (
        await market.connect(f.provider).submitProof(
          n,
          drawn.map((c) => ({ leaf: tree.leaf(c.leaf), path: tree.path(c.leaf) })),
        )
      ).wait();
    };
    // One missed period reported; the watcher's withdrawal collects everything the registry held for the market.
    const n = (await market.proofState(f.provider.address)).nextPeriod;
    await toPeriod(fx, n + 1n);
    await (await market.connect(f.watcher).reportMissedProofs(f.provider.address)).wait();
    const share = await market.balanceOf(f.watcher.address);
    await (await market.connect(f.watcher).withdraw(share)).wait();
    expect(await registry.slashedOwedTo(marketAddress)).to.equal(0n);
    // The close: the token re-enters the market in the middle of the pull that gives the bond back.
    await (await market.connect(f.client).terminateDataSet(1n)).wait();
    const reenter = market.interface.encodeFunctionData("finalizeDataSet", [1n]);
    for (let i = 0; i < 12 && (await market.dataSet(1n)).status !== 3n; i++) {
      await proveOnce();
      await (await token.arm(marketAddress, reenter)).wait();
      try {
        await (await market.finalizeDataSet(1n)).wait();
      } catch {
        // Not over yet.
      }
    }
    expect((await market.dataSet(1n)).status).to.equal(3n);
    // The hook fired (the registry pulled the bond back from the market) and its re-entry was refused.
    expect(await token.armed()).to.equal(false);
    expect(await token.lastReentrySucceeded()).to.equal(false);
    const p = await market.parameters();
    const left = (await bondTarget(market)) - p.missedProofPenalty;
    const returned = await registry.queryFilter(registry.filters.StakeReturned());
    expect(returned.map((e) => [e.args.provider, e.args.market, e.args.amount])).to.deep.equal([
      [f.provider.address, marketAddress, left],
    ]);
    await expectMarketConserves(
      { token: token as unknown as StorageFixture["token"], registry },
      market,
      accountsOf(f),
      [f.provider.address],
    );
  });
});
