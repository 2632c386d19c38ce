import { expect } from "chai";
import { EventEmitter } from "node:events";
import { fileURLToPath } from "node:url";
import {
  EXIT_FORCED,
  EXIT_USAGE,
  exitOnStartupError,
  exitWithUsage,
  isEntryPoint,
  runUntilSignal,
  stopOnSignals,
  type ProcessHandle,
} from "../../offchain/runtime/lifecycle.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { settle } from "../helpers/fakes.js";

/** A stand-in for `process`: signals are emitted by the test, exit records the status instead of exiting. */
class FakeProcess extends EventEmitter implements ProcessHandle {
  readonly exits: number[] = [];
  argv: readonly string[] = ["node", "script.js"];
  exit(code: number): never {
    this.exits.push(code);
    return undefined as never;
  }
}

function recordingLogger(): {
  lines: string[];
  info(o: object, m: string): void;
  error(o: object, m: string): void;
} {
  const lines: string[] = [];
  return {
    lines,
    info: (_o, m) => lines.push(`info ${m}`),
    error: (_o, m) => lines.push(`error ${m}`),
  };
}

describe("process lifecycle", function () {
  it("test_stopOnSignals: the first signal stops and exits 0; a second exits at once", async function () {
    const proc = new FakeProcess();
    const logger = recordingLogger();
    let release = (): void => undefined;
    let stops = 0;
    stopOnSignals(
      {
        logger,
        stop: () => {
          stops++;
          return new Promise<void>((resolve) => {
            release = resolve;
          });
        },
      },
      proc,
    );
    proc.emit("SIGTERM", "SIGTERM");
    await settle(5);
    expect(stops).to.equal(1);
    expect(proc.exits).to.deep.equal([]); // still stopping
    proc.emit("SIGINT", "SIGINT");
    expect(proc.exits).to.deep.equal([EXIT_FORCED]);
    release();
    await settle(5);
    expect(proc.exits).to.deep.equal([EXIT_FORCED, 0]);
    expect(stops).to.equal(1);
    expect(logger.lines).to.deep.equal(["info stopping"]);
  });

  it("test_stopOnSignals_failedStop: exits 1 and logs the error", async function () {
    const proc = new FakeProcess();
    const logger = recordingLogger();
    stopOnSignals({ logger, stop: () => Promise.reject(new StrataError("AGENT_DB_ERROR", "x")) }, proc);
    proc.emit("SIGINT", "SIGINT");
    await settle(5);
    expect(proc.exits).to.deep.equal([1]);
    expect(logger.lines).to.deep.equal(["info stopping", "error error while stopping"]);
  });

  it("test_runUntilSignal: resolves after stop, removes its handlers; a second signal exits", async function () {
    const proc = new FakeProcess();
    const notes: string[] = [];
    let release = (): void => undefined;
    const running = runUntilSignal(
      "agent",
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
      (line) => notes.push(line),
      proc,
    );
    expect(proc.listenerCount("SIGINT")).to.equal(1);
    expect(proc.listenerCount("SIGTERM")).to.equal(1);
    proc.emit("SIGINT", "SIGINT");
    proc.emit("SIGTERM", "SIGTERM");
    expect(proc.exits).to.deep.equal([EXIT_FORCED]);
    release();
    await running;
    expect(proc.listenerCount("SIGINT")).to.equal(0);
    expect(proc.listenerCount("SIGTERM")).to.equal(0);
    expect(notes).to.deep.equal([
      "SIGINT: stopping the agent (finishing the current step)...",
      "SIGTERM again: exiting without waiting",
    ]);
  });

  it("test_runUntilSignal_failedStop: rejects with the error; a non-Error becomes STOP_FAILED", async function () {
    const proc = new FakeProcess();
    const typed = new StrataError("WORKER_DB_ERROR", "x");
    const first = runUntilSignal(
      "worker",
      () => Promise.reject(typed),
      () => undefined,
      proc,
    );
    proc.emit("SIGINT", "SIGINT");
    expect(await first.catch((e: unknown) => e)).to.equal(typed);
    const proc2 = new FakeProcess();
    const second = runUntilSignal(
      "worker",
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a library rejecting with a non-Error
      () => Promise.reject("weird"),
      () => undefined,
      proc2,
    );
    proc2.emit("SIGTERM", "SIGTERM");
    const error = await second.catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StrataError).with.property("code", "STOP_FAILED");
  });

  it("test_exitOnStartupError: prints CODE: message and exits 1", function () {
    const proc = new FakeProcess();
    const lines: string[] = [];
    exitOnStartupError(new StrataError("KEY_MISSING", "no key"), proc, (line) => lines.push(line));
    exitOnStartupError(Object.assign(new Error("gone"), { code: "ENOENT" }), proc, (line) =>
      lines.push(line),
    );
    exitOnStartupError("plain", proc, (line) => lines.push(line));
    expect(lines).to.deep.equal(["KEY_MISSING: no key", "ENOENT: gone", "ERROR: plain"]);
    expect(proc.exits).to.deep.equal([1, 1, 1]);
  });

  it("test_exitWithUsage: prints the usage and exits EXIT_USAGE (2)", function () {
    const proc = new FakeProcess();
    const lines: string[] = [];
    exitWithUsage("tsx main.ts <config.json>", proc, (line) => lines.push(line));
    expect(lines).to.deep.equal(["usage: tsx main.ts <config.json>"]);
    expect(proc.exits).to.deep.equal([EXIT_USAGE]);
    expect(EXIT_USAGE).to.equal(2);
  });

  it("test_isEntryPoint: true only for the script node was started with", function () {
    const me = import.meta.url;
    expect(isEntryPoint(me, { argv: ["node", fileURLToPath(me)] })).to.equal(true);
    expect(isEntryPoint(me, { argv: ["node", "/nonexistent/other.js"] })).to.equal(false);
    expect(isEntryPoint(me, { argv: ["node"] })).to.equal(false);
  });
});
