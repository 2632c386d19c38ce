// Output paths, checked before any work and written atomically: a missing or unwritable folder, or a target that
// is not a regular file, is refused up front (OUTPUT_NOT_WRITABLE), so a store never pays for a manifest it cannot
// write and a download never runs for a file it cannot keep. `--force` replaces regular files only.
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { ReadSink } from "../../sdk/client/readReplica.js";
import { checkOutputPath as checkFilePath, openOutputFile } from "../../sdk/client/files.js";
import { StrataError } from "../../sdk/errors.js";

/** "-" means standard output. */
export const STDOUT = "-";

/**
 * Check that `path` can be written (checkOutputPath of the SDK); standard output ("-") always can. OUTPUT_EXISTS
 * without `force`; OUTPUT_NOT_WRITABLE for a missing or read-only folder or a target that is not a regular file.
 */
export async function checkOutputPath(path: string, force: boolean): Promise<void> {
  if (path === STDOUT) return;
  await checkFilePath(path, force);
}

export function writeStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(bytes, (error) => {
      if (error) reject(error);
      else resolve();
    });
  });
}

/** An output written as a read streams: kept only once `commit()` says the read succeeded. */
export interface StreamedOutput extends ReadSink {
  /** Make the output final (file: fsync and rename into place, checked once more). */
  commit(): Promise<void>;
  /** Drop what was written (file: the temporary file is removed). */
  abort(): Promise<void>;
}

/** Bytes written per system call to a streamed output file. */
const OUTPUT_BATCH_BYTES = 8 << 20;

/**
 * Open `path` (checked first, see checkOutputPath) for a streamed read: a temporary file in the same folder, renamed
 * into place by `commit()` after an fsync, so memory holds one batch whatever the file size and a failed read
 * leaves nothing. "-" streams to standard output: bytes go out as they come, and a restart (a public replica that
 * failed part-way) is OUTPUT_NOT_REWINDABLE.
 */
export async function openOutput(path: string, force: boolean): Promise<StreamedOutput> {
  if (path === STDOUT) {
    let written = false;
    return {
      async write(bytes) {
        written = true;
        await writeStdout(bytes);
      },
      restart() {
        if (!written) return Promise.resolve();
        return Promise.reject(
          new StrataError(
            "OUTPUT_NOT_REWINDABLE",
            "a provider failed after part of the file went to standard output",
            {
              details:
                "write to a file instead (strata get <file> <out>): a file falls back to the next replica",
            },
          ),
        );
      },
      commit: () => Promise.resolve(),
      abort: () => Promise.resolve(),
    };
  }
  return openOutputFile(path, force, OUTPUT_BATCH_BYTES);
}

/**
 * Standard output for bytes that must be checked before any of them is shown (a public file fetched by its CID):
 * they wait in a temporary file, not in memory, and `commit()` copies them to standard output; `abort()` drops them.
 */
export async function checkedStdout(stdout: NodeJS.WritableStream = process.stdout): Promise<StreamedOutput> {
  const dir = await mkdtemp(join(tmpdir(), "strata-get-"));
  const pending = join(dir, "pending");
  const inner = await openOutput(pending, false);
  const drop = () => rm(dir, { recursive: true, force: true });
  return {
    write: (bytes) => inner.write(bytes),
    restart: () => inner.restart(),
    async commit() {
      try {
        await inner.commit();
        await pipeline(createReadStream(pending), stdout, { end: false });
      } finally {
        await drop();
      }
    },
    async abort() {
      await inner.abort();
      await drop();
    },
  };
}
