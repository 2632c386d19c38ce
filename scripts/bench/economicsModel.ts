/**
 * The economics benchmark's model, as pure functions: the on-chain cost a client and a provider pay over a year,
 * per TiB-month of bytes the provider holds, from the measured gas (bench/gas.json), the deployment's proving
 * period and the agent's and client's defaults. ./economics.ts reads the inputs, prints and writes the results.
 *
 * A year of a provider holding `providerTiB` TiB (of data-set span, the bytes the market charges for):
 * - the bytes sit in data sets of `dataSetTiB` each; every data set is created and funded once, holds its files
 *   for the year and is then ended (terminated, settled a last time) and the client withdraws what is left;
 * - files are stored one at a time with the client's defaults: each is encrypted, coded into k + m pieces of
 *   `shardSizeFor(size + tag, k)` bytes, one per provider, each padded in its data set to a power of two of
 *   leaves; per piece the provider submits one signed state (an "add pieces, 1 piece" update; a data set's first
 *   state and its first state of a later epoch at their own, higher measured cost) and the client
 *   tops up the escrow once (the client's store flow; `filesPerState` > 1 models folding several files into one
 *   signed state and one top-up);
 * - the provider proves every period (one proof for all its data sets, 4 challenges), settles all its data sets
 *   every `settleEveryPeriods` periods in calls of up to 100 data sets and withdraws its earnings after each
 *   settlement.
 * Gas is priced at `gwei` and ETH at `ethPrice` tokens; the token is taken at 1 per dollar.
 */
import { TAG_BYTES } from "../../offchain/sdk/data/encryption.js";
import { shardSizeFor } from "../../offchain/sdk/data/erasure.js";
import { pieceHeight } from "../../offchain/sdk/datasets/placement.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { fixedWidth, type GasRow } from "./report.js";

export const MIB = 2 ** 20;
export const GIB = 2 ** 30;
export const TIB = 2 ** 40;
/** Bytes in a TB (S3 prices per decimal TB). */
export const TB = 1e12;
export const LEAF_BYTES = 64;
export const YEAR_SECONDS = 365 * 86_400;
/** Most data sets one settlement call covers (the benchmarked batch). */
export const SETTLE_BATCH = 100;

/** The market's reference price (Filecoin's warm storage service), tokens per TiB-month. */
export const REFERENCE_PER_TIB_MONTH = 2.5;
/** S3 Standard, dollars per TB-month. */
export const S3_PER_TB_MONTH = 23;

/** The measured operations the model uses (gas of one call, or per data set for the batched settlement). */
export interface OperationGas {
  createDataSet: number;
  firstTopUp: number;
  topUp: number;
  addPiece: number;
  /** A data set's first state (enters a size class, locks collateral): counted once per data set. */
  firstState: number;
  /** A data set's first state in a later epoch (writes its second root word from zero): once per data set. */
  secondRootWrite: number;
  /** Proof, 4 challenges, for a provider holding 1 TiB (the highest of the 1 TiB rows). */
  proof1TiB: number;
  /** Proof, 4 challenges, 100 TiB. */
  proof100TiB: number;
  settleOne: number;
  settlePerSetOf100: number;
  terminate: number;
  withdraw: number;
}

/** bench/gas.json operation names the model reads. */
export const OPERATIONS = {
  createDataSet: "create data set",
  firstTopUp: "top up a data set's escrow (client, from allowance)",
  topUp: "top up a data set's escrow again (client, from allowance)",
  addPiece: "add pieces, 1 piece (one call)",
  firstState: "add pieces to an empty data set, first state (one call)",
  secondRootWrite: "add pieces, 1 piece, first write of the data set's second root word (one call)",
  proof1TiB: [
    "proof, 4 challenges, 1 TiB as 1 GiB pieces in 1 data set",
    "proof, 4 challenges, 1 TiB as 1 GiB pieces in 100 data sets",
    "proof, 4 challenges, 10,000 pieces of 100 MiB",
  ],
  proof100TiB: "proof, 4 challenges, 100 TiB as 32 GiB pieces",
  settleOne: "settle data set after 1 day, 1 piece",
  settlePerSetOf100: "settle 100 data sets in one call (per set)",
  terminate: "terminate a data set (client)",
  withdraw: "withdraw earnings",
} as const satisfies Record<keyof OperationGas, string | readonly string[]>;

