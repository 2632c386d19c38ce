import { expect } from "chai";
import { rm, writeFile } from "node:fs/promises";
import { createAgent, type Agent } from "../../offchain/agent/agent.js";
import { createLogger } from "../../offchain/runtime/logger.js";
import { parseDeployment } from "../../offchain/sdk/chain/deployment.js";
import {
  deployStorage,
  fundClient,
  randomPiece,
  registerProvider,
  topUp,
  USDC,
  type PieceData,
  type StorageFixture,
} from "../helpers/fixture.js";
import {
  agentConfig,
  openDataSetOverHttp,
  removeTempDirs,
  startTestAgent,
  storePieces,
  type ClientDataSet,
} from "./helpers.js";

/** IRetrievalChallenges.Status */
const STATUS = { Open: 1n, Answered: 2n, Failed: 3n } as const;

interface LogLine {
  level: number;
  msg: string;
  duty?: string;
  challengeId?: string;
}

/** An agent whose log lines are kept for assertions. */
async function agentWithLogs(
  f: StorageFixture,
  options: { retrieval?: boolean } = {},
): Promise<{ agent: Agent; logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const logger = createLogger({
    name: "strata-agent",
    level: "debug",
    destination: { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
  });
  const overrides =
    options.retrieval === false
      ? { settleEveryPeriods: 0 }
      : {
          settleEveryPeriods: 0,
          deployment: { retrievalChallenges: await f.retrievalChallenges.getAddress() },
        };
  const agent = await createAgent({
    config: await agentConfig(f, overrides),
    signer: f.provider,
    provider: f.ethers.provider,
    logger,
  });
  return { agent, logs };
}

/** Store a piece in a new funded data set through the agent's HTTP API and let it apply the state on chain. */
async function publishThrough(f: StorageFixture, agent: Agent, piece: PieceData): Promise<ClientDataSet> {
  const set: ClientDataSet = { id: await openDataSetOverHttp(agent, f), layout: [], version: 0n };
  await storePieces(agent, f, set, [piece]);
  await topUp(f, set.id, 1000n * USDC);
  expect((await agent.tick()).states?.applied.map((a) => a.dataSetId)).to.deep.equal([set.id]);
  return set;
}

/** The watcher challenges leaf `leafIndex` of data set `id`, paying the bond; returns the challenge id. */
async function openChallenge(f: StorageFixture, id: bigint, leafIndex: number): Promise<bigint> {
  const rc = f.retrievalChallenges;
  const { bond } = await rc.parameters();
  await f.token.mint(f.watcher.address, bond);
  await f.token.connect(f.watcher).approve(await rc.getAddress(), bond);
  const receipt = await (await rc.connect(f.watcher).openChallenge(id, leafIndex)).wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = rc.interface.parseLog(log);
    if (parsed?.name === "RetrievalChallengeOpened") return parsed.args.challengeId as bigint;
  }
  throw new Error("no RetrievalChallengeOpened event");
}

function retrievalErrors(logs: LogLine[]): LogLine[] {
  return logs.filter((l) => l.duty === "retrieval" && l.level >= 50);
}

