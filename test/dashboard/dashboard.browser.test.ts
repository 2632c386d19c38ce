/**
 * The dashboard in a real browser: a local chain where the demo's story ran (four provider agents, the worker,
 * a file stored, proofs, a provider losing data and one going offline, two compute leases), then headless
 * Chromium loads the worker's dashboard, checks the figures against the chain, follows links from page to
 * page, does the same with JavaScript disabled, and saves screenshots under .strata/screenshots/dashboard
 * (ignored by git).
 */
import { expect } from "chai";
import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { enableCompute } from "../../scripts/demo/agentsConfig.js";
import { runComputeStory } from "../../scripts/demo/computeStory.js";
import { consoleProgress } from "../../scripts/demo/progress.js";
import { configureStorageOffer, runStorageStory } from "../../scripts/demo/storageStory.js";
import { ROOT, startLocalChain, stopProcess, type LocalChain } from "../../scripts/lib/localChain.js";
import {
  devAddress,
  startAgents,
  startWorker,
  until,
  type RunningAgent,
  type RunningWorker,
} from "../../scripts/lib/localProcesses.js";
import { formatCount, formatTokenAmount, type TokenInfo } from "../../offchain/worker/dashboard/format.js";
import {
  ComputeMarket__factory,
  ProviderRegistry__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
} from "../../typechain-types/index.js";
import { launchChromium, type Browser } from "./browser.js";
import { suiteFailed } from "../helpers/failures.js";

const SCREENSHOTS = path.join(ROOT, ".strata", "screenshots", "dashboard");

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.textContent(selector)) ?? "").trim();
}

