/**
 * Storage provider deviations (issue 12's list) under the proof-bond rules (incentives design S1–S4), in closed
 * form. One provider holds `providerTiB` for clients in data sets of `dataSetTiB`; every result is the expected
 * gain and loss against honest behaviour over `horizonMonths`.
 *
 * Rules modelled: a period is paid only when the provider's one proof over all its data sets passes; a missed
 * period is unpaid for every data set, slashes `missedProofPenalty` from the locked proof bond of
 * (maxFaults + 2) penalties (the provider may report itself and keep `reporterShareBps` of it), and counts one
 * fault on every data set (`missedFaultPenaltyBps` of its collateral at closing); at `maxFaults` faults a data set
 * can be terminated with its whole collateral slashed (`faultTerminationBountyBps` to the caller, who may be the
 * provider). Watchers sample retrievals off chain and challenge after failures; an unanswered challenge slashes
 * the data set's whole collateral. The deviating provider is assumed to capture every bounty it can.
 */
import { proofGas, tokensPerGas, type ModelGas } from "./gas.js";
import { BPS, MONTH_SECONDS, type ParameterSet, type Scenario } from "./parameters.js";
import { failureHorizon, periodFailure, samplingHazard } from "./probability.js";
import { RESIDUAL_DEVIATIONS, type DeviationResult, type StorageDeviation } from "./deviation.js";

/** Derived quantities of one parameter set and scenario. */
export interface StorageContext {
  /** Periods in the horizon. */
  periods: number;
  tib: number;
  dataSets: number;
  /** Revenue and storage cost of one TiB for one period. */
  revenuePerTiBPeriod: number;
  costPerTiBPeriod: number;
  /** Collateral of the whole provider and of one data set. */
  collateral: number;
  dataSetCollateral: number;
  notice: number;
  /** Tokens of one proof, one settlement of one data set. */
  proofTokens: number;
  gasTokens: number;
  /** Watcher samples of one data set per period. */
  samplesPerPeriod: number;
  /** Penalties the proof bond holds (S1). */
  bondPenalties: number;
}

export function storageContext(set: ParameterSet, scenario: Scenario, gas: ModelGas): StorageContext {
  const P = set.provingPeriod;
  const perPeriod = P / MONTH_SECONDS;
  const gasTokens = tokensPerGas(scenario.gwei, scenario.ethPrice);
  return {
    periods: Math.max(1, Math.round((scenario.horizonMonths * MONTH_SECONDS) / P)),
    tib: scenario.providerTiB,
    dataSets: Math.max(1, Math.round(scenario.providerTiB / scenario.dataSetTiB)),
    revenuePerTiBPeriod: scenario.pricePerTiBMonth * perPeriod,
    costPerTiBPeriod: scenario.storageCostPerTiBMonth * perPeriod,
    collateral: scenario.collateralPerTiB * scenario.providerTiB,
    dataSetCollateral: scenario.collateralPerTiB * scenario.dataSetTiB,
    notice: Math.min(scenario.noticePeriods, set.storage.maxNoticePeriods),
    proofTokens: proofGas(gas, scenario.providerTiB) * gasTokens,
    gasTokens,
    samplesPerPeriod: (scenario.samplesPerDataSetPerDay * P) / 86_400,
    bondPenalties: set.storage.maxFaults + 2,
  };
}

const bps = (value: number) => value / BPS;

/** Dropped fractions and self-deal dilutions (self-dealt bytes per client byte) the deviating provider tries. */
export const DROP_FRACTIONS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1] as const;
export const DILUTIONS = [1, 10, 100, 1_000, 10_000] as const;

/** A provider that dropped fraction x of its clients' bytes and holds d self-dealt bytes per client byte. */
export interface DropStrategy {
  x: number;
  d: number;
}

/**
 * Closed form of a partial drop: each period the proof fails with probability 1 − (1 − x/(1 + d))^c, each data
 * set is caught by sampling at the watchers' hazard, and all data sets end at the maxFaults-th failure
 * (terminated at once). Exact for d = 0; with d > 0 the dilution is taken as constant while data sets end.
 */
