import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, lstat, open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { BatchedFileWriter } from "../data/writeAll.js";
import { StrataError } from "../errors.js";

/**
 * Write `data` to `path` atomically: a temporary file in the same folder, flushed to disk, then renamed over
 * the target, so a crash leaves either the old file or the complete new one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Check that `path` can be written: its folder exists and is writable, and `path` is absent, or (with `overwrite`) a
 * regular file — anything else (a folder, a device, a link) is never replaced. OUTPUT_EXISTS without `overwrite`;
 * OUTPUT_NOT_WRITABLE for everything else.
 */
export async function checkOutputPath(path: string, overwrite: boolean): Promise<void> {
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
  if (!overwrite) {
    throw new StrataError("OUTPUT_EXISTS", `${path} already exists`, {
      details: "choose another output path or pass --force to replace it",
    });
  }
}

/** A file written as a read streams: kept only once `commit()` says the read succeeded. */
export interface OutputFile {
  write(bytes: Uint8Array): Promise<void>;
  /** Drop everything written so far (a source that failed part-way; the next one starts from the beginning). */
  restart(): Promise<void>;
  /** Bytes accepted so far. */
  readonly written: number;
  /** Make the file final: fsync, check `path` once more, and rename the temporary file over it. */
  commit(): Promise<void>;
  /** Drop what was written: the temporary file is removed and `path` is untouched. */
  abort(): Promise<void>;
}

/**
 * Open `path` (checked first, see checkOutputPath) for a streamed write: a temporary file in the same folder (created,
 * never an existing one), written `batchBytes` at a time, renamed into place by `commit()` after an fsync — so memory
 * holds one batch whatever the file size, and a failed read leaves nothing. The target is checked again right before
 * the rename: it may have changed during a long download.
 */
export async function openOutputFile(
  path: string,
  overwrite: boolean,
  batchBytes = 8 << 20,
): Promise<OutputFile> {
  await checkOutputPath(path, overwrite);
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "wx", 0o644);
  const out = new BatchedFileWriter(handle, batchBytes);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  const abort = async (): Promise<void> => {
    await close().catch(() => undefined);
    await rm(temp, { force: true });
  };
  return {
    write: (bytes) => out.write(bytes),
    restart: () => out.rewind(),
    get written() {
      return out.end;
    },
    async commit() {
      try {
        await out.flush();
        await handle.sync();
        await close();
        await checkOutputPath(path, overwrite);
        await rename(temp, path);
      } catch (error) {
        await abort();
        throw error;
      }
    },
    abort,
  };
}
