/**
 * The workloads this agent runs, one per live lease: started when the lease and its manifest are both there,
 * stopped when the lease ends or the agent stops, their run state and exit kept in the database.
 * Files: `<dataDir>/compute/leases/<leaseId>/` is the workload's working directory (its plan),
 * `<dataDir>/compute/logs/<leaseId>.log` its capped stdout + stderr, `<dataDir>/compute/events/<leaseId>.jsonl`
 * its events (start, exit, restart, oom, health, update, end), `<dataDir>/compute/ingress/<leaseId>/` the
 * sockets of its exposed ports, `<dataDir>/compute/volumes/<leaseId>/` its persistent volumes.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { totalResources, type WorkloadDescription } from "../../sdk/compute/workload.js";
import type { AgentDb, LeaseRecord } from "../db.js";
import type { Logger } from "../../runtime/logger.js";
import type {
  EffectiveLimits,
  RunningWorkload,
  WorkloadEvent,
  WorkloadExit,
  WorkloadRuntime,
} from "./runner.js";
import { LeaseVolumes } from "./volumes.js";

/** Events kept per lease (the oldest are dropped past this). */
const MAX_EVENTS = 1000;

/** The limits a lease's workload runs under: its own, never above what the order bought. */
export function effectiveLimits(
  workload: WorkloadDescription,
  lease: Pick<LeaseRecord, "resources" | "endsAt">,
  now: bigint,
): EffectiveLimits {
  const untilEnd = lease.endsAt === 0n ? null : Number(lease.endsAt > now ? lease.endsAt - now : 0n);
  const total = totalResources(workload);
  return {
    cpuMillicores: Math.min(total.cpuMillicores, lease.resources.cpuMillicores),
    memoryMiB: Math.min(total.memoryMiB, lease.resources.memoryMiB),
    // The lease's end stops it too (the lease duty does), this is only a backstop when the chain is quiet.
    maxSeconds: untilEnd === null ? null : Math.max(1, untilEnd),
  };
}

export class WorkloadSupervisor {
  private readonly running = new Map<bigint, RunningWorkload>();
  readonly volumes: LeaseVolumes;

  constructor(
    readonly runtime: WorkloadRuntime,
    private readonly db: AgentDb,
    private readonly dataDir: string,
    private readonly logger: Logger,
    /** Why the isolated runtime is not used, when it is not (reported in the status). */
    readonly runtimeFallback: string | null = null,
  ) {
    this.volumes = new LeaseVolumes(dataDir, logger);
  }

  ingressDir(leaseId: bigint): string {
    return join(this.dataDir, "compute", "ingress", leaseId.toString());
  }

  eventsPath(leaseId: bigint): string {
    return join(this.dataDir, "compute", "events", `${leaseId}.jsonl`);
  }

  /** Record an event of the lease (kept across agent restarts). */
  recordEvent(leaseId: bigint, event: WorkloadEvent): void {
    try {
      mkdirSync(join(this.dataDir, "compute", "events"), { recursive: true });
      appendFileSync(this.eventsPath(leaseId), `${JSON.stringify(event)}\n`);
    } catch (error) {
      this.logger.warn({ err: error, leaseId }, "cannot record a workload event");
    }
    const level =
      event.type === "oom" || event.type === "unhealthy" || event.type === "health-failed" ? "warn" : "info";
    this.logger[level]({ leaseId, ...event }, `workload event: ${event.type}`);
  }

  /** The lease's events, oldest first (at most MAX_EVENTS, the newest). */
  async events(leaseId: bigint): Promise<WorkloadEvent[]> {
    const text = await readFile(this.eventsPath(leaseId), "utf8").catch(() => "");
    const events: WorkloadEvent[] = [];
    for (const line of text.split("\n")) {
      if (line === "") continue;
      try {
        events.push(JSON.parse(line) as WorkloadEvent);
      } catch {
        // a torn line after a crash
      }
    }
    return events.slice(-MAX_EVENTS);
  }

  /** Health of each service from the events: unhealthy after an `unhealthy` event until a `healthy` one. */
  async health(leaseId: bigint): Promise<Record<string, "healthy" | "unhealthy">> {
    const health: Record<string, "healthy" | "unhealthy"> = {};
    for (const event of await this.events(leaseId)) {
      if (event.service === undefined) continue;
      if (event.type === "unhealthy") health[event.service] = "unhealthy";
      if (event.type === "healthy" || event.type === "start" || event.type === "restart")
        health[event.service] = "healthy";
    }
    return health;
  }

