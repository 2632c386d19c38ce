// The shared money modules in isolation (contracts/payments): the ledger's "from the balance, else pull exactly"
// funding rule, the exact pull, basis points and the slash split, through contracts/mocks/PaymentsHarness.sol.
import { expect } from "chai";
import type { FeeOnTransferToken, PaymentsHarness } from "../../typechain-types/index.js";
import { deployStorage, USDC, type StorageFixture } from "../helpers/fixture.js";

describe("payments: CreditLedger, ExactPull, BasisPoints, SlashSplit", function () {
  let f: StorageFixture;
  let ledger: PaymentsHarness;
  let fee: FeeOnTransferToken;
  let feeLedger: PaymentsHarness;

  beforeEach(async function () {
    f = await deployStorage();
    ledger = await f.ethers.deployContract("PaymentsHarness", [await f.token.getAddress()]);
    fee = await f.ethers.deployContract("FeeOnTransferToken");
    feeLedger = await f.ethers.deployContract("PaymentsHarness", [await fee.getAddress()]);
  });

  /** Give `ledger` a credit of `amount` for the client, backed by tokens it holds. */
  async function creditClient(amount: bigint): Promise<void> {
    await f.token.mint(await ledger.getAddress(), amount);
    await ledger.credit(f.client.address, amount);
  }

  describe("_charge (fund from the ledger balance, else pull)", function () {
    it("test_charge_takesFromTheBalanceWhenItCovers_withoutMovingTokens", async function () {
      await creditClient(100n * USDC);
      await f.token.mint(f.client.address, 100n * USDC);
      await f.token.connect(f.client).approve(await ledger.getAddress(), 100n * USDC);
      await expect(ledger.charge(f.client.address, 60n * USDC))
        .to.emit(ledger, "Charged")
        .withArgs(f.client.address, 60n * USDC, true);
      expect(await ledger.balanceOf(f.client.address)).to.equal(40n * USDC);
      expect(await f.token.balanceOf(f.client.address)).to.equal(100n * USDC);
      expect(await f.token.balanceOf(await ledger.getAddress())).to.equal(100n * USDC);
    });

    it("test_charge_pullsTheWholeAmountWhenTheBalanceFallsShort_leavingTheBalance", async function () {
      await creditClient(50n * USDC);
      await f.token.mint(f.client.address, 100n * USDC);
      await f.token.connect(f.client).approve(await ledger.getAddress(), 100n * USDC);
      await expect(ledger.charge(f.client.address, 60n * USDC))
        .to.emit(ledger, "Charged")
        .withArgs(f.client.address, 60n * USDC, true);
      // Never a mix of the two sources: the balance stays, the allowance pays everything.
      expect(await ledger.balanceOf(f.client.address)).to.equal(50n * USDC);
      expect(await f.token.balanceOf(f.client.address)).to.equal(40n * USDC);
      expect(await f.token.balanceOf(await ledger.getAddress())).to.equal(110n * USDC);
    });

    it("test_charge_returnsFalseAndMovesNothingWhenNeitherPays", async function () {
      await creditClient(10n * USDC);
      await f.token.mint(f.client.address, 100n * USDC);
      await f.token.connect(f.client).approve(await ledger.getAddress(), 20n * USDC);
      await expect(ledger.charge(f.client.address, 30n * USDC))
        .to.emit(ledger, "Charged")
        .withArgs(f.client.address, 30n * USDC, false);
      expect(await ledger.balanceOf(f.client.address)).to.equal(10n * USDC);
      expect(await f.token.balanceOf(f.client.address)).to.equal(100n * USDC);
    });

    it("test_charge_ofZeroAlwaysSucceedsFromTheBalance", async function () {
      await expect(ledger.charge(f.client.address, 0n))
        .to.emit(ledger, "Charged")
        .withArgs(f.client.address, 0n, true);
    });

    it("test_charge_revertsOnAFeeOnTransferPull_ratherThanReportingUnfunded", async function () {
      await fee.mint(f.client.address, 1_000n);
      await fee.connect(f.client).approve(await feeLedger.getAddress(), 1_000n);
      await expect(feeLedger.charge(f.client.address, 1_000n))
        .to.be.revertedWithCustomError(feeLedger, "PaymentTokenShortfall")
        .withArgs(1_000n, 990n);
    });
  });

  describe("ExactPull", function () {
    it("test_pull_receivesExactlyTheAmount", async function () {
      await f.token.mint(f.client.address, 5n * USDC);
      await f.token.connect(f.client).approve(await ledger.getAddress(), 5n * USDC);
      await ledger.connect(f.client).pull(5n * USDC);
      expect(await f.token.balanceOf(await ledger.getAddress())).to.equal(5n * USDC);
    });

    it("test_pull_revertsWithoutAllowance", async function () {
      await f.token.mint(f.client.address, 5n * USDC);
      await expect(ledger.connect(f.client).pull(5n * USDC)).to.be.revertedWithCustomError(
        f.token,
        "ERC20InsufficientAllowance",
      );
    });

    it("test_pull_rejectsAFeeOnTransferToken", async function () {
      await fee.mint(f.client.address, 10_000n);
      await fee.connect(f.client).approve(await feeLedger.getAddress(), 10_000n);
      await expect(feeLedger.connect(f.client).pull(10_000n))
        .to.be.revertedWithCustomError(feeLedger, "PaymentTokenShortfall")
        .withArgs(10_000n, 9_900n);
      // The same token with its fee off is accepted: the check is on what arrives, not on the token.
      await fee.setFeePercent(0n);
      await feeLedger.connect(f.client).pull(10_000n);
      expect(await fee.balanceOf(await feeLedger.getAddress())).to.equal(10_000n);
    });

    it("test_tryPull_returnsFalseWhenTheTransferFails_butRevertsOnAShortDelivery", async function () {
      await expect(ledger.connect(f.client).tryPull(1n)).to.emit(ledger, "TryPulled").withArgs(false);
      await fee.mint(f.client.address, 1_000n);
      await fee.connect(f.client).approve(await feeLedger.getAddress(), 1_000n);
      await expect(feeLedger.connect(f.client).tryPull(1_000n))
        .to.be.revertedWithCustomError(feeLedger, "PaymentTokenShortfall")
        .withArgs(1_000n, 990n);
    });
  });

  describe("BasisPoints and SlashSplit", function () {
    it("test_bps_isTenThousand", async function () {
      expect(await ledger.bps()).to.equal(10_000n);
    });

    it("test_share_roundsDown", async function () {
      expect(await ledger.share(999n, 3_333n)).to.equal(332n); // 332.9667
      expect(await ledger.share(1n, 9_999n)).to.equal(0n);
      expect(await ledger.share(10_000n, 1n)).to.equal(1n);
      expect(await ledger.share(123n, 10_000n)).to.equal(123n);
      expect(await ledger.share(0n, 5_000n)).to.equal(0n);
    });

    it("test_share_hasNoIntermediateOverflow", async function () {
      const max = 2n ** 256n - 1n;
      expect(await ledger.share(max, 10_000n)).to.equal(max);
      expect(await ledger.share(max, 5_000n)).to.equal(max / 2n);
    });

    it("test_split_givesTheRoundingRemainderToTheHarmedParty", async function () {
      // 999 × 33.33 % = 332.97 each way: both shares round down, the harmed party gets 335.
      expect(await ledger.split(999n, 3_333n, 3_333n)).to.deep.equal([332n, 332n, 335n]);
      expect(await ledger.split(100n * USDC, 1_000n, 1_000n)).to.deep.equal([
        10n * USDC,
        10n * USDC,
        80n * USDC,
      ]);
      expect(await ledger.split(7n, 5_000n, 0n)).to.deep.equal([3n, 0n, 4n]);
      expect(await ledger.split(7n, 0n, 0n)).to.deep.equal([0n, 0n, 7n]);
    });

    it("test_split_revertsWhenTheSharesExceedTheWhole", async function () {
      // A caller breaking the treasuryBps + reporterBps <= 10_000 bound gets a checked-arithmetic panic.
      await expect(ledger.split(100n, 6_000n, 5_000n)).to.be.revertedWithPanic(0x11);
    });
  });
});
