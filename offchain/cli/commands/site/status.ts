/** `strata site status <id|name>`: the record each provider serves, the versions, the backend lease. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { computeMarketOf, leaseStatus } from "../../../sdk/compute/market.js";
import { StrataError } from "../../../sdk/errors.js";
import { fetchSite, siteUrl } from "../../../sdk/sites/client.js";
import { siteDomain, verifySiteRecord, type SiteRecord } from "../../../sdk/sites/record.js";
import type { StrataChain } from "../../../sdk/chain/connect.js";
import type { CliContext } from "../../context.js";
import type { Runner } from "../../runner.js";
import { permanentCopyStatus } from "./permanent.js";
import { resolveSiteId } from "./resolve.js";
import { readSiteState, SITES_DIR } from "./state.js";

interface StatusOptions {
  providers?: string[];
  sitesDir: string;
}

interface ProviderView {
  endpoint: string;
  version: bigint | null;
  removed: boolean;
  /** The record the provider serves verifies against this chain and market. */
  verified: boolean;
  url: string | null;
  error: string | null;
}

/** The endpoints of every registered provider. */
async function registeredEndpoints(registry: StrataChain["registry"]): Promise<string[]> {
  const count = Number(await registry.providerCount());
  const addresses = await Promise.all(
    Array.from({ length: count }, (_, i) => registry.providerAt(BigInt(i))),
  );
  const infos = await Promise.all([...new Set(addresses)].map((address) => registry.providerInfo(address)));
  return [...new Set(infos.map((info) => info.endpoint).filter((endpoint) => endpoint !== ""))];
}

async function status(ctx: CliContext, ref: string, opts: StatusOptions): Promise<void> {
  const siteId = await resolveSiteId(ctx, ref);
  const state = await readSiteState(resolve(opts.sitesDir), siteId);
  const chain = await ctx.chain();
  let endpoints = [
    ...new Set([...(state?.providers.map((p) => p.endpoint) ?? []), ...(opts.providers ?? [])]),
  ];
  // A site published elsewhere: ask every registered provider.
  if (endpoints.length === 0) endpoints = await registeredEndpoints(chain.registry);
  if (endpoints.length === 0) {
    throw new StrataError("SITE_NOT_FOUND", `no provider is registered to ask about site ${siteId}`);
  }
  const domain = siteDomain(chain.chainId, await chain.market.getAddress());
  let newest: SiteRecord | null = null;
  const views = await Promise.all(
    endpoints.map(async (endpoint): Promise<ProviderView> => {
      try {
        const held = await fetchSite(endpoint, siteId, { fetch: ctx.io.fetch });
        if (held === null)
          return {
            endpoint,
            version: null,
            removed: false,
            verified: false,
            url: null,
            error: "no such site",
          };
        let verified = true;
        try {
          verifySiteRecord(domain, held.record, held.signature);
        } catch {
          verified = false;
        }
        if (verified && (newest === null || held.record.version > newest.version)) newest = held.record;
        return {
          endpoint,
          version: held.record.version,
          removed: held.record.removed,
          verified,
          url: held.record.removed ? null : siteUrl(endpoint, siteId),
          error: null,
        };
      } catch (error) {
        return {
          endpoint,
          version: null,
          removed: false,
          verified: false,
          url: null,
          error: (error as Error).message,
        };
      }
    }),
  );
  const current = newest as SiteRecord | null;
  const serving = views.filter((v) => v.url !== null && v.verified && v.version === current?.version);
  const backendRef = current?.backend ?? null;
  let backend: { leaseId: bigint; url: string; state: "live" | "closed"; closeReason: string | null } | null =
    null;
  if (backendRef !== null) {
    const lease = await leaseStatus(computeMarketOf(chain.deployment, chain.provider), backendRef.leaseId);
    backend = {
      leaseId: backendRef.leaseId,
      url: backendRef.url,
      state: lease.live !== null ? "live" : "closed",
      closeReason: lease.closed?.reason ?? null,
    };
  }
  // The current version's permanent copy (a record signed with --permanent names it).
  const permanent =
    current?.permanentFileId === undefined ? null : await permanentCopyStatus(ctx, current.permanentFileId);
  const permanentGone = permanent?.view.status === "lost" || permanent?.view.status === "abandoned";
  if (serving.length === 0 || backend?.state === "closed" || permanentGone) ctx.exitCode = 2;
  ctx.result(
    {
      siteId,
      name: current?.name ?? state?.name ?? null,
      owner: current?.owner ?? state?.owner ?? null,
      version: current?.version ?? null,
      removed: current?.removed ?? state?.removed ?? false,
      rootCid: current?.rootCid ?? null,
      versions: state?.versions ?? [],
      providers: views,
      serving: serving.length,
      backend,
      permanent: permanent?.json ?? null,
    },
    () => [
      `site ${current?.name ?? state?.name ?? "?"} (${siteId})` +
        (current === null
          ? ": no provider serves a verified record"
          : `: version ${current.version}${current.removed ? " (removed)" : ""}`),
      ...views.map((v) =>
        v.error !== null
          ? `  ${v.endpoint}: ${v.error}`
          : `  ${v.endpoint}: version ${v.version ?? "?"}${v.removed ? " (removed)" : ""}${v.verified ? "" : " (signature does not verify)"}` +
            (v.url === null ? "" : ` at ${v.url}`),
      ),
      ...(state === null
        ? []
        : [`  versions published from here: ${state.versions.map((v) => v.version).join(", ")}`]),
      ...(backend === null
        ? []
        : [
            `  backend lease ${backend.leaseId}: ${backend.state}${backend.closeReason === null ? "" : ` (${backend.closeReason})`} at ${backend.url}`,
          ]),
      ...(permanent?.lines ?? []),
    ],
  );
}

export function registerSiteStatus(site: Command, run: Runner): void {
  site
    .command("status")
    .summary("which providers serve a site, at which version, its backend lease and permanent copy")
    .description(
      "ask each provider of a site (those it was published to from here, and --providers; else every registered " +
        "provider) which version it serves " +
        "and check the record's signature; show the versions, the backend lease and, for a version published with " +
        "--permanent, its permanent copy's solvency (live/needed pieces, principal left, years covered). Exits " +
        "with 2 when no provider serves the current version, the backend lease is closed or the permanent copy " +
        "is lost or abandoned",
    )
    .argument("<site>", "a site id (0x…) or the name of one of your sites")
    .option("--providers <list>", "comma-separated provider endpoints to ask as well", (v: string) =>
      v.split(","),
    )
    .option("--sites-dir <dir>", "where the CLI keeps what it knows of your sites", SITES_DIR)
    .action((ref: string, opts: StatusOptions, command: Command) =>
      run(command, (ctx) => status(ctx, ref, opts)),
    );
}
