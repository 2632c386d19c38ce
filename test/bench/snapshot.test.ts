import { expect } from "chai";
import type { GasBudget } from "../../scripts/bench/budgets.js";
import { GAS_BUDGETS, withBudgets } from "../../scripts/bench/budgets.js";
import { sizesFrom, type SizedArtifact } from "../../scripts/bench/contractSizes.js";
import {
  gasRowsSchema,
  gasSnapshotSchema,
  readGasRows,
  readGasSnapshot,
  readSizes,
} from "../../scripts/bench/files.js";
import type { GasRow } from "../../scripts/bench/report.js";
import {
  budgetVerdicts,
  checkSnapshots,
  diffFigures,
  driftTable,
  gasJsonDrift,
  gasSnapshotOf,
  INITCODE_LIMIT,
  limitFailures,
  RUNTIME_LIMIT,
  UPDATE_COMMAND,
  type ContractSize,
  type SizeSnapshot,
  type SnapshotInputs,
} from "../../scripts/bench/snapshot.js";

const rows: GasRow[] = [
  { operation: "publish", gas: 100_000, budget: 150_000 },
  { operation: "prove", gas: 90_000, budget: 120_000, note: "2 challenges" },
  { operation: "first report", gas: 145_000, budget: 80_000 },
  { operation: "terminate", gas: 86_000, budget: null },
];
const budgets: GasBudget[] = [
  { operation: "publish", budget: 150_000, basis: "PRODUCT" },
  { operation: "prove", budget: 120_000, basis: "ours" },
  { operation: "first report", budget: 80_000, basis: "PRODUCT", acceptedOverrun: "one-time storage" },
];

function size(
  contract: string,
  runtimeBytes: number,
  initcodeBytes: number,
  links: string[] = [],
): ContractSize {
  return {
    contract,
    source: `contracts/${contract}.sol`,
    kind: "contract",
    runtimeBytes,
    runtimeMargin: RUNTIME_LIMIT - runtimeBytes,
    initcodeBytes,
    initcodeMargin: INITCODE_LIMIT - initcodeBytes,
    linkedLibraries: links,
    linkedInto: [],
  };
}

function sizes(...contracts: ContractSize[]): SizeSnapshot {
  return { limits: { runtimeBytes: RUNTIME_LIMIT, initcodeBytes: INITCODE_LIMIT }, contracts };
}

function inputs(overrides: Partial<SnapshotInputs> = {}): SnapshotInputs {
  const s = sizes(size("StorageMarket", 24_197, 27_394, ["ProvingLib"]));
  return {
    gasSnapshot: gasSnapshotOf(rows),
    gasJson: rows,
    gasNow: rows,
    budgets,
    sizeSnapshot: s,
    sizesNow: s,
    ...overrides,
  };
}

