// The treasury's share of slashes is kept in a word slashes write anyway (MarketLayout.TREASURY_SHIFT) instead of
// its ledger balance: these tests pin that nothing observable changes — balanceOf counts it, the treasury can spend
// all of it (withdrawal and top-up from its ledger balance), a parameter change keeps it, and a treasury change
// pays it to the treasury that earned it. The registry's market word (role bit + slash debt) is pinned as well, and
// so is the seed a report announces in MissedProofsReported (no ChallengeSeedScheduled beside it).
import { expect } from "chai";
import { defaultParameters, USDC, type StorageFixture } from "../helpers/fixture.js";
import { liveDataSet, setup } from "./dataSets.helpers.js";

/** A report of one missed period: returns the treasury's share of it. */
async function reportOne(f: StorageFixture): Promise<bigint> {
  const n = (await f.market.proofState(f.provider.address)).nextPeriod;
  await f.helpers.time.increaseTo(await f.market.periodStart(n + 1n));
  const p = await f.market.parameters();
  const share = (p.missedProofPenalty * p.reporterShareBps) / 10_000n;
  await (await f.market.connect(f.watcher).reportMissedProofs(f.provider.address)).wait();
  return p.missedProofPenalty - share;
}

async function withTreasuryShare(): Promise<{ f: StorageFixture; owed: bigint }> {
  const f = await setup();
  await liveDataSet(f, 1000n, { escrow: 100n * USDC });
  const owed = await reportOne(f);
  expect(owed).to.be.greaterThan(0n);
  return { f, owed };
}

describe("StorageMarket: the treasury's credit", () => {
  it("test_treasuryShare_isCountedByBalanceOfAndAccumulates", async () => {
    const { f, owed } = await withTreasuryShare();
    expect(await f.market.balanceOf(f.treasury.address)).to.equal(owed);
    const again = await reportOne(f);
    expect(await f.market.balanceOf(f.treasury.address)).to.equal(owed + again);
    // Nobody else is credited with it.
    expect(await f.market.balanceOf(f.admin.address)).to.equal(0n);
  });

  it("test_treasury_withdrawsAllOfItsCredit", async () => {
    const { f, owed } = await withTreasuryShare();
    const before = await f.token.balanceOf(f.treasury.address);
    await expect(f.market.connect(f.treasury).withdraw(owed + 1n)).to.be.revertedWithCustomError(
      f.market,
      "LedgerInsufficientBalance",
    );
    await (await f.market.connect(f.treasury).withdraw(owed)).wait();
    expect(await f.token.balanceOf(f.treasury.address)).to.equal(before + owed);
    expect(await f.market.balanceOf(f.treasury.address)).to.equal(0n);
    await expect(f.market.connect(f.treasury).withdraw(1n)).to.be.revertedWithCustomError(
      f.market,
      "LedgerInsufficientBalance",
    );
  });

  it("test_treasury_topsUpFromItsCreditWithoutAnAllowance", async () => {
    const { f, owed } = await withTreasuryShare();
    const { id } = await liveDataSet(f, 1000n, { escrow: 10n * USDC });
    const escrow = (await f.market.dataSet(id)).escrow;
    await (await f.market.connect(f.treasury).topUp(id, owed)).wait();
    expect((await f.market.dataSet(id)).escrow).to.equal(escrow + owed);
    expect(await f.market.balanceOf(f.treasury.address)).to.equal(0n);
  });

  it("test_setParameters_keepsTheTreasuryCredit", async () => {
    const { f, owed } = await withTreasuryShare();
    const params = defaultParameters({ reporterShareBps: 1_234n });
    await (await f.market.connect(f.admin).setParameters(params)).wait();
    expect((await f.market.parameters()).reporterShareBps).to.equal(1_234n);
    expect((await f.market.parameters()).missedProofPenalty).to.equal(params.missedProofPenalty);
    expect(await f.market.balanceOf(f.treasury.address)).to.equal(owed);
    // Pausing writes the parameters' other word: the credit stays too.
    await (await f.market.connect(f.admin).pause()).wait();
    expect(await f.market.balanceOf(f.treasury.address)).to.equal(owed);
  });

  it("test_setTreasury_paysTheCreditToTheTreasuryThatEarnedIt", async () => {
    const { f, owed } = await withTreasuryShare();
    const next = f.others[0];
    if (!next) throw new Error("not enough signers");
    await (await f.market.connect(f.admin).setTreasury(next.address)).wait();
    expect(await f.market.balanceOf(f.treasury.address)).to.equal(owed);
    expect(await f.market.balanceOf(next.address)).to.equal(0n);
    const later = await reportOne(f);
    expect(await f.market.balanceOf(next.address)).to.equal(later);
    expect(await f.market.balanceOf(f.treasury.address)).to.equal(owed);
    await (await f.market.connect(f.treasury).withdraw(owed)).wait();
    await (await f.market.connect(next).withdraw(later)).wait();
  });
});

