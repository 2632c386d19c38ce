/**
 * The compute tables of the agent database (migration 3): orders seen and this provider's bid on each,
 * leases won and their workload's run state, and workload descriptions received from tenants.
 * Reached as `AgentDb.compute`; shares the database handle and its transactions.
 */
import type { Param, Sql } from "../../runtime/sqlite/sql.js";
import { requestToJson, type OrderRequest } from "../../sdk/compute/orders.js";
import { StrataError } from "../../sdk/errors.js";
import {
  toComputeOrder,
  toLease,
  toWorkload,
  type ComputeBidTerms,
  type ComputeOrderRecord,
  type ComputeOrderState,
  type LeaseRecord,
  type LeaseRunState,
  type Row,
  type WorkloadRecord,
} from "../db/records.js";

export class ComputeStore {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {}

  private tx<T>(fn: () => T): T {
    return this.sql.tx(fn);
  }

  private one(sql: string, ...params: Param[]): Row | undefined {
    return this.sql.one(sql, ...params);
  }

  private all(sql: string, ...params: Param[]): Row[] {
    return this.sql.all(sql, ...params);
  }

  private run(sql: string, ...params: Param[]): number {
    return this.sql.run(sql, ...params);
  }

  // ------------------------------------------------------------------ orders

  /** Record an order seen for the first time, in `state`; false (nothing changed) when already known. */
  insertOrder(o: {
    id: bigint;
    tenant: string;
    request: OrderRequest;
    closeBounty: bigint;
    createdBlock: number;
    state: ComputeOrderState;
    reason: string | null;
  }): boolean {
    const at = this.now();
    return (
      this.run(
        `INSERT OR IGNORE INTO compute_orders
           (id, tenant, request, workload_hash, close_bounty, created_block, state, reason, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        o.id.toString(),
        o.tenant.toLowerCase(),
        JSON.stringify(requestToJson(o.request)),
        o.request.workloadHash.toLowerCase(),
        o.closeBounty.toString(),
        o.createdBlock,
        o.state,
        o.reason,
        at,
        at,
      ) === 1
    );
  }

  order(id: bigint): ComputeOrderRecord | undefined {
    const row = this.one("SELECT * FROM compute_orders WHERE id = ?", id.toString());
    return row && toComputeOrder(row);
  }

  ordersIn(states: readonly ComputeOrderState[]): ComputeOrderRecord[] {
    if (states.length === 0) return [];
    return this.all(
      `SELECT * FROM compute_orders WHERE state IN (${states.map(() => "?").join(", ")})
       ORDER BY CAST(id AS INTEGER)`,
      ...states,
    ).map(toComputeOrder);
  }

  /** Orders committing to `workloadHash` (any state). */
  ordersWithWorkload(workloadHash: string): ComputeOrderRecord[] {
    return this.all(
      "SELECT * FROM compute_orders WHERE workload_hash = ? ORDER BY CAST(id AS INTEGER)",
      workloadHash.toLowerCase(),
    ).map(toComputeOrder);
  }

  /** Move an order to `state`; `bid`, `reason` and `txHash` replace the stored values when given. */
  setOrderState(
    id: bigint,
    state: ComputeOrderState,
    fields: { reason?: string | null; bid?: ComputeBidTerms | null; txHash?: string | null } = {},
  ): void {
    const current = this.order(id);
    if (!current) throw new StrataError("AGENT_DB_ERROR", `unknown compute order ${id}`);
    const bid = fields.bid === undefined ? current.bid : fields.bid;
    this.run(
      `UPDATE compute_orders SET state = ?, reason = ?, price = ?, collateral = ?, notice_window = ?, gpu_model = ?,
         tx_hash = ?, updated_at = ? WHERE id = ?`,
      state,
      fields.reason === undefined ? current.reason : fields.reason,
      bid?.pricePerSecond.toString() ?? null,
      bid?.collateral.toString() ?? null,
      bid?.noticeWindow ?? null,
      bid?.gpuModel ?? null,
      fields.txHash === undefined ? current.txHash : fields.txHash,
      this.now(),
      id.toString(),
    );
  }

  // ------------------------------------------------------------------ leases

  /** Record a lease this provider won (run state awaiting-workload); false when already known. */
  insertLease(
    l: Omit<
      LeaseRecord,
      | "state"
      | "closeReason"
      | "noticeGiven"
      | "lastHeartbeatPeriod"
      | "lastSettledAt"
      | "runState"
      | "runExit"
      | "runs"
      | "pid"
      | "pidStart"
      | "createdAt"
      | "updatedAt"
    >,
  ): boolean {
    const at = this.now();
    return this.tx(() => {
      const inserted =
        this.run(
          `INSERT OR IGNORE INTO compute_leases
             (id, tenant, workload_hash, resources, gpu_model, price, collateral, notice_window, started_at, ends_at,
              heartbeat_period, started_block, state, run_state, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', 'awaiting-workload', ?, ?)`,
          l.id.toString(),
          l.tenant.toLowerCase(),
          l.workloadHash.toLowerCase(),
          JSON.stringify(l.resources),
          l.gpuModel,
          l.pricePerSecond.toString(),
          l.collateral.toString(),
          l.noticeWindow,
          Number(l.startedAt),
          Number(l.endsAt),
          Number(l.heartbeatPeriod),
          l.startedBlock,
          at,
          at,
        ) === 1;
      if (inserted && this.order(l.id)) this.setOrderState(l.id, "won", { reason: null });
      return inserted;
    });
  }

