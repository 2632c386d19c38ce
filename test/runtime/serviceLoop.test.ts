import { expect } from "chai";
import { backoffMs } from "../../offchain/runtime/backoff.js";
import {
  createServiceLoop,
  MAX_FAILURE_BACKOFF_MS,
  type ServiceLoopOptions,
} from "../../offchain/runtime/serviceLoop.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { deferred, ManualBlocks, ManualTimers, settle } from "../helpers/fakes.js";

interface Report {
  n: number;
  ok: boolean;
}

function loopWith(overrides: Partial<ServiceLoopOptions<Report>> = {}) {
  const timers = new ManualTimers();
  const blocks = new ManualBlocks();
  let n = 0;
  const loop = createServiceLoop<Report>({
    runTick: () => Promise.resolve({ n: ++n, ok: true }),
    idle: () => ({ n: 0, ok: true }),
    intervalMs: 1000,
    failed: (report) => !report.ok,
    timers,
    blocks,
    random: () => 0.5,
    ...overrides,
  });
  return { loop, timers, blocks, ticks: () => n };
}

describe("service loop", function () {
  it("test_start_ticksAtOnceThenEveryInterval", async function () {
    const { loop, timers, ticks } = loopWith();
    await loop.start();
    expect(timers.delays()).to.deep.equal([0]);
    await timers.fire();
    expect(ticks()).to.equal(1);
    expect(timers.delays()).to.deep.equal([1000]);
    await timers.fire();
    expect(ticks()).to.equal(2);
    expect(timers.delays()).to.deep.equal([1000]);
    await loop.stop();
    expect(timers.delays()).to.deep.equal([]);
  });

  it("test_tick_neverOverlaps: a second tick waits for the running one", async function () {
    const gate = deferred();
    const order: string[] = [];
    let n = 0;
    const { loop } = loopWith({
      runTick: async () => {
        const mine = ++n;
        order.push(`start ${mine}`);
        if (mine === 1) await gate.promise;
        order.push(`end ${mine}`);
        return { n: mine, ok: true };
      },
    });
    const first = loop.tick();
    const second = loop.tick();
    await settle();
    expect(order).to.deep.equal(["start 1"]);
    gate.resolve();
    expect((await first).n).to.equal(1);
    expect((await second).n).to.equal(2);
    expect(order).to.deep.equal(["start 1", "end 1", "start 2", "end 2"]);
  });

  it("test_backoff_schedule: failures double the pause up to the cap; a success resets it", async function () {
    const results = [false, false, false, false, false, false, false, false, true];
    let n = 0;
    const { loop, timers } = loopWith({
      runTick: () => Promise.resolve({ n: ++n, ok: results[n - 1] ?? true }),
      backoff: { baseMs: 1000, maxMs: 30_000 },
    });
    await loop.start();
    const delays: number[] = [];
    // each tick leaves exactly one timer: the pause before the next
    while (delays.length < results.length) {
      await timers.fire();
      delays.push(...timers.delays());
    }
    // equal jitter with random 0.5: 3/4 of base * 2^(failures-1), capped at 30 s
    expect(delays).to.deep.equal([750, 1500, 3000, 6000, 12_000, 22_500, 22_500, 22_500, 1000]);
    expect(delays.slice(0, 8)).to.deep.equal(
      [1, 2, 3, 4, 5, 6, 7, 8].map((f) => backoffMs(f, 1000, 30_000, () => 0.5)),
    );
    expect(loop.failures).to.equal(0);
    await loop.stop();
  });

  it("test_backoff_default: base is the interval, cap MAX_FAILURE_BACKOFF_MS; a throwing tick counts as failed", async function () {
    const errors: unknown[] = [];
    const { loop, timers } = loopWith({
      runTick: () => Promise.reject(new StrataError("RPC_FAILED", "down")),
      onTickError: (error) => errors.push(error),
    });
    await loop.start();
    for (let i = 0; i < 12; i++) await timers.fire();
    expect(loop.failures).to.equal(12);
    expect(timers.delays()).to.deep.equal([Math.round(MAX_FAILURE_BACKOFF_MS * 0.75)]);
    expect(errors).to.have.length(12);
    expect(errors[0]).to.be.instanceOf(StrataError).with.property("code", "RPC_FAILED");
    await loop.stop();
  });

  it("test_blocks: a new block ticks at once, unless a tick runs or the loop is backing off", async function () {
    let ok = true;
    const gate = deferred();
    let hold = false;
    let n = 0;
    const { loop, timers, blocks } = loopWith({
      runTick: async () => {
        n++;
        if (hold) await gate.promise;
        return { n, ok };
      },
    });
    await loop.start();
    await timers.fire();
    expect(timers.delays()).to.deep.equal([1000]);
    blocks.mine();
    expect(timers.delays()).to.deep.equal([0]); // rescheduled now, the interval timer replaced
    hold = true;
    await timers.fire(); // a tick that waits on the gate
    blocks.mine();
    expect(timers.delays()).to.deep.equal([]); // nothing scheduled while the tick runs
    hold = false;
    ok = false;
    gate.resolve();
    await settle();
    expect(loop.failures).to.equal(1);
    const backingOff = timers.delays();
    expect(backingOff).to.deep.equal([750]);
    blocks.mine();
    expect(timers.delays()).to.deep.equal(backingOff); // a block does not cut the backoff short
    await loop.stop();
    expect(blocks.listeners.size).to.equal(0);
  });

  it("test_blockTickGap: a block ticks no sooner than the gap after the last tick, and never delays a sooner one", async function () {
    let clock = 10_000;
    const { loop, timers, blocks, ticks } = loopWith({ blockTickGapMs: 400, now: () => clock });
    await loop.start();
    await timers.fire(); // tick 1 at t = 10,000; the next one is due at 11,000
    expect(timers.delays()).to.deep.equal([1000]);
    clock += 100;
    blocks.mine(); // 100 ms after the tick: brought forward to 400 ms after it, not run at once
    expect(timers.delays()).to.deep.equal([300]);
    clock += 50;
    blocks.mine(); // a second block meanwhile changes nothing: the tick is already due sooner
    expect(timers.delays()).to.deep.equal([300]);
    clock += 250;
    await timers.fire();
    expect(ticks()).to.equal(2);
    clock += 500;
    blocks.mine(); // 500 ms after the last tick: at once
    expect(timers.delays()).to.deep.equal([0]);
    await timers.fire();
    expect(ticks()).to.equal(3);
    clock += 10;
    blocks.mine(); // brought forward from the interval's 990 ms to the gap's 390 ms
    expect(timers.delays()).to.deep.equal([390]);
    loop.wake(); // a wake is not held back by the gap, and a block then leaves the sooner tick alone
    expect(timers.delays()).to.deep.equal([0]);
    blocks.mine();
    expect(timers.delays()).to.deep.equal([0]);
    await loop.stop();
  });

  it("test_wake_idle: a wake ticks at once instead of after the interval", async function () {
    const { loop, timers, ticks } = loopWith();
    loop.wake(); // before start: nothing to wake
    expect(timers.delays()).to.deep.equal([]);
    await loop.start();
    await timers.fire();
    expect(timers.delays()).to.deep.equal([1000]);
    loop.wake();
    expect(timers.delays()).to.deep.equal([0]); // the interval timer replaced by one for now
    await timers.fire();
    expect(ticks()).to.equal(2);
    expect(timers.delays()).to.deep.equal([1000]); // then the interval again
    await loop.stop();
    loop.wake();
    expect(timers.delays()).to.deep.equal([]);
  });

  it("test_wake_duringTick: the running tick is followed at once by one more, which sees what was queued", async function () {
    const gate = deferred();
    let hold = false;
    const queue: string[] = [];
    const seen: string[][] = [];
    let n = 0;
    const { loop, timers } = loopWith({
      runTick: async () => {
        n++;
        const taken = queue.splice(0);
        if (hold) await gate.promise;
        seen.push(taken);
        return { n, ok: true };
      },
    });
    await loop.start();
    await timers.fire();
    hold = true;
    loop.wake();
    void timers.fire(); // a tick that took the (empty) queue and waits on the gate
    await settle();
    queue.push("state 1", "state 2"); // arrive while it runs: too late for it
    loop.wake();
    loop.wake();
    expect(timers.delays()).to.deep.equal([]); // nothing scheduled while the tick runs
    hold = false;
    gate.resolve();
    await settle();
    expect(timers.delays()).to.deep.equal([0]); // the follow-up comes at once, not after 1000 ms
    await timers.fire();
    expect(seen).to.deep.equal([[], [], ["state 1", "state 2"]]); // both in one tick
    expect(timers.delays()).to.deep.equal([1000]);
    await loop.stop();
  });

  it("test_wake_duringManualTick: a wake during a tick called by hand schedules one right after it", async function () {
    const gate = deferred();
    let n = 0;
    const { loop, timers } = loopWith({
      runTick: async () => {
        n++;
        if (n === 2) await gate.promise;
        return { n, ok: true };
      },
    });
    await loop.start();
    await timers.fire();
    expect(timers.delays()).to.deep.equal([1000]);
    const manual = loop.tick();
    await settle();
    loop.wake();
    expect(timers.delays()).to.deep.equal([1000]);
    gate.resolve();
    await manual;
    expect(timers.delays()).to.deep.equal([0]);
    await loop.stop();
  });

  it("test_wake_backingOff: a wake does not cut a failure backoff short", async function () {
    const { loop, timers } = loopWith({ runTick: () => Promise.resolve({ n: 1, ok: false }) });
    await loop.start();
    await timers.fire();
    expect(timers.delays()).to.deep.equal([750]);
    loop.wake();
    expect(timers.delays()).to.deep.equal([750]);
    await loop.stop();
  });

  it("test_stop_duringTick: stop waits for the running tick, then nothing more runs", async function () {
    const gate = deferred();
    let sawStopping = false;
    let n = 0;
    const { loop, timers, blocks } = loopWith({
      runTick: async (isStopping) => {
        n++;
        await gate.promise;
        sawStopping = isStopping();
        return { n, ok: true };
      },
    });
    await loop.start();
    void timers.fire();
    await settle();
    expect(n).to.equal(1);
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).to.equal(false); // the tick still runs
    expect(loop.stopped).to.equal(true);
    gate.resolve();
    await stopping;
    expect(sawStopping).to.equal(true); // the tick could see the stop and cut its work short
    await settle();
    expect(timers.delays()).to.deep.equal([]); // no tick scheduled after the stop
    blocks.mine();
    expect(timers.delays()).to.deep.equal([]);
    expect(await loop.tick()).to.deep.equal({ n: 0, ok: true }); // idle report, nothing ran
    expect(n).to.equal(1);
  });

  it("test_stop_idempotent_and_final: SERVICE_STOPPED on start after stop", async function () {
    const { loop } = loopWith();
    const a = loop.stop();
    const b = loop.stop();
    expect(a).to.equal(b);
    await a;
    const error = await loop.start().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StrataError).with.property("code", "SERVICE_STOPPED");
  });
});

describe("backoff", function () {
  it("test_backoffMs: capped at maxMs, jitter between half and all of the step", function () {
    expect(backoffMs(1, 100, 1000, () => 0)).to.equal(50);
    expect(backoffMs(3, 100, 1000, () => 1)).to.equal(400);
    expect(backoffMs(10, 100, 1000, () => 1)).to.equal(1000);
    expect(backoffMs(60, 100, 30_000, () => 0.5)).to.equal(22_500);
    for (let i = 0; i < 50; i++) {
      const ms = backoffMs(4, 100, 1000);
      expect(ms).to.be.within(400, 800);
    }
  });
});
