// `<file|id>` of the catalog commands: a content id, a payload id, a path inside a bundle or a base name, looked
// up in the catalog; or a manifest file (its payload's files then come from the manifest alone).
import { stat } from "node:fs/promises";
import { filesOf, type Catalog, type CatalogFile } from "../../runtime/catalog/catalog.js";
import { StrataError } from "../../sdk/errors.js";
import { loadManifest, type Manifest, type ManifestFile } from "../../sdk/manifest/manifest.js";

export interface ResolvedFile {
  manifest: Manifest;
  file: ManifestFile;
  manifestPath: string | null;
  catalog: CatalogFile | null;
}

/** Every file `ref` names (all files of a payload for a payload id or a manifest path); CATALOG_NOT_FOUND if none. */
export async function resolveFiles(catalog: Catalog, ref: string): Promise<ResolvedFile[]> {
  const matches = catalog.find(ref);
  if (matches.length > 0) {
    return matches.map((match) => {
      const { manifest } = catalog.manifest(match.manifestId);
      const file = filesOf(manifest).find((f) => f.name === match.name);
      if (file === undefined) {
        throw new StrataError(
          "CATALOG_DB_ERROR",
          `${match.name} is not in the manifest of ${match.manifestId}`,
        );
      }
      return { manifest, file, manifestPath: match.manifestPath, catalog: match };
    });
  }
  if ((await stat(ref).catch(() => null))?.isFile() === true) {
    const manifest = await loadManifest(ref);
    return filesOf(manifest).map((file) => ({ manifest, file, manifestPath: ref, catalog: null }));
  }
  throw new StrataError("CATALOG_NOT_FOUND", `no stored file ${ref} in the catalog`, {
    details: "list your files with strata ls, or add a manifest with strata import <manifest>",
  });
}

/** Exactly one file: INVALID_ARGUMENT naming the candidates when `ref` is ambiguous. */
export async function resolveOneFile(catalog: Catalog, ref: string): Promise<ResolvedFile> {
  const all = await resolveFiles(catalog, ref);
  const distinct = new Map(all.map((r) => [`${r.file.name}\u0000${r.file.sha256}`, r]));
  const [first] = distinct.values();
  if (first === undefined || distinct.size > 1) {
    throw new StrataError("INVALID_ARGUMENT", `${ref} names ${distinct.size} different files`, {
      details: `name one by its content id: ${[...distinct.values()].map((r) => `${r.file.name} ${r.file.id}`).join(", ")}`,
    });
  }
  return first;
}
