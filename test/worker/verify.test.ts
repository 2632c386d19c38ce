/**
 * The worker's off-chain proof check (verify/proofCheck.ts) and calldata reader (verify/calldata.ts) on a synthetic
 * frozen state: the draw is the SDK mirror's, answers come from the data sets' trees. The same checks against the
 * market on a real chain: replayVsMarket.test.ts and duties.proofVerifier.test.ts.
 */
import { expect } from "chai";
import { hexlify, randomBytes } from "ethers";
import { StorageMarket__factory } from "../../typechain-types/index.js";
import { drawChallenges, drawClassOf, type FrozenProviderState } from "../../offchain/sdk/datasets/index.js";
import { decodeProofCall, type CalldataAnswer } from "../../offchain/worker/verify/calldata.js";
import { checkProof, type ProofCheckInput } from "../../offchain/worker/verify/proofCheck.js";
import { UniformTree } from "../helpers/fixture.js";

const MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const CLIENT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const PERIOD = 7n;
const SEED = "0x" + "5a".repeat(32);

/** Data sets 1..3 (spans 5, 300, 64) in their draw classes, their trees, and honest answers to the draw. */
function scenario(challengeCount = 8): { input: ProofCheckInput; trees: Map<bigint, UniformTree> } {
  const trees = new Map<bigint, UniformTree>([
    [1n, UniformTree.random(5n)],
    [2n, UniformTree.random(300n)],
    [3n, UniformTree.random(64n)],
  ]);
  const frozen: FrozenProviderState = {
    // Draw classes (docs/SPEC.md §4.3): span 5 -> 24 (size class 3), 300 -> 73 (9), 64 -> 55 (6).
    classes: new Map([
      [24, [1n]],
      [73, [2n]],
      [55, [3n]],
    ]),
    dataSets: new Map([...trees].map(([id, tree]) => [id, { span: tree.span, root: tree.root }])),
  };
  const parameters = { seed: SEED, provider: PROVIDER, period: PERIOD, challengeCount };
  const answers: CalldataAnswer[] = drawChallenges(parameters, frozen).map((c) => {
    const tree = trees.get(c.dataSetId);
    if (!tree) throw new RangeError(`no tree ${c.dataSetId}`);
    return { leaf: tree.leaf(c.leaf), path: tree.path(c.leaf) };
  });
  for (const [k, [id]] of frozen.classes) expect(drawClassOf(trees.get(id ?? 0n)?.span ?? 0n)).to.equal(k);
  return { input: { ...parameters, frozen, declared: new Set(), answers }, trees };
}

function flip(hex: string): string {
  return hex.slice(0, -1) + (parseInt(hex.slice(-1), 16) ^ 1).toString(16);
}

