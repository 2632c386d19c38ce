/**
 * Workload runners: run a lease's manifest (its services) under CPU, memory and time limits.
 *
 * `WorkloadRuntime` is the seam. Two runtimes implement it, both around the same first process (the launcher,
 * sandbox/launcher.mjs: it starts the services, restarts them by policy with back-off, runs health checks and
 * forwards the ingress sockets):
 * - `IsolatedRuntime` (isolated.ts): bubblewrap namespaces and cgroup v1 limits enforced by the kernel. The
 *   default wherever it can run.
 * - `ProcessRuntime` (here): plain child processes, for machines where the isolated runtime cannot run; the
 *   agent says so loudly at start and in its status. How it enforces limits, honestly:
 *   every workload gets its own session and process group (setsid), signalled as a group; memory: the resident
 *   set of the group is read from /proc every `sampleMs` and the group is killed when it passes `memoryMiB`
 *   (Node services also get `--max-old-space-size`); CPU: `nice`, and an average above
 *   `cpuMillicores × cpuTolerance` for `cpuOverrunMs` stops the workload; time: `maxSeconds`; output: one
 *   capped log file per lease. Workloads run as the agent's user and see its file system and network.
 * Neither runtime passes the agent's environment (it holds the signing key): only PATH, HOME, TMPDIR, LANG,
 * STRATA_* and the service's own `env`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { constants as fsConstants } from "node:fs";
import { access, mkdir, writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import type { Readable } from "node:stream";
import type { WorkloadDescription } from "../../sdk/compute/workload.js";
import { CappedLog } from "./cappedLog.js";
import { CLOCK_TICKS_PER_SECOND, groupUsage, processAlive, readProcStat } from "./procfs.js";
import { buildPlan, LAUNCHER_PATH } from "./sandbox/plan.js";

/** Limits the runner enforces (the workload's own, capped by the lease's resources). */
export interface EffectiveLimits {
  cpuMillicores: number;
  memoryMiB: number;
  /** Wall-clock limit; null: until stopped. */
  maxSeconds: number | null;
}

export interface RunRequest {
  /** Lease id (decimal): names the log lines and goes to the workload as STRATA_LEASE_ID. */
  id: string;
  workload: WorkloadDescription;
  limits: EffectiveLimits;
  /** Working directory (created if missing; HOME of the workload). */
  workDir: string;
  /** Log file of stdout + stderr (appended, capped). */
  logPath: string;
  /** More environment variables for the workload (STRATA_*), applied before the workload's own. */
  env?: Record<string, string>;
  /** Host directory of each of the manifest's volumes (created and sized by the caller). */
  volumes?: Record<string, string>;
  /** Host directory where the launcher creates one unix socket per exposed port (`<port>.sock`). */
  ingressDir?: string;
  /** Called with every event the launcher reports (start, exit, restart, health) and the runtime's own (oom). */
  onEvent?: (event: WorkloadEvent) => void;
}

/** Something that happened to a service of a running workload, as the launcher or the runtime saw it. */
export interface WorkloadEvent {
  /** Milliseconds since the epoch. */
  at: number;
  type: string;
  service?: string;
  [detail: string]: unknown;
}

/**
 * Why a workload is no longer running: it exited by itself; a limit stopped it (memory, cpu, time); the
 * caller stopped it (`stopped`, with the caller's `cause`); or it could not be started.
 */
export type ExitReason = "exited" | "memory" | "cpu" | "time" | "stopped" | "spawn-failed";

export interface WorkloadExit {
  reason: ExitReason;
  /** The caller's words when reason is "stopped" (e.g. "lease closed"), the error when "spawn-failed". */
  cause: string | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  logBytes: number;
  logTruncated: boolean;
  /** Peak resident memory of the group seen by the monitor, in bytes. */
  peakRssBytes: number;
}

export interface WorkloadUsage {
  /** Average CPU over the monitor's window, in millicores (null until a window has elapsed). */
  cpuMillicores: number | null;
  rssBytes: number;
  processes: number;
}

/** Identity of a started process, kept so a later agent process can kill a workload left behind by a crash. */
export interface ProcessHandle {
  pid: number;
  /** Start time in clock ticks after boot (null when /proc is unavailable). */
  startTicks: number | null;
}

