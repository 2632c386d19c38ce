/**
 * Content ids of stored files (docs/SPEC-DATA.md §10). A public file's id is the CIDv1 that
 * `ipfs add --cid-version 1` prints for the same bytes: UnixFS built by ipfs-unixfs-importer with the defaults of
 * CIDv1 imports (raw leaves, fixed 256 KiB chunks, balanced layout of at most 174 links per node, a single chunk
 * reduced to its raw block). Blocks are hashed and dropped (a null blockstore), so memory stays bounded by a chunk
 * and the open tree nodes whatever the file size. A private file's id is a CIDv1 of the raw codec over the SHA-256
 * of its ciphertext: it names the stored bytes without revealing anything about the plaintext.
 */
import { createHash } from "node:crypto";
import { importer, type ImporterOptions } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { create as createDigest } from "multiformats/hashes/digest";
import { sha256 } from "multiformats/hashes/sha2";
import { StrataError } from "../errors.js";

/** Kubo's defaults for `ipfs add --cid-version 1`. */
export const UNIXFS_CHUNK_BYTES = 262_144;
export const UNIXFS_MAX_LINKS = 174;

/** Slices handed to the importer: the chunker re-cuts them, so their size only bounds the copy. */
const FEED_BYTES = 1 << 20;

type Blockstore = Parameters<typeof importer>[1];

/** Accepts blocks and keeps none: only the root CID is wanted. */
const nullBlockstore = {
  put: (cid: CID) => Promise.resolve(cid),
  get: () => {
    throw new StrataError("INTERNAL_INVARIANT", "the CID importer never reads blocks back");
  },
  has: () => Promise.resolve(false),
} as unknown as Blockstore;

const options: Partial<ImporterOptions> = {
  cidVersion: 1,
  rawLeaves: true,
  reduceSingleLeafToSelf: true,
  chunker: fixedSize({ chunkSize: UNIXFS_CHUNK_BYTES }),
  layout: balanced({ maxChildrenPerNode: UNIXFS_MAX_LINKS }),
};

function* slices(bytes: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += FEED_BYTES) yield bytes.subarray(at, at + FEED_BYTES);
}

/**
 * The CIDv1 (base32) `ipfs add --cid-version 1` computes for these bytes. Give an async iterable of chunks to
 * hash a file as it is read.
 */
export async function publicCid(
  content: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<string> {
  const source = content instanceof Uint8Array ? slices(content) : content;
  let root: CID | undefined;
  for await (const entry of importer([{ content: source }], nullBlockstore, options)) root = entry.cid;
  if (root === undefined) throw new StrataError("INTERNAL_INVARIANT", "the UnixFS importer returned no root");
  return root.toString();
}

/** CIDv1, raw codec, SHA-256 of `bytes` (what `ipfs add --cid-version 1` gives a file of one chunk). */
export function rawCid(bytes: Uint8Array): string {
  return rawCidOfDigest(new Uint8Array(createHash("sha256").update(bytes).digest()));
}

/** CIDv1, raw codec, of a SHA-256 digest computed elsewhere (a stream hashed block by block). */
export function rawCidOfDigest(digest: Uint8Array): string {
  return CID.createV1(raw.code, createDigest(sha256.code, digest)).toString();
}

/** True when `text` parses as a CID (any version, any base multiformats knows). */
export function isCid(text: string): boolean {
  try {
    CID.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The canonical text of a CID (version 1, base32), or undefined when `text` is not a CID. */
export function canonicalCid(text: string): string | undefined {
  try {
    return CID.parse(text).toV1().toString();
  } catch {
    return undefined;
  }
}
