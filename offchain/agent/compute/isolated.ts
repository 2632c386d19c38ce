/**
 * The isolated runtime: each lease's workload runs in its own bubblewrap sandbox under cgroup v1 limits.
 *
 * - Namespaces (`--unshare-all`): own pid, mount, network (loopback only), ipc, uts and user namespaces; the
 *   sandbox dies with the agent's child (`--die-with-parent`) and gets a new session (no terminal injection).
 * - Files: /usr (and the /bin, /lib symlinks of a merged-usr system) read-only, the Node binary and the launcher
 *   read-only, a private tmpfs for /app (the services' directories), /tmp and /home, the lease's volumes bound at
 *   their mount paths, and the ingress directory. Nothing else of the host: not /etc, not /work, not the agent's
 *   data directory, not another lease's volume.
 * - Limits, enforced by the kernel: `memory.limit_in_bytes` (and memsw, so swap cannot stretch it) — a workload
 *   allocating past it is OOM-killed and the exit is reported as `memory`; `cpu.cfs_quota_us` over a 100 ms period
 *   (a hard throttle, not a policed average); `pids.max` (no fork bombs). Volumes' disk quotas are the sizes of
 *   their ext4 images (volumes.ts).
 * - Network: none but loopback. The launcher forwards each exposed port from a unix socket in the ingress
 *   directory, which the agent's HTTP front proxies to.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { access, mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { CappedLog } from "./cappedLog.js";
import {
  followEvents,
  RUNNER_DEFAULTS,
  type ExitReason,
  type ProcessHandle,
  type RunRequest,
  type RunningWorkload,
  type WorkloadExit,
  type WorkloadRuntime,
  type WorkloadUsage,
} from "./runner.js";
import { buildPlan, LAUNCHER_PATH } from "./sandbox/plan.js";

const MiB = 1024 * 1024;
const CFS_PERIOD_US = 100_000;
const SANDBOX_NODE = "/opt/strata/node";
const SANDBOX_LAUNCHER = "/opt/strata/launcher.mjs";
const SANDBOX_PLAN = "/run/strata/plan.json";
const SANDBOX_INGRESS = "/run/strata/ingress";
const SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin";

export interface IsolatedRuntimeOptions {
  bwrapPath?: string;
  /** Node binary bound read-only into the sandbox (default: the agent's). */
  nodePath?: string;
  cgroupRoot?: string;
  /** Parent group of every lease's group under each controller. */
  cgroupParent?: string;
  /** Most processes (and threads) of one workload. */
  pidsMax?: number;
  stopGraceMs?: number;
  logCapBytes?: number;
  /** Size of the private /app, /tmp and /home tmpfs (its pages count against the memory limit anyway). */
  scratchMiB?: number;
}

const CONTROLLERS = ["memory", "cpu", "pids"] as const;
type Controller = (typeof CONTROLLERS)[number];

/** Why the isolated runtime cannot run here, or null when it can (bwrap runs, cgroup v1 controllers writable). */
export async function isolatedRuntimeUnavailable(
  options: IsolatedRuntimeOptions = {},
): Promise<string | null> {
  const bwrap = options.bwrapPath ?? "/usr/bin/bwrap";
  const root = options.cgroupRoot ?? "/sys/fs/cgroup";
  try {
    await access(bwrap, fsConstants.X_OK);
  } catch {
    return `bubblewrap not found at ${bwrap} (install the bubblewrap package)`;
  }
  for (const controller of CONTROLLERS) {
    try {
      await access(join(root, controller), fsConstants.W_OK);
    } catch {
      return `cgroup v1 controller ${controller} is not writable at ${join(root, controller)}`;
    }
  }
  const probe = await new Promise<string | null>((resolve) => {
    const child = spawn(bwrap, [...systemBinds(), "--unshare-all", "--die-with-parent", "/usr/bin/true"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", (error) => {
      resolve(`bubblewrap cannot start: ${error.message}`);
    });
    child.on("close", (code) => {
      resolve(code === 0 ? null : `bubblewrap cannot make a sandbox: ${stderr.trim()}`);
    });
  });
  return probe;
}

function systemBinds(): string[] {
  return [
    "--ro-bind",
    "/usr",
    "/usr",
    "--symlink",
    "usr/bin",
    "/bin",
    "--symlink",
    "usr/sbin",
    "/sbin",
    "--symlink",
    "usr/lib",
    "/lib",
    "--symlink",
    "usr/lib64",
    "/lib64",
  ];
}

