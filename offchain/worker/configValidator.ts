/**
 * Field-by-field validation of the worker's configuration. Every problem is collected (with the field's path
 * and what to write instead) so one run reports them all under a single CONFIG_INVALID error.
 */
import { getAddress, isAddress } from "ethers";
import { StrataError } from "../sdk/errors.js";

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge of plain objects; arrays, scalars and null replace. Fields in `atomic` always replace. */
export function merge(base: object, patch: object, atomic: readonly string[] = []): Json {
  const out: Json = { ...(base as Json) };
  for (const [key, value] of Object.entries(patch as Json)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] =
      !atomic.includes(key) && isRecord(value) && isRecord(current) ? merge(current, value, atomic) : value;
  }
  return out;
}

export class Validator {
  private readonly problems: string[] = [];

  constructor(private readonly what: string) {}

  problem(text: string): void {
    this.problems.push(text);
  }

  fail<T>(path: string, expected: string, got: unknown, fallback: T): T {
    this.problems.push(
      `${path} must be ${expected} (got ${got === undefined ? "nothing" : JSON.stringify(got)})`,
    );
    return fallback;
  }

  private value(obj: Json, path: string): unknown {
    return obj[path.split(".").pop() ?? path];
  }

  record(obj: Json, path: string): Json {
    const value = this.value(obj, path);
    return isRecord(value) ? value : this.fail(path, "an object", value, {});
  }

  string(obj: Json, path: string): string {
    const value = this.value(obj, path);
    return typeof value === "string" && value.trim().length > 0
      ? value.trim()
      : this.fail(path, "a non-empty string", value, "");
  }

  bool(obj: Json, path: string): boolean {
    const value = this.value(obj, path);
    return typeof value === "boolean" ? value : this.fail(path, "true or false", value, false);
  }

  url(obj: Json, path: string): string {
    const value = this.string(obj, path);
    if (value === "") return value;
    try {
      const url = new URL(value);
      if (["http:", "https:", "ws:", "wss:"].includes(url.protocol)) return value;
    } catch {
      // reported below
    }
    return this.fail(path, "an http(s) or ws(s) URL such as http://127.0.0.1:8545", value, "");
  }

  address(obj: Json, path: string): string {
    const value = this.value(obj, path);
    if (typeof value === "string" && isAddress(value) && BigInt(value) !== 0n) return getAddress(value);
    return this.fail(path, "a non-zero 0x address", value, "");
  }

  int(obj: Json, path: string, min: number, max: number): number {
    const value = this.value(obj, path);
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max)
      return value;
    return this.fail(path, `an integer in [${min}, ${max}]`, value, min);
  }

  /** An integer, or null meaning "choose for me". */
  optInt(obj: Json, path: string, min: number, max: number): number | null {
    return this.value(obj, path) === null ? null : this.int(obj, path, min, max);
  }

  positive(obj: Json, path: string, max: number): number | null {
    const value = this.value(obj, path);
    if (value === null) return null;
    if (typeof value === "number" && Number.isFinite(value) && value > 0 && value <= max) return value;
    return this.fail(path, `null or a number in (0, ${max}]`, value, null);
  }

  /** "host:port" ("[::1]:9464" for IPv6); port 0 picks a free port. */
  listen(obj: Json, path: string): { host: string; port: number } {
    const value = this.value(obj, path);
    if (typeof value === "string") {
      const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value.trim());
      const host = match?.[1] ?? match?.[2];
      const port = Number(match?.[3]);
      if (host !== undefined && Number.isInteger(port) && port <= 65_535) return { host, port };
    }
    return this.fail(path, 'a "host:port" string such as "127.0.0.1:9464"', value, {
      host: "127.0.0.1",
      port: 0,
    });
  }

  oneOf<T extends string>(obj: Json, path: string, options: readonly T[], fallback: T): T {
    const value = this.value(obj, path);
    const found = options.find((option) => option === value);
    return found ?? this.fail(path, `one of ${options.join(", ")}`, value, fallback);
  }

  unknownFields(obj: Json, path: string, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) {
        this.problems.push(
          `${path === "" ? key : `${path}.${key}`} is not a known field (known: ${known.join(", ")})`,
        );
      }
    }
  }

  throwIfAny(): void {
    if (this.problems.length === 0) return;
    const [first] = this.problems;
    const more = this.problems.length > 1 ? ` (and ${this.problems.length - 1} more)` : "";
    throw new StrataError("CONFIG_INVALID", `invalid ${this.what}: ${first ?? ""}${more}`, {
      details: this.problems.join("\n"),
    });
  }
}
