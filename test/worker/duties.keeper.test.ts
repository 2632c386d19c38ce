import { expect } from "chai";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import { defaultDuties } from "../../offchain/worker/duties/index.js";
import { FINALIZE, keeperDuty, SETTLE, TERMINATE_FAULTY } from "../../offchain/worker/duties/keeper.js";
import type { WorkerConfigOverrides } from "../../offchain/worker/config.js";
import type { Worker } from "../../offchain/worker/worker.js";
import {
  deployStorage,
  fundClient,
  proveNext,
  publishOne,
  registerProvider,
  type PieceData,
  type StorageFixture,
} from "../helpers/fixture.js";
import { counterValue, dutyWorker, missPeriods, nonceOf } from "./duties.helpers.js";
import { removeTempDirs } from "./helpers.js";

const EXPIRED = 0n;
const TOO_MANY_FAULTS = 3n;

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
    f = await deployStorage();
    provider = f.provider.address;
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
  });

  afterEach(async function () {
    for (const w of workers.splice(0)) await w.stop();
  });

  after(removeTempDirs);

  it("terminates a deal whose faults reached maxFaults and keeps the bounty share", async function () {
    const { deal } = await publishOne(f, { periods: 48n });
    const maxFaults = (await f.market.parameters()).maxFaults;
    await missPeriods(f, provider, maxFaults - 1n);
    await f.market.connect(f.client2).reportMissedProofs(provider);
    const w = await worker();
    // One fault short: nothing is read or sent.
    const nonce = await nonceOf(f, f.watcher.address);
    const short = (await w.tick()).duties.keeper as Record<string, { checked: number; confirmed: number }>;
    expect(short.terminateFaulty).to.deep.include({ checked: 0, confirmed: 0 }); // below the index bound: not even read
    expect(await nonceOf(f, f.watcher.address)).to.equal(nonce);

    await missPeriods(f, provider, 1n);
    await f.market.connect(f.client2).reportMissedProofs(provider);
    const report = (await w.tick()).duties.keeper as Record<string, { confirmed: number }>;
    expect(report.terminateFaulty).to.deep.include({ confirmed: 1 });
    const action = w.context.db.action(TERMINATE_FAULTY, deal.id.toString(), "");
    const slash = (await f.market.queryFilter(f.market.filters.Slashed(undefined, deal.id)))[0];
    expect(action?.status).to.equal("confirmed");
    expect(slash?.args.toReporter).to.be.greaterThan(0n);
    expect(action?.reward).to.equal(slash?.args.toReporter);
    expect((await f.market.queryFilter(f.market.filters.DealEnded(deal.id)))[0]?.args.reason).to.equal(
      TOO_MANY_FAULTS,
    );
    expect(await counterValue(w.context.metrics.bountyEarned)).to.equal(Number(slash?.args.toReporter));

    const after = await nonceOf(f, f.watcher.address);
    await w.tick();
    expect(await nonceOf(f, f.watcher.address)).to.equal(after);
  });

  it("finalizes a deal one period after its end once its last period is resolved", async function () {
    const { deal } = await publishOne(f, { periods: 1n });
    await f.helpers.time.increaseTo(await f.market.periodStart(deal.endPeriod));
    const w = await worker();
    // The end period just started: the provider's own agent gets a period to finalize first.
    await f.market.connect(f.client2).reportMissedProofs(provider);
    await w.tick();
    expect(w.context.db.actions({ kind: FINALIZE })).to.deep.equal([]);

    await f.helpers.time.increaseTo(await f.market.periodStart(deal.endPeriod + 1n));
    const report = (await w.tick()).duties.keeper as Record<string, { confirmed: number }>;
    expect(report.finalize).to.deep.include({ confirmed: 1 });
    expect(w.context.db.action(FINALIZE, deal.id.toString(), "")?.status).to.equal("confirmed");
    expect((await f.market.queryFilter(f.market.filters.DealEnded(deal.id)))[0]?.args.reason).to.equal(
      EXPIRED,
    );
  });

  it("settles deals not settled for settleAfterSeconds, once per period", async function () {
    const held = new Map<bigint, { deal: DealTerms; piece: PieceData }>();
    const { deal, piece } = await publishOne(f, { periods: 48n });
    held.set(deal.id, { deal, piece });
    await proveNext(f, f.provider, held);
    await f.helpers.time.increaseTo(await f.market.periodStart(deal.startPeriod + 1n));
    const w = await worker({ keeper: { settleAfterSeconds: 3600 } });
    const report = (await w.tick()).duties.keeper as Record<string, { confirmed: number }>;
    expect(report.settle).to.deep.include({ confirmed: 1 });
    const current = await f.market.currentPeriod();
    const action = w.context.db.action(SETTLE, deal.id.toString(), current.toString());
    expect(action?.status).to.equal("confirmed");
    const settled = await f.market.queryFilter(f.market.filters.DealSettled(deal.id));
    expect(settled).to.have.length(1);
    expect(settled[0]?.args.amount).to.be.greaterThan(0n);

    const nonce = await nonceOf(f, f.watcher.address);
    await w.tick();
    expect(await nonceOf(f, f.watcher.address)).to.equal(nonce);
  });

  it("skips settling when nothing is due, and does nothing with settling off or without a key", async function () {
    const { deal } = await publishOne(f, { periods: 48n });
    await missPeriods(f, provider, 2n); // nothing proven: nothing earned
    await f.market.connect(f.client2).reportMissedProofs(provider);
    const off = await worker();
    await off.tick();
    expect(off.context.db.actions({ kind: SETTLE })).to.deep.equal([]);

    const readOnly = await worker({ keeper: { settleAfterSeconds: 60 } }, true);
    await readOnly.tick();
    expect(readOnly.context.db.actions()).to.deep.equal([]);

    const on = await worker({ keeper: { settleAfterSeconds: 60 } });
    const report = (await on.tick()).duties.keeper as Record<string, { skipped: number }>;
    expect(report.settle).to.deep.include({ skipped: 1 });
    expect(on.context.db.actions({ kind: SETTLE })[0]).to.deep.include({
      subject: deal.id.toString(),
      status: "skipped",
    });
  });
});

describe("worker duties: the default set", function () {
  after(removeTempDirs);

  it("runs every default duty in one tick without a failure", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    await publishOne(f, { periods: 48n });
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
