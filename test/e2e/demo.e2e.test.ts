/**
 * The main job end to end: `npm run demo` (scripts/demo.ts) on an embedded node, with its JSON summary read
 * back from the chain. The demo checks every step itself and exits 1 with the reason when one misbehaves; this
 * test also checks the summary it prints. Run with --stay, the demo keeps its chain, agents and worker up: the
 * worker's dashboard is then checked in headless Chromium against the chain the story ran on, and Ctrl-C (SIGINT)
 * stops everything with exit code 0.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { JsonRpcProvider } from "ethers";
import { NODE, ROOT } from "../../scripts/lib/localChain.js";
import { until } from "../../scripts/lib/localProcesses.js";
import { launchChromium, type Browser } from "../dashboard/browser.js";
import {
  checkDashboardAgainstChain,
  checkDashboardWithoutJavaScript,
  type DashboardUnderTest,
} from "../dashboard/pages.js";

interface DemoSummary {
  ok: boolean;
  dataSets: { id: string; state: string; compensation: string; pricePerTiBMonth: string; bytes: string }[];
  repair: { repairer: string; reward: string; providerPaid: string; dataSetId: string };
  permanent: {
    paid: string;
    principal: string;
    pieces: number;
    holders: string[];
    solvency: { principalLeft: string; status: string; livePieces: number; yearsCovered: number };
  };
  proofs: number;
  missedPeriodsReported: number;
  retrievalChallenges: { opened: number; failed: number };
  gas: { operation: string; count: number; averageGas: number }[];
  compute: { leases: { reason: string; closedBy: string }[] };
  site: { siteId: string; addresses: string[]; backend: string; leaseId: string };
  parties: { role: string; address: string }[];
  dashboard: string;
  chain: {
    rpcUrl: string;
    addresses: { token: string; registry: string; market: string; computeMarket?: string };
  };
}
describe("e2e: npm run demo", function () {
  this.timeout(900_000);
  let demo: ChildProcess | undefined;
  let stdout = "";
  let stderr = "";
  let demoSummary: DemoSummary | undefined;
  let browser: Browser | undefined;

  before(async function () {
    // Fail first (and fast) when the browser is missing.
    browser = await launchChromium({ javaScript: true });
    const tsx = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
    const child = spawn(NODE, [tsx, "scripts/demo.ts", "--embedded", "--json", "--stay"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    demo = child;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    // The summary is printed once the story is done; --stay then keeps everything up until Ctrl-C.
    demoSummary = await until(
      "the demo's summary",
      () => {
        if (child.exitCode !== null)
          throw new Error(`demo exited (${child.exitCode}) before its summary:\n${stderr.slice(-6000)}`);
        try {
          return Promise.resolve(JSON.parse(stdout) as DemoSummary);
        } catch {
          return Promise.resolve(undefined);
        }
      },
      840_000,
    );
  });

  after(async function () {
    if (browser) await browser.close();
    if (demo?.exitCode === null) {
      const exited = once(demo, "exit");
      demo.kill("SIGKILL");
      await exited;
    }
  });

  /** The dashboard of the demo's worker and the chain it indexes. */
  const dashboard = (): DashboardUnderTest => {
    const summary = demoSummary;
    if (summary === undefined) throw new Error("no summary");
    const worker = summary.parties.find((p) => p.role === "worker (watcher)");
    return {
      url: summary.dashboard.replace(/\/$/, ""),
      worker: worker?.address ?? "",
      providers: summary.parties.filter((p) => p.role.startsWith("provider")).map((p) => p.address),
      provider: new JsonRpcProvider(summary.chain.rpcUrl, 31337, {
        staticNetwork: true,
        pollingInterval: 250,
      }),
      addresses: summary.chain.addresses,
    };
  };

  it("runs the whole storage, repair, compute and website story and prints a summary read back from the chain", function () {
    const summary = demoSummary;
    if (summary === undefined) throw new Error("no summary");
    expect(summary.ok).to.equal(true);
    // The provider that lost its data is challenged and its data set ends. The offline one fails its samples too:
    // its challenge is enforced once enough time has passed (the repair chapter moves time on), so one or two.
    const failedSets = summary.dataSets.filter((d) => d.state === "ended: retrieval failed");
    expect(failedSets.length).to.be.within(1, 2);
    expect(summary.retrievalChallenges.failed).to.equal(failedSets.length);
    // The file's four data sets, one per repaired piece (client: the mandate's wallet; at most one repair per ended
    // data set: the offline provider's may also end for missed proofs before its challenge is enforced), and one per
    // piece of the permanent file (client: PermanentStorage).
    const endedSets = summary.dataSets.slice(0, 4).filter((d) => d.state.startsWith("ended"));
    // The two providers that lost nothing keep theirs (the demo lets them prove every period its jumps cross).
    const states = summary.dataSets.map((d) => `${d.id}: ${d.state}`).join("; ");
    expect(endedSets.length, `the file's data sets: ${states}`).to.be.within(1, 2);
    const permanentSets = summary.permanent.pieces;
    expect(summary.dataSets.length).to.be.within(5 + permanentSets, 4 + endedSets.length + permanentSets);
    // The data sets still live hold the file's pieces (an ended data set holds nothing).
    const live = summary.dataSets.filter((d) => d.state === "live");
    expect(live.length).to.be.at.least(2);
    // (A repair data set opened near the end may still be waiting for its piece; the chapter's own one holds it.)
    const repairSets = new Set(summary.dataSets.slice(4).map((d) => d.id));
    for (const set of live) if (!repairSets.has(set.id)) expect(set.bytes).to.not.equal("0");
    expect(live.find((d) => d.id === summary.repair.dataSetId)?.bytes).to.not.equal("0");
    expect(summary.proofs).to.be.at.least(8);
    expect(summary.missedPeriodsReported).to.be.at.least(1);
    const worker = summary.parties.find((p) => p.role === "worker (watcher)");
    expect(summary.repair.repairer).to.equal(worker?.address);
    expect(BigInt(summary.repair.reward)).to.be.greaterThan(0n);
    expect(BigInt(summary.repair.providerPaid)).to.be.greaterThan(0n);
    expect(summary.dataSets.map((d) => d.id)).to.include(summary.repair.dataSetId);
    expect(BigInt(summary.permanent.principal)).to.be.greaterThan(0n);
    // Every piece of the permanent file was placed by the agents and proven: the file is active.
    expect(summary.permanent.solvency.status).to.equal("active");
    expect(summary.permanent.solvency.livePieces).to.equal(summary.permanent.pieces);
    expect(new Set(summary.permanent.holders).size).to.equal(summary.permanent.pieces);
    expect(BigInt(summary.permanent.solvency.principalLeft)).to.be.lessThan(
      BigInt(summary.permanent.principal),
    );
    expect(summary.permanent.solvency.yearsCovered).to.equal(200);
    expect(summary.compute.leases.map((l) => l.reason)).to.deep.equal([
      "MissedHeartbeats",
      "InsufficientFunds",
    ]);
    expect(summary.compute.leases[1]?.closedBy).to.equal(worker?.address);
    // The website (checked page by page by the demo itself): one address per provider still up, and a backend.
    expect(summary.site.addresses).to.have.length(2);
    for (const address of summary.site.addresses)
      expect(address).to.contain(`/v1/sites/${summary.site.siteId}/`);
    expect(summary.site.backend).to.contain(`/v1/leases/${summary.site.leaseId}/`);
    const ops = new Map(summary.gas.map((g) => [g.operation, g]));
    for (const op of [
      "StorageMarket.topUp",
      "StorageMarket.createDataSet",
      "StorageMarket.updateDataSets",
      "StorageMarket.submitProof",
      "ComputeMarket.heartbeat",
    ])
      expect(ops.get(op)?.count ?? 0, op).to.be.greaterThan(0);
  });
  it("keeps the dashboard up (--stay): its pages show the chain's figures and link overview → provider → data set → lease → watcher", async function () {
    if (browser === undefined) throw new Error("no browser");
    await checkDashboardAgainstChain(browser, dashboard());
  });

  it("keeps the dashboard up (--stay): with JavaScript disabled, tables and links are plain HTML", async function () {
    await checkDashboardWithoutJavaScript(dashboard());
  });

  it("stops everything on Ctrl-C (SIGINT) with exit code 0, the chain and the dashboard gone", async function () {
    const child = demo;
    const summary = demoSummary;
    if (child === undefined || summary === undefined) throw new Error("no demo");
    const exited = once(child, "exit") as Promise<[number | null, string | null]>;
    expect(stderr).to.contain("press Ctrl-C to stop everything");
    child.kill("SIGINT");
    const [code] = await exited;
    expect(code, stderr.slice(-3000)).to.equal(0);
    expect(stderr).to.contain("Stopping the worker, the agents and the chain.");
    const gone = (url: string) =>
      fetch(url).then(
        () => false,
        () => true,
      );
    expect(await gone(summary.dashboard), "dashboard").to.equal(true);
    expect(await gone(summary.chain.rpcUrl), "chain").to.equal(true);
  });
});