  lease(id: bigint): LeaseRecord | undefined {
    const row = this.one("SELECT * FROM compute_leases WHERE id = ?", id.toString());
    return row && toLease(row);
  }

  activeLeases(): LeaseRecord[] {
    return this.all("SELECT * FROM compute_leases WHERE state = 'active' ORDER BY CAST(id AS INTEGER)").map(
      toLease,
    );
  }

  leases(limit = 1000): LeaseRecord[] {
    return this.all("SELECT * FROM compute_leases ORDER BY CAST(id AS INTEGER) DESC LIMIT ?", limit).map(
      toLease,
    );
  }

  leasesWithWorkload(workloadHash: string): LeaseRecord[] {
    return this.all(
      "SELECT * FROM compute_leases WHERE workload_hash = ? ORDER BY CAST(id AS INTEGER)",
      workloadHash.toLowerCase(),
    ).map(toLease);
  }

  closeLease(id: bigint, reason: string): void {
    this.update(id, { state: "closed", close_reason: reason });
  }

  setHeartbeat(id: bigint, period: bigint): void {
    this.update(id, { last_heartbeat_period: Number(period) });
  }

  setSettled(id: bigint, at: bigint): void {
    this.update(id, { last_settled_at: Number(at) });
  }

  setNotice(id: bigint, endsAt: bigint): void {
    this.update(id, { notice_given: 1, ends_at: Number(endsAt) });
  }

  /** The workload started: running, with its process identity (to reap it after a crash). */
  setRunning(id: bigint, handle: { pid: number; startTicks: number | null } | undefined): void {
    const current = this.lease(id);
    if (!current) throw new StrataError("AGENT_DB_ERROR", `unknown lease ${id}`);
    this.update(id, {
      run_state: "running",
      runs: current.runs + 1,
      pid: handle?.pid ?? null,
      pid_start: handle?.startTicks ?? null,
    });
  }

  /** The workload is no longer running (`exit`: JSON of how it ended). */
  setRunEnded(
    id: bigint,
    state: Exclude<LeaseRunState, "running" | "awaiting-workload">,
    exit: unknown,
  ): void {
    this.update(id, { run_state: state, run_exit: JSON.stringify(exit), pid: null, pid_start: null });
  }

  private update(id: bigint, fields: Record<string, Param>): void {
    const columns = Object.keys(fields);
    const changed = this.run(
      `UPDATE compute_leases SET ${columns.map((c) => `${c} = ?`).join(", ")}, updated_at = ? WHERE id = ?`,
      ...columns.map((c) => fields[c] ?? null),
      this.now(),
      id.toString(),
    );
    if (changed === 0) throw new StrataError("AGENT_DB_ERROR", `unknown lease ${id}`);
  }

  // ------------------------------------------------------------------ workloads

  /** Store a description by hash; false when it was already stored. */
  putWorkload(hash: string, description: string): boolean {
    return (
      this.run(
        "INSERT OR IGNORE INTO compute_workloads (hash, description, received_at) VALUES (?, ?, ?)",
        hash.toLowerCase(),
        description,
        this.now(),
      ) === 1
    );
  }

  workload(hash: string): WorkloadRecord | undefined {
    const row = this.one("SELECT * FROM compute_workloads WHERE hash = ?", hash.toLowerCase());
    return row && toWorkload(row);
  }
}
