import { expect } from "chai";
import {
  createDataSet,
  makeTerms,
  need,
  putState,
  signState,
  topUp,
  USDC,
  UniformTree,
} from "../helpers/fixture.js";
import { setup, liveDataSet } from "./dataSets.helpers.js";

describe("StorageMarket: data sets (creation, signed states, replay, session keys)", () => {
  describe("createDataSet", () => {
    it("test_createDataSet_assignsSequentialIdsAndEmits", async () => {
      const f = await setup();
      const { terms, signature } = await makeTerms(f);
      await expect(f.market.connect(f.provider).createDataSet(terms, signature))
        .to.emit(f.market, "DataSetCreated")
        .withArgs(
          1n,
          f.client.address,
          f.provider.address,
          terms.pricePerTiBMonth,
          terms.collateralPerTiB,
          2n,
          terms.nonce,
        );
      const ds = await f.market.dataSet(1n);
      expect(ds.status).to.equal(1n);
      expect(ds.span).to.equal(0n);
      expect(await createDataSet(f)).to.equal(2n);
    });

    it("test_createDataSet_onlyTheTermsProvider", async () => {
      const f = await setup();
      const { terms, signature } = await makeTerms(f);
      await expect(f.market.connect(f.provider2).createDataSet(terms, signature))
        .to.be.revertedWithCustomError(f.market, "MarketNotTermsProvider")
        .withArgs(f.provider.address, f.provider2.address);
    });

    it("test_createDataSet_rejectsReplayOfANonceAndCancelledNonces", async () => {
      const f = await setup();
      const { terms, signature } = await makeTerms(f);
      await f.market.connect(f.provider).createDataSet(terms, signature);
      await expect(f.market.connect(f.provider).createDataSet(terms, signature))
        .to.be.revertedWithCustomError(f.market, "MarketNonceUsed")
        .withArgs(f.client.address, terms.nonce);
      const other = await makeTerms(f, { nonce: 77n });
      await expect(f.market.connect(f.client).cancelNonce(77n)).to.emit(f.market, "NonceCancelled");
      await expect(
        f.market.connect(f.provider).createDataSet(other.terms, other.signature),
      ).to.be.revertedWithCustomError(f.market, "MarketNonceUsed");
    });

    it("test_createDataSet_rejectsExpiredZeroPriceLongNoticeAndWrongSigner", async () => {
      const f = await setup();
      const now = BigInt(await f.helpers.time.latest());
      const expired = await makeTerms(f, { deadline: now - 1n });
      await expect(
        f.market.connect(f.provider).createDataSet(expired.terms, expired.signature),
      ).to.be.revertedWithCustomError(f.market, "MarketExpired");
      const free = await makeTerms(f, { pricePerTiBMonth: 0n });
      await expect(
        f.market.connect(f.provider).createDataSet(free.terms, free.signature),
      ).to.be.revertedWithCustomError(f.market, "MarketZeroPrice");
      const max = (1n << 96n) - 1n;
      const tooHigh = await makeTerms(f, { pricePerTiBMonth: max + 1n });
      await expect(f.market.connect(f.provider).createDataSet(tooHigh.terms, tooHigh.signature))
        .to.be.revertedWithCustomError(f.market, "MarketPriceTooHigh")
        .withArgs(max + 1n, max);
      const highest = await makeTerms(f, { pricePerTiBMonth: max });
      await (await f.market.connect(f.provider).createDataSet(highest.terms, highest.signature)).wait();
      expect((await f.market.dataSet(await f.market.dataSetCount())).pricePerTiBMonth).to.equal(max);
      const long = await makeTerms(f, { noticePeriods: 10_000n });
      await expect(f.market.connect(f.provider).createDataSet(long.terms, long.signature))
        .to.be.revertedWithCustomError(f.market, "MarketBadNotice")
        .withArgs(10_000n, 720n);
      const forged = await makeTerms(f);
      const bySomeoneElse = await makeTerms(f, { client: f.client2, nonce: forged.terms.nonce });
      await expect(
        f.market.connect(f.provider).createDataSet(forged.terms, bySomeoneElse.signature),
      ).to.be.revertedWithCustomError(f.market, "MarketBadSignature");
    });

    it("test_createDataSet_replayAcrossChainOrContractFails", async () => {
      const f = await setup();
      const { terms } = await makeTerms(f);
      const wrongChain = await f.client.signTypedData(
        {
          name: "Strata StorageMarket",
          version: "2",
          chainId: f.chainId + 1n,
          verifyingContract: await f.market.getAddress(),
        },
        (await import("../helpers/fixture.js")).CREATE_TYPES,
        terms,
      );
      await expect(
        f.market.connect(f.provider).createDataSet(terms, wrongChain),
      ).to.be.revertedWithCustomError(f.market, "MarketBadSignature");
      const wrongContract = await f.client.signTypedData(
        {
          name: "Strata StorageMarket",
          version: "2",
          chainId: f.chainId,
          verifyingContract: await f.registry.getAddress(),
        },
        (await import("../helpers/fixture.js")).CREATE_TYPES,
        terms,
      );
      await expect(
        f.market.connect(f.provider).createDataSet(terms, wrongContract),
      ).to.be.revertedWithCustomError(f.market, "MarketBadSignature");
      const oldVersion = await f.client.signTypedData(
        {
          name: "Strata StorageMarket",
          version: "1",
          chainId: f.chainId,
          verifyingContract: await f.market.getAddress(),
        },
        (await import("../helpers/fixture.js")).CREATE_TYPES,
        terms,
      );
      await expect(
        f.market.connect(f.provider).createDataSet(terms, oldVersion),
      ).to.be.revertedWithCustomError(f.market, "MarketBadSignature");
    });

    it("test_createDataSet_blockedWhilePaused", async () => {
      const f = await setup();
      await f.market.connect(f.admin).pause();
      const { terms, signature } = await makeTerms(f);
      await expect(
        f.market.connect(f.provider).createDataSet(terms, signature),
      ).to.be.revertedWithCustomError(f.market, "EnforcedPause");
    });
  });

  describe("updateDataSets", () => {
    it("test_updateDataSets_appliesNewestStateAndSkipsStaleVersions", async () => {
      const f = await setup();
      const id = await createDataSet(f);
      await topUp(f, id, 100n * USDC);
      const t1 = UniformTree.random(1000n);
      const t2 = UniformTree.random(3000n);
      const s2 = await signState(f, f.client, { dataSetId: id, version: 2n, root: t2.root, span: t2.span });
      const s1 = await signState(f, f.client, { dataSetId: id, version: 1n, root: t1.root, span: t1.span });
      await expect(f.market.connect(f.provider).updateDataSets([s2, s1]))
        .to.emit(f.market, "DataSetUpdated")
        .and.to.emit(f.market, "DataSetUpdateSkipped")
        .withArgs(id, 1n, 0n);
      const ds = await f.market.dataSet(id);
      expect(ds.version).to.equal(2n);
      expect(ds.root).to.equal(t2.root);
      expect(ds.span).to.equal(3000n);
      // The same signed state cannot be replayed.
      await expect(f.market.connect(f.provider).updateDataSets([s2]))
        .to.emit(f.market, "DataSetUpdateSkipped")
        .withArgs(id, 2n, 0n);
    });

    it("test_updateDataSets_gasDoesNotDependOnPieces: one signed state folds any number of additions", async () => {
      const f = await setup();
      const { id } = await liveDataSet(f, 16n);
      await (await putState(f, id, UniformTree.random(961n))).wait();
      await f.helpers.mine(5); // past the seed block: later writes are tagged with the epoch
      await (await putState(f, id, UniformTree.random(962n))).wait();
      // The same draw class (961..1024: the last eighth of class 10), the same epoch: a state adding 1 piece costs
      // what a state adding 60 pieces costs.
      const small = await (await putState(f, id, UniformTree.random(963n))).wait();
      const large = await (await putState(f, id, UniformTree.random(1024n))).wait();
      expect(need(small ?? undefined, "receipt").gasUsed).to.be.closeTo(
        need(large ?? undefined, "receipt").gasUsed,
        200n,
      );
    });

    it("test_updateDataSets_rejectsStatesForOtherProvidersOrBadSignatures", async () => {
      const f = await setup();
      const id = await createDataSet(f);
      const t = UniformTree.random(10n);
      const byStranger = await signState(f, f.client2, {
        dataSetId: id,
        version: 1n,
        root: t.root,
        span: t.span,
      });
      await expect(f.market.connect(f.provider).updateDataSets([byStranger]))
        .to.be.revertedWithCustomError(f.market, "MarketSessionKeyNotValid")
        .withArgs(f.client.address, f.client2.address, id);
      const good = await signState(f, f.client, { dataSetId: id, version: 1n, root: t.root, span: t.span });
      await expect(f.market.connect(f.provider2).updateDataSets([good]))
        .to.be.revertedWithCustomError(f.market, "MarketNotDataSetParty")
        .withArgs(id, f.provider2.address);
      const tampered = { ...good, state: { ...good.state, span: 11n } };
      await expect(f.market.connect(f.provider).updateDataSets([tampered])).to.be.revertedWithCustomError(
        f.market,
        "MarketBadSignature",
      );
    });

    it("test_updateDataSets_skipsWhenEscrowDoesNotCoverTheLockup", async () => {
      const f = await setup();
      const id = await createDataSet(f);
      const t = UniformTree.random(1n << 34n); // 1 TiB: lockup (2 + 2 periods of an hour) at 2.5/TiB-month
      const lock = await f.market.lockupFor(id, t.span);
      expect(lock).to.equal(
        (((5n * USDC) / 2n) * (1n << 34n) * 4n * 3600n + (1n << 34n) * 2_592_000n - 1n) /
          ((1n << 34n) * 2_592_000n),
      );
      await topUp(f, id, lock - 1n);
      const s = await signState(f, f.client, { dataSetId: id, version: 1n, root: t.root, span: t.span });
      await expect(f.market.connect(f.provider).updateDataSets([s]))
        .to.emit(f.market, "DataSetUpdateSkipped")
        .withArgs(id, 1n, 1n);
      await topUp(f, id, 1n);
      await expect(f.market.connect(f.provider).updateDataSets([s])).to.emit(f.market, "DataSetUpdated");
    });

    it("test_updateDataSets_locksCollateralByClassCapacity", async () => {
      const f = await setup();
      const id = await createDataSet(f, { collateralPerTiB: 1024n * USDC });
      await topUp(f, id, 100n * USDC);
      const before = (await f.registry.stakeInfo(f.provider.address)).locked;
      await (await putState(f, id, UniformTree.random(1000n))).wait(); // class 10: 1024 leaves
      const class10 = (1024n * USDC * 1024n + (1n << 34n) - 1n) / (1n << 34n);
      expect((await f.registry.stakeInfo(f.provider.address)).locked - before).to.equal(class10);
      await (await putState(f, id, UniformTree.random(1020n))).wait(); // same class: nothing moves
      expect((await f.registry.stakeInfo(f.provider.address)).locked - before).to.equal(class10);
      await (await putState(f, id, UniformTree.random(1025n))).wait(); // class 11
      const class11 = (1024n * USDC * 2048n + (1n << 34n) - 1n) / (1n << 34n);
      expect((await f.registry.stakeInfo(f.provider.address)).locked - before).to.equal(class11);
      await (await putState(f, id, UniformTree.random(0n))).wait(); // empty: everything unlocked
      expect((await f.registry.stakeInfo(f.provider.address)).locked).to.equal(before);
    });

    it("test_updateDataSets_rejectsSpansAboveTheLimitAndBlockedWhilePaused", async () => {
      const f = await setup();
      const id = await createDataSet(f);
      const huge = await signState(f, f.client, {
        dataSetId: id,
        version: 1n,
        root: "0x" + "11".repeat(32),
        span: (1n << 44n) + 1n,
      });
      await expect(f.market.connect(f.provider).updateDataSets([huge]))
        .to.be.revertedWithCustomError(f.market, "MarketBadSpan")
        .withArgs((1n << 44n) + 1n, 1n << 44n);
      await expect(f.market.connect(f.provider).updateDataSets([])).to.be.revertedWithCustomError(
        f.market,
        "MarketBadBatchSize",
      );
      await f.market.connect(f.admin).pause();
      await expect(putState(f, id, UniformTree.random(4n))).to.be.revertedWithCustomError(
        f.market,
        "EnforcedPause",
      );
    });
  });

  describe("session keys", () => {
    it("test_sessionKey_signsWithinScopeUntilRevoked", async () => {
      const f = await setup();
      const id = await createDataSet(f);
      await topUp(f, id, 100n * USDC);
      const key = need(f.others[5], "signer");
      const expiry = BigInt(await f.helpers.time.latest()) + 3600n;
      await expect(
        f.market
          .connect(f.client)
          .authorizeSessionKey(key.address, { provider: f.provider.address, maxSpan: 100n, expiry }),
      )
        .to.emit(f.market, "SessionKeyAuthorized")
        .withArgs(f.client.address, key.address, f.provider.address, 100n, expiry);
      await expect(putState(f, id, UniformTree.random(100n), { signer: key })).to.emit(
        f.market,
        "DataSetUpdated",
      );
      // Above the span cap.
      await expect(putState(f, id, UniformTree.random(101n), { signer: key })).to.be.revertedWithCustomError(
        f.market,
        "MarketSessionKeyNotValid",
      );
      await expect(f.market.connect(f.client).revokeSessionKey(key.address)).to.emit(
        f.market,
        "SessionKeyRevoked",
      );
      await expect(putState(f, id, UniformTree.random(50n), { signer: key })).to.be.revertedWithCustomError(
        f.market,
        "MarketSessionKeyNotValid",
      );
    });

    it("test_sessionKey_expiresAndIsScopedToItsProviderAndClient", async () => {
      const f = await setup();
      const id = await createDataSet(f);
      const other = await createDataSet(f, { provider: f.provider2 });
      await topUp(f, id, 100n * USDC);
      await topUp(f, other, 100n * USDC);
      const key = need(f.others[6], "signer");
      const expiry = BigInt(await f.helpers.time.latest()) + 100n;
      await f.market
        .connect(f.client)
        .authorizeSessionKey(key.address, { provider: f.provider.address, maxSpan: 1000n, expiry });
      await expect(
        putState(f, other, UniformTree.random(10n), { signer: key, provider: f.provider2 }),
      ).to.be.revertedWithCustomError(f.market, "MarketSessionKeyNotValid");
      // A key of one client signs nothing for another client's data sets.
      const theirs = await createDataSet(f, { client: f.client2 });
      await expect(
        putState(f, theirs, UniformTree.random(10n), { signer: key }),
      ).to.be.revertedWithCustomError(f.market, "MarketSessionKeyNotValid");
      await f.helpers.time.increase(101n);
      await expect(putState(f, id, UniformTree.random(10n), { signer: key })).to.be.revertedWithCustomError(
        f.market,
        "MarketSessionKeyNotValid",
      );
    });
  });
});
