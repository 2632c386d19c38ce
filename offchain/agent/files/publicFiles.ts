/**
 * Public files an agent serves by content id (docs/SPEC-DATA.md §10): the files of public pieces, each piece a
 * full replica of an unencrypted bundle whose index the agent checked against its bytes before keeping it.
 * Routes (`/v1/files/<cid>`, later `/v1/sites/...`) read files only through this interface.
 */

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
