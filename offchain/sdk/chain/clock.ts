/**
 * The proving clock: periods of `period` seconds counted from `genesis` (both read from the storage market),
 * applied to chain timestamps.
 */

/** The proving period containing `timestamp` (0 before genesis). */
export function periodAt(genesis: bigint, period: bigint, timestamp: bigint): bigint {
  return timestamp < genesis ? 0n : (timestamp - genesis) / period;
}

/** Timestamp at which proving period `n` starts. */
export function periodStart(genesis: bigint, period: bigint, n: bigint): bigint {
  return genesis + n * period;
}
