import { createHash } from "node:crypto";
import { getBytes, hexlify, type Signer } from "ethers";
import { commitPieces, type CommitOptions } from "../commitment/parallel.js";
import { StrataError } from "../errors.js";
import type { Manifest, ManifestDraft } from "../manifest/manifest.js";
import { decryptParts, TAG_BYTES } from "./encryption.js";
import { reconstructData } from "./erasure.js";
import { unwrapFileKey } from "./fileKey.js";

/** What restoring needs from a manifest: a full one or a draft both qualify. */
export type RestorableManifest = Pick<
  Manifest | ManifestDraft,
  "fileId" | "fileSize" | "fileHash" | "encryption" | "coding"
> & {
  pieces: readonly { index: number; root: string; size: number }[];
};

/** A piece that was handed in but not used because it is not what the manifest committed to. */
export interface RejectedPiece {
  index: number;
  reason: "unknown-index" | "wrong-size" | "root-mismatch";
  /** Root of the bytes received (root-mismatch only). */
  actualRoot?: string;
}

export interface VerifiedPieces {
  /** Pieces whose bytes hash to their manifest root, by index (at most k, data pieces first). */
  valid: Map<number, Uint8Array>;
  rejected: RejectedPiece[];
}

export interface RestoreResult {
  /** The plaintext, byte for byte. */
  data: Buffer;
  /** Indices of the pieces the file was rebuilt from. */
  used: number[];
  /** Pieces dropped because their bytes do not match the manifest. */
  rejected: RejectedPiece[];
}

export interface RestoreOptions {
  commit?: CommitOptions;
}

/**
 * Check given pieces against their manifest roots until k valid ones are found (data pieces first, so that no
 * decoding is needed when they are intact). Callers that fetch pieces one by one can use this to decide whether
 * to fetch another.
 */
export async function verifyPieces(
  manifest: RestorableManifest,
  pieceData: ReadonlyMap<number, Uint8Array>,
  options: RestoreOptions = {},
): Promise<VerifiedPieces> {
  const { k, shardSize } = manifest.coding;
  const valid = new Map<number, Uint8Array>();
  const rejected: RejectedPiece[] = [];
  const candidates: [number, Uint8Array][] = [];
  for (const [index, bytes] of [...pieceData.entries()].sort(([a], [b]) => a - b)) {
    if (manifest.pieces[index]?.index !== index) rejected.push({ index, reason: "unknown-index" });
    else if (bytes.length !== shardSize) rejected.push({ index, reason: "wrong-size" });
    else candidates.push([index, bytes]);
  }
  while (valid.size < k && candidates.length > 0) {
    const batch = candidates.splice(0, k - valid.size);
    const roots = await commitPieces(
      batch.map(([, bytes]) => bytes),
      options.commit,
    );
    batch.forEach(([index, bytes], position) => {
      const actualRoot = roots[position];
      if (actualRoot !== undefined && actualRoot === manifest.pieces[index]?.root.toLowerCase()) {
        valid.set(index, bytes);
      } else {
        rejected.push({ index, reason: "root-mismatch", actualRoot });
      }
    });
  }
  return { valid, rejected };
}

/**
 * Rebuild a file from any k of its pieces: verify pieces against their roots (tampered ones are dropped and
 * reported), unwrap the file key with `signer`, rebuild missing data pieces, strip the padding, decrypt (GCM tag
 * check) and check the plaintext's sha256 against fileHash.
 *
 * Errors: NOT_ENOUGH_PIECES (fewer than k valid pieces; `details` lists the rejected ones), WRONG_KEY (not the
 * storing wallet), DECRYPT_FAILED (authentication failed), FILE_HASH_MISMATCH.
 */
export async function restoreFile(
  manifest: RestorableManifest,
  pieceData: ReadonlyMap<number, Uint8Array>,
  signer: Signer,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const { k, m, shardSize, payloadSize } = manifest.coding;
  const { valid, rejected } = await verifyPieces(manifest, pieceData, options);
  if (valid.size < k) {
    const dropped = rejected.map(({ index, reason }) => `${index}: ${reason}`).join(", ");
    throw new StrataError(
      "NOT_ENOUGH_PIECES",
      `${valid.size} valid piece(s) of the ${k} needed (${k + m} exist); fetch more pieces`,
      { details: dropped === "" ? undefined : `rejected ${dropped}` },
    );
  }
  const fileKey = await unwrapFileKey(signer, manifest.fileId, manifest.encryption.wrappedKey);
  try {
    const slots = Array.from({ length: k + m }, (_, index) => valid.get(index) ?? null);
    const data = await reconstructData(slots, k, m, shardSize);
    const plaintext = decryptShards(data, payloadSize, fileKey, manifest.encryption);
    const fileHash = hexlify(createHash("sha256").update(plaintext).digest());
    if (fileHash !== manifest.fileHash.toLowerCase() || plaintext.length !== manifest.fileSize) {
      throw new StrataError(
        "FILE_HASH_MISMATCH",
        `the restored file hashes to ${fileHash}, not ${manifest.fileHash}`,
      );
    }
    return { data: plaintext, used: [...valid.keys()], rejected };
  } finally {
    fileKey.fill(0);
  }
}

/** Decrypt the payload spread over the data shards without first joining them into one buffer. */
function decryptShards(
  shards: readonly Uint8Array[],
  payloadSize: number,
  key: Uint8Array,
  encryption: { iv: string; tag: string },
): Buffer {
  const cipherSize = payloadSize - TAG_BYTES;
  const tag = Buffer.concat(spanOf(shards, cipherSize, payloadSize));
  if (hexlify(tag) !== encryption.tag.toLowerCase()) {
    throw new StrataError("DECRYPT_FAILED", "the GCM tag in the pieces differs from the manifest's");
  }
  return decryptParts(spanOf(shards, 0, cipherSize), key, getBytes(encryption.iv), tag);
}

/** Views covering bytes [start, end) of the concatenation of `shards`. */
function spanOf(shards: readonly Uint8Array[], start: number, end: number): Uint8Array[] {
  const views: Uint8Array[] = [];
  let offset = 0;
  for (const shard of shards) {
    const from = Math.max(start, offset);
    const to = Math.min(end, offset + shard.length);
    if (from < to) views.push(shard.subarray(from - offset, to - offset));
    offset += shard.length;
  }
  return views;
}