export function partialDrop(set: ParameterSet, scenario: Scenario, gas: ModelGas, s: DropStrategy) {
  const ctx = storageContext(set, scenario, gas);
  const q = periodFailure(s.x / (1 + s.d), set.storage.challengeCount);
  const hazard = samplingHazard(
    s.x,
    ctx.samplesPerPeriod,
    scenario.failuresBeforeChallenge,
    scenario.watcherPresence,
  );
  const h = failureHorizon(ctx.periods, q, set.storage.maxFaults, hazard);
  const T = ctx.periods;
  const kept = 1 - s.x;
  const storageSaved = ctx.tib * ctx.costPerTiBPeriod * (T - kept * h.livePeriods);
  const proofGasSaved = h.failures * ctx.proofTokens;
  const revenueLost = ctx.tib * ctx.revenuePerTiBPeriod * (h.failures + (T - h.livePeriods));
  const share = bps(set.storage.reporterShareBps);
  const bondPenalty = Math.min(h.failures, ctx.bondPenalties) * set.storage.missedProofPenalty;
  const endedLoss = ctx.collateral * h.ended * (1 - bps(set.storage.faultTerminationBountyBps));
  const closingPenalty = Math.min(
    ctx.collateral * (1 - h.ended),
    ctx.collateral * bps(set.storage.missedFaultPenaltyBps) * h.failuresIfSurvived,
  );
  // Self-deals: zero-collateral data sets of up to 1 PiB, one creation and one signed state each.
  const selfDeals = s.d > 0 ? Math.ceil((s.d * ctx.tib) / 1024) : 0;
  const selfDealGas = selfDeals * (gas.createDataSet + gas.addPiece) * ctx.gasTokens;
  return {
    gain: storageSaved + proofGasSaved + share * bondPenalty,
    loss: revenueLost + bondPenalty + endedLoss + closingPenalty + selfDealGas,
    q,
    hazard,
    horizon: h,
  };
}

/** The strategy of a grid that maximises gain − loss. */
export function bestDrop(
  set: ParameterSet,
  scenario: Scenario,
  gas: ModelGas,
  dilutions: readonly number[],
): { strategy: DropStrategy; gain: number; loss: number } {
  let best: { strategy: DropStrategy; gain: number; loss: number } | undefined;
  for (const d of dilutions) {
    for (const x of DROP_FRACTIONS) {
      const r = partialDrop(set, scenario, gas, { x, d });
      if (best === undefined || r.gain - r.loss > best.gain - best.loss) {
        best = { strategy: { x, d }, gain: r.gain, loss: r.loss };
      }
    }
  }
  if (best === undefined) throw new Error("no strategy to evaluate");
  return best;
}

const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;

/** Walk away without notice (every data set): against leaving honestly with notice and the termination fee. */
function walkAway(set: ParameterSet, ctx: StorageContext, selfReport: boolean) {
  const F = set.storage.maxFaults;
  const penalties = Math.min(F, ctx.bondPenalties) * set.storage.missedProofPenalty;
  const share = selfReport ? bps(set.storage.reporterShareBps) : 0;
  const bounty = selfReport ? bps(set.storage.faultTerminationBountyBps) * ctx.collateral : 0;
  return {
    gain:
      ctx.notice * (ctx.tib * ctx.costPerTiBPeriod + ctx.proofTokens) +
      bps(set.storage.providerTerminationFeeBps) * ctx.collateral +
      share * penalties +
      bounty,
    loss: ctx.notice * ctx.tib * ctx.revenuePerTiBPeriod + ctx.collateral + penalties,
  };
}