describe("StorageMarket: the seed a report schedules", () => {
  it("test_reportMissedProofs_announcesTheNewSeedInMissedProofsReportedOnly", async () => {
    const f = await setup();
    await liveDataSet(f, 1000n, { escrow: 100n * USDC });
    const n = (await f.market.proofState(f.provider.address)).nextPeriod;
    await f.helpers.time.increaseTo(await f.market.periodStart(n + 2n));
    const tx = await f.market.connect(f.watcher).reportMissedProofs(f.provider.address);
    const receipt = await tx.wait();
    if (!receipt) throw new Error("no receipt");
    const names = receipt.logs
      .map((l) => f.market.interface.parseLog(l)?.name)
      .filter((x): x is string => x !== undefined);
    expect(names).to.include("MissedProofsReported");
    expect(names).to.not.include("ChallengeSeedScheduled");
    const st = await f.market.proofState(f.provider.address);
    const p = await f.market.parameters();
    expect(st.nextPeriod).to.equal(n + 2n);
    expect(st.seedBlock).to.equal(BigInt(receipt.blockNumber) + p.challengeFinality);
    await expect(tx)
      .to.emit(f.market, "MissedProofsReported")
      .withArgs(f.provider.address, n, 2n, f.watcher.address, (x: bigint) => x > 0n, st.seedBlock);
  });
});

describe("ProviderRegistry: the market word", () => {
  it("test_slash_onlyByAMarketHoldingTheRole_andTheDebtSurvivesARevoke", async () => {
    const f = await setup();
    const role = await f.registry.MARKET_ROLE();
    const stranger = f.others[1];
    if (!stranger) throw new Error("not enough signers");
    await expect(f.registry.connect(stranger).slash(f.provider.address, 0n, 1n))
      .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
      .withArgs(stranger.address, role);
    await expect(f.registry.connect(stranger).collectSlashed())
      .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
      .withArgs(stranger.address, role);
    await (await f.registry.connect(f.admin).grantRole(role, stranger.address)).wait();
    await (await f.registry.connect(stranger).slash(f.provider.address, 0n, 5n)).wait();
    await (await f.registry.connect(stranger).slash(f.provider.address, 0n, 7n)).wait();
    expect(await f.registry.slashedOwedTo(stranger.address)).to.equal(12n);
    await (await f.registry.connect(f.admin).revokeRole(role, stranger.address)).wait();
    expect(await f.registry.slashedOwedTo(stranger.address)).to.equal(12n);
    await expect(
      f.registry.connect(stranger).slash(f.provider.address, 0n, 1n),
    ).to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount");
    await (await f.registry.connect(f.admin).grantRole(role, stranger.address)).wait();
    const before = await f.token.balanceOf(stranger.address);
    await (await f.registry.connect(stranger).collectSlashed()).wait();
    expect(await f.token.balanceOf(stranger.address)).to.equal(before + 12n);
    expect(await f.registry.slashedOwedTo(stranger.address)).to.equal(0n);
    // Still a market after collecting.
    await (await f.registry.connect(stranger).slash(f.provider.address, 0n, 1n)).wait();
    expect(await f.registry.slashedOwedTo(stranger.address)).to.equal(1n);
  });
});
