import { type Signer } from "ethers";
import { commitPieces, type CommitOptions } from "../commitment/parallel.js";
import { StrataError } from "../errors.js";
import { encryptionOf, type Manifest, type ManifestDraft } from "../manifest/manifest.js";
import { unwrapFileKey } from "./fileKey.js";
import { readRange, type PayloadDescriptor } from "./stream.js";

/** What restoring needs from a manifest: a full one or a draft both qualify. */
export type RestorableManifest = Pick<
  Manifest | ManifestDraft,
  "fileId" | "fileName" | "fileSize" | "fileHash" | "encryption" | "coding"
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

/** The payload fields of a manifest, as readRange takes them. */
export function payloadOf(manifest: RestorableManifest): Omit<PayloadDescriptor, "fileHash"> {
  const { coding } = manifest;
  const encryption = encryptionOf(manifest);
  return {
    fileSize: manifest.fileSize,
    noncePrefix: encryption.noncePrefix,
    chunkSize: encryption.chunkSize,
    k: coding.k,
    m: coding.m,
    stripeSize: coding.stripeSize,
    shardSize: coding.shardSize,
    payloadSize: coding.payloadSize,
  };
}

/**
 * Rebuild a file from any k of its pieces: verify pieces against their roots (tampered ones are dropped and
 * reported), unwrap the file key with `signer`, read the whole plaintext chunk by chunk (rebuilding missing data
 * pieces stripe by stripe) and check its sha256 against fileHash. Holds the pieces and the plaintext: for files
 * of any size use readRange with shard fetches instead (sdk/client/retrieve.ts).
 *
 * Errors: NOT_ENOUGH_PIECES (fewer than k valid pieces; `details` lists the rejected ones), WRONG_KEY (not the
 * storing wallet), CHUNK_AUTH_FAILED (authentication failed), FILE_HASH_MISMATCH.
 */
export async function restoreFile(
  manifest: RestorableManifest,
  pieceData: ReadonlyMap<number, Uint8Array>,
  signer: Signer,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const { k, m } = manifest.coding;
  const { valid, rejected } = await verifyPieces(manifest, pieceData, options);
  if (valid.size < k) {
    const dropped = rejected.map(({ index, reason }) => `${index}: ${reason}`).join(", ");
    throw new StrataError(
      "NOT_ENOUGH_PIECES",
      `${valid.size} valid piece(s) of the ${k} needed (${k + m} exist); fetch more pieces`,
      { details: dropped === "" ? undefined : `rejected ${dropped}` },
    );
  }
  const fileKey = await unwrapFileKey(signer, manifest.fileId, encryptionOf(manifest).wrappedKey);
  try {
    const skip = Array.from({ length: k + m }, (_, index) => index).filter((index) => !valid.has(index));
    const read = await readRange(
      payloadOf(manifest),
      fileKey,
      0,
      manifest.fileSize,
      (index, start, end) => {
        const piece = valid.get(index);
        if (piece === undefined)
          return Promise.reject(new StrataError("NOT_ENOUGH_PIECES", `no piece ${index}`));
        return Promise.resolve(piece.subarray(start, end));
      },
      { skip },
    );
    const plaintext = read.bytes ?? Buffer.alloc(0);
    if (read.sha256 !== manifest.fileHash.toLowerCase() || plaintext.length !== manifest.fileSize) {
      throw new StrataError(
        "FILE_HASH_MISMATCH",
        `the restored file hashes to ${read.sha256}, not ${manifest.fileHash}`,
      );
    }
    return { data: plaintext, used: [...valid.keys()], rejected };
  } finally {
    fileKey.fill(0);
  }
}
