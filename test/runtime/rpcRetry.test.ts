import { expect } from "chai";
import { ChainRevertError } from "../../offchain/sdk/chain/revert.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { createMetrics } from "../../offchain/worker/metrics.js";
import {
  classifyRpcError,
  isRangeTooLarge,
  withRetry,
  type RpcErrorKind,
} from "../../offchain/runtime/rpc/retry.js";

function networkError(): Error {
  return Object.assign(new Error("request failed: connect ECONNREFUSED 127.0.0.1:8545"), {
    code: "ECONNREFUSED",
  });
}

/** A function failing with `errors` in turn, then returning "done". */
function failing(errors: Error[]): { fn: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    fn: () => {
      const error = errors[calls++];
      return error === undefined ? Promise.resolve("done") : Promise.reject(error);
    },
    calls: () => calls,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("runtime RPC retries", function () {
  it("test_withRetry_backoff: network errors are retried with exponential backoff, then it succeeds", async function () {
    const sleeps: number[] = [];
    const kinds: RpcErrorKind[] = [];
    const metrics = createMetrics({ defaults: false });
    const { fn, calls } = failing([networkError(), networkError(), networkError()]);
    const result = await withRetry(fn, {
      attempts: 5,
      baseMs: 100,
      maxMs: 10_000,
      timeoutMs: 1000,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      random: () => 1,
      metrics,
      onError: (_error, info) => kinds.push(info.kind),
    });
    expect(result).to.equal("done");
    expect(calls()).to.equal(4);
    expect(sleeps).to.deep.equal([100, 200, 400]);
    expect(kinds).to.deep.equal(["network", "network", "network"]);
    const counted = (await metrics.rpcErrors.get()).values.find((v) => v.labels.kind === "network");
    expect(counted?.value).to.equal(3);
  });

  it("test_withRetry_revertNotRetried: a revert is rethrown at once", async function () {
    const revert = Object.assign(new Error("execution reverted"), { code: "CALL_EXCEPTION", data: "0x" });
    const { fn, calls } = failing([revert]);
    expect(await rejection(withRetry(fn, { attempts: 5, sleep: () => Promise.resolve() }))).to.equal(revert);
    expect(calls()).to.equal(1);
    const wrapped = new ChainRevertError(
      "simulation reverted",
      { name: "MarketNoMissedPeriods", args: [] },
      revert,
    );
    const second = failing([wrapped]);
    expect(await rejection(withRetry(second.fn, { attempts: 5, sleep: () => Promise.resolve() }))).to.equal(
      wrapped,
    );
    expect(second.calls()).to.equal(1);
  });

  it("test_withRetry_exhausted: RPC_FAILED with the last error as cause", async function () {
    const last = networkError();
    const { fn, calls } = failing([networkError(), networkError(), last]);
    const error = await rejection(withRetry(fn, { attempts: 3, baseMs: 1, sleep: () => Promise.resolve() }));
    expect(error).to.be.instanceOf(StrataError);
    expect((error as StrataError).code).to.equal("RPC_FAILED");
    expect((error as StrataError).cause).to.equal(last);
    expect(calls()).to.equal(3);
  });

  it("test_withRetry_timeout: a hanging call times out per try (RPC_TIMEOUT)", async function () {
    const kinds: RpcErrorKind[] = [];
    let calls = 0;
    const started = Date.now();
    const error = await rejection(
      withRetry(
        () => {
          calls++;
          return new Promise<never>(() => undefined);
        },
        { attempts: 2, baseMs: 1, timeoutMs: 30, onError: (_e, info) => kinds.push(info.kind) },
      ),
    );
    expect((error as StrataError).code).to.equal("RPC_TIMEOUT");
    expect(calls).to.equal(2);
    expect(kinds).to.deep.equal(["timeout", "timeout"]);
    expect(Date.now() - started).to.be.lessThan(2000);
  });

  it("test_withRetry_rateLimited: 429s are retried", async function () {
    const limited = Object.assign(new Error("server response 429 Too Many Requests"), {
      code: "SERVER_ERROR",
    });
    const { fn, calls } = failing([limited, limited]);
    expect(await withRetry(fn, { attempts: 3, baseMs: 1, sleep: () => Promise.resolve() })).to.equal("done");
    expect(calls()).to.equal(3);
    expect(classifyRpcError(limited)).to.equal("rate-limit");
  });

  it("test_withRetry_rangeTooLarge: not retried, the original error reaches the caller", async function () {
    const tooMany = Object.assign(new Error("query returned more than 10000 results"), { code: -32005 });
    const { fn, calls } = failing([tooMany]);
    expect(await rejection(withRetry(fn, { attempts: 5, sleep: () => Promise.resolve() }))).to.equal(tooMany);
    expect(calls()).to.equal(1);
    expect(isRangeTooLarge(tooMany)).to.equal(true);
    expect(isRangeTooLarge({ error: { message: "eth_getLogs block range is too large, max 500" } })).to.equal(
      true,
    );
    expect(isRangeTooLarge(networkError())).to.equal(false);
  });

  it("test_classifyRpcError: kinds of common failures", function () {
    const cases: [unknown, RpcErrorKind][] = [
      [networkError(), "network"],
      [Object.assign(new Error("missing response"), { code: "SERVER_ERROR" }), "network"],
      [new TypeError("fetch failed"), "network"],
      [Object.assign(new Error("bad response (status=502)"), { code: "SERVER_ERROR" }), "network"],
      [Object.assign(new Error("timeout"), { code: "TIMEOUT" }), "timeout"],
      [new StrataError("RPC_TIMEOUT", "slow"), "timeout"],
      [{ error: { code: -32005, message: "rate limit exceeded" } }, "rate-limit"],
      [Object.assign(new Error("execution reverted"), { code: "CALL_EXCEPTION" }), "revert"],
      [new StrataError("CHAIN_REVERT", "no"), "revert"],
      [Object.assign(new Error("invalid argument"), { code: "INVALID_ARGUMENT" }), "other"],
    ];
    for (const [error, kind] of cases) expect(classifyRpcError(error), JSON.stringify(error)).to.equal(kind);
  });

  it("test_withRetry_otherNotRetried: a programming error is not retried", async function () {
    const bug = Object.assign(new Error("invalid argument"), { code: "INVALID_ARGUMENT" });
    const { fn, calls } = failing([bug]);
    expect(await rejection(withRetry(fn, { attempts: 5, sleep: () => Promise.resolve() }))).to.equal(bug);
    expect(calls()).to.equal(1);
  });
});
