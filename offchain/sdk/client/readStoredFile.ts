// One file out of a stored payload, as bytes, fetching only its byte range: readRange maps the file's plaintext
// bytes to the sealed chunks that hold them and to the runs of the data pieces (parity runs only for a data piece
// that fails), downloads those runs with ranged piece reads, and decrypts chunk by chunk with the wallet's file
// key (each chunk authenticated, so altered bytes are detected). A whole file is also checked against its SHA-256.
import type { Signer } from "ethers";
import { unwrapFileKey } from "../data/fileKey.js";
import { payloadOf } from "../data/restore.js";
import { readRange } from "../data/stream.js";
import { StrataError } from "../errors.js";
import { encryptionOf, type Manifest, type ManifestFile } from "../manifest/manifest.js";
import type { AgentClient } from "./agentClient.js";
import { readReplicaFile, type ReadSink } from "./readReplica.js";

export interface ReadFileDeps {
  /** The wallet that stored an encrypted payload (not needed for a public one). */
  signer?: Signer;
  agentFor: (endpoint: string) => Pick<AgentClient, "downloadRange">;
}

export interface ReadFileResult {
  /** The bytes, when no sink was given (empty otherwise). */
  bytes: Uint8Array;
  /** Bytes delivered (to the sink, or in `bytes`). */
  length: number;
  /** Pieces the bytes were read from. */
  used: number[];
  failures: { piece: number; provider: string; reason: string }[];
}

/**
 * The bytes `[range.start, range.end)` of `file` (default: all of it) in the payload `manifest` describes, into
 * `sink` as they are decrypted (memory bounded by readRange's window, whatever the file size), or returned as
 * `bytes` without one; only the pieces' bytes holding that range are downloaded. A sink receives bytes before a
 * whole file's hash is checked: it must keep them provisional until the read returns. Errors: INVALID_ARGUMENT (a range outside the file),
 * PIECES_UNAVAILABLE (fewer than k pieces serve authentic bytes), CHUNK_AUTH_FAILED, FILE_HASH_MISMATCH (a whole
 * file that does not hash to its recorded sha256).
 */
export async function readStoredFile(
  manifest: Manifest,
  file: Pick<ManifestFile, "name" | "offset" | "size" | "sha256">,
  deps: ReadFileDeps,
  range?: { start: number; end: number },
  sink?: ReadSink,
): Promise<ReadFileResult> {
  const collected = sink === undefined ? memorySink() : undefined;
  const out = sink ?? collected;
  if (out === undefined) throw new StrataError("INTERNAL_INVARIANT", "no sink");
  const { k, m } = manifest.coding;
  const start = range?.start ?? 0;
  const end = range?.end ?? file.size;
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    start < 0 ||
    end < start ||
    end > file.size
  ) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `range ${start}-${end} is outside ${file.name}'s ${file.size} bytes`,
    );
  }
  if (file.offset + file.size > manifest.fileSize) {
    throw new StrataError("FILE_HASH_MISMATCH", `${file.name} runs past the end of its payload`);
  }
  if (manifest.public === true) {
    const read = await readReplicaFile(
      manifest,
      file,
      (piece, from, to) => deps.agentFor(piece.endpoint).downloadRange(piece.root, from, to),
      start,
      end,
      out,
    );
    return { ...read, bytes: collected?.bytes() ?? new Uint8Array(0) };
  }
  if (deps.signer === undefined) {
    throw new StrataError(
      "KEY_MISSING",
      `${file.name} is encrypted: reading it needs the wallet that stored it`,
    );
  }
  const failures: ReadFileResult["failures"] = [];
  const fileKey = await unwrapFileKey(deps.signer, manifest.fileId, encryptionOf(manifest).wrappedKey);
  try {
    const read = await readRange(
      payloadOf(manifest),
      fileKey,
      file.offset + start,
      file.offset + end,
      async (index, from, to) => {
        const piece = manifest.pieces[index];
        if (piece === undefined) throw new StrataError("BAD_MANIFEST", `no piece ${index}`);
        return deps.agentFor(piece.endpoint).downloadRange(piece.root, from, to);
      },
      {
        write: (bytes) => out.write(bytes),
        onShardFailed: (index, reason) => {
          failures.push({ piece: index, provider: manifest.pieces[index]?.provider ?? "", reason });
        },
      },
    );
    if (range === undefined && read.sha256 !== file.sha256.toLowerCase()) {
      throw new StrataError("FILE_HASH_MISMATCH", `${file.name} does not hash to its recorded sha256`);
    }
    const failed = new Set(read.failed);
    const used = Array.from({ length: k + m }, (_, i) => i)
      .filter((i) => !failed.has(i))
      .slice(0, k);
    return { bytes: collected?.bytes() ?? new Uint8Array(0), length: end - start, used, failures };
  } catch (error) {
    if (error instanceof StrataError && error.code === "NOT_ENOUGH_PIECES") {
      throw new StrataError(
        "PIECES_UNAVAILABLE",
        `fewer than the ${k} pieces needed serve authentic bytes of ${file.name}`,
        {
          details: failures.map((f) => `piece ${f.piece} (${f.provider}): ${f.reason}`).join("; "),
          cause: error,
        },
      );
    }
    throw error;
  } finally {
    fileKey.fill(0);
  }
}

/** A sink that keeps the bytes in memory (callers that want them returned: small files, tests). */
function memorySink(): ReadSink & { bytes(): Uint8Array } {
  let parts: Uint8Array[] = [];
  return {
    write(bytes) {
      parts.push(bytes);
      return Promise.resolve();
    },
    restart() {
      parts = [];
      return Promise.resolve();
    },
    bytes: () => Buffer.concat(parts),
  };
}
