import type { Signer } from "ethers";
import { unwrapFileKey } from "../data/fileKey.js";
import { payloadOf } from "../data/restore.js";
import { readRange } from "../data/stream.js";
import { StrataError } from "../errors.js";
import { encryptionOf, type Manifest, type ManifestPiece } from "../manifest/manifest.js";
import type { AgentClient } from "./agentClient.js";
import { checkOutputPath, openOutputFile, type OutputFile } from "./files.js";
import type { RegistryReader } from "./selectProviders.js";
import { readReplicaFile } from "./readReplica.js";

export interface RetrieveRequest {
  manifest: Manifest;
  outPath: string;
  overwrite?: boolean;
  /** Pieces downloaded at once. Unused: every segment asks its k pieces at once. */
  concurrency?: number;
  /** Only plaintext bytes [start, end) (end exclusive); default the whole file. */
  range?: { start: number; end: number };
  onProgress?: (event: RetrieveEvent) => void;
}

export type RetrieveEvent =
  | { type: "download"; piece: number; received: number; total: number }
  | { type: "piece"; piece: number; ok: boolean; reason: string | null }
  | { type: "restored"; bytes: number };

export interface RetrieveDeps {
  /** The wallet that stored an encrypted payload (not needed for a public one). */
  signer?: Signer;
  agentFor: (endpoint: string) => Pick<AgentClient, "downloadRange">;
  /** When given, a provider that moved is found at its current registered endpoint. */
  registry?: Pick<RegistryReader, "providerInfo">;
}

export interface PieceFailure {
  piece: number;
  provider: string;
  reason: string;
}

export interface RetrieveResult {
  outPath: string;
  bytes: number;
  /** Pieces the file was rebuilt from. */
  used: number[];
  failures: PieceFailure[];
  /** The plaintext bytes written: [start, end) of the file. */
  range: { start: number; end: number };
}

/**
 * Fetch and decrypt a stored file, or one byte range of it, with bounded memory: readRange (sdk/data/stream.ts)
 * asks the agents for byte ranges of the data pieces a segment at a time (HTTP Range, a few segments ahead of the one
 * it decrypts, from every provider in parallel), decrypts chunk by chunk and
 * writes the plaintext to a temporary file beside `outPath`, renamed into place at the end. A data piece that is
 * missing, unreachable or returns bytes that fail chunk authentication is replaced by parity from then on. A
 * whole file must also hash to the manifest's fileHash (FILE_HASH_MISMATCH). PIECES_UNAVAILABLE when fewer than
 * k pieces can be used; CHUNK_AUTH_FAILED when no combination of pieces authenticates a chunk.
 */
