/**
 * The site manifest (docs/SPEC.md, "Sites"): a JSON document mapping each path of the site to the content id,
 * size and content type of its file. It is stored as a public file itself; its content id is a version's
 * `rootCid`. Paths are relative, `/`-separated, without `.` or `..` segments (isValidBundlePath), so a manifest
 * cannot name anything outside the site.
 */
import { z } from "zod";
import { StrataError } from "../errors.js";
import { isValidBundlePath } from "../files/bundle.js";
import { isCid } from "../files/cid.js";

export { contentTypeFor } from "../files/contentType.js";

export const SITE_MANIFEST_FORMAT = "strata-site/1";
/** The file a deploy writes into the stored files: the backend's address, the site id and the version. */
export const SITE_CONFIG_FILE = "strata-site.json";
/** Largest manifest an agent reads (about 20,000 files). */
export const MAX_SITE_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A MIME type with optional parameters (`text/html; charset=utf-8`). */
const contentType = z
  .string()
  .max(200)
  .regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(;\s*[a-z0-9_-]+=[a-z0-9_.-]+)*$/i, "must be a MIME type");

export const siteFileSchema = z.strictObject({
  cid: z.string().refine(isCid, "must be a content id"),
  size: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  contentType,
});
export type SiteFile = z.output<typeof siteFileSchema>;

export const siteManifestSchema = z.strictObject({
  format: z.literal(SITE_MANIFEST_FORMAT),
  files: z
    .record(
      z.string().refine(isValidBundlePath, "must be a relative path without . or .. segments"),
      siteFileSchema,
    )
    .refine((files) => Object.keys(files).length > 0, "a site has at least one file"),
});
export type SiteManifest = z.output<typeof siteManifestSchema>;

/** The manifest's stored bytes: keys sorted, so one set of files always gives one content id. */
export function encodeSiteManifest(manifest: SiteManifest): Uint8Array {
  const files: Record<string, SiteFile> = {};
  for (const path of Object.keys(manifest.files).sort()) {
    const file = manifest.files[path];
    if (file !== undefined) files[path] = { cid: file.cid, size: file.size, contentType: file.contentType };
  }
  return new TextEncoder().encode(JSON.stringify({ format: manifest.format, files }));
}

export function parseSiteManifest(bytes: Uint8Array): SiteManifest {
  if (bytes.length > MAX_SITE_MANIFEST_BYTES) {
    throw new StrataError(
      "SITE_MANIFEST_INVALID",
      `a site manifest is at most ${MAX_SITE_MANIFEST_BYTES} bytes`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new StrataError("SITE_MANIFEST_INVALID", "the site manifest is not JSON", { cause: error });
  }
  const parsed = siteManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new StrataError("SITE_MANIFEST_INVALID", "the site manifest does not follow the format", {
      details: z.prettifyError(parsed.error),
    });
  }
  return parsed.data;
}

/** What a request path names in a site. */
export type SitePathLookup =
  | { kind: "file"; path: string; file: SiteFile }
  /** A folder asked for without its trailing slash: redirect so that its page's relative links resolve. */
  | { kind: "folder"; location: string }
  | { kind: "missing" };

/**
 * Resolve the decoded segments of a request path (after `/v1/sites/<id>/`) in `manifest`: a file by its path, a
 * folder (empty path or trailing slash) by its `index.html`.
 */
export function lookupSitePath(manifest: SiteManifest, segments: readonly string[]): SitePathLookup {
  const trailing = segments.length === 0 || segments.at(-1) === "";
  const parts = segments.filter((part) => part !== "");
  const path = parts.join("/");
  if (trailing) {
    const index = path === "" ? "index.html" : `${path}/index.html`;
    const file = manifest.files[index];
    return file === undefined ? { kind: "missing" } : { kind: "file", path: index, file };
  }
  const file = manifest.files[path];
  if (file !== undefined) return { kind: "file", path, file };
  if (manifest.files[`${path}/index.html`] !== undefined)
    return { kind: "folder", location: `${parts.at(-1) ?? ""}/` };
  return { kind: "missing" };
}
