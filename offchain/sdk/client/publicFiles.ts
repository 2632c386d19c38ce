/**
 * Fetching a public file by CID without its manifest (docs/SPEC-DATA.md §10): ask providers in order (HEAD
 * /v1/files/<cid>), download from the first that holds it, and check that the bytes hash to the CID (the UnixFS
 * CIDv1 recomputed as they stream) before the output is committed. A provider that is unreachable, does not hold
 * the file, or serves other bytes is skipped for the next. A byte range cannot be checked alone (a CID covers the
 * whole file): it is returned unverified, and says so.
 */
import { StrataError } from "../errors.js";
import { canonicalCid, publicCid } from "../files/cid.js";

/** Where the downloaded bytes go: committed only once they are checked, aborted otherwise. */
export interface PublicFileSink {
  write(bytes: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface FetchPublicFileRequest {
  cid: string;
  /** Endpoints to ask first, in order (the providers of the client's catalog). */
  endpoints: readonly string[];
  /** Further endpoints, asked only when none of `endpoints` served the file (the registry's providers). */
  moreEndpoints?: () => Promise<readonly string[]>;
  /** Bytes [start, end) only, from the file's size (its errors propagate). Unverified. */
  range?: (size: number) => { start: number; end: number };
  /** A fresh sink for each try. */
  open: () => Promise<PublicFileSink>;
}

export interface PublicFileAsked {
  endpoint: string;
  outcome: "served" | "not-found" | "unreachable" | "mismatch" | "error";
  reason: string | null;
}

export interface FetchPublicFileResult {
  cid: string;
  endpoint: string;
  /** Size of the whole file. */
  size: number;
  bytes: number;
  range: { start: number; end: number } | null;
  /** True when the whole file was hashed to its CID; false for a range. */
  verified: boolean;
  asked: PublicFileAsked[];
}

export interface FetchPublicFileDeps {
  fetch?: typeof fetch;
  /** Timeout of a HEAD, and the base of a download's (ms). Default 10 s. */
  timeoutMs?: number;
  /** Slowest transfer rate tolerated (bytes/s). Default 256 KiB/s. */
  minBytesPerSecond?: number;
}

/**
 * Download the public file `cid` from the first provider that serves it. PUBLIC_FILE_NOT_FOUND listing every
 * endpoint asked and what it answered when none served it; CID_MISMATCH when every provider that answered served
 * bytes that do not hash to the CID; INVALID_ARGUMENT for a malformed CID (and what `range` throws).
 */
export async function fetchPublicFile(
  request: FetchPublicFileRequest,
  deps: FetchPublicFileDeps = {},
): Promise<FetchPublicFileResult> {
  const cid = canonicalCid(request.cid);
  if (cid === undefined) throw new StrataError("INVALID_ARGUMENT", `${request.cid} is not a CID`);
  const asked: PublicFileAsked[] = [];
  const tried = new Set<string>();
  const tryAll = async (endpoints: readonly string[]) => {
    for (const raw of endpoints) {
      const endpoint = raw.replace(/\/+$/, "");
      if (tried.has(endpoint)) continue;
      tried.add(endpoint);
      const result = await tryEndpoint(cid, endpoint, request, deps, asked);
      if (result !== undefined) return { ...result, asked };
    }
    return undefined;
  };
  const first = await tryAll(request.endpoints);
  if (first !== undefined) return first;
  if (request.moreEndpoints !== undefined) {
    const more = await tryAll(await request.moreEndpoints());
    if (more !== undefined) return more;
  }
  const list = asked.map((a) => `${a.endpoint}: ${a.outcome}${a.reason === null ? "" : ` (${a.reason})`}`);
  const answered = asked.filter((a) => a.outcome !== "unreachable" && a.outcome !== "not-found");
  if (answered.length > 0 && answered.every((a) => a.outcome === "mismatch")) {
    throw new StrataError("CID_MISMATCH", `every provider that served ${cid} sent other bytes`, {
      details: list.join("; "),
    });
  }
  throw new StrataError(
    "PUBLIC_FILE_NOT_FOUND",
    asked.length === 0
      ? `no provider to ask for ${cid}`
      : `none of the ${asked.length} provider(s) asked serves ${cid}`,
    { details: asked.length === 0 ? "no provider is registered" : list.join("; ") },
  );
}

async function tryEndpoint(
  cid: string,
  endpoint: string,
  request: FetchPublicFileRequest,
  deps: FetchPublicFileDeps,
  asked: PublicFileAsked[],
): Promise<Omit<FetchPublicFileResult, "asked"> | undefined> {
  const fetchFn = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const minRate = deps.minBytesPerSecond ?? 256 * 1024;
  const url = `${endpoint}/v1/files/${cid}`;
  const note = (outcome: PublicFileAsked["outcome"], reason: string | null) => {
    asked.push({ endpoint, outcome, reason });
  };
  let size: number;
  try {
    const head = await fetchFn(url, { method: "HEAD", signal: AbortSignal.timeout(timeoutMs) });
    if (head.status === 404) {
      note("not-found", null);
      return undefined;
    }
    const length = Number(head.headers.get("content-length"));
    if (head.status !== 200 || !Number.isSafeInteger(length) || length < 0) {
      note("error", `HEAD answered ${head.status}`);
      return undefined;
    }
    size = length;
  } catch (error) {
    note("unreachable", error instanceof Error ? error.message : String(error));
    return undefined;
  }
  const range = request.range === undefined ? null : request.range(size);
  const [start, end] = range === null ? [0, size] : [range.start, range.end];
  const sink = await request.open();
  let committed = false;
  try {
    const headers: Record<string, string> =
      range === null || end === start ? {} : { range: `bytes=${start}-${end - 1}` };
    let received = 0;
    let computed: string | undefined;
    if (end > start || range === null) {
      const response = await fetchFn(url, {
        headers,
        signal: AbortSignal.timeout(timeoutMs + Math.ceil(((end - start) / minRate) * 1000)),
      });
      const expected = range === null ? 200 : 206;
      if (response.status !== expected) {
        note(response.status === 404 ? "not-found" : "error", `GET answered ${response.status}`);
        return undefined;
      }
      const body = response.body ?? new Blob([]).stream();
      const reader: ReadableStreamDefaultReader<Uint8Array> = body.getReader();
      async function* tee(): AsyncGenerator<Uint8Array> {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            received += value.length;
            if (received > end - start) throw new StrataError("PROVIDER_BAD_DATA", "more bytes than asked");
            await sink.write(value);
            yield value;
          }
        } finally {
          await reader.cancel().catch(() => undefined);
        }
      }
      if (range === null) computed = await publicCid(tee());
      else await drain(tee());
    }
    if (received !== end - start) {
      note("error", `sent ${received} bytes, expected ${end - start}`);
      return undefined;
    }
    if (range === null && computed !== cid) {
      note("mismatch", `the bytes hash to ${computed ?? "nothing"}`);
      return undefined;
    }
    await sink.commit();
    committed = true;
    note("served", null);
    return { cid, endpoint, size, bytes: received, range, verified: range === null };
  } catch (error) {
    note("error", error instanceof Error ? error.message : String(error));
    return undefined;
  } finally {
    if (!committed) await sink.abort();
  }
}

/** Pull every chunk of `source` (the sink takes them on the way). */
async function drain(source: AsyncIterator<unknown>): Promise<void> {
  for (let next = await source.next(); next.done !== true; next = await source.next()) {
    // each chunk was written to the sink by the generator
  }
}
