import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  bytesSource,
  encodePermanentFile,
  type PermanentPieces,
} from "../../offchain/sdk/durability/permanent.js";

/** A permanent file's pieces, encoded as the client does (to files), then read back into memory for a test. */
export async function encodeInMemory(
  bytes: Uint8Array,
  k = 2,
  n = 3,
): Promise<PermanentPieces & { pieces: Uint8Array[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), "strata-permanent-pieces-"));
  try {
    const encoded = await encodePermanentFile(bytesSource(bytes), k, n, dir);
    return { ...encoded, pieces: encoded.files.map((file) => new Uint8Array(readFileSync(file))) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
