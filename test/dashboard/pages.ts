/**
 * The dashboard's pages checked in a real browser against the chain they describe: figures read from the contracts,
 * links followed from page to page, error pages, and the same pages with JavaScript disabled. Screenshots go under
 * .strata/screenshots/dashboard (ignored by git). Used by the demo's end-to-end test on the chain the demo's story
 * ran on (`npm run demo -- --stay` keeps it up).
 */
import { expect } from "chai";
import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import type { JsonRpcProvider } from "ethers";
import type { Page } from "playwright-core";
import { pauseMining, resumeMining, ROOT } from "../../scripts/lib/localChain.js";
import { until } from "../../scripts/lib/localProcesses.js";
import { formatCount, formatTokenAmount, type TokenInfo } from "../../offchain/worker/dashboard/format.js";
import {
  ComputeMarket__factory,
  ProviderRegistry__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
} from "../../typechain-types/index.js";
import { launchChromium, type Browser } from "./browser.js";

const SCREENSHOTS = path.join(ROOT, ".strata", "screenshots", "dashboard");

/** What the pages are checked against: the worker serving them and the chain it indexes. */
export interface DashboardUnderTest {
  /** The worker's base URL (no trailing slash). */
  url: string;
  /** The worker's address (the watcher that reported and closed). */
  worker: string;
  /** Every registered provider. */
  providers: readonly string[];
  provider: JsonRpcProvider;
  addresses: { token: string; registry: string; market: string; computeMarket?: string };
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.textContent(selector)) ?? "").trim();
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  expect(statSync(file).size, file).to.be.greaterThan(10_000);
}

async function tokenOf(d: DashboardUnderTest): Promise<TokenInfo> {
  const token = TestStablecoin__factory.connect(d.addresses.token, d.provider);
  return { symbol: await token.symbol(), decimals: Number(await token.decimals()) };
}

/**
 * Run `check` with the chain held still: no block is mined (the agents and the worker keep sending proofs,
 * settlements and reports) and the worker's index holds every block but the last (it trails the head by its
 * confirmation), so that the pages and the chain reads compared with them see the same state. A Hardhat node.
 */
async function heldStill<T>(d: DashboardUnderTest, check: () => Promise<T>): Promise<T> {
  await pauseMining(d.provider);
  try {
    const head = await d.provider.getBlockNumber();
    await until("the worker's index to reach the chain's last block", async () => {
      const health = (await (await fetch(`${d.url}/health`)).json()) as { indexedBlock: number | null };
      return (health.indexedBlock ?? 0) >= head - 1 ? true : undefined;
    });
    return await check();
  } finally {
    await resumeMining(d.provider, "hardhat");
  }
}

/** Overview → provider → data set → lease → watcher, each page's figures against the contracts; error pages. */
export async function checkDashboardAgainstChain(browser: Browser, d: DashboardUnderTest): Promise<void> {
  const token = await tokenOf(d);
  const page = await browser.context.newPage();
  await heldStill(d, async () => {
    const registry = ProviderRegistry__factory.connect(d.addresses.registry, d.provider);
    const market = StorageMarket__factory.connect(d.addresses.market, d.provider);
    const compute = ComputeMarket__factory.connect(d.addresses.computeMarket ?? "", d.provider);
    const response = await page.goto(`${d.url}/`);
    expect(response?.status()).to.equal(200);
    await shot(page, "overview");
    expect(await text(page, "#data-set-count")).to.equal(String(await market.dataSetCount()));
    const stakes = await Promise.all(d.providers.map((a) => registry.stakeInfo(a)));
    // Proof bonds are the providers' stake too, held by the market.
    const bonds = await Promise.all(d.providers.map(async (a) => (await market.proofBond(a))[0]));
    const total =
      stakes.reduce((s, x) => s + x.free + x.locked + x.unbonding, 0n) + bonds.reduce((s, b) => s + b, 0n);
    expect(await text(page, "#total-stake")).to.equal(formatTokenAmount(total, token));
    expect(await page.locator("#providers tbody tr").count()).to.equal(d.providers.length);
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
    await page.goto(`${d.url}/`);
    const setLink = page.locator("#data-sets tbody tr a").first();
    const setId = BigInt(((await setLink.textContent()) ?? "").trim());
    await setLink.click();
    await page.waitForURL(`**/data-sets/${setId}`);
    await shot(page, "data-set");
    const set = await market.dataSet(setId);
    expect(await text(page, "#data-set-escrow")).to.equal(formatTokenAmount(set.escrow, token));
    expect(await text(page, "#data-set-span")).to.match(new RegExp(`^${formatCount(set.span)} \\(`));

    // A lease the story closed (the site's backend lease stays open): escrow left (none once closed) and how it
    // closed, as the compute market says.
    await page.goto(`${d.url}/`);
    const leaseLinks = page.locator("#leases tbody tr td:first-child a");
    const ids = (await leaseLinks.allTextContents()).map((t) => BigInt(t.trim()));
    const closedIds = new Set(
      (await compute.queryFilter(compute.filters.LeaseClosed())).map((e) => e.args.leaseId),
    );
    const index = ids.findIndex((id) => closedIds.has(id));
    expect(index, "the story closes leases").to.be.at.least(0);
    const leaseLink = leaseLinks.nth(index);
    const leaseId = ids[index] ?? 0n;
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
    await page.goto(`${d.url}/watchers`);
    await page.locator(`#watchers a[title="${d.worker}"]`).click();
    await page.waitForURL(`**/watchers/${d.worker}`);
    await shot(page, "watcher");
    expect(await text(page, "#watcher-bounties")).to.not.equal(formatTokenAmount(0n, token));
    expect(await page.locator("#watcher-actions tbody tr").count()).to.be.greaterThan(0);
  });

  // Unknown ids and bad input answer error pages.
  const missing = await page.goto(`${d.url}/data-sets/999999`);
  expect(missing?.status()).to.equal(404);
  expect(await text(page, "h1")).to.include("404");
  const bad = await page.goto(`${d.url}/leases/not-a-number`);
  expect(bad?.status()).to.equal(400);
  await page.close();
}

/** With scripting really off: the tables and links are plain HTML. */
export async function checkDashboardWithoutJavaScript(d: DashboardUnderTest): Promise<void> {
  const noScript = await launchChromium({ javaScript: false });
  try {
    const page = await noScript.context.newPage();
    // Scripting is really off in this context: a page's own script does not run.
    await page.setContent("<title>off</title><script>document.title = 'on'</script>");
    expect(await page.title()).to.equal("off");
    await page.goto(`${d.url}/`);
    expect(await page.locator("noscript, script").count()).to.equal(0);
    expect(await page.locator("#providers tbody tr").count()).to.equal(d.providers.length);
    expect(await page.locator("#data-sets tbody tr").count()).to.be.greaterThan(0);
    await shot(page, "overview-no-javascript");
    await page.locator("#leases tbody tr a").first().click();
    await page.waitForURL("**/leases/*");
    expect(await text(page, "h1")).to.match(/^Lease \d+$/);
    expect(await page.locator("#lease-events tbody tr").count()).to.be.greaterThan(0);
  } finally {
    await noScript.close();
  }
}
