// The worker's off-chain rebuild of active lists and challenges, checked against the market on a real chain:
// deals published, terminated (swap-and-pop), published again after the seed, declared faulty and proven.
import { expect } from "chai";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import {
  provingStateAt,
  type ChainPosition,
  type ProvingEvent,
} from "../../offchain/worker/verify/activeList.js";
import { decodeProofCall } from "../../offchain/worker/verify/calldata.js";
import { compareWithView, deriveChallenges } from "../../offchain/worker/verify/challenges.js";
import { checkProof } from "../../offchain/worker/verify/proofCheck.js";
import {
  deployStorage,
  enterProofWindow,
  fundClient,
  makeProposal,
  proveNext,
  publish,
  registerProvider,
  type PieceData,
  type StorageFixture,
} from "../helpers/fixture.js";

type Held = Map<bigint, { deal: DealTerms; piece: PieceData }>;

/** The provider's list and seed events as the worker's index holds them. */
async function provingEvents(f: StorageFixture, provider: string): Promise<ProvingEvent[]> {
  const m = f.market;
  const pos = (log: { blockNumber: number; index: number }): ChainPosition => ({
    blockNumber: log.blockNumber,
    logIndex: log.index,
  });
  const published = await m.queryFilter(m.filters.DealPublished(undefined, undefined, provider));
  const mine = new Set(published.map((e) => e.args.id));
  const ended = (await m.queryFilter(m.filters.DealEnded())).filter((e) => mine.has(e.args.id));
  const proofs = await m.queryFilter(m.filters.ProofSubmitted(provider));
  const missed = await m.queryFilter(m.filters.MissedProofsReported(provider));
  const scheduled = await m.queryFilter(m.filters.ChallengeSeedScheduled(provider));
  return [
    ...published.map((e): ProvingEvent => ({ kind: "dealPublished", dealId: e.args.id, at: pos(e) })),
    ...ended.map((e): ProvingEvent => ({ kind: "dealEnded", dealId: e.args.id, at: pos(e) })),
    ...proofs.map((e): ProvingEvent => ({
      kind: "seedScheduled",
      source: "proof",
      period: e.args.period + 1n,
      seedBlock: e.args.nextSeedBlock,
      at: pos(e),
    })),
    ...missed.map((e): ProvingEvent => ({
      kind: "seedScheduled",
      source: "missed",
      period: e.args.fromPeriod + e.args.count,
      seedBlock: e.args.nextSeedBlock,
      at: pos(e),
    })),
    ...scheduled.map((e): ProvingEvent => ({
      kind: "seedScheduled",
      source: "scheduled",
      period: e.args.period,
      seedBlock: e.args.seedBlock,
      at: pos(e),
    })),
  ];
}

/** Derive the next period's challenges from events only and compare them with the market's view. */
async function expectDerivationMatchesView(f: StorageFixture, held: Held): Promise<void> {
  const provider = f.provider.address;
  const head = await f.ethers.provider.getBlockNumber();
  const snapshot = provingStateAt(await provingEvents(f, provider), { blockNumber: head + 1, logIndex: 0 });
  const state = await f.market.proofState(provider);
  expect(snapshot.list.length).to.equal(Number(state.activeDeals));
  for (let i = 0; i < snapshot.list.length; i++) {
    expect(snapshot.list[i]).to.equal(await f.market.activeDealAt(provider, i));
  }
  const seed = snapshot.seed;
  if (!seed) throw new Error("no seed event");
  expect(seed.period).to.equal(state.nextPeriod);
  expect(seed.seedBlock).to.equal(state.seedBlock);
  expect(seed.challengeable).to.equal(Number(state.challengeable));
  const block = await f.ethers.provider.getBlock(Number(seed.seedBlock));
  if (!block?.hash) throw new Error("seed block not mined");
  const derived = deriveChallenges({
    seed: block.hash,
    provider,
    period: state.nextPeriod,
    challengeCount: Number((await f.market.parameters()).challengeCount),
    list: snapshot.list,
    challengeable: seed.challengeable,
  });
  const [dealIds, words] = await f.market.challenges(provider);
  expect(compareWithView(derived, { dealIds, words })).to.deep.equal([]);
  for (const c of derived) expect(held.has(c.dealId)).to.be.true;
}

