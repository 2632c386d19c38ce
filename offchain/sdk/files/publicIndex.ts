/**
 * The public index of a piece (docs/SPEC-DATA.md §10): which files a public piece holds and where. The client builds
 * it from the manifest's files; the agent verifies it against the bytes it holds before serving anything by it —
 * every path valid and listed once, every file inside the piece, no two files overlapping, every media type the one
 * the path implies, and every CID recomputed from the file's bytes. A provider thus never serves bytes under a CID
 * they do not hash to, whatever the client claimed.
 */
import { StrataError } from "../errors.js";
import type { PublicIndexEntry } from "../api/publicFiles.js";
import type { ManifestFile } from "../manifest/manifest.js";
import { isValidBundlePath } from "./bundle.js";
import { publicCid } from "./cid.js";
import { contentTypeFor } from "./contentType.js";

/** The index of a public payload's files (the manifest's `files`), in payload order. */
export function buildPublicIndex(
  files: readonly Pick<ManifestFile, "name" | "offset" | "size" | "id" | "public">[],
): PublicIndexEntry[] {
  return files.map((file) => {
    if (!file.public) throw new StrataError("INVALID_ARGUMENT", `${file.name} is not public`);
    return {
      cid: file.id,
      path: file.name,
      size: file.size,
      offset: file.offset,
      contentType: contentTypeFor(file.name),
    };
  });
}

/** Bytes [start, end) of the piece, as a stream of chunks. */
export type PieceRangeSource = (
  start: number,
  end: number,
) => AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Check `entries` against a piece of `pieceSize` bytes; throws PUBLIC_INDEX_INVALID naming the first entry that
 * fails. The CIDs are recomputed last (the cheap checks first): reading every file once, one at a time.
 */
export async function verifyPublicIndex(
  entries: readonly PublicIndexEntry[],
  pieceSize: number,
  read: PieceRangeSource,
): Promise<void> {
  const invalid = (entry: PublicIndexEntry, problem: string) =>
    new StrataError("PUBLIC_INDEX_INVALID", `public index entry ${JSON.stringify(entry.path)} ${problem}`);
  const paths = new Set<string>();
  for (const entry of entries) {
    if (!isValidBundlePath(entry.path)) throw invalid(entry, "is not a valid relative path");
    if (paths.has(entry.path)) throw invalid(entry, "is listed twice");
    paths.add(entry.path);
    if (entry.offset + entry.size > pieceSize) {
      throw invalid(entry, `runs past the end of the piece (${pieceSize} bytes)`);
    }
    const expected = contentTypeFor(entry.path);
    if (entry.contentType !== expected) throw invalid(entry, `must have content type ${expected}`);
  }
  const byOffset = [...entries].filter((e) => e.size > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byOffset.length; i++) {
    const previous = byOffset[i - 1];
    const entry = byOffset[i];
    if (previous !== undefined && entry !== undefined && entry.offset < previous.offset + previous.size) {
      throw invalid(entry, `overlaps ${JSON.stringify(previous.path)}`);
    }
  }
  for (const entry of entries) {
    const cid = await publicCid(read(entry.offset, entry.offset + entry.size));
    if (cid !== entry.cid) throw invalid(entry, `is ${cid}, not ${entry.cid}, by its bytes`);
  }
}
