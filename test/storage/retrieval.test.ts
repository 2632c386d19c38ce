import { expect } from "chai";
import { id as roleId } from "ethers";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import { withEndPeriod } from "../../offchain/sdk/deals/terms.js";
import { USDC, type PieceData, type StorageFixture } from "../helpers/fixture.js";
import { eventsIn, mined } from "./publishing.helpers.js";
import {
  answer,
  answerOf,
  BOND,
  CHALLENGER_FUNDS,
  openOn,
  passDeadline,
  Status,
  useRetrievalFixture,
  WINDOW,
} from "./retrieval.helpers.js";
import { publishDeal, signedExtension, type DealSpec } from "./streams.helpers.js";

/** Publish one deal from the fixture's provider and return its terms and piece. */
async function dealWithPiece(
  f: StorageFixture,
  spec: DealSpec = {},
): Promise<{ deal: DealTerms; piece: PieceData }> {
  const { deal, held } = await publishDeal(f, spec);
  const piece = held.get(deal.id)?.piece;
  if (!piece) throw new Error("piece missing");
  return { deal, piece };
}

/** Timestamp at which `deal` ends (start of its end period). */
async function endOf(f: StorageFixture, deal: DealTerms): Promise<bigint> {
  return f.market.periodStart(deal.endPeriod);
}