export interface RunningWorkload {
  readonly handle: ProcessHandle | undefined;
  /** Settles once the workload and its process group are gone. Never rejects. */
  readonly exited: Promise<WorkloadExit>;
  /** SIGTERM to the group, SIGKILL after the grace period; resolves with the exit. Idempotent. */
  stop(cause: string): Promise<WorkloadExit>;
  usage(): WorkloadUsage;
}

export interface WorkloadRuntime {
  readonly name: string;
  start(request: RunRequest): Promise<RunningWorkload>;
  /** Kill a workload a previous agent process started (after a crash); true when one was found. */
  reap(handle: ProcessHandle): Promise<boolean>;
}

export interface ProcessRuntimeOptions {
  /** Node binary for "node" workloads (default: the agent's). */
  nodePath?: string;
  /** `nice` increment of every workload (0..19; default 10). */
  niceness?: number;
  /** Apply an address-space rlimit of memoryMiB to command workloads (default true). */
  limitAddressSpace?: boolean;
  stopGraceMs?: number;
  logCapBytes?: number;
  sampleMs?: number;
  cpuWindowMs?: number;
  cpuOverrunMs?: number;
  /** Multiple of cpuMillicores tolerated on average before the overrun clock starts (default 1.25). */
  cpuTolerance?: number;
  /** PATH given to workloads (default: the agent's PATH). */
  path?: string;
  procRoot?: string;
  /** Milliseconds clock (default Date.now). */
  clock?: () => number;
}

export const RUNNER_DEFAULTS = {
  niceness: 10,
  limitAddressSpace: true,
  stopGraceMs: 10_000,
  logCapBytes: 10 * 1024 * 1024,
  sampleMs: 1_000,
  cpuWindowMs: 10_000,
  cpuOverrunMs: 30_000,
  cpuTolerance: 1.25,
} as const;

const MiB = 1024 * 1024;
/** How long the pipes may stay open after the group was killed (a process that left the group holds them). */
const PIPE_DRAIN_MS = 1_000;

/** Runs workloads as local child processes (see the file comment for what is and is not enforced). */
export class ProcessRuntime implements WorkloadRuntime {
  readonly name = "process";
  private readonly options: Required<Omit<ProcessRuntimeOptions, "nodePath" | "path">> & {
    nodePath: string;
    path: string;
  };
  private tools: Promise<{ nice: string | null; prlimit: string | null; bash: string | null }> | undefined;

  constructor(options: ProcessRuntimeOptions = {}) {
    this.options = {
      ...RUNNER_DEFAULTS,
      procRoot: "/proc",
      clock: Date.now,
      ...definedOnly(options),
      nodePath: options.nodePath ?? process.execPath,
      path: options.path ?? process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    };
  }

  async start(request: RunRequest): Promise<RunningWorkload> {
    const o = this.options;
    await mkdir(join(request.workDir, "tmp"), { recursive: true });
    const log = await CappedLog.open(request.logPath, o.logCapBytes);
    const argv = await this.argv(request);
    const env: Record<string, string> = {
      PATH: o.path,
      HOME: request.workDir,
      TMPDIR: join(request.workDir, "tmp"),
      LANG: "C.UTF-8",
      STRATA_LEASE_ID: request.id,
      STRATA_CPU_MILLICORES: String(request.limits.cpuMillicores),
      STRATA_MEMORY_MIB: String(request.limits.memoryMiB),
      STRATA_WORKDIR: request.workDir,
      ...request.env,
    };
    const [file, ...args] = argv;
    let child: ChildProcess;
    try {
      child = spawn(file ?? "", args, {
        cwd: request.workDir,
        env,
        detached: true, // own session and process group: signalled as a whole
        stdio: ["ignore", "pipe", "pipe", "pipe"],
      });
    } catch (error) {
      await log.close();
      return failedToStart(error, log);
    }
    followEvents(child.stdio[3] as Readable | null, request.onEvent);
    const running = new ProcessWorkload(child, log, request.limits, o);
    await running.identified;
    return running;
  }

  async reap(handle: ProcessHandle): Promise<boolean> {
    if (!(await processAlive(handle.pid, handle.startTicks ?? undefined, this.options.procRoot)))
      return false;
    signalGroup(handle.pid, "SIGKILL");
    return true;
  }

