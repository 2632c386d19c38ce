import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../client/files.js";
import { StrataError } from "../errors.js";
import { BadManifestError } from "./validate.js";
import {
  NO_ENCRYPTION,
  type Manifest,
  type ManifestDraft,
  type ManifestEncryption,
  type PiecePlacement,
} from "./types.js";
import { fromJsonValue } from "./validate.js";

export * from "./types.js";
export { BadManifestError } from "./validate.js";
export { fromJsonValue, isValidFileName, replicaPieceSize } from "./validate.js";

/** A full manifest from a draft and the placement of each of its pieces (validated). */
export function completeManifest(
  draft: ManifestDraft,
  chain: { chainId: bigint; market: string },
  placements: readonly PiecePlacement[],
): Manifest {
  if (placements.length !== draft.pieces.length) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `${draft.pieces.length} pieces but ${placements.length} placements`,
    );
  }
  const manifest: Manifest = {
    ...draft,
    chainId: chain.chainId,
    market: chain.market,
    pieces: draft.pieces.map((piece, index) => {
      const placement = placements[index];
      if (placement === undefined)
        throw new StrataError("INVALID_ARGUMENT", `no placement for piece ${index}`);
      return {
        ...piece,
        provider: placement.provider,
        endpoint: placement.endpoint,
        dataSetId: placement.dataSetId,
        offset: placement.offset,
        addedInVersion: placement.addedInVersion,
      };
    }),
  };
  // Round-trip through the validator so that a completed manifest is always one fromJson accepts.
  return fromJsonValue(toJsonValue(manifest));
}

/** The manifest as a JSON value (bigint -> decimal string). */
export function toJsonValue(manifest: Manifest): unknown {
  return {
    version: manifest.version,
    fileId: manifest.fileId,
    fileName: manifest.fileName,
    fileSize: manifest.fileSize,
    fileHash: manifest.fileHash,
    createdAt: manifest.createdAt,
    chainId: manifest.chainId.toString(),
    market: manifest.market,
    ...(manifest.public === true ? { public: true } : {}),
    encryption:
      manifest.encryption.algorithm === NO_ENCRYPTION
        ? { algorithm: NO_ENCRYPTION }
        : {
            algorithm: manifest.encryption.algorithm,
            noncePrefix: manifest.encryption.noncePrefix,
            chunkSize: manifest.encryption.chunkSize,
            wrappedKey: { ...manifest.encryption.wrappedKey },
            kdf: manifest.encryption.kdf,
          },
    coding: { ...manifest.coding },
    pieces: manifest.pieces.map((piece) => ({
      index: piece.index,
      root: piece.root,
      size: piece.size,
      provider: piece.provider,
      endpoint: piece.endpoint,
      dataSetId: piece.dataSetId.toString(),
      offset: piece.offset,
      addedInVersion: piece.addedInVersion.toString(),
    })),
    ...(manifest.files === undefined ? {} : { files: manifest.files.map((file) => ({ ...file })) }),
  };
}

/** The manifest as JSON text (2-space indentation, trailing newline). */
export function toJson(manifest: Manifest): string {
  return JSON.stringify(toJsonValue(manifest), null, 2) + "\n";
}

/** Parse and validate manifest JSON text; any defect throws BAD_MANIFEST (BadManifestError.field = JSON path). */
export function fromJson(text: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadManifestError("", "is not valid JSON");
  }
  return fromJsonValue(value);
}

/**
 * Write `manifest` to `path` atomically: the JSON goes to a temporary file in the same directory, is flushed to
 * disk, then renamed over `path`. A crash leaves either the old manifest or the new one, never a torn file.
 */
export async function saveManifest(path: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(path, toJson(manifest));
}

/** Read and validate the manifest at `path`: MANIFEST_NOT_FOUND if there is none, BAD_MANIFEST if it is invalid. */
export async function loadManifest(path: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") {
      throw new StrataError("MANIFEST_NOT_FOUND", `no manifest file at ${path}`, { cause: error });
    }
    throw error;
  }
  return fromJson(text);
}

/**
 * The encryption of an encrypted payload; INVALID_ARGUMENT for a public one (stored in the clear as replicas, read
 * with sdk/client/readReplica.ts, never decrypted).
 */
export function encryptionOf(manifest: Pick<Manifest, "encryption" | "fileName">): ManifestEncryption {
  const { encryption } = manifest;
  if (encryption.algorithm === NO_ENCRYPTION) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `${manifest.fileName} is public: it is stored in the clear as replicas and has no key`,
    );
  }
  return encryption;
}
