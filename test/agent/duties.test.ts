import { expect } from "chai";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { formatTokens } from "../../offchain/agent/configSchema.js";
import type { Agent } from "../../offchain/agent/agent.js";
import {
  deployStorage,
  enterProofWindow,
  fundClient,
  randomPiece,
  registerProvider,
  topUp,
  USDC,
  type StorageFixture,
} from "../helpers/fixture.js";
import {
  agentConfig,
  openDataSetOverHttp,
  postState,
  putPiece,
  removeTempDirs,
  startTestAgent,
  storePieces,
  type ClientDataSet,
} from "./helpers.js";

/** Enter the proof window of the provider's next period and let the agent act; returns the period. */
async function proveOnePeriod(f: StorageFixture, agent: Agent): Promise<bigint> {
  const period = (await f.market.proofState(f.provider.address)).nextPeriod;
  await enterProofWindow(f, period);
  const report = await agent.tick();
  expect(report.prover?.proven, `period ${period}`).to.equal(period);
  expect(report.prover?.drawMismatch, "the mirror's draw equals challengesFor").to.equal(false);
  return period;
}

/** A funded data set with `pieces`, its state applied on chain by the agent's submitter. */
async function liveDataSet(
  f: StorageFixture,
  agent: Agent,
  sizes: number[],
  pricePerTiBMonth?: bigint,
): Promise<ClientDataSet> {
  const terms = pricePerTiBMonth === undefined ? {} : { pricePerTiBMonth };
  const set: ClientDataSet = { id: await openDataSetOverHttp(agent, f, terms), layout: [], version: 0n };
  await storePieces(agent, f, set, sizes.map(randomPiece));
  await topUp(f, set.id, 1000n * USDC);
  return set;
}

