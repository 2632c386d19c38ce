import { expect } from "chai";
import { AbiCoder } from "ethers";
import { leafCount, rootFromPath, treeDepth } from "../../offchain/sdk/commitment/merkle.js";
import { dealMeta, partiesHash, type DealTerms } from "../../offchain/sdk/deals/terms.js";
import {
  answerChallenge,
  challengedLeaf,
  challengedSlot,
  challengeWord,
  skippedChallenge,
  type ChallengeProof,
} from "../../offchain/sdk/proofs/challenges.js";
import {
  buildProofs,
  enterProofWindow,
  makeProposal,
  proveNext,
  type StorageFixture,
} from "../helpers/fixture.js";
import {
  atNextBlock,
  goToPeriod,
  mined,
  nextBlock,
  publishDeal,
  publishDeals,
  setParams,
  useStorageFixture,
  windowOpensAt,
} from "./streams.helpers.js";

/** EIP-2935 block-hash history contract that ProofOfStorage falls back to when BLOCKHASH returns zero. */
const HISTORY = "0x0000F90827F1C53a10cb7A02335B175320002935";

/**
 * Whether this chain's EIP-2935 history contract really serves block hashes. Hardhat's simulated network
 * (EDR 0.3.x) places a stub there that reverts ("EIP2935 is not supported in Hardhat yet"), so the market's
 * fallback finds nothing and a seed is gone 256 blocks after its block, exactly as before Prague. On a chain
 * whose history contract works, the seed stays readable for 8191 blocks instead.
 */
async function historyServesBlockHashes(f: StorageFixture): Promise<boolean> {
  if ((await f.ethers.provider.getCode(HISTORY)) === "0x") return false;
  const block = BigInt(await f.helpers.time.latestBlock()) - 1n;
  try {
    const served = await f.ethers.provider.call({
      to: HISTORY,
      data: AbiCoder.defaultAbiCoder().encode(["uint256"], [block]),
    });
    return served === (await f.ethers.provider.getBlock(block))?.hash;
  } catch {
    return false;
  }
}

/** Mine until the provider's seed block hash can no longer be read (BLOCKHASH, then EIP-2935 if served). */
async function expireSeed(f: StorageFixture, interval = 1): Promise<void> {
  await f.helpers.mine(300, { interval });
  if (await historyServesBlockHashes(f)) await f.helpers.mine(8192, { interval: 0 });
}

/** Challenges of `provider`'s next period (ids and words), asserting both arrays have the same length. */
async function currentChallenges(f: StorageFixture, provider: string): Promise<[bigint, bigint][]> {
  const [ids, words] = await f.market.challenges(provider);
  expect(ids.length).to.equal(words.length);
  return ids.map((id, i): [bigint, bigint] => [id, words[i] ?? 0n]);
}

function flipByte(hex: string, byteIndex = 31): string {
  const offset = 2 + byteIndex * 2;
  const flipped = (parseInt(hex.slice(offset, offset + 2), 16) ^ 0xff).toString(16).padStart(2, "0");
  return hex.slice(0, offset) + flipped + hex.slice(offset + 2);
}

function first<T>(items: T[]): T {
  const item = items[0];
  if (item === undefined) throw new Error("empty list");
  return item;
}

