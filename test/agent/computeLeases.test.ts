import { expect } from "chai";
import { readFile } from "node:fs/promises";
import type { Agent } from "../../offchain/agent/agent.js";
import { computeRevertName } from "../../offchain/agent/compute/context.js";
import { processAlive } from "../../offchain/agent/compute/procfs.js";
import { closeReasonIndex } from "../../offchain/sdk/compute/orders.js";
import { workloadHash } from "../../offchain/sdk/compute/workload.js";
import type { StrataError } from "../../offchain/sdk/errors.js";
import { deployStorage, USDC, type StorageFixture } from "../helpers/fixture.js";
import {
  ALIVE,
  BID_PRICE,
  COLLATERAL,
  computeParties,
  HEARTBEAT,
  makeOrder,
  postOrder,
  putWorkload,
  startComputeAgent,
  waitUntil,
} from "./computeHelpers.js";
import { errorCode, removeTempDirs, tempDataDir } from "./helpers.js";

describe("agent compute duties (in-process chain)", function () {
  this.timeout(120_000);
  let f: StorageFixture;
  const agents: Agent[] = [];

  async function agentFor(options: Parameters<typeof startComputeAgent>[1] = {}): Promise<Agent> {
    const agent = await startComputeAgent(f, options);
    agents.push(agent);
    return agent;
  }

  beforeEach(async () => {
    f = await deployStorage();
    await computeParties(f);
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()));
  });
  after(removeTempDirs);

  const heartbeats = async (leaseId: bigint) =>
    (await f.compute.queryFilter(f.compute.filters.HeartbeatPosted(leaseId))).map((e) => e.args.period);

  it("bids, runs the workload once the lease starts, heartbeats every period, stops when the tenant closes", async () => {
    const agent = await agentFor();
    const compute = agent.compute;
    if (!compute) throw new Error("compute not enabled");
    const orderId = await postOrder(f, await makeOrder(f, ALIVE));

    const first = await agent.tick();
    expect(first.compute?.bidder?.bid).to.deep.equal([
      { orderId, pricePerSecond: BID_PRICE, collateral: COLLATERAL },
    ]);
    const bid = await f.compute.getBid(orderId, f.provider.address);
    expect([bid.status, bid.pricePerSecond, bid.collateral, bid.noticeWindow]).to.deep.equal([
      1n,
      BID_PRICE,
      COLLATERAL,
      120n,
    ]);

    // The tenant hands over the description before accepting (the agent knows the order it bid on).
    const put = await putWorkload(agent, ALIVE);
    expect(put.statusCode).to.equal(201);
    expect(put.json()).to.deep.include({
      hash: workloadHash(ALIVE),
      state: "stored",
      orders: [orderId.toString()],
    });
    expect((await putWorkload(agent, ALIVE)).json()).to.deep.include({ state: "already-stored" });

    await (await f.compute.connect(f.client).acceptBid(orderId, f.provider.address)).wait();
    const second = await agent.tick();
    expect(second.compute?.leases?.discovered).to.deep.equal([orderId]);
    expect(second.compute?.leases?.heartbeats).to.deep.equal([{ leaseId: orderId, period: 0n }]);
    expect(second.compute?.leases?.started).to.deep.equal([orderId]);
    expect(compute.context.supervisor.isRunning(orderId)).to.equal(true);
    const pid = compute.context.supervisor.get(orderId)?.handle?.pid ?? 0;
    const log = compute.context.supervisor.logPath(orderId);
    expect(
      await waitUntil(async () => (await readFile(log, "utf8").catch(() => "")).includes("alive")),
    ).to.equal(true);
    expect(agent.context.db.compute.order(orderId)?.state).to.equal("won");

    // Nothing due within the period; one heartbeat per period after that.
    expect((await agent.tick()).compute?.leases?.heartbeats).to.deep.equal([]);
    await f.helpers.time.increase(HEARTBEAT);
    expect((await agent.tick()).compute?.leases?.heartbeats).to.deep.equal([
      { leaseId: orderId, period: 1n },
    ]);
    await f.helpers.time.increase(HEARTBEAT);
    const third = await agent.tick();
    expect(third.compute?.leases?.heartbeats).to.deep.equal([{ leaseId: orderId, period: 2n }]);
    expect(await heartbeats(orderId)).to.deep.equal([0n, 1n, 2n]);
    // settleEverySeconds 60: the streamed time was settled and withdrawn.
    expect(third.compute?.leases?.settled.map((s) => s.leaseId)).to.deep.equal([orderId]);
    expect(third.compute?.leases?.withdrawn).to.be.greaterThan(0n);
    expect(await f.compute.balanceOf(f.provider.address)).to.equal(0n);

    const view = await agent.app.inject({ method: "GET", url: `/v1/leases/${orderId}` });
    expect(view.json()).to.deep.include({
      state: "active",
      runState: "running",
      workloadReceived: true,
      runs: 1,
    });

    await (await f.compute.connect(f.client).closeLease(orderId, closeReasonIndex("Tenant"))).wait();
    const closing = await agent.tick();
    expect(closing.compute?.leases?.closed).to.deep.equal([
      { leaseId: orderId, reason: "Tenant", byUs: false },
    ]);
    expect(compute.context.supervisor.isRunning(orderId)).to.equal(false);
    expect(await waitUntil(async () => !(await processAlive(pid)))).to.equal(true);
    const lease = agent.context.db.compute.lease(orderId);
    expect([lease?.state, lease?.closeReason, lease?.runState]).to.deep.equal([
      "closed",
      "Tenant",
      "stopped",
    ]);
    expect(JSON.parse(lease?.runExit ?? "{}")).to.deep.include({ reason: "stopped" });
    // The final payment made at close was withdrawn too.
    expect(await f.compute.balanceOf(f.provider.address)).to.equal(0n);
    expect((await f.registry.stakeInfo(f.provider.address)).locked).to.equal(0n);
  });

  it("the cheaper of two providers wins; the other takes its collateral back", async () => {
    const cheap = await agentFor();
    const dear = await agentFor({ signer: f.provider2, compute: { minMarginBps: 5000 } }); // 3 × 1.5 = 4.5 -> 5
    const orderId = await postOrder(f, await makeOrder(f, ALIVE));
    await cheap.tick();
    await dear.tick();
    const bids = await Promise.all(
      [f.provider, f.provider2].map(async (p) => (await f.compute.getBid(orderId, p.address)).pricePerSecond),
    );
    expect(bids).to.deep.equal([BID_PRICE, 5n]);
    expect((await f.registry.stakeInfo(f.provider2.address)).locked).to.equal(COLLATERAL);

    await (await f.compute.connect(f.client).acceptBid(orderId, f.provider.address)).wait();
    const lost = await dear.tick();
    expect(lost.compute?.bidder?.released).to.deep.equal([orderId]);
    expect(dear.context.db.compute.order(orderId)?.state).to.equal("released");
    expect((await f.registry.stakeInfo(f.provider2.address)).locked).to.equal(0n);
    expect((await cheap.tick()).compute?.leases?.discovered).to.deep.equal([orderId]);
  });

  it("skips orders priced below its cost, and waits for capacity while an order is open", async () => {
    const agent = await agentFor({ compute: { maxConcurrentLeases: 1 } });
    const tooCheap = await postOrder(f, await makeOrder(f, ALIVE, { maxPricePerSecond: BID_PRICE - 1n }));
    const a = await postOrder(f, await makeOrder(f, ALIVE));
    const b = await postOrder(f, await makeOrder(f, ALIVE));
    const first = await agent.tick();
    expect(first.compute?.bidder?.skipped).to.deep.equal([{ orderId: tooCheap, reason: "price" }]);
    expect(first.compute?.bidder?.bid.map((x) => x.orderId)).to.deep.equal([a]);
    expect(agent.context.db.compute.order(b)).to.deep.include({ state: "waiting", reason: "concurrency" });

    // The tenant cancels `a`: its bid is withdrawn and `b` gets the freed slot in the same tick.
    await (await f.compute.connect(f.client).cancelOrder(a)).wait();
    const second = await agent.tick();
    expect(second.compute?.bidder?.released).to.deep.equal([a]);
    expect(second.compute?.bidder?.bid.map((x) => x.orderId)).to.deep.equal([b]);
  });

  it("does not bid before the provider is registered", async () => {
    const unregistered = f.others[0];
    if (!unregistered) throw new Error("no signer");
    const agent = await agentFor({ signer: unregistered });
    const orderId = await postOrder(f, await makeOrder(f, ALIVE));
    expect((await agent.tick()).compute?.bidder?.bid).to.deep.equal([]);
    expect(agent.context.db.compute.order(orderId)?.state).to.equal("waiting");
  });

  it("adopts a bid that landed after the agent gave up waiting for it, instead of bidding twice", async () => {
    const agent = await agentFor();
    const orderId = await postOrder(f, await makeOrder(f, ALIVE));
    // Recorded as waiting (capacity taken by another order) ...
    agent.context.db.compute.insertOrder({
      id: orderId,
      tenant: f.client.address,
      request: await makeOrder(f, ALIVE),
      closeBounty: 0n,
      createdBlock: 0,
      state: "waiting",
      reason: "capacity",
    });
    // ... while the bid it sent earlier was mined.
    await (await f.compute.connect(f.provider).createBid(orderId, 7n, COLLATERAL, 120)).wait();
    const report = await agent.tick();
    expect(report.compute?.bidder?.bid).to.deep.equal([]);
    expect(agent.context.db.compute.order(orderId)).to.deep.include({ state: "bid" });
    expect(agent.context.db.compute.order(orderId)?.bid?.pricePerSecond).to.equal(7n);
  });

  it("names the compute market's custom errors of a failed send", async () => {
    const agent = await agentFor();
    const market = agent.compute?.context.market;
    if (!market) throw new Error("compute not enabled");
    let error: unknown;
    try {
      await agent.context.chain.execute(
        () => market.createBid.staticCall(99n, 1n, COLLATERAL, 120),
        () => market.createBid(99n, 1n, COLLATERAL, 120),
      );
    } catch (e) {
      error = e;
    }
    expect((error as StrataError).code).to.equal("CHAIN_REVERT");
    expect(computeRevertName(error)).to.equal("ComputeOrderNotOpen");
    expect(computeRevertName(new Error("plain"))).to.equal(undefined);
  });

  it("checks a handed-over workload: valid, matching its path, and one of its orders", async () => {
    const agent = await agentFor();
    expect(errorCode(await putWorkload(agent, ALIVE))).to.equal("UNKNOWN_WORKLOAD");
    const orderId = await postOrder(f, await makeOrder(f, ALIVE));
    await agent.tick();
    const other = { ...ALIVE, services: { main: { ...ALIVE.services.main, env: { OTHER: "1" } } } };
    const mismatch = await putWorkload(agent, other, workloadHash(ALIVE));
    expect([mismatch.statusCode, errorCode(mismatch)]).to.deep.equal([422, "WORKLOAD_MISMATCH"]);
    const invalid = await putWorkload(agent, { version: 1, kind: "docker" }, workloadHash(ALIVE));
    expect([invalid.statusCode, errorCode(invalid)]).to.deep.equal([400, "BAD_WORKLOAD"]);
    expect(
      invalid.json<{ error: { problems: { path: string }[] } }>().error.problems.map((p) => p.path),
    ).to.include("kind");
    const badPath = await putWorkload(agent, ALIVE, "0x1234");
    expect(errorCode(badPath)).to.equal("BAD_REQUEST");
    expect((await putWorkload(agent, ALIVE)).statusCode).to.equal(201);
    const missing = await agent.app.inject({ method: "GET", url: `/v1/leases/${orderId}` });
    expect([missing.statusCode, errorCode(missing)]).to.deep.equal([404, "UNKNOWN_LEASE"]);
  });

  it("closes an overdrawn lease for the close bounty and stops its workload", async () => {
    const agent = await agentFor();
    const bounty = (await f.compute.parameters()).closeBounty;
    // Escrow for 100 s at the bid price.
    const orderId = await postOrder(f, await makeOrder(f, ALIVE, { deposit: bounty + BID_PRICE * 100n }));
    await agent.tick();
    await putWorkload(agent, ALIVE);
    await (await f.compute.connect(f.client).acceptBid(orderId, f.provider.address)).wait();
    await agent.tick();
    expect(agent.compute?.context.supervisor.isRunning(orderId)).to.equal(true);
    await f.helpers.time.increase(HEARTBEAT);
    await agent.tick();
    await f.helpers.time.increase(HEARTBEAT);
    const report = await agent.tick();
    expect(report.compute?.leases?.closed).to.deep.equal([
      { leaseId: orderId, reason: "InsufficientFunds", byUs: true },
    ]);
    const [closed] = await f.compute.queryFilter(f.compute.filters.LeaseClosed(orderId));
    expect(closed?.args.closer).to.equal(f.provider.address);
    expect(closed?.args.bountyToCloser).to.equal(bounty);
    expect(agent.compute?.context.supervisor.isRunning(orderId)).to.equal(false);
    expect(agent.context.db.compute.lease(orderId)?.runState).to.equal("stopped");
  });

  it("gives notice on shutdown, resumes after a restart and closes with notice at its end", async () => {
    const dataDir = await tempDataDir();
    const first = await startComputeAgent(f, { dataDir });
    const orderId = await postOrder(f, await makeOrder(f, ALIVE));
    await first.tick();
    await putWorkload(first, ALIVE);
    await (await f.compute.connect(f.client).acceptBid(orderId, f.provider.address)).wait();
    await first.tick();
    const pid = first.compute?.context.supervisor.get(orderId)?.handle?.pid ?? 0;
    expect(pid).to.be.greaterThan(0);

    await first.stop();
    const [notice] = await f.compute.queryFilter(f.compute.filters.LeaseNoticeGiven(orderId));
    expect(notice).to.not.equal(undefined);
    expect((await f.compute.getLease(orderId)).noticeGiven).to.equal(true);
    expect(await waitUntil(async () => !(await processAlive(pid)))).to.equal(true);

    const second = await agentFor({ dataDir });
    const resumed = await second.tick();
    expect(resumed.compute?.leases?.started).to.deep.equal([orderId]);
    expect(second.context.db.compute.lease(orderId)).to.deep.include({ noticeGiven: true, runs: 2 });
    await f.helpers.time.increase(HEARTBEAT);
    expect((await second.tick()).compute?.leases?.heartbeats.map((h) => h.leaseId)).to.deep.equal([orderId]);
    await f.helpers.time.increase(HEARTBEAT + 5n);
    const end = await second.tick();
    expect(end.compute?.leases?.closed).to.deep.equal([
      { leaseId: orderId, reason: "ProviderWithNotice", byUs: true },
    ]);
    expect(second.compute?.context.supervisor.isRunning(orderId)).to.equal(false);
    expect((await f.registry.stakeInfo(f.provider.address)).locked).to.equal(0n);
  });

  it("reports its own missed periods after downtime so heartbeats resume", async () => {
    const agent = await agentFor();
    const orderId = await postOrder(f, await makeOrder(f, ALIVE, { deposit: 10n * USDC }));
    await agent.tick();
    await (await f.compute.connect(f.client).acceptBid(orderId, f.provider.address)).wait();
    await agent.tick(); // heartbeat of period 0; no workload handed over yet
    expect(agent.context.db.compute.lease(orderId)?.runState).to.equal("awaiting-workload");
    await f.helpers.time.increase(HEARTBEAT * 2n); // period 1 passes without a heartbeat
    const report = await agent.tick();
    expect(report.compute?.leases?.reportedOwnMisses).to.deep.equal([orderId]);
    expect(report.compute?.leases?.heartbeats).to.deep.equal([{ leaseId: orderId, period: 2n }]);
    expect(await heartbeats(orderId)).to.deep.equal([0n, 2n]);
  });
});
