/**
 * A site version's archive (docs/SPEC.md §17, "Permanent copy"): the whole version in one self-describing payload,
 * what `strata site deploy --permanent` stores as a permanent file and names in the signed record. Layout: an 8-byte
 * big-endian length, the site manifest's bytes (the public file whose content id is the record's `rootCid`), then
 * every file of the manifest back to back in the manifest's path order (sorted, as encodeSiteManifest writes it),
 * each once per path. Nothing else is needed to restore it: the record gives the root content id, the manifest the
 * paths, sizes and content ids, and every file is checked against them.
 */
import { publicCid } from "../files/cid.js";
import { StrataError } from "../errors.js";
import { encodeSiteManifest, parseSiteManifest, type SiteManifest } from "./manifest.js";
import type { SiteInputFile } from "./plan.js";

const HEADER_BYTES = 8;

/** Pack `files` (every path of `manifest`, with its bytes) into the version's archive. */
export function packSiteArchive(manifest: SiteManifest, files: readonly SiteInputFile[]): Uint8Array {
  const manifestBytes = encodeSiteManifest(manifest);
  const byPath = new Map(files.map((file) => [file.path, file.bytes]));
  const paths = Object.keys(manifest.files).sort();
  const bodies = paths.map((path): Uint8Array => {
    const bytes = byPath.get(path);
    if (bytes === undefined || bytes.length !== manifest.files[path]?.size) {
      throw new StrataError("INTERNAL_INVARIANT", `${path} is not the file the site manifest lists`);
    }
    return bytes;
  });
  const total = HEADER_BYTES + manifestBytes.length + bodies.reduce((sum, b) => sum + b.length, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setBigUint64(0, BigInt(manifestBytes.length));
  out.set(manifestBytes, HEADER_BYTES);
  let at = HEADER_BYTES + manifestBytes.length;
  for (const body of bodies) {
    out.set(body, at);
    at += body.length;
  }
  return out;
}

/** One restored file of a site version. */
export interface RestoredSiteFile {
  path: string;
  cid: string;
  contentType: string;
  bytes: Uint8Array;
}

/**
 * The files of a version from its archive, checked: the manifest must have content id `rootCid` (the signed
 * record's) and every file the content id the manifest gives it. SITE_MANIFEST_INVALID otherwise.
 */
export async function unpackSiteArchive(
  archive: Uint8Array,
  rootCid: string,
): Promise<{ manifest: SiteManifest; files: RestoredSiteFile[] }> {
  const refuse = (why: string): never => {
    throw new StrataError("SITE_MANIFEST_INVALID", `not the archive of site version ${rootCid}: ${why}`);
  };
  if (archive.length < HEADER_BYTES) refuse("too short");
  const manifestLength = new DataView(archive.buffer, archive.byteOffset, archive.byteLength).getBigUint64(0);
  if (manifestLength > BigInt(archive.length - HEADER_BYTES)) refuse("the manifest runs past the end");
  const manifestEnd = HEADER_BYTES + Number(manifestLength);
  const manifestBytes = archive.subarray(HEADER_BYTES, manifestEnd);
  if ((await publicCid(manifestBytes)) !== rootCid) refuse("its manifest has another content id");
  const manifest = parseSiteManifest(manifestBytes);
  const files: RestoredSiteFile[] = [];
  let at = manifestEnd;
  for (const path of Object.keys(manifest.files).sort()) {
    const entry = manifest.files[path];
    if (entry === undefined) continue;
    if (at + entry.size > archive.length) refuse(`${path} runs past the end`);
    const bytes = archive.slice(at, at + entry.size);
    at += entry.size;
    if ((await publicCid(bytes)) !== entry.cid) refuse(`${path} does not have content id ${entry.cid}`);
    files.push({ path, cid: entry.cid, contentType: entry.contentType, bytes });
  }
  if (at !== archive.length) refuse(`${archive.length - at} bytes follow the last file`);
  return { manifest, files };
}