export class IsolatedRuntime implements WorkloadRuntime {
  readonly name = "isolated";
  private readonly o: Required<IsolatedRuntimeOptions>;

  constructor(options: IsolatedRuntimeOptions = {}) {
    this.o = {
      bwrapPath: "/usr/bin/bwrap",
      nodePath: process.execPath,
      cgroupRoot: "/sys/fs/cgroup",
      cgroupParent: "strata",
      pidsMax: 512,
      stopGraceMs: RUNNER_DEFAULTS.stopGraceMs,
      logCapBytes: RUNNER_DEFAULTS.logCapBytes,
      scratchMiB: 256,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    };
  }

  /** The lease's cgroup path under a controller (a name unique to this agent's data: agents may share a host). */
  cgroupDir(controller: Controller, request: Pick<RunRequest, "id" | "workDir">): string {
    const tag = createHash("sha256").update(request.workDir).digest("hex").slice(0, 10);
    return join(this.o.cgroupRoot, controller, this.o.cgroupParent, `lease-${request.id}-${tag}`);
  }

  async start(request: RunRequest): Promise<RunningWorkload> {
    const o = this.o;
    const log = await CappedLog.open(request.logPath, o.logCapBytes);
    const ingressDir = request.ingressDir ?? join(request.workDir, "ingress");
    await mkdir(ingressDir, { recursive: true });
    await mkdir(request.workDir, { recursive: true });
    const groups = await this.prepareGroups(request);
    const volumeMounts: Record<string, string> = {};
    const volumeBinds: string[] = [];
    for (const svc of Object.values(request.workload.services)) {
      for (const [volume, mountPath] of Object.entries(svc.volumes ?? {})) {
        const host = request.volumes?.[volume];
        if (host === undefined) continue;
        volumeMounts[volume] = mountPath;
        volumeBinds.push("--bind", host, mountPath);
      }
    }
    const plan = buildPlan(request, {
      nodePath: SANDBOX_NODE,
      appDir: "/app",
      ingressDir: SANDBOX_INGRESS,
      tmpDir: "/tmp",
      path: SANDBOX_PATH,
      volumeMounts,
      stopGraceMs: Math.max(1000, o.stopGraceMs - 1000),
      serviceGroups: true,
    });
    const planPath = join(request.workDir, "plan.json");
    await writeFile(planPath, JSON.stringify(plan));
    const scratch = String(o.scratchMiB * MiB);
    const bwrapArgs = [
      ...systemBinds(),
      "--ro-bind",
      o.nodePath,
      SANDBOX_NODE,
      "--ro-bind",
      LAUNCHER_PATH,
      SANDBOX_LAUNCHER,
      "--ro-bind",
      planPath,
      SANDBOX_PLAN,
      "--bind",
      ingressDir,
      SANDBOX_INGRESS,
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      "--size",
      scratch,
      "--tmpfs",
      "/tmp",
      "--size",
      scratch,
      "--tmpfs",
      "/app",
      "--size",
      scratch,
      "--tmpfs",
      "/home",
      ...volumeBinds,
      "--unshare-all",
      "--die-with-parent",
      "--new-session",
      "--hostname",
      `lease-${request.id}`,
      "--chdir",
      "/app",
      SANDBOX_NODE,
      SANDBOX_LAUNCHER,
      SANDBOX_PLAN,
    ];
    // The shell joins the lease's groups, then becomes bubblewrap: every process of the sandbox is inside them.
    const join_ = groups.map((dir, i) => `echo $$ > "$${i + 1}"`).join(" && ");
    const script = `${join_} && shift ${groups.length} && exec "$@"`;
    const oomBefore = await readOomKills(this.cgroupDir("memory", request));
    let child: ChildProcess;
    try {
      child = spawn(
        "/bin/sh",
        [
          "-c",
          script,
          "strata-sandbox",
          ...groups.map((g) => join(g, "cgroup.procs")),
          o.bwrapPath,
          ...bwrapArgs,
        ],
        {
          cwd: request.workDir,
          env: { PATH: SANDBOX_PATH, LANG: "C.UTF-8" },
          detached: true,
          stdio: ["ignore", "pipe", "pipe", "pipe"],
        },
      );
    } catch (error) {
      await log.close();
      throw error;
    }
    followEvents(child.stdio[3] as Readable | null, request.onEvent);
    return new IsolatedWorkload(child, log, request, this, oomBefore);
  }

