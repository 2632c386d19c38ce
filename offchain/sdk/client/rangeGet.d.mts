/** Types of rangeGet.mjs (plain JavaScript so that the download worker loads it without a TypeScript loader). */

/** What a ranged GET returned: the body (at most `limit` bytes kept), and whether more arrived than `limit`. */
export interface RangeAnswer {
  status: number;
  body: Uint8Array;
  tooLong: boolean;
}

/** Largest error answer kept. */
export declare const ERROR_ANSWER_LIMIT: number;

/** GET `url` with node:http(s); a 2xx body goes into `into` (when large enough) or one new buffer of `limit` bytes. */
export declare function httpGetRange(
  url: string,
  headers: Record<string, string>,
  limit: number,
  timeoutMs: number,
  into?: Uint8Array,
): Promise<RangeAnswer>;
