import { expect } from "chai";
import type { ContractTransactionResponse } from "ethers";
import type { IStorageMarket, RepairMandate } from "../../typechain-types/index.js";
import { signMandate } from "../../offchain/sdk/repair/mandate.js";
import { need, proveNext, signState, USDC, UniformTree, type StorageFixture } from "../helpers/fixture.js";
import { failDataSet, mandateSetup, PIECE_SPAN, type MandateFixture } from "./durability.helpers.js";

const PRICE = 2n * USDC;
const COLLATERAL = 100n * USDC;

async function openedTerms(
  mandate: RepairMandate,
  tx: ContractTransactionResponse,
): Promise<{ repairId: bigint; terms: IStorageMarket.CreateDataSetStruct; reward: bigint; escrow: bigint }> {
  const receipt = await tx.wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = mandate.interface.parseLog(log);
    if (parsed?.name === "RepairOpened") {
      const t = parsed.args.terms as IStorageMarket.CreateDataSetStruct;
      return {
        repairId: parsed.args.repairId as bigint,
        terms: {
          client: t.client,
          provider: t.provider,
          pricePerTiBMonth: t.pricePerTiBMonth,
          collateralPerTiB: t.collateralPerTiB,
          noticePeriods: t.noticePeriods,
          nonce: t.nonce,
          deadline: t.deadline,
        },
        reward: parsed.args.reward as bigint,
        escrow: parsed.args.escrow as bigint,
      };
    }
  }
  throw new Error("no RepairOpened event");
}

/** Fail piece 0's data set and open a repair of it onto provider2 by the watcher. */
async function openRepairOfPiece0(m: MandateFixture) {
  const { f, mandate, list } = m;
  const piece = list.pieces[0];
  if (!piece) throw new Error("no piece 0");
  await failDataSet(f, piece.dataSetId, f.provider);
  const tx = await mandate
    .connect(f.watcher)
    .openRepair(piece, list.proof(0), f.provider2.address, PRICE, COLLATERAL);
  return { piece, ...(await openedTerms(mandate, tx)) };
}

/** The provider creates the repair data set from the approved terms (no signature of anybody's key). */
async function createRepairDataSet(f: StorageFixture, terms: IStorageMarket.CreateDataSetStruct) {
  await (await f.market.connect(f.provider2).createDataSet(terms, "0x")).wait();
  return await f.market.dataSetCount();
}

async function applyPiece(m: MandateFixture, id: bigint, tree: UniformTree) {
  const state = { dataSetId: id, version: 1n, root: tree.root, span: tree.span };
  const signed = { state, signer: await m.mandate.getAddress(), signature: "0x" };
  return m.f.market.connect(m.f.provider2).updateDataSets([signed]);
}

