import { expect } from "chai";
import { StrataError } from "../../offchain/sdk/errors.js";
import { hexlify, randomBytes } from "ethers";
import { StorageMarket__factory } from "../../typechain-types/index.js";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import {
  answerChallenge,
  challengeWord,
  skippedChallenge,
  type ChallengeProof,
} from "../../offchain/sdk/proofs/challenges.js";
import {
  ActiveDealList,
  provingStateAt,
  type ProvingEvent,
} from "../../offchain/worker/verify/activeList.js";
import { decodeProofCall } from "../../offchain/worker/verify/calldata.js";
import {
  challengedPosition,
  compareWithView,
  deriveChallenges,
} from "../../offchain/worker/verify/challenges.js";
import { checkProof, type ProofCheckInput } from "../../offchain/worker/verify/proofCheck.js";
import { deterministicBytes, expectStrataError } from "../sdk/helpers/assertions.js";

const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const CLIENT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const SEED = "0x" + "5e".repeat(32);
const PERIOD = 7n;

const at = (blockNumber: number, logIndex = 0) => ({ blockNumber, logIndex });

describe("worker verify: active list", function () {
  it("removes by swap-and-pop like PackedDealList.removeAt", function () {
    const list = new ActiveDealList();
    for (const id of [1n, 2n, 3n, 4n]) list.push(id);
    expect(list.remove(2n)).to.equal(4n);
    expect(list.toArray()).to.deep.equal([1n, 4n, 3n]);
    expect(list.remove(3n)).to.equal(undefined);
    expect(list.toArray()).to.deep.equal([1n, 4n]);
    list.push(5n);
    expect(list.remove(1n)).to.equal(5n);
    expect(list.toArray()).to.deep.equal([5n, 4n]);
    expect(list.at(1)).to.equal(4n);
    expect(list.has(1n)).to.be.false;
  });

  it("refuses events the contract cannot emit", function () {
    const list = new ActiveDealList();
    list.push(1n);
    expectStrataError(() => {
      list.push(1n);
    }, "WORKER_DB_ERROR");
    expectStrataError(() => list.remove(9n), "WORKER_DB_ERROR");
  });

  it("replays events in chain order up to a position and records challengeable at each seed", function () {
    const events: ProvingEvent[] = [
      // Given out of order on purpose: replay sorts by (block, logIndex).
      { kind: "dealEnded", dealId: 1n, at: at(20, 1) },
      { kind: "dealPublished", dealId: 1n, at: at(10, 0) },
      { kind: "dealPublished", dealId: 2n, at: at(10, 1) },
      { kind: "dealPublished", dealId: 3n, at: at(10, 2) },
      { kind: "seedScheduled", source: "scheduled", period: 5n, seedBlock: 12n, at: at(10, 3) },
      { kind: "seedScheduled", source: "proof", period: 6n, seedBlock: 18n, at: at(15, 0) },
      { kind: "dealPublished", dealId: 4n, at: at(16, 0) },
      { kind: "seedScheduled", source: "missed", period: 9n, seedBlock: 30n, at: at(25, 0) },
    ];
    const beforeProof = provingStateAt(events, at(20, 5));
    expect(beforeProof.list).to.deep.equal([4n, 2n, 3n]);
    expect(beforeProof.seed).to.deep.include({
      source: "proof",
      period: 6n,
      seedBlock: 18n,
      challengeable: 3,
    });

    const sameBlockEarlier = provingStateAt(events, at(20, 1));
    expect(sameBlockEarlier.list).to.deep.equal([1n, 2n, 3n, 4n]);

    const later = provingStateAt(events, at(26, 0));
    expect(later.seed).to.deep.include({ period: 9n, challengeable: 3 });
    expect(provingStateAt(events, at(1, 0))).to.deep.equal({ list: [], seed: null });
  });
});

