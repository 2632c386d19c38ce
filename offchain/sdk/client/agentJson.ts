import { getAddress, isAddress } from "ethers";
import { StrataError } from "../errors.js";

/**
 * Strict readers for the JSON a provider agent returns. A provider is not trusted: any value of the wrong
 * shape is PROVIDER_BAD_DATA, naming the endpoint and the field.
 */
export class JsonReader {
  constructor(
    private readonly where: string,
    private readonly value: Record<string, unknown>,
  ) {}

  static of(where: string, value: unknown): JsonReader {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw badData(where, "expected a JSON object");
    }
    return new JsonReader(where, value as Record<string, unknown>);
  }

  object(name: string): JsonReader {
    return JsonReader.of(`${this.where}.${name}`, this.value[name]);
  }

  has(name: string): boolean {
    return this.value[name] !== undefined && this.value[name] !== null;
  }

  string(name: string): string {
    const v = this.value[name];
    if (typeof v !== "string") throw badData(this.where, `field "${name}" must be a string`);
    return v;
  }

  optionalString(name: string): string | null {
    return this.has(name) ? this.string(name) : null;
  }

  boolean(name: string): boolean {
    const v = this.value[name];
    if (typeof v !== "boolean") throw badData(this.where, `field "${name}" must be a boolean`);
    return v;
  }

  /** A non-negative integer given as a decimal string (the API's bigint form) or a safe JSON number. */
  bigint(name: string): bigint {
    const v = this.value[name];
    if (typeof v === "string" && /^[0-9]{1,78}$/.test(v)) return BigInt(v);
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
    throw badData(this.where, `field "${name}" must be a non-negative integer (decimal string)`);
  }

  optionalBigint(name: string): bigint | null {
    return this.has(name) ? this.bigint(name) : null;
  }

  address(name: string): string {
    const v = this.string(name);
    if (!isAddress(v)) throw badData(this.where, `field "${name}" must be an address`);
    return getAddress(v);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const v = this.string(name);
    const found = allowed.find((a) => a === v);
    if (found === undefined)
      throw badData(this.where, `field "${name}" must be one of ${allowed.join(", ")}`);
    return found;
  }
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
