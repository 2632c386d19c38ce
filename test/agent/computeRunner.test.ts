import { expect } from "chai";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRUNCATION_MARKER } from "../../offchain/agent/compute/cappedLog.js";
import { processAlive } from "../../offchain/agent/compute/procfs.js";
import { effectiveLimits, WorkloadSupervisor } from "../../offchain/agent/compute/workloads.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { AgentDb } from "../../offchain/agent/db.js";
import {
  ProcessRuntime,
  type EffectiveLimits,
  type ProcessRuntimeOptions,
  type RunRequest,
} from "../../offchain/agent/compute/runner.js";
import type { WorkloadDescription } from "../../offchain/sdk/compute/workload.js";

const MiB = 1024 * 1024;

function nodeWorkload(script: string, env?: Record<string, string>): WorkloadDescription {
  return {
    version: 2,
    services: {
      main: {
        run: { kind: "node", script },
        ...(env ? { env } : {}),
        resources: { cpuMillicores: 1000, memoryMiB: 256 },
        restart: "never",
      },
    },
  };
}

function commandWorkload(command: string[]): WorkloadDescription {
  return {
    version: 2,
    services: {
      main: {
        run: { kind: "command", command: command as [string, ...string[]] },
        resources: { cpuMillicores: 1000, memoryMiB: 256 },
        restart: "never",
      },
    },
  };
}