describe("agent retrieval responder", function () {
  this.timeout(120_000);
  let f: StorageFixture;
  const agents: Agent[] = [];

  beforeEach(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
  });

  afterEach(async function () {
    for (const agent of agents.splice(0)) await agent.stop();
  });
  after(removeTempDirs);

  it("answers a challenge on its data set before the deadline and withdraws the bond", async function () {
    const { agent, logs } = await agentWithLogs(f);
    agents.push(agent);
    const piece = randomPiece(5000); // 79 leaves, the last one partial
    const set = await publishThrough(f, agent, piece);
    const { bond } = await f.retrievalChallenges.parameters();
    const walletBefore = await f.token.balanceOf(f.provider.address);

    const id = await openChallenge(f, set.id, 78);
    const report = await agent.tick();
    expect(report.retrieval).to.deep.equal({
      enabled: true,
      discovered: [id],
      answered: [id],
      unanswerable: [],
      missed: [],
      withdrawn: bond,
    });
    expect((await f.retrievalChallenges.challengeOf(id)).status).to.equal(STATUS.Answered);
    const record = agent.context.db.retrievalChallenge(id);
    expect(record).to.deep.include({ status: "answered", dataSetId: set.id, leafIndex: 78, error: null });
    const receipt = await f.ethers.provider.getTransactionReceipt(record?.txHash ?? "");
    expect(receipt?.status).to.equal(1);
    const answered = (receipt?.logs ?? [])
      .map((l) => f.retrievalChallenges.interface.parseLog(l))
      .find((e) => e?.name === "RetrievalChallengeAnswered");
    expect(answered?.args.challengeId).to.equal(id);
    // The bond went to the provider: credited by the answer, then withdrawn to its wallet.
    expect(await f.retrievalChallenges.balanceOf(f.provider.address)).to.equal(0n);
    expect((await f.token.balanceOf(f.provider.address)) - walletBefore).to.equal(bond);
    expect(logs.some((l) => l.msg === "retrieval challenge answered")).to.equal(true);

    // Nothing more to do on the next tick; a second challenge on the same deal is answered too.
    expect((await agent.tick()).retrieval).to.deep.include({ discovered: [], answered: [] });
    const second = await openChallenge(f, set.id, 0);
    expect((await agent.tick()).retrieval?.answered).to.deep.equal([second]);
    expect(retrievalErrors(logs)).to.deep.equal([]);
  });

  it("answers against the root the challenge names, after the client changed the data set", async function () {
    const { agent } = await agentWithLogs(f);
    agents.push(agent);
    const first = randomPiece(4096);
    const set = await publishThrough(f, agent, first);
    const root = (await f.market.dataSet(set.id)).root;
    const id = await openChallenge(f, set.id, 40); // inside the first piece (64 leaves of data)
    // The client adds a piece; the new state goes on chain before the agent answers.
    await storePieces(agent, f, set, [randomPiece(8192)]);
    const report = await agent.tick();
    expect(report.states?.applied).to.have.length(1);
    expect((await f.market.dataSet(set.id)).root).to.not.equal(root);
    expect(report.retrieval?.answered).to.deep.equal([id]);
    expect((await f.retrievalChallenges.challengeOf(id)).status).to.equal(STATUS.Answered);
  });

  it("does not answer for a piece that is gone: logs it once, then the deadline passes and the data set is slashed", async function () {
    const { agent, logs } = await agentWithLogs(f);
    agents.push(agent);
    const piece = randomPiece(4096);
    const set = await publishThrough(f, agent, piece);
    await rm(agent.context.pieces.path(piece.tree.root)); // a withholding provider

    const id = await openChallenge(f, set.id, 3);
    const first = await agent.tick();
    expect(first.retrieval).to.deep.include({ discovered: [id], answered: [], unanswerable: [id] });
    expect(agent.context.db.retrievalChallenge(id)).to.deep.include({
      status: "unanswerable",
      error: "missing",
      txHash: null,
    });
    expect(agent.context.db.piece(piece.tree.root)).to.deep.include({ ok: false, problem: "missing" });
    expect(retrievalErrors(logs)).to.have.length(1);
    expect(retrievalErrors(logs)[0]?.challengeId).to.equal(id.toString());

    // Not retried while the piece is still gone, and not logged again.
    const second = await agent.tick();
    expect(second.retrieval).to.deep.include({ answered: [], unanswerable: [], missed: [] });
    expect(retrievalErrors(logs)).to.have.length(1);
    expect((await f.retrievalChallenges.challengeOf(id)).status).to.equal(STATUS.Open);

    const { deadline } = await f.retrievalChallenges.challengeOf(id);
    await f.helpers.time.increaseTo(deadline + 1n);
    expect((await agent.tick()).retrieval?.missed).to.deep.equal([id]);
    expect(agent.context.db.retrievalChallenge(id)?.status).to.equal("missed");
    expect(retrievalErrors(logs)).to.have.length(1); // already reported as unanswerable

    // Anyone enforces it: the data set ends with its collateral slashed.
    await (await f.retrievalChallenges.connect(f.watcher).enforceChallenge(id)).wait();
    expect((await f.retrievalChallenges.challengeOf(id)).status).to.equal(STATUS.Failed);
    expect((await f.market.dataSet(set.id)).status).to.not.equal(1n); // no longer live
  });

  it("answers once a lost piece is back before the deadline", async function () {
    const { agent } = await agentWithLogs(f);
    agents.push(agent);
    const piece = randomPiece(3000);
    const set = await publishThrough(f, agent, piece);
    const path = agent.context.pieces.path(piece.tree.root);
    await rm(path);
    const id = await openChallenge(f, set.id, 46);
    expect((await agent.tick()).retrieval?.unanswerable).to.deep.equal([id]);

    await writeFile(path, piece.data);
    expect((await agent.tick()).retrieval?.answered).to.deep.equal([id]);
    expect((await f.retrievalChallenges.challengeOf(id)).status).to.equal(STATUS.Answered);
  });

  it("resumes after a restart: challenges opened while it was down are found and answered", async function () {
    const config = await agentConfig(f, {
      settleEveryPeriods: 0,
      deployment: { retrievalChallenges: await f.retrievalChallenges.getAddress() },
    });
    const first = await startTestAgent(f, { config });
    const piece = randomPiece(4096);
    const set = await publishThrough(f, first, piece);
    await first.tick();
    await first.stop();

    const id = await openChallenge(f, set.id, 1);
    const second = await startTestAgent(f, { config });
    agents.push(second);
    expect((await second.tick()).retrieval).to.deep.include({ discovered: [id], answered: [id] });
  });

  it("is a no-op with one warning when the deployment has no retrieval-challenge contract", async function () {
    const { agent, logs } = await agentWithLogs(f, { retrieval: false });
    agents.push(agent);
    expect(agent.context.chain.retrievalChallenges).to.equal(undefined);
    const report = await agent.tick();
    expect(report.retrieval).to.deep.equal({
      enabled: false,
      discovered: [],
      answered: [],
      unanswerable: [],
      missed: [],
      withdrawn: 0n,
    });
    await agent.tick();
    expect(logs.filter((l) => l.duty === "retrieval" && l.level === 40)).to.have.length(1);
  });

  it("refuses a configured retrieval contract that is missing or not a retrieval-challenge contract", async function () {
    for (const address of [f.watcher.address, await f.token.getAddress()]) {
      const error = await createAgent({
        config: await agentConfig(f, { deployment: { retrievalChallenges: address } }),
        signer: f.provider,
        provider: f.ethers.provider,
        logger: createLogger({ name: "strata-agent", level: "silent" }),
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, address).to.have.property("code", "CONFIG_DEPLOYMENT_MISMATCH");
    }
  });
});

describe("deployment addresses: the retrieval-challenge contract", function () {
  const base = {
    "StrataLocal#TestStablecoin": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    "StrataLocal#ProviderRegistry": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    "StrataLocal#StorageMarket": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
  };

  it("reads RetrievalChallenges when the module deployed it", function () {
    const address = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9";
    const deployment = parseDeployment(
      { ...base, "StrataLocal#RetrievalChallenges": address.toLowerCase() },
      "x.json",
    );
    expect(deployment.retrievalChallenges).to.equal(address);
  });

  it("leaves it out for a deployment made before it existed", function () {
    const deployment = parseDeployment(base, "x.json");
    expect(deployment).to.not.have.property("retrievalChallenges");
    expect(deployment.market).to.equal(base["StrataLocal#StorageMarket"]);
  });
});
