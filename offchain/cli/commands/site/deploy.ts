/** `strata site deploy <dir>` and `strata site update <dir>`: publish a version of a site. */
import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import type { Command } from "commander";
import { computeMarketOf, leaseStatus } from "../../../sdk/compute/market.js";
import { closeReasonIndex } from "../../../sdk/compute/orders.js";
import { closeReasonFor } from "../../../sdk/compute/tenantRules.js";
import { StrataError } from "../../../sdk/errors.js";
import { fetchSite } from "../../../sdk/sites/client.js";
import { SITE_CONFIG_FILE } from "../../../sdk/sites/manifest.js";
import { planSite, type SiteInputFile } from "../../../sdk/sites/plan.js";
import { SITE_NAME_PATTERN, siteIdOf, type SiteRecord } from "../../../sdk/sites/record.js";
import type { CliContext } from "../../context.js";
import { collectInputs } from "../../files/inputs.js";
import { decimalAmount, positiveInt } from "../../parse.js";
import type { Runner } from "../../runner.js";
import { startBackend, type StartedBackend } from "./backend.js";
import {
  agreePermanentCopy,
  MAX_BACKEND_URL,
  siteArchive,
  storePermanentCopy,
  type AgreedPermanentCopy,
} from "./permanent.js";
import { signAndPost, storeManifestPath, storeSiteFiles } from "./publish.js";
import { currentManifest, readSiteState, writeSiteState, SITES_DIR, type SiteState } from "./state.js";
import { confirmTransaction } from "../../../sdk/chain/confirm.js";

export interface DeployOptions {
  name?: string;
  backend?: string;
  backendMaxPrice?: string;
  backendDeposit?: string;
  backendTimeout: number;
  permanent?: boolean;
  yes?: boolean;
  maxPayment?: string;
  replicas: number;
  providers?: string[];
  duration: number;
  applyTimeout: number;
  sitesDir: string;
}

/** Options deploy and update share. */
export function publishOptions(command: Command): Command {
  return command
    .option(
      "--name <name>",
      "the site's name (default: the folder's name); with your address it makes the site id",
    )
    .option("--backend <workload.json>", "run this workload as the site's backend (a compute lease)")
    .option("--backend-max-price <tokens/hour>", "highest backend price (default: the workload's pricing)")
    .option("--backend-deposit <tokens>", "backend deposit (default: the workload's pricing)")
    .option(
      "--backend-timeout <seconds>",
      "how long to wait for a bid, then for the backend to answer",
      positiveInt,
      180,
    )
    .option(
      "--permanent",
      "also keep this version permanently, paid once (docs/SPEC.md §17, permanent copy): every file and the " +
        "site manifest packed into one archive stored as a permanent file, whose id the signed record carries; the " +
        "quote is shown and confirmed before anything is stored or paid. The site is still served from the public " +
        "replicas",
    )
    .option("--yes", "with --permanent: pay the quote without asking")
    .option(
      "--max-payment <amount>",
      "with --permanent: most paid for the permanent copy, in tokens",
      decimalAmount,
    )
    .option("--duration <periods>", "proving periods of storage to pay ahead", positiveInt, 24)
    .option(
      "--apply-timeout <seconds>",
      "how long to wait for providers to apply the stored files",
      positiveInt,
      300,
    )
    .option("--sites-dir <dir>", "where the CLI keeps what it knows of your sites", SITES_DIR);
}

/** The site's files read from `dir`, named by their path inside it. */
async function readSiteFiles(ctx: CliContext, dir: string): Promise<SiteInputFile[]> {
  const inputs = await collectInputs([dir]);
  const prefix = `${basename(resolve(dir))}/`;
  const files: SiteInputFile[] = [];
  for (const file of inputs.files) {
    const path = file.name.startsWith(prefix) ? file.name.slice(prefix.length) : file.name;
    if (path === SITE_CONFIG_FILE) {
      ctx.note(`${SITE_CONFIG_FILE} in ${dir} is replaced by the one the deploy writes`);
      continue;
    }
    files.push({ path, bytes: new Uint8Array(await readFile(file.path)) });
  }
  if (files.length === 0) throw new StrataError("INVALID_ARGUMENT", `${dir} has no files to publish`);
  return files;
}

function defaultName(dir: string): string {
  return basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 64);
}

/** The highest version any of `endpoints` holds of the site (0 when none). */
async function highestServedVersion(
  ctx: CliContext,
  siteId: string,
  endpoints: readonly string[],
): Promise<number> {
  const held = await Promise.all(
    endpoints.map((endpoint) => fetchSite(endpoint, siteId, { fetch: ctx.io.fetch }).catch(() => null)),
  );
  return held.reduce((max, site) => Math.max(max, Number(site?.record.version ?? 0n)), 0);
}

