/**
 * `strata site deploy --permanent` end to end with real processes: a local chain, three provider agents taking
 * permanent pieces and compute leases, and the `strata` binary. A declined quote (no --yes, nothing typed) and a
 * quote above --max-payment store and pay nothing, and order no backend. With --yes and --backend the site is served
 * from its public replicas as before, its backend answers, and the version's archive is also a permanent file paid
 * once: the signed record every provider serves names it, `site status` shows its solvency, and once its pieces are
 * live the exact site comes back from the record alone (`strata get --permanent <record's file id>`, checked against
 * the record's root content id), naming its backend. `site update --permanent` names the next version's own
 * permanent file.
 */
import { expect } from "chai";
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  ComputeMarket__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
} from "../../typechain-types/index.js";
import { enableCompute, enablePermanent } from "../../scripts/demo/agentsConfig.js";
import { advanceUntilPermanentLive, permanentOf } from "../../scripts/demo/permanentStory.js";
import { DEMO_SITE_DIR, SITE_BACKEND_WORKLOAD } from "../../scripts/demo/siteStory.js";
import { run, startLocalChain, stopProcess, type LocalChain } from "../../scripts/lib/localChain.js";
import {
  CLI,
  devAddress,
  agentComplaints,
  startAgents,
  strataCli,
  until,
  type RunningAgent,
} from "../../scripts/lib/localProcesses.js";
import { fetchSite } from "../../offchain/sdk/sites/client.js";
import { unpackSiteArchive } from "../../offchain/sdk/sites/archive.js";
import { siteDomain, siteIdOf, verifySiteRecord } from "../../offchain/sdk/sites/record.js";
import { suiteFailed } from "../helpers/failures.js";

const OWNER = 6;
const NAME = "forever";

/** Every file under `dir`, by its path inside it. */
function filesOf(dir: string, prefix = ""): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) {
      for (const [p, bytes] of filesOf(full, `${prefix}${entry}/`)) out.set(p, bytes);
    } else out.set(`${prefix}${entry}`, readFileSync(full));
  }
  return out;
}

