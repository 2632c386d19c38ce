import { expect } from "chai";
import type { Duty } from "../../offchain/worker/context.js";
import {
  ENFORCE_CHALLENGE,
  OPEN_CHALLENGE,
  failureStreak,
  retrievalChallengerDuty,
} from "../../offchain/worker/duties/retrievalChallenger.js";
import { retrievalSamplerDuty, runSamplingRound } from "../../offchain/worker/duties/retrievalSampler.js";
import type { SampleRecord } from "../../offchain/worker/db/index.js";
import type { WorkerConfigOverrides } from "../../offchain/worker/config.js";
import type { Worker } from "../../offchain/worker/worker.js";
import { USDC, type StorageFixture, type UniformTree } from "../helpers/fixture.js";
import { setup as storageSetup } from "../storage/dataSets.helpers.js";
import { openDataSet } from "./dataSets.helpers.js";
import { counterValue, dutyWorker, fakeEndpoint, nonceOf, type FakeEndpoint } from "./duties.helpers.js";
import { removeTempDirs } from "./helpers.js";

const SAMPLING = {
  enabled: true,
  intervalMs: 60_000,
  perTick: 10,
  timeoutMs: 400,
  maxBytes: 64 * 1024,
  failuresBeforeChallenge: 2,
};
const RETRIEVAL_FAILED = 4n;

