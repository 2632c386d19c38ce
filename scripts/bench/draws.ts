/**
 * `npm run bench:draws`: the challenge draw over many seeds (docs/SPEC.md §7.4). The draw is the only part of a
 * proof whose cost depends on the seed (a rejected draw reads two more storage words), so the worst case of a
 * proof's gas is the worst case of its draw. For each layout the market's own draw (`DataSetProving.draw` through
 * `contracts/mocks/DrawHarness.sol`) runs for 1,000 seeds with 4 challenges; the script checks that the SDK mirror
 * draws the same challenges, and prints words drawn, rejected draws, short periods and the draw's gas (max, mean),
 * beside the rejections the previous rule (power-of-two classes, up to 8 × count words) would have taken; then the
 * mirror alone searches 20,000 more seeds for the one that draws the most words, and the market's draw prices it.
 * Writes bench/draws.json.
 */
import path from "node:path";
import { AbiCoder, keccak256 } from "ethers";
import { network } from "hardhat";
import {
  drawChallenges,
  frozenStateOf,
  drawWord,
  maxDraws,
  type FrozenProviderState,
} from "../../offchain/sdk/datasets/draw.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { DRAWS_JSON, type DrawFigures } from "./drawsReport.js";
import { ROOT } from "./files.js";
import { fixedWidth, writeJson } from "./report.js";

const SEEDS = Number(process.env.DRAW_SEEDS ?? 1_000);
/** Further seeds drawn by the SDK mirror alone, to find the one that uses the most words; only it runs on chain. */
const SEARCHED = Number(process.env.DRAW_SEARCHED ?? 20_000);
const COUNT = 4;
const MIB = 1n << 20n;
const GIB = 1n << 30n;
const TIB = 1n << 40n;
const leaves = (bytes: bigint) => bytes / 64n;

interface Layout {
  readonly name: string;
  readonly spans: readonly bigint[];
}

const LAYOUTS: readonly Layout[] = [
  { name: "1 TiB in 1 data set", spans: [leaves(TIB)] },
  {
    name: "1 TiB as 1 GiB pieces in 100 data sets",
    spans: Array.from({ length: 100 }, (_, i) => leaves((i < 24 ? 11n : 10n) * GIB)),
  },
  { name: "10,000 pieces of 100 MiB in 1 data set", spans: [leaves(10_000n * 100n * MIB)] },
  { name: "100 TiB in 1 data set", spans: [leaves(100n * TIB)] },
  {
    // The worst case of both rules: every span one leaf above a boundary (8 GiB + 64 B), so it fills 8/9 of its
    // draw class and just over 1/2 of its power-of-two class.
    name: "worst case: 100 data sets of 8 GiB + 64 B",
    spans: Array.from({ length: 100 }, () => (1n << 27n) + 1n),
  },
];

const stateOf = (spans: readonly bigint[]): FrozenProviderState =>
  frozenStateOf(spans, (id) => keccak256(AbiCoder.defaultAbiCoder().encode(["uint256"], [id])));

/** Rejected draws of the previous rule (class ceil(log2 span), capacity 2^c, up to 8 × count words). */
function previousRuleRejections(seed: string, provider: string, spans: readonly bigint[]): number {
  const byClass = new Map<number, bigint[]>();
  for (const span of spans) {
    let c = 0;
    while (1n << BigInt(c) < span) c++;
    byClass.set(c, [...(byClass.get(c) ?? []), span]);
  }
  const classes = [...byClass.entries()].sort((a, b) => a[0] - b[0]);
  const total = classes.reduce((sum, [c, list]) => sum + (BigInt(list.length) << BigInt(c)), 0n);
  let accepted = 0;
  let rejected = 0;
  for (let j = 0n; accepted < COUNT && j < BigInt(8 * COUNT); j++) {
    let r = drawWord(seed, provider, 1n, j) % total;
    for (const [c, list] of classes) {
      const weight = BigInt(list.length) << BigInt(c);
      if (r >= weight) {
        r -= weight;
        continue;
      }
      const span = list[Number(r >> BigInt(c))] ?? 0n;
      if ((r & ((1n << BigInt(c)) - 1n)) < span) accepted++;
      else rejected++;
      break;
    }
  }
  return rejected;
}

