/**
 * The worker's duties, in the order a tick runs them: time-critical reports first (a missed period is
 * reported before anything else spends the tick), then upkeep that may follow from them (terminating data sets
 * that reached maxFaults), then the lease keeper (missed heartbeats, overdrawn leases) when the deployment has
 * a compute market, then verification and retrieval checks.
 */
import type { WorkerConfig } from "../config.js";
import type { Duty } from "../context.js";
import { keeperDuty } from "./keeper.js";
import { leaseKeeperDuty } from "./leaseKeeper.js";
import { missedProofsDuty } from "./missedProofs.js";
import { proofVerifierDuty } from "./proofVerifier.js";
import { repairDuty } from "./repair.js";
import { retrievalChallengerDuty } from "./retrievalChallenger.js";
import { retrievalSamplerDuty } from "./retrievalSampler.js";

export { keeperDuty, storageKeeperTasks, type KeeperTask } from "./keeper.js";
export { leaseKeeperDuty } from "./leaseKeeper.js";
export { missedProofsDuty } from "./missedProofs.js";
export { proofVerifierDuty } from "./proofVerifier.js";
export { repairDuty, runRepairRound } from "./repair.js";
export { retrievalChallengerDuty } from "./retrievalChallenger.js";
export { retrievalSamplerDuty } from "./retrievalSampler.js";

/** Fresh duty instances for one worker (the sampler and the challenger keep per-worker state). */
export function defaultDuties(config: WorkerConfig): Duty[] {
  const duties: Duty[] = [missedProofsDuty, keeperDuty()];
  if (config.deployment.computeMarket !== null && config.leases.enabled) duties.push(leaseKeeperDuty());
  duties.push(proofVerifierDuty, retrievalSamplerDuty());
  // Without the retrieval-challenge contract, failed samples are only recorded and logged.
  if (config.deployment.retrievalChallenges !== null) duties.push(retrievalChallengerDuty());
  // Repairs need the mandate factory's address (not part of the market's deployment file).
  if (config.repair.enabled && config.repair.factory !== null) duties.push(repairDuty());
  return duties;
}