describe("worker verify: challenges", function () {
  it("selects positions with the market's rule", function () {
    // challengeable 0: the current length.
    expect(challengedPosition(17n, 0, 5)).to.equal(2);
    // Uniform over the positions of the seed...
    expect(challengedPosition(17n, 10, 12)).to.equal(7);
    // ...a vacated position wraps onto the current list.
    expect(challengedPosition(17n, 10, 4)).to.equal(3);
    expect(() => challengedPosition(1n, 1, 0))
      .to.throw(StrataError)
      .with.property("code", "INTERNAL_INVARIANT");
  });

  it("derives words from the seed and deal ids from the list", function () {
    const list = [11n, 12n, 13n];
    const derived = deriveChallenges({
      seed: SEED,
      provider: PROVIDER,
      period: PERIOD,
      challengeCount: 4,
      list,
      challengeable: 3,
    });
    expect(derived).to.have.length(4);
    for (const challenge of derived) {
      const word = challengeWord(SEED, PROVIDER, PERIOD, BigInt(challenge.index));
      expect(challenge.word).to.equal(word);
      expect(challenge.position).to.equal(Number(word % 3n));
      expect(challenge.dealId).to.equal(list[challenge.position]);
    }
    expect(
      deriveChallenges({
        seed: SEED,
        provider: PROVIDER,
        period: PERIOD,
        challengeCount: 4,
        list: [],
        challengeable: 0,
      }),
    ).to.deep.equal([]);
  });

  it("reports every difference from the market's challenges view", function () {
    const derived = deriveChallenges({
      seed: SEED,
      provider: PROVIDER,
      period: PERIOD,
      challengeCount: 2,
      list: [1n, 2n],
      challengeable: 2,
    });
    const view = { dealIds: derived.map((c) => c.dealId), words: derived.map((c) => c.word) };
    expect(compareWithView(derived, view)).to.deep.equal([]);
    expect(
      compareWithView(derived, { dealIds: view.dealIds.slice(1), words: view.words.slice(1) }),
    ).to.have.length(1);
    const otherDeal = { ...view, dealIds: [99n, view.dealIds[1] ?? 0n] };
    expect(compareWithView(derived, otherDeal)).to.have.length(1);
    const otherWord = { ...view, words: [1n, 2n] };
    expect(compareWithView(derived, otherWord)).to.have.length(2);
  });
});

/** Deals with real pieces, their trees, and a proof built the way the agent's prover builds it. */
function scenario(count = 3, challengeCount = 5) {
  const deals = new Map<bigint, DealTerms>();
  const trees = new Map<bigint, PieceTree>();
  const sizes = [4096, 100, 64, 1000, 65];
  for (let i = 0; i < count; i++) {
    const id = BigInt(i + 1);
    const tree = PieceTree.build(deterministicBytes(`piece-${i}`, sizes[i % sizes.length] ?? 64));
    trees.set(id, tree);
    deals.set(id, {
      id,
      client: CLIENT,
      provider: PROVIDER,
      root: tree.root,
      size: BigInt(tree.size),
      startPeriod: 1n,
      endPeriod: 20n,
      pricePerSecond: 10n,
      collateral: 1_000_000n,
    });
  }
  const list = [...deals.keys()];
  const base = {
    seed: SEED,
    provider: PROVIDER,
    period: PERIOD,
    challengeCount,
    list,
    challengeable: list.length,
  };
  const answers = deriveChallenges(base).map((c) => {
    const deal = deals.get(c.dealId);
    const tree = trees.get(c.dealId);
    if (!deal || !tree) throw new Error("scenario deal missing");
    return answerChallenge(deal, tree, c.word);
  });
  const input: ProofCheckInput = { ...base, deals, declared: new Set(), answers };
  return { input, deals, trees };
}

function withAnswer(input: ProofCheckInput, index: number, change: (a: ChallengeProof) => ChallengeProof) {
  const answers = input.answers.map((a, i) => (i === index ? change(a) : a));
  return { ...input, answers };
}

function flip(hex: string): string {
  const last = parseInt(hex.slice(-1), 16);
  return hex.slice(0, -1) + (last ^ 1).toString(16);
}

