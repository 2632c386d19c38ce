import type { WorkerChain } from "./chain.js";
import type { WorkerConfig } from "./config.js";
import type { WorkerDb } from "./db/index.js";
import type { Logger } from "../runtime/logger.js";
import type { WorkerMetrics } from "./metrics.js";

/** Everything a duty needs, passed in explicitly (tests build one by hand or through createWorker). */
export interface WorkerContext {
  config: WorkerConfig;
  db: WorkerDb;
  /** Typed contracts, retrying reads, chain time, sending (read-only when `chain.signer` is null). */
  chain: WorkerChain;
  logger: Logger;
  metrics: WorkerMetrics;
  /** Wall clock in ms (record timestamps, sampling intervals); protocol time comes from `chain.now()`. */
  clock: () => number;
  /** HTTP client for provider endpoints (retrieval sampling). */
  fetch: typeof fetch;
}

/** What a duty reports after one run (logged at debug; free-form counts such as `{ reported: 1 }`). */
export type DutyResult = Record<string, unknown> | undefined;

/** A named unit of work run once per tick after the index has caught up. A throw is logged and retried. */
export interface Duty {
  name: string;
  run(ctx: WorkerContext): Promise<DutyResult>;
}
