/**
 * The JSON-RPC provider of the long-running programs (provider agent and worker): ethers' JsonRpcProvider (its throttling, redirects, error mapping and
 * formatting are kept) with a transport whose memory is bounded by the response, not by a multiple of it.
 *
 * ethers' own Node transport grows the body by copying it into a new array for every chunk (quadratic), and
 * its `bodyJson` decodes UTF-8 into an array of code points and an array of one-character strings before
 * joining them: about 20 bytes of JavaScript heap per byte of response, so one 10 MB eth_getLogs answer (10,000
 * logs) took over 200 MB of heap. Here the body is read from `fetch` in chunks, joined once, decoded with
 * TextDecoder and parsed with JSON.parse.
 *
 * Every response also has a size limit, checked while it streams in: past it the request is aborted with
 * RPC_RESPONSE_TOO_LARGE. For eth_getLogs the limit is tight (MAX_LOGS_RESPONSE_BYTES) and the indexer treats
 * the error like a node's "too many results" answer: it halves the block range. So however dense the chain
 * and however far the range grew over quiet blocks, no step holds more than that many bytes of logs.
 *
 * With `retry`, reads (never eth_sendRawTransaction and other writes) are retried inside the transport on
 * network trouble, timeouts and rate limits (see ./retry.ts): the agent, which loses collateral on a missed
 * proof, rides out a flaky endpoint this way. The worker retries around its calls itself (with labels and
 * metrics) and leaves `retry` unset.
 */
import {
  FetchRequest,
  JsonRpcProvider,
  makeError,
  type FetchCancelSignal,
  type FetchGetUrlFunc,
  type GetUrlResponse,
  type JsonRpcApiProviderOptions,
  type JsonRpcPayload,
  type JsonRpcResult,
  type Networkish,
} from "ethers";
import { StrataError } from "../../sdk/errors.js";
import { withRetry, type RetryOptions } from "./retry.js";

/**
 * Most bytes an eth_getLogs response may have (about 4,000 of the largest logs the worker follows, twice what
 * the worker's indexer aims for per step). A single block cannot come near it: at 60M gas, a block holds about 2,000 of
 * the followed events at the very most.
 */
export const MAX_LOGS_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Most bytes any other response may have (blocks without transactions, receipts, calls). */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/**
 * Methods that change nothing on the node: safe to send again after a network failure. A transaction is
 * never resent by the transport (a second send may fail with "already known" and hide the first's fate).
 */
const READ_METHODS: ReadonlySet<string> = new Set([
  "eth_blockNumber",
  "eth_call",
  "eth_chainId",
  "eth_estimateGas",
  "eth_feeHistory",
  "eth_gasPrice",
  "eth_getBalance",
  "eth_getBlockByHash",
  "eth_getBlockByNumber",
  "eth_getCode",
  "eth_getLogs",
  "eth_getStorageAt",
  "eth_getTransactionByHash",
  "eth_getTransactionCount",
  "eth_getTransactionReceipt",
  "eth_maxPriorityFeePerGas",
  "net_version",
]);

export interface RpcProviderOptions extends JsonRpcApiProviderOptions {
  /** The HTTP client (default: the global fetch). */
  fetch?: typeof fetch;
  /** Abort a request after this long (the per-try RPC timeout); default: ethers' 5 minutes. */
  timeoutMs?: number;
  /** Response size limits in bytes. */
  maxLogsResponseBytes?: number;
  maxResponseBytes?: number;
  /** Retry reads inside the transport (default: no retry; callers retry themselves). */
  retry?: Omit<RetryOptions, "label" | "signal">;
}

export class RpcProvider extends JsonRpcProvider {
  private readonly fetchFn: typeof fetch;
  private readonly maxLogsResponseBytes: number;
  private readonly maxResponseBytes: number;
  private readonly retry: Omit<RetryOptions, "label" | "signal"> | undefined;

  constructor(url: string, network: Networkish, options: RpcProviderOptions = {}) {
    const {
      fetch: fetchFn,
      timeoutMs,
      maxLogsResponseBytes,
      maxResponseBytes,
      retry,
      ...ethersOptions
    } = options;
    const connection = new FetchRequest(url);
    if (timeoutMs !== undefined) connection.timeout = timeoutMs;
    super(connection, network, ethersOptions);
    this.fetchFn = fetchFn ?? globalThis.fetch;
    this.maxLogsResponseBytes = maxLogsResponseBytes ?? MAX_LOGS_RESPONSE_BYTES;
    this.maxResponseBytes = maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.retry = retry;
  }

