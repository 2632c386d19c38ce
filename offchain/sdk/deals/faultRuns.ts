/**
 * Off-chain mirror of a provider's on-chain FaultLog, rebuilt from its `MissedProofsReported` events, to
 * compute the O(1) hint of `settleDealWithHint`.
 */
export interface FaultRun {
  start: bigint;
  length: bigint;
}

/** Fold `MissedProofsReported(fromPeriod, count)` events (in chain order) into runs, as the contract does. */
export function foldFaultRuns(reports: readonly { fromPeriod: bigint; count: bigint }[]): FaultRun[] {
  const runs: FaultRun[] = [];
  for (const { fromPeriod, count } of reports) {
    const last = runs[runs.length - 1];
    if (last && last.start + last.length === fromPeriod) last.length += count;
    else runs.push({ start: fromPeriod, length: count });
  }
  return runs;
}

/** The hint for a deal starting at `startPeriod`: the number of runs that start at or before `startPeriod - 1`. */
export function faultRunHint(runs: readonly FaultRun[], startPeriod: bigint): bigint {
  let count = 0n;
  for (const run of runs) if (run.start <= startPeriod - 1n) count++;
  return count;
}
