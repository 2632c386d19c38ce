/**
 * What the CLI keeps about the sites it deployed, one JSON file per site under `.strata/sites/` (the current
 * folder, like `.strata/workloads/`): the providers serving it, its backend lease, every version with the store
 * manifests of the files that version added (what `site rm` removes), and the current site manifest (what
 * `site update` compares against to store only changed files).
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { siteManifestSchema, type SiteManifest } from "../../../sdk/sites/manifest.js";
import { StrataError } from "../../../sdk/errors.js";

export const SITES_DIR = join(".strata", "sites");

const siteStateSchema = z.object({
  siteId: z.string(),
  name: z.string(),
  owner: z.string(),
  chainId: z.string(),
  market: z.string(),
  providers: z.array(z.object({ address: z.string(), endpoint: z.string() })),
  backend: z.object({ leaseId: z.string(), url: z.string(), provider: z.string() }).nullable(),
  removed: z.boolean(),
  versions: z.array(
    z.object({
      version: z.int().min(1),
      rootCid: z.string(),
      createdAt: z.int().min(0),
      storeManifests: z.array(z.string()),
      /** The permanent copy of the version (`--permanent`), a PermanentStorage file id. */
      permanentFileId: z
        .string()
        .regex(/^[1-9][0-9]*$/)
        .optional(),
    }),
  ),
  manifest: siteManifestSchema.nullable(),
});
export type SiteState = z.output<typeof siteStateSchema>;

export function siteStatePath(dir: string, siteId: string): string {
  return join(dir, `${siteId}.json`);
}

/** The state kept for `siteId`, or null when this folder has none. */
export async function readSiteState(dir: string, siteId: string): Promise<SiteState | null> {
  let text: string;
  try {
    text = await readFile(siteStatePath(dir, siteId), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const parsed = siteStateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new StrataError("SITE_MANIFEST_INVALID", `${siteStatePath(dir, siteId)} is not a site state file`, {
      details: z.prettifyError(parsed.error),
    });
  }
  return parsed.data;
}

/** Write the state atomically (a crash leaves the old file or the new one). */
export async function writeSiteState(dir: string, state: SiteState): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = siteStatePath(dir, state.siteId);
  await writeFile(`${path}.tmp`, JSON.stringify(state, null, 2) + "\n");
  await rename(`${path}.tmp`, path);
}

export function currentManifest(state: SiteState | null): SiteManifest | null {
  return state === null || state.removed ? null : state.manifest;
}
