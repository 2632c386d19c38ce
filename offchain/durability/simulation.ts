// A seeded simulation of one permanent file over centuries (docs/SPEC.md §16.2), run against the contracts' own
// pricing and repair rules: the quote and release schedule of EndowmentMath (../sdk/durability/endowment.ts, exact to the base
// unit), the repair-reward cap and the escrow of DurabilityRules, and the k-of-n loss rule of PermanentStorage.
import {
  BPS,
  decay,
  LEAVES_PER_TIB,
  quote,
  released,
  storageCost,
  WAD,
  type EndowmentConfig,
} from "../sdk/durability/endowment.js";

/** What the simulation needs besides the endowment configuration. */
export interface SimulationParams {
  config: EndowmentConfig;
  /** Years simulated. */
  years: number;
  /** Fraction of a file's providers failing (for good) per 30-day month. */
  churnPerMonth: number;
  /** Days between a piece's loss and its re-placement (one simulation step). */
  repairDays: number;
  /** Leaves (64 bytes) per piece. */
  pieceSpan: bigint;
  /** Offers as a fraction of the reference price (the cheapest offer wins). */
  offerPriceFactorBps: bigint;
  /** Actual yearly decline of storage prices (the quote assumes `config.declineBps`). */
  actualDeclineBps: bigint;
  /** Market proving period, seconds. */
  provingPeriod: bigint;
  noticePeriods: bigint;
  prepaidPeriods: bigint;
  collateralPerTiB: bigint;
  providerTerminationFeeBps: bigint;
  repairReward: bigint;
  /** Gas of one re-placement (offer, award, create, place, state, confirm) and its price, in tokens per gas
   *  unit scaled by 1e18 (gas price × token per native coin). */
  repairGas: bigint;
  tokenWeiPerGas: bigint;
  trials: number;
  seed: number;
}

/** One row of bench/durability.json. */
export interface SimulationRow {
  years: number;
  churnPerMonth: number;
  /** Probability the file survives the whole horizon (exact under the model; see `exactSurvival`). */
  survival: number;
  /** Mean principal left at the end over the trials, as a fraction of the principal paid. */
  principalLeftFraction: number;
  /** Mean number of re-placements per file over the horizon. */
  repairs: number;
}

/** Details beside the row (printed, drawn). */
export interface SimulationResult {
  row: SimulationRow;
  principal: bigint;
  /** Trials that lost the file (k-of-n) or ran out of released principal. */
  lostTrials: number;
  ranOutTrials: number;
  /** Mean principal-left fraction at the start of each year. */
  leftByYear: number[];
  /** Capped reward per repair and the gas it must pay for, in token base units. */
  rewardPerRepair: bigint;
  gasPerRepair: bigint;
}

/** Mulberry32: a small seeded PRNG (uniform in [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Probability that one piece's provider fails within `days`, from a monthly (30-day) churn. */
export function stepChurn(churnPerMonth: number, days: number): number {
  return 1 - Math.pow(1 - churnPerMonth, days / 30);
}

function binomialPmf(n: number, p: number): number[] {
  const out: number[] = [];
  let c = 1;
  for (let j = 0; j <= n; j++) {
    out.push(c * Math.pow(p, j) * Math.pow(1 - p, n - j));
    c = (c * (n - j)) / (j + 1);
  }
  return out;
}

/** Probability that more than n − k of n pieces fail within one repair step (the file is then lost). */
export function stepLossProbability(n: number, k: number, p: number): number {
  return binomialPmf(n, p)
    .slice(n - k + 1)
    .reduce((a, b) => a + b, 0);
}

/**
 * Survival over `years` when every lost piece is re-placed within `repairDays`: the file is lost only when more
 * than n − k pieces fail within one step, so survival = (1 − P(Bin(n, p_step) > n − k))^steps.
 */
export function exactSurvival(
  n: number,
  k: number,
  churnPerMonth: number,
  repairDays: number,
  years: number,
) {
  const steps = Math.round((years * 365) / repairDays);
  const q = stepLossProbability(n, k, stepChurn(churnPerMonth, repairDays));
  return Math.exp(steps * Math.log1p(-q));
}

/** DurabilityRules.rewardCap for a piece of `span` leaves at `collateralPerTiB`. */
export function rewardCap(collateralPerTiB: bigint, span: bigint, feeBps: bigint): bigint {
  let c = 0n;
  while (1n << c < span) c++;
  const locked = (collateralPerTiB * (1n << c) + LEAVES_PER_TIB - 1n) / LEAVES_PER_TIB;
  return (locked * feeBps) / BPS / 2n;
}