/** The operations' gas from bench/gas.json rows; BENCH_RESULT_INVALID names any row that is missing. */
export function operationGas(rows: readonly GasRow[]): OperationGas {
  const byName = new Map(rows.map((r) => [r.operation, r.gas]));
  const missing: string[] = [];
  const one = (name: string): number => {
    const gas = byName.get(name);
    if (gas === undefined) missing.push(name);
    return gas ?? 0;
  };
  const gas: OperationGas = {
    createDataSet: one(OPERATIONS.createDataSet),
    firstTopUp: one(OPERATIONS.firstTopUp),
    topUp: one(OPERATIONS.topUp),
    addPiece: one(OPERATIONS.addPiece),
    firstState: one(OPERATIONS.firstState),
    secondRootWrite: one(OPERATIONS.secondRootWrite),
    proof1TiB: Math.max(...OPERATIONS.proof1TiB.map(one)),
    proof100TiB: one(OPERATIONS.proof100TiB),
    settleOne: one(OPERATIONS.settleOne),
    settlePerSetOf100: one(OPERATIONS.settlePerSetOf100),
    terminate: one(OPERATIONS.terminate),
    withdraw: one(OPERATIONS.withdraw),
  };
  if (missing.length > 0) {
    throw new StrataError("BENCH_RESULT_INVALID", "bench/gas.json lacks rows the economics model needs", {
      details: missing.map((m) => `"${m}"`).join(", "),
    });
  }
  return gas;
}

export interface Scenario {
  fileBytes: number;
  providerTiB: number;
  gwei: number;
}

export interface ModelSettings {
  /** Client coding defaults: k data + m parity pieces per file. */
  k: number;
  m: number;
  /** Proving period in seconds (deployment parameter). */
  provingPeriod: number;
  /** The agent settles its data sets every this many periods. */
  settleEveryPeriods: number;
  /** Span bytes of one data set, in TiB (one client's data with one provider). */
  dataSetTiB: number;
  /** Files folded into one signed state and one top-up (the client's store flow: 1). */
  filesPerState: number;
  /** Price of 1 ETH in tokens. */
  ethPrice: number;
}

/** Bytes of one coded piece of a file: the encrypted payload (file and tag) split in k shards, as the SDK does. */
export function pieceBytes(fileBytes: number, k: number): number {
  return shardSizeFor(fileBytes + TAG_BYTES, k);
}

/** Span a piece takes in its data set: an aligned subtree of 2^height leaves (sdk/datasets/placement.ts). */
export function paddedPieceBytes(bytes: number): number {
  return LEAF_BYTES * 2 ** pieceHeight(bytes);
}

/** Proof gas for a provider holding `tib` TiB: the 1 TiB figure up to 1 TiB, then linear in log2 of the bytes. */
export function proofGas(g: Pick<OperationGas, "proof1TiB" | "proof100TiB">, tib: number): number {
  if (tib <= 1) return g.proof1TiB;
  const t = Math.log2(tib) / Math.log2(100);
  return g.proof1TiB + (g.proof100TiB - g.proof1TiB) * t;
}

/** Gas of settling `sets` data sets: calls of up to SETTLE_BATCH, each linear between the measured 1 and 100. */
export function settleGas(g: Pick<OperationGas, "settleOne" | "settlePerSetOf100">, sets: number): number {
  const marginal = (SETTLE_BATCH * g.settlePerSetOf100 - g.settleOne) / (SETTLE_BATCH - 1);
  let gas = 0;
  for (let left = sets; left > 0; left -= SETTLE_BATCH) {
    gas += g.settleOne + (Math.min(left, SETTLE_BATCH) - 1) * marginal;
  }
  return gas;
}

/** One year's gas by operation. */
export interface YearGas {
  create: number;
  add: number;
  prove: number;
  settle: number;
  end: number;
  withdraw: number;
}

export function yearGas(g: OperationGas, s: ModelSettings, fileBytes: number, providerTiB: number): YearGas {
  const periods = YEAR_SECONDS / s.provingPeriod;
  const dataSets = Math.max(1, Math.ceil(providerTiB / s.dataSetTiB));
  const pieces = (providerTiB * TIB) / paddedPieceBytes(pieceBytes(fileBytes, s.k));
  const states = Math.max(dataSets, pieces / s.filesPerState);
  const settlements = Math.ceil(periods / s.settleEveryPeriods);
  // A data set's first state and its first state of a later epoch cost more than the states after them.
  const secondStates = Math.min(dataSets, Math.max(0, states - dataSets));
  return {
    create:
      dataSets * (g.createDataSet + g.firstTopUp + g.firstState - g.addPiece) +
      secondStates * (g.secondRootWrite - g.addPiece),
    add: states * (g.addPiece + g.topUp),
    prove: periods * proofGas(g, providerTiB),
    settle: settlements * settleGas(g, dataSets),
    // Terminate, settle the last time, and the client withdraws the unstreamed escrow.
    end: dataSets * (g.terminate + g.withdraw) + settleGas(g, dataSets),
    withdraw: settlements * g.withdraw,
  };
}

