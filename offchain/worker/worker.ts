/**
 * The proof-verifier worker: follows the chain into its index, then runs its duties, in ticks that never
 * overlap. `tick()` catches the index up with the confirmed head (duties need an up-to-date index; /health
 * keeps answering meanwhile), then runs each duty once (a duty that throws is logged and retried next tick).
 * `start()` listens on /health + /metrics + the dashboard and ticks every pollIntervalMs and on new blocks; a tick whose
 * indexing fails (RPC trouble after retries) backs off exponentially up to 30 s and the loop carries on.
 * `stop()` finishes the current tick, closes HTTP and the database; it is idempotent.
 */
import type { Provider, Signer } from "ethers";
import type { FastifyInstance } from "fastify";
import { listeningUrl } from "../runtime/http.js";
import type { Logger } from "../runtime/logger.js";
import {
  BLOCK_TICK_GAP_MS,
  createServiceLoop,
  MAX_FAILURE_BACKOFF_MS,
  serviceStopped,
  type Timers,
} from "../runtime/serviceLoop.js";
import { WorkerChain } from "./chain.js";
import type { WorkerConfig } from "./config.js";
import type { Duty, DutyResult, WorkerContext } from "./context.js";
import { chainReadsFor } from "./dashboard/chainReads.js";
import { WorkerDb } from "./db/index.js";
import { HealthState, WORKER_VERSION, type HealthReport } from "./http/health.js";
import { buildHttpApp } from "./http/server.js";
import { Indexer, type StepResult } from "./indexer/indexer.js";
import { createMetrics, type WorkerMetrics } from "./metrics.js";

export interface WorkerDeps {
  config: WorkerConfig;
  provider: Provider;
  /** Absent: read-only worker. */
  signer?: Signer | null;
  logger: Logger;
  /** Wall clock in ms (defaults to Date.now). */
  clock?: () => number;
  fetch?: typeof fetch;
  /** Run after each catch-up, in order (default: none; `defaultDuties(config)` from ./duties). */
  duties?: readonly Duty[];
  /** A metrics registry (default: a fresh one with process metrics). */
  metrics?: WorkerMetrics;
  /** The service loop's timers (default: the global ones). */
  timers?: Timers;
}

/** What one tick did. */
export interface TickReport {
  /** The last index step (undefined: indexing failed, see `error`). */
  index?: StepResult;
  error?: unknown;
  /** Each duty's result; undefined for a duty that threw (logged). Duties do not run when indexing failed. */
  duties: Record<string, DutyResult | undefined>;
}

export interface Worker {
  /** Listen on config.listen and tick until `stop()`. Resolves once listening. */
  start(): Promise<void>;
  /** Finish the current tick, stop ticking, close HTTP and the database. Idempotent. */
  stop(): Promise<void>;
  /** Catch up and run every duty once (waits for a running tick first: ticks never overlap). */
  tick(): Promise<TickReport>;
  /** The HTTP base URL once listening, else undefined. */
  address(): string | undefined;
  health(): HealthReport;
  readonly context: WorkerContext;
  readonly indexer: Indexer;
  /** The fastify app (`app.inject()` in tests). */
  readonly app: FastifyInstance;
}