const { ethers } = await network.create();
const proving = await ethers.deployContract("DataSetProving");
const epochs = await ethers.deployContract("ProviderEpochs");
const libraries = {
  DataSetProving: await proving.getAddress(),
  ProviderEpochs: await epochs.getAddress(),
};
const figures: DrawFigures[] = [];
const started = performance.now();
for (const layout of LAYOUTS) {
  const harness = await ethers.deployContract("DrawHarness", [], { libraries });
  for (let i = 0; i < layout.spans.length; i += 50) {
    await (await harness.addDataSets(layout.spans.slice(i, i + 50))).wait();
  }
  const provider = await harness.PROVIDER();
  const state = stateOf(layout.spans);
  const words: number[] = [];
  const rejected: number[] = [];
  const gas: number[] = [];
  const previous: number[] = [];
  let short = 0;
  for (let index = 0; index < SEEDS; index++) {
    const seed = keccak256(AbiCoder.defaultAbiCoder().encode(["string", "uint256"], ["strata-draws", index]));
    const [gasUsed, drawn] = await harness.draw(seed, COUNT);
    const mirror = drawChallenges({ seed, provider, period: 1n, challengeCount: COUNT }, state);
    const key = (c: { dataSetId: bigint; leaf: bigint }) => `${c.dataSetId}:${c.leaf}`;
    const same = drawn.map(key).join(",") === mirror.map(key).join(",");
    if (!same) {
      throw new StrataError("BENCH_RESULT_INVALID", `the SDK mirror and the market disagree on seed ${seed}`);
    }
    const used =
      mirror.length < COUNT ? maxDraws(COUNT) : Number(mirror[mirror.length - 1]?.drawIndex ?? 0n) + 1;
    if (mirror.length < COUNT) short++;
    words.push(used);
    rejected.push(used - mirror.length);
    gas.push(Number(gasUsed));
    previous.push(previousRuleRejections(seed, provider, layout.spans));
  }
  // The unluckiest of many more seeds: the mirror finds the seed that draws the most words, the market prices it.
  let worstSeed = "";
  let worstWords = 0;
  for (let index = 0; index < SEARCHED; index++) {
    const seed = keccak256(
      AbiCoder.defaultAbiCoder().encode(["string", "uint256"], ["strata-draws-search", index]),
    );
    const mirror = drawChallenges({ seed, provider, period: 1n, challengeCount: COUNT }, state);
    const used =
      mirror.length < COUNT ? maxDraws(COUNT) : Number(mirror[mirror.length - 1]?.drawIndex ?? 0n) + 1;
    if (used > worstWords) [worstSeed, worstWords] = [seed, used];
  }
  const [worstGas] = await harness.draw(worstSeed, COUNT);
  const mean = (list: number[]) => Math.round((list.reduce((a, b) => a + b, 0) / list.length) * 100) / 100;
  figures.push({
    layout: layout.name,
    dataSets: layout.spans.length,
    seeds: SEEDS,
    challenges: COUNT,
    maxWords: maxDraws(COUNT),
    wordsMax: Math.max(...words),
    wordsMean: mean(words),
    rejectedMax: Math.max(...rejected),
    rejectedMean: mean(rejected),
    shortPeriods: short,
    drawGasMax: Math.max(...gas),
    drawGasMean: Math.round(mean(gas)),
    drawGasMin: Math.min(...gas),
    searchedSeeds: SEARCHED,
    searchedWordsMax: worstWords,
    searchedDrawGas: Number(worstGas),
    previousRuleRejectedMax: Math.max(...previous),
    previousRuleRejectedMean: mean(previous),
  });
  console.log(`${layout.name}: done`);
}
const n = (x: number) => x.toLocaleString("en-US");
console.log(
  `\n${fixedWidth(
    [
      "layout (4 challenges, 1,000 seeds)",
      "words max/mean",
      "rejected max/mean",
      "short",
      "draw gas max",
      "mean",
      "min",
      "previous rule: rejected max/mean",
    ],
    figures.map((f) => [
      f.layout,
      `${f.wordsMax}/${f.wordsMean}`,
      `${f.rejectedMax}/${f.rejectedMean}`,
      n(f.shortPeriods),
      n(f.drawGasMax),
      n(f.drawGasMean),
      n(f.drawGasMin),
      `${f.previousRuleRejectedMax}/${f.previousRuleRejectedMean}`,
    ]),
    new Set([0]),
  )}\n`,
);
console.log(`at most ${maxDraws(COUNT)} words (${maxDraws(COUNT) - COUNT} rejected draws) for any seed`);
writeJson(DRAWS_JSON, figures);
console.log(
  `written to ${path.relative(ROOT, DRAWS_JSON)} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
