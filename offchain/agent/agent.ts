/**
 * The provider agent: HTTP data plane plus chain duties run in ticks that never overlap. `tick()` runs every
 * duty once (tests call it directly); `start()` listens and ticks every `tickMs`, on new blocks and as soon as a
 * signed state is accepted; `stop()` lets the current tick finish, then closes the HTTP server and the database.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Provider, Signer } from "ethers";
import type { FastifyInstance } from "fastify";
import { listeningUrl } from "../runtime/http.js";
import type { Logger } from "../runtime/logger.js";
import { BLOCK_TICK_GAP_MS, createServiceLoop, serviceStopped, type Timers } from "../runtime/serviceLoop.js";
import { AgentChain } from "./chain.js";
import { createComputeService, type ComputeService, type ComputeTickReport } from "./compute/service.js";
import type { WorkloadRuntime } from "./compute/runner.js";
import type { AgentConfig } from "./config.js";
import type { AgentContext } from "./context.js";
import { createPublicFileSource } from "./files/publicFiles.js";
import { AgentDb } from "./db.js";
import { runMaintenance, type MaintenanceResult } from "./duties/maintenance.js";
import { runPermanent, type PermanentResult } from "./permanent/duty.js";
import { runProver, type ProverResult } from "./duties/prover.js";
import { runRetrievalResponder, type RetrievalResult } from "./duties/retrievalResponder.js";
import { runSettler, type SettleResult } from "./duties/settler.js";
import { runStateSubmitter, type SubmitResult } from "./duties/stateSubmitter.js";
import { buildHttpApp } from "./http/server.js";
import { PieceStore } from "./pieceStore.js";

export interface AgentDeps {
  config: AgentConfig;
  signer: Signer;
  provider: Provider;
  logger: Logger;
  /** Wall clock in ms (defaults to Date.now). */
  clock?: () => number;
  /** How compute workloads run (default: child processes configured by `compute.runtime`). */
  workloadRuntime?: WorkloadRuntime;
  /** The service loop's timers (default: the global ones). */
  timers?: Timers;
}

/** What one tick did, duty by duty (undefined: the duty threw; the error is logged). */
export interface TickReport {
  maintenance?: MaintenanceResult;
  prover?: ProverResult;
  retrieval?: RetrievalResult;
  states?: SubmitResult;
  settler?: SettleResult;
  /** Permanent files: offers, placements, confirmations, renewals (empty unless `permanent.enabled`). */
  permanent?: PermanentResult;
  /** Compute leases and bids (absent when compute is not enabled). */
  compute?: ComputeTickReport;
}

export interface Agent {
  /** Listen on `config.listen` and run ticks until `stop()`. Resolves once listening. */
  start(): Promise<void>;
  /** Finish the current tick, stop ticking, close the HTTP server and the database. Idempotent. */
  stop(): Promise<void>;
  /** Run every duty once (waits for a running tick first: ticks never overlap). */
  tick(): Promise<TickReport>;
  /** The HTTP base URL once listening, else undefined. */
  address(): string | undefined;
  /** The fastify app (`app.inject()` in tests). */
  readonly app: FastifyInstance;
  readonly context: AgentContext;
  /** Compute leases (undefined unless `compute.enabled`). */
  readonly compute: ComputeService | undefined;
}

/** Build an agent: connects to the chain (checking the deployment), opens the database and the piece store. */
export async function createAgent(deps: AgentDeps): Promise<Agent> {
  const { config } = deps;
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger;
  const chain = await AgentChain.connect(config, deps.signer, deps.provider);
  await mkdir(config.dataDir, { recursive: true });
  const pieces = new PieceStore(join(config.dataDir, "pieces"), { cacheBytes: config.treeCacheBytes });
  await pieces.init();
  const db = AgentDb.open(join(config.dataDir, "agent.db"), clock);
  const publicFiles = createPublicFileSource({ files: db.publicFiles, pieces });
  const ctx: AgentContext = { config, db, pieces, publicFiles, chain, logger, clock };
  const app = buildHttpApp(ctx);
  const compute = await createComputeService(ctx, {
    ...(deps.workloadRuntime === undefined ? {} : { runtime: deps.workloadRuntime }),
  }).catch((error: unknown) => {
    db.close();
    throw error;
  });
  compute?.registerRoutes(app);
  const maintenanceState = { startedAt: clock() };
  const retrievalState = { warnedNoContract: false };

  let listening: string | undefined;
  let stopping: Promise<void> | undefined;

  const duty = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (error) {
      logger.error({ err: error, duty: name }, "duty failed; retrying next tick");
      return undefined;
    }
  };

  // Order matters: proofs and declarations are time-critical (declarations must land before the seed block),
  // so the prover runs before state updates and settling add transactions; retrieval answers and lease
  // heartbeats have deadlines too.
  const runTick = async (): Promise<TickReport> => ({
    maintenance: await duty("maintenance", () => runMaintenance(ctx, maintenanceState)),
    prover: await duty("prover", () => runProver(ctx)),
    retrieval: await duty("retrieval", () => runRetrievalResponder(ctx, retrievalState)),
    ...(compute === undefined ? {} : { compute: await compute.tick() }),
    // Before the state submitter: a piece placed this tick has its approved state applied in the same tick.
    permanent: await duty("permanent", () => runPermanent(ctx)),
    states: await duty("states", () => runStateSubmitter(ctx)),
    settler: await duty("settler", () => runSettler(ctx)),
  });

  const loop = createServiceLoop<TickReport>({
    runTick,
    idle: () => ({}),
    intervalMs: config.tickMs,
    blocks: deps.provider,
    blockTickGapMs: Math.min(config.tickMs, BLOCK_TICK_GAP_MS),
    ...(deps.timers === undefined ? {} : { timers: deps.timers }),
    onTickError: (error) => {
      logger.error({ err: error }, "tick failed; the loop carries on");
    },
  });

  // A signed state the client posted is submitted by the next tick: run it now, so that the client's wait for its
  // application is one tick, not an interval. States posted while a tick runs go together into the one after it.
  ctx.wakeDuties = () => {
    loop.wake();
  };

  return {
    app,
    context: ctx,
    compute,
    tick: () => loop.tick(),
    address: () => listening,
    async start() {
      if (loop.stopped) throw serviceStopped("the agent");
      if (listening !== undefined) return;
      await app.listen({ host: config.listen.host, port: config.listen.port });
      listening = listeningUrl(app, config.listen);
      logger.info(
        {
          url: listening,
          provider: chain.me,
          chainId: chain.chainId,
          market: config.deployment.market,
          computeMarket: compute === undefined ? null : config.deployment.computeMarket,
          dataDir: config.dataDir,
        },
        "agent started",
      );
      await loop.start();
    },
    async stop() {
      stopping ??= (async () => {
        await loop.stop();
        if (compute) {
          try {
            await compute.stop();
          } catch (error) {
            logger.error({ err: error }, "stopping compute leases failed");
          }
        }
        await app.close();
        db.close();
        logger.info("agent stopped");
      })();
      return stopping;
    },
  };
}
