import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { storeFile } from "../../../sdk/client/store.js";
import { leaseVolumeBackup } from "../../../sdk/compute/tenantApi.js";
import type { CliContext } from "../../context.js";
import type { Runner } from "../../runner.js";
import { leaseId, tenantSession } from "./shared.js";

interface BackupOptions {
  volume: string;
  out?: string;
  store: boolean;
}

export function registerLeaseBackup(lease: Command, run: Runner): void {
  lease
    .command("backup")
    .description(
      "back up one of the lease's volumes: a tar fetched from its provider's agent (signed by you as the tenant), " +
        "written to --out, then stored on Strata storage like `strata store` (k=1, m=1, 30 periods) unless --no-store. " +
        "When storage is not reachable the file is kept and the output says so",
    )
    .argument("<leaseId>", "the lease", leaseId)
    .requiredOption("--volume <name>", "the volume (as named in the manifest)")
    .option("--out <file>", "where to write the tar (default: lease-<id>-<volume>.tar)")
    .option("--no-store", "only write the file")
    .action((id: bigint, opts: BackupOptions, command: Command) =>
      run(command, (ctx) => backup(ctx, id, opts)),
    );
}

async function backup(ctx: CliContext, id: bigint, opts: BackupOptions): Promise<void> {
  const session = await tenantSession(ctx, id);
  const bytes = await leaseVolumeBackup(session.endpoint, session.signer, session.target, opts.volume, {
    fetch: ctx.io.fetch,
  });
  const file = resolve(opts.out ?? `lease-${id}-${opts.volume}.tar`);
  await writeFile(file, bytes);
  let stored: { manifestPath: string } | null = null;
  let storeError: string | null = null;
  if (opts.store) {
    try {
      const { chain, signer, market, token } = await ctx.signed();
      const result = await storeFile(
        {
          bytes,
          fileName: `lease-${id}-${opts.volume}.tar`,
          k: 1,
          m: 1,
          periods: 30n,
          maxPricePerTiBMonth: null,
          manifestPath: `${file}.strata.json`,
        },
        {
          signer,
          chainId: chain.chainId,
          market,
          registry: chain.registry,
          token,
          provider: chain.provider,
          agentFor: (endpoint) => ctx.agent(endpoint),
        },
      );
      stored = { manifestPath: result.manifestPath };
    } catch (error) {
      storeError = error instanceof Error ? error.message : String(error);
    }
  }
  const where = stored
    ? `stored on Strata storage (manifest ${stored.manifestPath}); local copy ${file}`
    : opts.store
      ? `storage not reachable (${storeError ?? "unknown"}); saved to ${file} only`
      : `saved to ${file}`;
  ctx.result(
    {
      leaseId: id,
      volume: opts.volume,
      bytes: bytes.length,
      file,
      stored: stored !== null,
      manifestPath: stored?.manifestPath ?? null,
      storeError,
    },
    () => `volume ${opts.volume} of lease ${id}: ${bytes.length} bytes; ${where}`,
  );
}
