/**
 * The manifest format (docs/SPEC-DATA.md §6) as one zod schema: exact fields (a missing or unknown field is an
 * error, so a manifest written by another version or by hand cannot be half-understood), formats, and the
 * cross-field rules. A defect is BAD_MANIFEST naming the JSON path of the first one.
 */
import { z } from "zod";
import {
  geometryFor,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  NONCE_PREFIX_BYTES,
  payloadSizeFor,
} from "../data/chunked.js";
import { MAX_DATA_SHARDS, MAX_PARITY_SHARDS, STRIPE_BYTES } from "../data/erasure.js";
import { KDF_ID } from "../data/fileKey.js";
import { StrataError } from "../errors.js";
import { fieldProblems } from "../schemas/issues.js";
import { address, expected, hexBytes, onceFieldsValid, safeInt } from "../schemas/primitives.js";
import { pieceHeight } from "../datasets/placement.js";
import { isValidBundlePath } from "../files/bundle.js";
import { isCid } from "../files/cid.js";
import {
  CODING_ALGORITHM,
  DEAL_MANIFEST_VERSION,
  ENCRYPTION_ALGORITHM,
  MANIFEST_VERSION,
  NO_ENCRYPTION,
  REPLICA_ALGORITHM,
  WHOLE_FILE_MANIFEST_VERSION,
  type Manifest,
} from "./types.js";

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

const piece = z.strictObject({
  index: safeInt(),
  root: hexBytes(32),
  size: safeInt(),
  provider: address,
  endpoint: httpUrl,
  dataSetId: decimal(64).refine((value) => value !== 0n, "must not be 0 (data set ids start at 1)"),
  offset: safeInt(),
  addedInVersion: decimal(64).refine((value) => value !== 0n, "must not be 0 (the first state is version 1)"),
});

const bundledFile = z.strictObject({
  name: z
    .string(expected("must be a string"))
    .refine(isValidBundlePath, "must be a relative path of components without . .. \\ or controls"),
  offset: safeInt(),
  size: safeInt(),
  sha256: hexBytes(32),
  id: z.string(expected("must be a CID")).refine(isCid, "must be a CID"),
  public: z.boolean(expected("must be true or false")),
});

