import { type Signer } from "ethers";
import type { CommitOptions } from "../commitment/parallel.js";
import { StrataError } from "../errors.js";
import {
  CODING_ALGORITHM,
  ENCRYPTION_ALGORITHM,
  isValidFileName,
  MANIFEST_VERSION,
  type ManifestDraft,
  type ManifestEncryption,
} from "../manifest/manifest.js";
import { DEFAULT_CHUNK_SIZE, geometryFor, payloadSizeFor } from "./chunked.js";
import { checkCoding } from "./erasure.js";
import { KDF_ID, newFileId, newFileKey, wrapFileKey } from "./fileKey.js";
import {
  memoryWriter,
  preparePayload,
  type PayloadPiece,
  type PayloadSpan,
  type PreparedPayload,
  type ShardOutput,
} from "./stream.js";

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
  /** Commitment pool (threads are chosen by the pool). */
  commit?: CommitOptions;
  /** Plaintext bytes per encrypted chunk (default 262,128). */
  chunkSize?: number;
  /** Payload byte ranges hashed while the payload is produced (PreparedStream.spanHashes; see preparePayload). */
  hashSpans?: readonly PayloadSpan[];
}

export interface PreparedPiece {
  index: number;
  /** Exactly `size` bytes, the piece to upload. */
  data: Uint8Array;
  /** PieceTree root (0x-hex). */
  root: string;
  size: number;
}

/** The draft of an encrypted payload (a public one is prepared by prepareReplica). */
export type EncryptedDraft = ManifestDraft & { encryption: ManifestEncryption };

export interface PreparedFile {
  manifestDraft: EncryptedDraft;
  pieces: PreparedPiece[];
}

export interface PreparedStream {
  manifestDraft: EncryptedDraft;
  /** The pieces (with their file when the output was a directory). */
  pieces: PayloadPiece[];
  /** SHA-256 (0x-hex) of each of the options' `hashSpans`. */
  spanHashes?: string[];
}

/** Shard size of a file of `fileSize` bytes with k data pieces (manifest version 3 layout). */
export function pieceSizeFor(fileSize: number, k: number, chunkSize: number = DEFAULT_CHUNK_SIZE): number {
  return geometryFor(payloadSizeFor(fileSize, chunkSize), k).shardSize;
}

/**
 * Turn a plaintext stream into k + m committed pieces and a manifest draft (docs/SPEC-DATA.md): a fresh file key
 * wrapped with the wallet's KEK (asked first: a refusal wastes no work), then preparePayload (sha256, chunked
 * AES-256-GCM, striped erasure coding, incremental piece roots) writing the shards to `output`. Memory is bounded
 * by a few segments whatever the size.
 */
export async function prepareStream(
  source: string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
  output: ShardOutput,
  options: PrepareOptions,
): Promise<PreparedStream> {
  const { k, m } = options;
  checkCoding(k, m);
  if (!isValidFileName(options.fileName)) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `file name must be a base name of 1..255 characters without / \\ or control characters`,
    );
  }
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const shardSize = pieceSizeFor(size, k, chunkSize);
  if (options.maxPieceSize !== undefined && shardSize > options.maxPieceSize) {
    throw new StrataError(
      "PIECE_TOO_LARGE",
      `pieces of ${shardSize} bytes exceed the ${options.maxPieceSize}-byte limit: raise k (now ${k})`,
    );
  }
  const fileId = newFileId();
  const fileKey = newFileKey();
  let payload: PreparedPayload;
  try {
    const wrappedKey = await wrapFileKey(options.signer, fileId, fileKey);
    payload = await preparePayload({
      source,
      size,
      k,
      m,
      key: fileKey,
      chunkSize,
      output,
      ...(options.commit?.pool === undefined ? {} : { pool: options.commit.pool }),
      ...(options.hashSpans === undefined ? {} : { hashSpans: options.hashSpans }),
    });
    return {
      manifestDraft: {
        version: MANIFEST_VERSION,
        fileId,
        fileName: options.fileName,
        fileSize: size,
        fileHash: payload.fileHash,
        createdAt: (options.now ?? (() => new Date()))().toISOString(),
        encryption: {
          algorithm: ENCRYPTION_ALGORITHM,
          noncePrefix: payload.noncePrefix,
          chunkSize: payload.chunkSize,
          wrappedKey,
          kdf: KDF_ID,
        },
        coding: {
          algorithm: CODING_ALGORITHM,
          k,
          m,
          stripeSize: payload.stripeSize,
          shardSize: payload.shardSize,
          payloadSize: payload.payloadSize,
        },
        pieces: payload.pieces.map(({ index, root, size: pieceSize }) => ({ index, root, size: pieceSize })),
      },
      pieces: payload.pieces,
      ...(payload.spanHashes === undefined ? {} : { spanHashes: payload.spanHashes }),
    };
  } finally {
    fileKey.fill(0);
  }
}

/**
 * prepareStream of an in-memory file with the pieces kept in memory (tests, small files). Memory: the file plus
 * its k + m pieces.
 */
export async function prepareFile(bytes: Uint8Array, options: PrepareOptions): Promise<PreparedFile> {
  const data = new Map<number, Uint8Array>();
  const prepared = await prepareStream(
    [bytes],
    bytes.length,
    (index, shardSize) =>
      Promise.resolve(
        memoryWriter(shardSize, (piece) => {
          data.set(index, piece);
        }),
      ),
    options,
  );
  return {
    manifestDraft: prepared.manifestDraft,
    pieces: prepared.pieces.map((piece) => {
      const bytesOf = data.get(piece.index);
      if (bytesOf === undefined) throw new StrataError("INTERNAL_INVARIANT", `piece ${piece.index} missing`);
      return { index: piece.index, data: bytesOf, root: piece.root, size: piece.size };
    }),
  };
}
