/**
 * Compute leases in the agent: the bidding duty, the lease duties, the workload supervisor and the compute
 * routes, behind one object the agent ticks and stops.
 *
 * Shutdown (`stop()`): with `compute.noticeOnShutdown` (default) the agent gives notice on every live lease
 * (each then ends `noticeWindow` seconds later) and withdraws its open bids, so no new lease starts while it
 * is away; then every workload is stopped with the agent (SIGTERM, SIGKILL after the grace period). Workloads
 * are not left running without an agent to watch them. If the agent comes back before a notice runs out it
 * resumes heartbeats and the workload, and closes the lease for ProviderWithNotice at its end; periods missed
 * while it was down can be reported by anyone (their time is refunded to the tenant).
 */
import { getAddress, ZeroAddress } from "ethers";
import type { FastifyInstance } from "fastify";
import { IComputeMarket__factory } from "../../../typechain-types/index.js";
import { StrataError } from "../../sdk/errors.js";
import type { AgentContext } from "../context.js";
import { runBidder, type BidderResult, type BidderState } from "./bidder.js";
import { computeRevertName, type ComputeContext } from "./context.js";
import { registerComputeRoutes } from "./http.js";
import { registerIngress } from "./ingress.js";
import { registerTenantRoutes } from "./tenantRoutes.js";
import { runLeaseDuties, type LeaseDutyResult } from "./leaseKeeper.js";
import { IsolatedRuntime, isolatedRuntimeUnavailable } from "./isolated.js";
import { ProcessRuntime, type WorkloadRuntime } from "./runner.js";
import { WorkloadSupervisor } from "./workloads.js";

export interface ComputeTickReport {
  bidder?: BidderResult;
  leases?: LeaseDutyResult;
}

export interface ComputeService {
  readonly context: ComputeContext;
  /** Run the lease duties (heartbeats first), then the bidding duty. A failing duty is logged, not thrown. */
  tick(): Promise<ComputeTickReport>;
  /** Give notice if configured, withdraw open bids, stop every workload. */
  stop(): Promise<void>;
  registerRoutes(app: FastifyInstance): void;
}

/**
 * The runtime workloads run under: the isolated runtime wherever it can run (bubblewrap + cgroup v1), else the
 * process runtime with a loud warning (and the reason, which the agent's compute status reports).
 */
export async function chooseRuntime(
  ctx: AgentContext,
): Promise<{ runtime: WorkloadRuntime; fallback: string | null }> {
  const r = ctx.config.compute.runtime;
  const unavailable = await isolatedRuntimeUnavailable();
  if (unavailable === null) {
    return {
      runtime: new IsolatedRuntime({
        ...(r.nodePath === null ? {} : { nodePath: r.nodePath }),
        stopGraceMs: r.stopGraceMs,
        logCapBytes: r.logCapBytes,
      }),
      fallback: null,
    };
  }
  ctx.logger.error(
    { reason: unavailable },
    "LOUD WARNING: the isolated runtime cannot run here; workloads run as PLAIN PROCESSES with the agent's " +
      "user, file system and network, and limits policed by polling. Do not accept workloads from strangers.",
  );
  return { runtime: runtimeFromConfig(ctx), fallback: unavailable };
}

/** The process runtime the configuration describes (the fallback where the isolated runtime cannot run). */
export function runtimeFromConfig(ctx: AgentContext): WorkloadRuntime {
  const r = ctx.config.compute.runtime;
  return new ProcessRuntime({
    ...(r.nodePath === null ? {} : { nodePath: r.nodePath }),
    niceness: r.niceness,
    limitAddressSpace: r.limitAddressSpace,
    stopGraceMs: r.stopGraceMs,
    logCapBytes: r.logCapBytes,
    sampleMs: r.sampleMs,
    cpuWindowMs: r.cpuWindowMs,
    cpuOverrunMs: r.cpuOverrunMs,
    cpuTolerance: r.cpuTolerance,
  });
}

/**
 * The compute part of the agent, or undefined when `compute.enabled` is off. Checks that the configured compute
 * market exists and uses the configured registry (CONFIG_DEPLOYMENT_MISMATCH), and reaps workloads an earlier
 * agent process left running.
 */
