import { expect } from "chai";
import { randomBytes } from "node:crypto";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { Agent } from "../../offchain/agent/agent.js";
import { formatTokens } from "../../offchain/agent/configSchema.js";
import { PIECE_PROOF_HEADER, PIECE_ROOT_HEADER } from "../../offchain/sdk/api/permanent.js";
import type { PermanentStorage } from "../../typechain-types/index.js";
import { enterProofWindow, registerProvider, USDC, type StorageFixture } from "../helpers/fixture.js";
import { awardedTerms, testConfig } from "../durability/permanent.helpers.js";
import { runPermanent, type PermanentDeps } from "../../offchain/agent/permanent/duty.js";
import { permanentContract } from "../../offchain/agent/permanent/contract.js";
import { setup } from "../storage/dataSets.helpers.js";
import { agentConfig, removeTempDirs, startTestAgent, tempDataDir } from "./helpers.js";
import { encodeInMemory } from "../helpers/permanentPieces.js";

interface PermanentAgentFixture {
  f: StorageFixture;
  perm: PermanentStorage;
  file: Awaited<ReturnType<typeof encodeInMemory>>;
  fileId: bigint;
}

/** The storage fixture, a PermanentStorage (k = 2 of n = 3, ceiling 5 tokens) and one small file paid for. */
async function permanentFixture(): Promise<PermanentAgentFixture> {
  const f = await setup();
  for (const p of f.others.slice(0, 2)) await registerProvider(f, p, 1_000_000n * USDC);
  const perm = await f.ethers.deployContract("PermanentStorage", [
    await f.market.getAddress(),
    testConfig(),
    f.treasury.address,
  ]);
  const file = await encodeInMemory(randomBytes(5000));
  const [principal, fee] = await perm.quote(file.pieceSpan);
  await f.token.mint(f.client.address, principal + fee);
  await f.token.connect(f.client).approve(await perm.getAddress(), principal + fee);
  await (await perm.connect(f.client).storePermanent(file.list.root, file.pieceSpan, principal + fee)).wait();
  return { f, perm, file, fileId: await perm.fileCount() };
}

async function permanentAgent(
  p: PermanentAgentFixture,
  signer: HardhatEthersSigner,
  price: bigint,
  dataDir?: string,
): Promise<Agent> {
  const config = await agentConfig(
    p.f,
    {
      deployment: { permanentStorage: await p.perm.getAddress() },
      permanent: { enabled: true, pricePerTiBMonth: formatTokens(price, 6) },
    },
    dataDir,
  );
  return startTestAgent(p.f, { config, signer });
}

async function stage(
  agent: Agent,
  p: PermanentAgentFixture,
  index: number,
  proof = p.file.list.proof(index),
) {
  return agent.app.inject({
    method: "PUT",
    url: `/v1/permanent/${p.fileId}/pieces/${index}`,
    headers: {
      "content-type": "application/octet-stream",
      [PIECE_ROOT_HEADER]: p.file.roots[index] ?? "",
      [PIECE_PROOF_HEADER]: proof.join(","),
    },
    payload: Buffer.from(p.file.pieces[index] ?? new Uint8Array()),
  });
}

