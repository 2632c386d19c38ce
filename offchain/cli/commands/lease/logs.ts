import type { Command } from "commander";
import { leaseLogs } from "../../../sdk/compute/tenantApi.js";
import type { CliContext } from "../../context.js";
import type { Runner } from "../../runner.js";
import { leaseId, tenantSession } from "./shared.js";

interface LogsOptions {
  follow?: boolean;
}

export function registerLeaseLogs(lease: Command, run: Runner): void {
  lease
    .command("logs")
    .description(
      "the workload's output (every service, lines prefixed with [service]), from its provider's agent; you sign a " +
        "short-lived grant as the tenant, nobody else can read them. --json prints {leaseId, text} (no --follow)",
    )
    .argument("<leaseId>", "the lease", leaseId)
    .option("-f, --follow", "keep streaming while the workload runs")
    .action((id: bigint, opts: LogsOptions, command: Command) => run(command, (ctx) => logs(ctx, id, opts)));
}

async function logs(ctx: CliContext, id: bigint, opts: LogsOptions): Promise<void> {
  const session = await tenantSession(ctx, id);
  const follow = opts.follow === true && !ctx.json;
  const stream = await leaseLogs(session.endpoint, session.signer, session.target, {
    fetch: ctx.io.fetch,
    follow,
  });
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    const part = decoder.decode(chunk, { stream: true });
    if (follow) ctx.io.stdout(part);
    else text += part;
  }
  if (follow) return;
  ctx.result({ leaseId: id, text }, () => text.replace(/\n$/, ""));
}