describe("RepairMandate: repair without the owner online", () => {
  it("test_repair_rebuildsALostPieceOntoANewProviderAndPaysTheRepairer", async () => {
    const m = await mandateSetup();
    const { f, mandate } = m;
    const tree = need(m.trees[0], "tree");
    const budgetBefore = await mandate.freeBudget();
    const { repairId, terms, reward, escrow } = await openRepairOfPiece0(m);
    expect(reward).to.equal(USDC / 2n);
    expect(await mandate.freeBudget()).to.equal(budgetBefore - reward - escrow);
    const id = await createRepairDataSet(f, terms);
    await expect(mandate.bindRepair(repairId, id)).to.emit(mandate, "RepairBound");
    expect((await f.market.dataSet(id)).escrow).to.equal(escrow);
    expect(await mandate.holderOf(0)).to.equal(id);
    await (await applyPiece(m, id, tree)).wait();
    await expect(mandate.claimRepair(repairId)).to.be.revertedWithCustomError(mandate, "MandateNotProven");
    // provider2 also holds the owner's piece 1.
    const trees = new Map([
      [id, tree],
      [m.list.pieces[1]?.dataSetId ?? 0n, need(m.trees[1], "tree")],
    ]);
    for (let i = 0; i < 3; i++) await (await proveNext(f, f.provider2, trees)).wait();
    await expect(mandate.connect(f.others[0]).claimRepair(repairId))
      .to.emit(mandate, "RepairClaimed")
      .withArgs(repairId, f.watcher.address, reward);
    const before = await f.token.balanceOf(f.watcher.address);
    await (await mandate.connect(f.watcher).withdrawRewards()).wait();
    expect(await f.token.balanceOf(f.watcher.address)).to.equal(before + reward);
    // The new provider is paid for the proven periods from the repair escrow.
    expect(await f.market.balanceOf(f.provider2.address)).to.be.greaterThan(0n);
    // The repaired piece is not lost: no second repair.
    const piece = m.list.pieces[0];
    if (!piece) throw new Error("no piece");
    await expect(
      mandate.openRepair(piece, m.list.proof(0), f.others[1]?.address ?? "", PRICE, COLLATERAL),
    ).to.be.revertedWithCustomError(mandate, "MandatePieceNotLost");
  });

  it("test_openRepair_revertsWhilePieceIsLiveOrNotInTheList", async () => {
    const m = await mandateSetup();
    const { f, mandate, list } = m;
    const piece = list.pieces[0];
    if (!piece) throw new Error("no piece");
    await expect(
      mandate.openRepair(piece, list.proof(0), f.provider2.address, PRICE, COLLATERAL),
    ).to.be.revertedWithCustomError(mandate, "MandatePieceNotLost");
    const forged = { ...piece, pieceRoot: UniformTree.random(PIECE_SPAN).root };
    await expect(
      mandate.openRepair(forged, list.proof(0), f.provider2.address, PRICE, COLLATERAL),
    ).to.be.revertedWithCustomError(mandate, "MandateUnknownPiece");
    await expect(
      mandate.openRepair({ ...piece, index: 1 }, list.proof(0), f.provider2.address, PRICE, COLLATERAL),
    ).to.be.revertedWithCustomError(mandate, "MandateUnknownPiece");
  });

  it("test_openRepair_enforcesTheMandateTerms", async () => {
    const m = await mandateSetup({ excluded: [] });
    const { f, mandate, list } = m;
    const piece = list.pieces[0];
    if (!piece) throw new Error("no piece");
    await failDataSet(f, piece.dataSetId, f.provider);
    const proof = list.proof(0);
    await expect(
      mandate.openRepair(piece, proof, f.provider2.address, 5n * USDC + 1n, COLLATERAL),
    ).to.be.revertedWithCustomError(mandate, "MandatePriceAboveCeiling");
    await expect(
      mandate.openRepair(piece, proof, f.provider2.address, PRICE, COLLATERAL - 1n),
    ).to.be.revertedWithCustomError(mandate, "MandateCollateralBelowFloor");
    // The provider that lost the piece cannot take the repair.
    await expect(mandate.openRepair(piece, proof, f.provider.address, PRICE, COLLATERAL))
      .to.be.revertedWithCustomError(mandate, "MandateProviderExcluded")
      .withArgs(f.provider.address);
    await (await mandate.openRepair(piece, proof, f.provider2.address, PRICE, COLLATERAL)).wait();
    await expect(mandate.openRepair(piece, proof, f.provider2.address, PRICE, COLLATERAL))
      .to.be.revertedWithCustomError(mandate, "MandateRepairPending")
      .withArgs(0, 1n);
  });

  it("test_openRepair_excludedProviderAndClosedMandateAreRefused", async () => {
    const m0 = await mandateSetup();
    const m = await mandateSetup({ excluded: [m0.f.provider2.address] });
    const { f, mandate, list } = m;
    const piece = list.pieces[0];
    if (!piece) throw new Error("no piece");
    await failDataSet(f, piece.dataSetId, f.provider);
    await expect(
      mandate.openRepair(piece, list.proof(0), f.provider2.address, PRICE, COLLATERAL),
    ).to.be.revertedWithCustomError(mandate, "MandateProviderExcluded");
    await expect(mandate.connect(f.watcher).close()).to.be.revertedWithCustomError(
      mandate,
      "MandateNotOwner",
    );
    await (await mandate.connect(f.client).close()).wait();
    await expect(
      mandate.openRepair(piece, list.proof(0), f.others[0]?.address ?? "", PRICE, COLLATERAL),
    ).to.be.revertedWithCustomError(mandate, "MandateIsClosed");
  });

  it("test_repair_walletSignsOnlyTheDigestsItBuilt", async () => {
    const m = await mandateSetup();
    const { f, mandate } = m;
    const { repairId, terms } = await openRepairOfPiece0(m);
    // Other terms (a higher price) are not approved.
    await expect(
      f.market.connect(f.provider2).createDataSet({ ...terms, pricePerTiBMonth: 5n * USDC }, "0x"),
    ).to.be.revertedWithCustomError(f.market, "MarketBadSignature");
    const id = await createRepairDataSet(f, terms);
    // The same approval cannot create a second data set (the nonce is spent).
    await expect(f.market.connect(f.provider2).createDataSet(terms, "0x")).to.be.revertedWithCustomError(
      f.market,
      "MarketNonceUsed",
    );
    await (await mandate.bindRepair(repairId, id)).wait();
    await expect(mandate.bindRepair(repairId, id)).to.be.revertedWithCustomError(
      mandate,
      "MandateWrongStage",
    );
    // Other data than the lost piece's commitment is refused: the wallet never approves that state.
    await expect(applyPiece(m, id, UniformTree.random(PIECE_SPAN))).to.be.revertedWithCustomError(
      f.market,
      "MarketBadSignature",
    );
    // A stranger's signature over a state the wallet did not build is not the wallet's.
    const foreign = await signState(f, f.watcher, {
      dataSetId: id,
      version: 2n,
      root: m.trees[0]?.root ?? "",
      span: PIECE_SPAN,
    });
    await expect(
      f.market.connect(f.provider2).updateDataSets([{ ...foreign, signer: await mandate.getAddress() }]),
    ).to.be.revertedWithCustomError(f.market, "MarketBadSignature");
  });

  it("test_bindRepair_refusesADataSetWithOtherTerms", async () => {
    const m = await mandateSetup();
    const { mandate } = m;
    const { repairId } = await openRepairOfPiece0(m);
    // A data set of the owner's (client = owner, not the wallet) cannot be bound.
    await expect(mandate.bindRepair(repairId, 2n)).to.be.revertedWithCustomError(
      mandate,
      "MandateDataSetMismatch",
    );
    await expect(mandate.bindRepair(repairId, 99n)).to.be.revertedWithCustomError(
      mandate,
      "MandateDataSetMismatch",
    );
  });

  it("test_cancelRepair_afterTheDeadlineReturnsTheReservation", async () => {
    const m = await mandateSetup();
    const { f, mandate } = m;
    const free = await mandate.freeBudget();
    const { repairId, terms } = await openRepairOfPiece0(m);
    await expect(mandate.cancelRepair(repairId)).to.be.revertedWithCustomError(mandate, "MandateNotExpired");
    await f.helpers.time.increaseTo(BigInt(terms.deadline) + 1n);
    await expect(createRepairDataSet(f, terms)).to.be.revertedWithCustomError(f.market, "MarketExpired");
    await expect(mandate.cancelRepair(repairId)).to.emit(mandate, "RepairCancelled");
    expect(await mandate.freeBudget()).to.equal(free);
    expect(await mandate.pendingRepairOf(0)).to.equal(0n);
  });

  it("test_cancelRepair_boundButNeverProvenTerminatesTheDataSet", async () => {
    const m = await mandateSetup();
    const { f, mandate } = m;
    const { repairId, terms } = await openRepairOfPiece0(m);
    const id = await createRepairDataSet(f, terms);
    await (await mandate.bindRepair(repairId, id)).wait();
    const r = await mandate.repair(repairId);
    await f.helpers.time.increaseTo(r.deadline + 1n);
    await expect(mandate.cancelRepair(repairId)).to.emit(f.market, "DataSetTerminated");
    expect((await f.market.dataSet(id)).status).to.equal(2n); // Ending: the piece is lost again
    const piece = m.list.pieces[0];
    if (!piece) throw new Error("no piece");
    // The provider that failed to store it is refused for the next attempt.
    await expect(
      mandate.openRepair(piece, m.list.proof(0), f.provider2.address, PRICE, COLLATERAL),
    ).to.be.revertedWithCustomError(mandate, "MandateProviderExcluded");
  });

  it("test_owner_withdrawsOnlyTheFreeBudgetAndCannotTouchARepairInFlight", async () => {
    const m = await mandateSetup();
    const { f, mandate } = m;
    const { repairId, terms } = await openRepairOfPiece0(m);
    const free = await mandate.freeBudget();
    await expect(mandate.connect(f.client).withdraw(free + 1n)).to.be.revertedWithCustomError(
      mandate,
      "MandateBudgetShort",
    );
    await expect(mandate.connect(f.watcher).withdraw(1n)).to.be.revertedWithCustomError(
      mandate,
      "MandateNotOwner",
    );
    const before = await f.token.balanceOf(f.client.address);
    await (await mandate.connect(f.client).withdraw(free)).wait();
    expect(await f.token.balanceOf(f.client.address)).to.equal(before + free);
    const id = await createRepairDataSet(f, terms);
    await (await mandate.bindRepair(repairId, id)).wait();
    await expect(mandate.connect(f.client).terminateDataSet(id)).to.be.revertedWithCustomError(
      mandate,
      "MandateDataSetInRepair",
    );
  });

  it("test_rewardCap_aRepairNeverPaysMoreThanTheLostProviderForfeited", async () => {
    // A reward far above the cap: the contract pays at most half the termination fee on the piece's collateral.
    const m = await mandateSetup({ repairReward: 1_000n * USDC, budget: 2_000n * USDC });
    const { reward } = await openRepairOfPiece0(m);
    const p = await m.f.market.parameters();
    // Piece of 2^30 leaves at 100 tokens per TiB (2^34 leaves): collateral 100e6 * 2^30 / 2^34.
    const collateral = (100n * USDC * (1n << 30n)) / (1n << 34n);
    expect(reward).to.equal((collateral * p.providerTerminationFeeBps) / 10_000n / 2n);
  });

  it("test_openMandate_checksSignatureNonceAndDeadline", async () => {
    const m = await mandateSetup();
    const { f, factory } = m;
    const terms = { ...m.terms, nonce: m.terms.nonce + 1000n, budget: 0n };
    const bad = await signMandate(f.watcher, f.chainId, await factory.getAddress(), terms);
    await expect(factory.openMandate(terms, bad)).to.be.revertedWithCustomError(
      factory,
      "MandateFactoryBadSignature",
    );
    const good = await signMandate(f.client, f.chainId, await factory.getAddress(), terms);
    await (await factory.openMandate(terms, good)).wait();
    await expect(factory.openMandate(terms, good)).to.be.revertedWithCustomError(
      factory,
      "MandateFactoryNonceUsed",
    );
    const late = { ...terms, nonce: terms.nonce + 1n, deadline: 1n };
    const sig = await signMandate(f.client, f.chainId, await factory.getAddress(), late);
    await expect(factory.openMandate(late, sig)).to.be.revertedWithCustomError(
      factory,
      "MandateFactoryExpired",
    );
    const mandate = await f.ethers.getContractAt(
      "RepairMandate",
      await factory.mandateAddress(terms.owner, terms.nonce),
    );
    await expect(mandate.initialize(terms)).to.be.revertedWithCustomError(mandate, "InvalidInitialization");
  });

  it("test_ownerRoutesCompensation_dataSetsOpenedWithTheWalletPayTheirSlashIntoTheBudget", async () => {
    const m = await mandateSetup();
    const { f, mandate } = m;
    const wallet = await mandate.getAddress();
    // The owner signs creation terms with the wallet as client; the wallet accepts the owner's signature.
    const now = BigInt(await f.helpers.time.latest());
    const terms = {
      client: wallet,
      provider: f.provider.address,
      pricePerTiBMonth: PRICE,
      collateralPerTiB: COLLATERAL,
      noticePeriods: 2n,
      nonce: 7n,
      deadline: now + 3600n,
    };
    const { marketDomain, CREATE_TYPES } = await import("../helpers/fixture.js");
    const sig = await f.client.signTypedData(await marketDomain(f), CREATE_TYPES, terms);
    await (await f.market.connect(f.provider).createDataSet(terms, sig)).wait();
    const id = await f.market.dataSetCount();
    await f.token.mint(f.client.address, 100n * USDC);
    await f.token.connect(f.client).approve(await f.market.getAddress(), 100n * USDC);
    await (await f.market.connect(f.client).topUp(id, 100n * USDC)).wait();
    const tree = UniformTree.random(PIECE_SPAN);
    const st = await signState(f, f.client, { dataSetId: id, version: 1n, root: tree.root, span: tree.span });
    await (await f.market.connect(f.provider).updateDataSets([{ ...st, signer: wallet }])).wait();
    const free = await mandate.freeBudget();
    await failDataSet(f, id, f.provider);
    // Compensation and the escrow refund are credited to the wallet: the budget grows.
    expect(await mandate.freeBudget()).to.be.greaterThan(free + 100n * USDC - 1n);
  });
});

describe("SDK repair: pieceHealth", () => {
  it("test_pieceHealth_followsTheMandatesLostRule", async () => {
    const { pieceHealth } = await import("../../offchain/sdk/repair/lostPieces.js");
    const m = await mandateSetup();
    const { f, mandate, list } = m;
    let health = await pieceHealth(f.market, mandate, list.pieces);
    expect(health.map((h) => h.lost)).to.deep.equal([false, false]);
    const { repairId } = await openRepairOfPiece0(m);
    health = await pieceHealth(f.market, mandate, list.pieces);
    expect(health[0]?.lost).to.equal(true);
    expect(health[0]?.provider).to.equal(f.provider.address);
    expect(health[0]?.pendingRepair).to.equal(repairId);
    expect(health[1]?.lost).to.equal(false);
  });
});
