import type { Command } from "commander";
import { updateLeaseManifest } from "../../../sdk/compute/tenantApi.js";
import { readWorkloadFile, totalResources, workloadHash } from "../../../sdk/compute/workload.js";
import { keepWorkload } from "../../../sdk/compute/keptWorkloads.js";
import type { CliContext } from "../../context.js";
import { positiveInt } from "../../parse.js";
import type { Runner } from "../../runner.js";
import { leaseId, tenantSession, workloadsDirOption } from "./shared.js";

interface UpdateOptions {
  workload: string;
  manifestVersion: number;
  workloadsDir: string;
}

export function registerLeaseUpdate(lease: Command, run: Runner): void {
  workloadsDirOption(
    lease
      .command("update")
      .description(
        "run a new manifest version on a live lease: signed by you (the tenant) over {chain, market, lease, version, " +
          "manifest hash}; the same lease and price terms, resources within what the order bought. The agent " +
          "restarts the workload on it and keeps its volumes. Versions only go up (an old update cannot be replayed)",
      )
      .argument("<leaseId>", "the lease", leaseId)
      .requiredOption("--workload <file>", "the new manifest (JSON, version 2)")
      .requiredOption(
        "--manifest-version <n>",
        "the new version number (above the current one; the order's manifest is 1)",
        positiveInt,
      ),
  ).action((id: bigint, opts: UpdateOptions, command: Command) =>
    run(command, (ctx) => update(ctx, id, opts)),
  );
}

async function update(ctx: CliContext, id: bigint, opts: UpdateOptions): Promise<void> {
  const manifest = await readWorkloadFile(opts.workload);
  const session = await tenantSession(ctx, id);
  const receipt = await updateLeaseManifest(
    session.endpoint,
    session.signer,
    session.target,
    opts.manifestVersion,
    manifest,
    {
      fetch: ctx.io.fetch,
    },
  );
  const kept = await keepWorkload(opts.workloadsDir, manifest);
  const needs = totalResources(manifest);
  ctx.result(
    {
      leaseId: id,
      version: receipt.version,
      manifestHash: workloadHash(manifest),
      state: receipt.state,
      kept,
      resources: needs,
    },
    () =>
      `lease ${id} now runs manifest version ${receipt.version} (${receipt.manifestHash}); ` +
      `the workload was restarted, its volumes kept (manifest kept in ${kept})`,
  );
}
