import { expect } from "chai";
import {
  MONTH_SECONDS,
  TIB_BYTES,
  accruedAmount,
  classCollateral,
  collateralForSpan,
  dataSetBytes,
  dueAmount,
  formatTokens,
  leafSecondsOf,
  monthlyCost,
  monthlyRate,
  parseTokens,
  requiredLockup,
  sizeClass,
} from "../../offchain/sdk/datasets/money.js";
import { expectStrataError } from "./helpers/assertions.js";
import { SeededRandom } from "./helpers/seededRandom.js";

const TIB_LEAVES = 1n << 34n;
const MIB_LEAVES = 1n << 14n;
const PRICE = 2_500_000n; // 2.5 tokens of a 6-decimal stablecoin per TiB-month
const DAY = 86_400n;

describe("data-set money (offchain/sdk/datasets/money.ts)", function () {
  it("charges exactly the price for 1 TiB over one month, and in proportion below it", function () {
    expect(dataSetBytes(TIB_LEAVES)).to.equal(TIB_BYTES);
    expect(accruedAmount(PRICE, leafSecondsOf(TIB_LEAVES, MONTH_SECONDS))).to.equal(PRICE);
    expect(monthlyCost(PRICE, TIB_LEAVES)).to.equal(PRICE);
    expect(monthlyCost(PRICE, 32n << 24n)).to.equal(78_125n); // 32 GiB
    expect(monthlyCost(PRICE, 10n * MIB_LEAVES)).to.equal(23n); // 10 MiB: 23.84 floored
    expect(monthlyRate(PRICE, 10n * MIB_LEAVES)).to.deep.equal({
      numerator: PRICE * 10n * 2n ** 20n,
      denominator: TIB_BYTES,
    });
  });

  it("has no per-second minimum: a 5 MB data set accrues well under one unit a day, and exactly over a year", function () {
    const span = 78_125n; // 5,000,000 bytes
    expect(accruedAmount(2_000_000n, leafSecondsOf(span, DAY))).to.equal(0n);
    const year = leafSecondsOf(span, 365n * DAY);
    expect(accruedAmount(2_000_000n, year)).to.equal((2_000_000n * year * 64n) / (TIB_BYTES * MONTH_SECONDS));
    expect(accruedAmount(2_000_000n, year)).to.equal(110n);
  });

  it("floors every payment to the provider and keeps the remainder the client's, however often it settles", function () {
    const random = new SeededRandom(3);
    for (let trial = 0; trial < 200; trial++) {
      const price = random.bigint(40) + 1n;
      let leafSeconds = 0n;
      let paid = 0n;
      for (let settlement = 0; settlement < 20; settlement++) {
        leafSeconds += leafSecondsOf(random.bigint(30), random.bigint(16));
        const due = dueAmount(price, leafSeconds, paid);
        expect(due >= 0n).to.be.true;
        paid += due;
      }
      const exactNumerator = price * leafSeconds * 64n;
      const denominator = TIB_BYTES * MONTH_SECONDS;
      // paid = floor(exact): never above it, and less than one base unit below it.
      expect(paid * denominator <= exactNumerator).to.be.true;
      expect(exactNumerator - paid * denominator < denominator).to.be.true;
      expect(paid).to.equal(accruedAmount(price, leafSeconds));
    }
  });

  it("charges a 10 MiB and a 32 GiB data set in proportion to their bytes (within the one-unit floor)", function () {
    const random = new SeededRandom(4);
    const small = 10n * MIB_LEAVES;
    const large = 32n << 24n;
    for (let trial = 0; trial < 200; trial++) {
      const price = random.bigint(48) + 1n;
      const seconds = random.bigint(28) + 1n;
      const smallCost = accruedAmount(price, leafSecondsOf(small, seconds));
      const largeCost = accruedAmount(price, leafSecondsOf(large, seconds));
      // smallCost/small and largeCost/large are floors of the same per-leaf amount: |Δ| < 1 unit of the larger set.
      const difference = smallCost * large - largeCost * small;
      expect(difference < large && -difference < large).to.be.true;
    }
    const seconds = 365n * DAY;
    expect(accruedAmount(PRICE, leafSecondsOf(large, seconds))).to.equal(950_520n);
    expect(accruedAmount(PRICE, leafSecondsOf(small, seconds))).to.equal(290n);
  });

  it("refuses a record paid beyond its accrual and negative inputs", function () {
    expectStrataError(() => dueAmount(PRICE, leafSecondsOf(TIB_LEAVES, DAY), PRICE), "INVALID_ARGUMENT");
    expectStrataError(() => accruedAmount(-1n, 1n), "INVALID_ARGUMENT");
    expectStrataError(() => leafSecondsOf(1n, -1n), "INVALID_ARGUMENT");
  });

  it("locks up, rounded up, what the provider earns over the notice plus two periods", function () {
    const random = new SeededRandom(5);
    for (let trial = 0; trial < 200; trial++) {
      const price = random.bigint(40) + 1n;
      const span = random.bigint(36) + 1n;
      const notice = BigInt(random.int(0, 30));
      const period = BigInt(random.int(60, 2 * 86_400));
      const lockup = requiredLockup(price, span, notice, period);
      const earned = accruedAmount(price, leafSecondsOf(span, (notice + 2n) * period));
      expect(lockup >= earned && lockup <= earned + 1n).to.be.true;
    }
    expect(requiredLockup(PRICE, TIB_LEAVES, 28n, DAY)).to.equal(PRICE);
  });

  it("sizes classes as ceil(log2 span) and collateral by class capacity", function () {
    expect(sizeClass(0n)).to.equal(undefined);
    expect(sizeClass(1n)).to.equal(0);
    expect(sizeClass(5n)).to.equal(3);
    expect(sizeClass(TIB_LEAVES)).to.equal(34);
    expect(sizeClass(TIB_LEAVES + 1n)).to.equal(35);
    expectStrataError(() => sizeClass((1n << 47n) + 1n), "INVALID_ARGUMENT");
    expect(classCollateral(10_000_000n, 34)).to.equal(10_000_000n);
    expect(classCollateral(10_000_000n, 35)).to.equal(20_000_000n);
    expect(classCollateral(10_000_000n, 0)).to.equal(0n); // 64 bytes of a TiB price floor to zero
    expect(classCollateral(1n << 40n, 0)).to.equal(64n);
    expect(collateralForSpan(10_000_000n, TIB_LEAVES - 1n)).to.equal(10_000_000n);
    expect(collateralForSpan(10_000_000n, 0n)).to.equal(0n);
    expectStrataError(() => classCollateral(1n, 48), "INVALID_ARGUMENT");
  });

  it("converts between tokens and base units exactly", function () {
    expect(formatTokens(2_500_000n, 6)).to.equal("2.5");
    expect(formatTokens(3_000_000n, 6)).to.equal("3");
    expect(formatTokens(1n, 18)).to.equal("0.000000000000000001");
    expect(parseTokens("2.5", 6)).to.equal(2_500_000n);
    expect(parseTokens(" 0.000001 ", 6)).to.equal(1n);
    expectStrataError(() => parseTokens("0.0000001", 6), "INVALID_ARGUMENT");
    expectStrataError(() => parseTokens("two", 6), "INVALID_ARGUMENT");
  });
});
