import type { ArgumentType, ContractFuture, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import { DEFAULT_ENDOWMENT } from "../../offchain/sdk/durability/endowment.js";

/**
 * Permanent-storage configuration of public networks when a parameter file does not set `permanent`
 * (docs/SPEC.md §16.2): the endowment arithmetic's defaults (offchain/sdk/durability/endowment.ts: 2.5 tokens per
 * TiB-month declining 0.5% a year, 200 years, k = 10 of n = 16, +50% for repairs, 1% fee) and placement terms for
 * hour-long periods (720 periods = 30 days funded ahead).
 */
export const NETWORK_PERMANENT_CONFIG = {
  referencePricePerTiBMonth: DEFAULT_ENDOWMENT.referencePricePerTiBMonth,
  declineBps: DEFAULT_ENDOWMENT.declineBps,
  horizonYears: DEFAULT_ENDOWMENT.horizonYears,
  dataShards: DEFAULT_ENDOWMENT.dataShards,
  totalShards: DEFAULT_ENDOWMENT.totalShards,
  repairAllowanceBps: DEFAULT_ENDOWMENT.repairAllowanceBps,
  feeBps: DEFAULT_ENDOWMENT.feeBps,
  maxPriceBps: 20_000n,
  collateralPerTiB: 100_000_000n,
  noticePeriods: 24n,
  prepaidPeriods: 720n,
  repairReward: 1_000_000n,
  offerWindow: 600n,
};

/**
 * The local chain's permanent storage: the network terms with a coding a handful of local providers can fill
 * (k = 2 of n = 3: every piece needs its own provider) and a one-minute offer window.
 */
export const LOCAL_PERMANENT_CONFIG = {
  ...NETWORK_PERMANENT_CONFIG,
  dataShards: 2n,
  totalShards: 3n,
  offerWindow: 60n,
};

/**
 * Deploy the durability contracts on `market`: the repair-mandate factory (which deploys the mandate
 * implementation) and permanent storage, whose reserve goes to `reserveRecipient`. Neither holds a role anywhere:
 * they use the market as any client does.
 */
export function buildDurabilitySuite(
  m: IgnitionModuleBuilder,
  market: ContractFuture<string>,
  reserveRecipient: ArgumentType,
  defaults: typeof NETWORK_PERMANENT_CONFIG = NETWORK_PERMANENT_CONFIG,
) {
  const config = m.getParameter("permanent", defaults);
  const repairMandateFactory = m.contract("RepairMandateFactory", [market]);
  const permanentStorage = m.contract("PermanentStorage", [market, config, reserveRecipient]);
  return { repairMandateFactory, permanentStorage };
}