  private async prepareGroups(request: RunRequest): Promise<string[]> {
    const { limits } = request;
    const dirs: string[] = [];
    for (const controller of CONTROLLERS) {
      const dir = this.cgroupDir(controller, request);
      await mkdir(dir, { recursive: true });
      dirs.push(dir);
    }
    const memory = this.cgroupDir("memory", request);
    const bytes = String(limits.memoryMiB * MiB);
    // memsw must stay >= the memory limit: lower memory first when shrinking, raise memsw first when growing.
    await writeFile(join(memory, "memory.limit_in_bytes"), bytes).catch(() => undefined);
    if (await exists(join(memory, "memory.memsw.limit_in_bytes"))) {
      await writeFile(join(memory, "memory.memsw.limit_in_bytes"), bytes).catch(() => undefined);
    }
    await writeFile(join(memory, "memory.limit_in_bytes"), bytes);
    const cpu = this.cgroupDir("cpu", request);
    await writeFile(join(cpu, "cpu.cfs_period_us"), String(CFS_PERIOD_US));
    await writeFile(
      join(cpu, "cpu.cfs_quota_us"),
      String(Math.max(1000, limits.cpuMillicores * (CFS_PERIOD_US / 1000))),
    );
    await writeFile(join(this.cgroupDir("pids", request), "pids.max"), String(this.o.pidsMax));
    return dirs;
  }

  /** SIGKILL every process in the lease's groups and remove the groups (after the workload ended). */
  async cleanUp(request: Pick<RunRequest, "id" | "workDir">): Promise<void> {
    for (const controller of CONTROLLERS) {
      const dir = this.cgroupDir(controller, request);
      await killGroup(dir);
      await removeGroup(dir);
    }
  }

  async usageOf(request: Pick<RunRequest, "id" | "workDir">): Promise<WorkloadUsage> {
    const rss = Number(
      await readFile(join(this.cgroupDir("memory", request), "memory.usage_in_bytes"), "utf8").catch(
        () => "0",
      ),
    );
    const pids = Number(
      await readFile(join(this.cgroupDir("pids", request), "pids.current"), "utf8").catch(() => "0"),
    );
    return {
      cpuMillicores: null,
      rssBytes: Number.isFinite(rss) ? rss : 0,
      processes: Number.isFinite(pids) ? pids : 0,
    };
  }

  async oomKillsSince(request: Pick<RunRequest, "id" | "workDir">, before: number): Promise<number> {
    return (await readOomKills(this.cgroupDir("memory", request))) - before;
  }

  /** Kill what an earlier agent process left: every process in the memory group the pid belongs to. */
  async reap(handle: ProcessHandle): Promise<boolean> {
    let cgroups: string;
    try {
      cgroups = await readFile(`/proc/${handle.pid}/cgroup`, "utf8");
    } catch {
      return false;
    }
    const line = cgroups.split("\n").find((l) => l.includes(":memory:"));
    const path = line?.split(":")[2];
    if (!path?.startsWith(`/${this.o.cgroupParent}/`)) return false;
    for (const controller of CONTROLLERS) {
      const dir = join(this.o.cgroupRoot, controller, path);
      await killGroup(dir);
    }
    return true;
  }
}

class IsolatedWorkload implements RunningWorkload {
  readonly handle: ProcessHandle | undefined;
  readonly exited: Promise<WorkloadExit>;
  private reason: { reason: ExitReason; cause: string | null } | undefined;
  private finished = false;
  private killTimer: NodeJS.Timeout | undefined;
  private wallTimer: NodeJS.Timeout | undefined;
  private monitor: NodeJS.Timeout;
  private last: WorkloadUsage = { cpuMillicores: null, rssBytes: 0, processes: 0 };
  private peak = 0;
  private oomSeen = 0;

