import { expect } from "chai";
import { economicsSvg } from "../../scripts/bench/economicsChart.js";
import { SCENARIOS, shippedSettings } from "../../scripts/bench/economicsInputs.js";
import {
  economicsRow,
  economicsTable,
  filesPerStateForGoal,
  formatBytes,
  GIB,
  goalPercent,
  meetsGoal,
  MIB,
  OPERATIONS,
  operationGas,
  paddedPieceBytes,
  pieceBytes,
  proofGas,
  settleGas,
  TIB,
  totalGas,
  yearGas,
  type EconomicsRow,
  type ModelSettings,
  type OperationGas,
} from "../../scripts/bench/economicsModel.js";
import { ECONOMICS_JSON, economicsSchema, readJson } from "../../scripts/bench/files.js";
import type { GasRow } from "../../scripts/bench/report.js";

const gas: OperationGas = {
  createDataSet: 130_000,
  firstTopUp: 90_000,
  topUp: 50_000,
  addPiece: 100_000,
  firstState: 200_000,
  secondRootWrite: 120_000,
  proof1TiB: 200_000,
  proof100TiB: 260_000,
  settleOne: 60_000,
  settlePerSetOf100: 25_000,
  terminate: 100_000,
  withdraw: 50_000,
};

const settings: ModelSettings = {
  k: 2,
  m: 1,
  provingPeriod: 86_400,
  settleEveryPeriods: 6,
  dataSetTiB: 1,
  filesPerState: 1,
  ethPrice: 3_000,
};