/** The log's lines without the launcher's "[service] " prefix. */
async function logText(path: string): Promise<string> {
  return (await readFile(path, "utf8").catch(() => "")).replace(/^\[[a-z0-9-]+\] /gm, "");
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

describe("compute workload runner (ProcessRuntime)", function () {
  this.timeout(60_000);
  let dir: string;
  let runs = 0;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-runner-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function request(workload: WorkloadDescription, limits: Partial<EffectiveLimits> = {}): RunRequest {
    runs++;
    return {
      id: String(runs),
      workload,
      limits: { cpuMillicores: 1000, memoryMiB: 256, maxSeconds: null, ...limits },
      workDir: join(dir, `lease-${runs}`),
      logPath: join(dir, `lease-${runs}.log`),
    };
  }

  const runtime = (options: ProcessRuntimeOptions = {}) =>
    new ProcessRuntime({ stopGraceMs: 500, sampleMs: 100, ...options });

  it("runs a node script to completion with its output in the log and only its own environment", async () => {
    process.env.STRATA_RUNNER_TEST_SECRET = "do-not-leak";
    try {
      const req = request(
        nodeWorkload(
          "console.log(JSON.stringify({ keys: Object.keys(process.env).sort(), greeting: process.env.GREETING }));",
          { GREETING: "hello" },
        ),
      );
      const running = await runtime().start(req);
      expect(running.handle?.pid).to.be.a("number");
      const exit = await running.exited;
      expect(exit).to.include({ reason: "exited", code: 0, logTruncated: false });
      const out = JSON.parse(await logText(req.logPath)) as { keys: string[]; greeting: string };
      expect(out.greeting).to.equal("hello");
      expect(out.keys).to.not.include("STRATA_RUNNER_TEST_SECRET");
      expect(out.keys).to.include.members(["PATH", "HOME", "STRATA_LEASE_ID", "STRATA_MEMORY_MIB"]);
      expect(exit.logBytes).to.equal((await stat(req.logPath)).size);
    } finally {
      delete process.env.STRATA_RUNNER_TEST_SECRET;
    }
  });

  it("stops a node script whose memory grows past the limit (off-heap buffers: the RSS monitor)", async () => {
    const script =
      "const keep = []; setInterval(() => { const b = Buffer.alloc(16 * 1024 * 1024, 1); keep.push(b); }, 20);";
    const started = Date.now();
    const running = await runtime().start(request(nodeWorkload(script), { memoryMiB: 128 }));
    const exit = await running.exited;
    expect(exit.reason).to.equal("memory");
    expect(exit.signal).to.equal("SIGKILL");
    expect(exit.peakRssBytes).to.be.greaterThan(128 * MiB);
    expect(Date.now() - started).to.be.lessThan(20_000);
  });

  it("stops a node script whose heap grows past the limit (V8's heap limit or the monitor)", async () => {
    const script =
      "const keep = []; setInterval(() => { for (let i = 0; i < 2e5; i++) keep.push({ i, s: 'x' + i }); }, 5);";
    const running = await runtime().start(request(nodeWorkload(script), { memoryMiB: 96 }));
    const exit = await running.exited;
    expect(exit.reason).to.equal("memory");
    expect(exit.code === 0 && exit.signal === null).to.equal(false);
  });

  it("stops a workload that runs past maxSeconds (SIGTERM)", async () => {
    const started = Date.now();
    const running = await runtime().start(request(commandWorkload(["sleep", "30"]), { maxSeconds: 1 }));
    const exit = await running.exited;
    expect(exit.reason).to.equal("time");
    // The launcher stops its services on SIGTERM and exits (0, or 128 + 15 when the signal lands before its
    // handler is installed); the runtime's reason says why.
    expect(exit.code === 0 || exit.code === 143 || exit.signal === "SIGTERM", JSON.stringify(exit)).to.equal(
      true,
    );
    const elapsed = Date.now() - started;
    expect(elapsed).to.be.at.least(900);
    expect(elapsed).to.be.lessThan(5_000);
  });

  it("caps the log file and keeps draining the output so the workload is not blocked", async () => {
    const req = request(
      nodeWorkload(
        "const line = 'x'.repeat(1023) + '\\n'; for (let i = 0; i < 2048; i++) process.stdout.write(line);",
      ),
    );
    const running = await runtime({ logCapBytes: 10_000 }).start(req);
    const exit = await running.exited;
    expect(exit).to.include({ reason: "exited", code: 0, logTruncated: true });
    const text = await readFile(req.logPath, "utf8");
    expect(Buffer.byteLength(text)).to.equal(10_000 + Buffer.byteLength(TRUNCATION_MARKER));
    expect(text.endsWith(TRUNCATION_MARKER)).to.equal(true);
  });

  it("stop() kills the whole process group, escalating to SIGKILL when SIGTERM is ignored", async () => {
    // Both background sleeps ignore SIGTERM (an ignored signal stays ignored across exec). The main shell never
    // ends by itself: with a final `wait` it could exit normally in the instant between its children's SIGKILL and
    // its own, and report no signal.
    const script = "trap '' TERM; sleep 1000 & echo $!; sleep 1000 & echo $!; while :; do sleep 1000; done";
    const req = request(commandWorkload(["bash", "-c", script]));
    const running = await runtime({ stopGraceMs: 300 }).start(req);
    let pids: number[] = [];
    expect(
      await waitFor(async () => {
        pids = (await logText(req.logPath)).split("\n").filter(Boolean).map(Number);
        return pids.length === 2;
      }, 10_000),
    ).to.equal(true);
    for (const pid of pids) expect(await processAlive(pid)).to.equal(true);
    const started = Date.now();
    const exit = await running.stop("lease closed");
    expect(exit, JSON.stringify(exit)).to.include({ reason: "stopped", cause: "lease closed" });
    // The group's SIGKILL at the grace ends the launcher too (signal SIGKILL), unless the launcher's own grace, the
    // same length, ran out first on a busy machine: it then SIGKILLs its service and exits 0. Either way nothing
    // that ignored SIGTERM outlives the grace (checked below).
    expect(
      exit.signal === "SIGKILL" || (exit.signal === null && exit.code === 0),
      JSON.stringify(exit),
    ).to.equal(true);
    expect(Date.now() - started).to.be.at.least(250);
    for (const pid of pids)
      expect(await waitFor(async () => !(await processAlive(pid)), 5_000)).to.equal(true);
    // Idempotent: a second stop resolves with the same exit.
    expect(await running.stop("again")).to.deep.equal(exit);
  });

  it("kills what the main process leaves in its group when it exits by itself", async () => {
    const req = request(commandWorkload(["bash", "-c", "sleep 1000 & echo $!; exit 3"]));
    const running = await runtime().start(req);
    const exit = await running.exited;
    expect(exit).to.include({ reason: "exited", code: 3 });
    const pid = Number((await logText(req.logPath)).trim());
    expect(await waitFor(async () => !(await processAlive(pid)), 5_000)).to.equal(true);
  });

  it("stops a workload whose CPU use stays above its share", async () => {
    const running = await runtime({ cpuWindowMs: 500, cpuOverrunMs: 500 }).start(
      request(nodeWorkload("for (;;) {}"), { cpuMillicores: 50 }),
    );
    const exit = await running.exited;
    expect(exit.reason).to.equal("cpu");
  });

  it("lets a workload within its CPU share run", async () => {
    const running = await runtime({ cpuWindowMs: 300, cpuOverrunMs: 300 }).start(
      request(nodeWorkload("setTimeout(() => {}, 1500);"), { cpuMillicores: 500 }),
    );
    const exit = await running.exited;
    expect(exit).to.include({ reason: "exited", code: 0 });
  });

  it("applies an address-space limit to command workloads", async () => {
    // 64 MiB of address space: bash cannot build a 100 MB string.
    const req = request(
      commandWorkload(["bash", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo done ${#x}"]),
      {
        memoryMiB: 64,
      },
    );
    const exit = await (await runtime({ sampleMs: 60_000 }).start(req)).exited;
    expect(exit.reason).to.equal("exited");
    expect(await logText(req.logPath)).to.not.contain("done 100000000");
  });

  it("reports a program that cannot be started", async () => {
    const running = await runtime({ niceness: 0, nodePath: join(dir, "no-such-node") }).start(
      request(nodeWorkload("1")),
    );
    const exit = await running.exited;
    expect(exit.reason).to.equal("spawn-failed");
  });

  it("reaps a workload left behind by a previous agent process, and only that process", async () => {
    const running = await runtime().start(request(commandWorkload(["sleep", "1000"])));
    const handle = running.handle;
    if (!handle) throw new Error("no handle");
    expect(handle.startTicks).to.be.a("number");
    const later = runtime();
    expect(await later.reap({ pid: handle.pid, startTicks: (handle.startTicks ?? 0) + 1 })).to.equal(false);
    expect(await processAlive(handle.pid)).to.equal(true);
    expect(await later.reap(handle)).to.equal(true);
    const exit = await running.exited;
    expect(exit.signal).to.equal("SIGKILL");
    expect(await later.reap(handle)).to.equal(false);
  });
});

describe("compute workload supervisor", function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-supervisor-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const LEASE = {
    id: 3n,
    tenant: "0x2000000000000000000000000000000000000002",
    workloadHash: `0x${"11".repeat(32)}`,
    resources: { cpuMillicores: 500, memoryMiB: 128, storageGiB: 0, gpuCount: 0, gpuModel: "", region: "" },
    gpuModel: null,
    pricePerSecond: 4n,
    collateral: 1n,
    noticeWindow: 60,
    startedAt: 1000n,
    endsAt: 0n,
    heartbeatPeriod: 60n,
    startedBlock: 1,
  };

  it("caps a workload's limits by what the order bought and by the lease's end", function () {
    const workload = commandWorkload(["true"]);
    expect(
      effectiveLimits(
        {
          version: 2,
          services: {
            a: {
              run: { kind: "command", command: ["true"] },
              resources: { cpuMillicores: 1500, memoryMiB: 32 },
              restart: "never",
            },
            b: {
              run: { kind: "command", command: ["true"] },
              resources: { cpuMillicores: 500, memoryMiB: 32 },
              restart: "never",
            },
          },
        },
        LEASE,
        0n,
      ),
    ).to.deep.equal({
      cpuMillicores: 500,
      memoryMiB: 64,
      maxSeconds: null,
    });
    expect(effectiveLimits(workload, { ...LEASE, endsAt: 1030n }, 1000n).maxSeconds).to.equal(30);
    expect(effectiveLimits(workload, LEASE, 1000n).maxSeconds).to.equal(null);
  });

  it("kills a workload an earlier agent process left running and marks it stopped, to be resumed", async () => {
    const db = AgentDb.open(join(dir, "agent.db"));
    try {
      db.compute.insertLease(LEASE);
      // What a crashed agent leaves: a live process and a row saying running.
      const earlier = new ProcessRuntime();
      const orphan = await earlier.start({
        id: "3",
        workload: commandWorkload(["sleep", "1000"]),
        limits: { cpuMillicores: 500, memoryMiB: 128, maxSeconds: null },
        workDir: join(dir, "w"),
        logPath: join(dir, "w.log"),
      });
      db.compute.setRunning(3n, orphan.handle);
      const supervisor = new WorkloadSupervisor(new ProcessRuntime(), db, dir, silentLogger());
      expect(await supervisor.reapOrphans()).to.deep.equal([3n]);
      expect((await orphan.exited).signal).to.equal("SIGKILL");
      expect(db.compute.lease(3n)).to.deep.include({ runState: "stopped", pid: null });
      expect(await supervisor.reapOrphans()).to.deep.equal([]);

      // The lease duty then starts it again through the supervisor, which records the exit.
      const lease = db.compute.lease(3n);
      if (!lease) throw new Error("no lease");
      await supervisor.start(lease, commandWorkload(["sleep", "1000"]), {
        cpuMillicores: 500,
        memoryMiB: 128,
        maxSeconds: null,
      });
      expect(db.compute.lease(3n)).to.deep.include({ runState: "running", runs: 2 });
      const exit = await supervisor.stop(3n, "lease closed");
      expect(exit?.reason).to.equal("stopped");
      expect(
        await waitFor(() => Promise.resolve(db.compute.lease(3n)?.runState === "stopped"), 5_000),
      ).to.equal(true);
      expect(supervisor.isRunning(3n)).to.equal(false);
    } finally {
      db.close();
    }
  });
});
