/** Exponential backoff with jitter: shared by RPC retries and the service loop's pause after failed ticks. */

/**
 * Delay after failure number `attempt` (1-based): base * 2^(attempt-1), capped at `maxMs`, with "equal
 * jitter" (half fixed, half random) so that many clients failing together do not retry together.
 */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exp / 2 + (exp / 2) * random());
}

/** A promise resolved after `ms` (the default `sleep` dependency). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
