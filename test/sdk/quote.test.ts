import { expect } from "chai";
import { costFor } from "../../offchain/sdk/client/dataSets.js";
import { pieceLayout, quoteStorage, type QuoteOffer } from "../../offchain/sdk/client/quote.js";
import { StrataError } from "../../offchain/sdk/errors.js";

const HOUR = 3600n;
const offer = (price: bigint, notice = 2n): QuoteOffer => ({
  provider: `0x${"1".repeat(40)}`,
  pricePerTiBMonth: price,
  noticePeriods: notice,
});

function failure(fn: () => unknown): StrataError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StrataError) return error;
    throw error;
  }
  throw new Error("expected a StrataError");
}

describe("quoteStorage (the cost of storing, before anything is sent)", function () {
  it("test_pieceLayout: a 1 MiB file in 2 + 1 pieces: ceil((size + tag) / k) aligned to 64, class a power of two", function () {
    const { pieceSize, pieceLeaves } = pieceLayout(1 << 20, 2, 1);
    expect(pieceSize).to.equal(Math.ceil(((1 << 20) + 16) / 2 / 64) * 64);
    expect(pieceLeaves).to.equal(1n << 14n); // 8,200 leaves round up to the 16,384-leaf class
  });

  it("test_quote_sums: per piece lockup (notice + 2 periods) + prepaid = what store's funds check asks", function () {
    const offers = [offer(2_500_000n), offer(3_000_000n, 5n), offer(2_750_000n)];
    const quote = quoteStorage({ fileSize: 1 << 20, k: 2, m: 1, periods: 24n, provingPeriod: HOUR, offers });
    expect(quote.pieces).to.have.length(3);
    for (const [i, p] of quote.pieces.entries()) {
      const o = offers[i];
      if (o === undefined) throw new Error("offer");
      // The exact expression storeFile's funds check uses, per piece.
      expect(p.total).to.equal(
        costFor(o.pricePerTiBMonth, quote.pieceLeaves, (o.noticePeriods + 2n + 24n) * HOUR),
      );
      expect(p.lockup).to.equal(
        costFor(o.pricePerTiBMonth, quote.pieceLeaves, (o.noticePeriods + 2n) * HOUR),
      );
      expect(p.lockup + p.prepaid).to.equal(p.total);
      expect(p.perPeriod).to.equal(costFor(o.pricePerTiBMonth, quote.pieceLeaves, HOUR));
    }
    expect(quote.total).to.equal(quote.pieces.reduce((s, p) => s + p.total, 0n));
    expect(quote.lockup + quote.prepaid).to.equal(quote.total);
    expect(quote.storedBytes).to.equal(3n * quote.pieceLeaves * 64n);
    expect(quote.prepaidSeconds).to.equal(24n * HOUR);
  });

  it("test_quote_grows: more periods, a bigger file or a higher price never cost less", function () {
    const base = { k: 1, m: 0, provingPeriod: HOUR, offers: [offer(2_500_000n)] };
    const small = quoteStorage({ ...base, fileSize: 100_000_000, periods: 24n });
    expect(quoteStorage({ ...base, fileSize: 100_000_000, periods: 48n }).total).to.be.greaterThan(
      small.total,
    );
    expect(quoteStorage({ ...base, fileSize: 1_000_000_000, periods: 24n }).total).to.be.greaterThan(
      small.total,
    );
    expect(
      quoteStorage({ ...base, fileSize: 100_000_000, periods: 24n, offers: [offer(5_000_000n)] }).total,
    ).to.be.greaterThan(small.total);
  });

  it("test_quote_refusals: one offer per piece, at least one period, a real size (INVALID_ARGUMENT)", function () {
    const good = {
      fileSize: 1000,
      k: 2,
      m: 1,
      periods: 1n,
      provingPeriod: HOUR,
      offers: [offer(1n), offer(1n), offer(1n)],
    };
    expect(failure(() => quoteStorage({ ...good, offers: [offer(1n)] })).code).to.equal("INVALID_ARGUMENT");
    expect(failure(() => quoteStorage({ ...good, periods: 0n })).code).to.equal("INVALID_ARGUMENT");
    expect(failure(() => quoteStorage({ ...good, fileSize: -1 })).code).to.equal("INVALID_ARGUMENT");
    expect(failure(() => quoteStorage({ ...good, provingPeriod: 0n })).code).to.equal("INVALID_ARGUMENT");
  });
});
