import { expect } from "chai";
import {
  dealStatusJson as statusJson,
  dealStatusLine as statusLine,
} from "../../offchain/cli/format/deals.js";
import type { TokenUnits } from "../../offchain/cli/context.js";
import { DealEndReason } from "../../offchain/sdk/chain/enums.js";
import { END_REASONS, endReason, type DealStatus } from "../../offchain/sdk/client/deals.js";

const UNITS: TokenUnits = {
  decimals: 6,
  symbol: "tUSD",
  format: (units) => `${units} units`,
  parse: (amount) => BigInt(amount),
};

/** An ended deal whose DealEnded event carried `reason`. */
function endedDeal(reason: bigint): DealStatus {
  return {
    record: {
      terms: {
        id: 7n,
        client: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        provider: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
        root: `0x${"ab".repeat(32)}`,
        size: 1024n,
        startPeriod: 1n,
        endPeriod: 9n,
        pricePerSecond: 3n,
        collateral: 100n,
      },
      nonce: 1n,
      publishedBlock: 10,
      publishTx: `0x${"01".repeat(32)}`,
      ended: {
        reason: endReason(reason),
        paidToProvider: 0n,
        refundedToClient: 5n,
        compensationToClient: 50n,
        collateralReleased: 0n,
        txHash: `0x${"02".repeat(32)}`,
      },
    },
    phase: "ended",
    currentPeriod: 4n,
    paidSeconds: 0n,
    missedPeriods: 0n,
    declaredFaults: 0n,
    settleable: 0n,
  };
}

describe("strata status formatting", function () {
  it("test_status_retrievalFailed: a deal slashed for a failed retrieval shows as retrieval-failed, not expired", function () {
    const status = endedDeal(DealEndReason.value.RetrievalFailed);
    expect(statusLine(status, UNITS)).to.contain("#7 ended (retrieval-failed)");
    expect((statusJson(status).ended as { reason: string }).reason).to.equal("retrieval-failed");
  });

  it("test_status_everyEndReason: each EndReason has its own label; an unknown value is never shown as expired", function () {
    expect(END_REASONS).to.deep.equal([
      "expired",
      "client-terminated",
      "provider-terminated",
      "too-many-faults",
      "retrieval-failed",
    ]);
    DealEndReason.names.forEach((_, index) => {
      expect(statusLine(endedDeal(BigInt(index)), UNITS)).to.contain(`(${END_REASONS[index] ?? ""})`);
    });
    expect(statusLine(endedDeal(99n), UNITS)).to.contain("(unknown)");
  });
});