/** The manifest's JSON form; `parse` gives the typed `Manifest` (bigints, lowercase hex, checksummed addresses). */
export const manifestSchema = z
  .strictObject({
    version: z.literal(
      MANIFEST_VERSION,
      expected(`must be ${MANIFEST_VERSION} (this software reads version ${MANIFEST_VERSION} only)`),
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
    public: z.literal(true, expected("must be true when present")).optional(),
    encryption: z.discriminatedUnion(
      "algorithm",
      [
        z.strictObject({
          algorithm: literal(ENCRYPTION_ALGORITHM),
          noncePrefix: hexBytes(NONCE_PREFIX_BYTES),
          chunkSize: safeInt(MIN_CHUNK_SIZE, MAX_CHUNK_SIZE),
          wrappedKey: z.strictObject({ iv: hexBytes(12), tag: hexBytes(16), ciphertext: hexBytes(32) }),
          kdf: literal(KDF_ID),
        }),
        z.strictObject({ algorithm: literal(NO_ENCRYPTION) }),
      ],
      expected(`must be ${ENCRYPTION_ALGORITHM} or ${NO_ENCRYPTION}`),
    ),
    coding: z.strictObject({
      algorithm: z.enum(
        [CODING_ALGORITHM, REPLICA_ALGORITHM],
        expected(`must be ${CODING_ALGORITHM} or ${REPLICA_ALGORITHM}`),
      ),
      k: safeInt(1, MAX_DATA_SHARDS),
      m: safeInt(0, MAX_PARITY_SHARDS),
      stripeSize: z.literal(STRIPE_BYTES, expected(`must be ${STRIPE_BYTES}`)),
      shardSize: safeInt(1),
      payloadSize: safeInt(),
    }),
    pieces: z.array(piece, expected("must be an array")),
    files: z.array(bundledFile, expected("must be an array")).optional(),
  })
  .superRefine((manifest, ctx) => {
    const fail = (path: (string | number)[], message: string) => {
      ctx.addIssue({ code: "custom", path, message });
    };
    const { coding, fileSize } = manifest;
    if (manifest.public === true) {
      if (manifest.encryption.algorithm !== NO_ENCRYPTION)
        fail(["encryption"], "must be none for a public payload");
      if (coding.algorithm !== REPLICA_ALGORITHM)
        fail(["coding", "algorithm"], `must be ${REPLICA_ALGORITHM} for a public payload`);
      if (coding.k !== 1) fail(["coding", "k"], "must be 1 for replicas");
      if (coding.payloadSize !== fileSize)
        fail(["coding", "payloadSize"], "must equal fileSize for replicas");
      if (coding.shardSize !== replicaPieceSize(fileSize))
        fail(["coding", "shardSize"], `must be ${replicaPieceSize(fileSize)} (fileSize padded to 64 bytes)`);
      if (manifest.files?.some((file) => !file.public) === true) fail(["files"], "must all be public");
    } else if (manifest.encryption.algorithm === NO_ENCRYPTION || coding.algorithm === REPLICA_ALGORITHM) {
      fail(["public"], "must be true for a payload without encryption or stored as replicas");
    }
    if (manifest.encryption.algorithm === NO_ENCRYPTION) {
      checkPieces(manifest, fail);
      return;
    }
    const payloadSize = payloadSizeFor(fileSize, manifest.encryption.chunkSize);
    if (coding.payloadSize !== payloadSize) {
      fail(["coding", "payloadSize"], `must be fileSize + 16 per chunk = ${payloadSize}`);
      return;
    }
    const { shardSize } = geometryFor(coding.payloadSize, coding.k, coding.stripeSize);
    if (coding.shardSize !== shardSize) {
      fail(
        ["coding", "shardSize"],
        `must be ${shardSize} for payloadSize ${coding.payloadSize} and k ${coding.k}`,
      );
      return;
    }
    checkPieces(manifest, fail);
  }, onceFieldsValid) satisfies z.ZodType<Manifest>;

/** Bytes of each piece of a public payload of `fileSize` bytes: the payload zero-padded to 64 bytes, at least 64. */
export function replicaPieceSize(fileSize: number): number {
  return Math.max(64, Math.ceil(fileSize / 64) * 64);
}

type Fail = (path: (string | number)[], message: string) => void;

/** Piece count, order, sizes and offsets, and the bundle's file list. */
function checkPieces(manifest: Manifest, fail: Fail): void {
  const { coding, fileSize } = manifest;
  if (manifest.pieces.length !== coding.k + coding.m) {
    fail(["pieces"], `must list k + m = ${coding.k + coding.m} pieces, found ${manifest.pieces.length}`);
    return;
  }
  manifest.pieces.forEach((p, index) => {
    const at = (...path: string[]) => ["pieces", index, ...path];
    if (p.index !== index) fail(at("index"), `must be ${index} (pieces are listed in index order)`);
    if (p.size !== coding.shardSize) fail(at("size"), "must equal coding.shardSize");
    const height = pieceHeight(p.size);
    if (p.offset % 2 ** height !== 0) {
      fail(at("offset"), `must be a multiple of 2^${height} (a piece sits at an aligned leaf offset)`);
    }
  });
  // Two pieces of one file in one data set must not overlap (each is a distinct aligned subtree).
  const bySet = new Map<bigint, { index: number; offset: number; end: number }[]>();
  manifest.pieces.forEach((p, index) => {
    const ranges = bySet.get(p.dataSetId) ?? [];
    const end = p.offset + 2 ** pieceHeight(p.size);
    const clash = ranges.find((r) => p.offset < r.end && r.offset < end);
    if (clash !== undefined) {
      fail(["pieces", index, "offset"], `overlaps piece ${clash.index} in data set ${p.dataSetId}`);
    }
    ranges.push({ index, offset: p.offset, end });
    bySet.set(p.dataSetId, ranges);
  });
  // A bundle's files lie inside the payload's plaintext, each name once.
  const names = new Set<string>();
  manifest.files?.forEach((file, index) => {
    if (file.offset + file.size > fileSize) {
      fail(["files", index, "size"], `runs past fileSize (${fileSize}): offset + size must not exceed it`);
    }
    if (names.has(file.name)) fail(["files", index, "name"], "is listed twice");
    names.add(file.name);
  });
}

/**
 * Validate a parsed JSON value as a manifest: BAD_MANIFEST at the first defect's path; MANIFEST_OUTDATED for a
 * manifest of the deal-per-piece market (version 1), which names no data sets.
 */
export function fromJsonValue(value: unknown): Manifest {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadManifestError("", "must be an object");
  }
  if ("version" in value && value.version === WHOLE_FILE_MANIFEST_VERSION) {
    throw new StrataError(
      "MANIFEST_OUTDATED",
      "this manifest (version 2) describes a file encrypted as one block, which this release no longer reads",
      {
        details:
          "retrieve the file with the release that stored it (any release before manifest version 3), then " +
          "store it again with this version: `strata store <file>` writes a version 3 manifest (chunked " +
          "encryption, byte ranges)",
      },
    );
  }
  if ("version" in value && value.version === DEAL_MANIFEST_VERSION) {
    throw new StrataError(
      "MANIFEST_OUTDATED",
      "this manifest describes a file stored as one deal per piece, which this market no longer has",
      {
        details:
          "retrieve the file with the release that stored it (or from its deployment), then store it again " +
          "with this version: `strata store <file>` writes a version 3 manifest with data sets",
      },
    );
  }
  const result = manifestSchema.safeParse(value);
  if (result.success) return result.data;
  const [first] = fieldProblems(result.error);
  throw new BadManifestError(first?.path ?? "", first?.problem ?? "is invalid");
}
