// The treasury's share of every compute penalty is kept as a credit in the penalty terms' storage word (docs/SPEC.md
// §15.5): its ledger balance counts the credit, it withdraws exactly its share, and the tenant and the watcher
// withdraw theirs from their own balances.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { toBeHex, zeroPadValue } from "ethers";
import type { ComputeMarket, ReentrantToken } from "../../typechain-types/index.js";
import { defaultComputeParameters, deployComputeMarket, type StorageFixture } from "../helpers/fixture.js";
import {
  atNextBlock,
  bpsOf,
  CloseReason,
  COLLATERAL,
  expectComputeFundsConserved,
  HEARTBEAT,
  mined,
  MISSED_PENALTY,
  NOTICE,
  orderRequest,
  PARAMS,
  PRICE,
  reportSplit,
  STAKE,
  startLease,
  useComputeFixture,
} from "./helpers.js";

const TREASURY_BPS = BigInt(PARAMS.treasuryShareBps);
const NO_NOTICE_BPS = BigInt(PARAMS.noNoticePenaltyBps);
const PENALTY_BPS = BigInt(PARAMS.missedHeartbeatsPenaltyBps);
/** Bit of the penalty terms' word where the treasury's credit starts (above 96 + 3 × 16 bits of parameters). */
const CREDIT_SHIFT = 144n;
const CREDIT_MAX = (1n << 112n) - 1n;

/** Report the lease's closed periods from `reporter` at `ts`. */
async function reportAt(
  f: StorageFixture,
  leaseId: bigint,
  ts: bigint,
  reporter: HardhatEthersSigner = f.watcher,
): Promise<void> {
  await atNextBlock(f, ts);
  await mined(f.compute.connect(reporter).reportMissedHeartbeats(leaseId));
}

/** `account` withdraws `amount` (default: its whole balance); returns the tokens its payout address received. */
async function withdrawAll(
  f: StorageFixture,
  account: HardhatEthersSigner,
  amount?: bigint,
): Promise<bigint> {
  const owed = amount ?? (await f.compute.balanceOf(account.address));
  const before = await f.token.balanceOf(account.address);
  await mined(f.compute.connect(account).withdraw(owed));
  return (await f.token.balanceOf(account.address)) - before;
}

/** The storage slot of the compute market's penalty terms: the word holding the parameters a report reads. */
async function penaltyTermsSlot(f: StorageFixture): Promise<bigint> {
  const market = await f.compute.getAddress();
  const expected =
    BigInt(PARAMS.missedHeartbeatPenalty) |
    (BigInt(PARAMS.reporterShareBps) << 96n) |
    (TREASURY_BPS << 112n) |
    (NO_NOTICE_BPS << 128n);
  for (let slot = 0n; slot < 32n; slot++) {
    const word = BigInt(await f.ethers.provider.getStorage(market, slot));
    if ((word & ((1n << CREDIT_SHIFT) - 1n)) === expected) return slot;
  }
  throw new Error("penalty terms not found in the first 32 slots");
}