export async function publish(
  ctx: CliContext,
  dir: string,
  opts: DeployOptions,
  mode: "deploy" | "update",
): Promise<void> {
  if (opts.permanent !== true && (opts.yes === true || opts.maxPayment !== undefined)) {
    throw new StrataError("INVALID_ARGUMENT", "--yes and --max-payment go with --permanent");
  }
  const name = opts.name ?? defaultName(dir);
  if (!SITE_NAME_PATTERN.test(name)) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `site name ${JSON.stringify(name)} must match ${SITE_NAME_PATTERN.source}`,
      {
        details: "give --name",
      },
    );
  }
  const files = await readSiteFiles(ctx, dir);
  const { chain, signer, market } = await ctx.signed();
  const owner = await signer.getAddress();
  const siteId = siteIdOf(owner, name);
  const sitesDir = resolve(opts.sitesDir);
  const state = await readSiteState(sitesDir, siteId);
  if (mode === "deploy" && state !== null && !state.removed) {
    throw new StrataError("INVALID_ARGUMENT", `site ${name} (${siteId}) is already deployed`, {
      details: `publish a new version with strata site update ${dir}${opts.name === undefined ? "" : ` --name ${name}`}`,
    });
  }
  if (mode === "update" && (state === null || state.removed)) {
    throw new StrataError("SITE_NOT_FOUND", `no deployed site ${name} (${siteId}) in ${sitesDir}`, {
      details: "deploy it first: strata site deploy <dir>",
    });
  }
  const pinned = mode === "update" && state !== null ? state.providers : null;
  const served = await highestServedVersion(
    ctx,
    siteId,
    (pinned ?? state?.providers ?? []).map((p) => p.endpoint),
  );
  const version = Math.max(served, ...(state?.versions.map((v) => v.version) ?? [0])) + 1;
  const previousBackend = state !== null && !state.removed ? state.backend : null;
  const configFile = (backendUrl: string | null): SiteInputFile => ({
    path: SITE_CONFIG_FILE,
    bytes: new TextEncoder().encode(JSON.stringify({ backend: backendUrl, siteId, version }, null, 2) + "\n"),
  });

  // The permanent copy is agreed before anything is spent; a new backend's address is not known yet, so the
  // archive is sized with the longest address a record allows.
  let agreed: AgreedPermanentCopy | null = null;
  if (opts.permanent === true) {
    const url = opts.backend !== undefined ? "x".repeat(MAX_BACKEND_URL) : (previousBackend?.url ?? null);
    const bound = [...files, configFile(url)];
    const boundPlan = await planSite(bound, null);
    agreed = await agreePermanentCopy(ctx, name, siteArchive(boundPlan, bound).length, {
      ...(opts.yes === undefined ? {} : { yes: opts.yes }),
      ...(opts.maxPayment === undefined ? {} : { maxPayment: opts.maxPayment }),
    });
  }

  let backend: StartedBackend | null = null;
  if (opts.backend !== undefined) {
    backend = await startBackend(ctx, opts.backend, {
      ...(opts.backendMaxPrice === undefined ? {} : { maxPrice: opts.backendMaxPrice }),
      ...(opts.backendDeposit === undefined ? {} : { deposit: opts.backendDeposit }),
      timeout: opts.backendTimeout,
    });
  }
  const siteBackend =
    backend !== null
      ? { leaseId: backend.leaseId, url: backend.url, provider: backend.provider }
      : previousBackend === null
        ? null
        : {
            leaseId: BigInt(previousBackend.leaseId),
            url: previousBackend.url,
            provider: previousBackend.provider,
          };
  files.push(configFile(siteBackend?.url ?? null));

  const plan = await planSite(files, currentManifest(state));
  const manifestPath = storeManifestPath(sitesDir, siteId, version);
  const stored = await storeSiteFiles(ctx, plan, {
    replicas: pinned?.length ?? opts.replicas,
    ...(pinned !== null
      ? { providers: pinned.map((p) => p.endpoint) }
      : opts.providers === undefined
        ? {}
        : { providers: opts.providers }),
    periods: BigInt(opts.duration),
    applyTimeoutSeconds: opts.applyTimeout,
    manifestPath,
  });
  const permanentCopy =
    agreed === null ? null : await storePermanentCopy(ctx, agreed, siteArchive(plan, files));
  const providers = stored.placed.map((p) => ({ address: p.provider, endpoint: p.endpoint }));
  const record: SiteRecord = {
    siteId,
    owner,
    name,
    version: BigInt(version),
    rootCid: plan.manifestCid,
    backend: siteBackend === null ? null : { leaseId: siteBackend.leaseId, url: siteBackend.url },
    createdAt: BigInt(Math.floor(Date.now() / 1000)),
    removed: false,
    ...(permanentCopy === null ? {} : { permanentFileId: permanentCopy.fileId }),
  };
  const { posted } = await signAndPost(ctx, record, providers);
  const next: SiteState = {
    siteId,
    name,
    owner,
    chainId: chain.chainId.toString(),
    market: await market.getAddress(),
    providers,
    backend:
      siteBackend === null
        ? null
        : { leaseId: siteBackend.leaseId.toString(), url: siteBackend.url, provider: siteBackend.provider },
    removed: false,
    versions: [
      ...(state?.versions ?? []),
      {
        version,
        rootCid: plan.manifestCid,
        createdAt: Number(record.createdAt),
        storeManifests: [stored.manifestPath],
        ...(permanentCopy === null ? {} : { permanentFileId: permanentCopy.fileId.toString() }),
      },
    ],
    manifest: plan.manifest,
  };
  await writeSiteState(sitesDir, next);

  // A new backend replaces the previous one: the old lease ends once the new version points elsewhere.
  let closedLease: string | null = null;
  if (backend !== null && previousBackend !== null) {
    const compute = computeMarketOf(chain.deployment, signer);
    const before = await leaseStatus(compute, BigInt(previousBackend.leaseId));
    if (before.live !== null) {
      await confirmTransaction(
        await compute.closeLease(before.id, closeReasonIndex(closeReasonFor(before, owner))),
      );
      closedLease = previousBackend.leaseId;
    }
  }
  const serving = posted.filter((p) => p.error === null);
  const paidText = permanentCopy === null ? "" : (await ctx.tokenUnits()).format(permanentCopy.quote.total);
  if (serving.length === 0) ctx.exitCode = 2;
  ctx.result(
    {
      siteId,
      name,
      version,
      rootCid: plan.manifestCid,
      files: Object.keys(plan.manifest.files).length,
      stored: plan.changed.length,
      reused: plan.reused.length,
      storeManifest: stored.manifestPath,
      addresses: serving.map((p) => p.url),
      providers: posted,
      backend:
        siteBackend === null
          ? null
          : { leaseId: siteBackend.leaseId, url: siteBackend.url, provider: siteBackend.provider },
      closedLease,
      permanent:
        permanentCopy === null
          ? null
          : {
              fileId: permanentCopy.fileId,
              txHash: permanentCopy.txHash,
              paid: permanentCopy.quote.total,
              staged: permanentCopy.staged,
              live: permanentCopy.live,
              needed: permanentCopy.needed,
            },
    },
    () => [
      `site ${name} version ${version}: ${Object.keys(plan.manifest.files).length} file(s), ${plan.changed.length} stored, ${plan.reused.length} reused`,
      `  site id ${siteId}`,
      ...posted.map((p) =>
        p.url !== null
          ? `  served at ${p.url}`
          : `  ${p.provider} (${p.endpoint}) refused the record: ${p.error ?? ""}`,
      ),
      ...(siteBackend === null ? [] : [`  backend: ${siteBackend.url} (lease ${siteBackend.leaseId})`]),
      ...(closedLease === null ? [] : [`  the previous backend's lease ${closedLease} was closed`]),
      ...(permanentCopy === null
        ? []
        : [
            `  permanent copy: file ${permanentCopy.fileId}, paid ${paidText} once; its ${permanentCopy.needed} pieces ` +
              "are handed to provider agents, which place them (strata site status shows its solvency)",
          ]),
      ...(serving.length === 0
        ? ["no provider accepted the record: the site is not served (strata site status)"]
        : []),
    ],
  );
}