/** Build a worker: connects to the chain (checking the deployment), opens and binds the database. */
export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  const { config, logger } = deps;
  const clock = deps.clock ?? Date.now;
  const metrics = deps.metrics ?? createMetrics();
  const duties = deps.duties ?? [];
  const chain = await WorkerChain.connect({
    provider: deps.provider,
    signer: deps.signer ?? null,
    deployment: config.deployment,
    chainId: config.chainId,
    retry: config.rpc,
    txTimeoutMs: config.txTimeoutMs,
    metrics,
    logger,
  });
  const db = WorkerDb.open(config.dbPath, clock);
  let indexer: Indexer;
  try {
    db.bindIdentity({
      chainId: config.chainId,
      market: config.deployment.market,
      registry: config.deployment.registry,
      retrievalChallenges: config.deployment.retrievalChallenges,
    });
    indexer = new Indexer({
      db,
      provider: deps.provider,
      deployment: config.deployment,
      confirmations: config.confirmations,
      startBlock: config.startBlock,
      maxBlockRange: config.maxBlockRange,
      retry: config.rpc,
      logger: logger.child({ component: "indexer" }),
      metrics,
    });
  } catch (error) {
    db.close();
    throw error;
  }
  metrics.dataSetsTracked.set(db.openDataSetCount());
  const ctx: WorkerContext = {
    config,
    db,
    chain,
    logger,
    metrics,
    clock,
    fetch: deps.fetch ?? globalThis.fetch,
  };
  const healthState = new HealthState(clock);
  const health = (): HealthReport => {
    const status = indexer.status();
    const cursor = db.isOpen ? db.cursor() : status.indexed;
    return {
      status: healthState.status,
      chainId: config.chainId.toString(),
      worker: chain.me,
      readOnly: chain.readOnly,
      // Null until the first block is indexed (the cursor starts at startBlock - 1).
      indexedBlock: cursor !== null && cursor >= config.startBlock ? cursor : null,
      head: status.head,
      blocksBehind: status.blocksBehind,
      dataSetsTracked: db.isOpen ? db.openDataSetCount() : 0,
      lastError: healthState.lastError,
      since: healthState.since,
      version: WORKER_VERSION,
    };
  };
  const app = buildHttpApp({
    logger,
    metrics,
    health,
    dashboard: { db, chain: chainReadsFor(chain), chainId: config.chainId },
  });

  let listening: string | undefined;
  let stopping: Promise<void> | undefined;

  const runDuty = async (duty: Duty): Promise<DutyResult | undefined> => {
    try {
      const result = await duty.run(ctx);
      if (result !== undefined) logger.debug({ duty: duty.name, result }, "duty done");
      return result;
    } catch (error) {
      metrics.dutyFailures.inc({ duty: duty.name });
      logger.error({ err: error, duty: duty.name }, "duty failed; retrying next tick");
      return undefined;
    }
  };

  const runTick = async (isStopping: () => boolean): Promise<TickReport> => {
    const endTimer = metrics.tickSeconds.startTimer();
    try {
      let index: StepResult;
      try {
        index = await indexer.catchUp({ shouldStop: isStopping });
        healthState.indexed(index.caughtUp);
      } catch (error) {
        healthState.failed(error);
        logger.warn({ err: error, failures: loop.failures + 1 }, "indexing failed; backing off and retrying");
        return { error, duties: {} };
      }
      const results: Record<string, DutyResult | undefined> = {};
      if (!index.caughtUp) return { index, duties: results }; // stopping mid catch-up
      for (const duty of duties) {
        if (isStopping()) break;
        results[duty.name] = await runDuty(duty);
      }
      return { index, duties: results };
    } finally {
      endTimer();
    }
  };

  // A tick whose indexing failed (RPC trouble after retries) backs off; new blocks do not cut the pause short.
  const loop = createServiceLoop<TickReport>({
    runTick,
    idle: () => ({ duties: {} }),
    intervalMs: config.pollIntervalMs,
    failed: (report) => report.error !== undefined,
    backoff: { baseMs: Math.max(config.pollIntervalMs, 250), maxMs: MAX_FAILURE_BACKOFF_MS },
    blocks: deps.provider,
    blockTickGapMs: Math.min(config.pollIntervalMs, BLOCK_TICK_GAP_MS),
    ...(deps.timers === undefined ? {} : { timers: deps.timers }),
    onTickError: (error) => {
      logger.error({ err: error }, "tick failed; the loop carries on");
    },
  });

  return {
    app,
    context: ctx,
    indexer,
    tick: () => loop.tick(),
    health,
    address: () => listening,
    async start() {
      if (loop.stopped) throw serviceStopped("the worker");
      if (listening !== undefined) return;
      await app.listen({ host: config.listen.host, port: config.listen.port });
      listening = listeningUrl(app, config.listen);
      logger.info(
        {
          url: listening,
          dashboard: `${listening}/`,
          chainId: config.chainId,
          worker: chain.me,
          readOnly: chain.readOnly,
          market: config.deployment.market,
          db: config.dbPath,
          indexedBlock: db.cursor(),
          startBlock: config.startBlock,
          confirmations: config.confirmations,
          duties: duties.map((d) => d.name),
        },
        "worker started",
      );
      await loop.start();
    },
    async stop() {
      stopping ??= (async () => {
        await loop.stop();
        await app.close();
        db.close();
        logger.info("worker stopped");
      })();
      return stopping;
    },
  };
}
