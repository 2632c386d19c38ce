import { expect } from "chai";
import { AbiCoder, keccak256 } from "ethers";
import { network } from "hardhat";
import {
  drawChallenges,
  frozenStateOf,
  drawWord,
  maxDraws,
  type FrozenProviderState,
} from "../../offchain/sdk/datasets/draw.js";

const coder = AbiCoder.defaultAbiCoder();
const rootOf = (id: bigint) => coder.encode(["uint256"], [id]);
const seedOf = (tag: string, index: number) => keccak256(coder.encode(["string", "uint256"], [tag, index]));

/** The frozen state the harness holds for `spans` (ids 1, 2, ... in order; roots are the ids). */
const stateOf = (spans: readonly bigint[]): FrozenProviderState => frozenStateOf(spans, rootOf);

async function harnessWith(spans: readonly bigint[]) {
  const { ethers } = await network.create();
  const libraries = {
    DataSetProving: await (await ethers.deployContract("DataSetProving")).getAddress(),
    ProviderEpochs: await (await ethers.deployContract("ProviderEpochs")).getAddress(),
  };
  const harness = await ethers.deployContract("DrawHarness", [], { libraries });
  for (let i = 0; i < spans.length; i += 50) await (await harness.addDataSets(spans.slice(i, i + 50))).wait();
  return { harness, provider: await harness.PROVIDER(), state: stateOf(spans) };
}

describe("StorageMarket: the challenge draw over draw classes, for many seeds (DataSetProving.draw)", () => {
  it("test_draw_equalsTheSdkMirror: small and large spans, every eighth, 1, 4 and 16 challenges", async () => {
    const spans: bigint[] = [];
    for (let span = 1n; span <= 40n; span++) spans.push(span);
    for (let m = 0n; m < 8n; m++)
      spans.push((1n << 29n) + m * (1n << 26n) + 1n, (1n << 29n) + (m + 1n) * (1n << 26n));
    spans.push(1n << 34n, 100n << 34n, 3n);
    const { harness, provider, state } = await harnessWith(spans);
    for (const count of [1, 4, 16]) {
      for (let index = 0; index < 60; index++) {
        const seed = seedOf("draw-equals-mirror", index);
        const [, drawn] = await harness.draw(seed, count);
        const mirror = drawChallenges({ seed, provider, period: 1n, challengeCount: count }, state);
        expect(drawn.map((d) => [d.dataSetId, d.leaf, Number(d.depth)])).to.deep.equal(
          mirror.map((m) => [m.dataSetId, m.leaf, m.sizeClass]),
        );
        for (const m of mirror) expect(m.drawIndex < BigInt(maxDraws(count))).to.be.true;
      }
    }
  });

  it("test_draw_rejectsBelowOneNinth: the worst spans (one leaf above a boundary) over 1,000 seeds", async () => {
    // Every span one leaf above the bottom of its draw class: each draw is accepted with probability just above 8/9.
    const spans = Array.from({ length: 40 }, (_, i) => (1n << BigInt(20 + (i % 20))) + 1n);
    const { harness, provider, state } = await harnessWith(spans);
    let words = 0;
    let rejected = 0;
    let short = 0;
    for (let index = 0; index < 1000; index++) {
      const seed = seedOf("draw-rejections", index);
      const drawn = drawChallenges({ seed, provider, period: 1n, challengeCount: 4 }, state);
      const used = drawn.length < 4 ? maxDraws(4) : Number(drawn[3]?.drawIndex ?? 0n) + 1;
      words += used;
      rejected += used - drawn.length;
      if (drawn.length < 4) short++;
      if (index % 10 === 0) {
        const [, onChain] = await harness.draw(seed, 4);
        expect(onChain.map((d) => d.leaf)).to.deep.equal(drawn.map((d) => d.leaf));
      }
    }
    // Rejection probability below 1/9 per word: the observed share of rejected words, 4 standard errors up.
    const share = rejected / words;
    expect(share).to.be.lessThan(1 / 9 + 4 * Math.sqrt(((1 / 9) * (8 / 9)) / words));
    expect(share).to.be.greaterThan(0.05); // these spans do miss: the statistic measures something
    // P(short) <= 7.1e-4 per period (fewer than 4 accepted in 8 words): about 0.7 expected in 1,000, more than 5
    // with probability 1e-4.
    expect(short).to.be.at.most(5);
    // The previous rule (power-of-two classes) rejected about half of these words.
    let previousRejected = 0;
    for (let j = 0n; j < 400n; j++) {
      const r = drawWord(seedOf("draw-rejections", 0), provider, 1n, j);
      const span = spans[Number(r % BigInt(spans.length))] ?? 0n;
      const c = BigInt(span.toString(2).length); // span = 2^e + 1: class e + 1, capacity 2^(e+1)
      if ((r >> 64n) % (1n << c) >= span) previousRejected++;
    }
    expect(previousRejected / 400).to.be.greaterThan(0.4);
  });
});
