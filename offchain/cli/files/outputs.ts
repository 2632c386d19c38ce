// Output paths, checked before any work and written atomically: a missing or unwritable folder, or a target that
// is not a regular file, is refused up front (OUTPUT_NOT_WRITABLE), so a store never pays for a manifest it cannot
// write and a download never runs for a file it cannot keep. `--force` replaces regular files only.
import { constants } from "node:fs";
import { access, lstat, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "../../sdk/client/files.js";
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

/** Write `bytes` to `path` atomically (temp file in the same folder, fsync, rename), or to stdout for "-". */
export async function writeOutput(path: string, bytes: Uint8Array, force: boolean): Promise<void> {
  if (path === STDOUT) {
    await writeStdout(bytes);
    return;
  }
  // Checked again right before the rename: the target may have changed during the download.
  await checkOutputPath(path, force);
  await writeFileAtomic(path, bytes);
}

export function writeStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(bytes, (error) => {
      if (error) reject(error);
      else resolve();
    });
  });
}
