import { expect } from "chai";
import type { TokenUnits } from "../../offchain/cli/context.js";
import { dataSetJson, dataSetLine, pieceStatusLine } from "../../offchain/cli/format/datasets.js";
import { formatDuration } from "../../offchain/cli/format/units.js";
import { DealEndReason } from "../../offchain/sdk/chain/enums.js";
import { endReason, type DataSetInfo } from "../../offchain/sdk/client/dataSets.js";
import type { PieceStatus } from "../../offchain/sdk/client/fileStatus.js";

const UNITS: TokenUnits = {
  decimals: 6,
  symbol: "tUSD",
  format: (units) => `${units} units`,
  parse: (amount) => BigInt(amount),
  parsePositive: (amount) => BigInt(amount),
};

function dataSet(overrides: Partial<DataSetInfo> = {}): DataSetInfo {
  return {
    id: 7n,
    client: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    provider: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    pricePerTiBMonth: 2_500_000n,
    collateralPerTiB: 10_000_000n,
    noticePeriods: 2n,
    endPeriod: 0n,
    status: "live",
    version: 3n,
    root: `0x${"ab".repeat(32)}`,
    span: 1024n,
    escrow: 500n,
    paid: 20n,
    missedFaults: 0n,
    declaredFaults: 0n,
    ...overrides,
  };
}

describe("strata status formatting", function () {
  it("test_status_everyEndReason: each EndReason has its own label; an unknown value is never shown as expired", function () {
    expect(DealEndReason.names.map((_, i) => endReason(BigInt(i)))).to.deep.equal([
      "expired",
      "client-terminated",
      "provider-terminated",
      "faulty",
      "retrieval-failed",
      "unfunded",
    ]);
    expect(endReason(99n)).to.equal("unknown");
  });

  it("test_status_dataSet: price per TiB-month in tokens, bytes, version, funding as periods and clock time", function () {
    const funding = { available: 400n, withdrawable: 100n, lockup: 300n, fundedSeconds: 7_200n + 1_800n };
    const line = dataSetLine(dataSet(), funding, UNITS, 3600n);
    expect(line).to.contain("data set #7 live");
    expect(line).to.contain("64.0 KiB (version 3)");
    expect(line).to.contain("2500000 units per TiB-month");
    expect(line).to.contain("funded for 2 periods, 2h 30m");
    const ending = dataSetLine(dataSet({ status: "ending", endPeriod: 9n }), null, UNITS, 3600n);
    expect(ending).to.contain("ending (ends at period 9)");
    expect(dataSetJson(dataSet(), null).bytes).to.equal(65_536n);
  });

  it("test_status_piece: a lost piece shows LOST with its reason; durations are periods plus clock time", function () {
    const piece: PieceStatus = {
      piece: 2,
      provider: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
      endpoint: "http://agent.test",
      dataSetId: 7n,
      offset: 16,
      dataSet: dataSet({ status: "finalized" }),
      applied: true,
      proving: { currentPeriod: 12n, nextPeriod: 9n, missedPeriods: 1n, behind: 3n },
      funding: null,
      paidUntil: null,
      reachable: false,
      health: "lost",
      reasons: ["data set 7 has ended"],
    };
    const line = pieceStatusLine(piece, UNITS, 3600n);
    expect(line).to.contain("piece 2 LOST");
    expect(line).to.contain("provider 2 period(s) behind");
    expect(line).to.contain("data set 7 has ended");
    expect(formatDuration(86_400n * 3n + 3600n, 86_400n)).to.equal("3 periods, 3d 1h");
  });
});