describe("dashboard in headless Chromium, after the demo story", function () {
  this.timeout(900_000);
  let chain: LocalChain | undefined;
  const agents: RunningAgent[] = [];
  let worker: RunningWorker | undefined;
  let browser: Browser | undefined;
  let token: TokenInfo;
  const lines: string[] = [];

  before(async function () {
    // Fail first (and fast) when the browser is missing.
    browser = await launchChromium({ javaScript: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
    const local = await startLocalChain();
    chain = local;
    const configure = (config: Record<string, unknown>, index: number): void => {
      configureStorageOffer(config, index);
      enableCompute(config, index);
    };
    agents.push(...(await startAgents(local, [1, 2, 3, 5], { configure })));
    worker = await startWorker(local, 6);
    const progress = consoleProgress((line) => lines.push(line));
    const storage = await runStorageStory({
      chain: local,
      progress,
      agents,
      worker,
      clientAccount: 4,
      clientAddress: devAddress(4),
      file: null,
    });
    await runComputeStory({
      chain: local,
      progress,
      agents: agents.filter((a) => a !== storage.offline),
      worker,
      tenantAccount: 7,
      logDir: local.workDir,
    });
    const tokenContract = TestStablecoin__factory.connect(local.addresses.token, local.provider);
    token = { symbol: await tokenContract.symbol(), decimals: Number(await tokenContract.decimals()) };
  });

  /**
   * Hold the chain still and wait until the worker's index holds every block but the last (it trails the head by
   * its confirmation): the agents and the worker keep sending transactions (proofs, settlements, reports), and the
   * pages and the chain reads compared with them must see the same state.
   */
  async function holdStill(local: LocalChain, url: string): Promise<void> {
    await local.pauseMining();
    const head = await local.provider.getBlockNumber();
    await until("the worker's index to reach the chain's last block", async () => {
      const health = (await (await fetch(`${url}/health`)).json()) as { indexedBlock: number | null };
      return (health.indexedBlock ?? 0) >= head - 1 ? true : undefined;
    });
  }

  after(async function () {
    if (suiteFailed(this)) console.error(lines.join("\n"));
    if (browser) await browser.close();
    if (worker) await stopProcess(worker.process);
    for (const agent of agents) await stopProcess(agent.process);
    if (chain) await chain.stop();
  });

  async function shot(page: Page, name: string): Promise<void> {
    const file = path.join(SCREENSHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size, file).to.be.greaterThan(10_000);
  }

  it("shows the chain's figures and links overview → provider → data set → lease → watcher", async function () {
    if (!browser || !worker || !chain) throw new Error("not started");
    const page = await browser.context.newPage();
    await holdStill(chain, worker.url);
    try {
      await compareWithChain(page, worker, chain);
    } finally {
      await chain.resumeMining();
    }
  });

  async function compareWithChain(page: Page, worker: RunningWorker, chain: LocalChain): Promise<void> {
    const registry = ProviderRegistry__factory.connect(chain.addresses.registry, chain.provider);
    const market = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
    const compute = ComputeMarket__factory.connect(chain.addresses.computeMarket ?? "", chain.provider);
    const response = await page.goto(`${worker.url}/`);
    expect(response?.status()).to.equal(200);
    await shot(page, "overview");
    expect(await text(page, "#data-set-count")).to.equal(String(await market.dataSetCount()));
    const stakes = await Promise.all(agents.map((a) => registry.stakeInfo(a.address)));
    // Proof bonds are the providers' stake too, held by the market.
    const bonds = await Promise.all(agents.map(async (a) => (await market.proofBond(a.address))[0]));
    const total =
      stakes.reduce((s, x) => s + x.free + x.locked + x.unbonding, 0n) + bonds.reduce((s, b) => s + b, 0n);
    expect(await text(page, "#total-stake")).to.equal(formatTokenAmount(total, token));
    expect(await page.locator("#providers tbody tr").count()).to.equal(agents.length);
    expect(Number(await text(page, "#proof-count"))).to.be.at.least(8);
    // Charts are server-rendered SVG with a title per mark.
    expect(await page.locator("figure.chart svg rect").count()).to.be.greaterThan(0);

    // A provider that stored data: its page shows its stake and collateral as the registry holds them.
    const providerLink = page.locator("#providers tbody tr a").first();
    const providerAddress = (await providerLink.getAttribute("title")) ?? "";
    await providerLink.click();
    await page.waitForURL(`**/providers/${providerAddress}`);
    await shot(page, "provider");
    const stake = await registry.stakeInfo(providerAddress);
    const [bond] = await market.proofBond(providerAddress);
    expect(await text(page, "#provider-proof-bond")).to.equal(formatTokenAmount(bond, token));
    expect(await text(page, "#provider-stake")).to.equal(
      formatTokenAmount(stake.free + stake.locked + stake.unbonding + bond, token),
    );
    expect(await text(page, "#provider-locked")).to.equal(formatTokenAmount(stake.locked, token));

    // Its data set: escrow and span as the market holds them.
    await page.goto(`${worker.url}/`);
    const setLink = page.locator("#data-sets tbody tr a").first();
    const setId = BigInt(((await setLink.textContent()) ?? "").trim());
    await setLink.click();
    await page.waitForURL(`**/data-sets/${setId}`);
    await shot(page, "data-set");
    const set = await market.dataSet(setId);
    expect(await text(page, "#data-set-escrow")).to.equal(formatTokenAmount(set.escrow, token));
    expect(await text(page, "#data-set-span")).to.match(new RegExp(`^${formatCount(set.span)} \\(`));

    // A lease: escrow left (none once closed) and how it closed, as the compute market says.
    await page.goto(`${worker.url}/`);
    const leaseLink = page.locator("#leases tbody tr a").first();
    const leaseId = BigInt(((await leaseLink.textContent()) ?? "").trim());
    await leaseLink.click();
    await page.waitForURL(`**/leases/${leaseId}`);
    await shot(page, "lease");
    const lease = await compute.getLease(leaseId);
    expect(await text(page, "#lease-escrow")).to.equal(formatTokenAmount(lease.escrow, token));
    const [closed] = await compute.queryFilter(compute.filters.LeaseClosed(leaseId));
    expect(closed, "the story closes its leases").to.not.equal(undefined);
    if (closed) {
      expect(await text(page, "#lease-close")).to.include(
        `paid ${formatTokenAmount(closed.args.paidToProvider, token)}`,
      );
    }
    expect(await page.locator("figure.chart svg rect").count()).to.be.greaterThan(0);

    // The watcher who reported and closed: its page lists bounties.
    await page.goto(`${worker.url}/watchers`);
    await page.locator(`#watchers a[title="${worker.address}"]`).click();
    await page.waitForURL(`**/watchers/${worker.address}`);
    await shot(page, "watcher");
    expect(await text(page, "#watcher-bounties")).to.not.equal(formatTokenAmount(0n, token));
    expect(await page.locator("#watcher-actions tbody tr").count()).to.be.greaterThan(0);

    // Unknown ids and bad input answer error pages.
    const missing = await page.goto(`${worker.url}/data-sets/999999`);
    expect(missing?.status()).to.equal(404);
    expect(await text(page, "h1")).to.include("404");
    const bad = await page.goto(`${worker.url}/leases/not-a-number`);
    expect(bad?.status()).to.equal(400);
    await page.close();
  }

  it("works with JavaScript disabled: tables and links are plain HTML", async function () {
    if (!worker) throw new Error("not started");
    const noScript = await launchChromium({ javaScript: false });
    try {
      const page = await noScript.context.newPage();
      // Scripting is really off in this context: a page's own script does not run.
      await page.setContent("<title>off</title><script>document.title = 'on'</script>");
      expect(await page.title()).to.equal("off");
      await page.goto(`${worker.url}/`);
      expect(await page.locator("noscript, script").count()).to.equal(0);
      expect(await page.locator("#providers tbody tr").count()).to.equal(agents.length);
      expect(await page.locator("#data-sets tbody tr").count()).to.be.greaterThan(0);
      await shot(page, "overview-no-javascript");
      await page.locator("#leases tbody tr a").first().click();
      await page.waitForURL("**/leases/*");
      expect(await text(page, "h1")).to.match(/^Lease \d+$/);
      expect(await page.locator("#lease-events tbody tr").count()).to.be.greaterThan(0);
    } finally {
      await noScript.close();
    }
  });
});
