/**
 * Reading a public payload (docs/SPEC-DATA.md §10): every piece is the whole payload in the clear, so a file's
 * bytes are one byte range of any piece. Pieces are tried in order; a provider that fails, or whose bytes of a
 * whole file do not hash to its recorded SHA-256, is skipped for the next. Nothing is decrypted and no key is used.
 */
import { createHash } from "node:crypto";
import { hexlify } from "ethers";
import { StrataError } from "../errors.js";
import type { Manifest, ManifestFile } from "../manifest/manifest.js";
import type { AgentClient } from "./agentClient.js";

export interface ReplicaReadResult {
  bytes: Uint8Array;
  /** The piece the bytes came from. */
  used: number[];
  failures: { piece: number; provider: string; reason: string }[];
}

/**
 * Bytes [start, end) of `file` (plaintext offsets inside the file) from the first piece that serves them; a whole
 * file is checked against its SHA-256. PIECES_UNAVAILABLE when no piece does.
 */
export async function readReplicaFile(
  manifest: Manifest,
  file: Pick<ManifestFile, "name" | "offset" | "size" | "sha256">,
  agentFor: (endpoint: string) => Pick<AgentClient, "downloadRange">,
  start: number,
  end: number,
): Promise<ReplicaReadResult> {
  if (manifest.public !== true) {
    throw new StrataError("INVALID_ARGUMENT", `${manifest.fileName} is not public`);
  }
  const whole = start === 0 && end === file.size;
  const failures: ReplicaReadResult["failures"] = [];
  for (const piece of manifest.pieces) {
    try {
      const bytes =
        end > start
          ? await agentFor(piece.endpoint).downloadRange(piece.root, file.offset + start, file.offset + end)
          : new Uint8Array(0);
      if (whole && hexlify(createHash("sha256").update(bytes).digest()) !== file.sha256.toLowerCase()) {
        throw new StrataError("FILE_HASH_MISMATCH", `${file.name} does not hash to its recorded sha256`);
      }
      return { bytes, used: [piece.index], failures };
    } catch (error) {
      failures.push({
        piece: piece.index,
        provider: piece.provider,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
  throw new StrataError("PIECES_UNAVAILABLE", `no replica of ${file.name} serves authentic bytes`, {
    details: failures.map((f) => `piece ${f.piece} (${f.provider}): ${f.reason}`).join("; "),
  });
}
