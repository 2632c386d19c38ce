/**
 * Retrying RPC reads: a timeout per call, exponential backoff with jitter between tries, errors classified so
 * that a revert (a definite answer) is never retried while network trouble, timeouts and rate limits are.
 */
import { decodeRevert } from "../../sdk/chain/revert.js";
import { StrataError } from "../../sdk/errors.js";
import { backoffMs, sleep as defaultSleep } from "../backoff.js";

/** How a failed RPC call is classified: decides whether it is retried and how it is counted. */
export type RpcErrorKind = "network" | "timeout" | "rate-limit" | "revert" | "other";

/** How often and how patiently RPC calls are retried. */
export interface RetrySettings {
  /** Tries in all (1: no retry). */
  attempts: number;
  /** First backoff delay; doubles per failure up to maxMs. */
  baseMs: number;
  maxMs: number;
  /** A try taking longer counts as a timeout. */
  timeoutMs: number;
}

/** Where failed tries are counted (the worker's strata_worker_rpc_errors_total{kind}). */
export interface RpcErrorCounter {
  inc(labels: { kind: RpcErrorKind }): void;
}

export interface RetryOptions extends Partial<RetrySettings> {
  /** What is being done, for error messages ("eth_getLogs 100..200"). */
  label?: string;
  /** Called after every failed try (also the last), before sleeping. */
  onError?: (error: unknown, info: { attempt: number; kind: RpcErrorKind; delayMs: number | null }) => void;
  /** Counts failed tries by kind. */
  metrics?: { rpcErrors: RpcErrorCounter };
  /** Stops retrying (the current try still runs to its timeout). */
  signal?: AbortSignal;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const DEFAULT_RETRY: RetrySettings = { attempts: 5, baseMs: 250, maxMs: 30_000, timeoutMs: 15_000 };

/** Kinds worth another try. */
export function isRetryable(kind: RpcErrorKind): boolean {
  return kind === "network" || kind === "timeout" || kind === "rate-limit";
}

/**
 * Run `fn` until it succeeds, at most `attempts` times. A try that takes longer than `timeoutMs` counts as a
 * failure of kind "timeout" (the promise is abandoned). Reverts and unclassified errors are rethrown at once;
 * when the tries run out, throws RPC_TIMEOUT (last failure a timeout) or RPC_FAILED with the last error as
 * cause.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? DEFAULT_RETRY.attempts;
  const baseMs = options.baseMs ?? DEFAULT_RETRY.baseMs;
  const maxMs = options.maxMs ?? DEFAULT_RETRY.maxMs;
  const timeoutMs = options.timeoutMs ?? DEFAULT_RETRY.timeoutMs;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const label = options.label ?? "RPC call";
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTimeout(fn, timeoutMs, label);
    } catch (error) {
      const kind = classifyRpcError(error);
      options.metrics?.rpcErrors.inc({ kind });
      const last = attempt >= attempts || !isRetryable(kind) || options.signal?.aborted === true;
      const delayMs = last ? null : backoffMs(attempt, baseMs, maxMs, random);
      options.onError?.(error, { attempt, kind, delayMs });
      if (!isRetryable(kind)) throw error;
      if (delayMs === null) {
        throw new StrataError(
          kind === "timeout" ? "RPC_TIMEOUT" : "RPC_FAILED",
          `${label} failed after ${attempt} ${attempt === 1 ? "try" : "tries"} (${kind}): ${messageOf(error)}`,
          {
            cause: error,
            details: "check that the RPC endpoint is up and reachable; the service keeps retrying",
          },
        );
      }
      await sleep(delayMs);
    }
  }
}

class CallTimeout extends StrataError {
  constructor(label: string, ms: number) {
    super("RPC_TIMEOUT", `${label} took longer than ${ms} ms`);
  }
}

async function withTimeout<T>(fn: () => Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new CallTimeout(label, ms));
    }, ms);
  });
  const call = fn();
  call.catch(() => undefined); // an abandoned call must not surface as an unhandled rejection
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What kind of failure `error` is: decides whether it is retried and how it is counted. */
export function classifyRpcError(error: unknown): RpcErrorKind {
  if (error instanceof StrataError) {
    if (error.code === "RPC_TIMEOUT") return "timeout";
    if (error.code === "CHAIN_REVERT") return "revert";
    if (error.code === "RPC_FAILED" || error.code === "RPC_UNREACHABLE") return "network";
  }
  const record = (typeof error === "object" && error !== null ? error : {}) as Record<string, unknown>;
  const code = typeof record.code === "string" ? record.code : "";
  const text = collectText(error, 0).toLowerCase();
  if (isRangeTooLarge(error)) return "other"; // the caller splits the range: retrying the same one is useless
  if (
    code === "CALL_EXCEPTION" ||
    decodeRevert(error) !== undefined ||
    /execution reverted|reverted with/.test(text)
  )
    return "revert";
  if (code === "TIMEOUT" || /timed? ?out|etimedout|timeout/.test(text)) return "timeout";
  if (/\b429\b|rate.?limit|too many requests|-32005|exceeded.*(quota|limit)|capacity/.test(text))
    return "rate-limit";
  if (
    ["SERVER_ERROR", "NETWORK_ERROR", "UNKNOWN_ERROR", "BAD_DATA"].includes(code) ||
    /econnrefused|econnreset|enotfound|eai_again|epipe|socket hang up|fetch failed|network|missing response|bad response|other side closed|\b50[0-9]\b/.test(
      text,
    )
  )
    return "network";
  return "other";
}

/** An eth_getLogs failure that asks for a smaller block range or fewer results (wording varies by node). */
export function isRangeTooLarge(error: unknown): boolean {
  if (error instanceof StrataError && error.code === "RPC_RESPONSE_TOO_LARGE") return true;
  const text = collectText(error, 0).toLowerCase();
  return /query returned more than|block range|range (is )?too (large|wide|big)|too many blocks|exceeds? (the )?max(imum)? (block )?range|response size|too many (logs|results)|max results/.test(
    text,
  );
}

function collectText(error: unknown, depth: number): string {
  if (depth > 4 || error === null || error === undefined) return "";
  if (typeof error === "string") return error;
  if (typeof error === "number" || typeof error === "boolean" || typeof error === "bigint")
    return String(error);
  if (typeof error !== "object") return "";
  const record = error as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of ["code", "message", "shortMessage", "status", "statusCode"]) {
    const value = record[key];
    if (typeof value === "string" || typeof value === "number") parts.push(String(value));
  }
  for (const key of ["error", "info", "cause"]) parts.push(collectText(record[key], depth + 1));
  return parts.join(" ");
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}
