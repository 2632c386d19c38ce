/**
 * What the provider accepts, as pure functions of a proposal, the configured policy, the market's limits and
 * the chain clock. Clients can import `minPricePerSecond` and `maxCollateral` to build acceptable proposals.
 */
import type { DealExtension } from "../sdk/deals/eip712.js";
import type { DealProposal, DealTerms } from "../sdk/deals/terms.js";
import type { AgentPolicy } from "./config.js";

export const MIB = 1n << 20n;
export const GIB = 1n << 30n;
export const TIB = 1n << 40n;
/** A "month" of the price unit: 30 days. */
export const MONTH_SECONDS = 30n * 86_400n;

/** The market's bounds a proposal must respect to be publishable at all. */
export interface MarketLimits {
  provingPeriod: bigint;
  minDealPeriods: bigint;
  maxDealPeriods: bigint;
  maxPieceSize: bigint;
}

export type Verdict = { ok: true } | { ok: false; code: "BAD_PROPOSAL" | "POLICY_REJECTED"; reason: string };

export type ExtensionVerdict =
  { ok: true } | { ok: false; code: "BAD_EXTENSION" | "POLICY_REJECTED"; reason: string };

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** Lowest acceptable price per second for a piece of `size` bytes (at least 1). */
export function minPricePerSecond(
  policy: Pick<AgentPolicy, "pricePerTiBMonth" | "minPricePerSecondPerMiB">,
  size: bigint,
): bigint {
  let min = 1n;
  if (policy.pricePerTiBMonth !== null) {
    const byTiB = ceilDiv(policy.pricePerTiBMonth * size, TIB * MONTH_SECONDS);
    if (byTiB > min) min = byTiB;
  }
  if (policy.minPricePerSecondPerMiB !== null) {
    const byMiB = ceilDiv(policy.minPricePerSecondPerMiB * size, MIB);
    if (byMiB > min) min = byMiB;
  }
  return min;
}

/** The price the provider advertises per TiB-month (derived from the per-MiB price when only that is set). */
export function advertisedPricePerTiBMonth(
  policy: Pick<AgentPolicy, "pricePerTiBMonth" | "minPricePerSecondPerMiB">,
): bigint {
  const fromMiB =
    policy.minPricePerSecondPerMiB === null
      ? 0n
      : policy.minPricePerSecondPerMiB * (TIB / MIB) * MONTH_SECONDS;
  const direct = policy.pricePerTiBMonth ?? 0n;
  return direct > fromMiB ? direct : fromMiB;
}

/** Most collateral the provider locks for a piece of `size` bytes. */
export function maxCollateral(policy: Pick<AgentPolicy, "collateralPerGiB">, size: bigint): bigint {
  return ceilDiv(policy.collateralPerGiB * size, GIB);
}

/** Largest piece accepted: the policy's limit capped by the market's. */
export function effectiveMaxPieceSize(policy: AgentPolicy, limits: MarketLimits): bigint {
  return policy.maxPieceSize < limits.maxPieceSize ? policy.maxPieceSize : limits.maxPieceSize;
}

/** Longest deal accepted in periods: the policy's limit capped by the market's. */
export function effectiveMaxDurationPeriods(policy: AgentPolicy, limits: MarketLimits): bigint {
  return policy.maxDurationPeriods < limits.maxDealPeriods
    ? policy.maxDurationPeriods
    : limits.maxDealPeriods;
}

/**
 * Judge a proposal addressed to this provider. BAD_PROPOSAL: the market would revert it (or it is not for
 * us). POLICY_REJECTED: publishable, but outside what this provider accepts or can collateralise now.
 */
