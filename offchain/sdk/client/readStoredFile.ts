// One file out of a stored payload, as bytes: fetch pieces until k verify against their manifest roots, rebuild
// and decrypt the payload with the wallet that stored it, slice the file out of its bundle and check its SHA-256,
// then keep the byte range asked for. This is the "read a byte range of a stored payload" step the catalog
// commands stand on; with ranged piece reads it will fetch only the leaves that hold the range.
import type { Signer } from "ethers";
import { restoreFile, verifyPieces } from "../data/restore.js";
import { StrataError } from "../errors.js";
import { extractFile } from "../files/bundle.js";
import type { Manifest, ManifestFile } from "../manifest/manifest.js";
import type { AgentClient } from "./agentClient.js";
import { mapLimit } from "./concurrency.js";

export interface ReadFileDeps {
  signer: Signer;
  agentFor: (endpoint: string) => Pick<AgentClient, "downloadPiece">;
}

export interface ReadFileResult {
  bytes: Uint8Array;
  /** Pieces the payload was rebuilt from. */
  used: number[];
  failures: { piece: number; provider: string; reason: string }[];
}

/**
 * The bytes `[range.start, range.end)` of `file` (default: all of it) in the payload `manifest` describes.
 * PIECES_UNAVAILABLE when fewer than k pieces can be fetched and verified.
 */
export async function readStoredFile(
  manifest: Manifest,
  file: Pick<ManifestFile, "name" | "offset" | "size" | "sha256">,
  deps: ReadFileDeps,
  range?: { start: number; end: number },
): Promise<ReadFileResult> {
  const { k } = manifest.coding;
  const pieces = [...manifest.pieces].sort((a, b) => a.index - b.index);
  const valid = new Map<number, Uint8Array>();
  const failures: ReadFileResult["failures"] = [];
  // Data pieces first (no decoding when they are intact); parity only when a data piece fails.
  for (let next = 0; valid.size < k && next < pieces.length;) {
    const batch = pieces.slice(next, next + (k - valid.size));
    next += batch.length;
    await mapLimit(batch, batch.length, async (piece) => {
      try {
        const bytes = await deps.agentFor(piece.endpoint).downloadPiece(piece.root, piece.size);
        const checked = await verifyPieces(manifest, new Map([[piece.index, bytes]]));
        const ok = checked.valid.get(piece.index);
        if (ok === undefined) throw new StrataError("PROVIDER_BAD_DATA", "the piece does not match its root");
        valid.set(piece.index, ok);
      } catch (error) {
        failures.push({
          piece: piece.index,
          provider: piece.provider,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    });
  }
  if (valid.size < k) {
    throw new StrataError(
      "PIECES_UNAVAILABLE",
      `only ${valid.size} of the ${k} pieces needed could be fetched and verified`,
      { details: failures.map((f) => `piece ${f.piece} (${f.provider}): ${f.reason}`).join("; ") },
    );
  }
  const restored = await restoreFile(manifest, valid, deps.signer);
  const whole = extractFile(restored.data, file);
  const bytes = range === undefined ? whole : whole.subarray(range.start, range.end);
  return { bytes, used: restored.used, failures };
}
