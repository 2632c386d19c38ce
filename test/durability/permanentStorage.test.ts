import { expect } from "chai";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  quote as quoteModel,
  released as releasedModel,
  principalFor,
  storageCost,
  DEFAULT_ENDOWMENT,
  MIN_CHARGED_SPAN,
} from "../../offchain/sdk/durability/endowment.js";
import { need, proveNext, USDC, UniformTree } from "../helpers/fixture.js";
import { failDataSet } from "./durability.helpers.js";
import {
  awardedTerms,
  permanentSetup,
  placePiece,
  SPAN,
  storeFile,
  testConfig,
  type PermanentFixture,
} from "./permanent.helpers.js";

const YEAR = 365n * 86_400n;
const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

function modelConfig(p: PermanentFixture) {
  p;
  const c = testConfig();
  return {
    referencePricePerTiBMonth: BigInt(c.referencePricePerTiBMonth),
    declineBps: BigInt(c.declineBps),
    horizonYears: BigInt(c.horizonYears),
    dataShards: BigInt(c.dataShards),
    totalShards: BigInt(c.totalShards),
    repairAllowanceBps: BigInt(c.repairAllowanceBps),
    feeBps: BigInt(c.feeBps),
  };
}

/** Award slot `index` (offers closed), have `provider` create the approved data set, and place the piece. */
async function placeAwarded(
  p: PermanentFixture,
  fileId: bigint,
  index: number,
  provider: HardhatEthersSigner,
) {
  const receipt = await (await p.perm.award(fileId, index)).wait();
  const terms = awardedTerms(p.perm, receipt?.logs ?? []);
  await (await p.f.market.connect(provider).createDataSet(terms, "0x")).wait();
  const id = await p.f.market.dataSetCount();
  const tree = need(p.trees[index], "tree");
  await (await p.perm.place(fileId, index, tree.root, p.list.proof(index), id)).wait();
}

/** Place all three pieces with distinct providers and prove them live. */
async function placeAll(p: PermanentFixture, fileId: bigint) {
  const ids: bigint[] = [];
  for (let i = 0; i < 3; i++) ids.push(await placePiece(p, fileId, i, p.providers[i + 2] ?? p.f.provider));
  const trees = ids.map((id, i) => [id, need(p.trees[i], "tree")] as const);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 3; i++) {
      const who = p.providers[i + 2];
      if (!who) throw new Error("provider");
      await (await proveNext(p.f, who, new Map([need(trees[i], "tree")]))).wait();
    }
  }
  for (let i = 0; i < 3; i++) await (await p.perm.confirm(fileId, i)).wait();
  return ids;
}