describe("agent chain duties on data sets", function () {
  const agents: Agent[] = [];
  afterEach(async function () {
    for (const agent of agents.splice(0)) await agent.stop();
  });
  after(removeTempDirs);

  it("submits the newest states in one updateDataSets, proves the market's challenges, settles many data sets in one call and withdraws", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    // A price high enough that a few kilobytes earn whole base units per period.
    const price = 10n ** 15n;
    const agent = await startTestAgent(f, {
      overrides: { policy: { pricePerTiBMonth: formatTokens(price, 6) } },
    });
    agents.push(agent);
    const a = await liveDataSet(f, agent, [3000, 64 * 5], price);
    const b = await liveDataSet(f, agent, [100_000], price);
    // A newer state of `a` supersedes the queued one: only version 2 goes on chain.
    await storePieces(agent, f, a, [randomPiece(700)]);

    const first = await agent.tick();
    expect(first.states?.applied.map((s) => [s.dataSetId, s.version])).to.deep.equal([
      [a.id, 2n],
      [b.id, 1n],
    ]);
    expect((await f.market.dataSet(a.id)).version).to.equal(2n);
    expect(agent.context.db.dataSets.state(a.id, 1n)?.status).to.equal("superseded");
    const walletBefore = await f.token.balanceOf(f.provider.address);

    const batches: bigint[][] = [];
    for (let i = 0; i < 3; i++) {
      const period = (await f.market.proofState(f.provider.address)).nextPeriod;
      await enterProofWindow(f, period);
      const report = await agent.tick();
      expect(report.prover?.proven).to.equal(period);
      expect(report.prover?.drawMismatch).to.equal(false);
      for (const batch of report.settler?.settled ?? []) batches.push(batch.dataSetIds);
    }
    // Both data sets settled together in one settleDataSets call.
    expect(
      batches.some((ids) => ids.includes(a.id) && ids.includes(b.id)),
      JSON.stringify(batches.map(String)),
    ).to.equal(true);
    expect((await f.market.dataSet(a.id)).paid).to.be.greaterThan(0n);
    expect((await f.market.dataSet(b.id)).paid).to.be.greaterThan(0n);
    expect(await f.market.balanceOf(f.provider.address)).to.equal(0n); // settled and withdrawn
    expect(await f.token.balanceOf(f.provider.address)).to.be.greaterThan(walletBefore);
  });

  it("waits for the client's top-up before submitting a state the escrow does not cover", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const agent = await startTestAgent(f);
    agents.push(agent);
    const set: ClientDataSet = { id: await openDataSetOverHttp(agent, f), layout: [], version: 0n };
    await storePieces(agent, f, set, [randomPiece(5000)]);
    const waiting = await agent.tick();
    expect(waiting.states?.unfunded).to.deep.equal([set.id]);
    expect(waiting.states?.txHash).to.equal(null);
    await topUp(f, set.id, 1000n * USDC);
    const applied = await agent.tick();
    expect(applied.states?.applied.map((s) => s.dataSetId)).to.deep.equal([set.id]);
  });

  it("declares a data set whose piece file was deleted and leaves its answers empty", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const agent = await startTestAgent(f, { overrides: { settleEveryPeriods: 0 } });
    agents.push(agent);
    const lost = await liveDataSet(f, agent, [4096]);
    const kept = await liveDataSet(f, agent, [4096]);
    await agent.tick();
    await proveOnePeriod(f, agent);
    await proveOnePeriod(f, agent);

    const root = lost.layout[0]?.root ?? "";
    await rm(agent.context.pieces.path(root));
    const report = await agent.tick();
    expect(report.prover?.declared).to.deep.equal([lost.id]);
    expect(agent.context.db.piece(root)).to.deep.include({ ok: false, problem: "missing" });
    await proveOnePeriod(f, agent);
    await (await f.market.settleDataSets([lost.id, kept.id])).wait(); // faults are charged when accounted
    expect((await f.market.dataSet(lost.id)).declaredFaults).to.equal(1n);
    expect((await f.market.dataSet(kept.id)).declaredFaults).to.equal(0n);
  });

  it("keeps a removed piece on disk until the period after its removal takes effect", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const agent = await startTestAgent(f, {
      overrides: { settleEveryPeriods: 0, unreferencedPieceMs: 1000 },
    });
    agents.push(agent);
    const set = await liveDataSet(f, agent, [2048, 2048]);
    await agent.tick();
    await proveOnePeriod(f, agent);
    const removed = set.layout[1]?.root ?? "";
    const posted = await postState(agent, f, set, { remove: [set.layout[1]?.offset ?? -1] });
    expect(posted.statusCode, posted.body).to.equal(200);
    const applied = await agent.tick();
    const effective = applied.states?.applied[0]?.effectivePeriod ?? 0n;
    expect(effective).to.be.greaterThan(0n);
    await new Promise((resolve) => setTimeout(resolve, 1100));

    while ((await f.market.proofState(f.provider.address)).nextPeriod < effective) {
      await agent.tick();
      expect(existsSync(agent.context.pieces.path(removed)), "still frozen").to.equal(true);
      await proveOnePeriod(f, agent);
    }
    await agent.tick();
    expect(existsSync(agent.context.pieces.path(removed))).to.equal(false);
    expect(existsSync(agent.context.pieces.path(set.layout[0]?.root ?? ""))).to.equal(true);
    await proveOnePeriod(f, agent);
  });

  it("finalizes a data set the client terminated once its notice has run", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const agent = await startTestAgent(f);
    agents.push(agent);
    const set = await liveDataSet(f, agent, [1024]);
    await agent.tick();
    await proveOnePeriod(f, agent);
    await (await f.market.connect(f.client).terminateDataSet(set.id)).wait();
    const finalized: bigint[] = [];
    for (let i = 0; i < 6 && (await f.market.dataSet(set.id)).status !== 3n; i++) {
      const period = (await f.market.proofState(f.provider.address)).nextPeriod;
      await enterProofWindow(f, period);
      const report = await agent.tick();
      finalized.push(...(report.settler?.finalized ?? []));
    }
    expect((await f.market.dataSet(set.id)).status).to.equal(3n);
    expect(finalized).to.include(set.id);
    expect(agent.context.db.dataSets.dataSet(set.id)?.status).to.equal("finalized");
  });

  it("answers a retrieval challenge with the leaf and path against the challenge's root", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const config = await agentConfig(f, {
      deployment: { retrievalChallenges: await f.retrievalChallenges.getAddress() },
    });
    const agent = await startTestAgent(f, { config });
    agents.push(agent);
    const set = await liveDataSet(f, agent, [64 * 3, 64 * 8]);
    await agent.tick();
    const bond = (await f.retrievalChallenges.parameters()).bond;
    await f.token.mint(f.watcher.address, bond);
    await f.token.connect(f.watcher).approve(await f.retrievalChallenges.getAddress(), bond);
    // Leaf 3 is the padding leaf of the first piece (3 leaves of data in a 4-leaf subtree).
    await (await f.retrievalChallenges.connect(f.watcher).openChallenge(set.id, 3n)).wait();
    const report = await agent.tick();
    expect(report.retrieval?.answered).to.have.length(1);
    const id = report.retrieval?.answered[0] ?? 0n;
    expect((await f.retrievalChallenges.challengeOf(id)).status).to.equal(2n);
  });

  it("sends a confirmed proof again in the window when the node lost the block that held it", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const agent = await startTestAgent(f);
    agents.push(agent);
    await liveDataSet(f, agent, [5000]);
    await agent.tick();
    const period = (await f.market.proofState(f.provider.address)).nextPeriod;
    await enterProofWindow(f, period);
    // The node's state before the proof: restoring it drops the proof's block, as a node restarted without its
    // recent blocks does, while the window is still open.
    const beforeProof = await f.helpers.takeSnapshot();
    expect((await agent.tick()).prover?.proven).to.equal(period);
    const first = agent.context.db.proof(period);
    expect(first?.status).to.equal("confirmed");
    await beforeProof.restore();
    expect((await f.market.proofState(f.provider.address)).nextPeriod).to.equal(period);
    expect(await f.ethers.provider.getTransactionReceipt(first?.txHash ?? "")).to.equal(null);

    expect((await agent.tick()).prover?.proven).to.equal(period);
    const again = agent.context.db.proof(period);
    expect(again?.status).to.equal("confirmed");
    // The same signed transaction (same nonce and answers) is broadcast again and is on chain this time.
    expect((await f.ethers.provider.getTransactionReceipt(again?.txHash ?? ""))?.status).to.equal(1);
    expect((await f.market.proofState(f.provider.address)).nextPeriod).to.equal(period + 1n);
    expect((await f.market.proofState(f.provider.address)).missedPeriods).to.equal(0n);
  });

  it("carries on proving after a restart on the same data directory", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const config = await agentConfig(f);
    const first = await startTestAgent(f, { config });
    const set = await liveDataSet(f, first, [5000]);
    await first.tick();
    await proveOnePeriod(f, first);
    await first.stop();

    const second = await startTestAgent(f, { config });
    agents.push(second);
    expect(second.context.db.dataSets.newestState(set.id)?.status).to.equal("applied");
    const before = (await f.market.proofState(f.provider.address)).nextPeriod;
    await proveOnePeriod(f, second);
    await proveOnePeriod(f, second);
    expect((await f.market.proofState(f.provider.address)).nextPeriod).to.equal(before + 2n);
    const put = await putPiece(second, set.id, set.layout[0]?.root ?? "", new Uint8Array(5000));
    expect(put.statusCode).to.equal(200); // already held
  });
});
