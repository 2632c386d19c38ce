import type { Signer } from "ethers";
import { restoreFile, verifyPieces } from "../data/restore.js";
import { StrataError } from "../errors.js";
import type { Manifest, ManifestPiece } from "../manifest/manifest.js";
import type { AgentClient } from "./agentClient.js";
import { checkWritable, writeFileAtomic } from "./files.js";
import type { RegistryReader } from "./selectProviders.js";

export interface RetrieveRequest {
  manifest: Manifest;
  outPath: string;
  overwrite?: boolean;
  /** Pieces downloaded at once. Default min(k, 4). */
  concurrency?: number;
  onProgress?: (event: RetrieveEvent) => void;
}

export type RetrieveEvent =
  | { type: "download"; piece: number; received: number; total: number }
  | { type: "piece"; piece: number; ok: boolean; reason: string | null }
  | { type: "restored"; bytes: number };

export interface RetrieveDeps {
  signer: Signer;
  agentFor: (endpoint: string) => Pick<AgentClient, "downloadPiece">;
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
}

/**
 * Fetch pieces of a stored file until k of them verify against their manifest roots (data pieces first:
 * no decoding needed when they are intact; a piece that is missing, unreachable or tampered with is
 * replaced by the next one), rebuild and decrypt the file with the wallet that stored it, and write it to
 * `outPath` atomically. PIECES_UNAVAILABLE when fewer than k pieces can be obtained.
 */
export async function retrieveFile(request: RetrieveRequest, deps: RetrieveDeps): Promise<RetrieveResult> {
  const { manifest } = request;
  const emit = request.onProgress ?? (() => undefined);
  await checkWritable(request.outPath, request.overwrite === true);
  const { k } = manifest.coding;
  const queue = [...manifest.pieces].sort((a, b) => a.index - b.index);
  const valid = new Map<number, Uint8Array>();
  const failures: PieceFailure[] = [];
  let inFlight = 0;

  const fetchOne = async (piece: ManifestPiece): Promise<void> => {
    const bytes = await download(piece, deps, (received, total) => {
      emit({ type: "download", piece: piece.index, received, total });
    });
    const { valid: ok, rejected } = await verifyPieces(manifest, new Map([[piece.index, bytes]]));
    const verified = ok.get(piece.index);
    if (verified === undefined) {
      throw new StrataError(
        "PROVIDER_BAD_DATA",
        `piece ${piece.index} does not match its root (${rejected[0]?.reason ?? "rejected"})`,
      );
    }
    valid.set(piece.index, verified);
  };

  const worker = async (): Promise<void> => {
    // Take the next piece only while the pieces verified or in flight cannot yet make k.
    while (valid.size + inFlight < k) {
      const piece = queue.shift();
      if (piece === undefined) return;
      inFlight++;
      try {
        await fetchOne(piece);
        emit({ type: "piece", piece: piece.index, ok: true, reason: null });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        failures.push({ piece: piece.index, provider: piece.provider, reason });
        emit({ type: "piece", piece: piece.index, ok: false, reason });
      } finally {
        inFlight--;
      }
    }
  };
  const concurrency = Math.max(1, request.concurrency ?? Math.min(k, 4));
  await Promise.all(Array.from({ length: concurrency }, () => worker()));

  if (valid.size < k) {
    throw new StrataError(
      "PIECES_UNAVAILABLE",
      `only ${valid.size} of the ${k} pieces needed could be fetched and verified (${manifest.pieces.length} exist)`,
      { details: failures.map((f) => `piece ${f.piece} (${f.provider}): ${f.reason}`).join("; ") },
    );
  }
  const restored = await restoreFile(manifest, valid, deps.signer);
  await writeFileAtomic(request.outPath, restored.data);
  emit({ type: "restored", bytes: restored.data.length });
  return { outPath: request.outPath, bytes: restored.data.length, used: restored.used, failures };
}

/** The piece from the manifest's endpoint, or from the provider's current registered endpoint. */
async function download(
  piece: ManifestPiece,
  deps: RetrieveDeps,
  onProgress: (received: number, total: number) => void,
): Promise<Uint8Array> {
  try {
    return await deps.agentFor(piece.endpoint).downloadPiece(piece.root, piece.size, onProgress);
  } catch (error) {
    if (deps.registry === undefined) throw error;
    let current: string;
    try {
      current = (await deps.registry.providerInfo(piece.provider)).endpoint;
    } catch {
      throw error;
    }
    if (current === "" || current.replace(/\/+$/, "") === piece.endpoint.replace(/\/+$/, "")) throw error;
    return deps.agentFor(current).downloadPiece(piece.root, piece.size, onProgress);
  }
}
