import type { ArgumentType, ContractFuture, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import { id } from "ethers";
import { buildComputeMarket } from "./computeSuite.js";

export const MARKET_ROLE = id("MARKET_ROLE");
export const PARAMETER_ROLE = id("PARAMETER_ROLE");
export const PAUSER_ROLE = id("PAUSER_ROLE");
export const RETRIEVAL_ROLE = id("RETRIEVAL_ROLE");
export const DEFAULT_ADMIN_ROLE = "0x" + "00".repeat(32);

/** Market parameters used when a network's parameter file does not set them (local: short periods). */
export const LOCAL_MARKET_PARAMETERS = {
  proofWindow: 1800n,
  challengeCount: 2n,
  challengeFinality: 2n,
  maxFaults: 3n,
  missedFaultPenaltyBps: 1000n,
  declaredFaultPenaltyBps: 500n,
  providerTerminationFeeBps: 2000n,
  faultTerminationBountyBps: 1000n,
  treasuryShareBps: 1000n,
  maxNoticePeriods: 720n,
  maxDataSetSize: 1n << 50n,
  missedProofPenalty: 1_000_000n,
  reporterShareBps: 2000n,
};

/**
 * Retrieval-challenge parameters used when a network's parameter file does not set them: a provider has
 * 10 minutes to answer (a local chain mines on demand; public networks should give hours), and a challenge
 * bonds 5 tokens of the 6-decimal test token, well above the gas of an answer (~100k gas) on a local chain.
 */
export const LOCAL_RETRIEVAL_PARAMETERS = {
  responseWindow: 600n,
  bond: 5_000_000n,
};

/** Default deployment cap on the retrieval bond parameter: 1,000 tokens of a 6-decimal token. */
export const DEFAULT_MAX_RETRIEVAL_BOND = 1_000_000_000n;

/**
 * Deploy the registry, the storage market's libraries, the storage market, the retrieval-challenge contract,
 * the compute market (deploy/lib/computeSuite.ts) and the timelock around `token`; wire both markets into the
 * registry (MARKET_ROLE) and the retrieval-challenge contract into the storage market (RETRIEVAL_ROLE); hand
 * every admin, parameter and pauser role to the timelock and renounce the deployer's. `proposers`, `executors` and `treasury` may be futures or parameters.
 */
export function buildStorageSuite(
  m: IgnitionModuleBuilder,
  token: ContractFuture<string>,
  governance: { proposers: ArgumentType; executors: ArgumentType; treasury?: ArgumentType },
) {
  const deployer = m.getAccount(0);
  const timelockDelay = m.getParameter<bigint>("timelockDelay", 60n);
  const unbondingDelay = m.getParameter<bigint>("unbondingDelay", 3600n);
  const provingPeriod = m.getParameter<bigint>("provingPeriod", 3600n);
  const maxMissedProofPenalty = m.getParameter<bigint>("maxMissedProofPenalty", 100_000_000n);
  const marketParams = m.getParameter("market", LOCAL_MARKET_PARAMETERS);
  const retrievalParams = m.getParameter("retrieval", LOCAL_RETRIEVAL_PARAMETERS);
  const maxRetrievalBond = m.getParameter<bigint>("maxRetrievalBond", DEFAULT_MAX_RETRIEVAL_BOND);

  const timelock = m.contract("StrataTimelock", [
    timelockDelay,
    governance.proposers,
    governance.executors,
    "0x0000000000000000000000000000000000000000",
  ]);
  const registry = m.contract("ProviderRegistry", [token, deployer, unbondingDelay]);
  // Every library stands alone (they inline each other's internal helpers), so all deploy in one step.
  const storageParams = m.library("StorageParams");
  const dataSetAccrual = m.library("DataSetAccrual");
  const providerEpochs = m.library("ProviderEpochs");
  const dataSetProving = m.library("DataSetProving");
  const dataSetClosing = m.library("DataSetClosing");
  const marketViews = m.library("MarketViews");
  const dataSetUpdates = m.library("DataSetUpdates");
  const proofBond = m.library("ProofBond");
  const market = m.contract(
    "StorageMarket",
    [
      registry,
      token,
      deployer,
      governance.treasury ?? timelock,
      provingPeriod,
      maxMissedProofPenalty,
      marketParams,
    ],
    {
      libraries: {
        DataSetAccrual: dataSetAccrual,
        DataSetClosing: dataSetClosing,
        DataSetProving: dataSetProving,
        DataSetUpdates: dataSetUpdates,
        MarketViews: marketViews,
        ProofBond: proofBond,
        ProviderEpochs: providerEpochs,
        StorageParams: storageParams,
      },
    },
  );
  const marketRole = m.call(registry, "grantRole", [MARKET_ROLE, market], { id: "GrantMarketRole" });
  const retrievalChallenges = m.contract("RetrievalChallenges", [
    market,
    deployer,
    maxRetrievalBond,
    retrievalParams,
  ]);
  const retrievalRole = m.call(market, "grantRole", [RETRIEVAL_ROLE, retrievalChallenges], {
    id: "GrantRetrievalRole",
  });

  const { computeMarket, computeParams } = buildComputeMarket(m, {
    registry,
    token,
    admin: deployer,
    treasury: governance.treasury ?? timelock,
  });
  const computeMarketRole = m.call(registry, "grantRole", [MARKET_ROLE, computeMarket], {
    id: "GrantComputeMarketRole",
  });

  const roles = [
    [PARAMETER_ROLE, "Parameter"],
    [PAUSER_ROLE, "Pauser"],
    [DEFAULT_ADMIN_ROLE, "Admin"],
  ] as const;
  const targets = [
    [registry, "Registry"],
    [market, "Market"],
    [retrievalChallenges, "RetrievalChallenges"],
    [computeMarket, "ComputeMarket"],
  ] as const;
  const grants = targets.flatMap(([contract, name]) =>
    roles.map(([role, roleName]) =>
      m.call(contract, "grantRole", [role, timelock], {
        id: `${name}Grant${roleName}`,
        after: [marketRole, retrievalRole, computeMarketRole],
      }),
    ),
  );
  for (const [contract, name] of targets) {
    for (const [role, roleName] of roles) {
      m.call(contract, "renounceRole", [role, deployer], { id: `${name}Renounce${roleName}`, after: grants });
    }
  }
  return {
    registry,
    market,
    retrievalChallenges,
    computeMarket,
    timelock,
    dataSetProving,
    dataSetAccrual,
    storageParams,
    computeParams,
  };
}