export function judgeProposal(
  proposal: DealProposal,
  ctx: {
    me: string;
    policy: AgentPolicy;
    limits: MarketLimits;
    now: bigint;
    /** Free stake minus the collateral already promised to pending uploads. */
    availableStake: bigint;
  },
): Verdict {
  const { policy, limits } = ctx;
  const bad = (reason: string): Verdict => ({ ok: false, code: "BAD_PROPOSAL", reason });
  const reject = (reason: string): Verdict => ({ ok: false, code: "POLICY_REJECTED", reason });

  if (proposal.provider.toLowerCase() !== ctx.me.toLowerCase()) {
    return bad(`the proposal is for provider ${proposal.provider}, this agent is ${ctx.me}`);
  }
  if (proposal.size === 0n) return bad("size must be positive");
  if (proposal.pricePerSecond === 0n) return bad("pricePerSecond must be positive");
  if (proposal.duration % limits.provingPeriod !== 0n) {
    return bad(`duration must be a multiple of the proving period (${limits.provingPeriod} s)`);
  }
  const periods = proposal.duration / limits.provingPeriod;
  if (periods < limits.minDealPeriods || periods > limits.maxDealPeriods) {
    return bad(`duration must be ${limits.minDealPeriods}..${limits.maxDealPeriods} periods`);
  }

  const maxSize = effectiveMaxPieceSize(policy, limits);
  if (proposal.size > maxSize) return reject(`piece too large: ${proposal.size} bytes > ${maxSize}`);
  const maxPeriods = effectiveMaxDurationPeriods(policy, limits);
  if (periods > maxPeriods) return reject(`duration too long: ${periods} periods > ${maxPeriods}`);
  const minPrice = minPricePerSecond(policy, proposal.size);
  if (proposal.pricePerSecond < minPrice) {
    return reject(`price too low: ${proposal.pricePerSecond} per second < ${minPrice}`);
  }
  const maxCol = maxCollateral(policy, proposal.size);
  if (proposal.collateral > maxCol) return reject(`collateral too high: ${proposal.collateral} > ${maxCol}`);
  const earliest = ctx.now + BigInt(policy.minStartDeadlineSeconds);
  if (proposal.startDeadline < earliest) {
    return reject(
      `start deadline too close: ${proposal.startDeadline} < ${earliest} (now + ${policy.minStartDeadlineSeconds} s)`,
    );
  }
  if (proposal.collateral > ctx.availableStake) {
    return reject(`insufficient stake: collateral ${proposal.collateral} > available ${ctx.availableStake}`);
  }
  return { ok: true };
}

/**
 * Judge a client's extension of one of this provider's live deals (`terms` are the deal's current terms).
 * BAD_EXTENSION: the market would revert it. POLICY_REJECTED: longer than this provider accepts, or its
 * deadline has passed (chain time).
 */
export function judgeExtension(
  terms: DealTerms,
  extension: DealExtension,
  ctx: { policy: AgentPolicy; limits: MarketLimits; now: bigint },
): ExtensionVerdict {
  const bad = (reason: string): ExtensionVerdict => ({ ok: false, code: "BAD_EXTENSION", reason });
  const reject = (reason: string): ExtensionVerdict => ({ ok: false, code: "POLICY_REJECTED", reason });

  if (extension.dealId !== terms.id)
    return bad(`the extension is for deal ${extension.dealId}, not ${terms.id}`);
  if (extension.newEndPeriod <= terms.endPeriod) {
    return bad(
      `newEndPeriod ${extension.newEndPeriod} must be after the deal's end period ${terms.endPeriod}`,
    );
  }
  const periods = extension.newEndPeriod - terms.startPeriod;
  if (periods > ctx.limits.maxDealPeriods) {
    return bad(`the deal would last ${periods} periods, more than the market's ${ctx.limits.maxDealPeriods}`);
  }
  const maxPeriods = effectiveMaxDurationPeriods(ctx.policy, ctx.limits);
  if (periods > maxPeriods) return reject(`deal too long: ${periods} periods in all > ${maxPeriods}`);
  if (extension.deadline <= ctx.now) {
    return reject(`the extension's deadline ${extension.deadline} has passed (chain time ${ctx.now})`);
  }
  return { ok: true };
}
