/**
 * The randomness the contracts and the watchers bring, in closed form: challenges drawn uniformly over bytes
 * (SPEC §7.4: a provider that dropped a fraction x fails each of c challenges with probability x), binomial
 * counts of failed periods, the period in which the k-th failure lands, and Poisson retrieval sampling.
 */

/** Probability that a period's proof fails: at least one of `challenges` byte-uniform draws hits the dropped part. */
export function periodFailure(droppedFraction: number, challenges: number): number {
  return 1 - (1 - droppedFraction) ** challenges;
}

/** P(Binomial(n, p) = j) for j = 0..upTo (fewer when n is smaller), by the ratio recurrence. */
export function binomialPmf(n: number, p: number, upTo: number): number[] {
  const top = Math.min(upTo, n);
  if (p <= 0) return [1, ...new Array<number>(top).fill(0)];
  if (p >= 1) return Array.from({ length: top + 1 }, (_, j) => (j === n ? 1 : 0));
  const out = [(1 - p) ** n];
  for (let j = 1; j <= top; j++) {
    out.push((out[j - 1] ?? 0) * ((n - j + 1) / j) * (p / (1 - p)));
  }
  // (1 - p)^n underflows for large n: fall back to logs, exact to double precision.
  if (out[0] === 0) {
    const logP = Math.log(p);
    const logQ = Math.log1p(-p);
    let logC = 0;
    for (let j = 0; j <= top; j++) {
      if (j > 0) logC += Math.log((n - j + 1) / j);
      out[j] = Math.exp(logC + j * logP + (n - j) * logQ);
    }
  }
  return out;
}

/** P(Binomial(n, p) ≥ k). */
export function binomialAtLeast(n: number, p: number, k: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  const below = binomialPmf(n, p, k - 1).reduce((sum, v) => sum + v, 0);
  return Math.min(1, Math.max(0, 1 - below));
}

/** What the periods of a horizon look like for a provider that fails each period with probability q and whose
 * data sets end at the `limit`-th failure (a fault termination), or earlier at hazard `hazard` per period
 * (a retrieval challenge after a failed sample), whichever comes first. */
export interface FailureHorizon {
  /** Expected periods in which the data sets are still live (out of `periods`). */
  livePeriods: number;
  /** Expected failed periods while live (each unpaid and penalised). */
  failures: number;
  /** Probability that the data sets ended within the horizon. */
  ended: number;
  /** Probability they ended by reaching the fault limit (the rest of `ended` is sampling). */
  endedByFaults: number;
  /** Expected failures of data sets still live at the horizon (their penalties are charged when they close). */
  failuresIfSurvived: number;
}

/**
 * Closed form of the failure process (exact for independent periods): live at the start of period t (1-based)
 * iff fewer than `limit` failures in the t − 1 before and no sampling detection in them.
 */
export function failureHorizon(periods: number, q: number, limit: number, hazard = 0): FailureHorizon {
  let livePeriods = 0;
  let failures = 0;
  let endedByFaults = 0;
  for (let t = 1; t <= periods; t++) {
    const notSampled = (1 - hazard) ** (t - 1);
    const pmf = binomialPmf(t - 1, q, limit - 1);
    const belowLimit = pmf.reduce((sum, v) => sum + v, 0);
    const alive = notSampled * belowLimit;
    livePeriods += alive;
    failures += alive * q;
    // Reaching the limit in this period: exactly limit − 1 before, and a failure now.
    endedByFaults += notSampled * (pmf[limit - 1] ?? 0) * q;
  }
  const survive = (1 - hazard) ** periods;
  const pmfEnd = binomialPmf(periods, q, limit - 1);
  const liveAtEnd = survive * pmfEnd.reduce((sum, v) => sum + v, 0);
  const failuresIfSurvived = survive * pmfEnd.reduce((sum, v, j) => sum + j * v, 0);
  return { livePeriods, failures, ended: 1 - liveAtEnd, endedByFaults, failuresIfSurvived };
}

/**
 * Per-period probability that a watcher catches a data set with a dropped fraction x by off-chain sampling and
 * challenges it: present with probability `presence`, it takes a Poisson number of samples (mean `samples`), each
 * fails with probability x, and it challenges after `run` failures in a row (counted as x^run per sample).
 */
export function samplingHazard(x: number, samples: number, run: number, presence: number): number {
  return presence * (1 - Math.exp(-samples * x ** run));
}
