/**
 * Reading what a provider agent returns. A provider is not trusted: an answer that does not match the route's
 * schema (offchain/sdk/api) is PROVIDER_BAD_DATA, naming the endpoint and every field path that is wrong.
 */
import type { z } from "zod";
import { StrataError } from "../errors.js";
import { issueLines } from "../schemas/issues.js";

/** Decode `value` with the route's response schema, or PROVIDER_BAD_DATA naming the fields. */
export function decodeAnswer<S extends z.ZodType>(schema: S, where: string, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw badData(where, issueLines(result.error).join("; "), result.error);
}

export function badData(where: string, message: string, cause?: unknown): StrataError {
  return new StrataError("PROVIDER_BAD_DATA", `${where}: ${message}`, cause === undefined ? {} : { cause });
}

/** A value with every bigint turned into a decimal string (the API's JSON form). */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJsonValue(v);
    return out;
  }
  return value;
}
