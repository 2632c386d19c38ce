/**
 * What every deviation evaluates to, and the names of the deviations the model knows.
 */

export const STORAGE_DEVIATIONS = [
  "drop-all",
  "keep-fraction",
  "dilute-self-deals",
  "declare-faults",
  "escape-retrieval-challenge",
  "serve-watchers-not-clients",
  "share-one-copy",
  "self-report-bounty",
  "unfunded-bounties",
] as const;
export const COMPUTE_DEVIATIONS = [
  "heartbeat-without-work",
  "leave-without-notice",
  "go-dark",
  "tenant-griefing",
  "self-report-heartbeats",
] as const;
/** Deviations no on-chain rule can make unprofitable (the chain cannot observe them); quantified, not gated. */
export const RESIDUAL_DEVIATIONS: readonly DeviationName[] = [
  "serve-watchers-not-clients",
  "share-one-copy",
  "heartbeat-without-work",
];

export type StorageDeviation = (typeof STORAGE_DEVIATIONS)[number];
export type ComputeDeviation = (typeof COMPUTE_DEVIATIONS)[number];
export type DeviationName = StorageDeviation | ComputeDeviation;

/** The expected outcome of one deviation against honest behaviour, in tokens over the scenario's horizon. */
export interface DeviationResult {
  deviation: DeviationName;
  market: "storage" | "compute";
  /** What the deviating party (all its addresses together) keeps, saves or collects beyond honest behaviour. */
  gain: number;
  /** What it forgoes or is slashed beyond honest behaviour. */
  loss: number;
  /**
   * True when no on-chain rule can make it unprofitable (the chain cannot observe it): the gate does not hold
   * it, and the result quantifies the residual risk instead.
   */
  residual: boolean;
  /** The deviating choice that maximises gain − loss, in words. */
  strategy: string;
}

/** loss − gain: positive when the deviation does not pay. */
export function margin(result: Pick<DeviationResult, "gain" | "loss">): number {
  return result.loss - result.gain;
}
