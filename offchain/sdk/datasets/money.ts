// Exact data-set money (docs/SPEC.md, "Payments"; design §5). All amounts are token base units (bigint); rounding
// happens only when money moves: floor to the provider, the remainder stays the client's. Because accrual is kept
// as cumulative leaf-seconds, the sum of every payment equals the floor of the exact total: nothing is lost to
// rounding however often a data set is settled.
import { formatUnits, parseUnits } from "ethers";
import { StrataError } from "../errors.js";

/** Bytes per leaf. */
export const LEAF_BYTES = 64n;
/** Bytes per TiB. */
export const TIB_BYTES = 1n << 40n;
/** Seconds per billing month (30 days). */
export const MONTH_SECONDS = 2_592_000n;
/** Largest size class: a data set spans at most 2^47 leaves. */
export const MAX_CLASS = 47;

/** Billable and challengeable bytes of a data set of `span` leaves: span × 64 (gaps and padding included). */
export function dataSetBytes(span: bigint): bigint {
  return nonNegative(span, "span") * LEAF_BYTES;
}

/**
 * Amount earned for `leafSeconds` (Σ span × proven, unfaulted seconds) at `pricePerTiBMonth`, floored:
 * floor(price × leafSeconds × 64 / (2^40 × 2,592,000)).
 */
export function accruedAmount(pricePerTiBMonth: bigint, leafSeconds: bigint): bigint {
  return (
    (nonNegative(pricePerTiBMonth, "price") * nonNegative(leafSeconds, "leafSeconds") * LEAF_BYTES) /
    (TIB_BYTES * MONTH_SECONDS)
  );
}

/** What a settlement pays now: accruedAmount(price, leafSeconds) − paid (never negative for a consistent record). */
export function dueAmount(pricePerTiBMonth: bigint, leafSeconds: bigint, paid: bigint): bigint {
  const due = accruedAmount(pricePerTiBMonth, leafSeconds) - nonNegative(paid, "paid");
  if (due < 0n) throw new StrataError("INVALID_ARGUMENT", `paid ${paid} exceeds the accrued amount`);
  return due;
}

/** Leaf-seconds of `span` leaves held for `seconds`. */
export function leafSecondsOf(span: bigint, seconds: bigint): bigint {
  return nonNegative(span, "span") * nonNegative(seconds, "seconds");
}

/**
 * Monthly rate of a data set of `span` leaves as an exact fraction of base units: price × span × 64 / 2^40.
 * Use `monthlyCost` for a floored display amount.
 */
export function monthlyRate(
  pricePerTiBMonth: bigint,
  span: bigint,
): { numerator: bigint; denominator: bigint } {
  return { numerator: nonNegative(pricePerTiBMonth, "price") * dataSetBytes(span), denominator: TIB_BYTES };
}

/** floor(price × span × 64 / 2^40): base units per 30 days for `span` leaves (display; payment uses accruedAmount). */
export function monthlyCost(pricePerTiBMonth: bigint, span: bigint): bigint {
  return accruedAmount(pricePerTiBMonth, leafSecondsOf(span, MONTH_SECONDS));
}

/**
 * Escrow a state update of `span` leaves must leave locked beyond what is already owed: the rate of the new span for
 * (noticePeriods + 2) periods of `periodSeconds`, rounded UP (the lockup must cover what the provider will earn).
 */
export function requiredLockup(
  pricePerTiBMonth: bigint,
  span: bigint,
  noticePeriods: bigint,
  periodSeconds: bigint,
): bigint {
  const leafSeconds = leafSecondsOf(span, (nonNegative(noticePeriods, "noticePeriods") + 2n) * periodSeconds);
  const numerator = nonNegative(pricePerTiBMonth, "price") * leafSeconds * LEAF_BYTES;
  const denominator = TIB_BYTES * MONTH_SECONDS;
  return (numerator + denominator - 1n) / denominator;
}

/** Size class of a data set of `span` leaves: c = ceil(log2(span)); undefined for an empty data set. */
export function sizeClass(span: bigint): number | undefined {
  if (nonNegative(span, "span") === 0n) return undefined;
  let c = 0;
  while (1n << BigInt(c) < span) c++;
  if (c > MAX_CLASS) throw new StrataError("INVALID_ARGUMENT", `span ${span} exceeds 2^${MAX_CLASS} leaves`);
  return c;
}

/**
 * Collateral locked for a data set of class `c`: collateralPerTiB × 2^c × 64 / 2^40 (the class capacity), floored.
 * It changes only when the class changes.
 */
export function classCollateral(collateralPerTiB: bigint, c: number): bigint {
  if (!Number.isInteger(c) || c < 0 || c > MAX_CLASS) {
    throw new StrataError("INVALID_ARGUMENT", `class must be in 0..${MAX_CLASS}, got ${c}`);
  }
  return (nonNegative(collateralPerTiB, "collateralPerTiB") * (LEAF_BYTES << BigInt(c))) / TIB_BYTES;
}

/** Collateral for a data set of `span` leaves (0 when empty). */
export function collateralForSpan(collateralPerTiB: bigint, span: bigint): bigint {
  const c = sizeClass(span);
  return c === undefined ? 0n : classCollateral(collateralPerTiB, c);
}

/** Base units → exact decimal token string (e.g. 2500000n, 6 → "2.5"). */
export function formatTokens(baseUnits: bigint, decimals: number): string {
  const text = formatUnits(baseUnits, decimals);
  return text.endsWith(".0") ? text.slice(0, -2) : text;
}

/** Decimal token string → base units; INVALID_ARGUMENT when it has more decimals than the token or is malformed. */
export function parseTokens(tokens: string, decimals: number): bigint {
  try {
    return parseUnits(tokens.trim(), decimals);
  } catch (cause) {
    throw new StrataError("INVALID_ARGUMENT", `not an amount of a ${decimals}-decimal token: ${tokens}`, {
      cause,
    });
  }
}

function nonNegative(value: bigint, name: string): bigint {
  if (value < 0n) throw new StrataError("INVALID_ARGUMENT", `${name} must not be negative, got ${value}`);
  return value;
}