export function registerSiteDeploy(site: Command, run: Runner): void {
  publishOptions(
    site
      .command("deploy")
      .summary("publish a folder as a website (static files, optional backend lease)")
      .description(
        "publish a folder as a website. With --backend the workload first runs as a compute lease and its address " +
          `goes into ${SITE_CONFIG_FILE} (served with the site: {"backend", "siteId", "version"}), which the pages ` +
          "read to call it. The files are stored as public content (full replicas in the clear, served by content id), " +
          "the site manifest (path -> content id, size, type) with them; the version's record is signed and posted to " +
          "every provider holding the files, and each serves the site at /v1/sites/<id>/",
      )
      .argument(
        "<dir>",
        "the folder to publish (its index.html is the home page; 404.html the not-found page)",
      )
      .option("--replicas <n>", "providers holding a full copy (and serving the site)", positiveInt, 2)
      .option("--providers <list>", "comma-separated provider addresses or endpoints to use", (v: string) =>
        v.split(","),
      ),
  ).action((dir: string, opts: DeployOptions, command: Command) =>
    run(command, (ctx) => publish(ctx, dir, opts, "deploy")),
  );
}

export function registerSiteUpdate(site: Command, run: Runner): void {
  publishOptions(
    site
      .command("update")
      .summary("publish the next version of a site (only changed files are stored)")
      .description(
        "publish the next version of a deployed site: files whose content the previous version has are reused, " +
          "the others are stored with the same providers, and every provider moves to the new version (same site " +
          "id, same addresses). The backend lease carries over unless --backend starts a new one (the old lease is " +
          "then closed)",
      )
      .argument("<dir>", "the folder to publish"),
  ).action((dir: string, opts: DeployOptions, command: Command) =>
    run(command, (ctx) => publish(ctx, dir, { ...opts, replicas: 0 }, "update")),
  );
}