describe("worker verify: proof check", function () {
  it("accepts honest answers to the mirror's draw", function () {
    const { input } = scenario();
    const check = checkProof(input);
    expect(check.problems).to.deep.equal([]);
    expect(check.ok).to.be.true;
    expect(check.challenges).to.have.length(8);
    expect(check.challenges.every((c) => c.status === "proven")).to.be.true;
  });

  it("catches a tampered leaf, a tampered path node and a path of the wrong length", function () {
    const { input } = scenario();
    const [first, ...rest] = input.answers;
    if (!first) throw new RangeError("no answer");
    const leaf = checkProof({
      ...input,
      answers: [{ ...first, leaf: [flip(first.leaf[0]), first.leaf[1]] }, ...rest],
    });
    expect(leaf.problems.map((p) => [p.code, p.challenge])).to.deep.equal([["INVALID_PATH", 0]]);
    const node = [...first.path];
    node[0] = flip(node[0] ?? "0x00");
    const path = checkProof({ ...input, answers: [{ ...first, path: node }, ...rest] });
    expect(path.problems.map((p) => p.code)).to.deep.equal(["INVALID_PATH"]);
    const long = checkProof({ ...input, answers: [{ ...first, path: [...first.path, SEED] }, ...rest] });
    expect(long.problems.map((p) => p.code)).to.deep.equal(["BAD_PATH_LENGTH"]);
  });

  it("catches an answer taken from another data set's tree", function () {
    const { input, trees } = scenario();
    const check = checkProof(input);
    const index = check.challenges.findIndex((c) => c.dataSetId === 2n);
    const other = trees.get(3n);
    const challenge = check.challenges[index];
    if (!other || !challenge) throw new RangeError("scenario");
    const answers = [...input.answers];
    answers[index] = { leaf: other.leaf(0n), path: [...other.path(0n), SEED, SEED, SEED] };
    expect(checkProof({ ...input, answers }).problems.map((p) => p.code)).to.deep.equal(["INVALID_PATH"]);
  });

  it("ignores the answer of a data set declared faulty for the period", function () {
    const { input } = scenario();
    const declared = checkProof(input).challenges[0]?.dataSetId ?? 0n;
    const answers = input.answers.map((a, i) =>
      checkProof(input).challenges[i]?.dataSetId === declared ? { leaf: [SEED, SEED] as const, path: [] } : a,
    );
    const check = checkProof({ ...input, declared: new Set([declared]), answers });
    expect(check.ok).to.be.true;
    expect(check.challenges.filter((c) => c.status === "declared").length).to.be.greaterThan(0);
  });

  it("flags a wrong answer count and answers when nothing was frozen", function () {
    const { input } = scenario();
    expect(checkProof({ ...input, answers: input.answers.slice(1) }).problems.map((p) => p.code)).to.include(
      "WRONG_ANSWER_COUNT",
    );
    const empty = checkProof({ ...input, frozen: { classes: new Map(), dataSets: new Map() } });
    expect(empty.problems.map((p) => p.code)).to.deep.equal(["NOTHING_FROZEN", "WRONG_ANSWER_COUNT"]);
  });
});

describe("worker verify: proof calldata", function () {
  const market = StorageMarket__factory.createInterface();
  const { input } = scenario(2);
  const answers = input.answers.map((a) => ({
    leaf: [a.leaf[0], a.leaf[1]] as [string, string],
    path: [...a.path],
  }));

  it("reads a direct submitProof call", function () {
    const data = market.encodeFunctionData("submitProof", [PERIOD, answers]);
    const call = decodeProofCall({ to: MARKET, data }, MARKET, PERIOD);
    if (!call.ok) throw new Error(call.reason);
    expect(call.via).to.equal("direct");
    expect(call.answers).to.deep.equal(answers);
    expect(checkProof({ ...input, answers: call.answers }).ok).to.be.true;
  });

  it("reads submitProof inside the market's multicall", function () {
    const data = market.encodeFunctionData("multicall", [
      [
        market.encodeFunctionData("submitProof", [PERIOD, answers]),
        market.encodeFunctionData("declareFaults", [[1n]]),
      ],
    ]);
    const call = decodeProofCall({ to: MARKET.toLowerCase(), data }, MARKET, PERIOD);
    expect(call.ok && call.via).to.equal("multicall");
  });

  it("gives a reason instead of answers it cannot read", function () {
    const data = market.encodeFunctionData("submitProof", [PERIOD, answers]);
    const cases = [
      decodeProofCall({ to: CLIENT, data }, MARKET, PERIOD),
      decodeProofCall({ to: null, data }, MARKET, PERIOD),
      decodeProofCall({ to: MARKET, data }, MARKET, PERIOD + 1n),
      decodeProofCall({ to: MARKET, data: hexlify(randomBytes(40)) }, MARKET, PERIOD),
      decodeProofCall(
        { to: MARKET, data: market.encodeFunctionData("multicall", [[data, data]]) },
        MARKET,
        PERIOD,
      ),
    ];
    for (const call of cases) expect(call.ok).to.be.false;
  });
});