  workDir(leaseId: bigint): string {
    return join(this.dataDir, "compute", "leases", leaseId.toString());
  }

  logPath(leaseId: bigint): string {
    return join(this.dataDir, "compute", "logs", `${leaseId}.log`);
  }

  isRunning(leaseId: bigint): boolean {
    return this.running.has(leaseId);
  }

  get(leaseId: bigint): RunningWorkload | undefined {
    return this.running.get(leaseId);
  }

  /** Start the lease's workload and follow it: its exit is recorded whenever it comes. */
  async start(lease: LeaseRecord, workload: WorkloadDescription, limits: EffectiveLimits): Promise<void> {
    if (this.running.has(lease.id)) return;
    await mkdir(join(this.dataDir, "compute", "logs"), { recursive: true });
    const volumes = await this.volumes.prepare(lease.id, workload);
    const run = await this.runtime.start({
      id: lease.id.toString(),
      workload,
      limits,
      workDir: this.workDir(lease.id),
      logPath: this.logPath(lease.id),
      env: { STRATA_TENANT: lease.tenant },
      volumes: Object.fromEntries(volumes.map((v) => [v.name, v.path])),
      ingressDir: this.ingressDir(lease.id),
      onEvent: (event) => {
        this.recordEvent(lease.id, event);
      },
    });
    this.running.set(lease.id, run);
    this.db.compute.setRunning(lease.id, run.handle);
    this.recordEvent(lease.id, {
      at: Date.now(),
      type: "workload-start",
      runtime: this.runtime.name,
      services: Object.keys(workload.services),
      limits,
      volumes: volumes.map((v) => ({ name: v.name, sizeMiB: v.sizeMiB, quota: v.quota })),
    });
    void run.exited.then((exit) => {
      this.running.delete(lease.id);
      this.record(lease.id, exit);
    });
  }

  /** The lease ended: stop its workload, wipe its volumes and ingress sockets. */
  async end(leaseId: bigint, cause: string): Promise<void> {
    await this.stop(leaseId, cause);
    await this.volumes.wipe(leaseId);
    await rm(this.ingressDir(leaseId), { recursive: true, force: true });
    await rm(this.workDir(leaseId), { recursive: true, force: true });
    this.recordEvent(leaseId, { at: Date.now(), type: "lease-end", cause });
  }

  /** Stop one lease's workload (SIGTERM, then SIGKILL after the grace period); resolves once it is gone. */
  async stop(leaseId: bigint, cause: string): Promise<WorkloadExit | undefined> {
    const run = this.running.get(leaseId);
    if (!run) return undefined;
    return run.stop(cause);
  }

  /** Stop every workload (agent shutdown) and unmount their volumes (images kept); resolves once all are gone. */
  async stopAll(cause: string): Promise<void> {
    const ids = [...this.running.keys()];
    await Promise.all(ids.map((id) => this.stop(id, cause)));
    for (const id of ids) await this.volumes.release(id);
  }

  /**
   * Kill workloads a previous agent process left running (a crash: the database says running, this process
   * did not start them). They are marked stopped, so the lease duty starts them again if the lease is live.
   */
  async reapOrphans(): Promise<bigint[]> {
    const reaped: bigint[] = [];
    for (const lease of this.db.compute.activeLeases()) {
      if (lease.runState !== "running" || this.running.has(lease.id)) continue;
      const killed =
        lease.pid !== null && (await this.runtime.reap({ pid: lease.pid, startTicks: lease.pidStart }));
      this.db.compute.setRunEnded(lease.id, "stopped", {
        reason: "stopped",
        cause: killed ? "left running by an earlier agent process; killed" : "gone after an agent restart",
      });
      if (killed) reaped.push(lease.id);
      this.logger.warn(
        { leaseId: lease.id, pid: lease.pid, killed },
        "workload of an earlier agent process reaped",
      );
    }
    return reaped;
  }

  private record(leaseId: bigint, exit: WorkloadExit): void {
    this.recordEvent(leaseId, { at: Date.now(), type: "workload-end", ...exit });
    if (!this.db.isOpen) return;
    this.db.compute.setRunEnded(leaseId, exit.reason === "stopped" ? "stopped" : "exited", exit);
  }
}
