/**
 * What the provider accepts, as pure functions of the signed creation terms, the configured offer and the chain
 * clock: a data set opens only on the provider's own offer (the client reads it from GET /v1/terms).
 */
import type { CreateDataSet } from "../sdk/datasets/eip712.js";
import type { AgentPolicy } from "./config.js";

export type Verdict = { ok: true } | { ok: false; code: "BAD_TERMS" | "POLICY_REJECTED"; reason: string };

/**
 * Judge creation terms addressed to this provider. BAD_TERMS: the market would revert them (or they are not for
 * us). POLICY_REJECTED: valid, but not this provider's offer.
 */
export function judgeCreateTerms(
  terms: CreateDataSet,
  ctx: { me: string; policy: AgentPolicy; now: bigint; maxNoticePeriods: bigint },
): Verdict {
  const { policy } = ctx;
  if (terms.provider.toLowerCase() !== ctx.me.toLowerCase()) {
    return {
      ok: false,
      code: "BAD_TERMS",
      reason: `the terms are for provider ${terms.provider}, this agent is ${ctx.me}`,
    };
  }
  if (terms.deadline <= ctx.now) {
    return {
      ok: false,
      code: "BAD_TERMS",
      reason: `the deadline ${terms.deadline} has passed (chain time ${ctx.now})`,
    };
  }
  if (terms.noticePeriods > ctx.maxNoticePeriods) {
    return {
      ok: false,
      code: "BAD_TERMS",
      reason: `notice ${terms.noticePeriods} periods is above the market's ${ctx.maxNoticePeriods}`,
    };
  }
  const reject = (field: string, got: bigint, want: bigint): Verdict => ({
    ok: false,
    code: "POLICY_REJECTED",
    reason: `${field} ${got} is not this provider's ${want}`,
  });
  if (terms.pricePerTiBMonth !== policy.pricePerTiBMonth) {
    return reject("pricePerTiBMonth", terms.pricePerTiBMonth, policy.pricePerTiBMonth);
  }
  if (terms.collateralPerTiB !== policy.collateralPerTiB) {
    return reject("collateralPerTiB", terms.collateralPerTiB, policy.collateralPerTiB);
  }
  if (terms.noticePeriods !== BigInt(policy.noticePeriods)) {
    return reject("noticePeriods", terms.noticePeriods, BigInt(policy.noticePeriods));
  }
  return { ok: true };
}
