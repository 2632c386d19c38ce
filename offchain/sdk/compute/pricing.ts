/**
 * Price math shared by the provider agent (what to bid) and the CLI (what to offer, what a lease costs).
 * On chain every price is token base units per second; people read prices per hour, which is exact
 * (× 3600). A price typed per hour becomes per second rounded down, so the cap is never above what was typed.
 */
import type { ComputeResources } from "./orders.js";

export const SECONDS_PER_HOUR = 3600n;
export const BPS = 10_000n;

/**
 * Resource prices are finer than a token base unit (a millicore-second of a 6-decimal token costs a fraction
 * of a unit), so they are kept in billionths of a base unit; a cost is rounded up to whole units at the end.
 */
export const PRICE_SCALE = 1_000_000_000n;
const PRICE_DECIMALS = 9;

/** "0.005" (base units, up to 9 decimals) as billionths of a base unit; undefined when malformed. */
export function parseScaledPrice(text: string): bigint | undefined {
  const match = /^([0-9]+)(?:\.([0-9]{1,9}))?$/.exec(text);
  if (!match?.[1]) return undefined;
  return BigInt(match[1]) * PRICE_SCALE + BigInt((match[2] ?? "").padEnd(PRICE_DECIMALS, "0"));
}

/** Billionths of a base unit back to the decimal text `parseScaledPrice` reads. */
export function formatScaledPrice(scaled: bigint): string {
  const whole = scaled / PRICE_SCALE;
  const fraction = (scaled % PRICE_SCALE).toString().padStart(PRICE_DECIMALS, "0").replace(/0+$/, "");
  return fraction === "" ? whole.toString() : `${whole}.${fraction}`;
}

/** A provider's cost per second of each resource, in billionths of a token base unit (see PRICE_SCALE). */
export interface ResourcePrices {
  perMillicoreSecond: bigint;
  perMiBSecond: bigint;
  perStorageGiBSecond: bigint;
  /** Per GPU per second, by model label; a model not listed is not offered. */
  perGpuSecond: Readonly<Record<string, bigint>>;
}

export type CostQuote =
  { ok: true; costPerSecond: bigint; gpuModel: string | null } | { ok: false; reason: "gpu-model" };

/**
 * Cost per second of `resources` at `prices`, in base units (rounded up). GPUs: the order's model, or for
 * "any model" the cheapest model among `gpuModels` (default: every priced model).
 */
export function costPerSecond(
  resources: ComputeResources,
  prices: ResourcePrices,
  gpuModels: readonly string[] = Object.keys(prices.perGpuSecond),
): CostQuote {
  const base =
    BigInt(resources.cpuMillicores) * prices.perMillicoreSecond +
    BigInt(resources.memoryMiB) * prices.perMiBSecond +
    BigInt(resources.storageGiB) * prices.perStorageGiBSecond;
  const units = (scaled: bigint): bigint => (scaled + PRICE_SCALE - 1n) / PRICE_SCALE;
  if (resources.gpuCount === 0) return { ok: true, costPerSecond: units(base), gpuModel: null };
  const candidates = resources.gpuModel === "" ? gpuModels : [resources.gpuModel];
  let best: { model: string; price: bigint } | undefined;
  for (const model of candidates) {
    const price = prices.perGpuSecond[model];
    if (price !== undefined && (best === undefined || price < best.price)) best = { model, price };
  }
  if (best === undefined) return { ok: false, reason: "gpu-model" };
  return {
    ok: true,
    costPerSecond: units(base + BigInt(resources.gpuCount) * best.price),
    gpuModel: best.model,
  };
}

/** `cost × (1 + marginBps / 10 000)`, rounded up (the margin is a minimum). */
export function withMargin(cost: bigint, marginBps: bigint | number): bigint {
  const factor = BPS + BigInt(marginBps);
  return (cost * factor + BPS - 1n) / BPS;
}

/** A price per hour as a price per second, rounded down. */
export function perHourToPerSecond(perHour: bigint): bigint {
  return perHour / SECONDS_PER_HOUR;
}

export function perSecondToPerHour(perSecond: bigint): bigint {
  return perSecond * SECONDS_PER_HOUR;
}

/** Whole seconds an escrow pays for at `pricePerSecond` (0 for a zero price: nothing to pay for). */
export function fundedSeconds(escrow: bigint, pricePerSecond: bigint): bigint {
  return pricePerSecond === 0n ? 0n : escrow / pricePerSecond;
}

/** Deposit that funds `seconds` at `pricePerSecond` plus the close bounty buffer set aside at lease start. */
export function depositFor(pricePerSecond: bigint, seconds: bigint, closeBounty: bigint): bigint {
  return pricePerSecond * seconds + closeBounty;
}
