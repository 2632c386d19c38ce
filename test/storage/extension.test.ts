import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { marketDomain, signExtension, signProposal } from "../../offchain/sdk/deals/eip712.js";
import { withEndPeriod, type DealProposal } from "../../offchain/sdk/deals/terms.js";
import { PERIOD, proveNext, publish, randomPiece, USDC } from "../helpers/fixture.js";
import {
  atNextBlock,
  EndReason,
  escrowOf,
  expectFundsConserved,
  goToPeriod,
  publishDeal,
  publishDeals,
  setParams,
  signedExtension,
  useStorageFixture,
} from "./streams.helpers.js";

describe("StorageMarket extendDeal", function () {
  const get = useStorageFixture();

  it("extends a live deal: the client pays the added periods and the new end period replaces the old terms", async function () {
    const f = get();
    const price = 10n;
    const { deal, held } = await publishDeal(f, { periods: 3n, pricePerSecond: price });
    await proveNext(f, f.provider, held);
    const newEnd = deal.endPeriod + 2n;
    const amount = price * 2n * PERIOD;
    const { extension, signature } = await signedExtension(f, deal, { newEndPeriod: newEnd });
    const tx = await f.market.connect(f.provider).extendDeal(deal, extension, signature);
    await expect(tx).to.emit(f.market, "DealExtended").withArgs(deal.id, newEnd, amount);
    await expect(tx).to.changeTokenBalances(f.ethers, f.token, [f.client, f.market], [-amount, amount]);
    expect(await f.market.nonceUsed(f.client.address, extension.nonce)).to.equal(true);
    const extended = withEndPeriod(deal, newEnd);
    await expectFundsConserved(f, [extended]);
    // The old terms are gone everywhere; the new ones work.
    await expect(f.market.settleDeal(deal))
      .to.be.revertedWithCustomError(f.market, "MarketUnknownDeal")
      .withArgs(deal.id);
    await expect(f.market.connect(f.client).terminateDeal(deal))
      .to.be.revertedWithCustomError(f.market, "MarketUnknownDeal")
      .withArgs(deal.id);
    await expect(f.market.connect(f.provider).extendDeal(deal, extension, signature))
      .to.be.revertedWithCustomError(f.market, "MarketUnknownDeal")
      .withArgs(deal.id);
    const [, paidSeconds, declaredFaults, , index] = await f.market.dealState(deal.id);
    expect([paidSeconds, declaredFaults, index]).to.deep.equal([0n, 0n, 0n]);
    // The deal now runs (and is proven and paid) until the new end.
    const piece = held.get(deal.id)?.piece;
    if (!piece) throw new Error("piece missing");
    const extendedHeld = new Map([[deal.id, { deal: extended, piece }]]);
    for (let period = deal.startPeriod + 1n; period < newEnd; period++) {
      await proveNext(f, f.provider, extendedHeld);
    }
    await goToPeriod(f, newEnd);
    await expect(f.market.connect(f.watcher).finalizeDeal(extended))
      .to.emit(f.market, "DealEnded")
      .withArgs(deal.id, EndReason.Expired, escrowOf(extended), 0n, 0n, deal.collateral);
    expect(await f.market.balanceOf(f.provider.address)).to.equal(price * 5n * PERIOD);
    await expectFundsConserved(f, []);
  });

  it("takes the extension from the client's ledger balance when it covers the amount", async function () {
    const f = get();
    const { deal } = await publishDeal(f, { periods: 3n, pricePerSecond: 4n });
    const amount = 4n * 3n * PERIOD;
    await f.market.connect(f.client).deposit(f.client.address, amount + 1n);
    const { extension, signature } = await signedExtension(f, deal, { newEndPeriod: deal.endPeriod + 3n });
    const tx = await f.market.connect(f.provider).extendDeal(deal, extension, signature);
    await expect(tx)
      .to.emit(f.market, "DealExtended")
      .withArgs(deal.id, deal.endPeriod + 3n, amount);
    await expect(tx).to.changeTokenBalances(f.ethers, f.token, [f.client, f.market], [0n, 0n]);
    expect(await f.market.balanceOf(f.client.address)).to.equal(1n);
    await expectFundsConserved(f, [withEndPeriod(deal, deal.endPeriod + 3n)]);
  });

  it("chains extensions on the latest terms", async function () {
    const f = get();
    const { deal } = await publishDeal(f, { periods: 2n });
    const first = await signedExtension(f, deal, { newEndPeriod: deal.endPeriod + 1n });
    await f.market.connect(f.provider).extendDeal(deal, first.extension, first.signature);
    const once = withEndPeriod(deal, deal.endPeriod + 1n);
    const second = await signedExtension(f, once, { newEndPeriod: once.endPeriod + 4n });
    await expect(f.market.connect(f.provider).extendDeal(once, second.extension, second.signature))
      .to.emit(f.market, "DealExtended")
      .withArgs(deal.id, deal.endPeriod + 5n, deal.pricePerSecond * 4n * PERIOD);
    await expectFundsConserved(f, [withEndPeriod(deal, deal.endPeriod + 5n)]);
  });

  it("accepts an extension signed through an ERC-1271 client wallet", async function () {
    const f = get();
    const wallet = await f.ethers.deployContract("ERC1271Wallet", [f.client.address]);
    const walletAddress = await wallet.getAddress();
    await f.market.connect(f.client).deposit(walletAddress, 10_000n * USDC);
    const piece = randomPiece(2048);
    const proposal: DealProposal = {
      client: walletAddress,
      provider: f.provider.address,
      root: piece.tree.root,
      size: BigInt(piece.data.length),
      duration: 2n * PERIOD,
      pricePerSecond: 10n,
      collateral: 100n * USDC,
      startDeadline: BigInt(await f.helpers.time.latest()) + 3600n,
      nonce: 1n,
    };
    const domain = marketDomain(f.chainId, await f.market.getAddress());
    const [deal] = await publish(f, [
      { proposal, signature: await signProposal(f.client, domain, proposal) },
    ]);
    if (!deal) throw new Error("deal missing");
    const { extension, signature } = await signedExtension(f, deal);
    await expect(f.market.connect(f.provider).extendDeal(deal, extension, signature))
      .to.emit(f.market, "DealExtended")
      .withArgs(deal.id, deal.endPeriod + 2n, 10n * 2n * PERIOD);
    expect(await f.market.balanceOf(walletAddress)).to.equal(10_000n * USDC - 10n * 4n * PERIOD);
  });

  describe("MarketBadExtension", function () {
    it("rejects an extension for another deal id", async function () {
      const f = get();
      const { deals } = await publishDeals(f, [{}, {}]);
      const [deal, other] = deals;
      if (!deal || !other) throw new Error("deals missing");
      const { extension, signature } = await signedExtension(f, deal, { dealId: other.id });
      await expect(f.market.connect(f.provider).extendDeal(deal, extension, signature))
        .to.be.revertedWithCustomError(f.market, "MarketBadExtension")
        .withArgs(deal.id);
    });

    it("rejects a new end period that is not later than the current one", async function () {
      const f = get();
      const { deal } = await publishDeal(f, { periods: 3n });
      for (const newEndPeriod of [deal.endPeriod, deal.endPeriod - 1n, deal.startPeriod]) {
        const { extension, signature } = await signedExtension(f, deal, { newEndPeriod });
        await expect(f.market.connect(f.provider).extendDeal(deal, extension, signature))
          .to.be.revertedWithCustomError(f.market, "MarketBadExtension")
          .withArgs(deal.id);
      }
    });

    it("rejects an extension after its deadline and accepts it in the deadline second", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      const deadline = BigInt(await f.helpers.time.latest()) + 100n;
      const { extension, signature } = await signedExtension(f, deal, { deadline });
      await atNextBlock(f, deadline + 1n);
      await expect(f.market.connect(f.provider).extendDeal(deal, extension, signature))
        .to.be.revertedWithCustomError(f.market, "MarketBadExtension")
        .withArgs(deal.id);
      await atNextBlock(f, deadline);
      await expect(f.market.connect(f.provider).extendDeal(deal, extension, signature)).to.emit(
        f.market,
        "DealExtended",
      );
    });

    it("rejects an extension that makes the deal longer than maxDealPeriods", async function () {
      const f = get();
      await setParams(f, { maxDealPeriods: 10n });
      const { deal } = await publishDeal(f, { periods: 3n });
      const tooLong = await signedExtension(f, deal, { newEndPeriod: deal.startPeriod + 11n });
      await expect(f.market.connect(f.provider).extendDeal(deal, tooLong.extension, tooLong.signature))
        .to.be.revertedWithCustomError(f.market, "MarketBadExtension")
        .withArgs(deal.id);
      const longest = await signedExtension(f, deal, { newEndPeriod: deal.startPeriod + 10n });
      await expect(f.market.connect(f.provider).extendDeal(deal, longest.extension, longest.signature))
        .to.emit(f.market, "DealExtended")
        .withArgs(deal.id, deal.startPeriod + 10n, deal.pricePerSecond * 7n * PERIOD);
    });
  });

  describe("nonces and signatures", function () {
    it("rejects the nonce of the client's published proposal (one nonce space)", async function () {
      const f = get();
      const nonce = (1n << 55n) + 1n;
      const { deal } = await publishDeal(f, { nonce });
      const { extension, signature } = await signedExtension(f, deal, { nonce });
      await expect(f.market.connect(f.provider).extendDeal(deal, extension, signature))
        .to.be.revertedWithCustomError(f.market, "MarketNonceUsed")
        .withArgs(f.client.address, nonce);
    });

    it("rejects a nonce the client cancelled", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      const { extension, signature } = await signedExtension(f, deal);
      await f.market.connect(f.client).cancelNonce(extension.nonce);
      await expect(f.market.connect(f.provider).extendDeal(deal, extension, signature))
        .to.be.revertedWithCustomError(f.market, "MarketNonceUsed")
        .withArgs(f.client.address, extension.nonce);
    });

    it("rejects replaying an extension's nonce on the extended deal", async function () {
      const f = get();
      const { deal } = await publishDeal(f, { periods: 2n });
      const first = await signedExtension(f, deal, { newEndPeriod: deal.endPeriod + 1n });
      await f.market.connect(f.provider).extendDeal(deal, first.extension, first.signature);
      const extended = withEndPeriod(deal, deal.endPeriod + 1n);
      const replay = await signedExtension(f, extended, {
        newEndPeriod: extended.endPeriod + 1n,
        nonce: first.extension.nonce,
      });
      await expect(f.market.connect(f.provider).extendDeal(extended, replay.extension, replay.signature))
        .to.be.revertedWithCustomError(f.market, "MarketNonceUsed")
        .withArgs(f.client.address, first.extension.nonce);
    });

    it("rejects a signature that is not the client's over this extension and market (MarketBadSignature)", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      const { extension, signature } = await signedExtension(f, deal);
      const byStranger = (await signedExtension(f, deal, extension, f.client2)).signature;
      const byProvider = (await signedExtension(f, deal, extension, f.provider)).signature;
      const otherTerms = (
        await signedExtension(f, deal, { ...extension, newEndPeriod: extension.newEndPeriod + 1n })
      ).signature;
      const otherChain = await signExtension(
        f.client,
        marketDomain(f.chainId + 1n, await f.market.getAddress()),
        extension,
      );
      const otherMarket = await signExtension(
        f.client,
        marketDomain(f.chainId, f.watcher.address),
        extension,
      );
      const garbage = "0x" + randomBytes(65).toString("hex");
      for (const bad of [byStranger, byProvider, otherTerms, otherChain, otherMarket, garbage, "0x"]) {
        await expect(f.market.connect(f.provider).extendDeal(deal, extension, bad))
          .to.be.revertedWithCustomError(f.market, "MarketBadSignature")
          .withArgs(f.client.address);
      }
      await expect(f.market.connect(f.provider).extendDeal(deal, extension, signature)).to.emit(
        f.market,
        "DealExtended",
      );
    });
  });

  describe("who and when", function () {
    it("rejects an extension the client cannot fund (MarketUnfunded)", async function () {
      const f = get();
      const { deal } = await publishDeal(f, { periods: 3n, pricePerSecond: 10n });
      const amount = 10n * 2n * PERIOD;
      // A ledger balance short of the amount and no allowance left.
      await f.market.connect(f.client).deposit(f.client.address, amount - 1n);
      await f.token.connect(f.client).approve(await f.market.getAddress(), 0n);
      const { extension, signature } = await signedExtension(f, deal);
      await expect(f.market.connect(f.provider).extendDeal(deal, extension, signature))
        .to.be.revertedWithCustomError(f.market, "MarketUnfunded")
        .withArgs(f.client.address, amount);
      expect(await f.market.nonceUsed(f.client.address, extension.nonce)).to.equal(false);
    });

    it("rejects an extension once the deal's end period has started (MarketDealOver)", async function () {
      const f = get();
      const { deal } = await publishDeal(f, { periods: 1n });
      const { extension, signature } = await signedExtension(f, deal, { deadline: 1n << 40n });
      await atNextBlock(f, await f.market.periodStart(deal.endPeriod));
      await expect(f.market.connect(f.provider).extendDeal(deal, extension, signature))
        .to.be.revertedWithCustomError(f.market, "MarketDealOver")
        .withArgs(deal.id, deal.endPeriod);
    });

    it("rejects an extension submitted by anyone but the deal's provider (MarketNotDealParty)", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      const { extension, signature } = await signedExtension(f, deal);
      for (const caller of [f.client, f.watcher, f.provider2]) {
        await expect(f.market.connect(caller).extendDeal(deal, extension, signature))
          .to.be.revertedWithCustomError(f.market, "MarketNotDealParty")
          .withArgs(deal.id, caller.address);
      }
    });

    it("rejects extensions while the market is paused and accepts them after unpausing", async function () {
      const f = get();
      const { deal } = await publishDeal(f);
      const { extension, signature } = await signedExtension(f, deal);
      await f.market.connect(f.admin).pause();
      await expect(
        f.market.connect(f.provider).extendDeal(deal, extension, signature),
      ).to.be.revertedWithCustomError(f.market, "EnforcedPause");
      await f.market.connect(f.admin).unpause();
      await expect(f.market.connect(f.provider).extendDeal(deal, extension, signature)).to.emit(
        f.market,
        "DealExtended",
      );
    });
  });
});