/** Run the simulation; deterministic for a given seed. */
export function simulate(p: SimulationParams): SimulationResult {
  const n = Number(p.config.totalShards);
  const k = Number(p.config.dataShards);
  const { principal } = quote(p.config, p.pieceSpan);
  const stepSeconds = BigInt(Math.round(p.repairDays * 86_400));
  const stepsPerYear = Math.round(365 / p.repairDays);
  const pStep = stepChurn(p.churnPerMonth, p.repairDays);
  const cap = rewardCap(p.collateralPerTiB, p.pieceSpan, p.providerTerminationFeeBps);
  const rewardPerRepair = p.repairReward < cap ? p.repairReward : cap;
  const gasPerRepair = (p.repairGas * p.tokenWeiPerGas) / WAD;
  // Per year: the offer price (reference × factor, declining at the actual rate), the storage of n pieces for one
  // step, and what one repair costs the file: the reward plus the escrow stranded in the lost data set (lockup and,
  // on average, half the prepaid horizon; it goes to the reserve, not back to the file).
  const stepCost: bigint[] = [];
  const repairCost: bigint[] = [];
  const releasedBy: bigint[] = [];
  for (let y = 0; y < p.years; y++) {
    const factor = decay(p.actualDeclineBps, BigInt(y));
    const price = (((p.config.referencePricePerTiBMonth * p.offerPriceFactorBps) / BPS) * factor) / WAD;
    stepCost.push(storageCost(price, p.pieceSpan * BigInt(n), stepSeconds));
    const stranded = storageCost(
      price,
      p.pieceSpan,
      (p.noticePeriods + 2n + p.prepaidPeriods / 2n) * p.provingPeriod,
    );
    repairCost.push(rewardPerRepair + stranded);
    releasedBy.push(released(p.config, principal, BigInt(y)));
  }
  const rand = prng(p.seed);
  const pmf = binomialPmf(n, pStep);
  const cdf: number[] = [];
  pmf.reduce((acc, v) => {
    cdf.push(acc + v);
    return acc + v;
  }, 0);
  const failures = () => {
    const u = rand();
    let j = 0;
    while (j < n && u > (cdf[j] ?? 1)) j++;
    return j;
  };
  let lostTrials = 0;
  let ranOutTrials = 0;
  let repairsTotal = 0;
  let leftTotal = 0;
  const leftByYear = new Array<number>(p.years).fill(0);
  for (let t = 0; t < p.trials; t++) {
    let spent = 0n;
    let alive = true;
    for (let y = 0; y < p.years && alive; y++) {
      leftByYear[y] = (leftByYear[y] ?? 0) + Number(principal - spent) / Number(principal);
      const cap = releasedBy[y] ?? principal;
      const sc = stepCost[y] ?? 0n;
      const rc = repairCost[y] ?? 0n;
      for (let s = 0; s < stepsPerYear; s++) {
        const f = failures();
        if (f > n - k) {
          alive = false;
          lostTrials++;
          break;
        }
        repairsTotal += f;
        spent += sc + BigInt(f) * rc;
        if (spent > cap) {
          alive = false;
          ranOutTrials++;
          break;
        }
      }
    }
    if (alive) leftTotal += Number(principal - spent) / Number(principal);
  }
  const survivors = p.trials - lostTrials - ranOutTrials;
  // Running out of principal is deterministic in the spending, not a rare event: it counts in full.
  const survival =
    ranOutTrials > 0 ? survivors / p.trials : exactSurvival(n, k, p.churnPerMonth, p.repairDays, p.years);
  return {
    row: {
      years: p.years,
      churnPerMonth: p.churnPerMonth,
      survival,
      principalLeftFraction: survivors === 0 ? 0 : leftTotal / survivors,
      repairs: repairsTotal / p.trials,
    },
    principal,
    lostTrials,
    ranOutTrials,
    leftByYear: leftByYear.map((v) => v / p.trials),
    rewardPerRepair,
    gasPerRepair,
  };
}

/** Defaults matching deploy/lib/durabilitySuite.ts (hour-long periods there; a day here, as a public network). */
export const DEFAULT_SIMULATION = {
  repairDays: 7,
  pieceSpan: 1n << 28n, // 16 GiB pieces: a 160 GiB file at k = 10
  offerPriceFactorBps: 10_000n,
  provingPeriod: 86_400n,
  noticePeriods: 7n,
  prepaidPeriods: 60n,
  collateralPerTiB: 100_000_000n,
  providerTerminationFeeBps: 2_000n,
  repairReward: 1_000_000n,
  // Measured (hardhat test --gas-stats, test/durability): offer 91k + award 108k + createDataSet ~150k + place 231k
  // + state ~60k + confirm 161k for a permanent piece.
  repairGas: 800_000n,
  // 0.01 gwei at 3,000 tokens (6 decimals) per coin: 1e7 wei × 3e9 base units / 1e18 per gas unit, scaled by 1e18.
  tokenWeiPerGas: 10_000_000n * 3_000_000_000n,
  trials: 400,
  seed: 20261205,
} as const;
