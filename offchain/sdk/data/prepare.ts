import { createHash, randomBytes } from "node:crypto";
import { hexlify, type Signer } from "ethers";
import {
  commitPieces,
  defaultCommitPool,
  MIN_PARALLEL_BYTES,
  type CommitOptions,
} from "../commitment/parallel.js";
import { StrataError } from "../errors.js";
import {
  CODING_ALGORITHM,
  ENCRYPTION_ALGORITHM,
  isValidFileName,
  MANIFEST_VERSION,
  type ManifestDraft,
} from "../manifest/manifest.js";
import { encryptInto, IV_BYTES, TAG_BYTES } from "./encryption.js";
import { checkCoding, computeParity, shardSizeFor, type ShardAllocator } from "./erasure.js";
import { KDF_ID, newFileId, newFileKey, wrapFileKey } from "./fileKey.js";

export interface PrepareOptions {
  /** Data pieces: any k of the k + m pieces rebuild the file (1..24). */
  k: number;
  /** Parity pieces (0..6). */
  m: number;
  /** The client's wallet: it derives the key-encryption key (one personal_sign request). */
  signer: Signer;
  /** Base name recorded in the manifest (1..255 characters, no path separators). */
  fileName: string;
  /** Largest piece a provider accepts (the market's maxPieceSize); larger pieces throw PIECE_TOO_LARGE. */
  maxPieceSize?: number;
  /** Clock for `createdAt` (default: now). */
  now?: () => Date;
  /** Commitment pool or thread count. */
  commit?: CommitOptions;
}

export interface PreparedPiece {
  index: number;
  /** Exactly `size` bytes, the piece to upload. Views of shared memory: do not modify. */
  data: Uint8Array;
  /** PieceTree root (0x-hex). */
  root: string;
  size: number;
}

export interface PreparedFile {
  manifestDraft: ManifestDraft;
  pieces: PreparedPiece[];
}

/** Shards live in shared memory so the commitment workers read them without a copy. */
const sharedShard: ShardAllocator = (bytes) => new Uint8Array(new SharedArrayBuffer(bytes));

/**
 * Turn a file into k + m committed pieces and a manifest draft (docs/SPEC-DATA.md): sha256 of the plaintext,
 * AES-256-GCM under a fresh file key (wrapped with the wallet's KEK), ciphertext || tag zero-padded to k shards,
 * m parity shards, a PieceTree root per shard. An empty file is allowed: its payload is the 16-byte tag alone.
 *
 * Memory: the file, plus the padded payload (file + 16 bytes, rounded up), plus m/k of it for parity.
 */
export async function prepareFile(bytes: Uint8Array, options: PrepareOptions): Promise<PreparedFile> {
  const { k, m } = options;
  checkCoding(k, m);
  if (!isValidFileName(options.fileName)) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `file name must be a base name of 1..255 characters without / \\ or control characters`,
    );
  }
  const payloadSize = bytes.length + TAG_BYTES;
  const shardSize = shardSizeFor(payloadSize, k);
  if (options.maxPieceSize !== undefined && shardSize > options.maxPieceSize) {
    throw new StrataError(
      "PIECE_TOO_LARGE",
      `pieces of ${shardSize} bytes exceed the ${options.maxPieceSize}-byte limit: raise k (now ${k})`,
    );
  }

  // Start the commitment workers now: they load while the file is hashed and encrypted.
  if (options.commit === undefined && k * shardSize >= MIN_PARALLEL_BYTES) defaultCommitPool();

  // Ask the wallet first: if the user refuses, no work is wasted.
  const fileId = newFileId();
  const fileKey = newFileKey();
  const wrappedKey = await wrapFileKey(options.signer, fileId, fileKey);
  const fileHash = hexlify(createHash("sha256").update(bytes).digest());

  // The ciphertext is written straight into the k data shards (one shared buffer, zero padding included).
  const payload = sharedShard(k * shardSize);
  const iv = new Uint8Array(randomBytes(IV_BYTES));
  let tag: Uint8Array;
  try {
    tag = encryptInto(bytes, fileKey, iv, payload);
  } finally {
    fileKey.fill(0);
  }
  payload.set(tag, bytes.length);
  const data = Array.from({ length: k }, (_, i) => payload.subarray(i * shardSize, (i + 1) * shardSize));
  const shards = [...data, ...(await computeParity(data, m, sharedShard))];
  const roots = await commitPieces(shards, options.commit);

  const pieces: PreparedPiece[] = [];
  for (const [index, shard] of shards.entries()) {
    const root = roots[index];
    if (root === undefined) throw new StrataError("COMMIT_WORKER_FAILED", `no root for piece ${index}`);
    pieces.push({ index, data: shard, root, size: shardSize });
  }
  return {
    manifestDraft: {
      version: MANIFEST_VERSION,
      fileId,
      fileName: options.fileName,
      fileSize: bytes.length,
      fileHash,
      createdAt: (options.now ?? (() => new Date()))().toISOString(),
      encryption: {
        algorithm: ENCRYPTION_ALGORITHM,
        iv: hexlify(iv),
        tag: hexlify(tag),
        wrappedKey,
        kdf: KDF_ID,
      },
      coding: { algorithm: CODING_ALGORITHM, k, m, shardSize, payloadSize },
      pieces: pieces.map(({ index, root, size }) => ({ index, root, size })),
    },
    pieces,
  };
}
