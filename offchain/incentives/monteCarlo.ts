/**
 * Monte Carlo of a partial drop, period by period, with a seeded PRNG (the same seed gives the same numbers):
 * every challenge is a byte-uniform draw over the provider's frozen bytes (clients' bytes of live data sets plus
 * self-dealt zeros), a watcher present with probability `watcherPresence` takes a Poisson number of samples of
 * each live data set and challenges it after `failuresBeforeChallenge` failed samples in a row, and a data set
 * that reached maxFaults faults is terminated in each later period with probability `terminationPresence`
 * (1: at once, the closed form's assumption). Used where the closed form is not exact (dilution while data sets
 * end, runs of failed samples across periods, late terminations) and to check it where it is.
 */
import { proofGas, tokensPerGas, type ModelGas } from "./gas.js";
import { BPS, MONTH_SECONDS, type ParameterSet, type Scenario } from "./parameters.js";
import type { DropStrategy } from "./storage.js";

/** mulberry32: a small, fast 32-bit PRNG; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A Poisson draw (Knuth; means here are small). */
function poisson(mean: number, random: () => number): number {
  if (mean <= 0) return 0;
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(random)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface MonteCarloOptions {
  trials: number;
  seed: number;
  /** Probability per period that someone terminates a data set that reached maxFaults. */
  terminationPresence: number;
}

export interface MonteCarloResult {
  gain: number;
  loss: number;
  /** Standard error of the mean of gain − loss. */
  standardError: number;
}

export function simulateDrop(
  set: ParameterSet,
  scenario: Scenario,
  gas: ModelGas,
  strategy: DropStrategy,
  options: MonteCarloOptions,
): MonteCarloResult {
  const random = seededRandom(options.seed);
  const P = set.provingPeriod;
  const periods = Math.max(1, Math.round((scenario.horizonMonths * MONTH_SECONDS) / P));
  const dataSets = Math.max(1, Math.round(scenario.providerTiB / scenario.dataSetTiB));
  const tibPer = scenario.providerTiB / dataSets;
  const revenue = (scenario.pricePerTiBMonth * P) / MONTH_SECONDS;
  const cost = (scenario.storageCostPerTiBMonth * P) / MONTH_SECONDS;
  const perGas = tokensPerGas(scenario.gwei, scenario.ethPrice);
  const proofTokens = proofGas(gas, scenario.providerTiB) * perGas;
  const samples = (scenario.samplesPerDataSetPerDay * P) / 86_400;
  const s = set.storage;
  const collateral = scenario.collateralPerTiB * tibPer;
  const keepBounty = 1 - s.faultTerminationBountyBps / BPS;
  const share = s.reporterShareBps / BPS;
  const bondPenalties = s.maxFaults + 2;
  const selfDealTiB = strategy.d * scenario.providerTiB;
  const selfDealGas =
    strategy.d > 0 ? Math.ceil(selfDealTiB / 1024) * (gas.createDataSet + gas.addPiece) * perGas : 0;
  let sum = 0;
  let sumSq = 0;
  let gainTotal = 0;
  let lossTotal = 0;
  for (let trial = 0; trial < options.trials; trial++) {
    let gain = 0;
    let loss = selfDealGas;
    const live = new Array<boolean>(dataSets).fill(true);
    const streak = new Array<number>(dataSets).fill(0);
    let faults = 0;
    let liveCount = dataSets;
    let charged = 0;
    for (let t = 0; t < periods; t++) {
      if (liveCount === 0) {
        // Every data set has ended: the rest of the horizon stores nothing and earns nothing.
        gain += cost * scenario.providerTiB * (periods - t);
        loss += revenue * scenario.providerTiB * (periods - t);
        break;
      }
      const liveTiB = liveCount * tibPer;
      // Storage: the dropped part of live data sets, all of ended ones.
      gain += cost * (scenario.providerTiB - (1 - strategy.x) * liveTiB);
      // Challenges: byte-uniform over live clients' bytes and self-dealt bytes.
      let failed = false;
      for (let c = 0; c < s.challengeCount; c++) {
        const u = random() * (liveTiB + selfDealTiB);
        if (u < liveTiB && random() < strategy.x) failed = true;
      }
      loss += revenue * (scenario.providerTiB - liveTiB);
      if (failed) {
        faults++;
        loss += revenue * liveTiB;
        gain += proofTokens;
        if (charged < bondPenalties) {
          charged++;
          loss += s.missedProofPenalty;
          gain += share * s.missedProofPenalty;
        }
      }
      for (let i = 0; i < dataSets; i++) {
        if (!live[i]) continue;
        let caught = false;
        if (random() < scenario.watcherPresence) {
          const n = poisson(samples, random);
          for (let k = 0; k < n && !caught; k++) {
            if (random() < strategy.x) {
              streak[i] = (streak[i] ?? 0) + 1;
              if ((streak[i] ?? 0) >= scenario.failuresBeforeChallenge) caught = true;
            } else {
              streak[i] = 0;
            }
          }
        }
        const terminated = faults >= s.maxFaults && random() < options.terminationPresence;
        if (caught || terminated) {
          live[i] = false;
          liveCount--;
          loss += collateral * keepBounty;
        }
      }
    }
    // Data sets still live at the horizon: a data set past maxFaults is terminated later; the others pay the
    // missed-fault penalty when they close.
    const closing =
      faults >= s.maxFaults
        ? collateral * keepBounty
        : Math.min(collateral, (collateral * s.missedFaultPenaltyBps * faults) / BPS);
    loss += liveCount * closing;
    const net = gain - loss;
    sum += net;
    sumSq += net * net;
    gainTotal += gain;
    lossTotal += loss;
  }
  const n = options.trials;
  const mean = sum / n;
  const variance = Math.max(0, sumSq / n - mean * mean);
  return {
    gain: gainTotal / n,
    loss: lossTotal / n,
    standardError: Math.sqrt(variance / Math.max(1, n - 1)),
  };
}
