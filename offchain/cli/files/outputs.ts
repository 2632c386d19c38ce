// Output paths, checked before any work and written atomically: a missing or unwritable folder, or a target that
// is not a regular file, is refused up front (OUTPUT_NOT_WRITABLE), so a store never pays for a manifest it cannot
// write and a download never runs for a file it cannot keep. `--force` replaces regular files only.
import { constants, createReadStream } from "node:fs";
import { randomBytes } from "node:crypto";
import { access, lstat, mkdtemp, open, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { ReadSink } from "../../sdk/client/readReplica.js";
import { BatchedFileWriter } from "../../sdk/data/writeAll.js";
import { StrataError } from "../../sdk/errors.js";

/** "-" means standard output. */
export const STDOUT = "-";

/**
 * Check that `path` can be written: its folder exists and is writable, and `path` is absent, or (with `force`) a
 * regular file. OUTPUT_EXISTS without `force`; OUTPUT_NOT_WRITABLE for everything else.
 */
export async function checkOutputPath(path: string, force: boolean): Promise<void> {
  if (path === STDOUT) return;
  const folder = dirname(path);
  const folderInfo = await stat(folder).catch(() => null);
  if (folderInfo?.isDirectory() !== true) {
    throw new StrataError("OUTPUT_NOT_WRITABLE", `the folder ${folder} does not exist`, {
      details: "create it first, or choose another output path",
    });
  }
  try {
    await access(folder, constants.W_OK);
  } catch (cause) {
    throw new StrataError("OUTPUT_NOT_WRITABLE", `the folder ${folder} is not writable`, {
      details: "choose another output path",
      cause,
    });
  }
  const existing = await lstat(path).catch(() => null);
  if (existing === null) return;
  if (!existing.isFile()) {
    throw new StrataError(
      "OUTPUT_NOT_WRITABLE",
      `${path} exists and is not a regular file: it is never replaced`,
      {
        details: "choose another output path",
      },
    );
  }
  if (!force) {
    throw new StrataError("OUTPUT_EXISTS", `${path} already exists`, {
      details: "choose another output path or pass --force to replace it",
    });
  }
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
  await checkOutputPath(path, force);
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", 0o644);
  const out = new BatchedFileWriter(handle, OUTPUT_BATCH_BYTES);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    write: (bytes) => out.write(bytes),
    restart: () => out.rewind(),
    async commit() {
      try {
        await out.flush();
        await handle.sync();
        await close();
        // Checked again right before the rename: the target may have changed during the download.
        await checkOutputPath(path, force);
        await rename(temp, path);
      } catch (error) {
        await close().catch(() => undefined);
        await rm(temp, { force: true });
        throw error;
      }
    },
    async abort() {
      await close().catch(() => undefined);
      await rm(temp, { force: true });
    },
  };
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
