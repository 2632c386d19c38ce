// The pay-once arithmetic of permanent storage, the exact mirror of contracts/durability/libraries/EndowmentMath.sol
// and PermanentStorage.quote (docs/SPEC.md §16.2), in bigint so that the simulation and the contract agree to the
// base unit. Storage costs fall by `declineBps` a year; a file's principal is today's yearly cost times
// S(H) = Σ_{y<H} q^y plus a repair allowance; by its year Y a file may have spent principal × S(Y+2) / S(H) (each year's share released a year ahead).

export const WAD = 10n ** 18n;
export const BPS = 10_000n;
/** Seconds in a year of the schedule (365 days). */
export const YEAR_SECONDS = 31_536_000n;
/** Seconds in a pricing month. */
export const MONTH_SECONDS = 2_592_000n;
/** 64-byte leaves in a TiB. */
export const LEAVES_PER_TIB = 1n << 34n;

/** The permanent-storage configuration fields the arithmetic uses (mirrors `IPermanentStorage.Config`). */
export interface EndowmentConfig {
  referencePricePerTiBMonth: bigint;
  declineBps: bigint;
  horizonYears: bigint;
  dataShards: bigint;
  totalShards: bigint;
  repairAllowanceBps: bigint;
  feeBps: bigint;
}

/** The defaults shipped in deploy/ (one place, used by the deployment, the simulation and the tests). */
export const DEFAULT_ENDOWMENT: EndowmentConfig = {
  referencePricePerTiBMonth: 2_500_000n, // 2.5 tokens of a 6-decimal token
  declineBps: 50n, // 0.5% a year, the Arweave assumption
  horizonYears: 200n,
  dataShards: 10n,
  totalShards: 16n, // m = 6 parity pieces, the most the SDK's coder makes (offchain/sdk/data/erasure.ts)
  repairAllowanceBps: 5_000n,
  feeBps: 100n,
};

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/** `q^n` in WAD, by repeated squaring rounded down at each step (as EndowmentMath.decay). */
export function decay(declineBps: bigint, n: bigint): bigint {
  let base = WAD - (declineBps * WAD) / BPS;
  let result = WAD;
  let e = n;
  while (e !== 0n) {
    if ((e & 1n) === 1n) result = (result * base) / WAD;
    base = (base * base) / WAD;
    e >>= 1n;
  }
  return result;
}

/** `S(n) = Σ_{i<n} q^i` in WAD (EndowmentMath.series). */
export function series(declineBps: bigint, n: bigint): bigint {
  if (declineBps === 0n) return n * WAD;
  return ((WAD - decay(declineBps, n)) * BPS) / declineBps;
}

/** Tokens `span` leaves cost over `seconds` at `price` per TiB-month, rounded up (DataSetMath.cost). */
export function storageCost(price: bigint, span: bigint, seconds: bigint): bigint {
  return ceilDiv(price * span * seconds, LEAVES_PER_TIB * MONTH_SECONDS);
}

/** Principal for a yearly cost (EndowmentMath.principalFor). */
export function principalFor(yearCost: bigint, c: EndowmentConfig): bigint {
  const storage = ceilDiv(yearCost * series(c.declineBps, c.horizonYears), WAD);
  return storage + ceilDiv(storage * c.repairAllowanceBps, BPS);
}

/** The reference price `elapsedYears` whole years after deployment. */
export function referencePrice(c: EndowmentConfig, elapsedYears: bigint): bigint {
  return (c.referencePricePerTiBMonth * decay(c.declineBps, elapsedYears)) / WAD;
}

/** Smallest span a permanent piece is charged for (DurabilityRules.MIN_CHARGED_SPAN): 4,096 leaves, 256 KiB. */
export const MIN_CHARGED_SPAN = 4096n;

/**
 * One-time price of a file of `totalShards` pieces of `pieceSpan` leaves (PermanentStorage.quote): each piece
 * charged on its own, rounded up, for at least MIN_CHARGED_SPAN leaves.
 */
export function quote(
  c: EndowmentConfig,
  pieceSpan: bigint,
  elapsedYears = 0n,
): { principal: bigint; fee: bigint } {
  const charged = pieceSpan < MIN_CHARGED_SPAN ? MIN_CHARGED_SPAN : pieceSpan;
  const yearCost = storageCost(referencePrice(c, elapsedYears), charged, YEAR_SECONDS) * c.totalShards;
  const principal = principalFor(yearCost, c);
  return { principal, fee: (principal * c.feeBps) / BPS };
}

/** What a file may have spent by its year `yearIndex` (EndowmentMath.released). */
export function released(c: EndowmentConfig, principal: bigint, yearIndex: bigint): bigint {
  if (yearIndex + 2n >= c.horizonYears) return principal;
  return (principal * series(c.declineBps, yearIndex + 2n)) / series(c.declineBps, c.horizonYears);
}
