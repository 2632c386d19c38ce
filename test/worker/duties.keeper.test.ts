import { expect } from "chai";
import { defaultDuties } from "../../offchain/worker/duties/index.js";
import { FINALIZE, keeperDuty, SETTLE, TERMINATE_FAULTY } from "../../offchain/worker/duties/keeper.js";
import type { WorkerConfigOverrides } from "../../offchain/worker/config.js";
import type { Worker } from "../../offchain/worker/worker.js";
import { proveNext, type StorageFixture, type UniformTree } from "../helpers/fixture.js";
import { setup } from "../storage/dataSets.helpers.js";
import { openDataSet } from "./dataSets.helpers.js";
import { counterValue, dutyWorker, missPeriods, nonceOf } from "./duties.helpers.js";
import { removeTempDirs } from "./helpers.js";

/** IStorageMarket.EndReason. */
const CLIENT_TERMINATED = 1n;
const FAULTY = 3n;

type KeeperReport = Record<string, { checked: number; confirmed: number; skipped: number }>;

describe("worker duty: keeper", function () {
  let f: StorageFixture;
  let provider: string;
  const workers: Worker[] = [];

  const worker = async (overrides: WorkerConfigOverrides = {}, readOnly = false) => {
    const w = await dutyWorker(f, {
      ...(readOnly ? {} : { signer: f.watcher }),
      duties: [keeperDuty()],
      overrides,
    });
    workers.push(w);
    return w;
  };

  beforeEach(async function () {
    f = await setup();
    provider = f.provider.address;
  });

  afterEach(async function () {
    for (const w of workers.splice(0)) await w.stop();
  });

  after(removeTempDirs);

  it("terminates a data set whose faults reached maxFaults and keeps the bounty share", async function () {
    const { id } = await openDataSet(f);
    const maxFaults = (await f.market.parameters()).maxFaults;
    const w = await worker();
    const nonce = await nonceOf(f, f.watcher.address);
    const clean = (await w.tick()).duties.keeper as KeeperReport;
    expect(clean.terminateFaulty).to.deep.include({ checked: 0, confirmed: 0 }); // no fault indexed: not even read
    expect(await nonceOf(f, f.watcher.address)).to.equal(nonce);

    await missPeriods(f, provider, maxFaults + 1n);
    await f.market.connect(f.client2).reportMissedProofs(provider);
    const report = (await w.tick()).duties.keeper as KeeperReport;
    expect(report.terminateFaulty).to.deep.include({ confirmed: 1 });
    const action = w.context.db.action(TERMINATE_FAULTY, id.toString(), "");
    const slash = (await f.market.queryFilter(f.market.filters.Slashed(undefined, id)))[0];
    expect(action?.status).to.equal("confirmed");
    expect(action?.reward).to.equal(slash?.args.toReporter);
    expect((await f.market.queryFilter(f.market.filters.DataSetEnded(id)))[0]?.args.reason).to.equal(FAULTY);
    expect(await counterValue(w.context.metrics.bountyEarned)).to.equal(Number(slash?.args.toReporter));

    const after = await nonceOf(f, f.watcher.address);
    await w.tick();
    expect(await nonceOf(f, f.watcher.address)).to.equal(after);
  });

  it("finalizes a terminated data set once its end period is resolved: removal, then closing", async function () {
    const { id, tree } = await openDataSet(f);
    await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
    await (await f.market.connect(f.client).terminateDataSet(id)).wait();
    const end = (await f.market.dataSet(id)).endPeriod;
    const w = await worker();
    await w.tick();
    expect(w.context.db.actions({ kind: FINALIZE })).to.deep.equal([]); // not over yet

    await f.helpers.time.increaseTo(await f.market.periodStart(end + 1n));
    for (let i = 0; i < 3 && (await f.market.dataSet(id)).status !== 3n; i++) await w.tick();
    expect((await f.market.dataSet(id)).status).to.equal(3n);
    expect(w.context.db.actions({ kind: FINALIZE }).every((a) => a.status === "confirmed")).to.be.true;
    expect((await f.market.queryFilter(f.market.filters.DataSetEnded(id)))[0]?.args.reason).to.equal(
      CLIENT_TERMINATED,
    );
  });

  it("settles due data sets in one settleDataSets call, then waits settleAfterSeconds", async function () {
    const trees = new Map<bigint, UniformTree>();
    // Large spans at a high price: a few periods earn whole base units.
    for (const span of [1n << 24n, 1n << 22n, (1n << 20n) + 3n]) {
      const { id, tree } = await openDataSet(f, span, { price: 2_500_000_000n });
      trees.set(id, tree);
    }
    await (await proveNext(f, f.provider, trees)).wait();
    await (await proveNext(f, f.provider, trees)).wait();
    const w = await worker({ keeper: { settleAfterSeconds: 60, settleBatchSize: 10 } });
    const report = (await w.tick()).duties.keeper as KeeperReport;
    expect(report.settle).to.deep.include({ confirmed: 1 });
    const [action] = w.context.db.actions({ kind: SETTLE });
    expect(action?.subject.split(",")).to.have.length(3);
    const settled = await f.market.queryFilter(f.market.filters.DataSetSettled());
    expect(new Set(settled.map((e) => e.transactionHash))).to.have.length(1);
    expect(settled.map((e) => e.args.id).sort()).to.deep.equal([...trees.keys()].sort());
    expect(settled.every((e) => e.args.amount > 0n)).to.be.true;

    const nonce = await nonceOf(f, f.watcher.address);
    await w.tick();
    expect(await nonceOf(f, f.watcher.address)).to.equal(nonce);
  });

  it("skips settling when nothing is due, and does nothing with settling off or without a key", async function () {
    await openDataSet(f);
    await missPeriods(f, provider, 2n); // nothing proven: nothing earned
    await f.market.connect(f.client2).reportMissedProofs(provider);
    const off = await worker();
    await off.tick();
    expect(off.context.db.actions({ kind: SETTLE })).to.deep.equal([]);

    const readOnly = await worker({ keeper: { settleAfterSeconds: 60 } }, true);
    await readOnly.tick();
    expect(readOnly.context.db.actions()).to.deep.equal([]);

    const on = await worker({ keeper: { settleAfterSeconds: 60 } });
    const report = (await on.tick()).duties.keeper as KeeperReport;
    expect(report.settle).to.deep.include({ skipped: 1 });
    expect(on.context.db.actions({ kind: SETTLE })[0]).to.deep.include({ status: "skipped" });
  });
});

describe("worker duties: the default set", function () {
  after(removeTempDirs);

  it("runs every default duty in one tick without a failure", async function () {
    const f = await setup();
    await openDataSet(f);
    await missPeriods(f, f.provider.address);
    const base = await dutyWorker(f, { signer: f.watcher });
    const config = base.context.config;
    await base.stop();
    const w = await dutyWorker(f, {
      signer: f.watcher,
      duties: defaultDuties(config),
      dbPath: config.dbPath,
    });
    try {
      const report = await w.tick();
      expect(Object.keys(report.duties)).to.deep.equal([
        "missedProofs",
        "keeper",
        "proofVerifier",
        "retrievalSampler",
        "retrievalChallenger",
      ]);
      expect(Object.values(report.duties).every((r) => r !== undefined)).to.be.true;
      expect(await counterValue(w.context.metrics.dutyFailures)).to.equal(0);
      expect(report.duties.missedProofs).to.deep.include({ reported: 1 });
    } finally {
      await w.stop();
    }
  });
});