/** Check the last ProofSubmitted of the provider from its calldata and the events before it. */
async function checkLastProof(f: StorageFixture, held: Held, declared = new Set<bigint>()) {
  const provider = f.provider.address;
  const proofs = await f.market.queryFilter(f.market.filters.ProofSubmitted(provider));
  const last = proofs[proofs.length - 1];
  if (!last) throw new Error("no proof");
  const snapshot = provingStateAt(await provingEvents(f, provider), {
    blockNumber: last.blockNumber,
    logIndex: last.index,
  });
  const tx = await f.ethers.provider.getTransaction(last.transactionHash);
  if (!tx) throw new Error("no tx");
  const call = decodeProofCall(tx, await f.market.getAddress(), last.args.period);
  if (!call.ok) throw new Error(call.reason);
  const seedBlock = await f.ethers.provider.getBlock(Number(snapshot.seed?.seedBlock ?? 0));
  return checkProof({
    seed: seedBlock?.hash ?? "0x",
    provider,
    period: last.args.period,
    challengeCount: Number((await f.market.parameters()).challengeCount),
    list: snapshot.list,
    challengeable: snapshot.seed?.challengeable ?? 0,
    deals: new Map([...held].map(([id, h]) => [id, h.deal])),
    declared,
    answers: call.answers,
  });
}

describe("worker verify against the market", function () {
  let f: StorageFixture;
  const held: Held = new Map();

  before(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
  });

  it("rebuilds the list and the challenges through publishing, swap-and-pop endings and proofs", async function () {
    const batch = await Promise.all([1, 2, 3, 4, 5, 6].map(() => makeProposal(f, { periods: 48n })));
    const deals = await publish(f, batch);
    deals.forEach((deal, i) => {
      const piece = batch[i]?.piece;
      if (piece) held.set(deal.id, { deal, piece });
    });
    // Terminations swap the last deal into the vacated position.
    for (const index of [1, 5]) {
      const deal = deals[index];
      if (!deal) throw new Error("missing deal");
      await f.market.connect(f.client).terminateDeal(deal);
      held.delete(deal.id);
    }
    await f.helpers.mine(3);
    await expectDerivationMatchesView(f, held);

    // Deals published after the seed was fixed sit beyond `challengeable`.
    const later = await Promise.all([1, 2].map(() => makeProposal(f, { periods: 48n })));
    for (const [i, deal] of (await publish(f, later)).entries()) {
      const piece = later[i]?.piece;
      if (piece) held.set(deal.id, { deal, piece });
    }
    await expectDerivationMatchesView(f, held);

    await proveNext(f, f.provider, held);
    const result = await checkLastProof(f, held);
    expect(result.problems).to.deep.equal([]);
    expect(result.ok).to.be.true;
  });

  it("matches after more endings, a declared fault and the next proof", async function () {
    const first = [...held.values()][0]?.deal;
    if (!first) throw new Error("no deal");
    await f.market.connect(f.client).terminateDeal(first);
    held.delete(first.id);
    const declared = [...held.keys()][0] ?? 0n;
    await f.market.connect(f.provider).declareFaults([declared]);
    const period = (await f.market.proofState(f.provider.address)).nextPeriod;
    await enterProofWindow(f, period);
    await expectDerivationMatchesView(f, held);
    await proveNext(f, f.provider, held);
    const result = await checkLastProof(f, held, new Set([declared]));
    expect(result.ok).to.be.true;
    // Without knowing about the declaration, an answer on that deal (if challenged) would be wrong.
    const challengedDeclared = result.challenges.some((c) => c.status === "declared");
    const blind = await checkLastProof(f, held);
    expect(blind.ok).to.equal(!challengedDeclared);
  });
});