describe("worker duties: retrieval sampling and challenges", function () {
  let f: StorageFixture;
  let endpoint: FakeEndpoint;
  let ids: bigint[];
  let trees: Map<bigint, UniformTree>;
  const workers: Worker[] = [];

  const worker = async (overrides: WorkerConfigOverrides = {}) => {
    const w = await dutyWorker(f, {
      signer: f.watcher,
      overrides: { sampling: SAMPLING, challenges: { enabled: true, maxOpen: 4 }, ...overrides },
    });
    workers.push(w);
    await w.tick();
    return w;
  };

  /** Open `count` data sets whose provider serves them from the fake endpoint. */
  const setup = async (count: number) => {
    f = await storageSetup();
    trees = new Map();
    for (let i = 0; i < count; i++) {
      const { id, tree } = await openDataSet(f, 300n + BigInt(i));
      trees.set(id, tree);
    }
    ids = [...trees.keys()];
    endpoint = await fakeEndpoint(trees);
    await f.registry
      .connect(f.provider)
      .updateProvider(f.provider.address, endpoint.url, 1n << 40n, 2n * USDC);
  };

  afterEach(async function () {
    for (const w of workers.splice(0)) await w.stop();
    await endpoint.close();
  });

  after(removeTempDirs);

  it("samples random leaves and records every kind of provider failure without throwing", async function () {
    this.timeout(30_000);
    await setup(1);
    const w = await worker();
    const expected: [FakeEndpoint["mode"], string | null][] = [
      ["honest", null],
      ["hang", "PROVIDER_TIMEOUT"],
      ["huge", "PROVIDER_BAD_DATA"],
      ["wrong-leaf", "PROVIDER_BAD_DATA"],
      ["not-found", "PROVIDER_REJECTED"],
    ];
    const id = ids[0];
    if (id === undefined) throw new Error("no data set");
    for (const [mode, code] of expected) {
      endpoint.mode = mode;
      const started = Date.now();
      const round = await runSamplingRound(w.context);
      expect(round, mode).to.deep.equal({ ran: true, sampled: 1, failed: code === null ? 0 : 1 });
      expect(Date.now() - started, mode).to.be.lessThan(5000);
      const [sample] = w.context.db.recentSamples(id, 1);
      expect(sample?.errorCode ?? null, mode).to.equal(code);
      expect(sample?.ok, mode).to.equal(code === null);
    }
    // An endpoint nobody listens on.
    await endpoint.close();
    const round = await runSamplingRound(w.context);
    expect(round.failed).to.equal(1);
    expect(w.context.db.recentSamples(id, 1)[0]?.errorCode).to.equal("PROVIDER_UNREACHABLE");
    const { retrievalSamples } = w.context.metrics;
    expect(await counterValue(retrievalSamples, { result: "ok" })).to.equal(1);
    expect(await counterValue(retrievalSamples, { result: "PROVIDER_BAD_DATA" })).to.equal(2);
    expect(await counterValue(retrievalSamples, { result: "PROVIDER_TIMEOUT" })).to.equal(1);
    endpoint = await fakeEndpoint(trees); // for afterEach
  });

  it("samples once per interval", async function () {
    await setup(1);
    const w = await worker();
    const duty = retrievalSamplerDuty();
    expect(await duty.run(w.context)).to.deep.include({ ran: true, sampled: 1 });
    expect(await duty.run(w.context)).to.deep.include({ ran: false, sampled: 0 });
  });

  it("opens a challenge after N failures once funded, and enforcing it after the deadline slashes the data set", async function () {
    await setup(1);
    const id = ids[0];
    if (id === undefined) throw new Error("no data set");
    const w = await worker();
    const challenger = retrievalChallengerDuty();
    endpoint.mode = "not-found";

    await runSamplingRound(w.context);
    expect(await challenger.run(w.context)).to.deep.include({ opened: 0, waiting: 0 });
    expect(w.context.db.actions({ kind: OPEN_CHALLENGE })).to.deep.equal([]);

    // N failures, but the worker holds no tokens for the bond: the action waits, nothing is sent.
    await runSamplingRound(w.context);
    const nonce = await nonceOf(f, f.watcher.address);
    expect(await challenger.run(w.context)).to.deep.include({ opened: 0, waiting: 1 });
    expect(await nonceOf(f, f.watcher.address)).to.equal(nonce);
    const [pending] = w.context.db.actions({ kind: OPEN_CHALLENGE });
    expect(pending?.status).to.equal("pending");

    const { bond, responseWindow } = await f.retrievalChallenges.parameters();
    await f.token.mint(f.watcher.address, bond);
    expect(await challenger.run(w.context)).to.deep.include({ opened: 1 });
    const failing = w.context.db.recentSamples(id).filter((s) => !s.ok);
    const opened = w.context.db.action(
      OPEN_CHALLENGE,
      id.toString(),
      String(failing[failing.length - 1]?.id),
    );
    expect(opened?.status).to.equal("confirmed");
    expect(await f.retrievalChallenges.openChallengeOf(id)).to.equal(1n);
    const challenge = await f.retrievalChallenges.challengeOf(1n);
    expect(challenge.challenger).to.equal(f.watcher.address);
    expect(challenge.leafIndex).to.equal(BigInt(failing[0]?.leafIndex ?? -1));

    // Not enforced before the deadline, and no second challenge while it is open.
    await w.tick();
    expect(await challenger.run(w.context)).to.deep.include({ opened: 0, enforced: 0 });
    expect(w.context.db.actions({ kind: OPEN_CHALLENGE })).to.have.length(1);

    await f.helpers.time.increase(responseWindow + 1n);
    await w.tick();
    const result = await challenger.run(w.context);
    expect(result).to.deep.include({ enforced: 1 });
    const enforced = w.context.db.action(ENFORCE_CHALLENGE, "1", "");
    expect(enforced?.status).to.equal("confirmed");
    expect((await f.market.dataSet(id)).status).to.equal(3n);
    const ended = await f.market.queryFilter(f.market.filters.DataSetEnded(id));
    expect(ended[0]?.args.reason).to.equal(RETRIEVAL_FAILED);
    const slash = (await f.market.queryFilter(f.market.filters.Slashed(undefined, id)))[0];
    expect(slash).to.not.equal(undefined);
    expect(enforced?.reward).to.equal(slash?.args.toReporter);
    expect(await f.market.balanceOf(f.watcher.address)).to.equal(slash?.args.toReporter);
    expect(await f.retrievalChallenges.balanceOf(f.watcher.address)).to.equal(bond);

    await w.tick(); // the index sees the outcome
    await challenger.run(w.context);
    const { challenges } = w.context.metrics;
    expect(await counterValue(challenges, { outcome: "opened" })).to.equal(1);
    expect(await counterValue(challenges, { outcome: "failed" })).to.equal(1);
  });

  it("keeps to maxOpen, and does not challenge again during a streak after an answered challenge", async function () {
    await setup(2);
    const w = await worker({ challenges: { enabled: true, maxOpen: 1 } });
    await f.token.mint(f.watcher.address, 100n * USDC);
    const challenger = retrievalChallengerDuty();
    await challenger.run(w.context); // first run: starts counting outcomes from here
    endpoint.mode = "not-found";
    await runSamplingRound(w.context);
    await runSamplingRound(w.context);
    expect(await challenger.run(w.context)).to.deep.include({ opened: 1, held: 1 });
    expect(await f.retrievalChallenges.challengeCount()).to.equal(1n);

    // The provider answers on chain: the bond is its.
    const challenge = await f.retrievalChallenges.challengeOf(1n);
    const challenged = challenge.dataSetId;
    const tree = trees.get(challenged);
    if (!tree) throw new Error("challenged data set unknown");
    const leaf = challenge.leafIndex;
    await f.retrievalChallenges.connect(f.provider).answerChallenge(1n, tree.leaf(leaf), tree.path(leaf));
    await w.tick();

    // Still failing over HTTP: the other data set gets its challenge, the answered one is not challenged again.
    await runSamplingRound(w.context);
    expect(await challenger.run(w.context)).to.deep.include({ opened: 1, held: 0 });
    expect(await f.retrievalChallenges.challengeCount()).to.equal(2n);
    expect((await f.retrievalChallenges.challengeOf(2n)).dataSetId).to.not.equal(challenged);
    expect(w.context.db.actions({ kind: OPEN_CHALLENGE, subject: challenged.toString() })).to.have.length(1);
    expect(await counterValue(w.context.metrics.challenges, { outcome: "answered" })).to.equal(1);
  });

  it("a read-only worker samples and reports failing data sets but opens nothing", async function () {
    await setup(1);
    const w = await dutyWorker(f, { overrides: { sampling: SAMPLING } });
    workers.push(w);
    await w.tick();
    endpoint.mode = "not-found";
    const duties: Duty[] = [retrievalChallengerDuty()];
    await runSamplingRound(w.context);
    await runSamplingRound(w.context);
    expect(await duties[0]?.run(w.context)).to.deep.include({ opened: 0, held: 1 });
    expect(w.context.db.actions()).to.deep.equal([]);
  });
});

describe("worker duties: failure streaks", function () {
  const sample = (id: number, ok: boolean): SampleRecord => ({
    id,
    dataSetId: 1n,
    provider: "0x0000000000000000000000000000000000000001",
    leafIndex: id,
    ok,
    errorCode: ok ? null : "PROVIDER_TIMEOUT",
    latencyMs: 1,
    at: id,
  });

  it("starts after the last success and needs N failures", function () {
    // Newest first.
    const samples = [sample(9, false), sample(8, false), sample(7, true), sample(6, false)];
    expect(failureStreak(samples, 3)).to.equal(undefined);
    expect(failureStreak(samples, 2)).to.deep.include({ lastSuccessId: 7 });
    expect(failureStreak(samples, 2)?.first.id).to.equal(8);
    expect(failureStreak(samples, 2)?.last.id).to.equal(9);
    const never = [sample(3, false), sample(2, false), sample(1, false)];
    expect(failureStreak(never, 3)).to.deep.include({ lastSuccessId: 0 });
    expect(failureStreak([sample(1, true)], 1)).to.equal(undefined);
  });
});
