/**
 * The incentive model's inputs: a deployment's parameter set (what the contracts enforce, read from
 * deploy/parameters/*.json and checked against the contracts' bounds) and a scenario (what a provider, its
 * clients and tenants choose off chain: prices, collateral, costs, watcher presence). Amounts are in tokens
 * (the payment token has 6 decimals; 1 token is taken as 1 dollar), times in seconds.
 */
import { z } from "zod";
import { StrataError } from "../sdk/errors.js";

/** Base units per token (6-decimal payment token). */
export const TOKEN_UNIT = 1e6;
/** Seconds in the market's billing month (SPEC §4.2). */
export const MONTH_SECONDS = 2_592_000;
export const YEAR_SECONDS = 365 * 86_400;
export const BPS = 10_000;

/** The contracts' hard bounds (StorageParams, ComputeParams, the design's reporter share cap). */
export const BOUNDS = {
  provingPeriod: [60, 30 * 86_400],
  challengeCount: [1, 16],
  maxFaults: [1, 100],
  missedFaultPenaltyBps: [0, 5_000],
  providerTerminationFeeBps: [0, BPS],
  faultTerminationBountyBps: [0, 2_000],
  treasuryShareBps: [0, 5_000],
  maxNoticePeriods: [0, 10_000],
  reporterShareBps: [0, 5_000],
  heartbeatPeriod: [60, 86_400],
  maxMissedHeartbeats: [1, 100],
  missedHeartbeatsPenaltyBps: [0, BPS],
  noNoticePenaltyBps: [0, BPS],
} as const satisfies Record<string, readonly [number, number]>;

const bounded = (name: keyof typeof BOUNDS) =>
  z
    .number()
    .int()
    .min(BOUNDS[name][0], `${name} must be at least ${BOUNDS[name][0]}`)
    .max(BOUNDS[name][1], `${name} must be at most ${BOUNDS[name][1]}`);
const tokens = z.number().nonnegative();
const seconds = z.number().nonnegative();
const probability = z.number().min(0).max(1);

/** One deployment's rules, as the model reads them. */
export const parameterSetSchema = z
  .strictObject({
    name: z.string().min(1),
    provingPeriod: bounded("provingPeriod"),
    storage: z.strictObject({
      challengeCount: bounded("challengeCount"),
      maxFaults: bounded("maxFaults"),
      missedFaultPenaltyBps: bounded("missedFaultPenaltyBps"),
      declaredFaultPenaltyBps: bounded("missedFaultPenaltyBps"),
      providerTerminationFeeBps: bounded("providerTerminationFeeBps"),
      faultTerminationBountyBps: bounded("faultTerminationBountyBps"),
      treasuryShareBps: bounded("treasuryShareBps"),
      maxNoticePeriods: bounded("maxNoticePeriods"),
      /** Tokens slashed from the proof bond per missed period (S2). */
      missedProofPenalty: tokens,
      reporterShareBps: bounded("reporterShareBps"),
      /**
       * What terminating a data set costs while a retrieval challenge on it is open, in bps of its collateral
       * (S4/P3: the whole collateral). A lower value models a market where the escape is cheaper than failing.
       */
      challengeEscapeFeeBps: z.number().int().min(0).max(BPS),
    }),
    retrieval: z.strictObject({ responseWindow: seconds, bond: tokens }),
    compute: z.strictObject({
      heartbeatPeriod: bounded("heartbeatPeriod"),
      maxMissedHeartbeats: bounded("maxMissedHeartbeats"),
      missedHeartbeatsPenaltyBps: bounded("missedHeartbeatsPenaltyBps"),
      noNoticePenaltyBps: bounded("noNoticePenaltyBps"),
      treasuryShareBps: bounded("treasuryShareBps"),
      /** Tokens slashed from a lease's collateral per missed heartbeat period (C1). */
      missedHeartbeatPenalty: tokens,
      reporterShareBps: bounded("reporterShareBps"),
      closeBounty: tokens,
    }),
  })
  .refine((p) => p.storage.declaredFaultPenaltyBps <= p.storage.missedFaultPenaltyBps, {
    message: "declaredFaultPenaltyBps must not exceed missedFaultPenaltyBps",
    path: ["storage", "declaredFaultPenaltyBps"],
  });
export type ParameterSet = z.infer<typeof parameterSetSchema>;

/** What a provider (and its counterparties) choose: terms, costs, prices of gas and capital, watchers. */
export const scenarioSchema = z.strictObject({
  /** Bytes the provider holds for clients, TiB, in data sets of `dataSetTiB` each. */
  providerTiB: z.number().positive(),
  dataSetTiB: z.number().positive(),
  /** The provider's terms (agent defaults): tokens per TiB-month, tokens of collateral per TiB, notice periods. */
  pricePerTiBMonth: tokens,
  collateralPerTiB: tokens,
  noticePeriods: z.number().int().nonnegative(),
  /** The provider's cost of keeping one TiB for a month (disks, power, hosting), tokens. */
  storageCostPerTiBMonth: tokens,
  /** Egress cost of serving one TiB, and the TiB a client reads per TiB stored per month. */
  egressCostPerTiB: tokens,
  readTiBPerTiBMonth: z.number().nonnegative(),
  /** The time over which a deviation is weighed (one prepaid escrow), months. */
  horizonMonths: z.number().positive(),
  gwei: z.number().nonnegative(),
  ethPrice: z.number().nonnegative(),
  /** Yearly cost of the capital locked as collateral and bond. */
  capitalRatePerYear: z.number().nonnegative(),
  /** Probability that, in a given period, a watcher (or the harmed client) acts on a fault it can act on. */
  watcherPresence: probability,
  /** Off-chain retrieval samples a watcher takes of one data set per day when present, and the failures in a row
   * it waits for before opening a retrieval challenge (the worker's `sampling` defaults). */
  samplesPerDataSetPerDay: z.number().nonnegative(),
  failuresBeforeChallenge: z.number().int().positive(),
  /** The agent settles every this many periods; a data set lives this many months (its creation is amortised). */
  settleEveryPeriods: z.number().int().positive(),
  dataSetLifetimeMonths: z.number().positive(),
  /** One compute lease: price per second (tokens), the share of it the provider spends running the workload. */
  leasePricePerSecond: z.number().nonnegative(),
  leaseCostShare: z.number().min(0).max(1),
  leaseCollateral: tokens,
  leaseNoticeSeconds: seconds,
  /** How long a tenant that stopped paying keeps being served before the provider closes the overdrawn lease. */
  overdraftCloseSeconds: seconds,
  /** How long a tenant takes to notice that its workload does not run (heartbeats without work). */
  tenantDetectSeconds: seconds,
});
export type Scenario = z.infer<typeof scenarioSchema>;