  private async argv(request: RunRequest): Promise<string[]> {
    const o = this.options;
    const tools = await (this.tools ??= findTools(o.path));
    const nice = tools.nice === null || o.niceness === 0 ? [] : [tools.nice, "-n", String(o.niceness)];
    const plan = buildPlan(request, {
      nodePath: o.nodePath,
      appDir: join(request.workDir, "app"),
      ingressDir: request.ingressDir ?? join(request.workDir, "ingress"),
      tmpDir: join(request.workDir, "tmp"),
      path: o.path,
      volumeMounts: request.volumes ?? {},
      stopGraceMs: o.stopGraceMs,
      serviceGroups: false,
      wrapCommand:
        !o.limitAddressSpace || tools.prlimit === null
          ? undefined
          : (argv, memoryMiB) => [tools.prlimit ?? "prlimit", `--as=${memoryMiB * MiB}`, "--", ...argv],
    });
    const planPath = join(request.workDir, "plan.json");
    await writeFile(planPath, JSON.stringify(plan));
    return [...nice, o.nodePath, LAUNCHER_PATH, planPath];
  }
}

class ProcessWorkload implements RunningWorkload {
  readonly handle: ProcessHandle | undefined;
  readonly exited: Promise<WorkloadExit>;
  /** Settles once the handle's start time is known (recorded so a later agent can reap the process). */
  readonly identified: Promise<void>;
  private reason: { reason: ExitReason; cause: string | null } | undefined;
  private finished = false;
  private readonly samples: { at: number; ticks: number }[] = [];
  private last: WorkloadUsage = { cpuMillicores: null, rssBytes: 0, processes: 0 };
  private peakRss = 0;
  private overrunSince: number | undefined;
  private sampling = false;
  private monitor: NodeJS.Timeout | undefined;
  private wallTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private stderrTail = "";
  private heapExhausted = false;

  constructor(
    private readonly child: ChildProcess,
    private readonly log: CappedLog,
    private readonly limits: EffectiveLimits,
    private readonly o: Required<Omit<ProcessRuntimeOptions, "nodePath" | "path">>,
  ) {
    const pid = child.pid;
    this.handle = pid === undefined ? undefined : { pid, startTicks: null };
    if (child.stdout) log.follow(child.stdout);
    if (child.stderr) {
      log.follow(child.stderr);
      child.stderr.on("data", (chunk: Buffer) => {
        // V8 reports a heap over --max-old-space-size on stderr before aborting.
        this.stderrTail = (this.stderrTail + chunk.toString("latin1")).slice(-512);
        if (this.stderrTail.includes("heap out of memory")) this.heapExhausted = true;
      });
    }
    this.exited = new Promise<WorkloadExit>((resolve) => {
      const finish = (exit: WorkloadExit): void => {
        if (this.finished) return;
        this.finished = true;
        clearInterval(this.monitor);
        clearTimeout(this.wallTimer);
        clearTimeout(this.killTimer);
        void log.close().then(() => {
          resolve({ ...exit, logBytes: log.bytes, logTruncated: log.isTruncated });
        });
      };
      child.once("error", (error) => {
        if (child.pid === undefined) finish({ ...emptyExit("spawn-failed"), cause: error.message });
      });
      child.once("exit", (code, signal) => {
        // The main process is gone: whatever it left in its group goes too (restart policy: none).
        if (pid !== undefined) signalGroup(pid, "SIGKILL");
        const drained = new Promise<void>((done) => {
          const timer = setTimeout(() => {
            child.stdout?.destroy();
            child.stderr?.destroy();
            done();
          }, PIPE_DRAIN_MS);
          child.once("close", () => {
            clearTimeout(timer);
            done();
          });
        });
        void drained.then(() => {
          const decided =
            this.reason ?? (this.heapExhausted ? { reason: "memory" as const, cause: null } : undefined);
          finish({
            ...emptyExit(decided?.reason ?? "exited"),
            cause: decided?.cause ?? null,
            code,
            signal,
            peakRssBytes: this.peakRss,
          });
        });
      });
    });
    if (pid === undefined) {
      this.identified = Promise.resolve();
      return;
    }
    this.identified = readProcStat(pid, o.procRoot).then((stat) => {
      if (stat !== undefined && this.handle !== undefined) this.handle.startTicks = stat.startTicks;
    });
    this.monitor = setInterval(() => {
      void this.sample();
    }, o.sampleMs);
    if (limits.maxSeconds !== null) {
      this.wallTimer = setTimeout(() => {
        this.terminate("time", null, "SIGTERM");
      }, limits.maxSeconds * 1000);
    }
  }

  private hasFinished(): boolean {
    return this.finished;
  }

  usage(): WorkloadUsage {
    return { ...this.last };
  }

