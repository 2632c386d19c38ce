/**
 * Workload descriptions kept between posting an order (which commits only to the description's hash) and
 * accepting a bid (when the description goes to the provider): one `<hash>.json` per description in a folder.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { StrataError } from "../errors.js";
import { canonicalJson, readWorkloadFile, workloadHash, type WorkloadDescription } from "./workload.js";

/** Where the description with `hash` is kept under `dir`. */
export function keptWorkloadPath(dir: string, hash: string): string {
  return resolve(dir, `${hash.toLowerCase()}.json`);
}

/** Keep `workload` under `dir` (created if missing); returns the file written. */
export async function keepWorkload(dir: string, workload: WorkloadDescription): Promise<string> {
  const path = keptWorkloadPath(dir, workloadHash(workload));
  await mkdir(resolve(dir), { recursive: true });
  await writeFile(path, `${canonicalJson(workload)}\n`);
  return path;
}

/**
 * The description an order committed to: `file` if given, else the copy kept under `dir`. FILE_NOT_FOUND when
 * there is none, WORKLOAD_MISMATCH when it does not hash to `expectedHash`.
 */
export async function workloadForOrder(
  expectedHash: string,
  source: { file?: string; dir: string },
): Promise<WorkloadDescription> {
  const { file } = source;
  const path = file ?? keptWorkloadPath(source.dir, expectedHash);
  let workload: WorkloadDescription;
  try {
    workload = await readWorkloadFile(path);
  } catch (error) {
    if (file === undefined && error instanceof StrataError && error.code === "FILE_NOT_FOUND") {
      throw new StrataError("FILE_NOT_FOUND", `no kept workload description for ${expectedHash}`, {
        details: "pass --workload <file> (the description the order was posted with)",
        cause: error,
      });
    }
    throw error;
  }
  const hash = workloadHash(workload);
  if (hash !== expectedHash.toLowerCase()) {
    throw new StrataError(
      "WORKLOAD_MISMATCH",
      `${path} hashes to ${hash}, the order commits to ${expectedHash}`,
      {
        details: "pass the workload description the order was posted with",
      },
    );
  }
  return workload;
}
