/**
 * Packing many files into one stored payload (docs/SPEC-DATA.md §10). A bundle is the files' bytes back to back,
 * in the order given, with no padding: a 10 KiB file costs 10 KiB of a piece, not a piece. The index — name,
 * offset, size, SHA-256 and content id of each file — goes into the manifest's `files` section, so any one file
 * comes back alone: the reader restores the payload (or, with byte ranges, only the bytes of that file), slices
 * `[offset, offset + size)` and checks the SHA-256.
 */
import { createHash } from "node:crypto";
import { hexlify } from "ethers";
import { StrataError } from "../errors.js";
import { rawCid } from "./cid.js";

/** One file of a bundle, as the manifest's `files` section lists it. */
export interface BundleEntry {
  /** Relative path with `/` separators (isValidBundlePath). */
  name: string;
  /** First byte of the file in the bundle's plaintext. */
  offset: number;
  size: number;
  /** sha256 of the file's bytes, 0x-hex. */
  sha256: string;
  /** Content id: the UnixFS CIDv1 of the plaintext for a public file, else the raw CIDv1 of its ciphertext. */
  id: string;
  /** Stored for anyone: `id` is what `ipfs add --cid-version 1` prints for the file. */
  public: boolean;
}

/** A file to pack: its path in the bundle and its bytes. */
export interface BundleInput {
  name: string;
  bytes: Uint8Array;
}

const MAX_PATH = 4096;

/**
 * A relative path safe to write under any output folder: 1..4096 characters, components separated by `/`, none
 * empty, `.` or `..`, no `\` and no control characters.
 */
export function isValidBundlePath(name: string): boolean {
  if (name.length === 0 || name.length > MAX_PATH || /[\\\p{Cc}]/u.test(name)) return false;
  return name.split("/").every((part) => part !== "" && part !== "." && part !== ".." && part.length <= 255);
}

/**
 * Concatenate `files` into one payload and index them. Ids are filled in later (fileIds): a private file's id
 * names its ciphertext, which exists only once the bundle is encrypted.
 */
export function packFiles(files: readonly BundleInput[]): {
  bytes: Uint8Array;
  entries: Omit<BundleEntry, "id" | "public">[];
} {
  const seen = new Set<string>();
  let total = 0;
  for (const file of files) {
    if (!isValidBundlePath(file.name)) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `${JSON.stringify(file.name)} is not a valid path in a bundle`,
      );
    }
    if (seen.has(file.name)) throw new StrataError("INVALID_ARGUMENT", `${file.name} is listed twice`);
    seen.add(file.name);
    total += file.bytes.length;
  }
  if (!Number.isSafeInteger(total))
    throw new StrataError("INVALID_ARGUMENT", "the files are too large to pack");
  const bytes = new Uint8Array(total);
  let offset = 0;
  const entries = files.map((file) => {
    bytes.set(file.bytes, offset);
    const entry = {
      name: file.name,
      offset,
      size: file.bytes.length,
      sha256: hexlify(createHash("sha256").update(file.bytes).digest()),
    };
    offset += file.bytes.length;
    return entry;
  });
  return { bytes, entries };
}

/**
 * The raw CIDv1 of each file's ciphertext: AES-GCM is a stream cipher, so a file's ciphertext is the bytes
 * `[offset, offset + size)` of the encrypted payload, read here across the k data shards.
 */
export function ciphertextIds(
  dataShards: readonly Uint8Array[],
  entries: readonly Pick<BundleEntry, "offset" | "size">[],
): string[] {
  return entries.map((entry) => rawCid(payloadSlice(dataShards, entry.offset, entry.size)));
}

/** Bytes `[offset, offset + size)` of the payload that the data shards hold back to back. */
export function payloadSlice(dataShards: readonly Uint8Array[], offset: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let shardStart = 0;
  let written = 0;
  for (const shard of dataShards) {
    const shardEnd = shardStart + shard.length;
    const from = Math.max(offset + written, shardStart);
    const to = Math.min(offset + size, shardEnd);
    if (from < to) {
      out.set(shard.subarray(from - shardStart, to - shardStart), written);
      written += to - from;
    }
    shardStart = shardEnd;
    if (written === size) break;
  }
  if (written !== size) throw new StrataError("INVALID_ARGUMENT", "the range runs past the payload");
  return out;
}

/** One file out of a restored bundle, checked against its SHA-256 (FILE_HASH_MISMATCH otherwise). */
export function extractFile(
  bundle: Uint8Array,
  entry: Pick<BundleEntry, "name" | "offset" | "size" | "sha256">,
): Uint8Array {
  if (entry.offset + entry.size > bundle.length) {
    throw new StrataError("FILE_HASH_MISMATCH", `${entry.name} runs past the end of its bundle`);
  }
  const bytes = bundle.subarray(entry.offset, entry.offset + entry.size);
  const hash = hexlify(createHash("sha256").update(bytes).digest());
  if (hash !== entry.sha256) {
    throw new StrataError("FILE_HASH_MISMATCH", `${entry.name} does not hash to its recorded sha256`);
  }
  return bytes;
}

/**
 * Split files into bundles of at most `maxBundleBytes` each, in the order given (first fit into the current
 * bundle; a file larger than the limit goes alone into a bundle of its own). Returns indexes into `sizes`.
 */
export function planBundles(sizes: readonly number[], maxBundleBytes: number): number[][] {
  if (!(maxBundleBytes > 0)) throw new StrataError("INVALID_ARGUMENT", "the bundle limit must be positive");
  const bundles: number[][] = [];
  let current: number[] = [];
  let used = 0;
  sizes.forEach((size, index) => {
    if (current.length > 0 && used + size > maxBundleBytes) {
      bundles.push(current);
      current = [];
      used = 0;
    }
    current.push(index);
    used += size;
  });
  if (current.length > 0) bundles.push(current);
  return bundles;
}

/** A byte range `a-b` (inclusive, as HTTP Range) of a file of `size` bytes, as [start, end) — INVALID_ARGUMENT if outside. */
export function parseRange(text: string, size: number): { start: number; end: number } {
  const match = /^(\d*)-(\d*)$/.exec(text.trim());
  if (match === null || (match[1] === "" && match[2] === "")) {
    throw new StrataError("INVALID_ARGUMENT", `range ${JSON.stringify(text)} must be a-b, a- or -n (bytes)`);
  }
  const [, a = "", b = ""] = match;
  let start: number;
  let end: number;
  if (a === "") {
    const suffix = Number(b);
    start = Math.max(0, size - suffix);
    end = size;
  } else {
    start = Number(a);
    end = b === "" ? size : Math.min(size, Number(b) + 1);
  }
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    start > end ||
    (start >= size && size > 0)
  ) {
    throw new StrataError("INVALID_ARGUMENT", `range ${text} is outside the file (${size} bytes)`);
  }
  return { start, end };
}
