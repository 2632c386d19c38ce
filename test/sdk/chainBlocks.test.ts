import { expect } from "chai";
import type { DataSetReader } from "../../offchain/sdk/client/dataSets.js";
import { awaitVersion } from "../../offchain/sdk/client/store.js";
import { onEachBlock } from "../../offchain/sdk/chain/blocks.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { deferred, ManualBlocks, ManualTimers, settle } from "../helpers/fakes.js";

const timeout = (): Error => new StrataError("PUBLISH_TIMEOUT", "too late");

describe("waiting block by block (sdk/chain/blocks)", function () {
  it("test_onEachBlock_resolvesOnTheBlockThatAnswers: one check at once, then one per block", async function () {
    const blocks = new ManualBlocks();
    const timers = new ManualTimers();
    const seen: number[] = [];
    let done = false;
    const waiting = onEachBlock(
      blocks,
      () => {
        seen.push(blocks.number);
        return Promise.resolve(blocks.number >= 103 ? `at ${blocks.number}` : undefined);
      },
      { timeoutMs: 60_000, onTimeout: timeout, timers },
    ).then((value) => {
      done = true;
      return value;
    });
    await settle();
    expect(seen).to.deep.equal([100]);
    blocks.mine();
    await settle();
    blocks.mine();
    await settle();
    expect(done).to.equal(false);
    blocks.mine();
    expect(await waiting).to.equal("at 103");
    expect(seen).to.deep.equal([100, 101, 102, 103]);
    // Nothing left behind: no listener, no timer.
    expect(blocks.listeners.size).to.equal(0);
    expect(timers.pending.size).to.equal(0);
  });

  it("test_onEachBlock_blocksDuringACheck: folded into one more check, never two at once", async function () {
    const blocks = new ManualBlocks();
    const gate = deferred();
    let running = 0;
    let most = 0;
    let calls = 0;
    const waiting = onEachBlock(
      blocks,
      async () => {
        calls++;
        running++;
        most = Math.max(most, running);
        if (calls === 1) await gate.promise;
        running--;
        return calls === 2 ? "second" : undefined;
      },
      { timeoutMs: 60_000, onTimeout: timeout, timers: new ManualTimers() },
    );
    await settle();
    blocks.mine();
    blocks.mine();
    blocks.mine();
    gate.resolve();
    expect(await waiting).to.equal("second");
    expect(calls).to.equal(2);
    expect(most).to.equal(1);
  });

  it("test_onEachBlock_timeoutAndErrors: the timeout rejects, a failing check rejects; both unsubscribe", async function () {
    const blocks = new ManualBlocks();
    const timers = new ManualTimers();
    const late = onEachBlock(blocks, () => Promise.resolve(undefined), {
      timeoutMs: 5,
      onTimeout: timeout,
      timers,
    });
    await settle();
    timers.fireAll();
    const error = await late.catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StrataError).with.property("code", "PUBLISH_TIMEOUT");
    expect(blocks.listeners.size).to.equal(0);

    let n = 0;
    const failing = onEachBlock(
      blocks,
      () => (++n === 2 ? Promise.reject(new StrataError("RPC_FAILED", "down")) : Promise.resolve(undefined)),
      { timeoutMs: 60_000, onTimeout: timeout, timers },
    );
    await settle();
    blocks.mine();
    const failure = await failing.catch((e: unknown) => e);
    expect(failure).to.be.instanceOf(StrataError).with.property("code", "RPC_FAILED");
    expect(blocks.listeners.size).to.equal(0);
    expect(timers.pending.size).to.equal(0);
  });
});

describe("awaitVersion follows the chain block by block", function () {
  /** A market whose data set 7 shows `version`, live unless `status` says otherwise. */
  function marketAt(state: {
    version: bigint;
    status: bigint;
    reads: number;
  }): Pick<DataSetReader, "dataSet"> {
    const view = () => ({
      client: "0x1",
      provider: "0x2",
      pricePerTiBMonth: 1n,
      collateralPerTiB: 1n,
      noticePeriods: 1n,
      endPeriod: 0n,
      status: state.status,
      version: state.version,
      root: "0x00",
      span: 0n,
      escrow: 0n,
      paid: 0n,
      missedFaults: 0n,
      declaredFaults: 0n,
    });
    const dataSet = () => {
      state.reads++;
      return Promise.resolve(view());
    };
    return { dataSet } as unknown as Pick<DataSetReader, "dataSet">;
  }

  it("test_awaitVersion_resolvesOnTheApplyingBlock: no poll interval, one read per block", async function () {
    const blocks = new ManualBlocks();
    const state = { version: 1n, status: 1n, reads: 0 };
    const sleeps: number[] = [];
    let resolved = false;
    const waiting = awaitVersion(marketAt(state), 7n, 2n, {
      blocks,
      sleep: (ms) => {
        sleeps.push(ms);
        return new Promise(() => undefined); // a poll would never come back: only blocks can end the wait
      },
      now: Date.now,
      timeoutMs: 60_000,
      pollMs: 1000,
    }).then(() => {
      resolved = true;
    });
    await settle();
    blocks.mine(); // a block that does not apply it
    await settle();
    expect(resolved).to.equal(false);
    state.version = 2n; // the agent's update lands in the next block
    blocks.mine();
    await waiting;
    expect(state.reads).to.equal(3); // at the start and once per block
    expect(sleeps).to.deep.equal([]);
    expect(blocks.listeners.size).to.equal(0);
  });

  it("test_awaitVersion_endedDataSet: PROVIDER_REJECTED as soon as a block shows it is not live", async function () {
    const blocks = new ManualBlocks();
    const state = { version: 1n, status: 1n, reads: 0 };
    const waiting = awaitVersion(marketAt(state), 7n, 2n, {
      blocks,
      sleep: () => new Promise(() => undefined),
      now: Date.now,
      timeoutMs: 60_000,
      pollMs: 1000,
    });
    await settle();
    state.status = 2n; // ending
    blocks.mine();
    const error = await waiting.catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StrataError).with.property("code", "PROVIDER_REJECTED");
  });

  it("test_awaitVersion_timeout: PUBLISH_TIMEOUT naming the version the chain shows", async function () {
    const blocks = new ManualBlocks();
    const state = { version: 4n, status: 1n, reads: 0 };
    const error = await awaitVersion(marketAt(state), 7n, 5n, {
      blocks,
      sleep: () => new Promise(() => undefined),
      now: Date.now,
      timeoutMs: 20,
      pollMs: 1000,
    }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StrataError).with.property("code", "PUBLISH_TIMEOUT");
    expect((error as StrataError).details).to.contain("version 4");
    expect(blocks.listeners.size).to.equal(0);
  });
});
