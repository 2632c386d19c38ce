import { expect } from "chai";
import { keccak256, solidityPacked, toBeHex } from "ethers";
import {
  DRAW_MAX_CLASS,
  drawCapacity,
  drawChallenges,
  drawClassOf,
  frozenStateOf,
  drawWord,
  frozenWeight,
  maxDraws,
  type DrawnChallenge,
  type FrozenProviderState,
} from "../../offchain/sdk/datasets/draw.js";
import { sizeClass } from "../../offchain/sdk/datasets/money.js";
import { expectStrataError } from "./helpers/assertions.js";

const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const ROOT = "0x" + "11".repeat(32);

/** A frozen state of data sets with the given spans, in slot order (ids 1, 2, ...), classes by the market's rule. */
const stateOf = (spans: readonly bigint[]): FrozenProviderState => frozenStateOf(spans, () => ROOT);

/** The draw written the slow way: every (draw class, slot, leaf) position listed in order, indexed by w mod W. */
function referenceDraw(
  seed: string,
  period: bigint,
  count: number,
  state: FrozenProviderState,
): DrawnChallenge[] {
  const positions: DrawnChallenge[] = [];
  for (const k of [...state.classes.keys()].sort((a, b) => a - b)) {
    (state.classes.get(k) ?? []).forEach((dataSetId, slot) => {
      for (let leaf = 0n; leaf < drawCapacity(k); leaf++) {
        positions.push({
          dataSetId,
          leaf,
          sizeClass: k >> 3,
          drawClass: k,
          slot: BigInt(slot),
          drawIndex: 0n,
        });
      }
    });
  }
  const accepted: DrawnChallenge[] = [];
  for (let j = 0n; accepted.length < count && j < BigInt(count + Math.max(count, 4)); j++) {
    const word = BigInt(
      keccak256(solidityPacked(["bytes32", "uint256", "uint256", "uint256"], [seed, PROVIDER, period, j])),
    );
    const position = positions[Number(word % BigInt(positions.length))];
    if (position === undefined) throw new Error("no position");
    const span = state.dataSets.get(position.dataSetId)?.span ?? 0n;
    if (position.leaf < span) accepted.push({ ...position, drawIndex: j });
  }
  return accepted;
}

function seedOf(index: number): string {
  return keccak256(toBeHex(index, 32));
}

