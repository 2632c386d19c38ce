import { InvalidArgumentError } from "commander";
import { formatUnits, getAddress, isAddress, parseUnits } from "ethers";
import { StrataError } from "../sdk/errors.js";

/**
 * Option parsers for commander: they throw InvalidArgumentError, which the program reports as a usage
 * error (exit 1, code INVALID_ARGUMENT).
 */

export function positiveInt(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError("expected a positive integer");
  }
  return Number(value);
}

export function nonNegativeInt(value: string): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError("expected a non-negative integer");
  }
  return Number(value);
}

export function address(value: string): string {
  if (!isAddress(value)) throw new InvalidArgumentError("expected a 0x address");
  return getAddress(value);
}

export function list(value: string): string[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length === 0) throw new InvalidArgumentError("expected a comma-separated list");
  return items;
}

/** A comma-separated list of ids (positive integers, e.g. "3,7"). */
export function uintList(value: string): bigint[] {
  return list(value).map((item) => {
    if (!/^[0-9]+$/.test(item) || BigInt(item) === 0n) {
      throw new InvalidArgumentError(`expected positive integer ids, got "${item}"`);
    }
    return BigInt(item);
  });
}

/** A decimal token amount as typed ("12.5"); converted with the token's decimals when used. */
export function decimalAmount(value: string): string {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value))
    throw new InvalidArgumentError("expected a decimal amount like 12.5");
  return value;
}

/** A size like 1099511627776, 512MiB, 2GiB, 1TiB. */
export function byteSize(value: string): bigint {
  const match = /^([0-9]+)\s*(B|KiB|MiB|GiB|TiB)?$/i.exec(value.trim());
  if (!match?.[1]) throw new InvalidArgumentError("expected a size like 1TiB, 500GiB or a number of bytes");
  const units: Record<string, bigint> = { b: 0n, kib: 10n, mib: 20n, gib: 30n, tib: 40n };
  return BigInt(match[1]) << (units[(match[2] ?? "b").toLowerCase()] ?? 0n);
}

/** The largest amount the contracts hold (uint128 base units), the bound of every typed amount. */
export const MAX_AMOUNT_UNITS = (1n << 128n) - 1n;

/**
 * `amount` in base units of a token with `decimals` decimals: INVALID_ARGUMENT with too many decimals,
 * AMOUNT_OUT_OF_RANGE above MAX_AMOUNT_UNITS (checked here, before anything is encoded or sent).
 */
export function toBaseUnits(amount: string, decimals: number, symbol = "tokens"): bigint {
  let units: bigint;
  try {
    units = parseUnits(amount, decimals);
  } catch {
    throw new StrataError("INVALID_ARGUMENT", `"${amount}" has more than ${decimals} decimals`);
  }
  if (units > MAX_AMOUNT_UNITS) {
    throw new StrataError("AMOUNT_OUT_OF_RANGE", `${amount} ${symbol} is more than the contracts can hold`, {
      details: `amounts are at most ${formatUnits(MAX_AMOUNT_UNITS, decimals)} ${symbol}`,
    });
  }
  return units;
}
