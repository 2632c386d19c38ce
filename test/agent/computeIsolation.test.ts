import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IsolatedRuntime, isolatedRuntimeUnavailable } from "../../offchain/agent/compute/isolated.js";
import type { RunRequest, WorkloadEvent } from "../../offchain/agent/compute/runner.js";
import { LeaseVolumes } from "../../offchain/agent/compute/volumes.js";
import { parseWorkload, type WorkloadDescription } from "../../offchain/sdk/compute/workload.js";
import { silentLogger } from "../../offchain/runtime/logger.js";

/** GET through a lease's ingress socket (what the agent's proxy does). */
function viaSocket(
  socketPath: string,
  path: string,
  method = "GET",
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, path, method }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function waitFor(check: () => Promise<boolean>, ms = 15_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/** A probe that tries to escape: the host's files, another lease's volume, the network; answers over HTTP. */
const PROBE = `
const fs = require("fs"), net = require("net"), http = require("http");
const tryRead = (p) => { try { fs.readdirSync(p); return "read"; } catch (e) { try { fs.readFileSync(p); return "read"; } catch (e2) { return e2.code; } } };
const tryConnect = (host, port) => new Promise((resolve) => {
  const s = net.connect({ host, port, timeout: 1500 });
  s.on("connect", () => { s.destroy(); resolve("connected"); });
  s.on("timeout", () => { s.destroy(); resolve("timeout"); });
  s.on("error", (e) => resolve(e.code));
});
http.createServer(async (q, r) => {
  const u = new URL(q.url, "http://x");
  if (u.pathname === "/read") return r.end(tryRead(u.searchParams.get("p")));
  if (u.pathname === "/connect") return r.end(await tryConnect(u.searchParams.get("h"), Number(u.searchParams.get("port"))));
  if (u.pathname === "/write") { fs.writeFileSync("/data/mine", "lease secret"); return r.end("ok"); }
  r.end("hello");
}).listen(8080);
`;

function probeManifest(): WorkloadDescription {
  return parseWorkload({
    version: 2,
    services: {
      web: {
        run: { kind: "node", script: PROBE },
        resources: { cpuMillicores: 500, memoryMiB: 128 },
        expose: [8080],
        volumes: { data: "/data" },
        restart: "on-failure",
      },
    },
    volumes: { data: { sizeMiB: 16 } },
  });
}

describe("isolated workload runtime (bubblewrap + cgroup v1)", function () {
  this.timeout(60_000);
  let dir: string;
  let runtime: IsolatedRuntime;

  before(async function () {
    const unavailable = await isolatedRuntimeUnavailable();
    // These tests are the isolation guarantees: on a machine that cannot run them, fail loudly, never skip.
    expect(unavailable, `the isolated runtime cannot run here: ${unavailable ?? ""}`).to.equal(null);
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-iso-"));
    runtime = new IsolatedRuntime({ stopGraceMs: 2000 });
  });
  afterEach(async () => {
    const volumes = new LeaseVolumes(dir, silentLogger());
    for (const id of [1n, 2n, 3n]) await volumes.wipe(id);
    await rm(dir, { recursive: true, force: true });
  });

  async function start(
    id: string,
    workload: WorkloadDescription,
    memoryMiB = 128,
    events: WorkloadEvent[] = [],
    cpuMillicores = 500,
  ) {
    const volumes = await new LeaseVolumes(dir, silentLogger()).prepare(BigInt(id), workload);
    const request: RunRequest = {
      id,
      workload,
      limits: { cpuMillicores, memoryMiB, maxSeconds: null },
      workDir: join(dir, "w", id),
      logPath: join(dir, `${id}.log`),
      volumes: Object.fromEntries(volumes.map((v) => [v.name, v.path])),
      ingressDir: join(dir, "ingress", id),
      onEvent: (e) => events.push(e),
    };
    const running = await runtime.start(request);
    const socket = join(dir, "ingress", id, "8080.sock");
    return { running, request, socket, volumes };
  }

  it("refuses the host's files, another lease's volume and any network but its ingress", async () => {
    const other = await start("2", probeManifest());
    const mine = await start("1", probeManifest());
    try {
      expect(
        await waitFor(
          async () => (await viaSocket(other.socket, "/write").catch(() => ({ text: "" }))).text === "ok",
        ),
      ).to.equal(true);
      expect(
        await waitFor(
          async () => (await viaSocket(mine.socket, "/").catch(() => ({ text: "" }))).text === "hello",
        ),
      ).to.equal(true);
      // The volume has the quota of its ext4 image.
      expect(mine.volumes[0]?.quota).to.equal("ext4-image");
      const read = async (p: string) =>
        (await viaSocket(mine.socket, `/read?p=${encodeURIComponent(p)}`)).text;
      expect(await read("/etc/passwd")).to.equal("ENOENT");
      expect(await read("/root")).to.equal("ENOENT");
      expect(await read(dir)).to.equal("ENOENT");
      expect(await read(other.volumes[0]?.path ?? "/nowhere")).to.equal("ENOENT");
      expect(await read(join(other.volumes[0]?.path ?? "", "mine"))).to.equal("ENOENT");
      expect(await read("/proc/1/root/etc/passwd")).to.not.equal("read");
      // Its own volume is there (and empty: the other lease's file is not).
      expect(await read("/data/mine")).to.equal("ENOENT");
      // System files are read-only.
      const connect = async (h: string, port: number) =>
        (await viaSocket(mine.socket, `/connect?h=${h}&port=${port}`)).text;
      expect(await connect("10.0.0.1", 80)).to.be.oneOf(["ENETUNREACH", "EHOSTUNREACH", "timeout"]);
      expect(await connect("1.1.1.1", 443)).to.be.oneOf(["ENETUNREACH", "EHOSTUNREACH", "timeout"]);
      // The host's loopback is not its loopback: nothing of the host's listening ports is reachable.
      expect(await connect("127.0.0.1", 22)).to.equal("ECONNREFUSED");
    } finally {
      await mine.running.stop("test over");
      await other.running.stop("test over");
    }
  });

  it("runs under the kernel's memory limit: a workload allocating past it is OOM-killed and reported", async () => {
    const events: WorkloadEvent[] = [];
    const hog = parseWorkload({
      version: 2,
      services: {
        hog: {
          run: {
            kind: "command",
            // Not Node: a plain allocation the kernel must stop (no V8 heap limit in the way).
            command: ["sh", "-c", "x=a; while true; do x=$x$x$x$x; done"],
          },
          resources: { cpuMillicores: 500, memoryMiB: 96 },
          restart: "never",
        },
      },
    });
    const { running, request } = await start("3", hog, 96, events);
    const exit = await running.exited;
    expect(exit.reason).to.equal("memory");
    expect(exit.cause).to.match(/killed by the kernel/);
    expect(events.some((e) => e.type === "oom")).to.equal(true);
    expect(events.some((e) => e.type === "exit" && e.service === "hog" && e.signal === "SIGKILL")).to.equal(
      true,
    );
    // The lease's groups are gone with it.
    expect(
      await readFile(join("/sys/fs/cgroup/memory/strata", `lease-3-x`, "cgroup.procs"), "utf8").catch(
        () => "gone",
      ),
    ).to.equal("gone");
    expect(request.limits.memoryMiB).to.equal(96);
  });

  it("throttles CPU with the CFS quota (a hard limit, not a policed average)", async () => {
    const spin = parseWorkload({
      version: 2,
      services: {
        spin: {
          run: {
            kind: "node",
            script:
              "const t = Date.now(); let n = 0; while (Date.now() - t < 1500) n++; console.log(JSON.stringify(process.cpuUsage()));",
          },
          resources: { cpuMillicores: 100, memoryMiB: 128 },
          restart: "never",
        },
      },
    });
    // Lease ids are unique on chain: each test uses its own, so no cgroup of an earlier test is in the way.
    const { running, request } = await start("4", spin, 128, [], 100);
    const exit = await running.exited;
    const log = await readFile(request.logPath, "utf8");
    const seen = `exit ${JSON.stringify(exit)}; log:\n${log.slice(-2000)}`;
    expect(exit.reason, seen).to.equal("exited");
    const line = log.split("\n").find((l) => l.startsWith("[spin] {")) ?? "";
    expect(line, seen).to.not.equal("");
    const usage = JSON.parse(line.slice("[spin] ".length)) as { user: number; system: number };
    // 1.5 s of wall time at 100 millicores: about 0.15 s of CPU, far from the 1.5 s it would take unthrottled.
    expect((usage.user + usage.system) / 1000, seen).to.be.lessThan(700);
  });

  it("restarts a crashing service with back-off and reports each exit and restart", async () => {
    const events: WorkloadEvent[] = [];
    const crash = parseWorkload({
      version: 2,
      services: {
        crash: {
          run: { kind: "node", script: "console.log('up'); setTimeout(() => process.exit(2), 100);" },
          resources: { cpuMillicores: 200, memoryMiB: 64 },
          restart: "on-failure",
        },
      },
    });
    const { running } = await start("5", crash, 64, events);
    expect(
      await waitFor(() => Promise.resolve(events.filter((e) => e.type === "restart").length >= 2), 20_000),
    ).to.equal(true);
    const backoffs = events.filter((e) => e.type === "backoff").map((e) => e.delayMs as number);
    expect(backoffs[1]).to.be.greaterThan(backoffs[0] ?? Infinity);
    expect(events.filter((e) => e.type === "exit").every((e) => e.code === 2)).to.equal(true);
    await running.stop("test over");
  });
});
