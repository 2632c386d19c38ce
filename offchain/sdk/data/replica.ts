/**
 * Public payloads (docs/SPEC-DATA.md §10): no encryption, no erasure coding. The one piece is the payload's bytes
 * in the clear, zero-padded to a multiple of 64 bytes (at least 64), and every provider receives that same piece,
 * so any one of them holds and serves every file alone. The piece is written once (`piece-0.bin`), hashed and
 * committed as it streams; the other replicas are hard links to it (a resumed store finds `piece-<i>.bin`).
 * Memory: one read chunk and one commitment block whatever the size.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { link, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { hexlify } from "ethers";
import { PieceHasher } from "../commitment/stream.js";
import { StrataError } from "../errors.js";
import {
  isValidFileName,
  MANIFEST_VERSION,
  NO_ENCRYPTION,
  replicaPieceSize,
  REPLICA_ALGORITHM,
  type ManifestDraft,
} from "../manifest/manifest.js";
import { checkCoding, STRIPE_BYTES } from "./erasure.js";
import { newFileId } from "./fileKey.js";
import { fileWriter, type PayloadPiece, type ShardWriter } from "./stream.js";

export interface PrepareReplicaOptions {
  /** Providers that each hold the whole payload (1..7: coding k = 1, m = replicas - 1). */
  replicas: number;
  fileName: string;
  now?: () => Date;
}

export interface PreparedReplica {
  manifestDraft: ManifestDraft;
  /** `replicas` entries with one root; piece i is `<dir>/piece-<i>.bin`. */
  pieces: PayloadPiece[];
}

/**
 * Write the public piece of `size` bytes from `source` (a file path or chunks) into `output.dir`. With
 * `output.shard`, the piece is written through that writer instead (it must write `<dir>/piece-0.bin`; a store
 * passes its StagedPieces so that the uploads read the piece while it is written).
 */
export async function prepareReplica(
  source: string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
  output: { dir: string; shard?: (index: number, shardSize: number) => Promise<ShardWriter> },
  options: PrepareReplicaOptions,
): Promise<PreparedReplica> {
  checkCoding(1, options.replicas - 1);
  if (!isValidFileName(options.fileName)) {
    throw new StrataError("INVALID_ARGUMENT", "file name must be a base name of 1..255 characters");
  }
  const pieceSize = replicaPieceSize(size);
  await mkdir(output.dir, { recursive: true });
  const first = join(output.dir, "piece-0.bin");
  const writer = output.shard === undefined ? await fileWriter(first) : await output.shard(0, pieceSize);
  const sha = createHash("sha256");
  const hasher = new PieceHasher();
  let read = 0;
  try {
    const chunks = typeof source === "string" ? createReadStream(source, { highWaterMark: 1 << 20 }) : source;
    for await (const chunk of chunks as AsyncIterable<Uint8Array>) {
      read += chunk.length;
      if (read > size) break;
      sha.update(chunk);
      await hasher.update(chunk);
      await writer.write(chunk);
    }
    if (read !== size) {
      throw new StrataError("INVALID_ARGUMENT", `the source holds ${read} bytes, not the ${size} announced`);
    }
    const padding = new Uint8Array(pieceSize - size);
    await hasher.update(padding);
    await writer.write(padding);
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  const root = await hasher.digest();
  const pieces: PayloadPiece[] = [];
  for (let index = 0; index < options.replicas; index++) {
    const path = join(output.dir, `piece-${index}.bin`);
    if (index > 0) {
      await rm(path, { force: true });
      await link(first, path);
    }
    pieces.push({ index, root, size: pieceSize, path });
  }
  return {
    manifestDraft: {
      version: MANIFEST_VERSION,
      fileId: newFileId(),
      fileName: options.fileName,
      fileSize: size,
      fileHash: hexlify(sha.digest()),
      createdAt: (options.now ?? (() => new Date()))().toISOString(),
      public: true,
      encryption: { algorithm: NO_ENCRYPTION },
      coding: {
        algorithm: REPLICA_ALGORITHM,
        k: 1,
        m: options.replicas - 1,
        stripeSize: STRIPE_BYTES,
        shardSize: pieceSize,
        payloadSize: size,
      },
      pieces: pieces.map(({ index, root: r, size: s }) => ({ index, root: r, size: s })),
    },
    pieces,
  };
}
