import type { Command } from "commander";
import { agentLeaseView, type AgentLeaseView } from "../../../sdk/compute/agentApi.js";
import { leaseStatus } from "../../../sdk/compute/market.js";
import type { CliContext } from "../../context.js";
import { leaseStatusLines } from "../../format/lease.js";
import type { Runner } from "../../runner.js";
import { leaseId, signedMarket } from "./shared.js";

interface StatusOptions {
  agent: boolean;
}

export function registerLeaseStatus(lease: Command, run: Runner): void {
  lease
    .command("status")
    .description(
      "a lease's state: heartbeats, escrow and how long it lasts, and what its provider's agent reports",
    )
    .argument("<leaseId>", "the lease", leaseId)
    .option("--no-agent", "do not ask the provider's agent about the workload")
    .action((id: bigint, opts: StatusOptions, command: Command) =>
      run(command, (ctx) => status(ctx, id, opts)),
    );
}

async function status(ctx: CliContext, id: bigint, opts: StatusOptions): Promise<void> {
  const { market: compute } = await signedMarket(ctx);
  const { registry } = await ctx.chain();
  const units = await ctx.tokenUnits();
  const lease = await leaseStatus(compute, id);
  let agent: AgentLeaseView | null = null;
  let agentError: string | null = null;
  if (opts.agent) {
    try {
      const { endpoint } = await registry.providerInfo(lease.provider);
      agent = await agentLeaseView(endpoint, id, { fetch: ctx.io.fetch, timeoutMs: 3_000 });
    } catch (error) {
      // The chain's view is the answer; the agent's is extra, so its failure is shown, not thrown.
      agentError = error instanceof Error ? error.message : String(error);
    }
  }
  ctx.result({ lease, agent, agentError }, () => leaseStatusLines(lease, agent, agentError, units));
}