describe("worker verify: proof check", function () {
  it("accepts a proof built by the prover's code path", function () {
    const { input } = scenario();
    const result = checkProof(input);
    expect(result.problems).to.deep.equal([]);
    expect(result.ok).to.be.true;
    expect(result.challenges.every((c) => c.status === "proven")).to.be.true;
    expect(result.challenges.map((c) => c.leafIndex)).to.not.include(undefined);
  });

  it("catches a tampered leaf", function () {
    const { input } = scenario();
    const tampered = withAnswer(input, 1, (a) => ({ ...a, leaf: [flip(a.leaf[0]), a.leaf[1]] }));
    const result = checkProof(tampered);
    expect(result.ok).to.be.false;
    expect(result.problems.map((p) => [p.code, p.challenge])).to.deep.equal([["INVALID_PATH", 1]]);
    expect(result.challenges[1]?.status).to.equal("failed");
  });

  it("catches a tampered path node", function () {
    // Size 4096 has depth 6: every answer on deal 1 has a path to tamper with.
    const { input } = scenario(1);
    const tampered = withAnswer(input, 0, (a) => ({
      ...a,
      path: a.path.map((n, i) => (i === 2 ? flip(n) : n)),
    }));
    expect(checkProof(tampered).problems.map((p) => p.code)).to.deep.equal(["INVALID_PATH"]);
  });

  it("catches a path of the wrong length", function () {
    const { input } = scenario(1);
    const tampered = withAnswer(input, 0, (a) => ({ ...a, path: a.path.slice(1) }));
    expect(checkProof(tampered).problems.map((p) => p.code)).to.deep.equal(["BAD_PATH_LENGTH"]);
  });

  it("catches an answer from another deal", function () {
    const { input, deals, trees } = scenario(3, 8);
    const derived = deriveChallenges(input);
    const target = derived.find((c) => c.dealId !== 1n);
    const deal1 = deals.get(1n);
    const tree1 = trees.get(1n);
    if (!target || !deal1 || !tree1) throw new Error("scenario has no challenge on another deal");
    // A valid answer for deal 1 (correct leaf of its own tree) given for a challenge on another deal.
    const tampered = withAnswer(input, target.index, () => answerChallenge(deal1, tree1, target.word));
    const result = checkProof(tampered);
    expect(result.problems.map((p) => [p.code, p.dealId])).to.deep.equal([["TERMS_MISMATCH", target.dealId]]);
  });

  it("catches answers whose terms differ in one field", function () {
    const { input } = scenario(1);
    const fields: ((a: ChallengeProof) => ChallengeProof)[] = [
      (a) => ({ ...a, root: flip(a.root) }),
      (a) => ({ ...a, partiesHash: flip(a.partiesHash) }),
      (a) => ({ ...a, meta: a.meta + 1n }), // size
      (a) => ({ ...a, meta: a.meta + (1n << 64n) }), // end period
    ];
    for (const change of fields) {
      expect(checkProof(withAnswer(input, 0, change)).problems.map((p) => p.code)).to.deep.equal([
        "TERMS_MISMATCH",
      ]);
    }
    // Bits above the 96 the market reads are ignored there, so they are here.
    expect(checkProof(withAnswer(input, 0, (a) => ({ ...a, meta: a.meta | (1n << 200n) }))).ok).to.be.true;
  });

  it("catches a wrong challenged deal (the proof answers a list the worker does not have)", function () {
    const { input } = scenario(3, 8);
    // Same answers checked against a list in another order: some challenges land on other deals.
    const reordered = { ...input, list: [3n, 1n, 2n] };
    const result = checkProof(reordered);
    expect(result.ok).to.be.false;
    expect(result.problems.every((p) => p.code === "TERMS_MISMATCH")).to.be.true;
  });

  it("accepts the empty answer on a deal declared faulty for the period", function () {
    const { input } = scenario(2, 6);
    const derived = deriveChallenges(input);
    const declaredId = derived[0]?.dealId ?? 1n;
    const answers = derived.map((c, i) =>
      c.dealId === declaredId ? skippedChallenge() : (input.answers[i] ?? skippedChallenge()),
    );
    const result = checkProof({ ...input, declared: new Set([declaredId]), answers });
    expect(result.ok).to.be.true;
    expect(result.challenges.filter((c) => c.status === "declared").map((c) => c.dealId)).to.include(
      declaredId,
    );
    // Without the declaration the same answers are wrong.
    expect(checkProof({ ...input, answers }).problems.map((p) => p.code)).to.include("TERMS_MISMATCH");
  });

  it("flags unknown and ended deals, an empty list and a wrong answer count", function () {
    const { input } = scenario(1);
    expect(checkProof({ ...input, deals: new Map() }).problems[0]?.code).to.equal("UNKNOWN_DEAL");
    // Proven after the deal's end period: the terms match, the deal is over.
    const ended = checkProof({ ...input, period: 20n });
    expect(ended.problems.length).to.equal(input.challengeCount);
    expect(ended.problems.every((p) => p.code === "DEAL_ENDED" && p.dealId === 1n)).to.be.true;
    expect(checkProof({ ...input, list: [] }).problems.map((p) => p.code)).to.deep.equal([
      "EMPTY_ACTIVE_LIST",
    ]);
    const short = checkProof({ ...input, answers: input.answers.slice(1) });
    expect(short.problems.map((p) => p.code)).to.include("WRONG_CHALLENGE_COUNT");
  });
});

describe("worker verify: proof calldata", function () {
  const market = StorageMarket__factory.createInterface();
  const { input } = scenario(2);
  const proofs = input.answers;

  it("reads a direct submitProof call", function () {
    const data = market.encodeFunctionData("submitProof", [PERIOD, [...proofs]]);
    const call = decodeProofCall({ to: MARKET, data }, MARKET, PERIOD);
    if (!call.ok) throw new Error(call.reason);
    expect(call.via).to.equal("direct");
    expect(call.answers).to.deep.equal(proofs.map((p) => ({ ...p, path: [...p.path] })));
    expect(checkProof({ ...input, answers: call.answers }).ok).to.be.true;
  });

  it("reads submitProof inside the market's multicall", function () {
    const data = market.encodeFunctionData("multicall", [
      [
        market.encodeFunctionData("submitProof", [PERIOD, [...proofs]]),
        market.encodeFunctionData("declareFaults", [[1n]]),
      ],
    ]);
    const call = decodeProofCall({ to: MARKET.toLowerCase(), data }, MARKET, PERIOD);
    expect(call.ok && call.via).to.equal("multicall");
  });

  it("gives a reason instead of answers it cannot read", function () {
    const data = market.encodeFunctionData("submitProof", [PERIOD, [...proofs]]);
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
