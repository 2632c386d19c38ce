/**
 * The building blocks of every wire and configuration schema (zod 4). One rule for text: strings are
 * trimmed before they are checked, and required text must not be empty after trimming. Content is the
 * exception and is never rewritten (a workload's argv and script, a manifest's file name): it is hashed or
 * written as it is. Numbers that count something are safe integers; on-chain amounts travel as decimal
 * strings (or safe integers) and come out as bigints.
 */
import { getAddress, isAddress } from "ethers";
import { z } from "zod";

export const UINT256_MAX = (1n << 256n) - 1n;

/** The error of a value of the wrong type: "is required" when it is missing, else what it must be. */
export function expected(what: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => (issue.input === undefined ? "is required" : what) };
}

/** Required text: trimmed, not empty. */
export const text = z.string(expected("must be a non-empty string")).trim().min(1, "must not be empty");

/** An EVM address, checksummed or all lower case, normalised to its checksum form. */
export const address = z
  .string(expected("must be a 0x address of 20 bytes"))
  .trim()
  .refine((value) => isAddress(value), "must be a 0x address of 20 bytes")
  .transform((value) => getAddress(value));

/** An address other than 0x0. */
export const nonZeroAddress = address.refine((value) => BigInt(value) !== 0n, "must not be the zero address");

/** `0x` followed by exactly `bytes` bytes of hex, normalised to lower case. */
export function hexBytes(bytes: number) {
  const pattern = new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`);
  return z
    .string(expected(`must be 0x followed by ${bytes * 2} hex digits`))
    .trim()
    .regex(pattern, `must be 0x followed by ${bytes * 2} hex digits`)
    .transform((value) => value.toLowerCase());
}

/** A 32-byte hash (piece root, workload hash, transaction hash), lower case. */
export const bytes32 = hexBytes(32);

/** A safe integer in [min, max]. */
export function safeInt(min = 0, max = Number.MAX_SAFE_INTEGER) {
  const range = `must be an integer in [${min}, ${max}]`;
  return z.int(expected(range)).min(min, range).max(max, range);
}

/** A duration in milliseconds: a safe integer in [min, max]. */
export const durationMs = (min: number, max: number) => safeInt(min, max);

/** A duration in seconds: a safe integer in [min, max]. */
export const durationSeconds = (min: number, max: number) => safeInt(min, max);

/**
 * An unsigned integer up to `max` (default 2^256-1) as a decimal string — the wire and file form of every
 * on-chain amount — or as a safe JSON integer; parsed to a bigint.
 */
export function uint(options: { min?: bigint; max?: bigint } = {}) {
  const min = options.min ?? 0n;
  const max = options.max ?? UINT256_MAX;
  return z
    .union(
      [
        z
          .string()
          .trim()
          .regex(/^(0|[1-9][0-9]{0,77})$/, "must be a non-negative integer written in decimal digits"),
        z.int("must be a non-negative integer (a decimal string for large values)").min(0),
      ],
      { error: "must be a non-negative integer written in decimal digits" },
    )
    .transform((value) => BigInt(value))
    .refine((value) => value >= min && value <= max, `must be an integer in [${min}, ${max}]`);
}

/** A token amount in base units (decimal string or safe integer) up to 2^128-1 (the contracts' uint128). */
export function tokenAmount(bounds: { min?: bigint; max?: bigint } = {}) {
  return uint({ max: (1n << 128n) - 1n, ...bounds });
}

/** An http(s) URL (an agent's endpoint, an RPC). `ws(s)` is allowed where `protocols` says so. */
export function url(protocols: readonly string[] = ["http:", "https:"]) {
  return text.refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL (${protocols.map((p) => p.replace(":", "")).join(", ")}) such as http://127.0.0.1:8545`,
  );
}

/** Options of a cross-field refinement: it runs only once every field is valid (so it sees typed values). */
export const onceFieldsValid = {
  when: (payload: { issues: readonly unknown[] }) => payload.issues.length === 0,
};
