/**
 * Planning a site version: the content id of every file (computed locally, the same id providers serve it by), the
 * manifest, and which files must be stored — only those whose content id the previous version does not already
 * have (an update stores what changed, nothing else).
 */
import { publicCid } from "../files/cid.js";
import { contentTypeFor } from "../files/contentType.js";
import { encodeSiteManifest, SITE_MANIFEST_FORMAT, type SiteManifest } from "./manifest.js";

export interface SiteInputFile {
  /** Path in the site (`/`-separated, relative). */
  path: string;
  bytes: Uint8Array;
}

export interface SitePlan {
  manifest: SiteManifest;
  manifestBytes: Uint8Array;
  manifestCid: string;
  /** Files to store (their content is not held by the previous version). */
  changed: SiteInputFile[];
  /** Files whose content the previous version's providers already hold. */
  reused: string[];
}

export async function planSite(
  files: readonly SiteInputFile[],
  previous: SiteManifest | null,
): Promise<SitePlan> {
  const held = new Set(Object.values(previous?.files ?? {}).map((file) => file.cid));
  const manifest: SiteManifest = { format: SITE_MANIFEST_FORMAT, files: {} };
  const changed: SiteInputFile[] = [];
  const reused: string[] = [];
  const planned = new Set<string>();
  for (const file of files) {
    const cid = await publicCid(file.bytes);
    manifest.files[file.path] = { cid, size: file.bytes.length, contentType: contentTypeFor(file.path) };
    if (held.has(cid)) reused.push(file.path);
    else if (!planned.has(cid)) {
      // Two paths with the same bytes are stored once.
      planned.add(cid);
      changed.push(file);
    }
  }
  const manifestBytes = encodeSiteManifest(manifest);
  return { manifest, manifestBytes, manifestCid: await publicCid(manifestBytes), changed, reused };
}
