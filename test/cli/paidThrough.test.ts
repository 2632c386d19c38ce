import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliIo } from "../../offchain/cli/context.js";
import { paidThrough, paidThroughText } from "../../offchain/cli/format/datasets.js";
import { runCli } from "../../offchain/cli/program.js";
import { manifestDataSets } from "../../offchain/sdk/client/renew.js";
import { storeFile } from "../../offchain/sdk/client/store.js";
import { deployStorage, USDC, type StorageFixture } from "../helpers/fixture.js";
import { fakeProviders } from "./helpers/fakeAgent.js";
import { must, type TestServer } from "./helpers/httpServer.js";
import { startRpcBridge } from "./helpers/inProcessChain.js";

type Json = Record<string, unknown>;

describe("one end of a data set's funding: renew, status and datasets list agree", function () {
  this.timeout(120_000);
  let f: StorageFixture;
  let rpc: TestServer;
  let dir: string;
  let deployment: string;

  /** Run the CLI in-process as the fixture's client (dev account 4); agents are not reachable. */
  async function strata(args: string[]): Promise<{ code: number; json: Json; out: string }> {
    let out = "";
    const io: CliIo = {
      stdout: (text) => (out += text),
      stderr: () => undefined,
      interactive: false,
      env: {},
      // The RPC goes through; no agent answers (a file's status then reports them unreachable).
      fetch: (input, init) =>
        (input instanceof Request ? input.url : String(input)).startsWith(rpc.url)
          ? fetch(input, init)
          : Promise.reject(new Error("no agent in this test")),
    };
    const code = await runCli(["--rpc", rpc.url, "--deployment", deployment, "--account", "4", ...args], io);
    return { code, out, json: args.includes("--json") ? (JSON.parse(out) as Json) : {} };
  }

  before(async () => {
    f = await deployStorage();
    rpc = await startRpcBridge(f);
    dir = await mkdtemp(join(tmpdir(), "strata-paid-"));
    deployment = join(dir, "deployed_addresses.json");
    await writeFile(
      deployment,
      JSON.stringify({
        "StrataLocal#TestStablecoin": await f.token.getAddress(),
        "StrataLocal#ProviderRegistry": await f.registry.getAddress(),
        "StrataLocal#StorageMarket": await f.market.getAddress(),
      }),
    );
  });
  after(async () => {
    await rpc.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("paidThrough: the last period paid in full and the time it ends", function () {
    const clock = { genesis: 1_000n, provingPeriod: 3_600n, now: 1_000n + 10n * 3_600n + 600n };
    // Funds run out 2.5 periods from now, inside period 12: periods up to 11 are paid in full.
    const paid = must(paidThrough(2n * 3_600n + 1_800n, clock));
    expect(paid).to.deep.equal({ lastPaidPeriod: 11n, paidUntil: 1_000n + 12n * 3_600n });
    expect(paidThroughText(paid, clock)).to.equal(
      `paid through period 11 (until ${new Date(Number(paid.paidUntil) * 1000).toISOString()}, in 1h 50m)`,
    );
    // Running out exactly at a period's start pays the period before it in full.
    expect(must(paidThrough(3_000n, clock)).lastPaidPeriod).to.equal(10n);
    expect(paidThrough(null, clock)).to.equal(null);
  });

  it("datasets renew prints the same lastPaidPeriod and paidUntil as status and datasets list", async () => {
    const signers = [f.provider, f.provider2];
    const fakes = await fakeProviders(f, signers, [{}, {}]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const stored = await storeFile(
      {
        bytes: new Uint8Array(randomBytes(5_000)),
        fileName: "notes.bin",
        k: 1,
        m: 1,
        periods: 24n,
        maxPricePerTiBMonth: null,
        manifestPath: join(dir, "notes.strata.json"),
        applyTimeoutMs: 300,
        pollMs: 10,
      },
      {
        signer: f.client,
        chainId: f.chainId,
        market: f.market.connect(f.client),
        registry: f.registry,
        token: f.token.connect(f.client),
        provider: f.ethers.provider,
        agentFor: fakes.agentFor,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))),
      },
    );
    const [id] = manifestDataSets(stored.manifest);
    const set = must(id).toString();

    const before = await strata(["--json", "status", set]);
    expect(before.code, before.out).to.equal(0);
    const fundingBefore = before.json.funding as Json;
    const renewed = await strata(["--json", "datasets", "renew", set, "--periods", "5"]);
    expect(renewed.code, renewed.out).to.equal(0);
    const topUp = must((renewed.json.topUps as Json[])[0]);
    // At least five more periods paid (a top-up is rounded up to whole base units: on this tiny data set, far more).
    const moved = BigInt(topUp.lastPaidPeriod as string) - BigInt(fundingBefore.lastPaidPeriod as string);
    expect(moved >= 5n, `moved by ${moved}`).to.equal(true);

    const status = await strata(["--json", "status", set]);
    expect(status.code).to.equal(0);
    const funding = status.json.funding as Json;
    expect({ lastPaidPeriod: funding.lastPaidPeriod, paidUntil: funding.paidUntil }).to.deep.equal({
      lastPaidPeriod: topUp.lastPaidPeriod,
      paidUntil: topUp.paidUntil,
    });
    const listed = await strata(["--json", "datasets", "list"]);
    const row = must((listed.json.dataSets as Json[]).find((d) => d.id === set));
    expect((row.funding as Json).lastPaidPeriod).to.equal(topUp.lastPaidPeriod);
    // The file's status (agents unreachable here: exit 2, still printed) names the same end per piece.
    const file = await strata(["--json", "status", join(dir, "notes.strata.json")]);
    const piece = must((file.json.pieces as Json[]).find((p) => p.dataSetId === set));
    expect({ lastPaidPeriod: piece.lastPaidPeriod, paidUntil: piece.paidUntil }).to.deep.equal({
      lastPaidPeriod: topUp.lastPaidPeriod,
      paidUntil: topUp.paidUntil,
    });

    // The human forms say it with the same words.
    const words = `paid through period ${String(topUp.lastPaidPeriod)} (until ${new Date(Number(topUp.paidUntil) * 1000).toISOString()}`;
    expect((await strata(["status", set])).out).to.contain(words);
    expect((await strata(["datasets", "list"])).out).to.contain(words);
    expect((await strata(["status", join(dir, "notes.strata.json")])).out).to.contain(words);
    const again = await strata(["datasets", "renew", set, "--periods", "1"]);
    const later = /paid through period ([0-9]+) \(until /.exec(again.out)?.[1];
    expect(BigInt(must(later)) > BigInt(topUp.lastPaidPeriod as string), again.out).to.equal(true);
  });
});
