import { expect } from "chai";
import type { Provider } from "ethers";
import { createAgent, type Agent } from "../../offchain/agent/agent.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import {
  deployStorage,
  fundClient,
  randomPiece,
  registerProvider,
  topUp,
  USDC,
  type StorageFixture,
} from "../helpers/fixture.js";
import { ManualTimers } from "../helpers/fakes.js";
import {
  agentConfig,
  openDataSetOverHttp,
  postState,
  putPiece,
  removeTempDirs,
  type ClientDataSet,
} from "./helpers.js";

/** The provider with block subscriptions switched off: only the timers (and wakes) start ticks. */
function withoutBlocks(provider: Provider): Provider {
  return new Proxy(provider, {
    get(target, key) {
      if (key === "on" || key === "off") return () => Promise.resolve(target);
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("agent: a posted state wakes the state submitter", function () {
  let f: StorageFixture;
  let agent: Agent;
  let timers: ManualTimers;

  beforeEach(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    timers = new ManualTimers();
    agent = await createAgent({
      // An hour between ticks: only the wake can submit the state within the test.
      config: await agentConfig(f, { tickMs: 3_600_000 }),
      signer: f.provider,
      provider: withoutBlocks(f.ethers.provider),
      logger: silentLogger(),
      timers,
    });
    await agent.start();
    await timers.fire(); // the first tick, at start
    await until("the first tick", () => Promise.resolve(timers.delays().length === 1));
    expect(timers.delays()).to.deep.equal([3_600_000]);
  });
  afterEach(async function () {
    await agent.stop();
  });
  after(removeTempDirs);

  /** A data set holding nothing yet, with escrow for a small piece, and the piece uploaded. */
  async function fundedSetWithUpload(): Promise<{
    set: ClientDataSet;
    piece: ReturnType<typeof randomPiece>;
  }> {
    const set: ClientDataSet = { id: await openDataSetOverHttp(agent, f), layout: [], version: 0n };
    await topUp(f, set.id, 100n * USDC);
    const piece = randomPiece(3000);
    const put = await putPiece(agent, set.id, piece.tree.root, piece.data);
    expect(put.statusCode, put.body).to.equal(201);
    return { set, piece };
  }

  it("test_postState_wakesSubmitter: the state goes on chain in a tick started at once, not after tickMs", async function () {
    const { set, piece } = await fundedSetWithUpload();
    expect(timers.delays()).to.deep.equal([3_600_000]);
    const posted = await postState(agent, f, set, { add: [piece] });
    expect(posted.statusCode, posted.body).to.equal(200);
    expect(timers.delays()).to.deep.equal([0]); // the hour-long wait replaced by a tick now
    await timers.fire();
    await until("version 1 on chain", async () => (await f.market.dataSet(set.id)).version === 1n);
    await until("the next tick scheduled", () => Promise.resolve(timers.delays().length === 1));
    expect(timers.delays()).to.deep.equal([3_600_000]);
  });

  it("test_postState_batches: states posted together go on chain in one transaction", async function () {
    const a = await fundedSetWithUpload();
    const b = await fundedSetWithUpload();
    expect((await postState(agent, f, a.set, { add: [a.piece] })).statusCode).to.equal(200);
    expect((await postState(agent, f, b.set, { add: [b.piece] })).statusCode).to.equal(200);
    expect(timers.delays()).to.deep.equal([0]);
    const before = await f.ethers.provider.getBlockNumber();
    await timers.fire();
    await until("both versions on chain", async () => {
      const [x, y] = await Promise.all([f.market.dataSet(a.set.id), f.market.dataSet(b.set.id)]);
      return x.version === 1n && y.version === 1n;
    });
    const updates = await f.market.queryFilter(f.market.filters.DataSetUpdated(), before + 1);
    expect(updates.map((e) => e.args.id)).to.have.members([a.set.id, b.set.id]);
    expect(new Set(updates.map((e) => e.transactionHash)).size).to.equal(1);
  });
});
