/**
 * The workloads this agent runs, one per live lease: started when the lease and its description are both
 * there, stopped when the lease ends or the agent stops, their run state and exit kept in the database.
 * Files: `<dataDir>/compute/leases/<leaseId>/` is the workload's working directory (HOME),
 * `<dataDir>/compute/logs/<leaseId>.log` its capped stdout + stderr.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { WorkloadDescription } from "../../sdk/compute/workload.js";
import type { AgentDb, LeaseRecord } from "../db.js";
import type { Logger } from "../../runtime/logger.js";
import type { EffectiveLimits, RunningWorkload, WorkloadExit, WorkloadRuntime } from "./runner.js";

/** The limits a lease's workload runs under: its own, never above what the order bought. */
export function effectiveLimits(
  workload: WorkloadDescription,
  lease: Pick<LeaseRecord, "resources" | "endsAt">,
  now: bigint,
): EffectiveLimits {
  const untilEnd = lease.endsAt === 0n ? null : Number(lease.endsAt > now ? lease.endsAt - now : 0n);
  const own = workload.limits.maxSeconds ?? null;
  return {
    cpuMillicores: Math.min(workload.limits.cpuMillicores, lease.resources.cpuMillicores),
    memoryMiB: Math.min(workload.limits.memoryMiB, lease.resources.memoryMiB),
    // The lease's end stops it too (the lease duty does), this is only a backstop when the chain is quiet.
    maxSeconds: own === null ? untilEnd : untilEnd === null ? own : Math.min(own, Math.max(1, untilEnd)),
  };
}

export class WorkloadSupervisor {
  private readonly running = new Map<bigint, RunningWorkload>();

  constructor(
    readonly runtime: WorkloadRuntime,
    private readonly db: AgentDb,
    private readonly dataDir: string,
    private readonly logger: Logger,
  ) {}

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
    const run = await this.runtime.start({
      id: lease.id.toString(),
      workload,
      limits,
      workDir: this.workDir(lease.id),
      logPath: this.logPath(lease.id),
      env: { STRATA_TENANT: lease.tenant },
    });
    this.running.set(lease.id, run);
    this.db.compute.setRunning(lease.id, run.handle);
    this.logger.info(
      { leaseId: lease.id, pid: run.handle?.pid, kind: workload.kind, limits, runtime: this.runtime.name },
      "workload started",
    );
    void run.exited.then((exit) => {
      this.running.delete(lease.id);
      this.record(lease.id, exit);
    });
  }

  /** Stop one lease's workload (SIGTERM, then SIGKILL after the grace period); resolves once it is gone. */
  async stop(leaseId: bigint, cause: string): Promise<WorkloadExit | undefined> {
    const run = this.running.get(leaseId);
    if (!run) return undefined;
    return run.stop(cause);
  }

  /** Stop every workload (agent shutdown); resolves once all are gone. */
  async stopAll(cause: string): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id, cause)));
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
    const level = exit.reason === "exited" || exit.reason === "stopped" ? "info" : "warn";
    this.logger[level]({ leaseId, ...exit }, "workload ended");
    if (!this.db.isOpen) return;
    this.db.compute.setRunEnded(leaseId, exit.reason === "stopped" ? "stopped" : "exited", exit);
  }
}
