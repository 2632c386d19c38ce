import { expect } from "chai";
import { incentivesSvg } from "../../scripts/incentives/chart.js";
import { incentivesRegion } from "../../scripts/docs/readmeRegions.js";
import { modelGas, parameterSetFromFile, GAS_OPERATIONS } from "../../offchain/incentives/index.js";

const suite = (market: Record<string, number>, compute: Record<string, number>) => ({
  StrataNetwork: {
    provingPeriod: 86_400,
    market: {
      challengeCount: 4,
      maxFaults: 5,
      missedFaultPenaltyBps: 1_000,
      declaredFaultPenaltyBps: 500,
      providerTerminationFeeBps: 2_000,
      faultTerminationBountyBps: 1_000,
      treasuryShareBps: 1_000,
      maxNoticePeriods: 720,
      ...market,
    },
    retrieval: { responseWindow: 21_600, bond: 25_000_000 },
    compute: {
      heartbeatPeriod: 14_400,
      maxMissedHeartbeats: 3,
      missedHeartbeatsPenaltyBps: 5_000,
      noNoticePenaltyBps: 5_000,
      treasuryShareBps: 1_000,
      closeBounty: 10_000_000,
      ...compute,
    },
  },
});

describe("incentives: inputs and outputs", function () {
  it("reads the proof-bond keys of a parameter file in tokens", function () {
    const set = parameterSetFromFile(
      "x",
      suite(
        { missedProofPenalty: 10_000_000, reporterShareBps: 2_000 },
        { missedHeartbeatPenalty: 3_000_000, reporterShareBps: 1_000 },
      ),
    );
    expect(set.storage.missedProofPenalty).to.equal(10);
    expect(set.storage.reporterShareBps).to.equal(2_000);
    expect(set.compute.missedHeartbeatPenalty).to.equal(3);
    expect(set.compute.reporterShareBps).to.equal(1_000);
    expect(set.retrieval.bond).to.equal(25);
    expect(set.storage.challengeEscapeFeeBps).to.equal(10_000);
  });

  it("refuses a file with the former bounty keys or without a reporter share", function () {
    const ok = { missedProofPenalty: 1_000_000, reporterShareBps: 2_000 };
    const hb = { missedHeartbeatPenalty: 100_000, reporterShareBps: 1_000 };
    for (const bad of [
      suite({ missedProofBounty: 1_000_000, reporterShareBps: 2_000 }, hb),
      suite(ok, { missedHeartbeatBounty: 100_000, reporterShareBps: 1_000 }),
      suite({ missedProofPenalty: 1_000_000 }, hb),
      suite(ok, { missedHeartbeatPenalty: 100_000 }),
    ]) {
      expect(() => parameterSetFromFile("old", bad))
        .to.throw()
        .with.property("code", "INVALID_ARGUMENT");
    }
  });

  it("rejects values outside the contracts' bounds and malformed files with INVALID_ARGUMENT", function () {
    const ok = { missedProofPenalty: 1, reporterShareBps: 0 };
    const hb = { missedHeartbeatPenalty: 1, reporterShareBps: 0 };
    for (const bad of [
      suite({ ...ok, challengeCount: 17 }, hb),
      suite({ ...ok, reporterShareBps: 5_001 }, hb),
      suite({ ...ok, declaredFaultPenaltyBps: 1_001 }, hb),
      suite(ok, { ...hb, heartbeatPeriod: 59 }),
      suite({ challengeCount: 4 }, hb),
      { a: suite(ok, hb).StrataNetwork, b: suite(ok, hb).StrataNetwork },
      [],
    ]) {
      expect(() => parameterSetFromFile("bad", bad))
        .to.throw()
        .with.property("code", "INVALID_ARGUMENT");
    }
  });

  it("reads the gas it needs from benchmark rows and names what is missing", function () {
    const rows = Object.values(GAS_OPERATIONS).map((operation, i) => ({ operation, gas: 1_000 + i }));
    expect(modelGas(rows).proof1TiB).to.equal(1_000);
    // A renamed note in parentheses still matches by the name before it.
    const renamed = rows.map((r) =>
      r.operation.startsWith("report a missed proof")
        ? { ...r, operation: "report a missed proof (slash penalty)" }
        : r,
    );
    expect(modelGas(renamed).reportMissedProof).to.equal(1_002);
    expect(() => modelGas(rows.slice(1)))
      .to.throw()
      .with.property("code", "BENCH_RESULT_INVALID");
  });

  it("the chart and the README region show every row, paying rows marked", function () {
    const rows = [
      { parameterSet: "a", deviation: "drop-all", gain: 1, loss: 3, margin: 2 },
      { parameterSet: "a", deviation: "go-dark", gain: 3, loss: 1, margin: -2 },
      { parameterSet: "a", deviation: "share-one-copy", gain: 10, loss: 0, margin: -10 },
      { parameterSet: "a", deviation: "honest", gain: 25, loss: 12, margin: 13 },
    ];
    const svg = incentivesSvg(rows, new Set(["share-one-copy"]), "t");
    for (const r of rows) expect(svg).to.contain(`>${r.deviation}<`);
    expect(svg).to.contain("#d62728"); // go-dark pays
    expect(incentivesSvg(rows, new Set(["share-one-copy"]), "t")).to.equal(svg);
    const region = incentivesRegion(rows);
    expect(region).to.contain("| go-dark | **-2.00** |");
    expect(region).to.contain("share-one-copy (residual)");
    expect(region).to.contain("1 problem(s): go-dark in a.");
  });
});