export function totalGas(y: YearGas): number {
  return y.create + y.add + y.prove + y.settle + y.end + y.withdraw;
}

/** Tokens for `gas` at `gwei` per gas and `ethPrice` tokens per ETH. */
export function gasCost(gas: number, gwei: number, ethPrice: number): number {
  return gas * gwei * 1e-9 * ethPrice;
}

/** The goal for a scenario in percent of the reference price (null: none is set for this provider size). */
export function goalPercent(providerTiB: number, gwei: number): number | null {
  const at001 = providerTiB >= 100 ? 1 : providerTiB >= 10 ? 5 : null;
  return at001 === null ? null : (at001 * gwei) / 0.01;
}

export interface EconomicsRow {
  fileSize: number;
  providerTiB: number;
  gwei: number;
  overheadPerTiBMonth: number;
  percentOfReference: number;
}

export function economicsRow(g: OperationGas, s: ModelSettings, scenario: Scenario): EconomicsRow {
  const gas = totalGas(yearGas(g, s, scenario.fileBytes, scenario.providerTiB));
  const perTiBMonth = gasCost(gas, scenario.gwei, s.ethPrice) / (scenario.providerTiB * 12);
  return {
    fileSize: scenario.fileBytes,
    providerTiB: scenario.providerTiB,
    gwei: scenario.gwei,
    overheadPerTiBMonth: round(perTiBMonth, 6),
    percentOfReference: round((perTiBMonth / REFERENCE_PER_TIB_MONTH) * 100, 4),
  };
}

/** Whether a row meets its goal (null: no goal for it). */
export function meetsGoal(row: EconomicsRow): boolean | null {
  const goal = goalPercent(row.providerTiB, row.gwei);
  return goal === null ? null : row.percentOfReference <= goal;
}

/**
 * The smallest number of files per signed state (and top-up) that brings `scenario` within its goal, or null
 * when no folding can (the costs that do not depend on files already exceed it) or there is no goal.
 */
export function filesPerStateForGoal(g: OperationGas, s: ModelSettings, scenario: Scenario): number | null {
  const goal = goalPercent(scenario.providerTiB, scenario.gwei);
  if (goal === null) return null;
  const percentAt = (fold: number) =>
    economicsRow(g, { ...s, filesPerState: fold }, scenario).percentOfReference;
  if (percentAt(s.filesPerState) <= goal) return s.filesPerState;
  const pieces =
    (scenario.providerTiB * TIB) / paddedPieceBytes(pieceBytes(scenario.fileBytes, s.k)) / s.filesPerState;
  if (percentAt(s.filesPerState * Math.max(1, pieces)) > goal) return null;
  let low = s.filesPerState;
  let high = s.filesPerState * Math.max(1, Math.ceil(pieces));
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (percentAt(mid) <= goal) high = mid;
    else low = mid;
  }
  return high;
}

/** A file size for people: "10 MiB", "1 GiB", "32 GiB". */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ["TiB", TIB],
    ["GiB", GIB],
    ["MiB", MIB],
  ] as const) {
    if (bytes >= size) return `${round(bytes / size, 2)} ${unit}`;
  }
  return `${bytes} B`;
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** S3 Standard per TiB-month (its price is per decimal TB). */
export function s3PerTiBMonth(): number {
  return (S3_PER_TB_MONTH * TIB) / TB;
}

/** The printed table: overhead in tokens and percent of the reference, with the goal verdict. */
export function economicsTable(rows: readonly EconomicsRow[], ethPrice: number): string {
  const body = rows.map((r) => {
    const goal = goalPercent(r.providerTiB, r.gwei);
    const ok = meetsGoal(r);
    return [
      formatBytes(r.fileSize),
      `${r.providerTiB} TiB`,
      String(r.gwei),
      r.overheadPerTiBMonth.toFixed(4),
      `${r.percentOfReference.toFixed(2)}%`,
      `${round((r.overheadPerTiBMonth / s3PerTiBMonth()) * 100, 2).toFixed(2)}%`,
      goal === null ? "-" : `<= ${goal}%`,
      ok === null ? "" : ok ? "met" : "MISSED",
    ];
  });
  return fixedWidth(
    [
      "file size",
      "provider",
      "gwei",
      `per TiB-month (ETH ${ethPrice})`,
      "of 2.5",
      "of S3",
      "goal",
      "verdict",
    ],
    body,
    new Set([0, 1, 7]),
  );
}