describe("challenge draw (offchain/sdk/datasets/draw.ts)", function () {
  it("hashes abi.encode(bytes32 seed, address provider, uint256 period, uint256 j) with keccak256", function () {
    const seed = seedOf(1);
    const packed = solidityPacked(["bytes32", "uint256", "uint256", "uint256"], [seed, PROVIDER, 7n, 3n]);
    expect(packed.length).to.equal(2 + 4 * 64);
    expect(drawWord(seed, PROVIDER, 7n, 3n)).to.equal(BigInt(keccak256(packed)));
    expect(toBeHex(drawWord("0x" + "00".repeat(31) + "01", PROVIDER, 1n, 0n), 32)).to.equal(DRAW_WORD_VECTOR);
  });

  it("draws nothing when nothing is challengeable", function () {
    expect(
      drawChallenges({ seed: seedOf(1), provider: PROVIDER, period: 1n, challengeCount: 4 }, stateOf([])),
    ).to.deep.equal([]);
    expect(frozenWeight(stateOf([]))).to.equal(0n);
  });

  it("puts every span in the draw class of its size class whose capacity is the smallest at or above it", function () {
    // Small spans one by one: the draw class never goes down, and a span where it changes is the capacity below.
    let previous = -1;
    for (let span = 1n; span <= 5000n; span++) {
      const k = drawClassOf(span);
      if (k === undefined) throw new Error("no class");
      expect(k >> 3, `size class of ${span}`).to.equal(sizeClass(span));
      expect(k >= previous, `order at ${span}`).to.be.true;
      if (k !== previous && previous >= 0) expect(drawCapacity(previous)).to.equal(span - 1n);
      expect(drawCapacity(k) >= span, `capacity of ${span}`).to.be.true;
      previous = k;
    }
    // Large classes: the first and last span of each eighth.
    for (let c = 5n; c <= 47n; c++) {
      const half = 1n << (c - 1n);
      const unit = 1n << (c - 4n);
      for (let m = 0n; m < 8n; m++) {
        const k = Number((c << 3n) | m);
        expect(drawClassOf(half + m * unit + 1n)).to.equal(k);
        expect(drawClassOf(half + (m + 1n) * unit)).to.equal(k);
        expect(drawCapacity(k)).to.equal(half + (m + 1n) * unit);
        // The worst span of the draw class fills more than 8/9 of it: a draw is rejected with probability < 1/9.
        expect(9n * (half + m * unit + 1n) > 8n * drawCapacity(k)).to.be.true;
      }
    }
    expect(drawClassOf(0n)).to.equal(undefined);
    expect(drawClassOf(1n << 47n)).to.equal(DRAW_MAX_CLASS);
    expectStrataError(() => drawClassOf((1n << 47n) + 1n), "INVALID_ARGUMENT");
    expectStrataError(() => drawCapacity(DRAW_MAX_CLASS + 1), "INVALID_ARGUMENT");
  });

  it("matches a position-by-position reference draw", function () {
    const state = stateOf([1n, 3n, 5n, 8n, 2n, 13n, 33n]);
    // Capacities: 1, 3, 5, 8, 2, 13 (spans up to 16 are exact), 36 (eighth 0 of class 6: 32 + 4).
    expect(frozenWeight(state)).to.equal(1n + 3n + 5n + 8n + 2n + 13n + 36n);
    for (let index = 0; index < 300; index++) {
      const parameters = {
        seed: seedOf(index),
        provider: PROVIDER,
        period: BigInt(index % 5),
        challengeCount: 4,
      };
      expect(drawChallenges(parameters, state)).to.deep.equal(
        referenceDraw(parameters.seed, parameters.period, 4, state),
      );
    }
  });

  it("pins the challenges of a fixed state (a vector for the market's own test)", function () {
    const state = stateOf([1n, 3n, 5n, 8n, 2n, 13n, 33n]);
    const drawn = drawChallenges(
      { seed: seedOf(1), provider: PROVIDER, period: 5n, challengeCount: 4 },
      state,
    );
    expect(
      drawn.map((challenge) => [challenge.dataSetId, challenge.leaf, challenge.drawIndex]),
    ).to.deep.equal(DRAW_VECTOR);
  });

  it("accepts only leaves inside the frozen span, in draw order, never more than the count and within count + max(count, 4) words", function () {
    // Draw class 27 (capacity 8) holding spans of 1 leaf (never the market's state): each word is accepted with
    // probability 1/8, so the cap is reached.
    expect(drawCapacity(27)).to.equal(8n);
    const sparse: FrozenProviderState = {
      classes: new Map([[27, [1n, 2n]]]),
      dataSets: new Map([
        [1n, { span: 1n, root: ROOT }],
        [2n, { span: 1n, root: ROOT }],
      ]),
    };
    let short = 0;
    for (let index = 0; index < 100; index++) {
      const drawn = drawChallenges(
        { seed: seedOf(index), provider: PROVIDER, period: 1n, challengeCount: 4 },
        sparse,
      );
      expect(drawn.length).to.be.at.most(4);
      if (drawn.length < 4) short++;
      let previous = -1n;
      for (const challenge of drawn) {
        expect(challenge.leaf).to.equal(0n);
        expect(challenge.drawIndex > previous && challenge.drawIndex < BigInt(maxDraws(4))).to.be.true;
        previous = challenge.drawIndex;
      }
    }
    expect(short).to.be.greaterThan(0);
    expectStrataError(
      () => drawChallenges({ seed: seedOf(1), provider: PROVIDER, period: 1n, challengeCount: -1 }, sparse),
      "INVALID_ARGUMENT",
    );
  });

  it("draws each data set in proportion to its span, and each leaf uniformly (chi-square, p = 0.001)", function () {
    const spans = [1n, 3n, 5n, 8n, 13n, 40n, 64n, 100n];
    const state = stateOf(spans);
    const total = spans.reduce((sum, span) => sum + span, 0n);
    const perDataSet = new Map<bigint, number>();
    const leavesOfLargest = new Array<number>(100).fill(0);
    let draws = 0;
    for (let index = 0; index < 3000; index++) {
      for (const challenge of drawChallenges(
        { seed: seedOf(index), provider: PROVIDER, period: 9n, challengeCount: 4 },
        state,
      )) {
        draws++;
        perDataSet.set(challenge.dataSetId, (perDataSet.get(challenge.dataSetId) ?? 0) + 1);
        if (challenge.dataSetId === 8n) {
          const leaf = Number(challenge.leaf);
          leavesOfLargest[leaf] = (leavesOfLargest[leaf] ?? 0) + 1;
        }
      }
    }
    expect(draws).to.be.greaterThan(11_900);
    let chiSquare = 0;
    spans.forEach((span, index) => {
      const expected = (draws * Number(span)) / Number(total);
      const observed = perDataSet.get(BigInt(index + 1)) ?? 0;
      chiSquare += (observed - expected) ** 2 / expected;
    });
    expect(chiSquare).to.be.lessThan(24.32); // 7 degrees of freedom
    const largest = perDataSet.get(8n) ?? 0;
    const leafChiSquare = leavesOfLargest.reduce(
      (sum, observed) => sum + (observed - largest / 100) ** 2 / (largest / 100),
      0,
    );
    expect(leafChiSquare).to.be.lessThan(148.23); // 99 degrees of freedom
  });
});

const DRAW_WORD_VECTOR = "0x1937e28213ab70ea1d9108065d0ab3a6b22dfeec0d3f90733a7fa840ad207826";
// [dataSetId, leaf, j] for seed keccak256(bytes32(1)), period 5, 4 challenges, spans [1, 3, 5, 8, 2, 13, 33] (ids 1..7).
const DRAW_VECTOR: [bigint, bigint, bigint][] = [
  [7n, 26n, 0n],
  [7n, 14n, 1n],
  [7n, 4n, 2n],
  [4n, 6n, 3n],
];