  stop(cause: string): Promise<WorkloadExit> {
    this.terminate("stopped", cause, "SIGTERM");
    return this.exited;
  }

  /** Record why (first reason wins) and signal the group; SIGTERM escalates to SIGKILL after the grace. */
  private terminate(reason: ExitReason, cause: string | null, signal: "SIGTERM" | "SIGKILL"): void {
    const pid = this.child.pid;
    if (this.finished || pid === undefined) return;
    this.reason ??= { reason, cause };
    signalGroup(pid, signal);
    if (signal === "SIGTERM" && this.killTimer === undefined) {
      this.killTimer = setTimeout(() => {
        signalGroup(pid, "SIGKILL");
      }, this.o.stopGraceMs);
    }
  }

  private async sample(): Promise<void> {
    const pid = this.child.pid;
    if (this.sampling || this.finished || pid === undefined) return;
    this.sampling = true;
    try {
      const usage = await groupUsage(pid, this.o.procRoot);
      if (this.hasFinished()) return; // it may have ended while /proc was read
      const at = this.o.clock();
      this.peakRss = Math.max(this.peakRss, usage.rssBytes);
      this.samples.push({ at, ticks: usage.cpuTicks });
      while (this.samples.length > 2 && at - (this.samples[1]?.at ?? at) >= this.o.cpuWindowMs) {
        this.samples.shift();
      }
      const first = this.samples[0];
      const span = first === undefined ? 0 : at - first.at;
      const cpu =
        first !== undefined && span >= this.o.cpuWindowMs
          ? (Math.max(0, usage.cpuTicks - first.ticks) / CLOCK_TICKS_PER_SECOND / (span / 1000)) * 1000
          : null;
      this.last = { cpuMillicores: cpu, rssBytes: usage.rssBytes, processes: usage.processes };
      if (usage.rssBytes > this.limits.memoryMiB * MiB) {
        // Memory is not given back by waiting: no grace.
        this.terminate("memory", null, "SIGKILL");
        return;
      }
      if (cpu !== null && cpu > this.limits.cpuMillicores * this.o.cpuTolerance) {
        this.overrunSince ??= first?.at ?? at;
        if (at - this.overrunSince >= this.o.cpuOverrunMs) this.terminate("cpu", null, "SIGTERM");
      } else {
        this.overrunSince = undefined;
      }
    } finally {
      this.sampling = false;
    }
  }
}

/** Signal every process of the group led by `pgid`; a group already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left in the group
  }
}

function emptyExit(reason: ExitReason): WorkloadExit {
  return { reason, cause: null, code: null, signal: null, logBytes: 0, logTruncated: false, peakRssBytes: 0 };
}

function failedToStart(error: unknown, log: CappedLog): RunningWorkload {
  const exit: WorkloadExit = {
    ...emptyExit("spawn-failed"),
    cause: error instanceof Error ? error.message : String(error),
    logBytes: log.bytes,
    logTruncated: log.isTruncated,
  };
  return {
    handle: undefined,
    exited: Promise.resolve(exit),
    stop: () => Promise.resolve(exit),
    usage: () => ({ cpuMillicores: null, rssBytes: 0, processes: 0 }),
  };
}

async function findTools(
  path: string,
): Promise<{ nice: string | null; prlimit: string | null; bash: string | null }> {
  const [nice, prlimit, bash] = await Promise.all(
    ["nice", "prlimit", "bash"].map((name) => which(name, path)),
  );
  return { nice: nice ?? null, prlimit: prlimit ?? null, bash: bash ?? null };
}

/** The first executable `name` on `path`, or null. */
async function which(name: string, path: string): Promise<string | null> {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Parse the launcher's event lines (JSON, one per line) from `stream` and hand each to `onEvent`. */
export function followEvents(
  stream: Readable | null | undefined,
  onEvent: ((event: WorkloadEvent) => void) | undefined,
): void {
  if (!stream) return;
  let rest = "";
  stream.on("data", (chunk: Buffer) => {
    const lines = (rest + chunk.toString("utf8")).split("\n");
    rest = lines.pop() ?? "";
    if (rest.length > 64 * 1024) rest = "";
    for (const line of lines) {
      try {
        const event = JSON.parse(line) as unknown;
        if (
          typeof event === "object" &&
          event !== null &&
          typeof (event as WorkloadEvent).type === "string"
        ) {
          onEvent?.(event as WorkloadEvent);
        }
      } catch {
        // not an event line
      }
    }
  });
  stream.on("error", () => undefined);
}
