import { expect } from "chai";
import {
  computeDeviation,
  honestLease,
  honestStorage,
  margin,
  minimumRatio,
  partialDrop,
  reportSet,
  simulateDrop,
  storageDeviation,
  violations,
} from "../../offchain/incentives/index.js";
import { testGas, testScenario, testSet, near } from "./fixtures.js";

describe("incentives: deviations", function () {
  it("drop-all against leaving with notice, by hand", function () {
    // Notice 2 of 30 periods: storage 2 × 10 × 1.5/30 = 1, fee 20 % of 200 = 40; revenue 2 × 10 × 3/30 = 2,
    // collateral 200, bond penalties 5 × 1.
    const r = storageDeviation("drop-all", testSet(), testScenario(), testGas);
    expect(r.gain).to.satisfy(near(41, 1e-9));
    expect(r.loss).to.satisfy(near(207, 1e-9));
    expect(margin(r)).to.satisfy(near(166, 1e-9));
  });

  it("self-report-bounty: capturing the reporter share and the termination bounty still loses (P1)", function () {
    const r = storageDeviation("self-report-bounty", testSet(), testScenario(), testGas);
    // Skip one proof: gain 20 % of 1; loss 1 + one period's revenue 1 + 10 % of 200.
    expect(r.gain).to.satisfy(near(0.2, 1e-9));
    expect(r.loss).to.satisfy(near(22, 1e-9));
    // Walking away and reporting yourself: 41 + 5 × 0.2 + 10 % of 200 = 62 against 207.
    const exploitable = storageDeviation(
      "self-report-bounty",
      testSet({ storage: { providerTerminationFeeBps: 10_000 } }),
      testScenario(),
      testGas,
    );
    expect(exploitable.strategy).to.contain("walk away");
    expect(exploitable.gain).to.satisfy(near(2 * 10 * 0.05 + 200 + 5 * 0.2 + 20, 1e-9));
    expect(margin(exploitable)).to.be.below(0);
  });

  it("escape-retrieval-challenge: free when the challenge outlives a notice-0 data set and the escape is cheap", function () {
    const scenario = testScenario({ noticePeriods: 0 });
    const closed = storageDeviation("escape-retrieval-challenge", testSet(), scenario, testGas);
    // W = 6 h of a 24 h period: the end comes first with probability 1/4; escaping costs what failing costs.
    expect(closed.gain).to.satisfy(near(0.25 * 20, 1e-9));
    expect(margin(closed)).to.equal(0);
    const old = testSet({ storage: { challengeEscapeFeeBps: 2_000 } });
    const open = storageDeviation("escape-retrieval-challenge", old, scenario, testGas);
    expect(margin(open)).to.satisfy(near(-0.25 * 20 * 0.8, 1e-9));
    // More collateral makes it worse: no ratio stops it.
    expect(minimumRatio("escape-retrieval-challenge", old, scenario, testGas)).to.equal(null);
    // A notice longer than the response window closes the route whatever the fee.
    expect(margin(storageDeviation("escape-retrieval-challenge", old, testScenario(), testGas))).to.equal(0);
  });

  it("the reproduced heartbeat exploit (penalty 25, collateral 50) now leaves the provider worse off (C3)", function () {
    const set = testSet({
      compute: { missedHeartbeatPenalty: 25, reporterShareBps: 5_000, maxMissedHeartbeats: 3 },
    });
    const scenario = testScenario({ leaseCollateral: 50, leasePricePerSecond: 0, leaseNoticeSeconds: 0 });
    const r = computeDeviation("self-report-heartbeats", set, scenario, testGas);
    // The reserve (50 % of 50) cannot be reported away: 25 slashed, half back to the reporter, 25 to the tenant.
    expect(r.gain).to.satisfy(near(12.5, 1e-9));
    expect(r.loss).to.satisfy(near(50, 1e-9));
  });

  it("compute: leaving without notice and going dark cost the reserved penalty; tenant griefing costs the buffer", function () {
    const set = testSet();
    const scenario = testScenario();
    const leave = computeDeviation("leave-without-notice", set, scenario, testGas);
    expect(leave.loss).to.satisfy(near(0.036 + 5, 1e-9));
    expect(leave.gain).to.satisfy(near(0.0288, 1e-9));
    const dark = computeDeviation("go-dark", set, scenario, testGas);
    // 3 misses × 1 (above the reserve of 5), 20 % back; then the larger of the reserve (5) and 50 % of the 7 left.
    expect(dark.loss).to.satisfy(near(0.036 + 3 + 5, 1e-9));
    expect(dark.gain).to.satisfy(near(0.0288 + 0.6, 1e-9));
    const grief = computeDeviation("tenant-griefing", set, scenario, testGas);
    expect(grief.gain).to.satisfy(near(0.036, 1e-9));
    expect(grief.loss).to.equal(1);
  });

  it("residual deviations are marked and quantified, not hidden", function () {
    const share = storageDeviation("share-one-copy", testSet(), testScenario(), testGas);
    expect(share.residual).to.equal(true);
    expect(share.gain).to.satisfy(near(15, 1e-9)); // a month of 10 TiB at 1.5
    const work = computeDeviation("heartbeat-without-work", testSet(), testScenario(), testGas);
    expect(work.residual).to.equal(true);
    expect(work.gain).to.satisfy(near(0.00001 * 0.8 * 86_400, 1e-9));
    expect(storageDeviation("drop-all", testSet(), testScenario(), testGas).residual).to.equal(false);
  });

  it("partial drop: the closed form agrees with the Monte Carlo where it is exact", function () {
    // One data set (no dilution, runs of 1): every ingredient of the closed form is exact.
    const cases = [
      { x: 0.05, d: 0, w: 0.5 },
      { x: 0.3, d: 0, w: 0 },
      { x: 0.02, d: 0, w: 1 },
    ];
    for (const { x, d, w } of cases) {
      const scenario = testScenario({ providerTiB: 1, watcherPresence: w, failuresBeforeChallenge: 1 });
      const closed = partialDrop(testSet(), scenario, testGas, { x, d });
      const mc = simulateDrop(
        testSet(),
        scenario,
        testGas,
        { x, d },
        { trials: 4_000, seed: 3, terminationPresence: 1 },
      );
      const tolerance = 4 * mc.standardError + 1e-6;
      expect(mc.gain - mc.loss, `x=${x} w=${w}`).to.satisfy(near(closed.gain - closed.loss, tolerance));
    }
  });

  it("partial drop, many data sets and dilution: the closed form stays near the Monte Carlo", function () {
    const scenario = testScenario({ failuresBeforeChallenge: 1 });
    const closed = partialDrop(testSet(), scenario, testGas, { x: 0.1, d: 10 });
    const mc = simulateDrop(
      testSet(),
      scenario,
      testGas,
      { x: 0.1, d: 10 },
      { trials: 1_000, seed: 5, terminationPresence: 1 },
    );
    expect(mc.gain - mc.loss).to.satisfy(
      near(closed.gain - closed.loss, 0.1 * Math.abs(closed.gain - closed.loss) + 4 * mc.standardError),
    );
  });

  it("dilution with zero-collateral self-deals pays when nobody samples retrievals and collateral is small", function () {
    const set = testSet();
    const blind = testScenario({ watcherPresence: 0, collateralPerTiB: 0 });
    const r = storageDeviation("dilute-self-deals", set, blind, testGas);
    expect(margin(r)).to.be.below(0);
    // With watchers present, enough collateral stops it.
    const ratio = minimumRatio("dilute-self-deals", set, testScenario(), testGas);
    expect(ratio).to.be.a("number").and.to.be.above(0);
  });

  it("watchers that wait for 3 failed samples in a row (∝ x³) need far more collateral against diluted drops", function () {
    const prompt = minimumRatio(
      "dilute-self-deals",
      testSet(),
      testScenario({ failuresBeforeChallenge: 1 }),
      testGas,
    );
    const late = minimumRatio(
      "dilute-self-deals",
      testSet(),
      testScenario({ failuresBeforeChallenge: 3 }),
      testGas,
    );
    expect(prompt).to.be.a("number");
    expect(late === null || late > 2 * (prompt ?? 0)).to.equal(true);
  });

  it("minimumRatio is where the margin turns non-negative", function () {
    const set = testSet();
    const scenario = testScenario({ storageCostPerTiBMonth: 2.9 });
    const ratio = minimumRatio("dilute-self-deals", set, scenario, testGas);
    expect(ratio).to.be.a("number");
    const escrow = scenario.pricePerTiBMonth * scenario.horizonMonths;
    const at = (r: number) =>
      margin(
        storageDeviation("dilute-self-deals", set, { ...scenario, collateralPerTiB: r * escrow }, testGas),
      );
    expect(at((ratio ?? 0) * 1.01)).to.be.at.least(0);
    expect(at((ratio ?? 0) * 0.95)).to.be.below(0);
  });

  it("a parameter set built to be exploitable is flagged; the honest one is not", function () {
    // 60 per TiB (20 months of revenue), real gas, and watchers that challenge after one failed sample.
    const sound = testScenario({ collateralPerTiB: 60, gwei: 0.01, failuresBeforeChallenge: 1 });
    const honest = reportSet(testSet(), sound, testGas, { trials: 200, seed: 1 });
    expect(violations(honest)).to.deep.equal([]);
    const bad = reportSet(
      testSet({ storage: { providerTerminationFeeBps: 10_000, challengeEscapeFeeBps: 2_000 } }),
      testScenario({ noticePeriods: 0, collateralPerTiB: 60, gwei: 0.01, failuresBeforeChallenge: 1 }),
      testGas,
      { trials: 200, seed: 1 },
    );
    const flagged = violations(bad).join("\n");
    expect(flagged).to.contain("self-report-bounty");
    expect(flagged).to.contain("escape-retrieval-challenge");
    const broke = reportSet(testSet(), testScenario({ pricePerTiBMonth: 1 }), testGas, {
      trials: 0,
      seed: 1,
    });
    expect(violations(broke).join("\n")).to.contain("honest storage loses");
  });

  it("honest participation by hand: revenue − storage − gas − capital", function () {
    const scenario = testScenario({ gwei: 1, ethPrice: 1_000 });
    const h = honestStorage(testSet(), scenario, testGas);
    expect(h.revenue).to.equal(30);
    expect(h.storageCost).to.equal(15);
    // 30 proofs of 10 TiB (225,000 gas), 5 settlements of 10 data sets + withdraw, 10 creations over 12 months.
    const gasUnits = 30 * 225_000 + 5 * (10 * 25_000 + 50_000) + (10 * 230_000) / 12;
    expect(h.gas).to.satisfy(near(gasUnits * 1e-6, 1e-9));
    // Collateral 200 and bond 7 × 1 at 5 %/year for 30 of 365 days.
    expect(h.capital).to.satisfy(near((207 * 0.05 * 30) / 365, 1e-9));
    expect(h.profit).to.satisfy(near(h.revenue - h.storageCost - h.gas - h.capital, 1e-12));
    const lease = honestLease(testSet(), scenario, testGas);
    expect(lease.revenue).to.satisfy(near(25.92, 1e-9));
    expect(lease.runCost).to.satisfy(near(25.92 * 0.8, 1e-9));
  });
});
