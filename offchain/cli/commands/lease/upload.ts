import type { Command } from "commander";
import { sendWorkload } from "../../../sdk/compute/agentApi.js";
import { workloadForOrder } from "../../../sdk/compute/keptWorkloads.js";
import { leaseStatus } from "../../../sdk/compute/market.js";
import { findPostedOrder } from "../../../sdk/compute/orders.js";
import type { CliContext } from "../../context.js";
import type { Runner } from "../../runner.js";
import { leaseId, signedMarket, workloadsDirOption } from "./shared.js";

interface UploadOptions {
  workload?: string;
  workloadsDir: string;
}

export function registerLeaseUpload(lease: Command, run: Runner): void {
  workloadsDirOption(
    lease
      .command("upload")
      .description("send a lease's workload description to its provider's agent (again)")
      .argument("<leaseId>", "the lease (the id of the order it filled)", leaseId)
      .option("--workload <file>", "the workload description (default: the one `lease order` kept)"),
  ).action((id: bigint, opts: UploadOptions, command: Command) =>
    run(command, (ctx) => upload(ctx, id, opts)),
  );
}

async function upload(ctx: CliContext, id: bigint, opts: UploadOptions): Promise<void> {
  const { market: compute } = await signedMarket(ctx);
  const { registry } = await ctx.chain();
  const status = await leaseStatus(compute, id);
  const posted = await findPostedOrder(compute, id);
  const workload = await workloadForOrder(posted.request.workloadHash, {
    ...(opts.workload === undefined ? {} : { file: opts.workload }),
    dir: opts.workloadsDir,
  });
  const { endpoint } = await registry.providerInfo(status.provider);
  const receipt = await sendWorkload(endpoint, workload, { fetch: ctx.io.fetch });
  ctx.result(
    { leaseId: id, provider: status.provider, endpoint, ...receipt },
    () =>
      `workload ${receipt.hash} ${receipt.state === "stored" ? "sent to" : "already held by"} ${status.provider} (${endpoint})`,
  );
}
