import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Agent } from "../../offchain/agent/agent.js";
import { formatTokens } from "../../offchain/agent/configSchema.js";
import type { CliIo } from "../../offchain/cli/context.js";
import { runCli } from "../../offchain/cli/program.js";
import { workloadHash } from "../../offchain/sdk/compute/workload.js";
import { deployStorage, registerProvider, USDC, type StorageFixture } from "../helpers/fixture.js";
import { ALIVE, BID_PRICE, HEARTBEAT, startComputeAgent, waitUntil } from "../agent/computeHelpers.js";
import { removeTempDirs } from "../agent/helpers.js";
import { type TestServer } from "./helpers/httpServer.js";
import { routeToAgent, startRpcBridge } from "./helpers/inProcessChain.js";

interface Run {
  code: number;
  out: string;
  err: string;
}

type Json = Record<string, unknown>;

describe("strata lease (in-process chain and agent)", function () {
  this.timeout(120_000);
  let f: StorageFixture;
  let agent: Agent;
  let rpc: TestServer;
  let dir: string;
  let deployment: string;
  let workloadFile: string;
  let bounty: bigint;

  async function strata(args: string[], account = 4): Promise<Run> {
    let out = "";
    let err = "";
    const endpoint = (await f.registry.providerInfo(f.provider.address)).endpoint;
    const io: CliIo = {
      stdout: (text) => (out += text),
      stderr: (text) => (err += text),
      interactive: false,
      env: {},
      fetch: routeToAgent(endpoint, agent),
    };
    const code = await runCli(
      ["--json", "--rpc", rpc.url, "--deployment", deployment, "--account", String(account), ...args],
      io,
    );
    return { code, out, err };
  }

  /** Run and parse the JSON result, asserting success. */
  async function ok(args: string[], account?: number): Promise<Json> {
    const run = await strata(args, account);
    expect(run.code, run.out + run.err).to.equal(0);
    return JSON.parse(run.out) as Json;
  }

  async function failure(args: string[], account?: number): Promise<{ code: number; error: string }> {
    const run = await strata(args, account);
    const parsed = JSON.parse(run.out) as { error?: { code: string } };
    return { code: run.code, error: parsed.error?.code ?? "none" };
  }

  const order = (extra: string[] = []) => [
    "lease",
    "order",
    "--workload",
    workloadFile,
    "--max-price",
    "0.036", // tokens per hour: 36 000 units / 3600 s = 10 units per second
    "--deposit",
    "5",
    "--workloads-dir",
    join(dir, "kept"),
    ...extra,
  ];

  before(async () => {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    await f.token.mint(f.client.address, 1_000n * USDC);
    bounty = (await f.compute.parameters()).closeBounty;
    agent = await startComputeAgent(f);
    rpc = await startRpcBridge(f);
    dir = await mkdtemp(join(tmpdir(), "strata-lease-cli-"));
    deployment = join(dir, "deployed_addresses.json");
    await writeFile(
      deployment,
      JSON.stringify({
        "StrataLocal#TestStablecoin": await f.token.getAddress(),
        "StrataLocal#ProviderRegistry": await f.registry.getAddress(),
        "StrataLocal#StorageMarket": await f.market.getAddress(),
        "StrataLocal#ComputeMarket": await f.compute.getAddress(),
      }),
    );
    // The same workload as ALIVE, with its script in a file next to the JSON.
    const main = ALIVE.services.main;
    await writeFile(join(dir, "alive.js"), main?.run.kind === "node" ? main.run.script : "");
    workloadFile = join(dir, "alive.json");
    await writeFile(
      workloadFile,
      JSON.stringify({
        version: 2,
        services: { main: { ...main, run: { kind: "node", scriptFile: "alive.js" } } },
      }),
    );
  });
  after(async () => {
    await agent.stop();
    await rpc.close();
    await rm(dir, { recursive: true, force: true });
    await removeTempDirs();
  });

  it("prints help for the lease commands", async () => {
    for (const sub of [
      "order",
      "bids",
      "accept",
      "upload",
      "status",
      "topup",
      "close",
      "cancel",
      "report",
      "list",
      "withdraw",
      "update",
      "logs",
      "events",
      "backup",
    ]) {
      const run = await strata(["lease", sub, "--help"]);
      expect(run.code, sub).to.equal(0);
      expect(run.out, sub).to.contain("Usage: strata lease");
    }
  });

  it("orders, lists bids cheapest first, accepts (sending the workload), follows, tops up, closes, withdraws", async () => {
    const posted = await ok(order());
    const orderId = posted.orderId as string;
    expect(posted.workloadHash).to.equal(workloadHash(ALIVE));
    // Amounts in tokens with their base units under <name>Raw; prices per second and per hour.
    expect(posted.request).to.deep.include({
      maxPricePerSecond: "0.00001",
      maxPricePerSecondRaw: "10",
      maxPricePerHour: "0.036",
      maxPricePerHourRaw: "36000",
    });
    expect(posted.token).to.deep.equal({ symbol: "tUSD", decimals: 6 });
    expect((posted.funding as Json).approveTx).to.be.a("string");

    await agent.tick();
    const listed = await ok(["lease", "bids", orderId]);
    expect(listed.status).to.equal("open");
    expect(listed.bids).to.have.length(1);
    expect((listed.bids as Json[])[0]).to.deep.include({
      provider: f.provider.address,
      pricePerSecondRaw: BID_PRICE.toString(),
      pricePerHourRaw: (BID_PRICE * 3600n).toString(),
    });
    expect((listed.bids as Json[])[0]?.pricePerHour).to.equal(formatTokens(BID_PRICE * 3600n, 6));

    const accepted = await ok([
      "lease",
      "accept",
      orderId,
      "--cheapest",
      "--workloads-dir",
      join(dir, "kept"),
    ]);
    expect(accepted).to.deep.include({ leaseId: orderId, provider: f.provider.address, workloadSent: true });
    expect(agent.context.db.compute.workload(workloadHash(ALIVE))).to.not.equal(undefined);

    await agent.tick();
    const status = await ok(["lease", "status", orderId]);
    const live = (status.lease as Json).live as Json;
    expect(live.heartbeatDue).to.equal(false);
    expect((status.agent as Json).runState).to.equal("running");
    expect((status.agent as Json).manifestVersion).to.equal(1);

    // The tenant reads its logs and events (signed grants); another account is told it is not the tenant.
    expect(
      await waitUntil(async () =>
        String((await ok(["lease", "logs", orderId])).text).includes("[main] alive"),
      ),
    ).to.equal(true);
    expect(await failure(["lease", "logs", orderId], 2)).to.deep.equal({
      code: 1,
      error: "INVALID_ARGUMENT",
    });
    const events = await ok(["lease", "events", orderId]);
    expect((events.events as Json[]).map((e) => e.type)).to.include.members(["workload-start", "start"]);

    // A signed update: version 2 of the manifest runs on the same lease.
    const v2 = join(dir, "alive-v2.json");
    await writeFile(
      v2,
      JSON.stringify({ ...ALIVE, services: { main: { ...ALIVE.services.main, env: { V: "2" } } } }),
    );
    const updated = await ok([
      "lease",
      "update",
      orderId,
      "--workload",
      v2,
      "--manifest-version",
      "2",
      "--workloads-dir",
      join(dir, "kept"),
    ]);
    expect(updated).to.deep.include({ version: 2, state: "restarted" });
    expect(
      await failure(["lease", "update", orderId, "--workload", v2, "--manifest-version", "2"]),
    ).to.deep.equal({
      code: 1,
      error: "LEASE_UPDATE_REFUSED",
    });
    expect(((await ok(["lease", "status", orderId])).agent as Json).manifestVersion).to.equal(2);

    const before = BigInt(live.escrowRaw as string);
    expect(live.escrow).to.equal(formatTokens(before, 6));
    const topped = await ok(["lease", "topup", orderId, "1"]);
    expect(topped).to.deep.include({ amount: "1", amountRaw: USDC.toString() });
    expect(BigInt(topped.escrowRaw as string)).to.equal(before + USDC);

    const mine = await ok(["lease", "list", "--mine"]);
    expect((mine.entries as Json[]).map((e) => [e.orderId, e.status])).to.deep.equal([[orderId, "leased"]]);

    await f.helpers.time.increase(HEARTBEAT);
    await agent.tick();
    const closed = await ok(["lease", "close", orderId]);
    expect(closed.reason).to.equal("Tenant");
    const refund = BigInt((closed.closed as Json).refundedToTenantRaw as string);
    expect((closed.closed as Json).refundedToTenant).to.equal(formatTokens(refund, 6));
    expect(refund).to.be.greaterThan(0n);
    const wallet = await f.token.balanceOf(f.client.address);
    const withdrawn = await ok(["lease", "withdraw"]);
    expect(BigInt(withdrawn.withdrawnRaw as string)).to.equal(refund);
    expect(withdrawn.withdrawn).to.equal(formatTokens(refund, 6));
    expect(await f.token.balanceOf(f.client.address)).to.equal(wallet + refund);

    expect(await failure(["lease", "accept", orderId, "--cheapest"])).to.deep.equal({
      code: 1,
      error: "INVALID_ARGUMENT",
    });
    // A closed lease's status is printed, and the exit code says it is not running (2).
    const statusAfter = await strata(["lease", "status", orderId, "--no-agent"]);
    expect(statusAfter.code).to.equal(2);
    expect((JSON.parse(statusAfter.out) as Json).lease).to.deep.include({ live: null });
  });

  it("lets anyone report missed heartbeats and close an overdrawn lease for the bounty", async () => {
    // Escrow for 100 s at the bid price; the agent heartbeats periods 0 and 1, then goes quiet.
    const deposit = (Number(bounty + BID_PRICE * 100n) / Number(USDC)).toString();
    const posted = await ok(order(["--deposit", deposit]));
    const orderId = posted.orderId as string;
    await agent.tick();
    await ok(["lease", "accept", orderId, f.provider.address, "--no-upload"]);
    await agent.tick();
    await f.helpers.time.increase(HEARTBEAT);
    await agent.tick();
    expect(await failure(["lease", "report", orderId], 6)).to.deep.equal({
      code: 1,
      error: "INVALID_ARGUMENT",
    });
    expect(await failure(["lease", "close", orderId], 6)).to.deep.equal({
      code: 1,
      error: "INVALID_ARGUMENT",
    });

    await f.helpers.time.increase(HEARTBEAT * 2n); // period 2 passes without a heartbeat
    const reported = await ok(["lease", "report", orderId], 6);
    expect(reported.count).to.equal("1");
    const closed = await ok(["lease", "close", orderId], 6);
    expect(closed.reason).to.equal("InsufficientFunds");
    expect((closed.closed as Json).bountyToCloserRaw).to.equal(bounty.toString());
    expect((closed.closed as Json).bountyToCloser).to.equal(formatTokens(bounty, 6));
    expect(reported).to.include.keys("refunded", "refundedRaw", "bounty", "bountyRaw", "compensationRaw");
    // The penalty's tenant share went to the tenant's balance, so the report left the lease overdrawn.
    expect(BigInt(reported.compensationRaw as string)).to.be.greaterThan(0n);
  });

  it("cancels an open order and refunds the deposit to the compute balance", async () => {
    const posted = await ok(order());
    const cancelled = await ok(["lease", "cancel", posted.orderId as string]);
    expect(cancelled).to.deep.include({ refund: "5", refundRaw: (5n * USDC).toString() });
    await agent.tick(); // the agent saw it (or bid on it): nothing to accept any more
    expect(await failure(["lease", "accept", posted.orderId as string, "--cheapest"])).to.deep.equal({
      code: 1,
      error: "INVALID_ARGUMENT",
    });
  });

  it("reports bad input and unknown ids with stable codes", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ version: 1, kind: "docker", limits: {} }));
    expect(
      await failure(["lease", "order", "--workload", bad, "--max-price", "1", "--deposit", "5"]),
    ).to.deep.equal({
      code: 1,
      error: "WORKLOAD_INVALID",
    });
    expect(await failure(order(["--cpu", "100"]))).to.deep.equal({ code: 1, error: "INVALID_ARGUMENT" });
    expect(await failure(order(["--max-price", "0.0001"]))).to.deep.equal({
      code: 1,
      error: "INVALID_ARGUMENT",
    });
    expect(await failure(["lease", "status", "99"])).to.deep.equal({ code: 1, error: "LEASE_NOT_FOUND" });
    expect(await failure(["lease", "bids", "99"])).to.deep.equal({ code: 1, error: "ORDER_NOT_FOUND" });
    expect(await failure(["lease", "status", "zero"])).to.deep.equal({ code: 1, error: "INVALID_ARGUMENT" });

    const posted = await ok(order());
    const orderId = posted.orderId as string;
    expect(await failure(["lease", "accept", orderId])).to.deep.equal({ code: 1, error: "INVALID_ARGUMENT" });
    expect(await failure(["lease", "accept", orderId, "--cheapest"])).to.deep.equal({
      code: 1,
      error: "BID_NOT_FOUND",
    });
    await agent.tick();
    const other = join(dir, "other.json");
    await writeFile(
      other,
      JSON.stringify({ ...ALIVE, services: { main: { ...ALIVE.services.main, env: { OTHER: "1" } } } }),
    );
    expect(await failure(["lease", "accept", orderId, "--cheapest", "--workload", other])).to.deep.equal({
      code: 1,
      error: "WORKLOAD_MISMATCH",
    });
    expect(await failure(["lease", "accept", orderId, "--cheapest"])).to.deep.equal({
      code: 1,
      error: "FILE_NOT_FOUND",
    });
    expect(await failure(["lease", "accept", orderId, "--cheapest"], 5)).to.deep.equal({
      code: 1,
      error: "INVALID_ARGUMENT",
    });

    const noCompute = join(dir, "storage-only.json");
    await writeFile(
      noCompute,
      JSON.stringify({
        "StrataLocal#TestStablecoin": await f.token.getAddress(),
        "StrataLocal#ProviderRegistry": await f.registry.getAddress(),
        "StrataLocal#StorageMarket": await f.market.getAddress(),
      }),
    );
    const run = await strata(["--deployment", noCompute, "lease", "list"]);
    expect(run.code).to.equal(2);
    expect((JSON.parse(run.out) as { error: { code: string } }).error.code).to.equal("DEPLOYMENT_NOT_FOUND");
  });
});
