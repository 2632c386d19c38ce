/**
 * The gas the model charges, read from bench/gas.json rows (operation name, gas), and its price in tokens.
 */
import { StrataError } from "../sdk/errors.js";

/** Operations whose gas the model uses. */
export interface ModelGas {
  /** One proof (4 challenges) for a provider of 1 TiB and of 100 TiB (interpolated on log size between). */
  proof1TiB: number;
  proof100TiB: number;
  reportMissedProof: number;
  settlePerDataSet: number;
  withdraw: number;
  createDataSet: number;
  addPiece: number;
  answerChallenge: number;
  heartbeat: number;
  settleLease: number;
  reportMissedHeartbeat: number;
}

/** bench/gas.json operation names per field (the first present name of a list wins). */
export const GAS_OPERATIONS = {
  proof1TiB: "proof, 4 challenges, 1 TiB as 1 GiB pieces in 100 data sets",
  proof100TiB: "proof, 4 challenges, 100 TiB as 32 GiB pieces",
  reportMissedProof: "report a missed proof (slash bounty), watcher with a balance",
  settlePerDataSet: "settle 100 data sets in one call (per set)",
  withdraw: "withdraw earnings",
  createDataSet: "create data set",
  addPiece: "add pieces, 1 piece (one call)",
  answerChallenge: "answer a retrieval challenge",
  heartbeat: "compute: lease heartbeat",
  settleLease: "compute: settle a lease (anyone)",
  reportMissedHeartbeat: "compute: report a missed heartbeat (watcher with a balance)",
} as const satisfies Record<keyof ModelGas, string>;

/**
 * The model's gas from benchmark rows. A row may be renamed by a later benchmark: an operation is matched by its
 * exact name, else by the name before its first parenthesis. BENCH_RESULT_INVALID names what is missing.
 */
export function modelGas(rows: readonly { operation: string; gas: number }[]): ModelGas {
  const stem = (name: string) => name.split(" (")[0]?.trim() ?? name;
  const exact = new Map(rows.map((r) => [r.operation, r.gas]));
  const byStem = new Map(rows.map((r) => [stem(r.operation), r.gas]));
  const missing: string[] = [];
  const out = {} as Record<keyof ModelGas, number>;
  for (const [field, name] of Object.entries(GAS_OPERATIONS) as [keyof ModelGas, string][]) {
    const gas = exact.get(name) ?? byStem.get(stem(name));
    if (gas === undefined) missing.push(name);
    out[field] = gas ?? 0;
  }
  if (missing.length > 0) {
    throw new StrataError("BENCH_RESULT_INVALID", "bench/gas.json lacks rows the incentive model needs", {
      details: missing.join("; "),
    });
  }
  return out;
}

/** Tokens one unit of gas costs at `gwei` and an ETH price of `ethPrice` tokens. */
export function tokensPerGas(gwei: number, ethPrice: number): number {
  return gwei * 1e-9 * ethPrice;
}

/** Gas of one proof for a provider of `tib` TiB (log-linear between the 1 TiB and 100 TiB measurements). */
export function proofGas(gas: ModelGas, tib: number): number {
  const t = Math.min(1, Math.max(0, Math.log10(Math.max(tib, 1)) / 2));
  return gas.proof1TiB + t * (gas.proof100TiB - gas.proof1TiB);
}