describe("economics model (scripts/bench/economicsModel.ts)", () => {
  it("pieces are the SDK's shards of the encrypted file, padded to a power of two of leaves", () => {
    // 10 MiB + 16-byte tag over k = 2: 5 MiB + 8 bytes, rounded to 64, padded to 8 MiB.
    expect(pieceBytes(10 * MIB, 2)).to.equal(5 * MIB + 64);
    expect(paddedPieceBytes(pieceBytes(10 * MIB, 2))).to.equal(8 * MIB);
    // A power-of-two file overflows its half by the tag: each piece takes twice its bytes.
    expect(paddedPieceBytes(pieceBytes(GIB, 2))).to.equal(GIB);
    expect(paddedPieceBytes(pieceBytes(32 * GIB, 2))).to.equal(32 * GIB);
    expect(paddedPieceBytes(4 * MIB)).to.equal(4 * MIB);
  });

  it("proof gas is the 1 TiB figure up to 1 TiB and grows with the log of the bytes to the 100 TiB figure", () => {
    expect(proofGas(gas, 0.5)).to.equal(200_000);
    expect(proofGas(gas, 1)).to.equal(200_000);
    expect(Math.abs(proofGas(gas, 10) - 230_000)).to.be.at.most(1e-6); // log2(10) is half of log2(100)
    expect(Math.abs(proofGas(gas, 100) - 260_000)).to.be.at.most(1e-6);
  });

  it("settlement runs in calls of up to 100 data sets, linear between the measured 1 and 100", () => {
    expect(settleGas(gas, 1)).to.equal(60_000);
    expect(Math.abs(settleGas(gas, 100) - 2_500_000)).to.be.at.most(1e-6);
    expect(Math.abs(settleGas(gas, 200) - 5_000_000)).to.be.at.most(1e-6);
    expect(Math.abs(settleGas(gas, 101) - 2_560_000)).to.be.at.most(1e-6);
    expect(settleGas(gas, 50))
      .to.be.greaterThan(50 * 25_000)
      .and.lessThan(50 * 60_000);
  });

  it("counts a year of operations: one state and top-up per piece, a proof a day, settlement every 6 days", () => {
    // A data set that receives one state only pays the first state's surcharge.
    expect(yearGas(gas, { ...settings, filesPerState: 1e9 }, 10 * MIB, 1).create).to.equal(
      130_000 + 90_000 + 100_000,
    );
    const year = yearGas(gas, settings, 10 * MIB, 1);
    const pieces = TIB / (8 * MIB); // 131,072 pieces of 8 MiB span in 1 TiB
    expect(year.add).to.equal(pieces * (100_000 + 50_000));
    expect(year.prove).to.equal(365 * 200_000);
    expect(year.settle).to.equal(61 * 60_000);
    expect(year.withdraw).to.equal(61 * 50_000);
    // Per data set: create, first top-up, and the surcharge of its first two states over a later one.
    expect(year.create).to.equal(130_000 + 90_000 + 100_000 + 20_000);
    expect(year.end).to.equal(100_000 + 50_000 + 60_000);
    expect(totalGas(year)).to.equal(
      year.create + year.add + year.prove + year.settle + year.end + year.withdraw,
    );
    // 10 TiB in 1 TiB data sets: ten of each per-data-set operation.
    expect(yearGas(gas, settings, 32 * GIB, 10).create).to.equal(10 * 340_000);
    // Folding files into one state divides the per-file part.
    expect(yearGas(gas, { ...settings, filesPerState: 4 }, 10 * MIB, 1).add).to.equal(year.add / 4);
  });

  it("prices gas in tokens per TiB-month and in percent of the 2.5 reference", () => {
    const row = economicsRow(gas, settings, { fileBytes: 32 * GIB, providerTiB: 1, gwei: 0.01 });
    const total = totalGas(yearGas(gas, settings, 32 * GIB, 1));
    const perMonth = (total * 0.01e-9 * 3_000) / 12;
    expect(Math.abs(row.overheadPerTiBMonth - perMonth)).to.be.at.most(1e-6);
    expect(Math.abs(row.percentOfReference - (perMonth / 2.5) * 100)).to.be.at.most(1e-4);
    const tenTimes = economicsRow(gas, settings, { fileBytes: 32 * GIB, providerTiB: 1, gwei: 0.1 });
    expect(Math.abs(tenTimes.overheadPerTiBMonth - 10 * row.overheadPerTiBMonth)).to.be.at.most(1e-5);
    const dearer = economicsRow(
      gas,
      { ...settings, ethPrice: 6_000 },
      { fileBytes: 32 * GIB, providerTiB: 1, gwei: 0.01 },
    );
    expect(Math.abs(dearer.overheadPerTiBMonth - 2 * row.overheadPerTiBMonth)).to.be.at.most(1e-5);
  });

  it("goals: none for 1 TiB, 5% for 10 TiB and 1% for 100 TiB at 0.01 gwei, ten times those at 0.1", () => {
    expect(goalPercent(1, 0.01)).to.equal(null);
    expect(goalPercent(10, 0.01)).to.equal(5);
    expect(goalPercent(100, 0.01)).to.equal(1);
    expect(Math.abs((goalPercent(10, 0.1) ?? Number.NaN) - 50)).to.be.at.most(1e-9);
    expect(Math.abs((goalPercent(100, 0.1) ?? Number.NaN) - 10)).to.be.at.most(1e-9);
    const row = (providerTiB: number, percentOfReference: number): EconomicsRow => ({
      fileSize: GIB,
      providerTiB,
      gwei: 0.01,
      overheadPerTiBMonth: 0,
      percentOfReference,
    });
    expect(meetsGoal(row(10, 5))).to.equal(true);
    expect(meetsGoal(row(10, 5.01))).to.equal(false);
    expect(meetsGoal(row(100, 1.5))).to.equal(false);
    expect(meetsGoal(row(1, 1_000))).to.equal(null);
  });

  it("finds the fewest files per signed state that meet a missed goal, or says none can", () => {
    const scenario = { fileBytes: 10 * MIB, providerTiB: 10, gwei: 0.01 };
    const fold = filesPerStateForGoal(gas, settings, scenario);
    expect(fold).to.be.a("number");
    const at = (n: number) => economicsRow(gas, { ...settings, filesPerState: n }, scenario);
    expect(meetsGoal(at(fold ?? 0))).to.equal(true);
    expect(meetsGoal(at((fold ?? 0) - 1))).to.equal(false);
    // A proof that alone costs more than the goal cannot be folded away.
    expect(filesPerStateForGoal({ ...gas, proof1TiB: 1e9, proof100TiB: 1e9 }, settings, scenario)).to.equal(
      null,
    );
    expect(filesPerStateForGoal(gas, settings, { ...scenario, providerTiB: 1 })).to.equal(null);
  });

  it("reads its operations from bench/gas.json rows, the highest 1 TiB proof, and names missing rows", () => {
    const rows: GasRow[] = Object.values(OPERATIONS)
      .flat()
      .map((operation, i) => ({ operation, gas: 1_000 + i, budget: null }));
    const read = operationGas(rows);
    expect(read.createDataSet).to.equal(1_000);
    expect(read.proof1TiB).to.equal(
      Math.max(...OPERATIONS.proof1TiB.map((o) => rows.find((r) => r.operation === o)?.gas ?? 0)),
    );
    expect(() => operationGas(rows.slice(1)))
      .to.throw()
      .with.property("code", "BENCH_RESULT_INVALID");
  });

  it("formats sizes and the printed table with a verdict per row", () => {
    expect(formatBytes(10 * MIB)).to.equal("10 MiB");
    expect(formatBytes(32 * GIB)).to.equal("32 GiB");
    const rows = [
      economicsRow(gas, settings, { fileBytes: 10 * MIB, providerTiB: 10, gwei: 0.01 }),
      economicsRow(gas, settings, { fileBytes: 32 * GIB, providerTiB: 1, gwei: 0.01 }),
    ];
    const table = economicsTable(rows, 3_000).split("\n");
    expect(table[2]).to.match(/MISSED$/);
    expect(table[3]).to.match(/ - *$/);
  });

  it("draws one bar per row and a goal line per provider with a goal, the same for the same rows", () => {
    const rows = [1, 10, 100].flatMap((providerTiB) =>
      [0.01, 0.1].map((gwei) => economicsRow(gas, settings, { fileBytes: GIB, providerTiB, gwei })),
    );
    const svg = economicsSvg(rows, "a <title> & more");
    expect(svg.match(/<rect [^>]*><title>/g)?.length).to.equal(rows.length);
    expect(svg.match(/stroke-dasharray/g)?.length).to.equal(2 * 2 + 1); // 2 panels x 2 goals + legend
    expect(svg).to.contain("a &lt;title&gt; &amp; more");
    expect(economicsSvg(rows, "a <title> & more")).to.equal(svg);
  });

  it("reads the shipped settings: strata store's k/m, the network's 1-day period, the agent's settle cadence", () => {
    const shipped = shippedSettings();
    expect(shipped).to.include({ k: 2, m: 1, provingPeriod: 86_400, settleEveryPeriods: 6, ethPrice: 3_000 });
    expect(shippedSettings({ ethPrice: 4_000, filesPerState: 10 })).to.include({
      ethPrice: 4_000,
      filesPerState: 10,
    });
    expect(() => shippedSettings({ parameters: "package.json" }))
      .to.throw()
      .with.property("code", "BENCH_SETUP_FAILED");
    expect(SCENARIOS).to.have.length(18);
  });

  it("the committed bench/economics.json has every scenario in the issue's format", () => {
    const rows = readJson(ECONOMICS_JSON, economicsSchema);
    expect(rows).to.have.length(18);
    const keys = new Set(rows.map((r) => `${r.fileSize}/${r.providerTiB}/${r.gwei}`));
    for (const fileSize of [10 * MIB, GIB, 32 * GIB])
      for (const providerTiB of [1, 10, 100])
        for (const gwei of [0.01, 0.1]) expect(keys.has(`${fileSize}/${providerTiB}/${gwei}`)).to.equal(true);
  });
});