describe("agent permanent-storage duty", function () {
  const agents: Agent[] = [];
  afterEach(async function () {
    for (const agent of agents.splice(0)) await agent.stop();
  });
  after(removeTempDirs);

  it("stages only a piece of the file's list, and offers only within the file's ceiling", async function () {
    const p = await permanentFixture();
    const dear = await permanentAgent(p, p.f.provider, 5n * USDC + 1n);
    agents.push(dear);
    const wrongProof = await stage(dear, p, 1, p.file.list.proof(0));
    expect(wrongProof.statusCode, wrongProof.body).to.equal(422);
    expect(wrongProof.json<{ error: { code: string } }>().error.code).to.equal("BAD_PROOF");
    const staged = await stage(dear, p, 1);
    expect(staged.statusCode, staged.body).to.equal(201);
    const served = await dear.app.inject({ method: "GET", url: `/v1/permanent/${p.fileId}/pieces/1` });
    expect(served.json<{ root: string }>().root).to.equal(p.file.roots[1]);

    // Above the ceiling (2x the 2.5-token reference): no offer, whatever it stages.
    const tooDear = await dear.tick();
    expect(tooDear.permanent?.offered).to.deep.equal([]);
    expect((await p.perm.slot(p.fileId, 1)).price).to.equal(0n);

    const cheap = await permanentAgent(p, p.f.provider2, 5n * USDC);
    agents.push(cheap);
    const report = await cheap.tick();
    expect(report.permanent?.offered).to.have.length(1);
    const offered = report.permanent?.offered[0];
    expect(offered?.price).to.equal(5n * USDC);
    expect((await p.perm.slot(p.fileId, offered?.index ?? 0)).provider).to.equal(p.f.provider2.address);
    // One offer per file: the next tick offers nothing more.
    expect((await cheap.tick()).permanent?.offered).to.deep.equal([]);
  });

  it("loses the award to a cheaper offer, then offers for another slot", async function () {
    const p = await permanentFixture();
    const agent = await permanentAgent(p, p.f.provider, 3n * USDC);
    agents.push(agent);
    expect((await stage(agent, p, 0)).statusCode).to.equal(201);
    const first = await agent.tick();
    expect(first.permanent?.offered.map((o) => o.index)).to.deep.equal([0]); // the staged piece first

    const rival = p.f.others[0];
    if (!rival) throw new Error("rival");
    await (await p.perm.connect(rival).offer(p.fileId, 0, 2n * USDC)).wait();
    const second = await agent.tick();
    expect(second.permanent?.ended).to.deep.equal([{ fileId: p.fileId, index: 0, state: "outbid" }]);
    expect(second.permanent?.offered.map((o) => o.index)).to.have.length(1);
    expect(second.permanent?.offered[0]?.index).to.not.equal(0);
    expect(agent.context.db.permanent.slot(p.fileId, 0)?.state).to.equal("outbid");

    // The rival wins slot 0 at award; the agent keeps its offer on the other slot.
    await p.f.helpers.time.increase(601n);
    await (await p.perm.award(p.fileId, 0)).wait();
    expect((await p.perm.slot(p.fileId, 0)).provider).to.equal(rival.address);
  });

  it("awards an absent winner's slot, reports the unplaced award lost, and the slot takes offers again", async function () {
    const p = await permanentFixture();
    const agent = await permanentAgent(p, p.f.provider, 3n * USDC);
    agents.push(agent);
    const absent = p.f.others[0];
    if (!absent) throw new Error("absent");
    // The absent provider is the best offer on every slot; the agent cannot beat 2 tokens with 3.
    for (const index of [0, 1, 2])
      await (await p.perm.connect(absent).offer(p.fileId, index, 2n * USDC)).wait();
    expect((await agent.tick()).permanent?.offered).to.deep.equal([]);
    // Offers closed and the winner did not award itself: the agent awards for it; it wins slot 0, and its offers
    // on slots 1 and 2 lapse (it may hold one piece), so those slots take offers again.
    await p.f.helpers.time.increase(601n + 300n);
    expect((await agent.tick()).permanent?.kept.map((k) => [k.index, k.action])).to.deep.equal([
      [0, "award"],
      [1, "award"],
      [2, "award"],
    ]);
    expect((await p.perm.slot(p.fileId, 0)).stage).to.equal(1n); // Awarded
    expect((await p.perm.slot(p.fileId, 1)).price).to.equal(0n);
    const next = await agent.tick();
    expect(next.permanent?.offered).to.have.length(1);
    expect(next.permanent?.offered[0]?.index).to.not.equal(0);
    // The award is never placed: a day later the agent reports it lost, and the slot takes offers again.
    await p.f.helpers.time.increase(86_401n);
    const reopened = await agent.tick();
    expect(reopened.permanent?.kept).to.deep.include({ fileId: p.fileId, index: 0, action: "reportLost" });
    expect((await p.perm.slot(p.fileId, 0)).stage).to.equal(0n);
    expect((await p.perm.slot(p.fileId, 0)).lastProvider).to.equal(absent.address);
  });

  it("offers again for a piece it lost only once the slot's bar (one offer window) has passed", async function () {
    const p = await permanentFixture();
    const [a, b] = p.f.others;
    if (!a || !b) throw new Error("providers");
    // This provider wins slot 0 and never places it; the others offer below its price for slots 1 and 2.
    await (await p.perm.connect(p.f.provider).offer(p.fileId, 0, 2n * USDC)).wait();
    await (await p.perm.connect(a).offer(p.fileId, 1, USDC)).wait();
    await (await p.perm.connect(b).offer(p.fileId, 2, USDC)).wait();
    await p.f.helpers.time.increase(601n);
    await (await p.perm.award(p.fileId, 0)).wait();
    await p.f.helpers.time.increase(86_401n);
    await (await p.perm.reportLost(p.fileId, 0)).wait();
    const lost = await p.perm.slot(p.fileId, 0);
    expect([lost.stage, lost.lastProvider]).to.deep.equal([0n, p.f.provider.address]);

    const agent = await permanentAgent(p, p.f.provider, 2n * USDC);
    agents.push(agent);
    // Barred: slot 0 is the only one it could take (the others' offers are cheaper and closed), and it waits.
    expect((await agent.tick()).permanent?.offered).to.deep.equal([]);
    expect((await p.perm.slot(p.fileId, 0)).price).to.equal(0n);
    // One offer window later nobody else offered: it may, and does.
    await p.f.helpers.time.increaseTo(lost.barredUntil + 1n);
    expect((await agent.tick()).permanent?.offered.map((o) => o.index)).to.deep.equal([0]);
    expect((await p.perm.slot(p.fileId, 0)).provider).to.equal(p.f.provider.address);
  });

  it("awards, places, proves and confirms its piece, resuming after a restart", async function () {
    const p = await permanentFixture();
    const dataDir = await tempDataDir();
    let agent = await permanentAgent(p, p.f.provider, 2n * USDC, dataDir);
    agents.push(agent);
    expect((await stage(agent, p, 2)).statusCode).to.equal(201);
    expect((await agent.tick()).permanent?.offered.map((o) => o.index)).to.deep.equal([2]);

    // Restart: the new process reads its journal and carries on from the offer.
    await agents.pop()?.stop();
    agent = await permanentAgent(p, p.f.provider, 2n * USDC, dataDir);
    agents.push(agent);
    expect(agent.context.db.permanent.slot(p.fileId, 2)?.state).to.equal("offered");
    expect((await agent.tick()).permanent?.awarded).to.deep.equal([]); // window still open
    await p.f.helpers.time.increase(601n);
    const placing = await agent.tick();
    expect(placing.permanent?.awarded).to.deep.equal([{ fileId: p.fileId, index: 2 }]);
    const dataSetId = placing.permanent?.placed[0]?.dataSetId;
    expect(typeof dataSetId).to.equal("bigint");
    // The approved state went on chain in the same tick: the data set holds exactly the piece.
    const onChain = await p.f.market.dataSet(dataSetId ?? 0n);
    expect([onChain.version, onChain.root, onChain.span]).to.deep.equal([
      1n,
      p.file.roots[2],
      p.file.pieceSpan,
    ]);
    expect((await p.perm.slot(p.fileId, 2)).stage).to.equal(2n); // Placed

    let confirmed = false;
    for (let round = 0; round < 4 && !confirmed; round++) {
      const period = (await p.f.market.proofState(p.f.provider.address)).nextPeriod;
      await enterProofWindow(p.f, period);
      const report = await agent.tick();
      confirmed = (report.permanent?.confirmed.length ?? 0) > 0;
    }
    expect(confirmed, "confirmed after proven periods").to.equal(true);
    expect((await p.perm.slot(p.fileId, 2)).stage).to.equal(3n); // Live
    expect((await p.perm.file(p.fileId)).livePieces).to.equal(1n);
    expect(agent.context.db.permanent.slot(p.fileId, 2)?.state).to.equal("live");
  });
  it("terminates the empty data set of a slot it lost before placing its piece: no fee, and only once", async function () {
    const p = await permanentFixture();
    const agent = await permanentAgent(p, p.f.provider, 2n * USDC);
    agents.push(agent);
    expect((await stage(agent, p, 2)).statusCode).to.equal(201);
    expect((await agent.tick()).permanent?.offered.map((o) => o.index)).to.deep.equal([2]);
    await p.f.helpers.time.increase(601n);
    // Every placement fails (a revert the agent cannot cure): the data set it created for the award stays empty.
    const perm = permanentContract(agent.context);
    if (perm === undefined) throw new Error("no PermanentStorage");
    const refuse = () => Promise.reject(new Error("place refused"));
    Object.defineProperty(perm, "place", { value: Object.assign(refuse, { staticCall: refuse }) });
    const stuck = (await agent.tick()).permanent;
    expect(stuck?.awarded).to.deep.equal([{ fileId: p.fileId, index: 2 }]);
    expect(stuck?.placed).to.deep.equal([]);
    const dataSetId = stuck?.created[0]?.dataSetId ?? 0n;
    expect(agent.context.db.permanent.slot(p.fileId, 2)?.state).to.equal("created");
    expect((await p.f.market.dataSet(dataSetId)).span).to.equal(0n);
    const [, openBefore] = await p.f.market.proofBond(p.f.provider.address);
    const stakeBefore = await p.f.registry.stakeInfo(p.f.provider.address);

    // The award runs out and the slot is reported lost: the agent ends its part and terminates the empty data set.
    await p.f.helpers.time.increase(86_401n);
    await (await p.perm.reportLost(p.fileId, 2)).wait();
    const lost = (await agent.tick()).permanent;
    expect(lost?.released).to.deep.equal([{ fileId: p.fileId, index: 2, dataSetId }]);
    expect(lost?.ended).to.deep.include({ fileId: p.fileId, index: 2, state: "lost" });
    expect((await p.f.market.dataSet(dataSetId)).status).to.equal(2n); // Ending
    const stakeAfter = await p.f.registry.stakeInfo(p.f.provider.address);
    expect(stakeAfter.free + stakeAfter.locked).to.equal(stakeBefore.free + stakeBefore.locked); // no fee on no bytes
    expect((await agent.tick()).permanent?.released).to.deep.equal([]);
    // Once its notice has passed it is finalized like any ended data set, and stops counting against the bond.
    const { endPeriod } = await p.f.market.dataSet(dataSetId);
    await p.f.helpers.time.increaseTo(await p.f.market.periodStart(endPeriod + 1n));
    for (let round = 0; round < 3; round++) {
      if ((await p.f.market.dataSet(dataSetId)).status === 3n) break;
      await agent.tick();
    }
    expect((await p.f.market.dataSet(dataSetId)).status).to.equal(3n); // Finalized
    expect((await p.f.market.proofBond(p.f.provider.address))[1]).to.equal(openBefore - 1n);
  });

  it("rebuilds a lost piece nobody stages from k holders, checked against its root; a tampered holder places nothing", async function () {
    const p = await permanentFixture();
    const [a, b, c] = p.f.others;
    if (!a || !b || !c) throw new Error("providers");
    await registerProvider(p.f, c, 1_000_000n * USDC);
    const served: number[] = [];
    /** No agent stages the piece; the holders serve their pieces by root (piece 0 with one bit flipped). */
    const holders = (tamper: boolean): PermanentDeps => ({
      stagingClient: () => ({ stagedPiece: () => Promise.reject(new Error("not staged here")) }),
      pieceClient: () => ({
        async *pieceBody(root: string) {
          await Promise.resolve();
          const index = p.file.roots.indexOf(root);
          served.push(index);
          const bytes = Buffer.from(p.file.pieces[index] ?? new Uint8Array());
          if (tamper && index === 0) bytes[100] = (bytes[100] ?? 0) ^ 1;
          yield bytes;
        },
      }),
    });
    // Each piece placed by another provider: every commitment is on chain, every holder known.
    const providers = [a, b, c];
    const dataSets: bigint[] = [];
    for (const [index, provider] of providers.entries())
      await (await p.perm.connect(provider).offer(p.fileId, index, USDC)).wait();
    await p.f.helpers.time.increase(601n);
    for (const [index, provider] of providers.entries()) {
      const receipt = await (await p.perm.award(p.fileId, index)).wait();
      const terms = awardedTerms(p.perm, receipt?.logs ?? []);
      await (await p.f.market.connect(provider).createDataSet(terms, "0x")).wait();
      const id = await p.f.market.dataSetCount();
      dataSets.push(id);
      const root = p.file.roots[index] ?? "";
      await (await p.perm.place(p.fileId, index, root, p.file.list.proof(index), id)).wait();
    }
    // Piece 2's provider ends its data set: the piece is lost, and its slot takes offers again (its provider barred).
    await (await p.f.market.connect(c).terminateDataSet(dataSets[2] ?? 0n)).wait();
    await (await p.perm.reportLost(p.fileId, 2)).wait();
    const agent = await permanentAgent(p, p.f.provider, 2n * USDC);
    agents.push(agent);
    expect((await runPermanent(agent.context, holders(false))).offered.map((o) => o.index)).to.deep.equal([
      2,
    ]);
    await p.f.helpers.time.increase(601n);
    const root2 = p.file.roots[2] ?? "";

    // One of the two holders serves other bytes: fewer than k pieces check, nothing is kept, nothing is placed.
    const refused = await runPermanent(agent.context, holders(true));
    expect(refused.awarded).to.deep.equal([{ fileId: p.fileId, index: 2 }]);
    expect([refused.fetched, refused.placed]).to.deep.equal([[], []]);
    expect(served.sort()).to.deep.equal([0, 1]);
    expect(agent.context.db.piece(root2)).to.equal(undefined);
    expect(agent.context.db.permanent.staged(p.fileId, 2)).to.equal(undefined);
    expect((await p.perm.slot(p.fileId, 2)).stage).to.equal(1n); // Awarded

    // Honest holders: piece 2 is rebuilt from pieces 0 and 1, checked against its listed root, and placed.
    const placed = await runPermanent(agent.context, holders(false));
    expect(placed.fetched).to.deep.equal([{ fileId: p.fileId, index: 2, from: "rebuilt" }]);
    expect(placed.placed.map((x) => x.index)).to.deep.equal([2]);
    const slot = await p.perm.slot(p.fileId, 2);
    expect([slot.stage, slot.pieceRoot]).to.deep.equal([2n, root2]); // Placed, with the listed commitment
    expect(agent.context.db.piece(root2)?.ok).to.equal(true);
  });
});
