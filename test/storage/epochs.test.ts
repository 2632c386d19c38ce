import { expect } from "chai";
import { AbiCoder, keccak256 } from "ethers";
import {
  buildAnswers,
  createDataSet,
  need,
  defaultParameters,
  enterProofWindow,
  proveNext,
  putState,
  topUp,
  USDC,
  UniformTree,
  type StorageFixture,
} from "../helpers/fixture.js";
import { setup, liveDataSet } from "./dataSets.helpers.js";

const coder = AbiCoder.defaultAbiCoder();

/** Capacity of draw class k = c << 3 | m (docs/SPEC.md §4.3), written out independently of the SDK. */
function capacityOf(k: number): bigint {
  const c = k >> 3;
  const half = c === 0 ? 0n : 1n << BigInt(c - 1);
  const unit = c > 4 ? 1n << BigInt(c - 4) : 1n;
  return half + BigInt((k & 7) + 1) * unit;
}

/** The TypeScript mirror of the draw (docs/SPEC.md §7.4) over explicit frozen draw classes. */
export function mirrorDraw(
  seed: string,
  provider: string,
  epoch: bigint,
  classes: { c: number; ids: bigint[] }[],
  spans: Map<bigint, bigint>,
  count: number,
): { id: bigint; leaf: bigint }[] {
  const sorted = [...classes].filter((k) => k.ids.length > 0).sort((a, b) => a.c - b.c);
  const cum: bigint[] = [];
  let total = 0n;
  for (const k of sorted) {
    total += BigInt(k.ids.length) * capacityOf(k.c);
    cum.push(total);
  }
  const out: { id: bigint; leaf: bigint }[] = [];
  for (let j = 0; j < count + Math.max(count, 4) && out.length < count; j++) {
    let r =
      BigInt(
        keccak256(coder.encode(["bytes32", "address", "uint256", "uint256"], [seed, provider, epoch, j])),
      ) % total;
    let i = 0;
    while (r >= need(cum[i], "class")) i++;
    if (i > 0) r -= need(cum[i - 1], "class");
    const k = need(sorted[i], "class");
    const id = need(k.ids[Number(r / capacityOf(k.c))], "slot");
    const leaf = r % capacityOf(k.c);
    if (leaf < need(spans.get(id), "span")) out.push({ id, leaf });
  }
  return out;
}

/** Every draw class's frozen slots, read from the market (`classSlot`). */
async function frozenClasses(f: StorageFixture, provider: string) {
  const classes: { c: number; ids: bigint[] }[] = [];
  const counts = await Promise.all(
    Array.from({ length: 48 * 8 }, async (_, c) => (await f.market.classSlot(provider, c, 0n))[0]),
  );
  for (const [c, count] of counts.entries()) {
    const ids: bigint[] = [];
    for (let s = 0n; s < count; s++) ids.push((await f.market.classSlot(provider, c, s))[1]);
    classes.push({ c, ids });
  }
  return classes;
}

async function withChallenges(count: bigint) {
  const f = await setup();
  await f.market.connect(f.admin).setParameters(defaultParameters({ challengeCount: count }));
  return f;
}

