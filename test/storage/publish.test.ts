import { expect } from "chai";
import { AbiCoder, keccak256, toBeHex, TypedDataEncoder, zeroPadValue, id as keccakText } from "ethers";
import {
  defaultParameters,
  deployStorage,
  fundClient,
  PERIOD,
  proveNext,
  randomPiece,
  registerProvider,
  USDC,
  type StorageFixture,
} from "../helpers/fixture.js";
import { DEAL_PROPOSAL_TYPES, marketDomain } from "../../offchain/sdk/deals/eip712.js";
import { termsHash, type DealTerms } from "../../offchain/sdk/deals/terms.js";
import {
  DEFAULT_COLLATERAL,
  DEFAULT_PERIODS,
  DEFAULT_PRICE,
  escrowOf,
  argsOf,
  eventsIn,
  goToPeriod,
  mined,
  publishBatch,
  signed,
  type Signed,
} from "./publishing.helpers.js";

const STAKE = 10_000n * USDC; // registerProvider's default stake
const MAX_PIECE = 1n << 30n; // defaultParameters().maxPieceSize
const MAX_PERIODS = 24n * 365n; // defaultParameters().maxDealPeriods
const NONCE_USED = 0n; // SkipReason.NonceUsed
const UNFUNDED = 1n; // SkipReason.Unfunded

/** A market with a registered, staked provider and a funded client (allowance for the market). */
async function ready(options: Parameters<typeof deployStorage>[0] = {}): Promise<StorageFixture> {
  const f = await deployStorage(options);
  await registerProvider(f, f.provider);
  await fundClient(f, f.client);
  return f;
}

/** Terms of the deal a proposal becomes. */
function termsOf(s: Signed, id: bigint, startPeriod: bigint): DealTerms {
  const p = s.proposal;
  return {
    id,
    client: p.client,
    provider: p.provider,
    root: p.root,
    size: p.size,
    startPeriod,
    endPeriod: startPeriod + p.duration / PERIOD,
    pricePerSecond: p.pricePerSecond,
    collateral: p.collateral,
  };
}

/**
 * `bad` placed after a valid proposal reverts the whole batch with `error`(...args): nothing is published,
 * no escrow taken, no collateral locked, no nonce spent.
 */
async function expectBatchReverts(
  f: StorageFixture,
  bad: Signed,
  error: string,
  args: unknown[] | undefined,
  errorSource: "market" | "registry" = "market",
) {
  const good = await signed(f);
  const before = await f.token.balanceOf(f.client.address);
  const assertion = expect(
    f.market.connect(f.provider).publishDeals([good, bad]),
  ).to.be.revertedWithCustomError(errorSource === "market" ? f.market : f.registry, error);
  if (args) await assertion.withArgs(...args);
  else await assertion;
  expect(await f.market.nonceUsed(good.proposal.client, good.proposal.nonce)).to.be.false;
  expect(await f.token.balanceOf(f.client.address)).to.equal(before);
  expect((await f.market.proofState(f.provider.address)).activeDeals).to.equal(0n);
  expect((await f.registry.stakeInfo(f.provider.address)).locked).to.equal(0n);
}

