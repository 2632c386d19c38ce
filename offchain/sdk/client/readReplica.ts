/**
 * Reading a public payload (docs/SPEC-DATA.md §10): every piece is the whole payload in the clear, so a file's
 * bytes are one byte range of any piece. Pieces are tried in order; a provider that fails, or whose bytes of a
 * whole file do not hash to its recorded SHA-256, is skipped for the next. Nothing is decrypted and no key is used.
 */
import { createHash } from "node:crypto";
import { hexlify } from "ethers";
import { StrataError } from "../errors.js";
import type { Manifest, ManifestFile, ManifestPiece } from "../manifest/manifest.js";

/** Where the bytes of a read go, in order; `restart` drops what was written so far (a replica that failed part-way). */
export interface ReadSink {
  write(bytes: Uint8Array): Promise<void>;
  restart(): Promise<void>;
}

/** What a read delivered to its sink. */
export interface ReplicaReadResult {
  /** Bytes written to the sink. */
  length: number;
  /** The piece the bytes came from. */
  used: number[];
  failures: { piece: number; provider: string; reason: string }[];
}

/** Bytes of a public file asked of one replica at a time: memory holds one step, whatever the file size. */
const REPLICA_STEP = 8 << 20;

/** What a replica read reports as it goes (retrieve's progress). */
export interface ReplicaReadEvents {
  /** Bytes of the range read so far from `piece`. */
  onBytes?(piece: number, done: number, total: number): void;
  /** A piece served the whole range (ok), or was dropped with `reason`. */
  onPiece?(piece: number, ok: boolean, reason: string | null): void;
}

/**
 * Bytes [start, end) of `file` (plaintext offsets inside the file) from the first piece that serves them, into
 * `sink` a step at a time (`read` fetches bytes [from, to) of a piece); a whole file is checked against its
 * SHA-256. A piece that fails part-way, or whose whole file does not hash right, is dropped: the sink restarts and
 * the next piece is read from the start. PIECES_UNAVAILABLE when no piece serves the bytes.
 */
export async function readReplicaFile(
  manifest: Manifest,
  file: Pick<ManifestFile, "name" | "offset" | "size" | "sha256">,
  read: (piece: ManifestPiece, from: number, to: number) => Promise<Uint8Array>,
  start: number,
  end: number,
  sink: ReadSink,
  events: ReplicaReadEvents = {},
): Promise<ReplicaReadResult> {
  if (manifest.public !== true) {
    throw new StrataError("INVALID_ARGUMENT", `${manifest.fileName} is not public`);
  }
  const whole = start === 0 && end === file.size;
  const failures: ReplicaReadResult["failures"] = [];
  let written = false;
  for (const piece of manifest.pieces) {
    try {
      if (written) await sink.restart();
      const hash = createHash("sha256");
      for (let at = start; at < end; at += REPLICA_STEP) {
        const to = Math.min(end, at + REPLICA_STEP);
        const bytes = await read(piece, file.offset + at, file.offset + to);
        hash.update(bytes);
        written = true;
        await sink.write(bytes);
        events.onBytes?.(piece.index, to - start, end - start);
      }
      const digest = hexlify(hash.digest());
      if (whole && digest !== file.sha256.toLowerCase()) {
        throw new StrataError(
          "FILE_HASH_MISMATCH",
          `${file.name} from this replica hashes to ${digest}, not ${file.sha256}`,
        );
      }
      events.onPiece?.(piece.index, true, null);
      return { length: end - start, used: [piece.index], failures };
    } catch (error) {
      // A sink that cannot restart (standard output) ends the read.
      if (error instanceof StrataError && error.code === "OUTPUT_NOT_REWINDABLE") throw error;
      const reason = error instanceof Error ? error.message : String(error);
      failures.push({ piece: piece.index, provider: piece.provider, reason });
      events.onPiece?.(piece.index, false, reason);
    }
  }
  throw new StrataError("PIECES_UNAVAILABLE", `no replica of ${file.name} serves authentic bytes`, {
    details: failures.map((f) => `piece ${f.piece} (${f.provider}): ${f.reason}`).join("; "),
  });
}