export async function createComputeService(
  ctx: AgentContext,
  options: { runtime?: WorkloadRuntime } = {},
): Promise<ComputeService | undefined> {
  const { config, chain, logger } = ctx;
  const address = config.deployment.computeMarket;
  if (!config.compute.enabled || address === null) return undefined;
  if ((await chain.provider.getCode(address)) === "0x") {
    throw new StrataError(
      "CONFIG_DEPLOYMENT_MISMATCH",
      `no contract at deployment.computeMarket ${address} on chain ${chain.chainId}`,
    );
  }
  const market = IComputeMarket__factory.connect(address, chain.signer);
  let registry: string;
  try {
    registry = await market.registry();
  } catch (cause) {
    throw new StrataError(
      "CONFIG_DEPLOYMENT_MISMATCH",
      `deployment.computeMarket ${address} is not a compute market`,
      {
        cause,
      },
    );
  }
  if (getAddress(registry) !== config.deployment.registry) {
    throw new StrataError(
      "CONFIG_DEPLOYMENT_MISMATCH",
      `the compute market ${address} uses registry ${registry}, not ${config.deployment.registry}`,
    );
  }
  const log = logger.child({ component: "compute" });
  const chosen = options.runtime
    ? { runtime: options.runtime, fallback: null }
    : await chooseRuntime({ ...ctx, logger: log });
  const supervisor = new WorkloadSupervisor(chosen.runtime, ctx.db, config.dataDir, log, chosen.fallback);
  await supervisor.reapOrphans();
  const context: ComputeContext = { ...ctx, market, supervisor, compute: config.compute };
  const bidderState: BidderState = { warnedUnregistered: false };

  const duty = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (error) {
      logger.error({ err: error, duty: name }, "duty failed; retrying next tick");
      return undefined;
    }
  };

  return {
    context,
    async tick() {
      return {
        leases: await duty("leases", () => runLeaseDuties(context)),
        bidder: await duty("bidder", () => runBidder(context, bidderState)),
      };
    },
    async stop() {
      if (config.compute.noticeOnShutdown) await leave(context);
      await supervisor.stopAll("agent shutdown");
    },
    registerRoutes(app) {
      registerComputeRoutes(app, context);
      registerTenantRoutes(app, context);
      registerIngress(app, context);
      app.get("/v1/compute/runtime", () => ({
        runtime: supervisor.runtime.name,
        isolated: supervisor.runtime.name === "isolated",
        fallbackReason: supervisor.runtimeFallback,
      }));
    },
  };
}

/** Give notice on every live lease and withdraw every open bid (errors are logged: shutdown goes on). */
async function leave(ctx: ComputeContext): Promise<void> {
  const { market, chain, db } = ctx;
  const log = ctx.logger.child({ duty: "compute-shutdown" });
  for (const lease of db.compute.activeLeases()) {
    try {
      const onChain = await market.getLease(lease.id);
      if (onChain.provider === ZeroAddress || onChain.noticeGiven) continue;
      // A fixed-length lease ending within the notice window needs no notice (the market would refuse it).
      const now = await chain.now();
      if (onChain.endsAt !== 0n && onChain.endsAt <= now + onChain.noticeWindow) continue;
      const receipt = await chain.execute(
        () => market.giveNotice.staticCall(lease.id),
        () => market.giveNotice(lease.id),
      );
      const after = await market.getLease(lease.id);
      db.compute.setNotice(lease.id, after.endsAt);
      log.info({ leaseId: lease.id, endsAt: after.endsAt, txHash: receipt.hash }, "notice given on shutdown");
    } catch (error) {
      log.error({ err: error, leaseId: lease.id, revert: computeRevertName(error) }, "giving notice failed");
    }
  }
  for (const order of db.compute.ordersIn(["bid"])) {
    try {
      const receipt = await chain.execute(
        () => market.withdrawBid.staticCall(order.id),
        () => market.withdrawBid(order.id),
      );
      db.compute.setOrderState(order.id, "released", { reason: "withdrawn on shutdown" });
      log.info({ orderId: order.id, txHash: receipt.hash }, "bid withdrawn on shutdown");
    } catch (error) {
      log.error(
        { err: error, orderId: order.id, revert: computeRevertName(error) },
        "withdrawing a bid failed",
      );
    }
  }
}
