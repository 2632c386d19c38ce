/**
 * Publishing one site version: the changed files and the site manifest packed into one public payload (full
 * replicas in the clear, every file served by its content id), the record signed, and posted to every provider
 * holding the files. An update pins the previous version's providers, so each of them holds every file of the
 * new version (the reused ones from before, the changed ones now).
 */
import { join } from "node:path";
import { ProviderRejectedError } from "../../../sdk/client/agentClient.js";
import { storeFile, type StoreEvent, type StoreResult } from "../../../sdk/client/store.js";
import { StrataError } from "../../../sdk/errors.js";
import { packFiles } from "../../../sdk/files/bundle.js";
import { postSiteRecord, siteUrl } from "../../../sdk/sites/client.js";
import type { SitePlan } from "../../../sdk/sites/plan.js";
import { signSiteRecord, siteDomain, type SiteRecord } from "../../../sdk/sites/record.js";
import type { CliContext } from "../../context.js";
import { formatBytes } from "../../format/units.js";
import { pieceBars } from "../../progress.js";

/** Where the manifest sits in the stored payload (it is found by its content id; the path only names it). */
export const MANIFEST_PATH = ".strata-site/manifest.json";

export interface StoreSiteOptions {
  replicas: number;
  /** Provider addresses or endpoints to use (an update: the previous version's). */
  providers?: string[];
  periods: bigint;
  applyTimeoutSeconds: number;
  manifestPath: string;
}

/** Store the plan's changed files and its manifest as one public payload. */
export async function storeSiteFiles(
  ctx: CliContext,
  plan: SitePlan,
  opts: StoreSiteOptions,
): Promise<StoreResult> {
  const contents = [
    ...plan.changed.map((file) => ({ name: file.path, bytes: file.bytes })),
    { name: MANIFEST_PATH, bytes: plan.manifestBytes },
  ];
  const packed = packFiles(contents);
  const cidOf = (name: string): string => {
    if (name === MANIFEST_PATH) return plan.manifestCid;
    const cid = plan.manifest.files[name]?.cid;
    if (cid === undefined) throw new StrataError("INTERNAL_INVARIANT", `${name} is not in the site manifest`);
    return cid;
  };
  const chain = await ctx.chain();
  const { signer, market, token } = await ctx.signed();
  const bars = pieceBars(ctx.showProgress);
  const onProgress = (event: StoreEvent): void => {
    if (event.type === "selected") ctx.note(`providers: ${event.providers.map((p) => p.address).join(", ")}`);
    else if (event.type === "prepared") {
      ctx.note(
        `${contents.length} file(s) to store (${formatBytes(packed.bytes.length)}), ${plan.reused.length} reused: ` +
          `${event.pieces} full replicas`,
      );
    } else if (event.type === "upload") {
      bars.update(event.piece, event.sent, event.total, `replica ${event.piece}`, "uploading");
    } else if (event.type === "applied") {
      bars.status(event.piece, `on chain: data set #${event.dataSetId} version ${event.version}`);
    } else if (event.type === "retry") {
      bars.log(
        `replica ${event.piece}: ${event.failed} failed (${event.reason}); retrying with ${event.next}`,
      );
    }
  };
  try {
    return await storeFile(
      {
        bytes: packed.bytes,
        fileName: "site",
        k: 1,
        m: opts.replicas - 1,
        public: true,
        replicas: opts.replicas,
        periods: opts.periods,
        maxPricePerTiBMonth: null,
        minCollateralPerTiB: 0n,
        ...(opts.providers === undefined ? {} : { providers: opts.providers }),
        manifestPath: opts.manifestPath,
        applyTimeoutMs: opts.applyTimeoutSeconds * 1000,
        onProgress,
        describeFiles: () =>
          packed.entries.map((entry) => ({ ...entry, id: cidOf(entry.name), public: true })),
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
  } finally {
    bars.stop();
  }
}

export interface PostedSite {
  provider: string;
  endpoint: string;
  url: string | null;
  error: string | null;
}

/** Sign `record` and post it to every provider; a refusal is reported per provider, not thrown. */
export async function signAndPost(
  ctx: CliContext,
  record: SiteRecord,
  providers: readonly { address: string; endpoint: string }[],
): Promise<{ signature: string; posted: PostedSite[] }> {
  const { chain, signer, market } = await ctx.signed();
  const signature = await signSiteRecord(
    signer,
    siteDomain(chain.chainId, await market.getAddress()),
    record,
  );
  const posted = await Promise.all(
    providers.map(async (p): Promise<PostedSite> => {
      try {
        await postWhenHeld(() => postSiteRecord(p.endpoint, record, signature, { fetch: ctx.io.fetch }));
        return {
          provider: p.address,
          endpoint: p.endpoint,
          url: siteUrl(p.endpoint, record.siteId),
          error: null,
        };
      } catch (error) {
        return { provider: p.address, endpoint: p.endpoint, url: null, error: (error as Error).message };
      }
    }),
  );
  return { signature, posted };
}

/** How long a provider may take to see the version's pieces applied on chain before it serves them. */
const CONTENT_WAIT_MS = 60_000;
const CONTENT_POLL_MS = 500;

/**
 * Post, and post again while the provider answers SITE_CONTENT_MISSING: a store returns once the data set's new
 * state is on chain, and a provider serves public files only once its own sync has seen that state applied, a
 * tick or two later. Any other refusal, or the content still missing after CONTENT_WAIT_MS, is final.
 */
async function postWhenHeld<T>(post: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + CONTENT_WAIT_MS;
  for (;;) {
    try {
      return await post();
    } catch (error) {
      const missing = error instanceof ProviderRejectedError && error.agentCode === "SITE_CONTENT_MISSING";
      if (!missing || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, CONTENT_POLL_MS));
    }
  }
}

/** `<sites dir>/<site id>/v<version>.strata.json`: the store manifest of the files a version added. */
export function storeManifestPath(dir: string, siteId: string, version: number): string {
  return join(dir, siteId, `v${version}.strata.json`);
}
