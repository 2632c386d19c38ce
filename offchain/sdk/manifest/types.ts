import type { KDF_ID, WrappedKey } from "../data/fileKey.js";

/**
 * The manifest of a stored file (docs/SPEC-DATA.md §6): everything needed to find, verify, reassemble and decrypt
 * it, except the wallet. Amounts and ids are bigint here and decimal strings in JSON; byte strings are lowercase
 * 0x-hex; addresses are checksummed.
 */

export const MANIFEST_VERSION = 3;
/** Manifests of the deal-per-piece market (one deal per piece); this software refuses them with MANIFEST_OUTDATED. */
export const DEAL_MANIFEST_VERSION = 1;
/** Manifests of whole-file encryption (one GCM tag, contiguous shards); refused with MANIFEST_OUTDATED. */
export const WHOLE_FILE_MANIFEST_VERSION = 2;
/** Chunked AES-256-GCM (docs/SPEC-DATA.md §3). */
export const ENCRYPTION_ALGORITHM = "AES-256-GCM-chunked-v1";
/** Cauchy Reed-Solomon of @ronomon/reed-solomon 6 on the striped layout (docs/SPEC-DATA.md §5). */
export const CODING_ALGORITHM = "reed-solomon-cauchy-v1";
/** Public files (docs/SPEC-DATA.md §10): no encryption. */
export const NO_ENCRYPTION = "none";
/**
 * Public files: every piece is the whole payload in the clear, zero-padded to a multiple of 64 bytes (at least 64),
 * so any one piece serves every file (k = 1, m = replicas - 1; all pieces share one root).
 */
export const REPLICA_ALGORITHM = "replica-v1";

export interface ManifestEncryption {
  algorithm: typeof ENCRYPTION_ALGORITHM;
  /** First 8 bytes of every chunk nonce (0x-hex); the last 4 are the chunk index. */
  noncePrefix: string;
  /** Plaintext bytes per chunk (the last chunk is shorter). */
  chunkSize: number;
  wrappedKey: WrappedKey;
  kdf: typeof KDF_ID;
}

/** A public payload is stored in the clear. */
export interface ManifestNoEncryption {
  algorithm: typeof NO_ENCRYPTION;
}

export interface ManifestCoding {
  /** Reed-Solomon over the striped layout, or full replicas of a public payload. */
  algorithm: typeof CODING_ALGORITHM | typeof REPLICA_ALGORITHM;
  k: number;
  m: number;
  /** Bytes of each shard per stripe (262,144). */
  stripeSize: number;
  shardSize: number;
  /** fileSize + 16 per chunk: the sealed chunks, before zero padding (fileSize for replicas). */
  payloadSize: number;
}

/** A piece as prepareFile makes it, before it is placed with a provider. */
export interface PieceDraft {
  index: number;
  root: string;
  size: number;
}

/**
 * A placed piece: the provider holding it, the data set it belongs to and where it sits in that data set's leaf
 * space (docs/SPEC.md, "Data sets"). `root` is the piece root; the piece covers 2^height leaves from `offset`,
 * height = ceil(log2(ceil(size / 64))).
 */
export interface ManifestPiece extends PieceDraft {
  provider: string;
  endpoint: string;
  dataSetId: bigint;
  /** First leaf (64 bytes each) of the piece in the data set. */
  offset: number;
  /** Version of the signed data-set state that first holds the piece (the chain shows it once version >= this). */
  addedInVersion: bigint;
}

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  fileId: string;
  fileName: string;
  fileSize: number;
  fileHash: string;
  /** ISO 8601, UTC. */
  createdAt: string;
  chainId: bigint;
  market: string;
  /** Present and true for a public payload: `encryption` is none, `coding` is replica-v1. */
  public?: true;
  encryption: ManifestEncryption | ManifestNoEncryption;
  coding: ManifestCoding;
  pieces: ManifestPiece[];
  /**
   * The files packed in the payload (docs/SPEC-DATA.md §10), absent for a payload that is one file. The payload's
   * plaintext is the files back to back; `fileName`, `fileSize` and `fileHash` then describe the whole bundle.
   */
  files?: ManifestFile[];
}

/** One file of a bundle: where its bytes sit in the payload's plaintext, its hash and its content id. */
export interface ManifestFile {
  /** Relative path, `/`-separated. */
  name: string;
  offset: number;
  size: number;
  /** sha256 of the file's bytes (0x-hex). */
  sha256: string;
  /** UnixFS CIDv1 of the plaintext (public) or raw CIDv1 of the ciphertext (private). */
  id: string;
  public: boolean;
}

/** What prepareFile returns: no chain, no providers yet. */
export type ManifestDraft = Omit<Manifest, "chainId" | "market" | "pieces"> & { pieces: PieceDraft[] };

/** Where one piece went, in piece order, to complete a draft. */
export interface PiecePlacement {
  provider: string;
  endpoint: string;
  dataSetId: bigint;
  offset: number;
  addedInVersion: bigint;
}