  constructor(
    private readonly child: ChildProcess,
    log: CappedLog,
    private readonly request: RunRequest,
    private readonly runtime: IsolatedRuntime,
    oomBefore: number,
  ) {
    this.handle = child.pid === undefined ? undefined : { pid: child.pid, startTicks: null };
    if (child.stdout) log.follow(child.stdout);
    if (child.stderr) log.follow(child.stderr);
    // The kernel kills inside the group; the runtime reports each kill as an event as soon as it sees it.
    this.monitor = setInterval(() => {
      void this.sample(oomBefore);
    }, 1000);
    if (request.limits.maxSeconds !== null) {
      this.wallTimer = setTimeout(() => {
        this.terminate("time", null);
      }, request.limits.maxSeconds * 1000);
    }
    this.exited = new Promise<WorkloadExit>((resolve) => {
      const finish = async (
        code: number | null,
        signal: NodeJS.Signals | null,
        error?: string,
      ): Promise<void> => {
        if (this.finished) return;
        this.finished = true;
        clearInterval(this.monitor);
        clearTimeout(this.killTimer);
        clearTimeout(this.wallTimer);
        await this.sample(oomBefore, true);
        const ooms = await runtime.oomKillsSince(request, oomBefore);
        await runtime.cleanUp(request);
        await log.close();
        const decided =
          this.reason ??
          (error !== undefined
            ? { reason: "spawn-failed" as const, cause: error }
            : ooms > 0
              ? {
                  reason: "memory" as const,
                  cause: `killed by the kernel: memory limit ${request.limits.memoryMiB} MiB (${ooms} OOM kill${ooms === 1 ? "" : "s"})`,
                }
              : undefined);
        resolve({
          reason: decided?.reason ?? "exited",
          cause: decided?.cause ?? null,
          code,
          signal,
          logBytes: log.bytes,
          logTruncated: log.isTruncated,
          peakRssBytes: this.peak,
        });
      };
      child.once("error", (error) => void finish(null, null, error.message));
      child.once("close", (code, signal) => void finish(code, signal));
    });
  }

  private async sample(oomBefore: number, final = false): Promise<void> {
    if (this.finished && !final) return;
    this.last = await this.runtime.usageOf(this.request);
    this.peak = Math.max(this.peak, this.last.rssBytes);
    const ooms = await this.runtime.oomKillsSince(this.request, oomBefore);
    if (ooms > this.oomSeen) {
      this.oomSeen = ooms;
      this.request.onEvent?.({
        at: Date.now(),
        type: "oom",
        kills: ooms,
        memoryMiB: this.request.limits.memoryMiB,
      });
    }
  }

  usage(): WorkloadUsage {
    return { ...this.last };
  }

  stop(cause: string): Promise<WorkloadExit> {
    this.terminate("stopped", cause);
    return this.exited;
  }

  private terminate(reason: ExitReason, cause: string | null): void {
    const pid = this.child.pid;
    if (this.finished || pid === undefined) return;
    this.reason ??= { reason, cause };
    // bubblewrap forwards no signal (and its death would kill the sandbox at once): the launcher is signalled
    // directly, found in the group's process list, stops its services within the grace, then all is killed.
    void signalLaunchers(this.runtime.cgroupDir("pids", this.request), "SIGTERM");
    this.killTimer ??= setTimeout(() => {
      void killGroup(this.runtime.cgroupDir("pids", this.request));
    }, RUNNER_DEFAULTS.stopGraceMs);
  }
}

async function readOomKills(memoryDir: string): Promise<number> {
  try {
    const text = await readFile(join(memoryDir, "memory.oom_control"), "utf8");
    const match = /oom_kill (\d+)/.exec(text);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

async function groupPids(dir: string): Promise<number[]> {
  try {
    const text = await readFile(join(dir, "cgroup.procs"), "utf8");
    return text
      .split("\n")
      .filter((l) => l !== "")
      .map(Number);
  } catch {
    return [];
  }
}

async function signalGroupProcs(dir: string, signal: NodeJS.Signals): Promise<void> {
  for (const pid of await groupPids(dir)) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

async function signalLaunchers(dir: string, signal: NodeJS.Signals): Promise<void> {
  for (const pid of await groupPids(dir)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes(SANDBOX_LAUNCHER) || cmdline.includes("bwrap")) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

async function killGroup(dir: string): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const pids = await groupPids(dir);
    if (pids.length === 0) return;
    await signalGroupProcs(dir, "SIGKILL");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function removeGroup(dir: string): Promise<void> {
  for (let round = 0; round < 20; round++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
