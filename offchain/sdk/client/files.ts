import { randomBytes } from "node:crypto";
import { open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
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

/** OUTPUT_EXISTS unless `overwrite`. */
export async function checkWritable(path: string, overwrite: boolean): Promise<void> {
  if (overwrite) return;
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  if (exists) {
    throw new StrataError("OUTPUT_EXISTS", `${path} already exists`, {
      details: "choose another output path or pass --force to overwrite",
    });
  }
}
