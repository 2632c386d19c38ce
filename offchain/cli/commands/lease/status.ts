import type { Command } from "commander";
import { agentLeaseView, type AgentLeaseView } from "../../../sdk/compute/agentApi.js";
import { leaseStatus } from "../../../sdk/compute/market.js";
import type { CliContext } from "../../context.js";
import { leaseJson, leaseStatusLines, type LeaseIngress } from "../../format/lease.js";
import { tokenJson } from "../../format/units.js";
import { workloadForOrder } from "../../../sdk/compute/keptWorkloads.js";
import { findPostedOrder } from "../../../sdk/compute/orders.js";
import type { Runner } from "../../runner.js";
import { leaseId, readMarket, WORKLOADS_DIR } from "./shared.js";

interface StatusOptions {
  agent: boolean;
  workloadsDir: string;
}

export function registerLeaseStatus(lease: Command, run: Runner): void {
  lease
    .command("status")
    .description(
      "a lease's state: heartbeats, escrow and how long it lasts, what its provider's agent reports, and the " +
        "addresses of its exposed services (the agent's ingress, reachable from a browser). Read-only: no key " +
        "needed. Exits with 2 when the lease is closed",
    )
    .argument("<leaseId>", "the lease", leaseId)
    .option("--no-agent", "do not ask the provider's agent about the workload")
    .option(
      "--workloads-dir <dir>",
      "where `lease order` kept the manifest (for the services' addresses)",
      WORKLOADS_DIR,
    )
    .action((id: bigint, opts: StatusOptions, command: Command) =>
      run(command, (ctx) => status(ctx, id, opts)),
    );
}

async function status(ctx: CliContext, id: bigint, opts: StatusOptions): Promise<void> {
  const compute = await readMarket(ctx);
  const { registry } = await ctx.chain();
  const units = await ctx.tokenUnits();
  const lease = await leaseStatus(compute, id);
  let agent: AgentLeaseView | null = null;
  let agentError: string | null = null;
  const { endpoint } = await registry.providerInfo(lease.provider);
  const ingress = await ingressOf(compute, id, endpoint, opts.workloadsDir);
  if (opts.agent) {
    try {
      agent = await agentLeaseView(endpoint, id, { fetch: ctx.io.fetch, timeoutMs: 3_000 });
    } catch (error) {
      // The chain's view is the answer; the agent's is extra, so its failure is shown, not thrown.
      agentError = error instanceof Error ? error.message : String(error);
    }
  }
  // Scripts ask "is my lease running?": a closed lease is not, so exit 2 (the status is still printed).
  if (lease.closed !== null) ctx.exitCode = 2;
  const json = { lease: leaseJson(lease, units), agent, agentError, ingress, token: tokenJson(units) };
  ctx.result(json, () => leaseStatusLines(lease, agent, agentError, units, ingress));
}

/** The exposed services of the lease's manifest (the one `lease order` kept), at the agent's ingress. */
async function ingressOf(
  compute: Parameters<typeof findPostedOrder>[0],
  id: bigint,
  endpoint: string,
  dir: string,
): Promise<LeaseIngress[]> {
  try {
    const posted = await findPostedOrder(compute, id);
    const manifest = await workloadForOrder(posted.request.workloadHash, { dir });
    const base = endpoint.replace(/\/+$/, "");
    return Object.entries(manifest.services).flatMap(([service, svc]) =>
      svc.expose?.[0] === undefined
        ? []
        : [{ service, port: svc.expose[0], url: `${base}/v1/leases/${id}/${service}/` }],
    );
  } catch {
    return []; // no kept manifest here: the addresses are unknown to this machine
  }
}
