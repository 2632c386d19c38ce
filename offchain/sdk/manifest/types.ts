import type { DealProposal, DealTerms } from "../deals/terms.js";
import type { KDF_ID, WrappedKey } from "../data/fileKey.js";

/**
 * The manifest of a stored file (docs/SPEC-DATA.md §6): everything needed to find, verify, reassemble and decrypt
 * it, except the wallet. Amounts and ids are bigint here and decimal strings in JSON; byte strings are lowercase
 * 0x-hex; addresses are checksummed.
 */

export const MANIFEST_VERSION = 1;
export const ENCRYPTION_ALGORITHM = "AES-256-GCM";
/** Cauchy Reed-Solomon of @ronomon/reed-solomon 6 in 256 KiB stripes (docs/SPEC-DATA.md §5). */
export const CODING_ALGORITHM = "reed-solomon-cauchy-v1";

export interface ManifestEncryption {
  algorithm: typeof ENCRYPTION_ALGORITHM;
  /** IV of the file payload (12 bytes). */
  iv: string;
  /** GCM tag of the file payload (16 bytes); also the last 16 bytes of the payload. */
  tag: string;
  wrappedKey: WrappedKey;
  kdf: typeof KDF_ID;
}

export interface ManifestCoding {
  algorithm: typeof CODING_ALGORITHM;
  k: number;
  m: number;
  shardSize: number;
  /** fileSize + 16: ciphertext || tag, before zero padding. */
  payloadSize: number;
}

/** A piece as prepareFile makes it, before it is placed with a provider. */
export interface PieceDraft {
  index: number;
  root: string;
  size: number;
}

/** A placed piece: the provider holding it and the deal that pays for it. */
export interface ManifestPiece extends PieceDraft {
  provider: string;
  endpoint: string;
  /** Null until the provider has published the deal. */
  dealId: bigint | null;
  nonce: bigint;
  proposal: DealProposal;
  /** Terms from DealPublished; null until published (updated on extension). */
  deal: DealTerms | null;
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
  encryption: ManifestEncryption;
  coding: ManifestCoding;
  pieces: ManifestPiece[];
}

/** What prepareFile returns: no chain, no providers yet. */
export type ManifestDraft = Omit<Manifest, "chainId" | "market" | "pieces"> & { pieces: PieceDraft[] };

/** Where one piece went, in piece order, to complete a draft. */
export interface PiecePlacement {
  provider: string;
  endpoint: string;
  proposal: DealProposal;
  dealId?: bigint | null;
  deal?: DealTerms | null;
}
