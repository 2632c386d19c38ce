import { expect } from "chai";
import {
  DEFAULT_ENDOWMENT,
  decay,
  quote,
  released,
  series,
  storageCost,
  WAD,
  YEAR_SECONDS,
} from "../../offchain/sdk/durability/endowment.js";
import {
  DEFAULT_SIMULATION,
  exactSurvival,
  prng,
  rewardCap,
  simulate,
  stepChurn,
  stepLossProbability,
} from "../../offchain/durability/simulation.js";

/** |actual − expected| ≤ tolerance (chai's closeTo is replaced by an integer-only one when the ethers matchers load). */
function near(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).to.be.at.most(tolerance);
}

const base = { ...DEFAULT_SIMULATION, config: DEFAULT_ENDOWMENT, actualDeclineBps: 50n, trials: 50 };

describe("Durability model (offchain/durability)", () => {
  it("test_series_matchesTheGeometricSum", () => {
    // Σ_{y<200} 0.995^y = (1 − 0.995^200) / 0.005 ≈ 126.66
    const s = Number(series(50n, 200n)) / 1e18;
    near(s, (1 - Math.pow(0.995, 200)) / 0.005, 1e-6);
    expect(series(0n, 7n)).to.equal(7n * WAD);
    expect(decay(50n, 0n)).to.equal(WAD);
  });

  it("test_quote_isYearCostTimesTheSeriesPlusAllowanceAndFee", () => {
    const span = 1n << 28n;
    // Each of the 16 pieces charged on its own, rounded up as its placement is.
    const yearCost = 16n * storageCost(DEFAULT_ENDOWMENT.referencePricePerTiBMonth, span, YEAR_SECONDS);
    const { principal, fee } = quote(DEFAULT_ENDOWMENT, span);
    const expected = ((Number(yearCost) * Number(series(50n, 200n))) / 1e18) * 1.5;
    near(Number(principal), expected, 2);
    expect(fee).to.equal((principal * 100n) / 10_000n);
  });

  it("test_released_isMonotoneAndReachesThePrincipal", () => {
    const p = 1_000_000_000n;
    let last = 0n;
    for (let y = 0n; y < 205n; y++) {
      const r = released(DEFAULT_ENDOWMENT, p, y);
      expect(r >= last, `year ${y}`).to.equal(true);
      last = r;
    }
    expect(released(DEFAULT_ENDOWMENT, p, 198n)).to.equal(p);
    expect(released(DEFAULT_ENDOWMENT, p, 0n)).to.be.lessThan(p / 50n);
  });

  it("test_exactSurvival_isTheProductOfStepSurvivals", () => {
    const p = stepChurn(0.05, 30);
    near(p, 0.05, 1e-12);
    // n = 2, k = 1: lost when both fail within a step.
    near(stepLossProbability(2, 1, 0.1), 0.01, 1e-12);
    near(exactSurvival(2, 1, 0.1, 30, 30 / 365), 0.99, 1e-9);
    // More parity never lowers survival.
    expect(exactSurvival(20, 10, 0.05, 7, 200)).to.be.greaterThan(exactSurvival(15, 10, 0.05, 7, 200));
  });

  it("test_rewardCap_mirrorsTheContract", () => {
    // 2^30 leaves at 100 tokens per TiB: collateral 6.25 tokens; half of a 20% fee = 0.625 tokens.
    expect(rewardCap(100_000_000n, 1n << 30n, 2_000n)).to.equal(625_000n);
  });

  it("test_simulate_isSeededAndMeetsTheGoalAtFivePercent", () => {
    const a = simulate({ ...base, years: 200, churnPerMonth: 0.05 });
    const b = simulate({ ...base, years: 200, churnPerMonth: 0.05 });
    expect(a.row).to.deep.equal(b.row);
    expect(a.ranOutTrials).to.equal(0);
    expect(a.row.survival).to.be.at.least(0.9999);
    expect(a.row.principalLeftFraction).to.be.greaterThan(0);
    // About 16 pieces × 0.62 losses a year × 200 years.
    expect(a.row.repairs).to.be.within(1_750, 2_250);
    // The capped reward pays the repair gas at 0.01 gwei.
    expect(a.rewardPerRepair).to.be.greaterThan(a.gasPerRepair);
  });

  it("test_simulate_runsOutWhenChurnExceedsTheRepairAllowance", () => {
    const r = simulate({ ...base, years: 200, churnPerMonth: 0.1 });
    expect(r.ranOutTrials).to.equal(base.trials);
    expect(r.row.survival).to.equal(0);
    // Without churn nothing is repaired and a fraction of the principal (the repair allowance) is left.
    const calm = simulate({ ...base, years: 200, churnPerMonth: 0 });
    expect(calm.row.repairs).to.equal(0);
    near(calm.row.principalLeftFraction, 1 / 3, 0.01);
  });

  it("test_prng_isDeterministic", () => {
    const a = prng(1);
    const b = prng(1);
    for (let i = 0; i < 5; i++) expect(a()).to.equal(b());
  });
});