/** Model defaults that are not the agent's or the worker's (those are passed in by the caller). */
export const SCENARIO_DEFAULTS = {
  providerTiB: 10,
  dataSetTiB: 1,
  storageCostPerTiBMonth: 1,
  egressCostPerTiB: 2,
  readTiBPerTiBMonth: 0.1,
  horizonMonths: 1,
  gwei: 0.01,
  ethPrice: 3_000,
  capitalRatePerYear: 0.05,
  watcherPresence: 0.5,
  dataSetLifetimeMonths: 12,
  tenantDetectSeconds: 86_400,
} as const satisfies Partial<Scenario>;

// ------------------------------------------------------------------ deploy/parameters/*.json adapter

const units = z.number().int().nonnegative();
const marketSchema = z.looseObject({
  challengeCount: units,
  maxFaults: units,
  missedFaultPenaltyBps: units,
  declaredFaultPenaltyBps: units,
  providerTerminationFeeBps: units,
  faultTerminationBountyBps: units,
  treasuryShareBps: units,
  maxNoticePeriods: units,
  missedProofPenalty: units,
  reporterShareBps: units,
});
const computeSchema = z.looseObject({
  heartbeatPeriod: units,
  maxMissedHeartbeats: units,
  missedHeartbeatsPenaltyBps: units,
  noNoticePenaltyBps: units,
  treasuryShareBps: units,
  missedHeartbeatPenalty: units,
  reporterShareBps: units,
  closeBounty: units,
});
const suiteSchema = z.looseObject({
  provingPeriod: units,
  market: marketSchema,
  retrieval: z.looseObject({ responseWindow: units, bond: units }),
  compute: computeSchema,
});
const fileSchema = z.record(z.string(), suiteSchema);

/**
 * The parameter set of a deploy/parameters file (its single module key's values), validated against the bounds.
 * A file without `missedProofPenalty`, `missedHeartbeatPenalty` or `reporterShareBps` (for example one written with
 * the former `missedProofBounty` / `missedHeartbeatBounty` keys) is refused. INVALID_ARGUMENT names the first problem.
 */
export function parameterSetFromFile(name: string, json: unknown): ParameterSet {
  const file = fileSchema.safeParse(json);
  const suites = file.success ? Object.values(file.data) : [];
  const suite = suites[0];
  if (suite === undefined || suites.length !== 1) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `parameter file ${name}: expected one module key with its parameters`,
      {
        details: file.success ? undefined : file.error.message,
      },
    );
  }
  const { market, compute } = suite;
  const set = parameterSetSchema.safeParse({
    name,
    provingPeriod: suite.provingPeriod,
    storage: {
      challengeCount: market.challengeCount,
      maxFaults: market.maxFaults,
      missedFaultPenaltyBps: market.missedFaultPenaltyBps,
      declaredFaultPenaltyBps: market.declaredFaultPenaltyBps,
      providerTerminationFeeBps: market.providerTerminationFeeBps,
      faultTerminationBountyBps: market.faultTerminationBountyBps,
      treasuryShareBps: market.treasuryShareBps,
      maxNoticePeriods: market.maxNoticePeriods,
      missedProofPenalty: market.missedProofPenalty / TOKEN_UNIT,
      reporterShareBps: market.reporterShareBps,
      challengeEscapeFeeBps: BPS,
    },
    retrieval: { responseWindow: suite.retrieval.responseWindow, bond: suite.retrieval.bond / TOKEN_UNIT },
    compute: {
      heartbeatPeriod: compute.heartbeatPeriod,
      maxMissedHeartbeats: compute.maxMissedHeartbeats,
      missedHeartbeatsPenaltyBps: compute.missedHeartbeatsPenaltyBps,
      noNoticePenaltyBps: compute.noNoticePenaltyBps,
      treasuryShareBps: compute.treasuryShareBps,
      missedHeartbeatPenalty: compute.missedHeartbeatPenalty / TOKEN_UNIT,
      reporterShareBps: compute.reporterShareBps,
      closeBounty: compute.closeBounty / TOKEN_UNIT,
    },
  });
  if (!set.success) {
    throw new StrataError("INVALID_ARGUMENT", `parameter file ${name}: out of the contracts' bounds`, {
      details: set.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    });
  }
  return set.data;
}

/** A scenario checked by its schema (INVALID_ARGUMENT names the fields). */
export function checkScenario(input: unknown): Scenario {
  const parsed = scenarioSchema.safeParse(input);
  if (!parsed.success) {
    throw new StrataError("INVALID_ARGUMENT", "incentive scenario is invalid", {
      details: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    });
  }
  return parsed.data;
}
