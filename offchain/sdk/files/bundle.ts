/**
 * Packing many files into one stored payload (docs/SPEC-DATA.md §10). A bundle is the files' bytes back to back,
 * in the order given, with no padding: a 10 KiB file costs 10 KiB of a piece, not a piece. The index — name,
 * offset, size, SHA-256 and content id of each file — goes into the manifest's `files` section, so any one file
 * comes back alone: the reader restores the payload (or, with byte ranges, only the bytes of that file), slices
 * `[offset, offset + size)` and checks the SHA-256.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { hexlify } from "ethers";
import { StrataError } from "../errors.js";
import { payloadRuns, type Geometry } from "../data/chunked.js";
import { TAG_BYTES } from "../data/encryption.js";
import { rawCidOfDigest } from "./cid.js";

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

/** Reads payload bytes [start, end) (the encrypted payload, manifest version 3). */
export type PayloadReader = (start: number, end: number) => Promise<Uint8Array>;

/** Bytes hashed per read when naming a file's ciphertext: memory stays bounded whatever the file size. */
const ID_READ_BYTES = 4 << 20;

/**
 * The payload bytes holding a file's ciphertext: the whole authenticated chunks (each `chunkSize` plaintext bytes
 * sealed into `chunkSize + 16`) that cover plaintext `[offset, offset + size)`. Empty for an empty file.
 */
export function ciphertextSpan(
  entry: Pick<BundleEntry, "offset" | "size">,
  layout: { chunkSize: number; payloadSize: number },
): { start: number; end: number } {
  if (entry.size === 0) return { start: 0, end: 0 };
  const sealed = layout.chunkSize + TAG_BYTES;
  const first = Math.floor(entry.offset / layout.chunkSize);
  const last = Math.floor((entry.offset + entry.size - 1) / layout.chunkSize);
  const end = Math.min(layout.payloadSize, (last + 1) * sealed);
  if (first * sealed >= end) throw new StrataError("INVALID_ARGUMENT", "the file runs past the payload");
  return { start: first * sealed, end };
}

/**
 * The raw CIDv1 of each file's ciphertext (docs/SPEC-DATA.md §10): SHA-256 of the payload bytes of the chunks that
 * cover the file (ciphertextSpan), read in 4 MiB steps through `read`.
 */
export async function ciphertextIds(
  read: PayloadReader,
  layout: { chunkSize: number; payloadSize: number },
  entries: readonly Pick<BundleEntry, "offset" | "size">[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const entry of entries) {
    const { start, end } = ciphertextSpan(entry, layout);
    const hash = createHash("sha256");
    for (let at = start; at < end; at += ID_READ_BYTES) {
      hash.update(await read(at, Math.min(end, at + ID_READ_BYTES)));
    }
    ids.push(rawCidOfDigest(new Uint8Array(hash.digest())));
  }
  return ids;
}

/** A PayloadReader over the k data shards of a payload (striped layout, docs/SPEC-DATA.md §5), kept in files. */
export function piecesPayloadReader(dataShardPaths: readonly string[], geometry: Geometry): PayloadReader {
  return async (start, end) => {
    const out = new Uint8Array(end - start);
    const runs = payloadRuns(geometry, start, end);
    for (const run of runs) {
      const path = dataShardPaths[run.shard];
      if (path === undefined) throw new StrataError("INTERNAL_INVARIANT", `no file for shard ${run.shard}`);
      const handle = await open(path, "r");
      try {
        const { bytesRead } = await handle.read(out, run.payloadOffset - start, run.length, run.shardOffset);
        if (bytesRead !== run.length)
          throw new StrataError("INTERNAL_INVARIANT", `shard ${run.shard} is short`);
      } finally {
        await handle.close();
      }
    }
    return out;
  };
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
