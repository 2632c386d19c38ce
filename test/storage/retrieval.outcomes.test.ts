import { expect } from "chai";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import { proveNext, type PieceData, type StorageFixture } from "../helpers/fixture.js";
import { argsOf, eventsIn, mined } from "./publishing.helpers.js";
import {
  answer,
  BOND,
  challengers,
  expectBondsConserved,
  openOn,
  passDeadline,
  PROVIDER_TERMINATED,
  RETRIEVAL_FAILED,
  Status,
  useRetrievalFixture,
} from "./retrieval.helpers.js";
import {
  allAccounts,
  bpsOf,
  COLLATERAL,
  escrowOf,
  expectFundsConserved,
  publishDeals,
  type Held,
} from "./streams.helpers.js";

/** The fixture's faultTerminationBountyBps, treasuryShareBps and providerTerminationFeeBps. */
const BOUNTY_BPS = 1_000n;
const TREASURY_BPS = 1_000n;
const TERMINATION_FEE_BPS = 2_000n;

function pieceOf(held: Held, deal: DealTerms): PieceData {
  const piece = held.get(deal.id)?.piece;
  if (!piece) throw new Error(`no piece for deal ${deal.id}`);
  return piece;
}

describe("RetrievalChallenges outcomes and money flows", function () {
  const fixture = useRetrievalFixture();

  /** Two deals of the fixture's provider, proven for their first period, with their pieces. */
  async function twoProvenDeals(f: StorageFixture): Promise<{ a: DealTerms; b: DealTerms; held: Held }> {
    const { deals, held } = await publishDeals(f, [{ periods: 6n }, { periods: 6n, client: f.client2 }]);
    const [a, b] = deals as [DealTerms, DealTerms];
    await proveNext(f, f.provider, held);
    return { a, b, held };
  }

  it("test_enforceChallenge_endsDealAsRetrievalFailedSlashingTheWholeCollateral", async function () {
    const f = fixture();
    const rc = f.retrievalChallenges;
    const { a, b } = await twoProvenDeals(f);
    await f.market.settleDeal(a);
    const enforcer = f.others[1];
    if (!enforcer) throw new Error("not enough signers");
    const stakeBefore = await f.registry.stakeInfo(f.provider.address);
    const paidSecondsBefore = (await f.market.dealState(a.id))[1];
    expect(paidSecondsBefore).to.be.greaterThan(0n);
    const { id, deadline } = await openOn(f, a, 3n);
    const rcTokens = await f.token.balanceOf(await rc.getAddress());
    await passDeadline(f, deadline);
    const receipt = await mined(rc.connect(enforcer).enforceChallenge(id, a));

    const [failed] = await eventsIn(receipt, rc, "RetrievalChallengeFailed");
    expect(failed && argsOf(failed)).to.deep.equal([id, a.id, f.provider.address, enforcer.address]);
    const [slashed] = await eventsIn(receipt, f.market, "Slashed");
    const toReporter = bpsOf(COLLATERAL, BOUNTY_BPS);
    const toTreasury = bpsOf(COLLATERAL, TREASURY_BPS);
    const toHarmed = COLLATERAL - toReporter - toTreasury;
    expect(slashed && argsOf(slashed)).to.deep.equal([
      f.provider.address,
      a.id,
      toHarmed,
      toReporter,
      toTreasury,
    ]);
    const [ended] = await eventsIn(receipt, f.market, "DealEnded");
    if (!ended) throw new Error("no DealEnded");
    const [endedId, reason, paid, refund, compensation, released] = argsOf(ended) as bigint[];
    expect([endedId, reason, compensation, released]).to.deep.equal([a.id, RETRIEVAL_FAILED, toHarmed, 0n]);
    // The escrow splits exactly between what was settled before, the final payment and the refund.
    expect(a.pricePerSecond * paidSecondsBefore + (paid ?? 0n) + (refund ?? 0n)).to.equal(escrowOf(a));

    // Bounty to the challenger (not the enforcer) in the market; bond back to the challenger here.
    expect(await f.market.balanceOf(f.watcher.address)).to.equal(toReporter);
    expect(await f.market.balanceOf(enforcer.address)).to.equal(0n);
    expect(await rc.balanceOf(f.watcher.address)).to.equal(BOND);
    expect(await rc.balanceOf(enforcer.address)).to.equal(0n);
    expect(await f.market.balanceOf(f.treasury.address)).to.equal(toTreasury);
    expect(await f.token.balanceOf(await rc.getAddress())).to.equal(rcTokens);

    const stakeAfter = await f.registry.stakeInfo(f.provider.address);
    expect(stakeBefore.locked - stakeAfter.locked).to.equal(COLLATERAL);
    expect(stakeAfter.free).to.equal(stakeBefore.free);
    expect((await f.market.dealState(a.id))[0]).to.equal(0n);
    expect((await f.market.proofState(f.provider.address)).activeDeals).to.equal(1n);
    expect((await rc.challengeOf(id)).status).to.equal(Status.Failed);
    expect(await rc.openChallengeOf(a.id)).to.equal(0n);
    await expectFundsConserved(f, [b]);
    await expectBondsConserved(f, allAccounts(f));
  });

  it("test_enforceChallenge_voidsWhenTheProviderTerminatedDuringTheChallenge", async function () {
    const f = fixture();
    const rc = f.retrievalChallenges;
    const { a } = await twoProvenDeals(f);
    const { id, deadline } = await openOn(f, a, 0n);
    // The provider escapes the whole-collateral slash by terminating, paying the termination fee.
    const terminated = await mined(f.market.connect(f.provider).terminateDeal(a));
    const [ended] = await eventsIn(terminated, f.market, "DealEnded");
    expect(ended?.args.reason).to.equal(PROVIDER_TERMINATED);
    const [slashed] = await eventsIn(terminated, f.market, "Slashed");
    const fee = bpsOf(COLLATERAL, TERMINATION_FEE_BPS);
    expect(slashed && argsOf(slashed)).to.deep.equal([
      f.provider.address,
      a.id,
      fee - bpsOf(fee, TREASURY_BPS),
      0n,
      bpsOf(fee, TREASURY_BPS),
    ]);
    await passDeadline(f, deadline);
    const receipt = await mined(rc.connect(f.others[1] ?? f.watcher).enforceChallenge(id, a));
    const [voided] = await eventsIn(receipt, rc, "RetrievalChallengeVoided");
    expect(voided && argsOf(voided)).to.deep.equal([id, a.id]);
    expect(await eventsIn(receipt, f.market, "DealEnded")).to.have.length(0);
    expect(await eventsIn(receipt, rc, "RetrievalChallengeFailed")).to.have.length(0);
    expect((await rc.challengeOf(id)).status).to.equal(Status.Voided);
    expect(await rc.balanceOf(f.watcher.address)).to.equal(BOND);
    expect(await f.market.balanceOf(f.watcher.address)).to.equal(0n);
    expect(await rc.openChallengeOf(a.id)).to.equal(0n);
    await expectBondsConserved(f, allAccounts(f));
  });

  it("test_enforceChallenge_voidsWhateverTermsAreGivenOnceTheDealIsGone", async function () {
    const f = fixture();
    const rc = f.retrievalChallenges;
    const { a, b } = await twoProvenDeals(f);
    const { id, deadline } = await openOn(f, a, 0n);
    await f.market.connect(f.client).terminateDeal(a);
    await passDeadline(f, deadline);
    await expect(rc.enforceChallenge(id, b)).to.emit(rc, "RetrievalChallengeVoided").withArgs(id, a.id);
  });

  it("test_enforceChallenge_lateEnforcementAfterTheDealsEndStillSlashesUntilItIsFinalized", async function () {
    const f = fixture();
    const rc = f.retrievalChallenges;
    const { deals, held } = await publishDeals(f, [{ periods: 1n }, { periods: 1n }]);
    const [a, b] = deals as [DealTerms, DealTerms];
    const end = await f.market.periodStart(a.endPeriod);
    await f.helpers.time.setNextBlockTimestamp(end - 700n);
    const ca = await openOn(f, a, 0n);
    const cb = await openOn(f, b, 0n, challengers(f)[1]);
    await proveNext(f, f.provider, held);
    await f.helpers.time.increaseTo(end + 10n);
    // Nobody enforced before the end: the deal is over but not finalized, so the failure still counts.
    await expect(rc.enforceChallenge(ca.id, a)).to.emit(rc, "RetrievalChallengeFailed");
    // Once the deal is finalized, its challenge can only be voided.
    await f.market.finalizeDeal(b);
    await expect(rc.enforceChallenge(cb.id, b)).to.emit(rc, "RetrievalChallengeVoided").withArgs(cb.id, b.id);
    expect(ca.deadline).to.be.lessThan(end);
    await expectBondsConserved(f, allAccounts(f));
  });

  it("test_openChallenge_allowedBeforeTheDealsFirstPeriodAndAnsweredThen", async function () {
    const f = fixture();
    const rc = f.retrievalChallenges;
    const { deals, held } = await publishDeals(f, [{}]);
    const [a] = deals as [DealTerms];
    expect(await f.market.currentPeriod()).to.be.lessThan(a.startPeriod);
    const { id } = await openOn(f, a, 1n);
    await expect(answer(f, id, a, pieceOf(held, a), 1n)).to.emit(rc, "RetrievalChallengeAnswered");
  });

  it("test_conservation_bondsAndCollateralThroughAnswersFailuresAndVoids", async function () {
    const f = fixture();
    const rc = f.retrievalChallenges;
    const [w1, w2] = challengers(f) as [StorageFixture["watcher"], StorageFixture["watcher"]];
    const { deals, held } = await publishDeals(f, [
      { periods: 6n },
      { periods: 6n, client: f.client2 },
      { periods: 6n, pricePerSecond: 3n },
      { periods: 6n, collateral: 0n },
    ]);
    const [d1, d2, d3, d4] = deals as [DealTerms, DealTerms, DealTerms, DealTerms];
    const live = new Set<DealTerms>(deals);
    const check = async () => {
      await expectFundsConserved(f, [...live]);
      await expectBondsConserved(f, allAccounts(f));
    };
    await check();
    await proveNext(f, f.provider, held);
    const c1 = await openOn(f, d1, 0n, w1);
    const c2 = await openOn(f, d2, 10n, w2);
    const c3 = await openOn(f, d3, 20n, w1);
    const c4 = await openOn(f, d4, 30n, w2);
    await check();
    await answer(f, c1.id, d1, pieceOf(held, d1), 0n);
    await check();
    await f.market.connect(f.provider).terminateDeal(d2);
    live.delete(d2);
    await check();
    await passDeadline(f, c4.deadline);
    await rc.enforceChallenge(c3.id, d3);
    live.delete(d3);
    await check();
    // A deal without collateral ends with nothing to slash: no Slashed event, no bounty.
    const r4 = await mined(rc.enforceChallenge(c4.id, d4));
    expect(await eventsIn(r4, f.market, "Slashed")).to.have.length(0);
    live.delete(d4);
    await rc.enforceChallenge(c2.id, d2);
    await check();
    expect((await rc.challengeOf(c1.id)).status).to.equal(Status.Answered);
    expect((await rc.challengeOf(c2.id)).status).to.equal(Status.Voided);
    expect((await rc.challengeOf(c3.id)).status).to.equal(Status.Failed);
    expect((await rc.challengeOf(c4.id)).status).to.equal(Status.Failed);
    // Each bond went exactly one way: c1's to the provider, the others back to their challengers.
    expect(await rc.balanceOf(f.provider.address)).to.equal(BOND);
    expect(await rc.balanceOf(w1.address)).to.equal(BOND);
    expect(await rc.balanceOf(w2.address)).to.equal(2n * BOND);
    expect(await f.market.balanceOf(w1.address)).to.equal(bpsOf(COLLATERAL, BOUNTY_BPS));
    expect(await f.market.balanceOf(w2.address)).to.equal(0n);
    // Everyone withdraws everything from both contracts: nothing is left behind and nothing is missing.
    live.delete(d1);
    await f.market.connect(f.client).terminateDeal(d1);
    for (const account of allAccounts(f)) {
      for (const ledger of [rc, f.market]) {
        const balance = await ledger.balanceOf(account.address);
        if (balance > 0n) await ledger.connect(account).withdraw(balance);
      }
    }
    expect(await f.token.balanceOf(await rc.getAddress())).to.equal(0n);
    const market = await f.market.getAddress();
    expect(await f.token.balanceOf(market)).to.equal(0n);
    expect(await f.registry.slashedOwedTo(market)).to.equal(0n);
  });

  it("test_answerChallenge_repeatedChallengesPayTheProviderOneBondEach", async function () {
    const f = fixture();
    const rc = f.retrievalChallenges;
    const { deals, held } = await publishDeals(f, [{}]);
    const [a] = deals as [DealTerms];
    for (let i = 0n; i < 4n; i++) {
      const { id } = await openOn(f, a, i * 7n);
      await answer(f, id, a, pieceOf(held, a), i * 7n);
    }
    expect(await rc.balanceOf(f.provider.address)).to.equal(4n * BOND);
    expect(await rc.challengeCount()).to.equal(4n);
    await expectBondsConserved(f, allAccounts(f));
  });
});
