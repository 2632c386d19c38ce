import { getAddress, isAddress } from "ethers";
import { StrataError } from "../errors.js";

/** A manifest that does not follow docs/SPEC-DATA.md §6; `field` is the JSON path of the first defect. */
export class BadManifestError extends StrataError {
  readonly field: string;

  constructor(field: string, problem: string) {
    super("BAD_MANIFEST", `bad manifest: ${field === "" ? "document" : field} ${problem}`, {
      details: field,
    });
    this.field = field;
  }
}

/**
 * Strict readers over parsed JSON, each reporting the path of what it rejects. Objects must carry exactly the
 * listed keys (a missing or unknown key is an error), so a manifest written by another version or by hand
 * cannot be half-understood.
 */
export class JsonReader {
  constructor(
    readonly value: unknown,
    readonly path: string,
  ) {}

  /** Child reader for `key` of this object (call `object` first). */
  at(key: string | number): JsonReader {
    const record = this.value as Record<string, unknown>;
    const child = typeof key === "number" ? (this.value as unknown[])[key] : record[key];
    return new JsonReader(child, typeof key === "number" ? `${this.path}[${key}]` : join(this.path, key));
  }

  /** Assert an object with exactly `keys`. */
  object(keys: readonly string[]): this {
    if (typeof this.value !== "object" || this.value === null || Array.isArray(this.value)) {
      throw new BadManifestError(this.path, "must be an object");
    }
    const present = Object.keys(this.value);
    for (const key of keys) {
      if (!present.includes(key)) throw new BadManifestError(join(this.path, key), "is missing");
    }
    for (const key of present) {
      if (!keys.includes(key)) throw new BadManifestError(join(this.path, key), "is not a manifest field");
    }
    return this;
  }

  /** Assert an array and return readers of its items. */
  array(): JsonReader[] {
    if (!Array.isArray(this.value)) throw new BadManifestError(this.path, "must be an array");
    return this.value.map((_, index) => this.at(index));
  }

  isNull(): boolean {
    return this.value === null;
  }

  string(): string {
    if (typeof this.value !== "string") throw new BadManifestError(this.path, "must be a string");
    return this.value;
  }

  /** One of the given string constants. */
  literal<T extends string>(expected: T): T {
    if (this.value !== expected) throw new BadManifestError(this.path, `must be "${expected}"`);
    return expected;
  }

  /** A safe integer in [min, max]. */
  integer(min = 0, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof this.value !== "number" || !Number.isSafeInteger(this.value)) {
      throw new BadManifestError(this.path, "must be an integer");
    }
    if (this.value < min || this.value > max) {
      throw new BadManifestError(this.path, `must be in ${min}..${max}`);
    }
    return this.value;
  }

  /** A decimal string (no sign, no leading zeros) of an unsigned integer below 2^bits. */
  decimal(bits: number): bigint {
    const text = this.string();
    if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new BadManifestError(this.path, "must be a decimal string");
    const value = BigInt(text);
    if (value >= 1n << BigInt(bits)) throw new BadManifestError(this.path, `must fit in uint${bits}`);
    return value;
  }

  /** 0x-hex of exactly `bytes` bytes, returned lowercase. */
  hex(bytes: number): string {
    const text = this.string();
    if (!new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`).test(text)) {
      throw new BadManifestError(this.path, `must be 0x followed by ${bytes * 2} hex digits`);
    }
    return text.toLowerCase();
  }

  /** An EVM address, returned checksummed. */
  address(): string {
    const text = this.string();
    if (!isAddress(text))
      throw new BadManifestError(this.path, "must be an address (bad checksum or format)");
    return getAddress(text);
  }
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}