describe("StorageMarket: epochs, the byte-uniform draw and proofs", () => {
  it("test_epochRule_aChangeAfterTheSeedNeverMovesChallenges (the steering attack of issue 11)", async () => {
    const f = await withChallenges(8n);
    const a = await liveDataSet(f, 1000n);
    const b = await liveDataSet(f, 600n);
    const trees = new Map([
      [a.id, a.tree],
      [b.id, b.tree],
    ]);
    await (await proveNext(f, f.provider, trees)).wait();
    const period = (await f.market.proofState(f.provider.address)).nextPeriod;
    await enterProofWindow(f, period); // the seed of `period` is now known
    const before = await f.market.challengesFor(f.provider.address);
    expect(before.length).to.equal(8);
    // The attack: end the drawn data set and open a new one after the seed is fixed.
    await (await f.market.connect(f.client).terminateDataSet(a.id)).wait();
    await (await putState(f, b.id, UniformTree.random(0n))).wait();
    const c = await liveDataSet(f, 1n << 20n);
    const after = await f.market.challengesFor(f.provider.address);
    expect(after.map((x) => [x.dataSetId, x.leaf])).to.deep.equal(before.map((x) => [x.dataSetId, x.leaf]));
    expect(after.some((x) => x.dataSetId === c.id)).to.equal(false);
    // A proof answering only the new data set is rejected; the frozen bytes must be proven.
    const onlyNew = after.map(() => ({ leaf: c.tree.leaf(0n), path: c.tree.path(0n) }));
    await expect(f.market.connect(f.provider).submitProof(period, onlyNew)).to.be.revertedWithCustomError(
      f.market,
      "MarketBadProofLength",
    );
    await expect(
      f.market.connect(f.provider).submitProof(period, await buildAnswers(f, f.provider.address, trees)),
    )
      .to.emit(f.market, "ProofSubmitted")
      .withArgs(f.provider.address, period, (n: bigint) => n > 0n);
    // From the next epoch the new bytes are challengeable and the emptied ones are not.
    const next = await f.market.weight(f.provider.address);
    expect(next.frozen).to.equal((1n << 10n) + (1n << 20n));
  });

  it("test_epochRule_updatesApplyFromTheNextPeriodAndEmitTheEffectivePeriod", async () => {
    const f = await setup();
    const { id, tree } = await liveDataSet(f, 100n);
    await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
    const n = (await f.market.proofState(f.provider.address)).nextPeriod;
    const grown = UniformTree.random(300n);
    await expect(putState(f, id, grown))
      .to.emit(f.market, "DataSetUpdated")
      .withArgs(id, 2n, grown.root, 300n, n + 1n);
    const ds = await f.market.dataSet(id);
    expect(ds.frozenSpan).to.equal(100n);
    expect(ds.span).to.equal(300n);
    // Period n is proven against the frozen root; n + 1 against the new one.
    await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
    expect((await f.market.dataSet(id)).frozenSpan).to.equal(300n);
    await (await proveNext(f, f.provider, new Map([[id, grown]]))).wait();
  });

  it("test_draw_matchesTheTypeScriptMirror", async () => {
    const f = await withChallenges(16n);
    const sets = [
      await liveDataSet(f, 1000n),
      await liveDataSet(f, 3000n),
      await liveDataSet(f, 500n),
      await liveDataSet(f, 4096n),
    ];
    const trees = new Map(sets.map((s) => [s.id, s.tree]));
    const spans = new Map(sets.map((s) => [s.id, s.tree.span]));
    for (let round = 0; round < 3; round++) {
      const period = (await f.market.proofState(f.provider.address)).nextPeriod;
      await enterProofWindow(f, period);
      const seed = await f.market.challengeSeed(f.provider.address);
      const expected = mirrorDraw(
        seed,
        f.provider.address,
        period,
        await frozenClasses(f, f.provider.address),
        spans,
        16,
      );
      const drawn = await f.market.challengesFor(f.provider.address);
      expect(drawn.map((d) => [d.dataSetId, d.leaf])).to.deep.equal(expected.map((e) => [e.id, e.leaf]));
      await (await proveNext(f, f.provider, trees)).wait();
    }
  });

  it("test_draw_isByteUniform: each data set is drawn in proportion to its span (20,000 draws, fixed seeds)", async () => {
    const f = await withChallenges(16n);
    const spans = [1000n, 3000n, 500n, 4096n, 1n, 70n];
    const sets = [];
    for (const s of spans) sets.push(await liveDataSet(f, s));
    await (await proveNext(f, f.provider, new Map(sets.map((s) => [s.id, s.tree])))).wait();
    const classes = await frozenClasses(f, f.provider.address);
    const spanOf = new Map(sets.map((s) => [s.id, s.tree.span]));
    const total = spans.reduce((x, y) => x + y, 0n);
    const hits = new Map<bigint, number>();
    let draws = 0;
    let short = 0;
    for (let k = 0; k < 1250; k++) {
      const seed = keccak256(coder.encode(["string", "uint256"], ["strata-draw-test", k]));
      const got = mirrorDraw(seed, f.provider.address, 7n, classes, spanOf, 16);
      if (got.length < 16) short++;
      for (const g of got) hits.set(g.id, (hits.get(g.id) ?? 0) + 1);
      draws += got.length;
    }
    expect(short).to.equal(0);
    for (const s of sets) {
      const p = Number(s.tree.span) / Number(total);
      const sd = Math.sqrt(draws * p * (1 - p));
      expect(Math.abs((hits.get(s.id) ?? 0) - draws * p), `data set of span ${s.tree.span}`).to.be.at.most(
        4 * sd + 1,
      );
    }
    // And the contract agrees with the mirror on a live seed (the mirror is what the statistic measured).
    const period = (await f.market.proofState(f.provider.address)).nextPeriod;
    await enterProofWindow(f, period);
    const seed = await f.market.challengeSeed(f.provider.address);
    const drawn = await f.market.challengesFor(f.provider.address);
    expect(drawn.map((d) => d.dataSetId)).to.deep.equal(
      mirrorDraw(seed, f.provider.address, period, classes, spanOf, 16).map((e) => e.id),
    );
  });

  it("test_submitProof_rejectsWrongLeavesPathsCountsPeriodsAndWindows", async () => {
    const f = await setup();
    const { id, tree } = await liveDataSet(f, 5000n);
    const period = (await f.market.proofState(f.provider.address)).nextPeriod;
    await expect(f.market.connect(f.provider).submitProof(period, [])).to.be.revertedWithCustomError(
      f.market,
      "MarketSeedNotReady",
    );
    await enterProofWindow(f, period);
    const good = await buildAnswers(f, f.provider.address, new Map([[id, tree]]));
    await expect(f.market.connect(f.provider).submitProof(period + 1n, good)).to.be.revertedWithCustomError(
      f.market,
      "MarketWrongPeriod",
    );
    await expect(f.market.connect(f.provider).submitProof(period, good.slice(1)))
      .to.be.revertedWithCustomError(f.market, "MarketWrongChallengeCount")
      .withArgs(good.length - 1, good.length);
    const zero = "0x" + "00".repeat(32);
    const wrongLeaf = good.map((a) => ({ ...a, leaf: [zero, zero] as [string, string] }));
    await expect(f.market.connect(f.provider).submitProof(period, wrongLeaf)).to.be.revertedWithCustomError(
      f.market,
      "MarketInvalidProof",
    );
    const shortPath = good.map((a) => ({ ...a, path: (a.path as string[]).slice(1) }));
    await expect(f.market.connect(f.provider).submitProof(period, shortPath)).to.be.revertedWithCustomError(
      f.market,
      "MarketBadProofLength",
    );
    await f.helpers.time.increaseTo(await f.market.periodStart(period + 1n));
    await expect(f.market.connect(f.provider).submitProof(period, good)).to.be.revertedWithCustomError(
      f.market,
      "MarketOutsideProofWindow",
    );
  });

  it("test_declareFaults_excusesTheAnswerAndIsClosedOnceTheSeedIsMined", async () => {
    const f = await setup();
    const a = await liveDataSet(f, 100n);
    await (await proveNext(f, f.provider, new Map([[a.id, a.tree]]))).wait();
    const n = (await f.market.proofState(f.provider.address)).nextPeriod;
    await expect(f.market.connect(f.provider).declareFaults([a.id]))
      .to.emit(f.market, "FaultDeclared")
      .withArgs(f.provider.address, n, a.id);
    await expect(f.market.connect(f.provider).declareFaults([a.id]))
      .to.be.revertedWithCustomError(f.market, "MarketCannotDeclare")
      .withArgs(a.id, n);
    await expect(f.market.connect(f.provider).declareFaults([999n]))
      .to.be.revertedWithCustomError(f.market, "MarketNotDataSetParty")
      .withArgs(999n, f.provider.address);
    await enterProofWindow(f, n);
    const drawn = await f.market.challengesFor(f.provider.address);
    expect(drawn.every((d) => d.declared)).to.equal(true);
    await (await proveNext(f, f.provider, new Map())).wait();
    await enterProofWindow(f, n + 1n);
    await expect(f.market.connect(f.provider).declareFaults([a.id])).to.be.revertedWithCustomError(
      f.market,
      "MarketDeclarationClosed",
    );
  });

  it("test_reportMissedProofs_recordsRunsPaysTheBountyAndRestartsTheEpoch", async () => {
    const f = await setup();
    const a = await liveDataSet(f, 100n);
    const n = (await f.market.proofState(f.provider.address)).nextPeriod;
    await expect(
      f.market.connect(f.watcher).reportMissedProofs(f.provider.address),
    ).to.be.revertedWithCustomError(f.market, "MarketNoMissedPeriods");
    await f.helpers.time.increaseTo(await f.market.periodStart(n + 3n));
    const p = await f.market.parameters();
    const slashed = 3n * p.missedProofPenalty;
    const bounty = (slashed * p.reporterShareBps) / 10_000n;
    await expect(f.market.connect(f.watcher).reportMissedProofs(f.provider.address))
      .to.emit(f.market, "MissedProofsReported")
      .withArgs(f.provider.address, n, 3n, f.watcher.address, bounty, (x: bigint) => x > 0n)
      .and.to.emit(f.market, "ProofBondSlashed")
      .withArgs(f.provider.address, 3n, slashed, f.watcher.address, bounty, slashed - bounty);
    expect(await f.market.balanceOf(f.watcher.address)).to.equal(bounty);
    expect(await f.market.balanceOf(f.treasury.address)).to.equal(slashed - bounty);
    expect((await f.market.proofState(f.provider.address)).nextPeriod).to.equal(n + 3n);
    await (await proveNext(f, f.provider, new Map([[a.id, a.tree]]))).wait();
  });

  it("test_anEmptyProvider_hasNothingToProveAndRestarts", async () => {
    const f = await setup();
    const id = await createDataSet(f);
    await topUp(f, id, 10n * USDC);
    await f.helpers.time.increase(10n * 3600n);
    await expect(
      f.market.connect(f.watcher).reportMissedProofs(f.provider.address),
    ).to.be.revertedWithCustomError(f.market, "MarketNoMissedPeriods");
    const t = UniformTree.random(64n);
    await (await putState(f, id, t)).wait();
    // The first state of a provider with nothing frozen applies to its very next period.
    expect((await f.market.weight(f.provider.address)).frozen).to.equal(64n);
    await (await proveNext(f, f.provider, new Map([[id, t]]))).wait();
  });
});
