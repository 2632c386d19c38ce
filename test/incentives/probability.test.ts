import { expect } from "chai";
import { near } from "./fixtures.js";
import {
  binomialAtLeast,
  binomialPmf,
  failureHorizon,
  periodFailure,
  samplingHazard,
  seededRandom,
} from "../../offchain/incentives/index.js";

describe("incentives: probability", function () {
  it("a dropped fraction x fails a period of c byte-uniform challenges with probability 1 − (1 − x)^c (SPEC §7.4 examples)", function () {
    expect(periodFailure(0.01, 4)).to.satisfy(near(0.0394, 1e-4));
    expect(periodFailure(0.05, 4)).to.satisfy(near(0.1855, 1e-4));
    expect(periodFailure(0, 16)).to.equal(0);
    expect(periodFailure(1, 1)).to.equal(1);
  });

  it("binomial tails match hand counts, also where (1 − p)^n underflows", function () {
    expect(binomialAtLeast(4, 0.5, 2)).to.satisfy(near(11 / 16, 1e-12));
    expect(binomialAtLeast(3, 0.2, 3)).to.satisfy(near(0.008, 1e-12));
    expect(binomialAtLeast(3, 0.2, 4)).to.equal(0);
    expect(binomialAtLeast(2_000, 0.001, 1)).to.satisfy(near(1 - 0.999 ** 2_000, 1e-9));
    // (0.5)^5000 underflows to 0: the log path still gives a distribution.
    const pmf = binomialPmf(5_000, 0.5, 5_000);
    expect(pmf.reduce((a, b) => a + b, 0)).to.satisfy(near(1, 1e-9));
    expect(binomialAtLeast(5_000, 0.5, 2_500)).to.satisfy(near(0.5056, 1e-3));
  });

  it("failureHorizon: certain failures end the data sets at the limit; none leave them live", function () {
    const sure = failureHorizon(30, 1, 5);
    expect(sure.livePeriods).to.satisfy(near(5, 1e-12));
    expect(sure.failures).to.satisfy(near(5, 1e-12));
    expect(sure.ended).to.satisfy(near(1, 1e-12));
    expect(sure.endedByFaults).to.satisfy(near(1, 1e-12));
    const never = failureHorizon(30, 0, 5);
    expect(never).to.deep.equal({
      livePeriods: 30,
      failures: 0,
      ended: 0,
      endedByFaults: 0,
      failuresIfSurvived: 0,
    });
    // Sampling alone: live periods are a geometric sum.
    const sampled = failureHorizon(10, 0, 5, 0.2);
    expect(sampled.livePeriods).to.satisfy(near((1 - 0.8 ** 10) / 0.2, 1e-12));
    expect(sampled.ended).to.satisfy(near(1 - 0.8 ** 10, 1e-12));
  });

  it("samplingHazard: absent watchers catch nothing; a present one with many samples catches a full drop", function () {
    expect(samplingHazard(1, 100, 3, 0)).to.equal(0);
    expect(samplingHazard(1, 100, 3, 1)).to.satisfy(near(1, 1e-12));
    expect(samplingHazard(0.1, 4, 3, 1)).to.satisfy(near(1 - Math.exp(-0.004), 1e-12));
  });

  it("seededRandom repeats for a seed, differs across seeds and is uniform", function () {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).to.deep.equal(xs);
    expect(c()).to.not.equal(xs[0]);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).to.satisfy(near(0.5, 0.01));
    expect(Math.min(...xs)).to.be.at.least(0);
    expect(Math.max(...xs)).to.be.below(1);
  });
});