describe("StorageMarket proofs", function () {
  const get = useStorageFixture();

  describe("submitProof accepts valid proofs", function () {
    it("proves a single 64-byte piece (depth 0, empty Merkle path) with every challenge on it", async function () {
      const f = get();
      await setParams(f, { challengeCount: 16n });
      const { deal, held } = await publishDeal(f, { size: 64 });
      await enterProofWindow(f, deal.startPeriod);
      const proofs = await buildProofs(f, f.provider.address, held);
      expect(proofs).to.have.length(16);
      for (const proof of proofs) expect(proof.path).to.deep.equal([]);
      await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, proofs)).to.emit(
        f.market,
        "ProofSubmitted",
      );
    });

    it("proves three deals of different sizes (64, 1000 and 4097 bytes) in consecutive periods", async function () {
      const f = get();
      await setParams(f, { challengeCount: 16n });
      const { deals, held } = await publishDeals(f, [{ size: 64 }, { size: 1000 }, { size: 4097 }]);
      const start = first(deals).startPeriod;
      for (let period = start; period < start + 3n; period++) {
        await proveNext(f, f.provider, held);
        expect((await f.market.proofState(f.provider.address)).nextPeriod).to.equal(period + 1n);
      }
    });

    it("proves twenty deals whose sizes are mostly not multiples of 64, with paths as deep as each tree", async function () {
      const f = get();
      await setParams(f, { challengeCount: 16n });
      const sizes = [
        64, 1, 63, 65, 100, 127, 128, 129, 1000, 4095, 4096, 4097, 5000, 8191, 10_000, 65_535, 65_537,
        100_003, 200_000, 262_145,
      ];
      const { deals, held } = await publishDeals(
        f,
        sizes.map((size) => ({ size })),
      );
      expect((await f.market.proofState(f.provider.address)).activeDeals).to.equal(20n);
      const start = first(deals).startPeriod;
      for (let period = start; period < start + 2n; period++) {
        await enterProofWindow(f, period);
        const challenges = await currentChallenges(f, f.provider.address);
        const proofs = await buildProofs(f, f.provider.address, held);
        challenges.forEach(([id], i) => {
          const deal = held.get(id)?.deal;
          if (!deal) throw new Error("challenged an unknown deal");
          expect(proofs[i]?.path).to.have.length(treeDepth(leafCount(Number(deal.size))));
        });
        await expect(f.market.connect(f.provider).submitProof(period, proofs))
          .to.emit(f.market, "ProofSubmitted")
          .withArgs(f.provider.address, period, (await nextBlock(f)) + 2n);
      }
    });

    it("emits ProofSubmitted, advances nextPeriod and fixes the next seed block challengeFinality blocks ahead", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f);
      await enterProofWindow(f, deal.startPeriod);
      const proofs = await buildProofs(f, f.provider.address, held);
      const proofBlock = await nextBlock(f);
      await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, proofs))
        .to.emit(f.market, "ProofSubmitted")
        .withArgs(f.provider.address, deal.startPeriod, proofBlock + 2n);
      const state = await f.market.proofState(f.provider.address);
      expect(state.nextPeriod).to.equal(deal.startPeriod + 1n);
      expect(state.seedBlock).to.equal(proofBlock + 2n);
      expect(state.activeDeals).to.equal(1n);
      expect(state.missedPeriods).to.equal(0n);
      // The new seed is unknown until its block is mined.
      expect(await f.market.challengeSeed(f.provider.address)).to.equal(0n);
      // Views run in the context of the latest block: the seed needs a block after the seed block.
      await f.helpers.mine(2);
      expect(await f.market.challengeSeed(f.provider.address)).to.equal(0n);
      await f.helpers.mine(1);
      const seedHash = (await f.ethers.provider.getBlock(proofBlock + 2n))?.hash;
      expect(await f.market.challengeSeed(f.provider.address)).to.equal(seedHash);
    });

    it("ignores the answers for a deal declared faulty for the period (skipped or arbitrary)", async function () {
      const f = get();
      await setParams(f, { challengeCount: 16n });
      const { deals, held } = await publishDeals(f, [{ size: 4096 }, { size: 300 }]);
      const [declared, kept] = deals as [DealTerms, DealTerms];
      await f.market.connect(f.provider).declareFaults([declared.id]);
      await enterProofWindow(f, declared.startPeriod);
      const keptPiece = held.get(kept.id)?.piece;
      if (!keptPiece) throw new Error("piece missing");
      const challenges = await currentChallenges(f, f.provider.address);
      // Answers for the declared deal are nonsense (another deal's data, or the empty skipped answer).
      const proofs = challenges.map(([id, word], i) =>
        id === kept.id
          ? answerChallenge(kept, keptPiece.tree, word)
          : i % 2 === 0
            ? skippedChallenge()
            : answerChallenge(kept, keptPiece.tree, 0n),
      );
      await expect(f.market.connect(f.provider).submitProof(declared.startPeriod, proofs)).to.emit(
        f.market,
        "ProofSubmitted",
      );
    });

    it("accepts an all-skipped proof when the only deal is declared, but needs real answers the next period", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      await f.market.connect(f.provider).declareFaults([deal.id]);
      await enterProofWindow(f, deal.startPeriod);
      const skipped = [skippedChallenge(), skippedChallenge()];
      await f.market.connect(f.provider).submitProof(deal.startPeriod, skipped);
      await enterProofWindow(f, deal.startPeriod + 1n);
      await expect(f.market.connect(f.provider).submitProof(deal.startPeriod + 1n, skipped))
        .to.be.revertedWithCustomError(f.market, "MarketChallengeTermsMismatch")
        .withArgs(0n, deal.id);
    });
  });

  describe("submitProof timing", function () {
    it("rejects a proof one second before the window opens and accepts it at the opening second", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f);
      await f.helpers.mine(3);
      const opensAt = await windowOpensAt(f, deal.startPeriod);
      const closesAt = await f.market.periodStart(deal.startPeriod + 1n);
      const proofs = await buildProofs(f, f.provider.address, held);
      await atNextBlock(f, opensAt - 1n);
      await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, proofs))
        .to.be.revertedWithCustomError(f.market, "MarketOutsideProofWindow")
        .withArgs(opensAt, closesAt, opensAt - 1n);
      await atNextBlock(f, opensAt);
      await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, proofs)).to.emit(
        f.market,
        "ProofSubmitted",
      );
    });

    it("accepts a proof in the last second of the period and rejects one at the period end", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f);
      await enterProofWindow(f, deal.startPeriod);
      const period = deal.startPeriod;
      const opensAt = await windowOpensAt(f, period);
      const closesAt = await f.market.periodStart(period + 1n);
      const proofs = await buildProofs(f, f.provider.address, held);
      await atNextBlock(f, closesAt);
      await expect(f.market.connect(f.provider).submitProof(period, proofs))
        .to.be.revertedWithCustomError(f.market, "MarketOutsideProofWindow")
        .withArgs(opensAt, closesAt, closesAt);
      await atNextBlock(f, closesAt - 1n);
      await expect(f.market.connect(f.provider).submitProof(period, proofs)).to.emit(
        f.market,
        "ProofSubmitted",
      );
    });

    it("rejects a proof for a period whose end passed long ago", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f);
      await enterProofWindow(f, deal.startPeriod);
      const proofs = await buildProofs(f, f.provider.address, held);
      const late = (await f.market.periodStart(deal.startPeriod + 2n)) + 77n;
      await atNextBlock(f, late);
      await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, proofs))
        .to.be.revertedWithCustomError(f.market, "MarketOutsideProofWindow")
        .withArgs(
          await windowOpensAt(f, deal.startPeriod),
          await f.market.periodStart(deal.startPeriod + 1n),
          late,
        );
    });

    it("rejects a proof for any period other than the provider's next one", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f);
      await enterProofWindow(f, deal.startPeriod);
      const proofs = await buildProofs(f, f.provider.address, held);
      const next = deal.startPeriod;
      for (const period of [next + 1n, next - 1n, 0n]) {
        await expect(f.market.connect(f.provider).submitProof(period, proofs))
          .to.be.revertedWithCustomError(f.market, "MarketWrongPeriod")
          .withArgs(period, next);
      }
    });

    it("rejects a proof while the seed block is not yet mined, including in the seed block itself", async function () {
      const f = get();
      const { proposal, signature } = await makeProposal(f);
      const receipt = await mined(f.market.connect(f.provider).publishDeals([{ proposal, signature }]));
      const seedBlock = BigInt(receipt.blockNumber) + 2n;
      const state = await f.market.proofState(f.provider.address);
      expect(state.seedBlock).to.equal(seedBlock);
      await expect(f.market.connect(f.provider).submitProof(state.nextPeriod, []))
        .to.be.revertedWithCustomError(f.market, "MarketSeedNotReady")
        .withArgs(seedBlock, seedBlock - 1n);
      await f.helpers.mine(1);
      await expect(f.market.connect(f.provider).submitProof(state.nextPeriod, []))
        .to.be.revertedWithCustomError(f.market, "MarketSeedNotReady")
        .withArgs(seedBlock, seedBlock);
      await f.helpers.mine(1);
      // One block later the seed is usable and the next check (the window) applies.
      await expect(
        f.market.connect(f.provider).submitProof(state.nextPeriod, []),
      ).to.be.revertedWithCustomError(f.market, "MarketOutsideProofWindow");
    });

    it("rejects the next period's proof until the seed fixed by the previous proof is mined", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f);
      const receipt = await mined(proveNext(f, f.provider, held));
      const seedBlock = BigInt(receipt.blockNumber) + 2n;
      await expect(f.market.connect(f.provider).submitProof(deal.startPeriod + 1n, []))
        .to.be.revertedWithCustomError(f.market, "MarketSeedNotReady")
        .withArgs(seedBlock, seedBlock - 1n);
    });
  });

  describe("submitProof rejects bad answers", function () {
    async function singleDealInWindow(size = 4096) {
      const f = get();
      const { deal, held } = await publishDeal(f, { size });
      await enterProofWindow(f, deal.startPeriod);
      const proofs = await buildProofs(f, f.provider.address, held);
      const challenges = await currentChallenges(f, f.provider.address);
      return { f, deal, proofs, challenges };
    }

    it("rejects a proof with fewer or more answers than challengeCount", async function () {
      const { f, deal, proofs } = await singleDealInWindow();
      const answer = first(proofs);
      for (const given of [[], [answer], [answer, answer, answer]]) {
        await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, given))
          .to.be.revertedWithCustomError(f.market, "MarketWrongChallengeCount")
          .withArgs(given.length, 2n);
      }
    });

    it("rejects an answer whose root, size, end period or parties do not match the challenged deal", async function () {
      const { f, deal, proofs } = await singleDealInWindow();
      const answer = first(proofs);
      const other: DealTerms = { ...deal, collateral: deal.collateral + 1n };
      const tampered: ChallengeProof[] = [
        { ...answer, root: flipByte(answer.root) },
        { ...answer, meta: dealMeta({ size: deal.size + 1n, endPeriod: deal.endPeriod }) },
        { ...answer, meta: dealMeta({ size: deal.size, endPeriod: deal.endPeriod + 1n }) },
        { ...answer, partiesHash: partiesHash(other) },
        skippedChallenge(),
      ];
      for (const bad of tampered) {
        await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, [answer, bad]))
          .to.be.revertedWithCustomError(f.market, "MarketChallengeTermsMismatch")
          .withArgs(1n, deal.id);
      }
    });

    it("rejects a Merkle path longer or shorter than the piece's tree depth", async function () {
      const { f, deal, proofs } = await singleDealInWindow(4096);
      const answer = first(proofs);
      expect(answer.path).to.have.length(6);
      const longer = { ...answer, path: [...answer.path, answer.path[0] ?? ""] };
      const shorter = { ...answer, path: answer.path.slice(1) };
      await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, [longer, answer]))
        .to.be.revertedWithCustomError(f.market, "MarketBadProofLength")
        .withArgs(0n, 7n, 6n);
      await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, [shorter, answer]))
        .to.be.revertedWithCustomError(f.market, "MarketBadProofLength")
        .withArgs(0n, 5n, 6n);
    });

    it("rejects any path for a 64-byte piece, whose leaf is its root", async function () {
      const { f, deal, proofs } = await singleDealInWindow(64);
      const answer = first(proofs);
      const withSibling = { ...answer, path: [answer.root] };
      await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, [withSibling, answer]))
        .to.be.revertedWithCustomError(f.market, "MarketBadProofLength")
        .withArgs(0n, 1n, 0n);
    });

    for (const size of [4096, 100, 64]) {
      it(`rejects an answer with one flipped leaf byte (${size}-byte piece)`, async function () {
        const { f, deal, proofs, challenges } = await singleDealInWindow(size);
        const answer = first(proofs);
        const leafIndex = BigInt(challengedLeaf(first(challenges)[1], deal.size));
        const bad = { ...answer, leaf: [flipByte(answer.leaf[0], 5), answer.leaf[1]] as [string, string] };
        await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, [bad, answer]))
          .to.be.revertedWithCustomError(f.market, "MarketInvalidProof")
          .withArgs(0n, deal.id, leafIndex);
      });
    }

    it("rejects an answer with a wrong sibling at the bottom or top of the path", async function () {
      const { f, deal, proofs, challenges } = await singleDealInWindow(10_000);
      const answer = first(proofs);
      const leafIndex = BigInt(challengedLeaf(first(challenges)[1], deal.size));
      const depth = answer.path.length;
      expect(depth).to.equal(8);
      for (const level of [0, depth - 1]) {
        const path = answer.path.map((node, i) => (i === level ? flipByte(node, 0) : node));
        await expect(
          f.market.connect(f.provider).submitProof(deal.startPeriod, [{ ...answer, path }, answer]),
        )
          .to.be.revertedWithCustomError(f.market, "MarketInvalidProof")
          .withArgs(0n, deal.id, leafIndex);
      }
    });

    it("rejects a valid opening of a different leaf than the challenged one", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f, { size: 4096 });
      await enterProofWindow(f, deal.startPeriod);
      const tree = held.get(deal.id)?.piece.tree;
      if (!tree) throw new Error("tree missing");
      const challenges = await currentChallenges(f, f.provider.address);
      const proofs = challenges.map(([, word]) => answerChallenge(deal, tree, word));
      const challenged = challengedLeaf(first(challenges)[1], deal.size);
      const neighbour = challenged ^ 1;
      const wrong = { ...first(proofs), leaf: tree.leaf(neighbour), path: tree.path(neighbour) };
      expect(rootFromPath(wrong.leaf, neighbour, wrong.path)).to.equal(deal.root);
      await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, [wrong, proofs[1] ?? wrong]))
        .to.be.revertedWithCustomError(f.market, "MarketInvalidProof")
        .withArgs(0n, deal.id, BigInt(challenged));
    });

    it("rejects a proof from a provider that has nothing to prove", async function () {
      const f = get();
      await expect(f.market.connect(f.provider2).submitProof(0n, []))
        .to.be.revertedWithCustomError(f.market, "MarketNothingToProve")
        .withArgs(f.provider2.address);
      // Also once the provider's only deal is gone.
      const { deal } = await publishDeal(f);
      await f.market.connect(f.client).terminateDeal(deal);
      await f.helpers.mine(3);
      await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, []))
        .to.be.revertedWithCustomError(f.market, "MarketNothingToProve")
        .withArgs(f.provider.address);
    });

    it("rejects a proof that challenges a deal past its end; finalizing that deal lets the proof through", async function () {
      const f = get();
      await setParams(f, { challengeCount: 16n });
      // One long deal and three one-period deals: 16 challenges miss all three ended deals with odds 4^-16.
      const { deals, held } = await publishDeals(f, [
        { periods: 24n },
        { periods: 1n },
        { periods: 1n },
        { periods: 1n },
      ]);
      const [, ...ended] = deals;
      await proveNext(f, f.provider, held);
      const period = first(deals).startPeriod + 1n;
      await enterProofWindow(f, period);
      const challenges = await currentChallenges(f, f.provider.address);
      const endedIds = new Set(ended.map((d) => d.id));
      const firstEnded = challenges.find(([id]) => endedIds.has(id));
      if (!firstEnded) throw new Error("no challenge hit an ended deal (odds 4^-16)");
      const answers = await buildProofs(f, f.provider.address, held);
      await expect(f.market.connect(f.provider).submitProof(period, answers))
        .to.be.revertedWithCustomError(f.market, "MarketChallengedDealEnded")
        .withArgs(firstEnded[0], period);
      for (const deal of ended) await f.market.connect(f.watcher).finalizeDeal(deal);
      const after = await currentChallenges(f, f.provider.address);
      for (const [id] of after) expect(id).to.equal(first(deals).id);
      await expect(
        f.market.connect(f.provider).submitProof(period, await buildProofs(f, f.provider.address, held)),
      ).to.emit(f.market, "ProofSubmitted");
    });
  });

  describe("challenges and challengeSeed views", function () {
    it("returns no challenges and a zero seed until the seed block is mined", async function () {
      const f = get();
      await publishDeal(f);
      expect(await f.market.challengeSeed(f.provider.address)).to.equal(0n);
      const [ids, words] = await f.market.challenges(f.provider.address);
      expect(ids).to.deep.equal([]);
      expect(words).to.deep.equal([]);
      const [noIds] = await f.market.challenges(f.provider2.address);
      expect(noIds).to.deep.equal([]);
    });

    it("derives the challenges exactly as the off-chain SDK does (challengeWord, challengedSlot, challengedLeaf)", async function () {
      const f = get();
      await setParams(f, { challengeCount: 16n });
      const { held } = await publishDeals(f, [{ size: 64 }, { size: 777 }, { size: 9000 }]);
      for (let round = 0; round < 2; round++) {
        const state = await f.market.proofState(f.provider.address);
        await enterProofWindow(f, state.nextPeriod);
        const seed = await f.market.challengeSeed(f.provider.address);
        expect(seed).to.equal((await f.ethers.provider.getBlock(state.seedBlock))?.hash);
        const challenges = await currentChallenges(f, f.provider.address);
        expect(challenges).to.have.length(16);
        for (const [i, [id, word]] of challenges.entries()) {
          expect(word).to.equal(challengeWord(seed, f.provider.address, state.nextPeriod, BigInt(i)));
          const slot = challengedSlot(word, state.challengeable, state.activeDeals);
          expect(id).to.equal(await f.market.activeDealAt(f.provider.address, slot));
          const entry = held.get(id);
          if (!entry) throw new Error("unknown deal challenged");
          const leaf = challengedLeaf(word, entry.deal.size);
          expect(leaf).to.equal(Number((word >> 128n) % BigInt(leafCount(Number(entry.deal.size)))));
          const answer = answerChallenge(entry.deal, entry.piece.tree, word);
          expect(rootFromPath(answer.leaf, leaf, answer.path)).to.equal(entry.deal.root);
        }
        await f.market
          .connect(f.provider)
          .submitProof(state.nextPeriod, await buildProofs(f, f.provider.address, held));
      }
    });
    // Challenges draw from the positions that existed when the seed was scheduled, so publishing after
    // seeing the seed cannot re-draw them (a grinding vector found in review).
    it("keeps a period's challenged deals fixed once its seed is known, even if the provider publishes", async function () {
      const f = get();
      await setParams(f, { challengeCount: 16n });
      const { deals } = await publishDeals(f, [{}, {}]);
      await enterProofWindow(f, first(deals).startPeriod);
      const before = await currentChallenges(f, f.provider.address);
      await publishDeal(f, { periods: 1n, pricePerSecond: 1n, collateral: 0n, client: f.client2 });
      expect(await currentChallenges(f, f.provider.address)).to.deep.equal(before);
    });
  });

  describe("refreshChallengeSeed", function () {
    it("rejects a refresh from a provider with nothing to prove", async function () {
      const f = get();
      await expect(f.market.connect(f.provider2).refreshChallengeSeed())
        .to.be.revertedWithCustomError(f.market, "MarketNothingToProve")
        .withArgs(f.provider2.address);
    });

    it("rejects a refresh while the seed block is not yet mined or its hash is still readable", async function () {
      const f = get();
      await publishDeal(f);
      const { seedBlock } = await f.market.proofState(f.provider.address);
      await expect(f.market.connect(f.provider).refreshChallengeSeed())
        .to.be.revertedWithCustomError(f.market, "MarketSeedRefreshNotAllowed")
        .withArgs(seedBlock);
      await f.helpers.mine(3);
      await expect(f.market.connect(f.provider).refreshChallengeSeed())
        .to.be.revertedWithCustomError(f.market, "MarketSeedRefreshNotAllowed")
        .withArgs(seedBlock);
      // BLOCKHASH still reaches the seed block when the refresh runs 256 blocks after it.
      await f.helpers.mine(seedBlock + 255n - BigInt(await f.helpers.time.latestBlock()));
      expect(await nextBlock(f)).to.equal(seedBlock + 256n);
      await expect(f.market.connect(f.provider).refreshChallengeSeed())
        .to.be.revertedWithCustomError(f.market, "MarketSeedRefreshNotAllowed")
        .withArgs(seedBlock);
      // One block later BLOCKHASH no longer reaches it; without a working EIP-2935 contract the seed is gone.
      if (!(await historyServesBlockHashes(f))) {
        await f.helpers.mine(1);
        await expect(f.market.connect(f.provider).refreshChallengeSeed()).to.emit(
          f.market,
          "ChallengeSeedScheduled",
        );
      }
    });

    it("after 300 blocks: allows a refresh if the seed's hash is gone, else (EIP-2935 history) keeps the seed", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      const { seedBlock } = await f.market.proofState(f.provider.address);
      await f.helpers.mine(300);
      if (await historyServesBlockHashes(f)) {
        // The history contract still serves the hash: the seed stays usable and may not be re-rolled.
        expect(await f.market.challengeSeed(f.provider.address)).to.not.equal(0n);
        await expect(f.market.connect(f.provider).refreshChallengeSeed())
          .to.be.revertedWithCustomError(f.market, "MarketSeedRefreshNotAllowed")
          .withArgs(seedBlock);
        await f.helpers.mine(8192, { interval: 0 });
      }
      expect(await f.market.challengeSeed(f.provider.address)).to.equal(0n);
      const newSeedBlock = (await nextBlock(f)) + 2n;
      const current = await f.market.currentPeriod();
      await expect(f.market.connect(f.provider).refreshChallengeSeed())
        .to.emit(f.market, "ChallengeSeedScheduled")
        .withArgs(f.provider.address, deal.startPeriod, newSeedBlock);
      const state = await f.market.proofState(f.provider.address);
      expect(state.seedBlock).to.equal(newSeedBlock);
      expect(state.seedRefreshedPeriod).to.equal(current + 1n);
      expect(state.nextPeriod).to.equal(deal.startPeriod);
    });

    it("rejects a proof with an expired seed; after a refresh the period is proven with the new seed", async function () {
      const f = get();
      const { deal, held } = await publishDeal(f);
      const { seedBlock } = await f.market.proofState(f.provider.address);
      await expireSeed(f);
      await enterProofWindow(f, deal.startPeriod);
      await expect(f.market.connect(f.provider).submitProof(deal.startPeriod, []))
        .to.be.revertedWithCustomError(f.market, "MarketSeedExpired")
        .withArgs(seedBlock);
      await f.market.connect(f.provider).refreshChallengeSeed();
      await f.helpers.mine(3);
      await expect(
        f.market
          .connect(f.provider)
          .submitProof(deal.startPeriod, await buildProofs(f, f.provider.address, held)),
      )
        .to.emit(f.market, "ProofSubmitted")
        .withArgs(f.provider.address, deal.startPeriod, (await nextBlock(f)) + 2n);
    });

    it("allows at most one refresh per period", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      await expireSeed(f);
      await f.market.connect(f.provider).refreshChallengeSeed();
      const { seedBlock } = await f.market.proofState(f.provider.address);
      // The refreshed seed expires too, still within the same period.
      const period = await f.market.currentPeriod();
      await expireSeed(f, 0);
      expect(await f.market.currentPeriod()).to.equal(period);
      expect(await f.market.challengeSeed(f.provider.address)).to.equal(0n);
      await expect(f.market.connect(f.provider).refreshChallengeSeed())
        .to.be.revertedWithCustomError(f.market, "MarketSeedRefreshNotAllowed")
        .withArgs(seedBlock);
      // The next period allows one more.
      await goToPeriod(f, period + 1n, 10n);
      await expect(f.market.connect(f.provider).refreshChallengeSeed())
        .to.emit(f.market, "ChallengeSeedScheduled")
        .withArgs(f.provider.address, deal.startPeriod, (await nextBlock(f)) + 2n);
      expect((await f.market.proofState(f.provider.address)).seedRefreshedPeriod).to.equal(period + 2n);
    });
  });
});
