import type { Command } from "commander";
import { leaseEvents } from "../../../sdk/compute/tenantApi.js";
import type { CliContext } from "../../context.js";
import { leaseEventLine } from "../../format/lease.js";
import type { Runner } from "../../runner.js";
import { leaseId, tenantSession } from "./shared.js";

export function registerLeaseEvents(lease: Command, run: Runner): void {
  lease
    .command("events")
    .description(
      "what happened to the workload (start, exit, restart with back-off, oom, health failures, updates, end), " +
        "from its provider's agent; signed by you as the tenant",
    )
    .argument("<leaseId>", "the lease", leaseId)
    .action((id: bigint, _opts: object, command: Command) => run(command, (ctx) => events(ctx, id)));
}

async function events(ctx: CliContext, id: bigint): Promise<void> {
  const session = await tenantSession(ctx, id);
  const list = await leaseEvents(session.endpoint, session.signer, session.target, { fetch: ctx.io.fetch });
  ctx.result({ leaseId: id, events: list }, () =>
    list.length === 0 ? `lease ${id}: no events yet` : list.map(leaseEventLine).join("\n"),
  );
}
