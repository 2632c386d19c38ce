/** Public files held by this agent: bytes stored in the clear, found by content id through the public index. */

/** A public file the agent holds. */
export interface PublicFileStat {
  cid: string;
  size: number;
  contentType: string;
}

/** Reads public files by content id. */
export interface PublicFileSource {
  stat(cid: string): Promise<PublicFileStat | null>;
  /** Bytes [start, end). */
  read(cid: string, start: number, end: number): Promise<Uint8Array>;
  /** Bytes [start, end) streamed. */
  stream(cid: string, start: number, end: number): NodeJS.ReadableStream;
}