export async function retrieveFile(request: RetrieveRequest, deps: RetrieveDeps): Promise<RetrieveResult> {
  const { manifest } = request;
  const emit = request.onProgress ?? (() => undefined);
  await checkOutputPath(request.outPath, request.overwrite === true);
  const { k, m } = manifest.coding;
  const start = request.range?.start ?? 0;
  const end = request.range?.end ?? manifest.fileSize;
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    start < 0 ||
    end < start ||
    end > manifest.fileSize
  ) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `range ${start}-${end} is outside the file's ${manifest.fileSize} bytes`,
    );
  }
  const whole = start === 0 && end === manifest.fileSize;
  if (manifest.public === true) return retrieveReplica(request, deps, start, end);
  const failures: PieceFailure[] = [];
  const received = new Map<number, number>();
  // Downloads are read into shared buffers that readRange hands back once it has decrypted their chunks: a
  // retrieve allocates its window of buffers once instead of one per request (fresh 8 MiB buffers, each counted
  // as new external memory, made the garbage collector run a full collection every 64 MiB or so).
  const buffers = new BufferPool();
  const fetchShardRange = async (index: number, from: number, to: number): Promise<Uint8Array> => {
    const piece = manifest.pieces[index];
    if (piece === undefined) throw new StrataError("BAD_MANIFEST", `no piece ${index}`);
    const bytes = await download(piece, from, to, deps, buffers.take(to - from));
    const total = (received.get(index) ?? 0) + bytes.length;
    received.set(index, total);
    emit({ type: "download", piece: index, received: total, total: piece.size });
    return bytes;
  };

  if (deps.signer === undefined) {
    throw new StrataError(
      "KEY_MISSING",
      `${manifest.fileName} is encrypted: retrieving it needs the wallet that stored it`,
    );
  }
  const fileKey = await unwrapFileKey(deps.signer, manifest.fileId, encryptionOf(manifest).wrappedKey);
  try {
    const { read, written } = await intoOutputFile(request, async (out) => {
      const read = await readRange(payloadOf(manifest), fileKey, start, end, fetchShardRange, {
        write: (bytes) => out.write(bytes),
        // 32 stripes per step: 8 MiB of every data piece per request, up to 32 MiB of steps fetched ahead.
        segmentStripes: 32,
        recycle: (bytes) => {
          buffers.give(bytes);
        },
        onShardFailed: (index, reason) => {
          failures.push({ piece: index, provider: manifest.pieces[index]?.provider ?? "", reason });
          emit({ type: "piece", piece: index, ok: false, reason });
        },
      });
      if (whole && read.sha256 !== manifest.fileHash.toLowerCase()) {
        throw new StrataError(
          "FILE_HASH_MISMATCH",
          `the restored file hashes to ${read.sha256}, not ${manifest.fileHash}`,
        );
      }
      return { read, written: out.written };
    });
    const failed = new Set(read.failed);
    const used = Array.from({ length: k + m }, (_, i) => i)
      .filter((i) => !failed.has(i))
      .slice(0, k);
    emit({ type: "restored", bytes: written });
    return { outPath: request.outPath, bytes: written, used, failures, range: { start, end } };
  } catch (error) {
    if (error instanceof StrataError && error.code === "NOT_ENOUGH_PIECES") {
      throw new StrataError(
        "PIECES_UNAVAILABLE",
        `fewer than the ${k} pieces needed could be fetched (${manifest.pieces.length} exist)`,
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

/**
 * Run `work` with the output file of `request` (openOutputFile: a temporary file beside it), then make it final;
 * when `work` fails the temporary file is removed and nothing else changed.
 */
async function intoOutputFile<T>(
  request: RetrieveRequest,
  work: (out: OutputFile) => Promise<T>,
): Promise<T> {
  const out = await openOutputFile(request.outPath, request.overwrite === true, WRITE_BATCH_BYTES);
  let result: T;
  try {
    result = await work(out);
  } catch (error) {
    await out.abort();
    throw error;
  }
  await out.commit();
  return result;
}

/**
 * Plaintext collected before one positioned write: one system call per batch instead of one per chunk. The batch
 * is one reused buffer (BatchedFileWriter): a decrypted chunk is copied in and collected young, instead of being
 * held until its batch is written (32 chunks held per batch were promoted, and the garbage collector then ran a
 * full collection every few tens of MiB); the copy costs far less than that.
 */
const WRITE_BATCH_BYTES = 8 << 20;

/**
 * retrieveFile of a public payload: bytes [start, end) from one replica at a time (readReplicaFile) into the
 * temporary file; a replica that fails, or whose whole payload does not hash to fileHash, is dropped, the file is
 * cut back, and the next one is read from the start.
 */
async function retrieveReplica(
  request: RetrieveRequest,
  deps: RetrieveDeps,
  start: number,
  end: number,
): Promise<RetrieveResult> {
  const { manifest } = request;
  const emit = request.onProgress ?? (() => undefined);
  const failures: PieceFailure[] = [];
  const read = await intoOutputFile(request, (out) =>
    readReplicaFile(
      manifest,
      { name: manifest.fileName, offset: 0, size: manifest.fileSize, sha256: manifest.fileHash },
      (piece, from, to) => download(piece, from, to, deps),
      start,
      end,
      out,
      {
        onBytes: (piece, received, total) => {
          emit({ type: "download", piece, received, total });
        },
        onPiece: (piece, ok, reason) => {
          if (!ok)
            failures.push({ piece, provider: manifest.pieces[piece]?.provider ?? "", reason: reason ?? "" });
          emit({ type: "piece", piece, ok, reason });
        },
      },
    ),
  );
  emit({ type: "restored", bytes: read.length });
  return { outPath: request.outPath, bytes: read.length, used: read.used, failures, range: { start, end } };
}

/** Bytes [from, to) of the piece from the manifest's endpoint, or from the provider's current registered endpoint. */
async function download(
  piece: ManifestPiece,
  from: number,
  to: number,
  deps: RetrieveDeps,
  into?: Uint8Array,
): Promise<Uint8Array> {
  try {
    return await deps.agentFor(piece.endpoint).downloadRange(piece.root, from, to, into);
  } catch (error) {
    if (deps.registry === undefined) throw error;
    let current: string;
    try {
      current = (await deps.registry.providerInfo(piece.provider)).endpoint;
    } catch {
      throw error;
    }
    if (current === "" || current.replace(/\/+$/, "") === piece.endpoint.replace(/\/+$/, "")) throw error;
    return deps.agentFor(current).downloadRange(piece.root, from, to, into);
  }
}

/**
 * Download buffers by size, over SharedArrayBuffers: the download worker fills them in place, so a retrieve
 * allocates its window of buffers once and the decrypting thread allocates nothing per request. A handful are kept
 * per size (a read asks a few sizes: full steps and the last).
 */
class BufferPool {
  private readonly spare = new Map<number, Uint8Array[]>();
  private static readonly KEPT_PER_SIZE = 16;

  /** A free buffer of exactly `size` bytes. */
  take(size: number): Uint8Array {
    return this.spare.get(size)?.pop() ?? new Uint8Array(new SharedArrayBuffer(size));
  }

  /**
   * `bytes` is free again. Kept only when it is a whole buffer of its own: a view into a larger one (a small
   * Buffer from Node's shared slab, a slice of someone's piece) is never written into.
   */
  give(bytes: Uint8Array): void {
    if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) return;
    const list = this.spare.get(bytes.length) ?? [];
    if (list.length < BufferPool.KEPT_PER_SIZE) list.push(bytes);
    this.spare.set(bytes.length, list);
  }
}
