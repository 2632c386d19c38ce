/**
 * The gate (issue 12): CI fails when a shipped parameter set (deploy/parameters/*.json), with the provider agent's
 * default terms and the measured gas, lets a deviation the chain can see pay, or leaves honest storage at a loss.
 * Also: bench/incentives.json is what the model computes now.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import {
  incentiveRows,
  RESIDUAL_DEVIATIONS,
  reportSet,
  violations,
  watcherReportPays,
} from "../../offchain/incentives/index.js";
import { INCENTIVES_JSON, incentivesSchema } from "../../scripts/bench/files.js";
import { defaultScenario, shippedGas, shippedParameterSets } from "../../scripts/incentives/inputs.js";

describe("incentives: shipped parameter sets", function () {
  this.timeout(120_000);
  const gas = shippedGas();
  const scenario = defaultScenario();
  const sets = shippedParameterSets();
  const reports = sets.map((set) => reportSet(set, scenario, gas));

  it("covers every parameter file", function () {
    expect(sets.map((s) => s.name)).to.include.members(["base-sepolia", "local", "sepolia"]);
  });

  it("no deviation the chain can see pays, and honest storage is profitable, in every shipped set", function () {
    expect(reports.flatMap(violations)).to.deep.equal([]);
    for (const r of reports) expect(r.honest.profit, r.parameterSet).to.be.above(0);
  });

  it("an honest lease pays on the network parameter sets (local's 60 s heartbeats are for demonstrations)", function () {
    for (const r of reports.filter((x) => x.parameterSet !== "local")) {
      expect(r.honestLease.profit, r.parameterSet).to.be.above(0);
    }
  });

  it("the agent's default collateral stays at least twice above the largest minimum ratio (D1)", function () {
    for (const r of reports) {
      for (const d of r.deviations.filter((x) => x.market === "storage" && !x.residual)) {
        expect(d.minRatio, `${r.parameterSet} ${d.deviation}`).to.be.a("number");
        expect(r.storageRatio, `${r.parameterSet} ${d.deviation}`).to.be.at.least(
          2 * (d.minRatio ?? Infinity),
        );
      }
      for (const d of r.deviations.filter((x) => x.market === "compute" && !x.residual)) {
        expect(r.leaseRatio, `${r.parameterSet} ${d.deviation}`).to.be.at.least(2 * (d.minRatio ?? Infinity));
      }
    }
  });

  it("watchers are paid more than their gas for reporting a missed period", function () {
    for (const set of sets) expect(watcherReportPays(set, scenario, gas), set.name).to.equal(true);
  });

  it("residual deviations are exactly the ones the chain cannot see", function () {
    for (const r of reports) {
      expect(r.deviations.filter((d) => d.residual).map((d) => d.deviation)).to.have.members([
        ...RESIDUAL_DEVIATIONS,
      ]);
    }
  });

  it("bench/incentives.json is current (run `npm run incentives`)", function () {
    const committed = incentivesSchema.parse(JSON.parse(readFileSync(INCENTIVES_JSON, "utf8")));
    expect(committed).to.deep.equal(reports.flatMap(incentiveRows));
  });
});