describe("StorageMarket publishing", function () {
  describe("a single proposal", function () {
    it("publishes with every term in DealPublished, escrow from the allowance, collateral locked and the nonce spent", async function () {
      const f = await ready();
      const s = await signed(f, { size: 1000n, pricePerSecond: 7n, collateral: 55n * USDC });
      const escrow = 7n * DEFAULT_PERIODS * PERIOD;
      expect(await f.market.currentPeriod()).to.equal(0n);
      expect(await f.market.connect(f.provider).publishDeals.staticCall([s])).to.equal(1n);
      const tx = f.market.connect(f.provider).publishDeals([s]);
      const p = s.proposal;
      await expect(tx)
        .to.emit(f.market, "DealPublished")
        .withArgs(1n, p.client, p.provider, p.root, 1000n, 1n, 1n + DEFAULT_PERIODS, 7n, 55n * USDC, p.nonce);
      await expect(tx)
        .to.emit(f.registry, "CollateralLocked")
        .withArgs(f.provider.address, await f.market.getAddress(), 55n * USDC);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [f.client, f.market], [-escrow, escrow]);
      const receipt = await mined(tx);
      const seedBlock = BigInt(receipt.blockNumber) + 2n; // + challengeFinality
      const [scheduled] = await eventsIn(receipt, f.market, "ChallengeSeedScheduled");
      expect(scheduled?.args.toArray()).to.deep.equal([f.provider.address, 1n, seedBlock]);

      const deal = termsOf(s, 1n, 1n);
      expect(await f.market.nonceUsed(p.client, p.nonce)).to.be.true;
      expect(await f.market.balanceOf(f.client.address)).to.equal(0n);
      const st = await f.market.proofState(f.provider.address);
      expect([st.nextPeriod, st.activeDeals, st.seedBlock, st.missedPeriods]).to.deep.equal([
        1n,
        1n,
        seedBlock,
        0n,
      ]);
      expect(await f.market.activeDealAt(f.provider.address, 0n)).to.equal(1n);
      expect(await f.market.dealState(1n)).to.deep.equal([termsHash(deal), 0n, 0n, 0n, 0n]);
      // The stored commitment accepts exactly these terms.
      expect(await f.market.dealFaults(deal)).to.deep.equal([0n, 0n]);
      expect(await f.market.settleableAmount(deal)).to.equal(0n);
      await expect(f.market.settleableAmount({ ...deal, collateral: deal.collateral + 1n }))
        .to.be.revertedWithCustomError(f.market, "MarketUnknownDeal")
        .withArgs(1n);
      const stake = await f.registry.stakeInfo(f.provider.address);
      expect([stake.free, stake.locked]).to.deep.equal([STAKE - 55n * USDC, 55n * USDC]);
    });

    it("starts the deal at the next period boundary wherever in the period it is published", async function () {
      const cases: [bigint, bigint][] = [
        [5n, 0n], // first second of period 5
        [5n, 1799n], // middle
        [5n, PERIOD - 1n], // last second
      ];
      for (const [period, offset] of cases) {
        const f = await ready();
        const s = await signed(f, { startDeadline: (await f.market.periodStart(period)) + PERIOD });
        await f.helpers.time.setNextBlockTimestamp((await f.market.periodStart(period)) + offset);
        const { deals } = await publishBatch(f, [s]);
        expect(deals[0]).to.deep.equal(termsOf(s, 1n, period + 1n));
        expect((await f.market.proofState(f.provider.address)).nextPeriod).to.equal(period + 1n);
      }
    });

    it("numbers deals sequentially across batches and providers", async function () {
      const f = await ready();
      await registerProvider(f, f.provider2);
      const first = await publishBatch(f, [await signed(f), await signed(f), await signed(f)]);
      expect(first.deals.map((d) => d.id)).to.deep.equal([1n, 2n, 3n]);
      const second = await publishBatch(f, [await signed(f, { provider: f.provider2.address })], f.provider2);
      expect(second.deals.map((d) => d.id)).to.deep.equal([4n]);
      const third = await publishBatch(f, [await signed(f)]);
      expect(third.deals.map((d) => d.id)).to.deep.equal([5n]);
      expect(await f.market.activeDealAt(f.provider.address, 3n)).to.equal(5n);
      expect(await f.market.activeDealAt(f.provider2.address, 0n)).to.equal(4n);
      expect((await f.market.proofState(f.provider.address)).activeDeals).to.equal(4n);
    });

    it("signs over the EIP-712 DealProposal type in the market's domain", async function () {
      const f = await ready();
      const s = await signed(f);
      expect(await f.market.DEAL_PROPOSAL_TYPEHASH()).to.equal(
        keccakText(
          "DealProposal(address client,address provider,bytes32 root,uint64 size,uint64 duration,uint128 pricePerSecond,uint128 collateral,uint64 startDeadline,uint64 nonce)",
        ),
      );
      const domain = marketDomain(f.chainId, await f.market.getAddress());
      expect(await f.market.proposalDigest(s.proposal)).to.equal(
        TypedDataEncoder.hash(domain, DEAL_PROPOSAL_TYPES, s.proposal),
      );
    });
  });

  describe("checks that revert the whole batch", function () {
    it("rejects a proposal addressed to another provider", async function () {
      const f = await ready();
      const bad = await signed(f, { provider: f.provider2.address });
      await expectBatchReverts(f, bad, "MarketNotProposalProvider", [
        f.provider2.address,
        f.provider.address,
      ]);
    });

    it("rejects a proposal whose start deadline has passed, and accepts one published at the deadline", async function () {
      const f = await ready();
      const now = BigInt(await f.helpers.time.latest());
      const bad = await signed(f, { startDeadline: now + 99n });
      const good = await signed(f, { startDeadline: now + 100n });
      await f.helpers.time.setNextBlockTimestamp(now + 100n);
      await expect(f.market.connect(f.provider).publishDeals([good, bad]))
        .to.be.revertedWithCustomError(f.market, "MarketProposalExpired")
        .withArgs(now + 99n, now + 100n);
      await f.helpers.time.setNextBlockTimestamp(now + 100n);
      const { deals } = await publishBatch(f, [good]);
      expect(deals).to.have.length(1);
    });

    it("rejects a piece size of zero or above maxPieceSize, and accepts 1 byte and exactly maxPieceSize", async function () {
      const f = await ready();
      await expectBatchReverts(f, await signed(f, { size: 0n }), "MarketBadPieceSize", [0n, MAX_PIECE]);
      await expectBatchReverts(f, await signed(f, { size: MAX_PIECE + 1n }), "MarketBadPieceSize", [
        MAX_PIECE + 1n,
        MAX_PIECE,
      ]);
      const { deals } = await publishBatch(f, [
        await signed(f, { size: 1n }),
        await signed(f, { size: MAX_PIECE }),
      ]);
      expect(deals.map((d) => d.size)).to.deep.equal([1n, MAX_PIECE]);
    });

    it("rejects a zero price", async function () {
      const f = await ready();
      await expectBatchReverts(f, await signed(f, { pricePerSecond: 0n }), "MarketZeroPrice", []);
    });

    it("rejects a duration that is not a whole number of periods (including zero)", async function () {
      const f = await ready();
      for (const duration of [PERIOD + 1n, 2n * PERIOD - 1n, 1n, 0n]) {
        await expectBatchReverts(f, await signed(f, { duration }), "MarketBadDuration", [
          duration,
          PERIOD,
          1n,
          MAX_PERIODS,
        ]);
      }
    });

    it("rejects a duration longer than maxDealPeriods and accepts exactly maxDealPeriods", async function () {
      const f = await ready();
      const tooLong = (MAX_PERIODS + 1n) * PERIOD;
      await expectBatchReverts(f, await signed(f, { duration: tooLong }), "MarketBadDuration", [
        tooLong,
        PERIOD,
        1n,
        MAX_PERIODS,
      ]);
      const { deals } = await publishBatch(f, [await signed(f, { duration: MAX_PERIODS * PERIOD })]);
      expect(deals[0]?.endPeriod).to.equal(1n + MAX_PERIODS);
    });

    it("rejects a duration shorter than minDealPeriods and accepts exactly minDealPeriods", async function () {
      const f = await ready({ params: defaultParameters({ minDealPeriods: 3n }) });
      await expectBatchReverts(f, await signed(f, { duration: 2n * PERIOD }), "MarketBadDuration", [
        2n * PERIOD,
        PERIOD,
        3n,
        MAX_PERIODS,
      ]);
      const { deals } = await publishBatch(f, [await signed(f, { duration: 3n * PERIOD })]);
      expect(deals[0]?.endPeriod).to.equal(4n);
    });

    it("rejects a signature by someone other than the client", async function () {
      const f = await ready();
      const bad = await signed(f, {}, { signer: f.client2 });
      await expectBatchReverts(f, bad, "MarketBadSignature", [f.client.address]);
    });

    it("rejects a signature over different terms (a tampered proposal)", async function () {
      const f = await ready();
      const s = await signed(f);
      for (const tamper of [
        { pricePerSecond: s.proposal.pricePerSecond - 1n },
        { collateral: 0n },
        { duration: s.proposal.duration + PERIOD },
        { startDeadline: s.proposal.startDeadline + 1n },
        { client: f.client2.address },
      ]) {
        const bad = { proposal: { ...s.proposal, ...tamper }, signature: s.signature };
        await expectBatchReverts(f, bad, "MarketBadSignature", [bad.proposal.client]);
      }
    });

    it("rejects malformed signatures", async function () {
      const f = await ready();
      const s = await signed(f);
      for (const signature of ["0x", "0x1234", s.signature.slice(0, 130), "0x" + "00".repeat(65)]) {
        await expectBatchReverts(f, { proposal: s.proposal, signature }, "MarketBadSignature", [
          f.client.address,
        ]);
      }
    });

    it("checks a proposal even when its nonce is spent (a bad proposal is never merely skipped)", async function () {
      const f = await ready();
      const s = await signed(f);
      await publishBatch(f, [s]);
      const bad = { proposal: { ...s.proposal, pricePerSecond: 1n }, signature: s.signature };
      await expect(f.market.connect(f.provider).publishDeals([bad]))
        .to.be.revertedWithCustomError(f.market, "MarketBadSignature")
        .withArgs(f.client.address);
    });

    it("rejects an empty batch and one of 101 proposals", async function () {
      const f = await ready();
      await expect(f.market.connect(f.provider).publishDeals([]))
        .to.be.revertedWithCustomError(f.market, "MarketBadBatchSize")
        .withArgs(0n, 100n);
      const s = await signed(f);
      await expect(f.market.connect(f.provider).publishDeals(Array<Signed>(101).fill(s)))
        .to.be.revertedWithCustomError(f.market, "MarketBadBatchSize")
        .withArgs(101n, 100n);
    });

    it("publishes a batch of exactly 100 proposals", async function () {
      const f = await ready();
      const batch: Signed[] = [];
      for (let i = 0; i < 100; i++) batch.push(await signed(f, { collateral: USDC }));
      const { receipt, deals } = await publishBatch(f, batch);
      expect(deals.map((d) => d.id)).to.deep.equal(Array.from({ length: 100 }, (_, i) => BigInt(i + 1)));
      const locks = await eventsIn(receipt, f.registry, "CollateralLocked");
      expect(locks.map(argsOf)).to.deep.equal([
        [f.provider.address, await f.market.getAddress(), 100n * USDC],
      ]);
      expect(await f.market.activeDealAt(f.provider.address, 99n)).to.equal(100n);
      expect((await f.market.proofState(f.provider.address)).activeDeals).to.equal(100n);
    });

    it("reverts when the provider's free stake cannot cover the batch's collateral", async function () {
      const f = await ready();
      const bad = await signed(f, { collateral: STAKE - DEFAULT_COLLATERAL + 1n });
      // The registry's error bubbles up: free = STAKE, needed = STAKE + 1.
      await expectBatchReverts(
        f,
        bad,
        "RegistryInsufficientFreeStake",
        [f.provider.address, STAKE, STAKE + 1n],
        "registry",
      );
      const exact = await signed(f, { collateral: STAKE });
      await publishBatch(f, [exact]);
      const stake = await f.registry.stakeInfo(f.provider.address);
      expect([stake.free, stake.locked]).to.deep.equal([0n, STAKE]);
    });

    it("reverts when an unregistered provider publishes a deal with collateral", async function () {
      const f = await ready();
      const s = await signed(f, { provider: f.provider2.address });
      await expect(f.market.connect(f.provider2).publishDeals([s]))
        .to.be.revertedWithCustomError(f.registry, "RegistryNotRegistered")
        .withArgs(f.provider2.address);
    });

    it("rejects a provider with active deals that has a closed, unresolved period until it is reported", async function () {
      const f = await ready();
      await publishBatch(f, [await signed(f)]); // period 0; nextPeriod = 1
      // In period 1, period 1 is still open: publishing is fine.
      await goToPeriod(f, 1n, 10n);
      await publishBatch(f, [await signed(f, { startDeadline: await f.market.periodStart(3n) })]);
      // In period 2, period 1 is closed and neither proven nor reported.
      await goToPeriod(f, 2n, 10n);
      const s = await signed(f);
      await expect(f.market.connect(f.provider).publishDeals([s]))
        .to.be.revertedWithCustomError(f.market, "MarketUnresolvedPeriods")
        .withArgs(f.provider.address, 1n, 2n);
      await f.market.connect(f.watcher).reportMissedProofs(f.provider.address);
      const { deals } = await publishBatch(f, [s]);
      expect(deals[0]?.startPeriod).to.equal(3n);
    });

    it("lets a provider that proved its periods keep publishing", async function () {
      const f = await ready();
      const piece = randomPiece(4096);
      const first = await signed(f, { root: piece.tree.root, size: 4096n });
      const { deals } = await publishBatch(f, [first]);
      const deal = deals[0];
      if (!deal) throw new Error("not published");
      await proveNext(f, f.provider, new Map([[deal.id, { deal, piece }]]));
      await goToPeriod(f, 2n, 10n);
      const { deals: more } = await publishBatch(f, [await signed(f)]);
      expect(more[0]?.startPeriod).to.equal(3n);
      expect((await f.market.proofState(f.provider.address)).nextPeriod).to.equal(2n);
    });

    it("rejects a publish that would exceed 2^24 active deals (MarketTooManyDeals)", async function () {
      // 2^24 real deals are out of reach of a test, so the provider's proof state is set to a full list: the
      // state word packs nextPeriod (bits 0-31) and activeDeals (bits 32-63).
      const f = await ready();
      await publishBatch(f, [await signed(f)]);
      const market = await f.market.getAddress();
      const state = await f.market.proofState(f.provider.address);
      const coder = AbiCoder.defaultAbiCoder();
      let slot: string | undefined;
      for (let base = 0n; base < 64n && slot === undefined; base++) {
        const candidate = keccak256(coder.encode(["address", "uint256"], [f.provider.address, base]));
        const word = BigInt(await f.ethers.provider.getStorage(market, candidate));
        if ((word & 0xffffffffn) === state.nextPeriod && ((word >> 32n) & 0xffffffffn) === 1n)
          slot = candidate;
      }
      if (slot === undefined) throw new Error("proof state slot not found");
      const word = BigInt(await f.ethers.provider.getStorage(market, slot));
      const full = (word & ~(0xffffffffn << 32n)) | (1n << 56n);
      await f.ethers.provider.send("hardhat_setStorageAt", [market, slot, zeroPadValue(toBeHex(full), 32)]);
      expect((await f.market.proofState(f.provider.address)).activeDeals).to.equal(1n << 24n);
      await expect(f.market.connect(f.provider).publishDeals([await signed(f)]))
        .to.be.revertedWithCustomError(f.market, "MarketTooManyDeals")
        .withArgs(f.provider.address);
    });
  });

  describe("skipped proposals", function () {
    it("skips a proposal whose nonce was already used and publishes the rest of the batch", async function () {
      const f = await ready();
      const s = await signed(f);
      await publishBatch(f, [s]);
      const other = await signed(f);
      const resigned = await signed(f, { nonce: s.proposal.nonce, pricePerSecond: 99n });
      const batch = [s, other, resigned];
      expect(await f.market.connect(f.provider).publishDeals.staticCall(batch)).to.equal(1n);
      const tx = f.market.connect(f.provider).publishDeals(batch);
      await expect(tx)
        .to.emit(f.market, "DealSkipped")
        .withArgs(f.client.address, s.proposal.nonce, NONCE_USED);
      await expect(tx).to.changeTokenBalance(f.ethers, f.token, f.client, -escrowOf(other.proposal));
      const receipt = await mined(tx);
      expect((await eventsIn(receipt, f.market, "DealSkipped")).map(argsOf)).to.deep.equal([
        [f.client.address, s.proposal.nonce, NONCE_USED],
        [f.client.address, s.proposal.nonce, NONCE_USED],
      ]);
      expect(
        (await eventsIn(receipt, f.market, "DealPublished")).map((e) => e.args[9] as bigint),
      ).to.deep.equal([other.proposal.nonce]);
      const locks = await eventsIn(receipt, f.registry, "CollateralLocked");
      expect(locks.map((l) => l.args[2] as bigint)).to.deep.equal([DEFAULT_COLLATERAL]);
    });

    it("skips the second copy of a proposal within one batch", async function () {
      const f = await ready();
      const s = await signed(f);
      const { receipt, deals } = await publishBatch(f, [s, s]);
      expect(deals).to.have.length(1);
      expect((await eventsIn(receipt, f.market, "DealSkipped")).map(argsOf)).to.deep.equal([
        [f.client.address, s.proposal.nonce, NONCE_USED],
      ]);
      expect((await f.registry.stakeInfo(f.provider.address)).locked).to.equal(DEFAULT_COLLATERAL);
    });

    it("skips a proposal whose nonce the client cancelled", async function () {
      const f = await ready();
      const s = await signed(f);
      const other = await signed(f);
      await expect(f.market.connect(f.client).cancelNonce(s.proposal.nonce))
        .to.emit(f.market, "NonceCancelled")
        .withArgs(f.client.address, s.proposal.nonce);
      expect(await f.market.nonceUsed(f.client.address, s.proposal.nonce)).to.be.true;
      const tx = f.market.connect(f.provider).publishDeals([s, other]);
      await expect(tx)
        .to.emit(f.market, "DealSkipped")
        .withArgs(f.client.address, s.proposal.nonce, NONCE_USED);
      await expect(tx).to.changeTokenBalance(f.ethers, f.token, f.client, -escrowOf(other.proposal));
      expect((await f.registry.stakeInfo(f.provider.address)).locked).to.equal(DEFAULT_COLLATERAL);
    });

    it("cancelNonce rejects a nonce already cancelled or used", async function () {
      const f = await ready();
      await f.market.connect(f.client).cancelNonce(7n);
      await expect(f.market.connect(f.client).cancelNonce(7n))
        .to.be.revertedWithCustomError(f.market, "MarketNonceUsed")
        .withArgs(f.client.address, 7n);
      const s = await signed(f);
      await publishBatch(f, [s]);
      await expect(f.market.connect(f.client).cancelNonce(s.proposal.nonce))
        .to.be.revertedWithCustomError(f.market, "MarketNonceUsed")
        .withArgs(f.client.address, s.proposal.nonce);
    });

    it("keeps nonces per client and per bit (0, 255, 256 and 2^64 - 1 are independent)", async function () {
      const f = await ready();
      await f.market.connect(f.client).cancelNonce(255n);
      for (const n of [0n, 254n, 256n]) expect(await f.market.nonceUsed(f.client.address, n)).to.be.false;
      expect(await f.market.nonceUsed(f.client2.address, 255n)).to.be.false;
      const max = (1n << 64n) - 1n;
      const { deals } = await publishBatch(f, [
        await signed(f, { nonce: 0n }),
        await signed(f, { nonce: 256n }),
        await signed(f, { nonce: max }),
      ]);
      expect(deals).to.have.length(3);
      for (const n of [0n, 255n, 256n, max]) expect(await f.market.nonceUsed(f.client.address, n)).to.be.true;
      for (const n of [1n, 257n, max - 1n]) expect(await f.market.nonceUsed(f.client.address, n)).to.be.false;
    });

    it("skips a client that can pay neither from its ledger balance nor its allowance", async function () {
      const f = await ready();
      const good = await signed(f, { collateral: 3n * USDC });
      const unfunded = await signed(f, { client: f.client2.address, collateral: 5n * USDC });
      const tx = f.market.connect(f.provider).publishDeals([unfunded, good]);
      await expect(tx)
        .to.emit(f.market, "DealSkipped")
        .withArgs(f.client2.address, unfunded.proposal.nonce, UNFUNDED);
      await expect(tx)
        .to.emit(f.registry, "CollateralLocked")
        .withArgs(f.provider.address, await f.market.getAddress(), 3n * USDC);
      const receipt = await mined(tx);
      const published = await eventsIn(receipt, f.market, "DealPublished");
      expect(published.map((e) => [e.args[0] as bigint, e.args[1] as string])).to.deep.equal([
        [1n, f.client.address],
      ]);
      expect(await f.market.nonceUsed(f.client2.address, unfunded.proposal.nonce)).to.be.false;
    });

    it("skips a client with an allowance but too few tokens, or tokens but too small an allowance", async function () {
      const f = await ready();
      const market = await f.market.getAddress();
      const s = await signed(f, { client: f.client2.address });
      const escrow = escrowOf(s.proposal);
      // Allowance, no tokens.
      await f.token.connect(f.client2).approve(market, escrow);
      await expect(f.market.connect(f.provider).publishDeals([s]))
        .to.emit(f.market, "DealSkipped")
        .withArgs(f.client2.address, s.proposal.nonce, UNFUNDED);
      // Tokens one short.
      await f.token.mint(f.client2.address, escrow - 1n);
      await expect(f.market.connect(f.provider).publishDeals([s]))
        .to.emit(f.market, "DealSkipped")
        .withArgs(f.client2.address, s.proposal.nonce, UNFUNDED);
      // Enough tokens, allowance one short.
      await f.token.mint(f.client2.address, 1n);
      await f.token.connect(f.client2).approve(market, escrow - 1n);
      await expect(f.market.connect(f.provider).publishDeals([s]))
        .to.emit(f.market, "DealSkipped")
        .withArgs(f.client2.address, s.proposal.nonce, UNFUNDED);
      // Ledger balance one short of the escrow does not count either (and is left alone).
      await f.token.mint(f.admin.address, escrow);
      await f.token.connect(f.admin).approve(market, escrow);
      await f.market.connect(f.admin).deposit(f.client2.address, escrow - 1n);
      await expect(f.market.connect(f.provider).publishDeals([s]))
        .to.emit(f.market, "DealSkipped")
        .withArgs(f.client2.address, s.proposal.nonce, UNFUNDED);
      expect(await f.market.balanceOf(f.client2.address)).to.equal(escrow - 1n);
      // Exact allowance: published, pulled from the allowance.
      await f.token.connect(f.client2).approve(market, escrow);
      const tx = f.market.connect(f.provider).publishDeals([s]);
      await expect(tx).to.emit(f.market, "DealPublished");
      await expect(tx).to.changeTokenBalance(f.ethers, f.token, f.client2, -escrow);
      expect(await f.market.balanceOf(f.client2.address)).to.equal(escrow - 1n);
    });

    it("publishes nothing, locks nothing and uses no deal id when every proposal is skipped", async function () {
      const f = await ready();
      const used = await signed(f);
      await publishBatch(f, [used]);
      const unfunded = await signed(f, { client: f.client2.address });
      expect(await f.market.connect(f.provider).publishDeals.staticCall([used, unfunded])).to.equal(0n);
      const receipt = await mined(f.market.connect(f.provider).publishDeals([used, unfunded]));
      expect(await eventsIn(receipt, f.market, "DealPublished")).to.have.length(0);
      expect(await eventsIn(receipt, f.registry, "CollateralLocked")).to.have.length(0);
      expect((await f.registry.stakeInfo(f.provider.address)).locked).to.equal(DEFAULT_COLLATERAL);
      expect((await f.market.proofState(f.provider.address)).activeDeals).to.equal(1n);
      const { deals } = await publishBatch(f, [await signed(f)]);
      expect(deals[0]?.id).to.equal(2n);
    });
  });

  describe("escrow source", function () {
    it("takes the escrow from the client's ledger balance when it covers the deal, without a token transfer", async function () {
      const f = await ready();
      const s = await signed(f);
      const escrow = escrowOf(s.proposal);
      await f.market.connect(f.client).deposit(f.client.address, escrow + 5n);
      const allowance = await f.token.allowance(f.client.address, await f.market.getAddress());
      const tx = f.market.connect(f.provider).publishDeals([s]);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [f.client, f.market], [0n, 0n]);
      expect(await f.market.balanceOf(f.client.address)).to.equal(5n);
      expect(await f.token.allowance(f.client.address, await f.market.getAddress())).to.equal(allowance);
    });

    it("takes the ledger balance when it is exactly the escrow", async function () {
      const f = await ready();
      const s = await signed(f);
      await f.market.connect(f.client).deposit(f.client.address, escrowOf(s.proposal));
      await expect(f.market.connect(f.provider).publishDeals([s])).to.changeTokenBalance(
        f.ethers,
        f.token,
        f.client,
        0n,
      );
      expect(await f.market.balanceOf(f.client.address)).to.equal(0n);
    });

    it("pulls the whole escrow from the allowance when the ledger balance falls short by even one unit", async function () {
      const f = await ready();
      const s = await signed(f);
      const escrow = escrowOf(s.proposal);
      await f.market.connect(f.client).deposit(f.client.address, escrow - 1n);
      await expect(f.market.connect(f.provider).publishDeals([s])).to.changeTokenBalances(
        f.ethers,
        f.token,
        [f.client, f.market],
        [-escrow, escrow],
      );
      expect(await f.market.balanceOf(f.client.address)).to.equal(escrow - 1n);
    });

    it("funds each proposal of a batch separately: ledger first while it covers, then allowance", async function () {
      const f = await ready();
      const a = await signed(f, { pricePerSecond: 10n });
      const b = await signed(f, { pricePerSecond: 10n });
      const escrow = escrowOf(a.proposal);
      await f.market.connect(f.client).deposit(f.client.address, escrow + escrow / 2n);
      await expect(f.market.connect(f.provider).publishDeals([a, b])).to.changeTokenBalance(
        f.ethers,
        f.token,
        f.client,
        -escrow,
      );
      expect(await f.market.balanceOf(f.client.address)).to.equal(escrow / 2n);
      expect(await f.token.balanceOf(await f.market.getAddress())).to.equal(escrow * 2n + escrow / 2n);
    });
  });

  describe("client ledger", function () {
    it("deposits for any account, paid by the caller, and emits Deposited", async function () {
      const f = await ready();
      const tx = f.market.connect(f.client).deposit(f.client2.address, 1_234n);
      await expect(tx).to.emit(f.market, "Deposited").withArgs(f.client2.address, f.client.address, 1_234n);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [f.client, f.market], [-1_234n, 1_234n]);
      expect(await f.market.balanceOf(f.client2.address)).to.equal(1_234n);
      expect(await f.market.balanceOf(f.client.address)).to.equal(0n);
      expect(await f.market.paymentToken()).to.equal(await f.token.getAddress());
    });

    it("rejects zero deposits and withdrawals and a withdrawal above the balance", async function () {
      const f = await ready();
      await expect(f.market.connect(f.client).deposit(f.client.address, 0n)).to.be.revertedWithCustomError(
        f.market,
        "LedgerZeroAmount",
      );
      await expect(f.market.connect(f.client).withdraw(0n)).to.be.revertedWithCustomError(
        f.market,
        "LedgerZeroAmount",
      );
      await f.market.connect(f.client).deposit(f.client.address, 100n);
      await expect(f.market.connect(f.client).withdraw(101n))
        .to.be.revertedWithCustomError(f.market, "LedgerInsufficientBalance")
        .withArgs(f.client.address, 100n, 101n);
      // Escrow spent on a deal is no longer withdrawable.
      const s = await signed(f, { pricePerSecond: 1n, duration: PERIOD });
      await f.market.connect(f.client).deposit(f.client.address, PERIOD);
      await publishBatch(f, [s]);
      await expect(f.market.connect(f.client).withdraw(101n))
        .to.be.revertedWithCustomError(f.market, "LedgerInsufficientBalance")
        .withArgs(f.client.address, 100n, 101n);
      await expect(f.market.connect(f.client).withdraw(100n))
        .to.emit(f.market, "Withdrawn")
        .withArgs(f.client.address, f.client.address, 100n);
    });

    it("withdraws a registered provider's balance to its registry payee", async function () {
      const f = await ready();
      const payee = f.watcher;
      await f.registry.connect(f.provider).updateProvider(payee.address, "https://p", 1n, 1n);
      await f.market.connect(f.client).deposit(f.provider.address, 500n);
      const tx = f.market.connect(f.provider).withdraw(500n);
      await expect(tx).to.emit(f.market, "Withdrawn").withArgs(f.provider.address, payee.address, 500n);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [payee, f.provider], [500n, 0n]);
    });
  });

  describe("collateral", function () {
    it("locks the collateral of the whole batch in one registry call", async function () {
      const f = await ready();
      await fundClient(f, f.client2);
      const batch = [
        await signed(f, { collateral: 1n * USDC }),
        await signed(f, { client: f.client2.address, collateral: 2n * USDC }),
        await signed(f, { collateral: 3n * USDC }),
      ];
      const { receipt } = await publishBatch(f, batch);
      const locks = await eventsIn(receipt, f.registry, "CollateralLocked");
      expect(locks.map(argsOf)).to.deep.equal([[f.provider.address, await f.market.getAddress(), 6n * USDC]]);
      const stake = await f.registry.stakeInfo(f.provider.address);
      expect([stake.free, stake.locked]).to.deep.equal([STAKE - 6n * USDC, 6n * USDC]);
    });

    it("does not call the registry for deals without collateral", async function () {
      const f = await ready();
      const { receipt, deals } = await publishBatch(f, [await signed(f, { collateral: 0n })]);
      expect(deals[0]?.collateral).to.equal(0n);
      expect(await eventsIn(receipt, f.registry, "CollateralLocked")).to.have.length(0);
      expect((await f.registry.stakeInfo(f.provider.address)).free).to.equal(STAKE);
    });
  });

  describe("proving state", function () {
    it("keeps the seed of a provider that already has active deals", async function () {
      const f = await ready();
      await publishBatch(f, [await signed(f)]);
      const st = await f.market.proofState(f.provider.address);
      await f.helpers.mine(5);
      const { receipt } = await publishBatch(f, [await signed(f, { pricePerSecond: DEFAULT_PRICE * 2n })]);
      expect(await eventsIn(receipt, f.market, "ChallengeSeedScheduled")).to.have.length(0);
      const after = await f.market.proofState(f.provider.address);
      expect([after.nextPeriod, after.seedBlock, after.activeDeals]).to.deep.equal([
        st.nextPeriod,
        st.seedBlock,
        2n,
      ]);
    });
  });
});
