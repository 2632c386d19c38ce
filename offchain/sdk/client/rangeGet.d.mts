/** Types of rangeGet.mjs (plain JavaScript so that the download worker loads it without a TypeScript loader). */

/** What a ranged GET returned: the body (at most `limit` bytes kept), and whether more arrived than `limit`. */
export interface RangeAnswer {
  status: number;
  body: Uint8Array;
  tooLong: boolean;
}

/** Largest error answer kept. */
export declare const ERROR_ANSWER_LIMIT: number;

/**
 * Sends one GET with a Range header and reads the body (into `into` when given and large enough). The agent client's
 * default is workerGetRange (rangeTransport.ts): httpGetRange on a download worker thread.
 */
export type RangeTransport = (
  url: string,
  headers: Record<string, string>,
  limit: number,
  timeoutMs: number,
  /** Where a 2xx body goes when it holds at least `limit` bytes (default: a new buffer). */
  into?: Uint8Array,
) => Promise<RangeAnswer>;

/** GET `url` with node:http(s); a 2xx body goes into `into` (when large enough) or one new buffer of `limit` bytes. */
export declare const httpGetRange: RangeTransport;