describe("gas and size snapshots (scripts/bench/snapshot.ts)", () => {
  describe("diffFigures", () => {
    it("lists changed and added figures in the current order, then removed ones", () => {
      const drift = diffFigures({ a: 1, b: 2, gone: 3 }, { b: 5, a: 1, fresh: 7 });
      expect(drift).to.deep.equal([
        { item: "b", snapshot: 2, now: 5 },
        { item: "fresh", snapshot: null, now: 7 },
        { item: "gone", snapshot: 3, now: null },
      ]);
    });

    it("finds nothing when the figures are equal, and treats a key named like an Object method as data", () => {
      expect(diffFigures({ a: 1 }, { a: 1 })).to.deep.equal([]);
      expect(diffFigures({}, { toString: 1 })).to.deep.equal([{ item: "toString", snapshot: null, now: 1 }]);
    });
  });

  it("driftTable shows operation, snapshot, now and a signed delta with its percentage", () => {
    const table = driftTable("operation", [
      { item: "publish", snapshot: 100_000, now: 101_000 },
      { item: "prove", snapshot: 90_000, now: 89_100 },
      { item: "new op", snapshot: null, now: 5 },
      { item: "old op", snapshot: 7, now: null },
    ]);
    const lines = table.split("\n");
    expect(lines[0]).to.match(/^operation\s+snapshot\s+now\s+delta$/);
    expect(lines[2]).to.match(/^publish\s+100,000\s+101,000\s+\+1,000 \(\+1%\)$/);
    expect(lines[3]).to.match(/^prove\s+90,000\s+89,100\s+-900 \(-1%\)$/);
    expect(lines[4]).to.match(/^new op\s+-\s+5\s+new$/);
    expect(lines[5]).to.match(/^old op\s+7\s+-\s+removed$/);
  });

  describe("budgetVerdicts", () => {
    it("fails a row over its budget and accepts an overrun only where the budget table explains it", () => {
      const over = rows.map((r) => (r.operation === "publish" ? { ...r, gas: 150_001 } : r));
      const { failures, accepted } = budgetVerdicts(over, budgets);
      expect(failures).to.have.length(1);
      expect(failures[0]).to.contain('"publish"').and.contain("1 over its budget of 150,000");
      expect(accepted).to.have.length(1);
      expect(accepted[0]).to.contain('"first report"').and.contain("one-time storage");
    });

    it("lists an accepted overrun whose row is back within its budget, so the acceptance is deleted", () => {
      const within = rows.map((r) => (r.operation === "first report" ? { ...r, gas: 80_000 } : r));
      const { failures, accepted, unneeded } = budgetVerdicts(within, budgets);
      expect(failures).to.deep.equal([]);
      expect(accepted).to.have.length(0);
      expect(unneeded).to.have.length(1);
      expect(unneeded[0]).to.contain('"first report"').and.contain("within its budget");
    });

    it("passes a row exactly at its budget", () => {
      const exact = [{ operation: "publish", gas: 150_000, budget: 150_000 }];
      expect(budgetVerdicts(exact, budgets.slice(0, 1)).failures).to.deep.equal([]);
    });

    it("fails a budget whose operation is no longer measured, and duplicate operation names", () => {
      const { failures } = budgetVerdicts(rows.slice(0, 1), budgets.slice(0, 2));
      expect(failures).to.have.length(1);
      expect(failures[0]).to.contain('"prove"').and.contain("no longer measures");
      const dup = budgetVerdicts([...rows.slice(0, 1), ...rows.slice(0, 1)], []);
      expect(dup.failures).to.deep.equal(["two benchmark rows share an operation name"]);
    });
  });

  it("limitFailures flags runtime over EIP-170 and init code over EIP-3860, and nothing at the limits", () => {
    expect(limitFailures(sizes(size("AtLimits", RUNTIME_LIMIT, INITCODE_LIMIT)))).to.deep.equal([]);
    const failures = limitFailures(sizes(size("Big", RUNTIME_LIMIT + 1, INITCODE_LIMIT + 1)));
    expect(failures).to.have.length(2);
    expect(failures[0]).to.contain("Big: runtime 24,577 bytes, over EIP-170");
    expect(failures[1]).to.contain("Big: init code 49,153 bytes, over EIP-3860");
  });

  it("gasJsonDrift reports rows whose gas, budget or note differ, and missing or extra rows", () => {
    const changed = rows.map((r) => (r.operation === "prove" ? { ...r, note: "4 challenges" } : r));
    expect(gasJsonDrift(rows, rows)).to.deep.equal([]);
    expect(gasJsonDrift(rows, changed)).to.deep.equal(['"prove" differs']);
    expect(gasJsonDrift(rows.slice(1), rows)).to.deep.equal(['"publish" is missing']);
    expect(gasJsonDrift(rows, rows.slice(1))).to.deep.equal(['"publish" is no longer measured']);
  });

  describe("checkSnapshots", () => {
    it("passes when everything matches, listing accepted overruns", () => {
      const verdict = checkSnapshots(inputs());
      expect(verdict.drift).to.equal(false);
      expect(verdict.overLimit).to.equal(false);
      expect(verdict.report).to.match(/^Snapshots match: 4 gas rows, 1 contracts/);
      expect(verdict.report).to.contain("Accepted overruns").and.not.contain(UPDATE_COMMAND);
    });

    it("fails on one unit of gas drift, with the diff table and the update command", () => {
      const gasNow = rows.map((r) => (r.operation === "prove" ? { ...r, gas: r.gas + 1 } : r));
      const verdict = checkSnapshots(inputs({ gasNow }));
      expect(verdict.drift).to.equal(true);
      expect(verdict.overLimit).to.equal(false);
      expect(verdict.report).to.contain("Gas differs from bench/gas-snapshot.json");
      expect(verdict.report).to.match(/prove\s+90,000\s+90,001\s+\+1/);
      expect(verdict.report).to.contain(UPDATE_COMMAND);
      // bench/gas.json (what the README is generated from) is stale too.
      expect(verdict.report).to.contain('"prove" differs');
    });

    it("fails on a byte of size drift and on a changed library split", () => {
      const bigger = checkSnapshots(
        inputs({ sizesNow: sizes(size("StorageMarket", 24_198, 27_394, ["ProvingLib"])) }),
      );
      expect(bigger.drift).to.equal(true);
      expect(bigger.report).to.match(/StorageMarket runtime\s+24,197\s+24,198\s+\+1/);
      const relinked = checkSnapshots(inputs({ sizesNow: sizes(size("StorageMarket", 24_197, 27_394, [])) }));
      expect(relinked.drift).to.equal(true);
      expect(relinked.report).to.contain("StorageMarket links [ProvingLib] in the snapshot, [] now");
    });

    it("fails over a limit even when the snapshot agrees (the snapshot cannot bless an oversized contract)", () => {
      const over = sizes(size("StorageMarket", RUNTIME_LIMIT + 10, 27_394, ["ProvingLib"]));
      const verdict = checkSnapshots(inputs({ sizeSnapshot: over, sizesNow: over }));
      expect(verdict.drift).to.equal(false);
      expect(verdict.overLimit).to.equal(true);
      expect(verdict.report).to.contain("over EIP-170");
    });

    it("fails an unexplained budget miss even when the snapshot agrees", () => {
      const missed = rows.map((r) => (r.operation === "publish" ? { ...r, gas: 160_000 } : r));
      const verdict = checkSnapshots(
        inputs({ gasNow: missed, gasJson: missed, gasSnapshot: gasSnapshotOf(missed) }),
      );
      expect(verdict.drift).to.equal(false);
      expect(verdict.overLimit).to.equal(true);
      expect(verdict.report).to.contain('"publish": 160,000 gas, 10,000 over its budget');
    });
  });

  describe("sizesFrom (compiled artifacts)", () => {
    const lib = "0x73" + "00".repeat(20) + "3014";
    const artifact = (
      name: string,
      source: string,
      deployed: string,
      extra: Partial<SizedArtifact> = {},
    ) => ({
      contractName: name,
      sourceName: source,
      abi: [],
      bytecode: deployed + "00",
      deployedBytecode: deployed,
      linkReferences: {},
      ...extra,
    });

    it("keeps deployable contracts and linked libraries of contracts/, with margins and the library split", () => {
      const result = sizesFrom([
        artifact("Market", "contracts/Market.sol", "0x" + "60".repeat(100), {
          linkReferences: { "project/contracts/libs/Prove.sol": { Prove: [{ start: 1, length: 20 }] } },
        }),
        artifact("Prove", "contracts/libs/Prove.sol", lib + "00".repeat(10)),
        artifact("Inlined", "contracts/libs/Inlined.sol", lib),
        artifact("IMarket", "contracts/IMarket.sol", "0x"),
        artifact("Mock", "contracts/mocks/Mock.sol", "0x6060"),
        artifact("Handler", "test/solidity/Handler.sol", "0x6060"),
      ]);
      // Ordered by source path: "contracts/Market.sol" before "contracts/libs/Prove.sol".
      expect(result.contracts.map((c) => c.contract)).to.deep.equal(["Market", "Prove"]);
      const [market, prove] = result.contracts;
      expect(market).to.include({ kind: "contract", runtimeBytes: 100, initcodeBytes: 101 });
      expect(market?.runtimeMargin).to.equal(RUNTIME_LIMIT - 100);
      expect(market?.initcodeMargin).to.equal(INITCODE_LIMIT - 101);
      expect(market?.linkedLibraries).to.deep.equal(["Prove"]);
      expect(prove).to.include({ kind: "library", runtimeBytes: 33 }); // 23-byte guard + 10
      expect(prove?.linkedInto).to.deep.equal(["Market"]);
    });
  });

  describe("the committed files", () => {
    it("parse, agree with each other and carry the budgets table", () => {
      const gas = readGasRows();
      expect(gasRowsSchema.parse(gas)).to.have.length.greaterThan(30);
      expect(gasSnapshotSchema.parse(readGasSnapshot())).to.deep.equal(gasSnapshotOf(gas));
      expect(withBudgets(gas, GAS_BUDGETS)).to.deep.equal(gas);
      expect(budgetVerdicts(gas, GAS_BUDGETS).failures).to.deep.equal([]);
      const committed = readSizes();
      expect(limitFailures(committed)).to.deep.equal([]);
      expect(committed.contracts.map((c) => c.contract)).to.include.members([
        "StorageMarket",
        "ComputeMarket",
      ]);
    });
  });
});