describe("ComputeMarket treasury credit", function () {
  const get = useComputeFixture();

  it("test_reportMissedHeartbeats_creditsEveryShareAndEachOwnerWithdrawsExactlyIt", async function () {
    const f = get();
    const a = await startLease(f);
    const b = await startLease(f, { tenant: f.client2, provider: f.provider2 });
    // Two reports on lease a (one period each, under its limit) and one report of two periods on lease b.
    await reportAt(f, a.leaseId, a.startedAt + HEARTBEAT + 1n);
    await reportAt(f, a.leaseId, a.startedAt + 2n * HEARTBEAT + 1n);
    await reportAt(f, b.leaseId, b.startedAt + 2n * HEARTBEAT + 1n);
    const one = reportSplit(MISSED_PENALTY);
    const two = reportSplit(2n * MISSED_PENALTY);
    const toTreasury = 2n * one.toTreasury + two.toTreasury;
    expect(toTreasury).to.be.greaterThan(0n);
    expect(await f.compute.balanceOf(f.treasury.address)).to.equal(toTreasury);
    expect(await f.compute.balanceOf(f.watcher.address)).to.equal(2n * one.toReporter + two.toReporter);
    expect(await f.compute.balanceOf(f.client.address)).to.equal(2n * one.toTenant);
    expect(await f.compute.balanceOf(f.client2.address)).to.equal(two.toTenant);
    await expectComputeFundsConserved(f, { leases: [a.leaseId, b.leaseId] });

    // Each owner withdraws its share, and exactly it: nothing is left, and no one can take more.
    expect(await withdrawAll(f, f.treasury)).to.equal(toTreasury);
    expect(await withdrawAll(f, f.watcher)).to.equal(2n * one.toReporter + two.toReporter);
    expect(await withdrawAll(f, f.client)).to.equal(2n * one.toTenant);
    expect(await withdrawAll(f, f.client2)).to.equal(two.toTenant);
    for (const account of [f.treasury, f.watcher, f.client, f.client2]) {
      expect(await f.compute.balanceOf(account.address)).to.equal(0n);
    }
    await expect(f.compute.connect(f.treasury).withdraw(1n))
      .to.be.revertedWithCustomError(f.compute, "LedgerInsufficientBalance")
      .withArgs(f.treasury.address, 0n, 1n);
    await expectComputeFundsConserved(f, { leases: [a.leaseId, b.leaseId] });

    // A later report credits the treasury afresh.
    const c = await startLease(f);
    await reportAt(f, c.leaseId, c.startedAt + HEARTBEAT + 1n);
    expect(await f.compute.balanceOf(f.treasury.address)).to.equal(one.toTreasury);
    await expectComputeFundsConserved(f, { leases: [a.leaseId, b.leaseId, c.leaseId] });
  });

  it("test_treasuryCredit_partialWithdrawalsLeaveTheRestAndOverdrawingReverts", async function () {
    const f = get();
    const { leaseId, startedAt } = await startLease(f);
    await reportAt(f, leaseId, startedAt + 2n * HEARTBEAT + 1n);
    const share = reportSplit(2n * MISSED_PENALTY).toTreasury;
    await expect(f.compute.connect(f.treasury).withdraw(share + 1n))
      .to.be.revertedWithCustomError(f.compute, "LedgerInsufficientBalance")
      .withArgs(f.treasury.address, share, share + 1n);
    expect(await withdrawAll(f, f.treasury, 1n)).to.equal(1n);
    expect(await f.compute.balanceOf(f.treasury.address)).to.equal(share - 1n);
    await expectComputeFundsConserved(f, { leases: [leaseId] });
    expect(await withdrawAll(f, f.treasury)).to.equal(share - 1n);
    expect(await f.compute.balanceOf(f.treasury.address)).to.equal(0n);
    await expectComputeFundsConserved(f, { leases: [leaseId] });
  });

  it("test_treasuryCredit_addsToWhatTheTreasuryEarnsAsAReporter", async function () {
    const f = get();
    const { leaseId, startedAt } = await startLease(f);
    // The treasury reports the missed period itself: its bounty goes to its balance, its share to the credit.
    await reportAt(f, leaseId, startedAt + HEARTBEAT + 1n, f.treasury);
    const { toTreasury, toReporter } = reportSplit(MISSED_PENALTY);
    expect(await f.compute.balanceOf(f.treasury.address)).to.equal(toTreasury + toReporter);
    await expectComputeFundsConserved(f, { leases: [leaseId] });
    // Withdrawing less than its balance alone leaves the credit; withdrawing the rest takes both.
    expect(await withdrawAll(f, f.treasury, toReporter)).to.equal(toReporter);
    expect(await f.compute.balanceOf(f.treasury.address)).to.equal(toTreasury);
    expect(await withdrawAll(f, f.treasury)).to.equal(toTreasury);
    await expectComputeFundsConserved(f, { leases: [leaseId] });
  });

  it("test_closingPenalties_creditTheTreasuryAndItWithdrawsEveryShare", async function () {
    const f = get();
    // A provider leaving without notice, and a lease closed by the report reaching its limit (3 periods).
    const gone = await startLease(f);
    await atNextBlock(f, gone.startedAt + 10n);
    await mined(f.compute.connect(f.provider).closeLease(gone.leaseId, CloseReason.ProviderWithoutNotice));
    const noNotice = bpsOf(COLLATERAL, NO_NOTICE_BPS);
    const missed = await startLease(f, { tenant: f.client2, provider: f.provider2 });
    await reportAt(f, missed.leaseId, missed.startedAt + 3n * HEARTBEAT + 1n);
    expect((await f.compute.getLease(missed.leaseId)).provider).to.equal(
      "0x0000000000000000000000000000000000000000",
    );
    // The report's penalty (3 periods) is taken first; the close takes the larger of its share of what remains
    // and the reserved no-notice penalty.
    const reported = 3n * MISSED_PENALTY;
    const left = COLLATERAL - reported;
    const reserve = bpsOf(COLLATERAL, NO_NOTICE_BPS);
    const onRemaining = bpsOf(left, PENALTY_BPS);
    const closing = onRemaining > reserve ? onRemaining : reserve;
    const expected =
      bpsOf(noNotice, TREASURY_BPS) + reportSplit(reported).toTreasury + bpsOf(closing, TREASURY_BPS);
    expect(await f.compute.balanceOf(f.treasury.address)).to.equal(expected);
    await expectComputeFundsConserved(f);
    expect(await withdrawAll(f, f.treasury)).to.equal(expected);
    expect(await f.compute.balanceOf(f.treasury.address)).to.equal(0n);
    await expectComputeFundsConserved(f);
  });

  it("test_setTreasury_movesTheCreditToTheOldTreasurysBalance", async function () {
    const f = get();
    const { leaseId, startedAt } = await startLease(f);
    await reportAt(f, leaseId, startedAt + HEARTBEAT + 1n);
    const share = reportSplit(MISSED_PENALTY).toTreasury;
    const next = f.others[0];
    if (!next) throw new Error("no spare signer");
    await mined(f.compute.connect(f.admin).setTreasury(next.address));
    // The old treasury keeps what it was owed; the new one starts from nothing and earns the next share.
    expect(await f.compute.balanceOf(f.treasury.address)).to.equal(share);
    expect(await f.compute.balanceOf(next.address)).to.equal(0n);
    await reportAt(f, leaseId, startedAt + 2n * HEARTBEAT + 1n);
    expect(await f.compute.balanceOf(f.treasury.address)).to.equal(share);
    expect(await f.compute.balanceOf(next.address)).to.equal(share);
    await expectComputeFundsConserved(f, { leases: [leaseId] });
    expect(await withdrawAll(f, f.treasury)).to.equal(share);
    expect(await withdrawAll(f, next)).to.equal(share);
    await expectComputeFundsConserved(f, { leases: [leaseId] });
  });

  it("test_treasuryCredit_fundsAnOrderOfTheTreasuryWithoutAnAllowance", async function () {
    const f = get();
    // A provider leaving without notice: the treasury's share of the penalty is larger than an order's buffer.
    const { leaseId, startedAt } = await startLease(f);
    await atNextBlock(f, startedAt + 10n);
    await mined(f.compute.connect(f.provider).closeLease(leaseId, CloseReason.ProviderWithoutNotice));
    const share = bpsOf(bpsOf(COLLATERAL, NO_NOTICE_BPS), TREASURY_BPS);
    // The treasury has no tokens and no allowance: its deposit is taken from the credit.
    const deposit = BigInt(PARAMS.closeBounty) + 1n;
    expect(share).to.be.greaterThan(deposit);
    expect(await f.token.balanceOf(f.treasury.address)).to.equal(0n);
    await mined(f.compute.connect(f.treasury).createOrder(await orderRequest(f, { deposit })));
    expect(await f.compute.balanceOf(f.treasury.address)).to.equal(share - deposit);
    await expectComputeFundsConserved(f, { orders: [await f.compute.lastOrderId()] });
    expect(await withdrawAll(f, f.treasury)).to.equal(share - deposit);
  });

  it("test_treasuryCredit_fallsBackToTheBalanceWhenTheShareWouldNotFit", async function () {
    const f = get();
    const market = await f.compute.getAddress();
    const slot = await penaltyTermsSlot(f);
    const terms = BigInt(await f.ethers.provider.getStorage(market, slot)) & ((1n << CREDIT_SHIFT) - 1n);
    const share = reportSplit(MISSED_PENALTY).toTreasury;
    const setCredit = async (credit: bigint) =>
      f.helpers.setStorageAt(market, slot, zeroPadValue(toBeHex(terms | (credit << CREDIT_SHIFT)), 32));
    const creditOf = async () => BigInt(await f.ethers.provider.getStorage(market, slot)) >> CREDIT_SHIFT;
    const { leaseId, startedAt } = await startLease(f);

    // A share that exactly fills the credit's 112 bits stays in the credit.
    await setCredit(CREDIT_MAX - share);
    await reportAt(f, leaseId, startedAt + HEARTBEAT + 1n);
    expect(await creditOf()).to.equal(CREDIT_MAX);
    expect(await f.compute.balanceOf(f.treasury.address)).to.equal(CREDIT_MAX);
    // One that would overflow it goes to the treasury's balance, and the ledger balance counts both.
    await reportAt(f, leaseId, startedAt + 2n * HEARTBEAT + 1n);
    expect(await creditOf()).to.equal(CREDIT_MAX);
    expect(await f.compute.balanceOf(f.treasury.address)).to.equal(CREDIT_MAX + share);
    // The parameters sharing the word are untouched by the credit (and the credit by a parameter change).
    expect((await f.compute.parameters()).reporterShareBps).to.equal(BigInt(PARAMS.reporterShareBps));
    await mined(
      f.compute.connect(f.admin).setParameters(defaultComputeParameters({ treasuryShareBps: 2_000n })),
    );
    expect(await creditOf()).to.equal(CREDIT_MAX);
    expect((await f.compute.parameters()).treasuryShareBps).to.equal(2_000n);
  });

  describe("hostile token", function () {
    it("test_reentrantToken_cannotReenterTheTreasurysWithdrawalOfItsCredit", async function () {
      const f = get();
      const token: ReentrantToken = await f.ethers.deployContract("ReentrantToken");
      const registry = await f.ethers.deployContract("ProviderRegistry", [
        await token.getAddress(),
        f.admin.address,
        86_400n,
      ]);
      const compute: ComputeMarket = await deployComputeMarket(f.ethers, {
        registry: await registry.getAddress(),
        token: await token.getAddress(),
        admin: f.admin.address,
        treasury: f.treasury.address,
        params: defaultComputeParameters(),
      });
      const address = await compute.getAddress();
      await registry.grantRole(await registry.MARKET_ROLE(), address);
      await registry.connect(f.provider).register(f.provider.address, "https://p", 1n, 1n);
      await token.mint(f.provider.address, STAKE);
      await token.connect(f.provider).approve(await registry.getAddress(), STAKE);
      await registry.connect(f.provider).stake(f.provider.address, STAKE);
      await token.mint(f.client.address, 1_000n * 1_000_000n);
      await token.connect(f.client).approve(address, 1_000n * 1_000_000n);
      const guard = compute.interface.getError("ReentrancyGuardReentrantCall")?.selector;
      if (!guard) throw new Error("no guard error");

      const lease = async (): Promise<{ id: bigint; startedAt: bigint }> => {
        await mined(compute.connect(f.client).createOrder(await orderRequest(f)));
        const id = await compute.lastOrderId();
        await mined(compute.connect(f.provider).createBid(id, PRICE, COLLATERAL, NOTICE));
        await mined(compute.connect(f.client).acceptBid(id, f.provider.address));
        return { id, startedAt: (await compute.getLease(id)).startedAt };
      };
      const first = await lease();
      const second = await lease();
      await atNextBlock(f, first.startedAt + 2n * HEARTBEAT + 1n);
      await mined(compute.connect(f.watcher).reportMissedHeartbeats(first.id));
      const share = reportSplit(2n * MISSED_PENALTY).toTreasury;
      expect(await compute.balanceOf(f.treasury.address)).to.equal(share);

      // The treasury's withdrawal collects its credit, then transfers; the token calls back into the market, to
      // report the second lease (whose share would land in the credit being spent), then to withdraw again.
      await f.helpers.time.increaseTo(second.startedAt + 2n * HEARTBEAT + 1n);
      const withdrawShare = async (payload: string, expected: bigint): Promise<void> => {
        await token.arm(address, payload);
        const before = await token.balanceOf(f.treasury.address);
        await mined(compute.connect(f.treasury).withdraw(expected));
        expect(await token.lastReentrySucceeded()).to.equal(false);
        expect(await token.lastReentryReturn()).to.equal(guard);
        expect((await token.balanceOf(f.treasury.address)) - before).to.equal(expected);
        expect(await compute.balanceOf(f.treasury.address)).to.equal(0n);
      };
      await withdrawShare(compute.interface.encodeFunctionData("reportMissedHeartbeats", [second.id]), share);
      await mined(compute.connect(f.watcher).reportMissedHeartbeats(second.id));
      expect(await compute.balanceOf(f.treasury.address)).to.equal(share);
      await withdrawShare(compute.interface.encodeFunctionData("withdraw", [1n]), share);
      // The market still holds exactly what it owes: the live leases' escrow and buffers and every balance.
      const assets = (await token.balanceOf(address)) + (await registry.slashedOwedTo(address));
      let owed = 0n;
      for (const id of [first.id, second.id]) {
        const l = await compute.getLease(id);
        owed += l.escrow + l.closeBounty;
      }
      for (const account of [f.client, f.watcher, f.treasury, f.provider]) {
        owed += await compute.balanceOf(account.address);
      }
      expect(assets).to.equal(owed);
    });
  });
});