  // ethers declares JsonRpcResult[] (its own implementation returns error objects in it too).
  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const methods = (Array.isArray(payload) ? payload : [payload]).map((p) => p.method);
    if (this.retry === undefined || !methods.every((method) => READ_METHODS.has(method))) {
      return this.sendOnce(payload, methods);
    }
    return withRetry(() => this.sendOnce(payload, methods), { ...this.retry, label: methods.join(", ") });
  }

  private async sendOnce(
    payload: JsonRpcPayload | JsonRpcPayload[],
    methods: string[],
  ): Promise<JsonRpcResult[]> {
    const request = this._getConnection();
    request.getUrlFunc = boundedGetUrl(
      this.fetchFn,
      methods.includes("eth_getLogs") ? this.maxLogsResponseBytes : this.maxResponseBytes,
      methods.join(", "),
    );
    // Encoded natively: ethers' own string-to-UTF-8 is a JavaScript loop, measurable on large calldata.
    request.body = utf8Encoder.encode(JSON.stringify(payload));
    request.setHeader("content-type", "application/json");
    const response = await request.send();
    response.assertOk();
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(response.body ?? new Uint8Array()));
    } catch (error) {
      throw new StrataError("RPC_FAILED", `the response to ${methods.join(", ")} is not valid JSON`, {
        cause: error,
      });
    }
    return (Array.isArray(parsed) ? parsed : [parsed]) as JsonRpcResult[];
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * An ethers transport over `fetchFn` that reads at most `maxBytes` of body (RPC_RESPONSE_TOO_LARGE past them)
 * and joins the chunks once.
 */
export function boundedGetUrl(fetchFn: typeof fetch, maxBytes: number, what: string): FetchGetUrlFunc {
  return async (req: FetchRequest, signal?: FetchCancelSignal): Promise<GetUrlResponse> => {
    const controller = new AbortController();
    let reason: "cancelled" | "timeout" | null = null;
    signal?.addListener(() => {
      reason ??= "cancelled";
      controller.abort();
    });
    const timer = setTimeout(() => {
      reason ??= "timeout";
      controller.abort();
    }, req.timeout);
    const failed = (error: unknown): Error =>
      reason === "timeout"
        ? makeError("request timeout", "TIMEOUT", { operation: what, reason: "timeout" })
        : reason === "cancelled"
          ? makeError("request cancelled", "CANCELLED")
          : new StrataError("RPC_FAILED", `${what}: ${describe(error)}`, { cause: error });
    try {
      // fetch computes the length and decompresses by itself.
      const headers: Record<string, string> = Object.fromEntries(
        Object.entries(req.headers).filter(([name]) => name.toLowerCase() !== "content-length"),
      );
      // fetch refuses URLs with credentials (Node's http, which ethers uses, sends them as Basic auth).
      const url = new URL(req.url);
      if (url.username !== "" || url.password !== "") {
        const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
        if (!("authorization" in headers))
          headers.authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
        url.username = "";
        url.password = "";
      }
      let res: Response;
      try {
        res = await fetchFn(url, {
          method: req.method,
          headers,
          ...(req.body === null ? {} : { body: req.body }),
          redirect: "manual", // ethers follows redirects itself
          signal: controller.signal,
        });
      } catch (error) {
        throw failed(error);
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      if (res.body !== null) {
        const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            size += value.byteLength;
            if (size > maxBytes) {
              controller.abort();
              throw new StrataError(
                "RPC_RESPONSE_TOO_LARGE",
                `the response to ${what} passed ${maxBytes} bytes (response size limit)`,
                { details: "ask for less (a smaller block range)" },
              );
            }
            chunks.push(value);
          }
        } catch (error) {
          throw error instanceof StrataError && error.code === "RPC_RESPONSE_TOO_LARGE"
            ? error
            : failed(error);
        } finally {
          reader.releaseLock();
        }
      }
      const response: Record<string, string> = {};
      res.headers.forEach((value, name) => {
        if (name !== "content-encoding" && name !== "content-length") response[name] = value;
      });
      return {
        statusCode: res.status,
        statusMessage: res.statusText,
        headers: response,
        body: size === 0 ? null : concat(chunks, size),
      };
    } finally {
      clearTimeout(timer);
    }
  };
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error && cause.message !== "" ? `${message} (${cause.message})` : message;
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