export function storageDeviation(
  name: StorageDeviation,
  set: ParameterSet,
  scenario: Scenario,
  gas: ModelGas,
): DeviationResult {
  const ctx = storageContext(set, scenario, gas);
  const base = {
    deviation: name,
    market: "storage" as const,
    residual: RESIDUAL_DEVIATIONS.includes(name),
  };
  switch (name) {
    case "drop-all":
      return { ...base, ...walkAway(set, ctx, false), strategy: "delete everything and stop proving" };
    case "keep-fraction": {
      const best = bestDrop(set, scenario, gas, [0]);
      return {
        ...base,
        gain: best.gain,
        loss: best.loss,
        strategy: `drop ${pct(best.strategy.x)} of the bytes`,
      };
    }
    case "dilute-self-deals": {
      const best = bestDrop(set, scenario, gas, DILUTIONS);
      return {
        ...base,
        gain: best.gain,
        loss: best.loss,
        strategy: `drop ${pct(best.strategy.x)}, self-deal ${best.strategy.d}× the clients' bytes (zeros, no collateral)`,
      };
    }
    case "declare-faults": {
      // Declare one data set faulty for maxFaults − 1 periods (one more would let anyone terminate it), as if its
      // bytes could be set aside meanwhile: saves their cost and a share of the proof, forgoes their revenue.
      const n = set.storage.maxFaults - 1;
      return {
        ...base,
        gain: n * (scenario.dataSetTiB * ctx.costPerTiBPeriod + ctx.proofTokens / ctx.dataSets),
        loss:
          n *
          (scenario.dataSetTiB * ctx.revenuePerTiBPeriod +
            bps(set.storage.declaredFaultPenaltyBps) * ctx.dataSetCollateral),
        strategy: `declare one data set faulty for ${n} period(s)`,
      };
    }
    case "escape-retrieval-challenge": {
      // A provider that cannot answer terminates the data set: the escape works when the data set ends before
      // the deadline (challenge opened uniformly in a period, notice n): probability (W − n·P)/P, clamped.
      const P = set.provingPeriod;
      const reach = Math.min(1, Math.max(0, (set.retrieval.responseWindow - ctx.notice * P) / P));
      const avoided = reach * ctx.dataSetCollateral;
      return {
        ...base,
        gain: avoided,
        loss: avoided * bps(set.storage.challengeEscapeFeeBps),
        strategy: `terminate while challenged (reaches the end before the deadline with probability ${pct(reach)})`,
      };
    }
    case "serve-watchers-not-clients":
      return {
        ...base,
        gain: ctx.tib * scenario.readTiBPerTiBMonth * scenario.egressCostPerTiB * scenario.horizonMonths,
        loss: 0,
        strategy: "answer samples and challenges, refuse clients' bulk reads",
      };
    case "share-one-copy":
      return {
        ...base,
        gain: ctx.tib * ctx.costPerTiBPeriod * ctx.periods,
        loss: 0,
        strategy: "a second identity proves from the same physical copy (or fetches challenged leaves)",
      };
    case "self-report-bounty": {
      // Either skip one proof and report it yourself, or walk away and report and terminate yourself.
      const share = bps(set.storage.reporterShareBps);
      const one = {
        gain: share * set.storage.missedProofPenalty + ctx.proofTokens,
        loss:
          set.storage.missedProofPenalty +
          ctx.tib * ctx.revenuePerTiBPeriod +
          bps(set.storage.missedFaultPenaltyBps) * ctx.collateral,
      };
      const away = walkAway(set, ctx, true);
      const worst = one.gain - one.loss >= away.gain - away.loss ? one : away;
      return {
        ...base,
        ...worst,
        strategy:
          worst === one
            ? "skip one proof, report it from another address"
            : "walk away, report the misses and terminate from another address",
      };
    }
    case "unfunded-bounties": {
      // Walk away with no free stake: only what the locked bond covers is slashed. Under S1 the bond holds
      // maxFaults + 2 penalties, more than are charged before the data sets can be terminated.
      const away = walkAway(set, ctx, false);
      const uncovered =
        Math.max(0, set.storage.maxFaults - ctx.bondPenalties) * set.storage.missedProofPenalty;
      return {
        ...base,
        gain: away.gain + uncovered,
        loss: away.loss,
        strategy: "walk away with no free stake",
      };
    }
  }
}

/** Whether a watcher is paid more than its gas for reporting a missed period (else only clients report). */
export function watcherReportPays(set: ParameterSet, scenario: Scenario, gas: ModelGas): boolean {
  const reward = bps(set.storage.reporterShareBps) * set.storage.missedProofPenalty;
  return reward > gas.reportMissedProof * tokensPerGas(scenario.gwei, scenario.ethPrice);
}