describe("e2e: a website kept permanently (site deploy --permanent)", function () {
  this.timeout(900_000);
  let chain: LocalChain | undefined;
  const agents: RunningAgent[] = [];
  const lines: string[] = [];

  const local = (): LocalChain => {
    if (chain === undefined) throw new Error("no chain");
    return chain;
  };
  const strata = async (args: string[], okCodes: readonly number[] = [0]) => {
    const out = await strataCli(local())(args, OWNER, okCodes);
    lines.push(`strata ${args.join(" ")}: ${JSON.stringify(out)}`);
    return out;
  };
  /** The raw run of the binary, `--json` unless `human`. */
  const raw = async (args: string[], human = false) => {
    const c = local();
    const base = [CLI, "--rpc", c.rpcUrl, "--deployment", c.deploymentFile, "--account", String(OWNER)];
    const result = await run([...base, ...(human ? [] : ["--json"]), ...args]);
    lines.push(`strata ${args.join(" ")} (${result.code}): ${result.stdout}${result.stderr}`);
    return result;
  };
  /** A refusal: exit code 1 and the error's code. */
  const refused = async (args: string[]): Promise<{ code: string; stderr: string }> => {
    const result = await raw(args);
    expect(result.code, result.stderr).to.equal(1);
    return {
      code: (JSON.parse(result.stdout) as { error: { code: string } }).error.code,
      stderr: result.stderr,
    };
  };
  const siteId = siteIdOf(devAddress(OWNER), NAME);
  let sitesDir = "";
  let firstFileId = 0n;
  let backendUrl = "";
  let backendLease = "";
  /** The site's backend workload (written by the first test). */
  const workloadFile = (): string => path.join(local().workDir, "site-backend.json");

  before(async function () {
    chain = await startLocalChain();
    sitesDir = path.join(chain.workDir, "sites");
    // Permanent pieces and compute leases: the accepted deploy also starts the site's backend.
    agents.push(
      ...(await startAgents(chain, [1, 2, 3], {
        configure: (config, index) => {
          enablePermanent(config, index);
          enableCompute(config, index);
        },
      })),
    );
    await strataCli(chain)(["dev", "mint", "1000", "--to", devAddress(OWNER)], 0);
  });

  after(async function () {
    if (suiteFailed(this)) {
      console.error(lines.join("\n"));
      for (const agent of agents) console.error(agent.log.slice(-30).join(""));
    }
    for (const agent of agents) await stopProcess(agent.process);
    await chain?.stop();
  });

  it("a declined quote, or one above --max-payment, stores nothing and pays nothing", async function () {
    const c = local();
    const token = TestStablecoin__factory.connect(c.addresses.token, c.provider);
    const market = StorageMarket__factory.connect(c.addresses.market, c.provider);
    const perm = permanentOf(c);
    const before = {
      balance: await token.balanceOf(devAddress(OWNER)),
      files: await perm.fileCount(),
      dataSets: await market.dataSetCount(),
    };
    const base = ["site", "deploy", DEMO_SITE_DIR, "--name", NAME, "--sites-dir", sitesDir, "--permanent"];
    // No --yes and nothing typed on stdin: the quote is shown in tokens, and declined.
    const declined = await refused(base);
    expect(declined.code).to.equal("STORE_DECLINED");
    expect(declined.stderr).to.match(/one-time price [0-9.]+ \S+ = principal/);
    expect(declined.stderr).to.match(/Pay [0-9.]+ \S+ once\? \[y\/N\]/);
    // With a backend to start, the quote is asked for before the lease is ordered: declining orders nothing.
    const workload = workloadFile();
    writeFileSync(workload, JSON.stringify(SITE_BACKEND_WORKLOAD));
    const withBackend = await refused([...base, "--backend", workload]);
    expect(withBackend.code).to.equal("STORE_DECLINED");
    expect(withBackend.stderr).to.not.contain("backend: order");
    expect((await refused([...base, "--yes", "--max-payment", "0.000001"])).code).to.equal(
      "AMOUNT_OUT_OF_RANGE",
    );
    expect((await refused(["site", "deploy", DEMO_SITE_DIR, "--name", NAME, "--yes"])).code).to.equal(
      "INVALID_ARGUMENT",
    );
    expect(await token.balanceOf(devAddress(OWNER))).to.equal(before.balance);
    expect(await perm.fileCount()).to.equal(before.files);
    expect(await market.dataSetCount()).to.equal(before.dataSets);
    expect(existsSync(path.join(sitesDir, `${siteId}.json`))).to.equal(false);
    for (const agent of agents) expect(await fetchSite(agent.endpoint, siteId)).to.equal(null);
  });

  it("deploy --permanent --backend --yes pays the archive once, starts the backend, and the record names both", async function () {
    const c = local();
    const perm = permanentOf(c);
    const deployed = await strata([
      "site",
      "deploy",
      DEMO_SITE_DIR,
      "--name",
      NAME,
      "--sites-dir",
      sitesDir,
      "--permanent",
      "--backend",
      workloadFile(),
      "--yes",
    ]);
    const backend = deployed.backend as { leaseId: string; url: string };
    backendUrl = backend.url;
    backendLease = backend.leaseId;
    const answer = await until("the backend to answer", async () => {
      const reply = await fetch(backendUrl).catch(() => undefined);
      return reply?.ok === true ? ((await reply.json()) as { message: string }) : undefined;
    });
    expect(answer.message).to.equal("Hello from the site backend");
    const permanent = deployed.permanent as { fileId: string; paid: string; needed: number };
    firstFileId = BigInt(permanent.fileId);
    expect(firstFileId).to.equal(await perm.fileCount());
    const file = await perm.file(firstFileId);
    expect(file.uploader).to.equal(devAddress(OWNER));
    const [principal, fee] = await perm.quote(file.pieceSpan);
    expect(BigInt(permanent.paid)).to.equal(principal + fee);
    const addresses = deployed.addresses as string[];
    expect(addresses).to.have.length(2);
    // Served from the public replicas, as without --permanent, with the backend's address in strata-site.json.
    for (const address of addresses) {
      expect((await fetch(address)).status).to.equal(200);
      const config = (await (await fetch(`${address}strata-site.json`)).json()) as { backend: string };
      expect(config.backend).to.equal(backendUrl);
    }
    const domain = siteDomain((await c.provider.getNetwork()).chainId, c.addresses.market);
    for (const p of deployed.providers as { endpoint: string }[]) {
      const held = await fetchSite(p.endpoint, siteId);
      expect(held?.record.permanentFileId).to.equal(firstFileId);
      expect(held?.record.rootCid).to.equal(deployed.rootCid);
      if (held !== null) verifySiteRecord(domain, held.record, held.signature);
    }
    const state = JSON.parse(readFileSync(path.join(sitesDir, `${siteId}.json`), "utf8")) as {
      versions: { permanentFileId?: string }[];
    };
    expect(state.versions[0]?.permanentFileId).to.equal(String(firstFileId));
  });

  it("site status shows the permanent copy's solvency: pending, then every piece live and years covered", async function () {
    const pending = await strata(["site", "status", NAME, "--sites-dir", sitesDir]);
    expect(pending.permanent).to.deep.include({ fileId: String(firstFileId), status: "pending", needed: 3 });
    // Every agent holds the site's public files too: none may miss a period while the clock moves.
    const view = await advanceUntilPermanentLive(
      local(),
      firstFileId,
      agents.map((a) => a.address),
      { explain: () => agentComplaints(agents) },
    );
    expect(view.livePieces).to.equal(3);
    // Moving the local clock by proving periods ends the backend's lease (its heartbeats fall behind the jumps):
    // `site status` says so and exits 2, a site whose backend is down; the permanent copy is what this test reads.
    const c = local();
    const compute = ComputeMarket__factory.connect(c.addresses.computeMarket ?? "", c.provider);
    await until("the backend's lease to end", async () =>
      (await compute.queryFilter(compute.filters.LeaseClosed(BigInt(backendLease)))).length > 0
        ? true
        : undefined,
    );
    const live = await strata(["site", "status", NAME, "--sites-dir", sitesDir], [2]);
    expect(live.backend).to.deep.include({ leaseId: backendLease, state: "closed" });
    const solvency = live.permanent as {
      status: string;
      livePieces: number;
      needed: number;
      principal: string;
      principalLeft: string;
      yearsCovered: number;
    };
    expect(solvency).to.deep.include({ status: "active", livePieces: 3, needed: 3 });
    expect(BigInt(solvency.principalLeft) > 0n).to.equal(true);
    expect(BigInt(solvency.principalLeft) <= BigInt(solvency.principal)).to.equal(true);
    expect(solvency.yearsCovered).to.be.greaterThan(0);
    const human = await raw(["site", "status", NAME, "--sites-dir", sitesDir], true);
    expect(human.code).to.equal(2);
    expect(human.stdout).to.contain(`permanent copy: file ${firstFileId}`);
    expect(human.stdout).to.match(
      /active: 3\/3 replicas live .* principal left [0-9.]+ \S+ of [0-9.]+ \S+, covering \d+ years/,
    );
  });

  it("the exact site comes back from the record alone: its permanent file, checked against its root", async function () {
    const held = await fetchSite(agents[0]?.endpoint ?? "", siteId);
    if (held?.record.permanentFileId === undefined) throw new Error("no record naming a permanent file");
    const out = path.join(local().workDir, "site.archive");
    await strata(["get", "--permanent", String(held.record.permanentFileId), "--out", out]);
    const { files } = await unpackSiteArchive(new Uint8Array(readFileSync(out)), held.record.rootCid);
    const original = filesOf(DEMO_SITE_DIR);
    const restored = new Map(files.map((f) => [f.path, Buffer.from(f.bytes)]));
    for (const [p, bytes] of original) expect(restored.get(p), p).to.deep.equal(bytes);
    // The deploy's strata-site.json is the one extra file.
    expect([...restored.keys()].filter((p) => !original.has(p))).to.deep.equal(["strata-site.json"]);
    const config = JSON.parse(restored.get("strata-site.json")?.toString() ?? "{}") as {
      siteId: string;
      backend: string;
    };
    expect(config.siteId).to.equal(siteId);
    expect(config.backend).to.equal(backendUrl); // the kept version names the backend it was deployed with
  });

  it("site update --permanent names the next version's own permanent file", async function () {
    const dir = path.join(local().workDir, "forever-v2");
    cpSync(DEMO_SITE_DIR, dir, { recursive: true });
    writeFileSync(path.join(dir, "docs", "index.html"), "<!doctype html><h1>Docs, version 2</h1>\n");
    const updated = await strata([
      "site",
      "update",
      dir,
      "--name",
      NAME,
      "--sites-dir",
      sitesDir,
      "--permanent",
      "--yes",
    ]);
    expect(updated.version).to.equal(2);
    const fileId = BigInt((updated.permanent as { fileId: string }).fileId);
    expect(fileId).to.not.equal(firstFileId);
    const endpoints = (updated.providers as { endpoint: string }[]).map((p) => p.endpoint);
    expect(endpoints).to.have.length(2);
    for (const endpoint of endpoints) {
      expect((await fetchSite(endpoint, siteId))?.record).to.deep.include({
        version: 2n,
        permanentFileId: fileId,
      });
    }
    const status = await strata(["site", "status", NAME, "--sites-dir", sitesDir], [2]); // the backend ended above
    expect(status.permanent).to.deep.include({ fileId: String(fileId) });
  });
});
