import type {
  ArgumentType,
  ContractFuture,
  IgnitionModuleBuilder,
  NamedArtifactContractDeploymentFuture,
} from "@nomicfoundation/ignition-core";

/**
 * Compute-market parameters used when a network's parameter file does not set them. Local chains use the
 * shortest heartbeat period (60 s) so leases, heartbeats and missed-heartbeat reports happen in front of a
 * developer; amounts are in units of the 6-decimal test token (0.1 token penalty per missed period, a fifth of it to the reporter, 1 token
 * buffer for closing an overdrawn lease).
 */
export const LOCAL_COMPUTE_PARAMETERS = {
  heartbeatPeriod: 60n,
  maxMissedHeartbeats: 3n,
  missedHeartbeatsPenaltyBps: 5000n,
  noNoticePenaltyBps: 5000n,
  treasuryShareBps: 1000n,
  minNoticeWindow: 60n,
  maxNoticeWindow: 30n * 86_400n,
  maxOrderLifetime: 7n * 86_400n,
  maxLeaseDuration: 365n * 86_400n,
  missedHeartbeatPenalty: 100_000n,
  closeBounty: 1_000_000n,
  reporterShareBps: 2000n,
};

/** Default deployment cap on the missed-heartbeat penalty parameter: 100 tokens of a 6-decimal token. */
export const DEFAULT_MAX_MISSED_HEARTBEAT_PENALTY = 100_000_000n;
/** Default deployment cap on the close bounty parameter: 100 tokens of a 6-decimal token. */
export const DEFAULT_MAX_CLOSE_BOUNTY = 100_000_000n;

/**
 * Deploy the compute market (and its linked parameter library) on `registry` with `admin` holding its roles.
 * The caller grants it MARKET_ROLE on the registry and hands its roles to the timelock (see buildStorageSuite,
 * which does both for every market of the suite).
 */
export function buildComputeMarket(
  m: IgnitionModuleBuilder,
  args: {
    registry: ContractFuture<string>;
    token: ContractFuture<string>;
    admin: ArgumentType;
    treasury: ArgumentType;
  },
): {
  computeMarket: NamedArtifactContractDeploymentFuture<"ComputeMarket">;
  computeParams: ContractFuture<"ComputeParams">;
} {
  const params = m.getParameter("compute", LOCAL_COMPUTE_PARAMETERS);
  const maxMissedHeartbeatPenalty = m.getParameter<bigint>(
    "maxMissedHeartbeatPenalty",
    DEFAULT_MAX_MISSED_HEARTBEAT_PENALTY,
  );
  const maxCloseBounty = m.getParameter<bigint>("maxCloseBounty", DEFAULT_MAX_CLOSE_BOUNTY);
  const computeParams = m.library("ComputeParams");
  const computeMarket = m.contract(
    "ComputeMarket",
    [args.registry, args.token, args.admin, args.treasury, maxMissedHeartbeatPenalty, maxCloseBounty, params],
    { libraries: { ComputeParams: computeParams } },
  );
  return { computeMarket, computeParams };
}
