/**
 * Agents also rent out compute: prices per millicore-second and MiB-second in tokens (0.072 tokens per
 * core-hour, 0.0036 per MiB-hour)
 * with a margin that differs per agent, so the bids differ and the cheapest wins; short funding minimum and
 * notice window for a story told in minutes.
 */
export function enableCompute(config: Record<string, unknown>, index: number): void {
  const compute = (config.compute ?? {}) as Record<string, unknown>;
  config.compute = {
    ...compute,
    enabled: true,
    pricePerMillicoreSecond: "0.00002",
    pricePerMiBSecond: "0.000001",
    minMarginBps: 1000 * (index + 1),
    collateralPerLease: "20",
    noticeWindowSeconds: 120,
    minFundedSeconds: 30,
    settleEverySeconds: 60,
  };
}

/**
 * Agents also take permanent pieces: offers from 2 tokens per TiB-month up by 0.25 per agent (the local reference
 * price is 2.5, its ceiling 5), so the cheapest offer for a slot differs from agent to agent.
 */
export function enablePermanent(config: Record<string, unknown>, index: number, price?: string): void {
  const permanent = (config.permanent ?? {}) as Record<string, unknown>;
  config.permanent = { ...permanent, enabled: true, pricePerTiBMonth: price ?? String(2 + index / 4) };
}
