/**
 * The website half of the demo, with real processes: a site owner publishes scripts/demo/site/ with a backend.
 * `strata site deploy --backend` orders compute for a tiny Node server, accepts the cheapest bid, waits for the
 * server to answer through its provider's ingress, writes its address into strata-site.json, stores the pages as
 * public content with two providers and posts the signed version record to both; each serves the site at
 * /v1/sites/<id>/. The story checks the pages, their content types and the backend's answer over HTTP.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LocalChain } from "../lib/localChain.js";
import { devAddress, strataCli, until, type RunningAgent } from "../lib/localProcesses.js";
import type { Progress } from "./progress.js";

/** The site's files (index.html calls the backend named in strata-site.json). */
export const DEMO_SITE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "site");

/** The backend: a Node HTTP server that counts its calls and answers JSON any page may read (CORS). */
export const SITE_BACKEND_WORKLOAD = {
  version: 2,
  services: {
    api: {
      run: {
        kind: "node",
        script:
          "let calls = 0;\n" +
          "require('http').createServer((req, res) => { calls++; res.writeHead(200, { 'content-type': 'application/json', " +
          "'access-control-allow-origin': '*' }); res.end(JSON.stringify({ message: 'Hello from the site backend', calls })); })" +
          ".listen(8080, '127.0.0.1');",
      },
      resources: { cpuMillicores: 250, memoryMiB: 192 },
      expose: [8080],
      restart: "on-failure",
    },
  },
  pricing: { maxPricePerHour: "40", deposit: "50" },
};

export interface SiteStoryInput {
  chain: LocalChain;
  progress: Progress;
  /** Running agents with compute enabled (at least `replicas`). */
  agents: RunningAgent[];
  ownerAccount: number;
  /** Folder for the workload file and the CLI's site state. */
  workDir: string;
  siteDir?: string;
  name?: string;
  replicas?: number;
}

export interface SiteStoryResult {
  siteId: string;
  name: string;
  addresses: string[];
  backend: string;
  leaseId: string;
  sitesDir: string;
}

export async function runSiteStory(input: SiteStoryInput): Promise<SiteStoryResult> {
  const p: Progress = input.progress;
  const strata = strataCli(input.chain);
  const sitesDir = path.join(input.workDir, "sites");
  const name = input.name ?? "demo-site";
  p.step("A website: static pages as public files on two providers, its backend as a compute lease");
  await strata(["dev", "mint", "1000", "--to", devAddress(input.ownerAccount)], 0);
  const workload = path.join(input.workDir, "site-backend.json");
  writeFileSync(workload, JSON.stringify(SITE_BACKEND_WORKLOAD, null, 2));
  const deployed = await strata(
    [
      "site",
      "deploy",
      input.siteDir ?? DEMO_SITE_DIR,
      "--name",
      name,
      "--backend",
      workload,
      "--replicas",
      String(input.replicas ?? 2),
      "--providers",
      input.agents.map((a) => a.endpoint).join(","),
      "--sites-dir",
      sitesDir,
    ],
    input.ownerAccount,
  );
  const addresses = deployed.addresses as string[];
  const backend = deployed.backend as { leaseId: string; url: string; provider: string };
  p.check(
    addresses.length === (input.replicas ?? 2),
    `the site is served by ${addresses.length} provider(s)` +
      (deployed.providers as { endpoint: string; error: string | null }[])
        .filter((r) => r.error !== null)
        .map((r) => `; ${r.endpoint} refused: ${String(r.error)}`)
        .join(""),
  );
  p.detail(
    `site ${name}: id ${String(deployed.siteId)}, version ${String(deployed.version)}, ${String(deployed.files)} files`,
  );
  for (const address of addresses) {
    const page = await fetch(address);
    p.check(page.ok, `${address} answered ${page.status}`);
    p.check(
      page.headers.get("content-type") === "text/html; charset=utf-8",
      `${address} has content type ${page.headers.get("content-type") ?? "none"}`,
    );
    p.check((await page.text()).includes("A site on Strata"), `${address} does not serve the home page`);
    const config = (await (await fetch(`${address}strata-site.json`)).json()) as { backend: string };
    p.check(config.backend === backend.url, `${address}strata-site.json names ${config.backend}`);
    p.detail(`served at ${address}`);
  }
  const answer = await until("the backend to answer", async () => {
    const reply = await fetch(backend.url).catch(() => undefined);
    return reply?.ok === true ? ((await reply.json()) as { message: string }) : undefined;
  });
  p.check(answer.message === "Hello from the site backend", `the backend answered ${JSON.stringify(answer)}`);
  p.detail(`backend: lease ${backend.leaseId} at ${backend.url} (${backend.provider})`);
  return {
    siteId: String(deployed.siteId),
    name,
    addresses,
    backend: backend.url,
    leaseId: backend.leaseId,
    sitesDir,
  };
}
