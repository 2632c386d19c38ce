/**
 * Participation: is honesty profitable? Per month, for the scenario's provider:
 * storage — revenue − storage cost − gas (one proof per period, settlements every `settleEveryPeriods` with a
 * withdrawal, data set creation amortised over its lifetime) − capital cost of the collateral and the proof bond;
 * compute — one lease's margin over its running cost − heartbeat and settlement gas − capital cost of collateral.
 */
import { proofGas, tokensPerGas, type ModelGas } from "./gas.js";
import { MONTH_SECONDS, type ParameterSet, type Scenario } from "./parameters.js";

export interface HonestStorage {
  revenue: number;
  storageCost: number;
  gas: number;
  capital: number;
  profit: number;
}

export function honestStorage(set: ParameterSet, scenario: Scenario, gas: ModelGas): HonestStorage {
  const perGas = tokensPerGas(scenario.gwei, scenario.ethPrice);
  const periods = MONTH_SECONDS / set.provingPeriod;
  const dataSets = Math.max(1, Math.round(scenario.providerTiB / scenario.dataSetTiB));
  const settlements = periods / scenario.settleEveryPeriods;
  const gasUnits =
    periods * proofGas(gas, scenario.providerTiB) +
    settlements * (dataSets * gas.settlePerDataSet + gas.withdraw) +
    (dataSets * (gas.createDataSet + gas.addPiece)) / scenario.dataSetLifetimeMonths;
  const bond = (set.storage.maxFaults + 2) * set.storage.missedProofPenalty;
  const locked = scenario.collateralPerTiB * scenario.providerTiB + bond;
  const revenue = scenario.pricePerTiBMonth * scenario.providerTiB;
  const storageCost = scenario.storageCostPerTiBMonth * scenario.providerTiB;
  const capital = (locked * scenario.capitalRatePerYear * MONTH_SECONDS) / (365 * 86_400);
  const gasTokens = gasUnits * perGas;
  return {
    revenue,
    storageCost,
    gas: gasTokens,
    capital,
    profit: revenue - storageCost - gasTokens - capital,
  };
}

export interface HonestLease {
  revenue: number;
  runCost: number;
  gas: number;
  capital: number;
  profit: number;
}

export function honestLease(set: ParameterSet, scenario: Scenario, gas: ModelGas): HonestLease {
  const perGas = tokensPerGas(scenario.gwei, scenario.ethPrice);
  const revenue = scenario.leasePricePerSecond * MONTH_SECONDS;
  const runCost = revenue * scenario.leaseCostShare;
  const heartbeats = MONTH_SECONDS / set.compute.heartbeatPeriod;
  const gasTokens = (heartbeats * gas.heartbeat + 30 * (gas.settleLease + gas.withdraw)) * perGas;
  const capital = (scenario.leaseCollateral * scenario.capitalRatePerYear * MONTH_SECONDS) / (365 * 86_400);
  return { revenue, runCost, gas: gasTokens, capital, profit: revenue - runCost - gasTokens - capital };
}
