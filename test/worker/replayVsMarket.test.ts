/**
 * The SDK's replay (offchain/sdk/datasets/replay.ts) fed with the market's own logs, and its draw
 * (offchain/sdk/datasets/draw.ts), pinned to the market's `challengesFor` view on the same chain: creations,
 * updates that change class, a client termination whose removal is an update to span 0 at the current version,
 * and a restart after missed periods (changes written at N - 1 that apply to N itself).
 */
import { expect } from "chai";
import type { Log } from "ethers";
import { DataSetReplay } from "../../offchain/sdk/datasets/replay.js";
import { drawChallenges } from "../../offchain/sdk/datasets/draw.js";
import { LogDecoder } from "../../offchain/worker/indexer/decode.js";
import { applyToReplay } from "../../offchain/worker/replay/feed.js";
import {
  defaultParameters,
  enterProofWindow,
  proveNext,
  putState,
  UniformTree,
  type StorageFixture,
} from "../helpers/fixture.js";
import { liveDataSet, setup } from "../storage/dataSets.helpers.js";

async function replayFromLogs(f: StorageFixture): Promise<DataSetReplay> {
  const decoder = new LogDecoder({
    market: await f.market.getAddress(),
    registry: await f.registry.getAddress(),
    retrievalChallenges: null,
  });
  const logs: Log[] = await f.ethers.provider.getLogs({
    address: decoder.addresses,
    fromBlock: 0,
    toBlock: "latest",
  });
  const replay = new DataSetReplay();
  for (const log of logs) {
    const event = decoder.decode(log);
    if (event !== null) applyToReplay(replay, event);
  }
  return replay;
}

async function expectSameDraw(f: StorageFixture): Promise<number> {
  const provider = f.provider.address;
  const period = (await f.market.proofState(provider)).nextPeriod;
  await enterProofWindow(f, period);
  const replay = await replayFromLogs(f);
  const drawn = drawChallenges(
    {
      seed: await f.market.challengeSeed(provider),
      provider,
      period,
      challengeCount: Number((await f.market.parameters()).challengeCount),
    },
    replay.frozenState(provider, period),
  );
  const view = await f.market.challengesFor(provider);
  expect(drawn.map((c) => [c.dataSetId, c.leaf, c.sizeClass])).to.deep.equal(
    view.map((c) => [c.dataSetId, c.leaf, Number(c.depth)]),
  );
  return drawn.length;
}

describe("worker: the SDK replay and draw agree with the market's challengesFor", () => {
  it("test_replay_matchesChallengesFor_acrossUpdatesRemovalsAndRestarts", async () => {
    const f = await setup();
    await f.market.connect(f.admin).setParameters(defaultParameters({ challengeCount: 16n }));
    const sets = [
      await liveDataSet(f, 1000n),
      await liveDataSet(f, 3000n),
      await liveDataSet(f, 5n),
      await liveDataSet(f, 4096n),
    ];
    const trees = new Map(sets.map((s) => [s.id, s.tree]));
    expect(await expectSameDraw(f)).to.be.greaterThan(0);
    await (await proveNext(f, f.provider, trees)).wait();

    // A class change and a client termination while the next period is open.
    const [a, b, c] = sets;
    if (a === undefined || b === undefined || c === undefined) throw new RangeError("sets");
    const grown = UniformTree.random(70_000n);
    await (await putState(f, a.id, grown)).wait();
    await (await f.market.connect(f.client).terminateDataSet(c.id)).wait();
    expect(await expectSameDraw(f)).to.be.greaterThan(0);
    await (await proveNext(f, f.provider, trees)).wait();
    trees.set(a.id, grown);
    for (let round = 0; round < 4; round++) {
      expect(await expectSameDraw(f)).to.be.greaterThan(0);
      await (await proveNext(f, f.provider, trees)).wait();
      // Finalizing takes the ended data set out of its class (DataSetUpdated to span 0, same version).
      await f.market.finalizeDataSet(c.id).catch(() => undefined);
    }

    expect((await f.market.dataSet(c.id)).status, "the terminated data set was removed and closed").to.equal(
      3n,
    );

    // Missed periods, then changes from the report onwards.
    await f.helpers.time.increase(10n * 3600n);
    await (await f.market.connect(f.watcher).reportMissedProofs(f.provider.address)).wait();
    await (await putState(f, b.id, UniformTree.random(9n))).wait();
    trees.set(b.id, UniformTree.random(9n));
    expect(await expectSameDraw(f)).to.be.greaterThan(0);
  });
});
