/** `strata site rm <id|name>`: a signed tombstone version, the backend lease ended, the stored files removed. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { awaitVersion } from "../../../sdk/client/store.js";
import { removeFile, type DataSetRemoval } from "../../../sdk/client/terminate.js";
import { computeMarketOf, leaseStatus } from "../../../sdk/compute/market.js";
import { closeReasonIndex } from "../../../sdk/compute/orders.js";
import { closeReasonFor } from "../../../sdk/compute/tenantRules.js";
import { StrataError } from "../../../sdk/errors.js";
import { loadManifest } from "../../../sdk/manifest/manifest.js";
import { fetchSite } from "../../../sdk/sites/client.js";
import type { SiteRecord } from "../../../sdk/sites/record.js";
import type { CliContext } from "../../context.js";
import { positiveInt } from "../../parse.js";
import type { Runner } from "../../runner.js";
import { signAndPost } from "./publish.js";
import { resolveSiteId } from "./resolve.js";
import { readSiteState, writeSiteState, SITES_DIR } from "./state.js";
import { confirmTransaction } from "../../../sdk/chain/confirm.js";

interface RmOptions {
  applyTimeout: number;
  sitesDir: string;
}

async function remove(ctx: CliContext, ref: string, opts: RmOptions): Promise<void> {
  const siteId = await resolveSiteId(ctx, ref);
  const sitesDir = resolve(opts.sitesDir);
  const state = await readSiteState(sitesDir, siteId);
  if (state === null) {
    throw new StrataError("SITE_NOT_FOUND", `site ${siteId} was not published from here (${sitesDir})`);
  }
  const { chain, signer, market } = await ctx.signed();
  const owner = await signer.getAddress();
  const held = await Promise.all(
    state.providers.map((p) => fetchSite(p.endpoint, siteId, { fetch: ctx.io.fetch }).catch(() => null)),
  );
  const served = held.reduce((max, site) => Math.max(max, Number(site?.record.version ?? 0n)), 0);
  const version = Math.max(served, ...state.versions.map((v) => v.version)) + 1;
  const tombstone: SiteRecord = {
    siteId,
    owner,
    name: state.name,
    version: BigInt(version),
    rootCid: "",
    backend: null,
    createdAt: BigInt(Math.floor(Date.now() / 1000)),
    removed: true,
  };
  const { posted } = await signAndPost(ctx, tombstone, state.providers);
  const failures: string[] = posted
    .filter((p) => p.error !== null)
    .map((p) => `${p.endpoint}: ${p.error ?? ""}`);

  let leaseClosed: string | null = null;
  if (state.backend !== null) {
    const compute = computeMarketOf(chain.deployment, signer);
    const lease = await leaseStatus(compute, BigInt(state.backend.leaseId));
    if (lease.live !== null) {
      await confirmTransaction(
        await compute.closeLease(lease.id, closeReasonIndex(closeReasonFor(lease, owner))),
      );
      leaseClosed = state.backend.leaseId;
    }
  }

  const removals: DataSetRemoval[] = [];
  for (const path of state.versions.flatMap((v) => v.storeManifests)) {
    try {
      const manifest = await loadManifest(path);
      for (const removal of await removeFile(manifest, {
        signer,
        chainId: chain.chainId,
        market,
        agentFor: (endpoint) => ctx.agent(endpoint),
      })) {
        removals.push(removal);
        if (removal.action === "pieces-removed") {
          await awaitVersion(market, removal.dataSetId, removal.version, {
            sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
            now: Date.now,
            timeoutMs: opts.applyTimeout * 1000,
            pollMs: 1000,
          });
        }
      }
    } catch (error) {
      failures.push(`${path}: ${(error as Error).message}`);
    }
  }
  await writeSiteState(sitesDir, {
    ...state,
    removed: true,
    backend: null,
    versions: [
      ...state.versions,
      { version, rootCid: "", createdAt: Number(tombstone.createdAt), storeManifests: [] },
    ],
    manifest: null,
  });
  if (failures.length > 0) ctx.exitCode = 2;
  ctx.result(
    { siteId, name: state.name, version, tombstones: posted, leaseClosed, dataSets: removals, failures },
    () => [
      `site ${state.name} (${siteId}) removed: tombstone version ${version} posted to ${posted.length - posted.filter((p) => p.error !== null).length} of ${posted.length} provider(s)`,
      ...(leaseClosed === null ? [] : [`  backend lease ${leaseClosed} closed`]),
      ...removals.map((d) =>
        d.action === "pieces-removed"
          ? `  data set #${d.dataSetId}: pieces removed (version ${d.version})`
          : d.action === "terminated"
            ? `  data set #${d.dataSetId}: terminated (its unstreamed escrow returns once it ends: strata withdraw)`
            : `  data set #${d.dataSetId}: had already ended`,
      ),
      ...failures.map((f) => `  not done: ${f}`),
    ],
  );
}

export function registerSiteRemove(site: Command, run: Runner): void {
  site
    .command("rm")
    .summary("stop serving a site: signed tombstone, backend lease closed, stored files removed")
    .description(
      "remove a site: a signed tombstone version goes to every provider serving it (they stop serving it and refuse " +
        "older versions), its backend lease is closed, and the pieces of every version's files leave their data " +
        "sets (as strata rm does). Exits with 2 when some part could not be done (run it again)",
    )
    .argument("<site>", "a site id (0x…) or the name of one of your sites")
    .option(
      "--apply-timeout <seconds>",
      "how long to wait for a provider to apply a removal",
      positiveInt,
      300,
    )
    .option("--sites-dir <dir>", "where the CLI keeps what it knows of your sites", SITES_DIR)
    .action((ref: string, opts: RmOptions, command: Command) =>
      run(command, (ctx) => remove(ctx, ref, opts)),
    );
}