describe("RetrievalChallenges", function () {
  const fixture = useRetrievalFixture();

  // ------------------------------------------------------------------ constructor and views

  describe("constructor", function () {
    it("test_constructor_recordsMarketTokenBoundsParametersAndRoles", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      expect(await rc.market()).to.equal(await f.market.getAddress());
      expect(await rc.paymentToken()).to.equal(await f.token.getAddress());
      expect(await rc.maxBond()).to.equal(1_000n * USDC);
      expect([...(await rc.parameters())]).to.deep.equal([WINDOW, BOND]);
      expect(await rc.challengeCount()).to.equal(0n);
      expect(await rc.MIN_RESPONSE_WINDOW()).to.equal(60n);
      expect(await rc.MAX_RESPONSE_WINDOW()).to.equal(7n * 86_400n);
      for (const role of [await rc.DEFAULT_ADMIN_ROLE(), await rc.PARAMETER_ROLE(), await rc.PAUSER_ROLE()]) {
        expect(await rc.hasRole(role, f.admin.address)).to.be.true;
        expect(await rc.hasRole(role, f.watcher.address)).to.be.false;
      }
      expect(await f.market.RETRIEVAL_ROLE()).to.equal(roleId("RETRIEVAL_ROLE"));
      expect(await f.market.hasRole(roleId("RETRIEVAL_ROLE"), await rc.getAddress())).to.be.true;
      const unknown = await rc.challengeOf(1n);
      expect(unknown.status).to.equal(Status.None);
      expect(unknown.challenger).to.equal("0x0000000000000000000000000000000000000000");
    });

    it("test_constructor_rejectsOutOfBoundsParametersAndZeroMaxBond", async function () {
      const f = fixture();
      const market = await f.market.getAddress();
      const factory = await f.ethers.getContractFactory("RetrievalChallenges");
      const rc = f.retrievalChallenges;
      const cases: [bigint, { responseWindow: bigint; bond: bigint }, string, bigint, bigint, bigint][] = [
        [10n, { responseWindow: 59n, bond: 1n }, "responseWindow", 59n, 60n, 604_800n],
        [10n, { responseWindow: 604_801n, bond: 1n }, "responseWindow", 604_801n, 60n, 604_800n],
        [10n, { responseWindow: 60n, bond: 0n }, "bond", 0n, 1n, 10n],
        [10n, { responseWindow: 60n, bond: 11n }, "bond", 11n, 1n, 10n],
        [0n, { responseWindow: 60n, bond: 1n }, "maxBond", 0n, 1n, (1n << 128n) - 1n],
      ];
      for (const [maxBond, params, name, value, min, max] of cases) {
        await expect(factory.deploy(market, f.admin.address, maxBond, params))
          .to.be.revertedWithCustomError(rc, "RetrievalParameterOutOfBounds")
          .withArgs(name, value, min, max);
      }
      const ok = await factory.deploy(market, f.admin.address, 10n, { responseWindow: 60n, bond: 10n });
      await expect(ok.deploymentTransaction()).to.emit(ok, "ParametersSet").withArgs([60n, 10n]);
    });
  });

  // ------------------------------------------------------------------ openChallenge

  describe("openChallenge", function () {
    it("test_openChallenge_pullsBondFromAllowanceAndRecordsChallenge", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal } = await dealWithPiece(f);
      const ts = BigInt(await f.helpers.time.latest()) + 10n;
      await f.helpers.time.setNextBlockTimestamp(ts);
      const tx = rc.connect(f.watcher).openChallenge(deal, 7n);
      await expect(tx)
        .to.emit(rc, "RetrievalChallengeOpened")
        .withArgs(1n, deal.id, deal.provider, f.watcher.address, 7n, ts + WINDOW, BOND);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [f.watcher, rc], [-BOND, BOND]);
      const c = await rc.challengeOf(1n);
      expect([c.dealId, c.provider, c.challenger, c.leafIndex, c.deadline, c.bond, c.status]).to.deep.equal([
        deal.id,
        deal.provider,
        f.watcher.address,
        7n,
        ts + WINDOW,
        BOND,
        Status.Open,
      ]);
      expect(await rc.openChallengeOf(deal.id)).to.equal(1n);
      expect(await rc.challengeCount()).to.equal(1n);
    });

    it("test_openChallenge_takesBondFromLedgerBalanceFirst", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal } = await dealWithPiece(f);
      await rc.connect(f.watcher).deposit(f.watcher.address, BOND + 1n);
      await expect(rc.connect(f.watcher).openChallenge(deal, 0n)).to.changeTokenBalances(
        f.ethers,
        f.token,
        [f.watcher, rc],
        [0n, 0n],
      );
      expect(await rc.balanceOf(f.watcher.address)).to.equal(1n);
    });

    it("test_openChallenge_pullsWholeBondWhenLedgerBalanceIsShort", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal } = await dealWithPiece(f);
      await rc.connect(f.watcher).deposit(f.watcher.address, BOND - 1n);
      await expect(rc.connect(f.watcher).openChallenge(deal, 0n)).to.changeTokenBalances(
        f.ethers,
        f.token,
        [f.watcher, rc],
        [-BOND, BOND],
      );
      expect(await rc.balanceOf(f.watcher.address)).to.equal(BOND - 1n);
    });

    it("test_openChallenge_revertsUnfundedWithoutBalanceOrAllowance", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal } = await dealWithPiece(f);
      const poor = f.others[3];
      if (!poor) throw new Error("not enough signers");
      await expect(rc.connect(poor).openChallenge(deal, 0n))
        .to.be.revertedWithCustomError(rc, "RetrievalUnfunded")
        .withArgs(poor.address, BOND);
      await f.token.mint(poor.address, BOND);
      await f.token.connect(poor).approve(await rc.getAddress(), BOND - 1n);
      await expect(rc.connect(poor).openChallenge(deal, 0n))
        .to.be.revertedWithCustomError(rc, "RetrievalUnfunded")
        .withArgs(poor.address, BOND);
      await f.token.connect(poor).approve(await rc.getAddress(), BOND);
      await expect(rc.connect(poor).openChallenge(deal, 0n)).to.emit(rc, "RetrievalChallengeOpened");
    });

    it("test_openChallenge_revertsUnknownDealForWrongTermsOrUnknownId", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal } = await dealWithPiece(f);
      for (const bad of [
        { ...deal, root: "0x" + "11".repeat(32) },
        { ...deal, size: deal.size + 1n },
        { ...deal, collateral: deal.collateral - 1n },
        { ...deal, endPeriod: deal.endPeriod + 1n },
        { ...deal, id: deal.id + 1n },
      ]) {
        await expect(rc.connect(f.watcher).openChallenge(bad, 0n))
          .to.be.revertedWithCustomError(rc, "RetrievalUnknownDeal")
          .withArgs(bad.id);
      }
    });

    it("test_openChallenge_revertsWhenDeadlineWouldReachDealEnd", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal } = await dealWithPiece(f, { periods: 2n });
      const end = await endOf(f, deal);
      // The last accepted opening time: deadline = end - 1.
      const before = await f.helpers.takeSnapshot();
      await f.helpers.time.setNextBlockTimestamp(end - WINDOW - 1n);
      const { deadline } = await openOn(f, deal, 0n);
      expect(deadline).to.equal(end - 1n);
      await before.restore();
      await f.helpers.time.setNextBlockTimestamp(end - WINDOW);
      await expect(rc.connect(f.watcher).openChallenge(deal, 0n))
        .to.be.revertedWithCustomError(rc, "RetrievalDealOver")
        .withArgs(deal.id, deal.endPeriod);
      await f.helpers.time.increaseTo(end + 1n);
      await expect(rc.connect(f.watcher).openChallenge(deal, 0n))
        .to.be.revertedWithCustomError(rc, "RetrievalDealOver")
        .withArgs(deal.id, deal.endPeriod);
    });

    it("test_openChallenge_revertsBadLeafAtLeafCountAndAcceptsTheLastLeaf", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal } = await dealWithPiece(f, { size: 4097 }); // 65 leaves, the last one partial
      await expect(rc.connect(f.watcher).openChallenge(deal, 65n))
        .to.be.revertedWithCustomError(rc, "RetrievalBadLeaf")
        .withArgs(65n, 65n);
      await expect(rc.connect(f.watcher).openChallenge(deal, (1n << 64n) - 1n))
        .to.be.revertedWithCustomError(rc, "RetrievalBadLeaf")
        .withArgs((1n << 64n) - 1n, 65n);
      await expect(rc.connect(f.watcher).openChallenge(deal, 64n)).to.emit(rc, "RetrievalChallengeOpened");
    });

    it("test_openChallenge_revertsAlreadyChallengedUntilResolved", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f);
      const other = f.others[0];
      if (!other) throw new Error("not enough signers");
      const { id } = await openOn(f, deal, 3n);
      await expect(rc.connect(other).openChallenge(deal, 4n))
        .to.be.revertedWithCustomError(rc, "RetrievalAlreadyChallenged")
        .withArgs(deal.id, id);
      // Another deal of the same provider can be challenged meanwhile.
      const second = await dealWithPiece(f);
      await openOn(f, second.deal, 0n, other);
      await answer(f, id, deal, piece, 3n);
      const again = await openOn(f, deal, 4n, other);
      expect(again.id).to.equal(3n);
      expect(await rc.openChallengeOf(deal.id)).to.equal(3n);
    });

    it("test_openChallenge_revertsAfterTheDealEnded", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal } = await dealWithPiece(f);
      await f.market.connect(f.client).terminateDeal(deal);
      await expect(rc.connect(f.watcher).openChallenge(deal, 0n))
        .to.be.revertedWithCustomError(rc, "RetrievalUnknownDeal")
        .withArgs(deal.id);
    });

    it("test_openChallenge_revertsWhilePausedAndWorksAfterUnpause", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal } = await dealWithPiece(f);
      await rc.connect(f.admin).pause();
      await expect(rc.connect(f.watcher).openChallenge(deal, 0n)).to.be.revertedWithCustomError(
        rc,
        "EnforcedPause",
      );
      await rc.connect(f.admin).unpause();
      await expect(rc.connect(f.watcher).openChallenge(deal, 0n)).to.emit(rc, "RetrievalChallengeOpened");
    });
  });

  // ------------------------------------------------------------------ answerChallenge

  describe("answerChallenge", function () {
    it("test_answerChallenge_creditsBondToProviderAndClosesChallenge", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f);
      const { id } = await openOn(f, deal, 42n);
      const tx = answer(f, id, deal, piece, 42n);
      await expect(tx).to.emit(rc, "RetrievalChallengeAnswered").withArgs(id, deal.id, f.provider.address);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [rc, f.provider], [0n, 0n]);
      expect(await rc.balanceOf(f.provider.address)).to.equal(BOND);
      expect((await rc.challengeOf(id)).status).to.equal(Status.Answered);
      expect(await rc.openChallengeOf(deal.id)).to.equal(0n);
      // The bond is paid out to the provider's payee (itself here) by a withdrawal.
      const out = rc.connect(f.provider).withdraw(BOND);
      await expect(out).to.emit(rc, "Withdrawn").withArgs(f.provider.address, f.provider.address, BOND);
      await expect(out).to.changeTokenBalances(f.ethers, f.token, [rc, f.provider], [-BOND, BOND]);
    });

    it("test_answerChallenge_paysWithdrawalsToTheRegistryPayee", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f);
      const payee = f.others[5];
      if (!payee) throw new Error("not enough signers");
      await f.registry.connect(f.provider).updateProvider(payee.address, "http://p", 1n << 40n, 1n);
      const { id } = await openOn(f, deal, 1n);
      await answer(f, id, deal, piece, 1n);
      const tx = rc.connect(f.provider).withdraw(BOND);
      await expect(tx).to.emit(rc, "Withdrawn").withArgs(f.provider.address, payee.address, BOND);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [payee, f.provider], [BOND, 0n]);
    });

    it("test_answerChallenge_acceptsSingleLeafPieceWithEmptyPath", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f, { size: 64 });
      const { id } = await openOn(f, deal, 0n);
      expect(answerOf(piece, 0n).path).to.have.length(0);
      await expect(answer(f, id, deal, piece, 0n)).to.emit(rc, "RetrievalChallengeAnswered");
    });

    it("test_answerChallenge_acceptsZeroPaddedLastLeaf", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f, { size: 4096 + 10 });
      const { id } = await openOn(f, deal, 64n);
      const { leaf } = answerOf(piece, 64n);
      expect(leaf[1]).to.equal("0x" + "00".repeat(32));
      await expect(answer(f, id, deal, piece, 64n)).to.emit(rc, "RetrievalChallengeAnswered");
    });

    it("test_answerChallenge_revertsNotProvider", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f);
      const { id } = await openOn(f, deal, 0n);
      const { leaf, path } = answerOf(piece, 0n);
      for (const who of [f.client, f.watcher, f.provider2]) {
        await expect(rc.connect(who).answerChallenge(id, deal, leaf, path))
          .to.be.revertedWithCustomError(rc, "RetrievalNotProvider")
          .withArgs(id, who.address);
      }
      // Naming another provider in the terms does not help either: they no longer match the deal.
      await expect(
        rc.connect(f.provider2).answerChallenge(id, { ...deal, provider: f.provider2.address }, leaf, path),
      )
        .to.be.revertedWithCustomError(rc, "RetrievalDealMismatch")
        .withArgs(id, deal.id);
    });

    it("test_answerChallenge_revertsWrongLeafData", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f);
      const { id } = await openOn(f, deal, 5n);
      const { leaf, path } = answerOf(piece, 5n);
      const flipped: [string, string] = [
        leaf[0],
        "0x" + (BigInt(leaf[1]) ^ 1n).toString(16).padStart(64, "0"),
      ];
      await expect(rc.connect(f.provider).answerChallenge(id, deal, flipped, path))
        .to.be.revertedWithCustomError(rc, "RetrievalInvalidProof")
        .withArgs(id, 5n);
      const badPath = [...path];
      badPath[3] = "0x" + "ab".repeat(32);
      await expect(rc.connect(f.provider).answerChallenge(id, deal, leaf, badPath))
        .to.be.revertedWithCustomError(rc, "RetrievalInvalidProof")
        .withArgs(id, 5n);
    });

    it("test_answerChallenge_revertsOtherLeafOfTheSamePiece", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f);
      const { id } = await openOn(f, deal, 5n);
      // A valid opening of leaf 4 does not answer a challenge of leaf 5: the index fixes the path's sides.
      const { leaf, path } = answerOf(piece, 4n);
      await expect(rc.connect(f.provider).answerChallenge(id, deal, leaf, path))
        .to.be.revertedWithCustomError(rc, "RetrievalInvalidProof")
        .withArgs(id, 5n);
    });

    it("test_answerChallenge_revertsWrongPathLength", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f); // 64 leaves: depth 6
      const { id } = await openOn(f, deal, 0n);
      const { leaf, path } = answerOf(piece, 0n);
      expect(path).to.have.length(6);
      await expect(rc.connect(f.provider).answerChallenge(id, deal, leaf, path.slice(0, 5)))
        .to.be.revertedWithCustomError(rc, "RetrievalBadProofLength")
        .withArgs(5n, 6n);
      await expect(rc.connect(f.provider).answerChallenge(id, deal, leaf, [...path, path[0] ?? "0x"]))
        .to.be.revertedWithCustomError(rc, "RetrievalBadProofLength")
        .withArgs(7n, 6n);
      // An inner node's children cannot be passed off as a leaf one level up (the length pins the level).
      await expect(rc.connect(f.provider).answerChallenge(id, deal, [path[0] ?? "0x", path[1] ?? "0x"], []))
        .to.be.revertedWithCustomError(rc, "RetrievalBadProofLength")
        .withArgs(0n, 6n);
    });

    it("test_answerChallenge_acceptsAtTheDeadlineAndRevertsAfter", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f);
      const a = await openOn(f, deal, 0n);
      const second = await dealWithPiece(f);
      const b = await openOn(f, second.deal, 0n);
      await f.helpers.time.setNextBlockTimestamp(a.deadline);
      await expect(answer(f, a.id, deal, piece, 0n)).to.emit(rc, "RetrievalChallengeAnswered");
      await passDeadline(f, b.deadline);
      await expect(answer(f, b.id, second.deal, second.piece, 0n))
        .to.be.revertedWithCustomError(rc, "RetrievalWrongTime")
        .withArgs(b.id, b.deadline, b.deadline + 1n);
    });

    it("test_answerChallenge_revertsNotOpenForUnknownOrResolvedChallenges", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f);
      const { leaf, path } = answerOf(piece, 0n);
      await expect(rc.connect(f.provider).answerChallenge(9n, deal, leaf, path))
        .to.be.revertedWithCustomError(rc, "RetrievalNotOpen")
        .withArgs(9n, Status.None);
      const { id } = await openOn(f, deal, 0n);
      await answer(f, id, deal, piece, 0n);
      await expect(answer(f, id, deal, piece, 0n))
        .to.be.revertedWithCustomError(rc, "RetrievalNotOpen")
        .withArgs(id, Status.Answered);
    });

    it("test_answerChallenge_revertsDealMismatchForAnotherDealsTerms", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal } = await dealWithPiece(f);
      const other = await dealWithPiece(f);
      const { id } = await openOn(f, deal, 0n);
      // The other deal's terms are valid in the market, but not the challenged deal's.
      const { leaf, path } = answerOf(other.piece, 0n);
      await expect(rc.connect(f.provider).answerChallenge(id, other.deal, leaf, path))
        .to.be.revertedWithCustomError(rc, "RetrievalDealMismatch")
        .withArgs(id, other.deal.id);
    });

    it("test_answerChallenge_extendedDealIsAnsweredWithItsNewTerms", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f);
      const { id } = await openOn(f, deal, 9n);
      const { extension, signature } = await signedExtension(f, deal);
      await f.market.connect(f.provider).extendDeal(deal, extension, signature);
      await expect(answer(f, id, deal, piece, 9n))
        .to.be.revertedWithCustomError(rc, "RetrievalDealMismatch")
        .withArgs(id, deal.id);
      const extended = withEndPeriod(deal, extension.newEndPeriod);
      await expect(answer(f, id, extended, piece, 9n)).to.emit(rc, "RetrievalChallengeAnswered");
    });

    it("test_answerChallenge_revertsAfterTheDealEnded", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f);
      const { id } = await openOn(f, deal, 0n);
      await f.market.connect(f.client).terminateDeal(deal);
      await expect(answer(f, id, deal, piece, 0n))
        .to.be.revertedWithCustomError(rc, "RetrievalDealMismatch")
        .withArgs(id, deal.id);
    });

    it("test_answerChallenge_isNotBlockedByAPause", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal, piece } = await dealWithPiece(f);
      const { id } = await openOn(f, deal, 0n);
      await rc.connect(f.admin).pause();
      await f.market.connect(f.admin).pause();
      await expect(answer(f, id, deal, piece, 0n)).to.emit(rc, "RetrievalChallengeAnswered");
      await expect(rc.connect(f.provider).withdraw(BOND)).to.emit(rc, "Withdrawn");
    });
  });

  // ------------------------------------------------------------------ enforceChallenge

  describe("enforceChallenge", function () {
    it("test_enforceChallenge_beforeOrAtTheDeadlineReverts", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal } = await dealWithPiece(f);
      const { id, deadline } = await openOn(f, deal, 0n);
      await expect(rc.connect(f.watcher).enforceChallenge(id, deal))
        .to.be.revertedWithCustomError(rc, "RetrievalWrongTime")
        .withArgs(id, deadline, (await f.helpers.time.latest()) + 1);
      await f.helpers.time.setNextBlockTimestamp(deadline);
      await expect(rc.connect(f.watcher).enforceChallenge(id, deal))
        .to.be.revertedWithCustomError(rc, "RetrievalWrongTime")
        .withArgs(id, deadline, deadline);
    });

    it("test_enforceChallenge_revertsNotOpenForUnknownAndAlreadyEnforcedChallenges", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal } = await dealWithPiece(f);
      await expect(rc.enforceChallenge(1n, deal))
        .to.be.revertedWithCustomError(rc, "RetrievalNotOpen")
        .withArgs(1n, Status.None);
      const { id, deadline } = await openOn(f, deal, 0n);
      await passDeadline(f, deadline);
      await rc.connect(f.watcher).enforceChallenge(id, deal);
      await expect(rc.connect(f.watcher).enforceChallenge(id, deal))
        .to.be.revertedWithCustomError(rc, "RetrievalNotOpen")
        .withArgs(id, Status.Failed);
    });

    it("test_enforceChallenge_revertsDealMismatchWhileTheDealIsLive", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deal } = await dealWithPiece(f);
      const other = await dealWithPiece(f);
      const { id, deadline } = await openOn(f, deal, 0n);
      await passDeadline(f, deadline);
      await expect(rc.enforceChallenge(id, other.deal))
        .to.be.revertedWithCustomError(rc, "RetrievalDealMismatch")
        .withArgs(id, other.deal.id);
      await expect(rc.enforceChallenge(id, { ...deal, collateral: 1n }))
        .to.be.revertedWithCustomError(rc, "RetrievalDealMismatch")
        .withArgs(id, deal.id);
      // The extended deal must be named by its new terms.
      const { extension, signature } = await signedExtension(f, deal);
      await f.market.connect(f.provider).extendDeal(deal, extension, signature);
      await expect(rc.enforceChallenge(id, deal))
        .to.be.revertedWithCustomError(rc, "RetrievalDealMismatch")
        .withArgs(id, deal.id);
      await expect(rc.enforceChallenge(id, withEndPeriod(deal, extension.newEndPeriod))).to.emit(
        rc,
        "RetrievalChallengeFailed",
      );
      expect((await rc.challengeOf(id)).status).to.equal(Status.Failed);
      expect(await rc.balanceOf(f.watcher.address)).to.equal(BOND);
      expect(CHALLENGER_FUNDS).to.be.greaterThan(BOND);
    });

    it("test_enforceChallenge_failRetrievalIsOnlyForTheRetrievalRole", async function () {
      const f = fixture();
      const { deal } = await dealWithPiece(f);
      const role = await f.market.RETRIEVAL_ROLE();
      await expect(f.market.connect(f.watcher).failRetrieval(deal, f.watcher.address))
        .to.be.revertedWithCustomError(f.market, "AccessControlUnauthorizedAccount")
        .withArgs(f.watcher.address, role);
      await expect(f.market.connect(f.admin).failRetrieval(deal, f.watcher.address))
        .to.be.revertedWithCustomError(f.market, "AccessControlUnauthorizedAccount")
        .withArgs(f.admin.address, role);
      // A holder of the role is still held to the deal's terms.
      await f.market.connect(f.admin).grantRole(role, f.others[4]?.address ?? "");
      const holder = f.others[4];
      if (!holder) throw new Error("not enough signers");
      await expect(
        f.market.connect(holder).failRetrieval({ ...deal, root: "0x" + "22".repeat(32) }, holder.address),
      )
        .to.be.revertedWithCustomError(f.market, "MarketUnknownDeal")
        .withArgs(deal.id);
      const receipt = await mined(f.market.connect(holder).failRetrieval(deal, f.watcher.address));
      const [ended] = await eventsIn(receipt, f.market, "DealEnded");
      expect(ended?.args.reason).to.equal(4n);
    });
  });

  // ------------------------------------------------------------------ governance

  describe("governance", function () {
    const bounds = [
      { name: "responseWindow", min: 60n, max: 7n * 86_400n },
      { name: "bond", min: 1n, max: 1_000n * USDC },
    ] as const;

    for (const { name, min, max } of bounds) {
      it(`test_setParameters_rejects_${name}_outside_[${min},${max}]_and_accepts_both_bounds`, async function () {
        const f = fixture();
        const rc = f.retrievalChallenges;
        for (const value of [min - 1n, max + 1n]) {
          const params = { responseWindow: WINDOW, bond: BOND, [name]: value };
          await expect(rc.connect(f.admin).setParameters(params))
            .to.be.revertedWithCustomError(rc, "RetrievalParameterOutOfBounds")
            .withArgs(name, value, min, max);
        }
        for (const value of [min, max]) {
          const params = { responseWindow: WINDOW, bond: BOND, [name]: value };
          await expect(rc.connect(f.admin).setParameters(params))
            .to.emit(rc, "ParametersSet")
            .withArgs([params.responseWindow, params.bond]);
          expect([...(await rc.parameters())]).to.deep.equal([params.responseWindow, params.bond]);
        }
      });
    }

    it("test_setParameters_isParameterRoleOnlyAndAppliesToLaterChallengesOnly", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const role = await rc.PARAMETER_ROLE();
      await expect(rc.connect(f.watcher).setParameters({ responseWindow: 60n, bond: 1n }))
        .to.be.revertedWithCustomError(rc, "AccessControlUnauthorizedAccount")
        .withArgs(f.watcher.address, role);
      const { deal, piece } = await dealWithPiece(f);
      const { id, deadline } = await openOn(f, deal, 0n);
      await rc.connect(f.admin).setParameters({ responseWindow: 60n, bond: 2n * BOND });
      const c = await rc.challengeOf(id);
      expect([c.bond, c.deadline]).to.deep.equal([BOND, deadline]);
      await answer(f, id, deal, piece, 0n);
      expect(await rc.balanceOf(f.provider.address)).to.equal(BOND);
      const next = await openOn(f, deal, 0n);
      expect((await rc.challengeOf(next.id)).bond).to.equal(2n * BOND);
      expect(next.deadline).to.equal(BigInt(await f.helpers.time.latest()) + 60n);
    });

    it("test_pause_isPauserRoleOnlyAndEmitsPausedAndUnpaused", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const role = await rc.PAUSER_ROLE();
      await expect(rc.connect(f.watcher).pause())
        .to.be.revertedWithCustomError(rc, "AccessControlUnauthorizedAccount")
        .withArgs(f.watcher.address, role);
      await expect(rc.connect(f.admin).pause()).to.emit(rc, "Paused").withArgs(f.admin.address);
      await expect(rc.connect(f.watcher).unpause())
        .to.be.revertedWithCustomError(rc, "AccessControlUnauthorizedAccount")
        .withArgs(f.watcher.address, role);
      await expect(rc.connect(f.admin).unpause()).to.emit(rc, "Unpaused").withArgs(f.admin.address);
    });

    it("test_pause_neverBlocksDepositWithdrawAnswerOrEnforce", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const a = await dealWithPiece(f);
      const b = await dealWithPiece(f);
      const ca = await openOn(f, a.deal, 0n);
      const cb = await openOn(f, b.deal, 0n);
      await rc.connect(f.admin).pause();
      await f.market.connect(f.admin).pause();
      await expect(answer(f, ca.id, a.deal, a.piece, 0n)).to.emit(rc, "RetrievalChallengeAnswered");
      await passDeadline(f, cb.deadline);
      await expect(rc.enforceChallenge(cb.id, b.deal)).to.emit(rc, "RetrievalChallengeFailed");
      await expect(rc.connect(f.watcher).deposit(f.watcher.address, 1n)).to.emit(rc, "Deposited");
      await expect(rc.connect(f.watcher).withdraw(BOND + 1n))
        .to.emit(rc, "Withdrawn")
        .withArgs(f.watcher.address, f.watcher.address, BOND + 1n);
    });
  });
});