describe("PermanentStorage: pay once, keep forever", () => {
  it("test_quote_equalsTheSharedModelToTheBaseUnit", async () => {
    const p = await permanentSetup();
    const [principal, fee] = await p.perm.quote(SPAN);
    const model = quoteModel(modelConfig(p), SPAN);
    expect(principal).to.equal(model.principal);
    expect(fee).to.equal(model.fee);
    // A year later the reference price has declined by the assumption, and so has the quote.
    await p.f.helpers.time.increase(YEAR);
    const [later] = await p.perm.quote(SPAN);
    expect(later).to.equal(quoteModel(modelConfig(p), SPAN, 1n).principal);
    expect(later).to.be.lessThan(principal);
    // The shipped default (k = 10, n = 16) is what the simulation uses.
    expect(DEFAULT_ENDOWMENT.totalShards).to.equal(16n);
  });

  it("test_quote_tinyPiecesAreChargedAsMinChargedSpanAndKeepRoomForRepairs", async () => {
    const p = await permanentSetup();
    const c = testConfig();
    const [tiny] = await p.perm.quote(1n);
    const [minimum] = await p.perm.quote(MIN_CHARGED_SPAN);
    const [above] = await p.perm.quote(MIN_CHARGED_SPAN * 2n);
    expect(tiny).to.equal(minimum);
    expect(tiny).to.equal(quoteModel(modelConfig(p), 1n).principal);
    expect(above).to.be.greaterThan(minimum);
    // Year 0's release covers the file's n placements at the price ceiling and as many re-placements again, for a
    // piece of any span up to the minimum (each escrow rounds up to a whole base unit, however small the piece).
    const ceiling = (BigInt(c.referencePricePerTiBMonth) * BigInt(c.maxPriceBps)) / 10_000n;
    const period = await p.f.market.provingPeriod();
    const seconds = (BigInt(c.noticePeriods) + 2n + BigInt(c.prepaidPeriods)) * period;
    const rel0 = releasedModel(modelConfig(p), tiny, 0n);
    for (const span of [1n, 64n, MIN_CHARGED_SPAN]) {
      const escrow = storageCost(ceiling, span, seconds);
      expect(rel0 >= 2n * BigInt(c.totalShards) * escrow, `span ${span}`).to.equal(true);
    }
    // Charged for its whole file at once on its own span (the quote before MIN_CHARGED_SPAN), a one-leaf file's
    // year-0 release covered its n first placements to the base unit and no re-placement.
    const ownYearCost = storageCost(
      BigInt(c.referencePricePerTiBMonth),
      BigInt(c.totalShards),
      365n * 86_400n,
    );
    const ownRel0 = releasedModel(modelConfig(p), principalFor(ownYearCost, modelConfig(p)), 0n);
    expect(ownRel0 < 2n * BigInt(c.totalShards) * storageCost(ceiling, 1n, seconds)).to.equal(true);
  });

  it("test_award_waitsForTheReleaseToFundTheWinningOffer", async () => {
    // Offers up to 5x the reference price funded 10,000 periods ahead: two placements need more than year 0
    // releases. The second award waits (no data set created for an escrow the file cannot pay) until year 1.
    const p = await permanentSetup({ ...testConfig(), maxPriceBps: 50_000n, prepaidPeriods: 10_000n });
    const fileId = await storeFile(p);
    const [a, b] = [p.providers[2], p.providers[3]];
    if (!a || !b) throw new Error("providers");
    const ceiling = ((5n * USDC) / 2n) * 5n;
    await (await p.perm.connect(a).offer(fileId, 0, ceiling)).wait();
    await (await p.perm.connect(b).offer(fileId, 1, ceiling)).wait();
    await p.f.helpers.time.increase(601n);
    await placeAwarded(p, fileId, 0, a);
    const escrow = storageCost(ceiling, SPAN, (2n + 2n + 10_000n) * (await p.f.market.provingPeriod())); // notice + 2 + prepaid
    const available = (await p.perm.releasedOf(fileId)) - (await p.perm.file(fileId)).spent;
    expect(available < escrow).to.equal(true);
    await expect(p.perm.award(fileId, 1))
      .to.be.revertedWithCustomError(p.perm, "PermanentScheduleShort")
      .withArgs(fileId, available, escrow);
    const waiting = await p.perm.slot(fileId, 1);
    expect([waiting.stage, waiting.provider, waiting.price]).to.deep.equal([0n, b.address, ceiling]);
    // A year later the schedule releases the next year's share: the same offer is awarded and placed.
    await p.f.helpers.time.increase(YEAR);
    await placeAwarded(p, fileId, 1, b);
    expect((await p.perm.slot(fileId, 1)).stage).to.equal(2n); // Placed
  });

  it("test_storePermanent_paysOnceAndRejectsAQuoteAboveTheMaximum", async () => {
    const p = await permanentSetup();
    const [principal, fee] = await p.perm.quote(SPAN);
    await p.f.token.mint(p.uploader.address, principal + fee);
    await p.f.token.connect(p.uploader).approve(await p.perm.getAddress(), principal + fee);
    await expect(
      p.perm.connect(p.uploader).storePermanent(p.list.root, SPAN, principal + fee - 1n),
    ).to.be.revertedWithCustomError(p.perm, "PermanentQuoteAboveMax");
    await expect(
      p.perm.connect(p.uploader).storePermanent(p.list.root, 0n, principal + fee),
    ).to.be.revertedWithCustomError(p.perm, "PermanentBadSpan");
    await expect(p.perm.connect(p.uploader).storePermanent(p.list.root, SPAN, principal + fee))
      .to.emit(p.perm, "FileStored")
      .withArgs(1n, p.uploader.address, p.list.root, SPAN, principal, fee);
    expect(await p.perm.reserve()).to.equal(fee);
    expect(await p.perm.obligations()).to.equal(principal + fee);
    expect(await p.perm.releasedOf(1n)).to.equal(releasedModel(modelConfig(p), principal, 0n));
  });

  it("test_offer_cheapestWinsAndBadOffersAreRefused", async () => {
    const p = await permanentSetup();
    const fileId = await storeFile(p);
    const [a, b, c] = p.providers;
    if (!a || !b || !c) throw new Error("providers");
    const ceiling = ((5n * USDC) / 2n) * 2n;
    await expect(p.perm.connect(a).offer(fileId, 0, ceiling + 1n)).to.be.revertedWithCustomError(
      p.perm,
      "PermanentOfferRejected",
    );
    await (await p.perm.connect(a).offer(fileId, 0, 3n * USDC)).wait();
    await expect(p.perm.connect(b).offer(fileId, 0, 3n * USDC)).to.be.revertedWithCustomError(
      p.perm,
      "PermanentOfferRejected",
    );
    await expect(p.perm.connect(b).offer(fileId, 0, 2n * USDC)).to.emit(p.perm, "OfferMade");
    await expect(p.perm.connect(p.f.watcher).offer(fileId, 0, USDC)).to.be.revertedWithCustomError(
      p.perm,
      "PermanentProviderRefused",
    );
    await expect(p.perm.connect(a).offer(fileId, 3, USDC)).to.be.revertedWithCustomError(
      p.perm,
      "PermanentBadIndex",
    );
    await expect(p.perm.award(fileId, 0)).to.be.revertedWithCustomError(p.perm, "PermanentOfferWindow");
    await p.f.helpers.time.increase(601n);
    await expect(p.perm.connect(c).offer(fileId, 0, USDC)).to.be.revertedWithCustomError(
      p.perm,
      "PermanentOfferWindow",
    );
    await (await p.perm.award(fileId, 0)).wait();
    const s = await p.perm.slot(fileId, 0);
    expect(s.provider).to.equal(b.address);
    expect(s.price).to.equal(2n * USDC);
    // The winner holds a piece of the file: it cannot take a second one.
    await expect(p.perm.connect(b).offer(fileId, 1, USDC)).to.be.revertedWithCustomError(
      p.perm,
      "PermanentProviderRefused",
    );
  });

  it("test_place_onlyTheListedPieceWithTheAwardedTerms", async () => {
    const p = await permanentSetup();
    const fileId = await storeFile(p);
    const provider = p.providers[2];
    if (!provider) throw new Error("provider");
    await (await p.perm.connect(provider).offer(fileId, 0, 2n * USDC)).wait();
    await p.f.helpers.time.increase(601n);
    const receipt = await (await p.perm.award(fileId, 0)).wait();
    const terms = awardedTerms(p.perm, receipt?.logs ?? []);
    await expect(
      p.f.market.connect(provider).createDataSet({ ...terms, pricePerTiBMonth: 4n * USDC }, "0x"),
    ).to.be.revertedWithCustomError(p.f.market, "MarketBadSignature");
    await (await p.f.market.connect(provider).createDataSet(terms, "0x")).wait();
    const id = await p.f.market.dataSetCount();
    const tree = need(p.trees[0], "tree");
    // Another piece's commitment with this index, or a forged one, is not in the list.
    await expect(
      p.perm.place(fileId, 0, need(p.trees[1], "tree").root, p.list.proof(0), id),
    ).to.be.revertedWithCustomError(p.perm, "PermanentUnknownPiece");
    await expect(p.perm.place(fileId, 0, tree.root, p.list.proof(0), 99n)).to.be.revertedWithCustomError(
      p.perm,
      "PermanentDataSetMismatch",
    );
    await (await p.perm.place(fileId, 0, tree.root, p.list.proof(0), id)).wait();
    // Only the state holding exactly the piece is signed by the contract.
    const wrong = { dataSetId: id, version: 1n, root: UniformTree.random(SPAN).root, span: SPAN };
    await expect(
      p.f.market
        .connect(provider)
        .updateDataSets([{ state: wrong, signer: await p.perm.getAddress(), signature: "0x" }]),
    ).to.be.revertedWithCustomError(p.f.market, "MarketBadSignature");
    await expect(p.perm.confirm(fileId, 0)).to.be.revertedWithCustomError(p.perm, "PermanentNotProven");
  });

  it("test_lifecycle_placeRenewLoseRepairAndLose", async () => {
    const p = await permanentSetup();
    const { f, perm } = p;
    const fileId = await storeFile(p);
    const ids = await placeAll(p, fileId);
    let file = await perm.file(fileId);
    expect(file.status).to.equal(2n); // Active
    expect(file.livePieces).to.equal(3n);
    const solv = await perm.solvency(fileId);
    expect(solv.livePieces).to.equal(3n);
    // Offers at 2 tokens, below the 2.5 reference: the principal covers the whole horizon.
    expect(solv.yearsCovered).to.equal(200n);
    await expect(perm.renew(fileId, 0)).to.be.revertedWithCustomError(perm, "PermanentRenewalNotDue");

    // Piece 0's provider fails: the piece is lost, offers reopen, the old provider is barred.
    const lostProvider = p.providers[2];
    if (!lostProvider) throw new Error("provider");
    await failDataSet(f, ids[0] ?? 0n, lostProvider);
    await expect(perm.reportLost(fileId, 1)).to.be.revertedWithCustomError(perm, "PermanentPieceNotLost");
    await expect(perm.reportLost(fileId, 0))
      .to.emit(perm, "PieceLost")
      .withArgs(fileId, 0, lostProvider.address);
    expect((await perm.file(fileId)).livePieces).to.equal(2n);
    await expect(perm.connect(lostProvider).offer(fileId, 0, USDC)).to.be.revertedWithCustomError(
      perm,
      "PermanentProviderRefused",
    );
    // The repair: a new provider places the same commitment and earns the capped reward once proven.
    const id = await placePiece(p, fileId, 0, f.provider);
    for (let i = 0; i < 3; i++) {
      await (await proveNext(f, f.provider, new Map([[id, need(p.trees[0], "tree")]]))).wait();
    }
    await expect(perm.confirm(fileId, 0)).to.emit(perm, "PieceLive");
    const owed = await perm.owed(f.provider.address);
    // Cap: half the termination fee on the piece's collateral (100 tokens/TiB × 1/16 TiB).
    const { providerTerminationFeeBps } = await f.market.parameters();
    const cap = (((100n * USDC) / 16n) * providerTerminationFeeBps) / 10_000n / 2n;
    expect(owed).to.equal(cap < USDC / 2n ? cap : USDC / 2n);
    await (await perm.connect(f.provider).withdrawOwed()).wait();

    // The slashed provider's compensation came to the contract: it is swept into the reserve.
    const reserveBefore = await perm.reserve();
    await (await perm.sweep()).wait();
    expect(await perm.reserve()).to.be.greaterThan(reserveBefore);

    // Two pieces fail: below k = 2, the file is lost and its principal left goes to the reserve.
    const p1 = p.providers[3];
    const p2 = p.providers[4];
    if (!p1 || !p2) throw new Error("providers");
    await failDataSet(f, ids[1] ?? 0n, p1);
    await (await perm.reportLost(fileId, 1)).wait();
    file = await perm.file(fileId);
    const left = file.principal - file.spent;
    const reserve = await perm.reserve();
    await failDataSet(f, ids[2] ?? 0n, p2);
    await expect(perm.reportLost(fileId, 2)).to.emit(perm, "FileLost").withArgs(fileId, left);
    expect(await perm.reserve()).to.equal(reserve + left);
    expect((await perm.solvency(fileId)).principalLeft).to.equal(0n);
    await expect(perm.offer(fileId, 1, USDC)).to.be.revertedWithCustomError(perm, "PermanentWrongFileStatus");
    // The reserve is paid to its recipient; nothing stays behind.
    const before = await f.token.balanceOf(f.treasury.address);
    const all = await perm.reserve();
    await (await perm.releaseReserve()).wait();
    expect(await f.token.balanceOf(f.treasury.address)).to.equal(before + all);
  });

  it("test_renew_topsUpFromTheReleasedPrincipalOnceHalfIsUsed", async () => {
    const p = await permanentSetup();
    const fileId = await storeFile(p);
    const ids = await placeAll(p, fileId);
    const id = ids[0] ?? 0n;
    const provider = p.providers[2];
    if (!provider) throw new Error("provider");
    const tree = need(p.trees[0], "tree");
    // Let half the prepaid periods pass with proofs (the other providers' sets go unproven, that is fine here).
    for (let i = 0; i < 28; i++) await (await proveNext(p.f, provider, new Map([[id, tree]]))).wait();
    await (await p.f.market.settleDataSet(id)).wait();
    const escrowBefore = (await p.f.market.dataSet(id)).escrow;
    const spentBefore = (await p.perm.file(fileId)).spent;
    await expect(p.perm.renew(fileId, 0)).to.emit(p.perm, "PieceRenewed");
    const added = (await p.f.market.dataSet(id)).escrow - escrowBefore;
    expect(added).to.be.greaterThan(0n);
    expect((await p.perm.file(fileId)).spent).to.equal(spentBefore + added);
    await expect(p.perm.renew(fileId, 0)).to.be.revertedWithCustomError(p.perm, "PermanentRenewalNotDue");
  });

  it("test_abandon_refundsAFileThatNeverReachedK", async () => {
    const p = await permanentSetup();
    const fileId = await storeFile(p);
    await expect(p.perm.abandon(fileId)).to.be.revertedWithCustomError(p.perm, "PermanentWrongFileStatus");
    await p.f.helpers.time.increase(30n * 86_400n + 1n);
    const principal = (await p.perm.file(fileId)).principal;
    await expect(p.perm.abandon(fileId)).to.emit(p.perm, "FileAbandoned").withArgs(fileId, principal);
    const before = await p.f.token.balanceOf(p.uploader.address);
    await (await p.perm.connect(p.uploader).withdrawOwed()).wait();
    expect(await p.f.token.balanceOf(p.uploader.address)).to.equal(before + principal);
    await expect(p.perm.connect(p.uploader).withdrawOwed()).to.be.revertedWithCustomError(
      p.perm,
      "PermanentNothingOwed",
    );
  });

  it("test_abandon_afterTheDeadlineReleasesEveryToken", async () => {
    // One piece placed (its escrow funded from the principal) but never proven, the file never reaches k: after
    // the placement deadline the piece is lost (its data set terminated), after 30 days the file is abandoned,
    // and once the data set closed every token has left the contract: refund to the uploader, the escrow's
    // return and the fee to the reserve's recipient.
    const p = await permanentSetup();
    const { f, perm } = p;
    const fileId = await storeFile(p);
    const provider = p.providers[2];
    if (!provider) throw new Error("provider");
    const id = await placePiece(p, fileId, 0, provider);
    const spent = (await perm.file(fileId)).spent;
    expect(spent).to.be.greaterThan(0n);
    await expect(perm.reportLost(fileId, 0)).to.be.revertedWithCustomError(perm, "PermanentPieceNotLost");
    await f.helpers.time.increase(5n * (await f.market.provingPeriod()));
    await expect(perm.reportLost(fileId, 0)).to.emit(perm, "PieceLost");
    await f.helpers.time.increase(30n * 86_400n);
    const file = await perm.file(fileId);
    const refund = file.principal - file.spent;
    await expect(perm.abandon(fileId)).to.emit(perm, "FileAbandoned").withArgs(fileId, refund);
    await expect(perm.abandon(fileId)).to.be.revertedWithCustomError(perm, "PermanentWrongFileStatus");
    const before = await f.token.balanceOf(p.uploader.address);
    await (await perm.connect(p.uploader).withdrawOwed()).wait();
    expect(await f.token.balanceOf(p.uploader.address)).to.equal(before + refund);
    // The terminated data set closes; its unspent escrow comes back to the contract's market balance.
    await (await f.market.finalizeDataSet(id)).wait();
    expect((await f.market.dataSet(id)).status).to.not.equal(1n);
    await (await perm.sweep()).wait();
    const reserve = await perm.reserve();
    const treasuryBefore = await f.token.balanceOf(f.treasury.address);
    await (await perm.releaseReserve()).wait();
    expect(await f.token.balanceOf(f.treasury.address)).to.equal(treasuryBefore + reserve);
    expect(await perm.obligations()).to.equal(0n);
    expect(await f.token.balanceOf(await perm.getAddress())).to.equal(0n);
    expect(await f.market.balanceOf(await perm.getAddress())).to.equal(0n);
  });

  it("test_award_aWinnerHoldingAnotherPieceLapsesAndTheSlotReopens", async () => {
    const p = await permanentSetup();
    const fileId = await storeFile(p);
    const [a, b] = p.providers;
    if (!a || !b) throw new Error("providers");
    // `a` is the best offer on two slots; it wins slot 0 first.
    await (await p.perm.connect(a).offer(fileId, 0, 2n * USDC)).wait();
    await (await p.perm.connect(a).offer(fileId, 1, 2n * USDC)).wait();
    await p.f.helpers.time.increase(601n);
    await (await p.perm.award(fileId, 0)).wait();
    // Its offer on slot 1 lapses at award instead of closing the slot for good.
    await expect(p.perm.award(fileId, 1)).to.emit(p.perm, "OfferLapsed").withArgs(fileId, 1, a.address);
    const s = await p.perm.slot(fileId, 1);
    expect([s.stage, s.provider, s.price, s.deadline]).to.deep.equal([0n, ZERO_ADDRESS, 0n, 0n]);
    await expect(p.perm.connect(b).offer(fileId, 1, 3n * USDC)).to.emit(p.perm, "OfferMade");
    await p.f.helpers.time.increase(601n);
    await expect(p.perm.award(fileId, 1)).to.emit(p.perm, "SlotAwarded");
    expect((await p.perm.slot(fileId, 1)).provider).to.equal(b.address);
  });

  it("test_awardNotPlaced_isLostAndReopens_theLastProviderBarredForOneOfferWindow", async () => {
    const p = await permanentSetup();
    const fileId = await storeFile(p);
    const provider = p.providers[2];
    if (!provider) throw new Error("provider");
    await (await p.perm.connect(provider).offer(fileId, 0, 2n * USDC)).wait();
    await p.f.helpers.time.increase(601n);
    await (await p.perm.award(fileId, 0)).wait();
    await expect(p.perm.reportLost(fileId, 0)).to.be.revertedWithCustomError(p.perm, "PermanentPieceNotLost");
    await p.f.helpers.time.increase(86_401n);
    await expect(p.perm.reportLost(fileId, 0)).to.emit(p.perm, "PieceLost");
    const lostAt = BigInt((await p.f.ethers.provider.getBlock("latest"))?.timestamp ?? 0);
    const slot = await p.perm.slot(fileId, 0);
    expect([slot.stage, slot.lastProvider, slot.barredUntil]).to.deep.equal([
      0n,
      provider.address,
      lostAt + 600n,
    ]);
    // With exactly n providers, the one that lost a piece is the only one holding no other piece of the file: a bar
    // for good would leave the slot open forever. Others come first for one offer window; then it may offer.
    await p.f.helpers.time.increaseTo(slot.barredUntil - 1n); // the next block is the last one barred
    await expect(p.perm.connect(provider).offer(fileId, 0, USDC)).to.be.revertedWithCustomError(
      p.perm,
      "PermanentProviderRefused",
    );
    await p.f.helpers.time.increaseTo(slot.barredUntil); // the refused offer mined nothing: the clock moves here
    await expect(p.perm.connect(provider).offer(fileId, 0, USDC)).to.emit(p.perm, "OfferMade");
  });

  it("test_config_everyFieldIsBoundedInCode", async () => {
    const p = await permanentSetup();
    const base = testConfig();
    const factory = await p.f.ethers.getContractFactory("PermanentStorage");
    const market = await p.f.market.getAddress();
    for (const [name, value] of [
      ["declineBps", 1_001n],
      ["horizonYears", 501n],
      ["horizonYears", 0n],
      ["dataShards", 33n],
      ["totalShards", 2n],
      ["feeBps", 1_001n],
      ["maxPriceBps", 9_999n],
      ["offerWindow", 59n],
      ["prepaidPeriods", 0n],
    ] as const) {
      await expect(
        factory.deploy(market, { ...base, [name]: value }, p.f.treasury.address),
      ).to.be.revertedWithCustomError(p.perm, "PermanentConfigOutOfBounds");
    }
  });
});
