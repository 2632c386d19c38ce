import { expect } from "chai";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { Agent } from "../../offchain/agent/agent.js";
import {
  deployStorage,
  enterProofWindow,
  fundClient,
  makeProposal,
  registerProvider,
  USDC,
  type StorageFixture,
} from "../helpers/fixture.js";
import { agentConfig, removeTempDirs, startTestAgent, storeOverHttp } from "./helpers.js";

/** Enter the proof window of the provider's next period and let the agent act; returns the period. */
async function proveOnePeriod(f: StorageFixture, agent: Agent): Promise<bigint> {
  const period = (await f.market.proofState(f.provider.address)).nextPeriod;
  await enterProofWindow(f, period);
  const report = await agent.tick();
  expect(report.prover?.proven, `period ${period}`).to.equal(period);
  return period;
}

describe("agent chain duties", function () {
  const agents: Agent[] = [];
  afterEach(async function () {
    for (const agent of agents.splice(0)) await agent.stop();
  });
  after(removeTempDirs);

  it("publishes an accepted upload, proves every period by itself, settles, withdraws and finalizes", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const agent = await startTestAgent(f);
    agents.push(agent);
    const signed = await makeProposal(f, { periods: 3n, pricePerSecond: 10n, collateral: 100n * USDC });
    const uploadId = await storeOverHttp(agent, signed);

    const first = await agent.tick();
    expect(first.publisher).to.deep.equal({ published: 1, skipped: 0, failed: 0 });
    const status = (await agent.app.inject({ method: "GET", url: `/v1/uploads/${uploadId}` })).json<{
      state: string;
      dealId: string;
      txHash: string;
    }>();
    expect(status.state).to.equal("published");
    const deal = agent.context.db.deal(BigInt(status.dealId));
    expect(deal?.terms.root).to.equal(signed.proposal.root);
    expect((await f.market.proofState(f.provider.address)).activeDeals).to.equal(1n);
    const walletBefore = await f.token.balanceOf(f.provider.address);

    for (let i = 0; i < 3; i++) await proveOnePeriod(f, agent);
    expect(agent.context.db.lastConfirmedProof()?.period).to.equal((deal?.terms.endPeriod ?? 0n) - 1n);
    expect(await f.market.balanceOf(f.provider.address)).to.equal(0n); // settled and withdrawn
    expect(await f.token.balanceOf(f.provider.address)).to.be.greaterThan(walletBefore);

    await f.helpers.time.increaseTo(await f.market.periodStart(deal?.terms.endPeriod ?? 0n));
    const last = await agent.tick();
    expect(last.prover?.finalized).to.deep.equal([deal?.id]);
    expect(agent.context.db.deal(deal?.id ?? 0n)?.state).to.equal("ended");
    expect((await f.market.proofState(f.provider.address)).activeDeals).to.equal(0n);
    expect(await f.market.balanceOf(f.provider.address)).to.equal(0n);
    // Paid for exactly the three proven periods, all of it withdrawn to the wallet.
    expect(await f.token.balanceOf(f.provider.address)).to.equal(walletBefore + 3n * 3600n * 10n);
    expect((await f.registry.stakeInfo(f.provider.address)).locked).to.equal(0n);
    expect(existsSync(agent.context.pieces.path(signed.proposal.root))).to.equal(false);
  });

  it("declares a deal whose piece file was deleted, then declares it again inside the proof multicall", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const agent = await startTestAgent(f, { overrides: { settleEveryPeriods: 0 } });
    agents.push(agent);
    const lost = await makeProposal(f, { periods: 6n });
    const kept = await makeProposal(f, { periods: 6n });
    await storeOverHttp(agent, lost);
    await storeOverHttp(agent, kept);
    expect((await agent.tick()).publisher?.published).to.equal(2);
    const lostDeal = agent.context.db.activeDeals().find((d) => d.terms.root === lost.proposal.root);
    if (!lostDeal) throw new Error("deal not recorded");

    const proven = await proveOnePeriod(f, agent);
    // Right after a proof the next period's seed block is not mined yet: declarations are still open.
    await rm(agent.context.pieces.path(lost.proposal.root));
    const declaring = await agent.tick();
    expect(declaring.prover?.declared).to.deep.equal([lostDeal.id]);
    const [, , declaredFaults, lastDeclaredPlusOne] = await f.market.dealState(lostDeal.id);
    expect(declaredFaults).to.equal(1n);
    expect(lastDeclaredPlusOne).to.equal(proven + 2n);

    // Next period: the lost deal's challenges are skipped, the proof lands, and the declaration for the period
    // after it travels in the same multicall.
    const next = await proveOnePeriod(f, agent);
    const record = agent.context.db.proof(next);
    expect(record?.declared).to.deep.equal([lostDeal.id]);
    const receipt = await f.ethers.provider.getTransactionReceipt(record?.txHash ?? "");
    const events = (receipt?.logs ?? []).map((l) => f.market.interface.parseLog(l)).filter((e) => e !== null);
    expect(events.map((e) => e.name)).to.include.members(["ProofSubmitted", "FaultDeclared"]);
    const declaredEvent = events.find((e) => e.name === "FaultDeclared");
    expect(declaredEvent?.args.period).to.equal(next + 1n);
    expect(declaredEvent?.args.dealId).to.equal(lostDeal.id);
    const [, , faultsAfter, lastAfter] = await f.market.dealState(lostDeal.id);
    expect(faultsAfter).to.equal(2n);
    expect(lastAfter).to.equal(next + 2n);
    expect(agent.context.db.piece(lost.proposal.root)).to.deep.include({ ok: false, problem: "missing" });
    expect(agent.context.db.piece(kept.proposal.root)).to.deep.include({ ok: true });
  });

  it("carries on proving after a restart on the same data directory", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const config = await agentConfig(f);
    const first = await startTestAgent(f, { config });
    const signed = await makeProposal(f, { periods: 4n });
    const uploadId = await storeOverHttp(first, signed);
    await first.tick();
    await proveOnePeriod(f, first);
    await first.stop();

    const second = await startTestAgent(f, { config });
    agents.push(second);
    const upload = (await second.app.inject({ method: "GET", url: `/v1/uploads/${uploadId}` })).json<{
      state: string;
    }>();
    expect(upload.state).to.equal("published");
    expect(second.context.db.activeDeals()).to.have.length(1);
    const before = (await f.market.proofState(f.provider.address)).nextPeriod;
    await proveOnePeriod(f, second);
    await proveOnePeriod(f, second);
    expect((await f.market.proofState(f.provider.address)).nextPeriod).to.equal(before + 2n);
  });

  it("never sends a second proof for a period already sent", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const agent = await startTestAgent(f, { overrides: { settleEveryPeriods: 0, txTimeoutMs: 3000 } });
    agents.push(agent);
    await storeOverHttp(agent, await makeProposal(f, { periods: 4n }));
    await agent.tick();
    const period = (await f.market.proofState(f.provider.address)).nextPeriod;
    await enterProofWindow(f, period);
    // A proof for this period is on its way (recorded as pending with a transaction the node still holds).
    await f.ethers.provider.send("evm_setAutomine", [false]);
    const tx = await f.provider.sendTransaction({ to: f.provider.address, value: 0n, gasLimit: 21_000n });
    agent.context.db.putProof({ period, txHash: tx.hash, status: "pending", declared: [], error: null });
    try {
      const sent = await f.ethers.provider.getTransactionCount(f.provider.address, "pending");
      const report = await agent.tick();
      expect(report.prover?.proven).to.equal(null);
      expect(await f.ethers.provider.getTransactionCount(f.provider.address, "pending")).to.equal(sent);
      expect(agent.context.db.proof(period)).to.deep.include({ status: "pending", txHash: tx.hash });
    } finally {
      await f.ethers.provider.send("evm_setAutomine", [true]);
      await f.helpers.mine(1);
    }
  });

  it("recovers publications a crash left unrecorded, from the receipt or from the chain's events", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const agent = await startTestAgent(f);
    agents.push(agent);
    const withHash = await makeProposal(f);
    const withoutHash = await makeProposal(f);
    const idWithHash = await storeOverHttp(agent, withHash);
    const idWithoutHash = await storeOverHttp(agent, withoutHash);
    // The agent sent publishDeals and died: once after recording the hash, once before.
    const tx = await f.market.connect(f.provider).publishDeals([withHash, withoutHash]);
    await tx.wait();
    agent.context.db.setUploadState(idWithHash, "publishing", { txHash: tx.hash });

    const report = await agent.tick();
    expect(report.publisher).to.deep.equal({ published: 2, skipped: 0, failed: 0 });
    for (const id of [idWithHash, idWithoutHash]) {
      const upload = agent.context.db.upload(id);
      expect(upload?.state).to.equal("published");
      expect(upload?.txHash).to.equal(tx.hash);
    }
    expect(agent.context.db.activeDeals()).to.have.length(2);
  });

  it("marks a proposal the market skips (client no longer funded)", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const agent = await startTestAgent(f);
    agents.push(agent);
    const uploadId = await storeOverHttp(agent, await makeProposal(f));
    await f.token.connect(f.client).approve(await f.market.getAddress(), 0n);
    const report = await agent.tick();
    expect(report.publisher).to.deep.equal({ published: 0, skipped: 1, failed: 0 });
    const upload = (await agent.app.inject({ method: "GET", url: `/v1/uploads/${uploadId}` })).json<{
      state: string;
      reason: string;
    }>();
    expect(upload).to.deep.include({ state: "skipped", reason: "Unfunded" });
  });

  it("registers and stakes by itself when autoRegister is set", async function () {
    const f = await deployStorage();
    await f.token.mint(f.provider2.address, 600n * USDC);
    const agent = await startTestAgent(f, {
      signer: f.provider2,
      overrides: { autoRegister: { capacityBytes: String(1n << 40n), stake: String(500n * USDC) } },
    });
    agents.push(agent);
    const report = await agent.tick();
    expect(report.maintenance?.registered).to.equal(true);
    expect(await f.registry.isRegistered(f.provider2.address)).to.equal(true);
    expect((await f.registry.providerInfo(f.provider2.address)).endpoint).to.equal("http://127.0.0.1:7999");
    expect((await f.registry.stakeInfo(f.provider2.address)).free).to.equal(500n * USDC);
    expect((await agent.tick()).maintenance?.registered).to.equal(false);
  });

  it("reports its own missed periods and refreshes an expired seed to resume proving", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const agent = await startTestAgent(f, { overrides: { settleEveryPeriods: 0 } });
    agents.push(agent);
    await storeOverHttp(agent, await makeProposal(f, { periods: 10n }));
    await agent.tick();

    // The agent was down for two whole periods.
    const period = (await f.market.proofState(f.provider.address)).nextPeriod;
    await f.helpers.time.increaseTo(await f.market.periodStart(period + 2n));
    const resumed = await agent.tick();
    expect(resumed.prover?.reportedMissed).to.equal(true);
    const state = await f.market.proofState(f.provider.address);
    expect(state.missedPeriods).to.equal(2n);
    expect(await f.market.balanceOf(f.provider.address)).to.equal(0n); // no bounty to itself

    // Its seed block then falls out of the block-hash history (8191 blocks on Prague).
    await f.helpers.mine(8300, { interval: 0 });
    await enterProofWindow(f, state.nextPeriod);
    expect(await f.market.challengeSeed(f.provider.address)).to.equal(`0x${"00".repeat(32)}`);
    const refreshing = await agent.tick();
    expect(refreshing.prover?.refreshedSeed).to.equal(true);
    await f.helpers.mine(3, { interval: 0 });
    expect((await agent.tick()).prover?.proven).to.equal(state.nextPeriod);
  });
});
