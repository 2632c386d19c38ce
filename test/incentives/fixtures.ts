/** A hand-sized parameter set, scenario and gas for the incentive model's unit tests. */
import {
  checkScenario,
  parameterSetSchema,
  type ModelGas,
  type ParameterSet,
  type Scenario,
} from "../../offchain/incentives/index.js";

/** Daily periods (30 per billing month), round numbers. */
export function testSet(
  overrides: { storage?: Partial<ParameterSet["storage"]>; compute?: Partial<ParameterSet["compute"]> } = {},
): ParameterSet {
  return parameterSetSchema.parse({
    name: "test",
    provingPeriod: 86_400,
    storage: {
      challengeCount: 4,
      maxFaults: 5,
      missedFaultPenaltyBps: 1_000,
      declaredFaultPenaltyBps: 500,
      providerTerminationFeeBps: 2_000,
      faultTerminationBountyBps: 1_000,
      treasuryShareBps: 1_000,
      maxNoticePeriods: 720,
      missedProofPenalty: 1,
      reporterShareBps: 2_000,
      challengeEscapeFeeBps: 10_000,
      ...overrides.storage,
    },
    retrieval: { responseWindow: 21_600, bond: 1 },
    compute: {
      heartbeatPeriod: 3_600,
      maxMissedHeartbeats: 3,
      missedHeartbeatsPenaltyBps: 5_000,
      noNoticePenaltyBps: 5_000,
      treasuryShareBps: 1_000,
      missedHeartbeatPenalty: 1,
      reporterShareBps: 2_000,
      closeBounty: 1,
      ...overrides.compute,
    },
  });
}

/** 10 TiB at 3 per TiB-month, cost 1.5, 20 per TiB of collateral, notice 2 periods, free gas. */
export function testScenario(overrides: Partial<Scenario> = {}): Scenario {
  return checkScenario({
    providerTiB: 10,
    dataSetTiB: 1,
    pricePerTiBMonth: 3,
    collateralPerTiB: 20,
    noticePeriods: 2,
    storageCostPerTiBMonth: 1.5,
    egressCostPerTiB: 2,
    readTiBPerTiBMonth: 0.1,
    horizonMonths: 1,
    gwei: 0,
    ethPrice: 3_000,
    capitalRatePerYear: 0.05,
    watcherPresence: 0.5,
    samplesPerDataSetPerDay: 4,
    failuresBeforeChallenge: 3,
    settleEveryPeriods: 6,
    dataSetLifetimeMonths: 12,
    leasePricePerSecond: 0.00001,
    leaseCostShare: 0.8,
    leaseCollateral: 10,
    leaseNoticeSeconds: 3_600,
    overdraftCloseSeconds: 3_600,
    tenantDetectSeconds: 86_400,
    ...overrides,
  });
}

export const testGas: ModelGas = {
  proof1TiB: 200_000,
  proof100TiB: 250_000,
  reportMissedProof: 80_000,
  settlePerDataSet: 25_000,
  withdraw: 50_000,
  createDataSet: 130_000,
  addPiece: 100_000,
  answerChallenge: 67_000,
  heartbeat: 29_000,
  settleLease: 46_000,
  reportMissedHeartbeat: 75_000,
};

/**
 * A `satisfy` predicate: the value is within `tolerance` of `expected`. (Once the Hardhat chai matchers are loaded by
 * another test file of the same run, chai's `closeTo` compares integers only and rejects fractions.)
 */
export const near =
  (expected: number, tolerance: number) =>
  (actual: number): boolean =>
    Math.abs(actual - expected) <= tolerance;
