// What `strata store a b c` and `strata store dir/` store: regular files, named by their path in the bundle
// (a file argument by its base name, a folder's files as folder/sub/name), read only when their bundle is stored.
import { lstat, readdir, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { StrataError } from "../../sdk/errors.js";
import { isValidBundlePath } from "../../sdk/files/bundle.js";

export interface InputFile {
  /** Path in the bundle. */
  name: string;
  /** Where it is read from. */
  path: string;
  size: number;
}

export interface Inputs {
  files: InputFile[];
  /** Base name for the manifest and the payload: the only argument's name, else "bundle". */
  name: string;
  /** Entries skipped inside folders (symbolic links, devices, sockets). */
  skipped: string[];
}

/** Every regular file the arguments name (folders walked in name order); FILE_NOT_FOUND for a missing one. */
export async function collectInputs(paths: readonly string[]): Promise<Inputs> {
  if (paths.length === 0)
    throw new StrataError("INVALID_ARGUMENT", "name at least one file or folder to store");
  const files: InputFile[] = [];
  const skipped: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (cause) {
      throw new StrataError("FILE_NOT_FOUND", `no file or folder at ${path}`, { cause });
    }
    const name = basename(resolve(path));
    if (info.isDirectory()) await walk(resolve(path), name, files, skipped);
    else if (info.isFile()) files.push({ name, path: resolve(path), size: info.size });
    else throw new StrataError("INVALID_ARGUMENT", `${path} is not a regular file or a folder`);
  }
  const seen = new Set<string>();
  for (const file of files) {
    if (!isValidBundlePath(file.name)) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `${file.path}: ${JSON.stringify(file.name)} cannot name a stored file`,
      );
    }
    if (seen.has(file.name)) {
      throw new StrataError("INVALID_ARGUMENT", `two files would be stored as ${file.name}`, {
        details: "store them in separate commands, or from a folder that keeps their paths apart",
      });
    }
    seen.add(file.name);
  }
  if (files.length === 0)
    throw new StrataError("INVALID_ARGUMENT", "the folders hold no regular file to store");
  const only = paths.length === 1 ? basename(resolve(paths[0] ?? "")) : null;
  return { files, name: only !== null && only !== "" ? only : "bundle", skipped };
}

async function walk(folder: string, prefix: string, files: InputFile[], skipped: string[]): Promise<void> {
  const entries = (await readdir(folder)).sort();
  for (const entry of entries) {
    const path = join(folder, entry);
    const info = await lstat(path);
    if (info.isDirectory()) await walk(path, `${prefix}/${entry}`, files, skipped);
    else if (info.isFile()) files.push({ name: `${prefix}/${entry}`, path, size: info.size });
    else skipped.push(path);
  }
}
