/**
 * Public files an agent serves by content id (docs/SPEC-DATA.md §10): the files of public pieces, each piece a
 * full replica of an unencrypted bundle whose index the agent checked against its bytes before keeping it.
 * Routes (`/v1/files/<cid>`, later `/v1/sites/...`) read files only through this interface.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import { StrataError } from "../../sdk/errors.js";
import type { PieceStore } from "../pieceStore.js";
import type { PublicFileStore } from "./publicFileStore.js";

/** What is known of a public file before reading it. */
export interface PublicFileStat {
  cid: string;
  size: number;
  contentType: string;
}

export interface PublicFileSource {
  stat(cid: string): Promise<PublicFileStat | null>;
  /** Bytes [start, end) of the file; throws StrataError on out-of-range. */
  read(cid: string, start: number, end: number): Promise<Uint8Array>;
  /** Stream bytes [start, end) (for large files). */
  stream(cid: string, start: number, end: number): NodeJS.ReadableStream;
}

/** Where the source finds files and their pieces' bytes. */
export interface PublicFileSourceDeps {
  files: Pick<PublicFileStore, "servable">;
  pieces: Pick<PieceStore, "path">;
}

/**
 * The agent's public files: those of verified public indexes whose piece is in a live data set's applied state
 * (PublicFileStore.servable), read from the piece files on disk. PUBLIC_FILE_NOT_FOUND for a cid not servable,
 * PUBLIC_FILE_RANGE for bytes outside the file, PIECE_CORRUPT when the piece file is shorter than its index says.
 */
export function createPublicFileSource(deps: PublicFileSourceDeps): PublicFileSource {
  const locate = (cid: string, start: number, end: number) => {
    const location = deps.files.servable(cid);
    if (location === undefined) throw new StrataError("PUBLIC_FILE_NOT_FOUND", `no public file ${cid}`);
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start < 0 ||
      end < start ||
      end > location.size
    ) {
      throw new StrataError(
        "PUBLIC_FILE_RANGE",
        `bytes ${start}-${end} are outside ${cid} (${location.size} bytes)`,
      );
    }
    return { path: deps.pieces.path(location.root), from: location.offset + start, length: end - start };
  };
  return {
    stat(cid) {
      const location = deps.files.servable(cid);
      return Promise.resolve(
        location === undefined
          ? null
          : { cid: location.cid, size: location.size, contentType: location.contentType },
      );
    },
    async read(cid, start, end) {
      const { path, from, length } = locate(cid, start, end);
      const out = new Uint8Array(length);
      if (length === 0) return out;
      const handle = await open(path, "r");
      try {
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(out, done, length - done, from + done);
          if (bytesRead === 0) throw new StrataError("PIECE_CORRUPT", `the piece holding ${cid} is short`);
          done += bytesRead;
        }
      } finally {
        await handle.close();
      }
      return out;
    },
    stream(cid, start, end) {
      const { path, from, length } = locate(cid, start, end);
      if (length === 0) return Readable.from([]);
      return createReadStream(path, { start: from, end: from + length - 1 });
    },
  };
}
