/**
 * The manifest format (docs/SPEC-DATA.md §6) as one zod schema: exact fields (a missing or unknown field is an
 * error, so a manifest written by another version or by hand cannot be half-understood), formats, and the
 * cross-field rules. A defect is BAD_MANIFEST naming the JSON path of the first one.
 */
import { z } from "zod";
import { TAG_BYTES } from "../data/encryption.js";
import { MAX_DATA_SHARDS, MAX_PARITY_SHARDS, shardSizeFor } from "../data/erasure.js";
import { KDF_ID } from "../data/fileKey.js";
import { StrataError } from "../errors.js";
import { fieldProblems } from "../schemas/issues.js";
import { address, expected, hexBytes, onceFieldsValid, safeInt } from "../schemas/primitives.js";
import { CODING_ALGORITHM, ENCRYPTION_ALGORITHM, MANIFEST_VERSION, type Manifest } from "./types.js";

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

/** Check a file name: 1..255 characters, no path separators or control characters (a base name, safe to write). */
export function isValidFileName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !/[/\\\p{Cc}]/u.test(name) && name !== "." && name !== "..";
}

/** A decimal string (no sign, no leading zeros) of an unsigned integer below 2^bits, as a bigint. */
function decimal(bits: number) {
  return z
    .string(expected("must be a decimal string"))
    .regex(/^(0|[1-9][0-9]*)$/, "must be a decimal string")
    .transform((text) => BigInt(text))
    .refine((value) => value < 1n << BigInt(bits), `must fit in uint${bits}`);
}

const literal = <T extends string>(value: T) => z.literal(value, expected(`must be "${value}"`));

const httpUrl = z.string(expected("must be an http(s) URL")).refine((text) => {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}, "must be an http(s) URL");

const proposal = z.strictObject({
  client: address,
  provider: address,
  root: hexBytes(32),
  size: decimal(64),
  duration: decimal(64),
  pricePerSecond: decimal(128),
  collateral: decimal(128),
  startDeadline: decimal(64),
  nonce: decimal(64),
});

const deal = z.strictObject({
  id: decimal(64),
  client: address,
  provider: address,
  root: hexBytes(32),
  size: decimal(64),
  startPeriod: decimal(32),
  endPeriod: decimal(32),
  pricePerSecond: decimal(128),
  collateral: decimal(128),
});

const piece = z.strictObject({
  index: safeInt(),
  root: hexBytes(32),
  size: safeInt(),
  provider: address,
  endpoint: httpUrl,
  dealId: decimal(64).nullable(),
  nonce: decimal(64),
  proposal,
  deal: deal.nullable(),
});

/** The manifest's JSON form; `parse` gives the typed `Manifest` (bigints, lowercase hex, checksummed addresses). */
export const manifestSchema = z
  .strictObject({
    version: z.literal(
      MANIFEST_VERSION,
      expected(`must be ${MANIFEST_VERSION} (this software reads version 1 only)`),
    ),
    fileId: hexBytes(16),
    fileName: z
      .string(expected("must be a string"))
      .refine(isValidFileName, "must be a base name of 1..255 characters without / \\ or controls"),
    fileSize: safeInt(),
    fileHash: hexBytes(32),
    createdAt: z
      .string(expected("must be an ISO 8601 UTC timestamp"))
      .refine(
        (text) =>
          /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(text) && !Number.isNaN(Date.parse(text)),
        "must be an ISO 8601 UTC timestamp",
      ),
    chainId: decimal(256).refine((value) => value !== 0n, "must not be 0"),
    market: address,
    encryption: z.strictObject({
      algorithm: literal(ENCRYPTION_ALGORITHM),
      iv: hexBytes(12),
      tag: hexBytes(TAG_BYTES),
      wrappedKey: z.strictObject({ iv: hexBytes(12), tag: hexBytes(16), ciphertext: hexBytes(32) }),
      kdf: literal(KDF_ID),
    }),
    coding: z.strictObject({
      algorithm: literal(CODING_ALGORITHM),
      k: safeInt(1, MAX_DATA_SHARDS),
      m: safeInt(0, MAX_PARITY_SHARDS),
      shardSize: safeInt(1),
      payloadSize: safeInt(),
    }),
    pieces: z.array(piece, expected("must be an array")),
  })
  .superRefine((manifest, ctx) => {
    const fail = (path: (string | number)[], message: string) => {
      ctx.addIssue({ code: "custom", path, message });
    };
    const { coding, fileSize } = manifest;
    if (coding.payloadSize !== fileSize + TAG_BYTES) {
      fail(["coding", "payloadSize"], `must be fileSize + ${TAG_BYTES} = ${fileSize + TAG_BYTES}`);
      return;
    }
    const shardSize = shardSizeFor(coding.payloadSize, coding.k);
    if (coding.shardSize !== shardSize) {
      fail(
        ["coding", "shardSize"],
        `must be ${shardSize} for payloadSize ${coding.payloadSize} and k ${coding.k}`,
      );
      return;
    }
    if (manifest.pieces.length !== coding.k + coding.m) {
      fail(["pieces"], `must list k + m = ${coding.k + coding.m} pieces, found ${manifest.pieces.length}`);
      return;
    }
    manifest.pieces.forEach((p, index) => {
      const at = (...path: string[]) => ["pieces", index, ...path];
      const same = (actual: string | bigint, wanted: string | bigint, path: string[], what: string) => {
        if (actual !== wanted) fail(at(...path), `must match the piece's ${what}`);
      };
      if (p.index !== index) fail(at("index"), `must be ${index} (pieces are listed in index order)`);
      if (p.size !== coding.shardSize) fail(at("size"), "must equal coding.shardSize");
      same(p.proposal.root, p.root, ["proposal", "root"], "root");
      same(p.proposal.size, BigInt(p.size), ["proposal", "size"], "size");
      same(p.proposal.provider, p.provider, ["proposal", "provider"], "provider");
      same(p.proposal.nonce, p.nonce, ["proposal", "nonce"], "nonce");
      if (p.deal === null) return;
      if (p.dealId === null) fail(at("dealId"), "must be set when deal terms are");
      else same(p.deal.id, p.dealId, ["deal", "id"], "dealId");
      same(p.deal.root, p.root, ["deal", "root"], "root");
      same(p.deal.size, BigInt(p.size), ["deal", "size"], "size");
      same(p.deal.provider, p.provider, ["deal", "provider"], "provider");
      same(p.deal.client, p.proposal.client, ["deal", "client"], "proposal.client");
    });
  }, onceFieldsValid) satisfies z.ZodType<Manifest>;

/** Validate a parsed JSON value as a manifest: BAD_MANIFEST at the first defect's path. */
export function fromJsonValue(value: unknown): Manifest {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadManifestError("", "must be an object");
  }
  const result = manifestSchema.safeParse(value);
  if (result.success) return result.data;
  const [first] = fieldProblems(result.error);
  throw new BadManifestError(first?.path ?? "", first?.problem ?? "is invalid");
}
