/**
 * A website end to end with real processes and a real browser: a local chain, three provider agents with compute
 * enabled, and the `strata` binary. `strata site deploy --backend` publishes scripts/demo/site/ (the demo's site
 * story) with a tiny Node backend run as a compute lease; headless Chromium loads the site from a provider, the
 * page's script reads strata-site.json and calls the backend, and the answer shows on the page. Then `site update`
 * stores only the changed files and keeps the address, `site status` reports the providers and the lease, and
 * `site rm` posts a tombstone, closes the lease and removes the stored files.
 */
import { expect } from "chai";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { consoleProgress } from "../../scripts/demo/progress.js";
import { enableCompute } from "../../scripts/demo/agentsConfig.js";
import { DEMO_SITE_DIR, runSiteStory, type SiteStoryResult } from "../../scripts/demo/siteStory.js";
import { ROOT, run, startLocalChain, stopProcess, type LocalChain } from "../../scripts/lib/localChain.js";
import { CLI, startAgents, strataCli, type RunningAgent } from "../../scripts/lib/localProcesses.js";
import { launchChromium, type Browser } from "../dashboard/browser.js";

const OWNER = 8;
const SCREENSHOTS = path.join(ROOT, ".strata", "screenshots", "site");

describe("a website with a backend, deployed with the CLI and loaded in headless Chromium", function () {
  this.timeout(900_000);
  let chain: LocalChain | undefined;
  const agents: RunningAgent[] = [];
  let browser: Browser | undefined;
  let site: SiteStoryResult;
  const lines: string[] = [];

  const local = (): LocalChain => {
    if (chain === undefined) throw new Error("no chain");
    return chain;
  };
  const strata = (args: string[], okCodes: readonly number[] = [0]) =>
    strataCli(local())(args, OWNER, okCodes);

  before(async function () {
    browser = await launchChromium({ javaScript: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
    chain = await startLocalChain();
    agents.push(...(await startAgents(chain, [1, 2, 3], { configure: enableCompute })));
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") {
      console.error(lines.join("\n"));
      for (const agent of agents) console.error(agent.log.slice(-30).join(""));
    }
  });

  after(async function () {
    await browser?.close();
    for (const agent of agents) await stopProcess(agent.process);
    await chain?.stop();
  });

  it("deploys the site and its backend; the page's script reads strata-site.json and shows the backend's answer", async function () {
    site = await runSiteStory({
      chain: local(),
      progress: consoleProgress((line) => lines.push(line)),
      agents,
      ownerAccount: OWNER,
      workDir: local().workDir,
    });
    if (browser === undefined) throw new Error("no browser");
    const page = await browser.context.newPage();
    for (const address of site.addresses) {
      await page.goto(address);
      await page.waitForFunction(
        "document.getElementById('answer')?.textContent?.includes('Hello from the site backend') === true",
        undefined,
        { timeout: 60_000 },
      );
      expect(await page.textContent("#answer")).to.match(/^Hello from the site backend \(call \d+\)$/);
      expect(await page.textContent("#backend")).to.equal(site.backend);
      expect(await page.title()).to.equal("A site on Strata");
      // The stylesheet loaded with its content type (a wrong one would leave the default colour).
      expect(await page.evaluate("getComputedStyle(document.getElementById('answer')).color")).to.equal(
        "rgb(0, 170, 102)",
      );
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, "home.png") });
    await page.click("a[href='docs/']");
    await page.waitForSelector("h1");
    expect(await page.textContent("h1")).to.equal("Docs");
    const missing = await page.goto(`${site.addresses[0] ?? ""}no/such/page.html`);
    expect(missing?.status()).to.equal(404);
    expect(await page.textContent("h1")).to.equal("Not here");
    await page.close();
  });

  it("site update stores only the changed files, keeps the address and moves every provider to the new version", async function () {
    const dir = path.join(local().workDir, "site-v2");
    cpSync(DEMO_SITE_DIR, dir, { recursive: true });
    writeFileSync(
      path.join(dir, "docs", "index.html"),
      '<!doctype html><html lang="en"><head><meta charset="utf-8" /><title>Docs</title></head><body><h1>Docs, version 2</h1></body></html>\n',
    );
    const before = await fetch(`${site.addresses[0] ?? ""}app.js`);
    const appTag = before.headers.get("etag") ?? "";
    const updated = await strata(["site", "update", dir, "--name", site.name, "--sites-dir", site.sitesDir]);
    expect(updated.version).to.equal(2);
    // docs/index.html and strata-site.json (its version changed) are new; the other four are reused.
    expect(updated.stored).to.equal(2);
    expect(updated.reused).to.equal(4);
    expect(updated.addresses).to.deep.equal(site.addresses);
    for (const address of site.addresses) {
      const docs = await fetch(`${address}docs/`);
      expect(await docs.text()).to.contain("Docs, version 2");
      expect(docs.headers.get("cache-control")).to.equal("no-cache");
      const config = (await (await fetch(`${address}strata-site.json`)).json()) as {
        version: number;
        backend: string;
      };
      expect(config).to.deep.include({ version: 2, backend: site.backend });
      // An unchanged file keeps its content id: a browser's copy revalidates with a 304.
      const app = await fetch(`${address}app.js`, { headers: { "if-none-match": appTag } });
      expect(app.status).to.equal(304);
    }
  });

  it("site status reports each provider's version and the live backend lease", async function () {
    const status = await strata(["site", "status", site.name, "--sites-dir", site.sitesDir]);
    expect(status.version).to.equal("2");
    expect(status.serving).to.equal(site.addresses.length);
    expect(status.backend).to.deep.include({ leaseId: site.leaseId, state: "live" });
    const byId = await strata(["site", "status", site.siteId, "--sites-dir", site.sitesDir]);
    expect(byId.serving).to.equal(site.addresses.length);
    // Known nowhere locally: every registered provider is asked; the one not holding the site says so.
    const elsewhere = await strata([
      "site",
      "status",
      site.siteId,
      "--sites-dir",
      path.join(local().workDir, "none"),
    ]);
    expect(elsewhere.serving).to.equal(site.addresses.length);
    expect((elsewhere.providers as unknown[]).length).to.equal(agents.length);
  });

  it("documents every subcommand and refuses to deploy a site twice", async function () {
    const base = [
      CLI,
      "--rpc",
      local().rpcUrl,
      "--deployment",
      local().deploymentFile,
      "--account",
      String(OWNER),
      "--json",
    ];
    for (const command of ["deploy", "update", "status", "rm"]) {
      const help = await run([CLI, "site", command, "--help"]);
      expect(help.code, command).to.equal(0);
      expect(help.stdout, command).to.contain("Usage: strata site " + command);
    }
    const again = await run([
      ...base,
      "site",
      "deploy",
      DEMO_SITE_DIR,
      "--name",
      site.name,
      "--sites-dir",
      site.sitesDir,
    ]);
    expect(again.code).to.equal(1);
    expect((JSON.parse(again.stdout) as { error: { code: string } }).error.code).to.equal("INVALID_ARGUMENT");
  });

  it("site rm posts a tombstone, closes the backend lease and removes the stored files; status then exits 2", async function () {
    const removed = await strata(["site", "rm", site.name, "--sites-dir", site.sitesDir]);
    expect(removed.version).to.equal(3);
    expect(removed.failures).to.deep.equal([]);
    expect(removed.leaseClosed).to.equal(site.leaseId);
    expect((removed.dataSets as unknown[]).length).to.be.greaterThan(0);
    for (const address of site.addresses) expect((await fetch(address)).status).to.equal(410);
    const status = await strata(["site", "status", site.name, "--sites-dir", site.sitesDir], [2]);
    expect(status.removed).to.equal(true);
    expect(status.serving).to.equal(0);
    expect(status.backend).to.equal(null);
  });
});
