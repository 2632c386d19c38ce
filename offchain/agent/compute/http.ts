/**
 * Compute routes of the agent API (registered when compute is enabled):
 * - `PUT /v1/workloads/:hash` — the tenant hands over its workload description (JSON). Accepted when it is a
 *   valid description, hashes (canonical JSON, keccak256) to `:hash`, and `:hash` is the workload of an order
 *   this provider bid on or a lease it holds. Stored by hash; the lease duty starts it.
 * - `GET /v1/leases/:id` — what this agent knows of a lease: its state, the workload's run state, last exit
 *   and current usage. No logs (they are the tenant's).
 * Errors have the agent API's shape `{error: {code, message}}`.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import {
  canonicalJson,
  validateWorkload,
  workloadHash,
  type WorkloadProblem,
} from "../../sdk/compute/workload.js";
import type { AgentApiErrorCode } from "../http/errors.js";
import type { ComputeContext } from "./context.js";
import type { WorkloadUsage } from "./runner.js";

export type ComputeApiErrorCode =
  AgentApiErrorCode | "BAD_WORKLOAD" | "WORKLOAD_MISMATCH" | "UNKNOWN_WORKLOAD" | "UNKNOWN_LEASE";

/** 201 (stored now) or 200 (already stored). */
export interface WorkloadResponse {
  hash: string;
  state: "stored" | "already-stored";
  /** This provider's leases running (or about to run) it. */
  leases: string[];
  /** Orders with this workload this provider bid on. */
  orders: string[];
}

/** GET /v1/leases/:id */
export interface LeaseStatusResponse {
  id: string;
  state: "active" | "closed";
  closeReason: string | null;
  workloadHash: string;
  workloadReceived: boolean;
  runState: string;
  runs: number;
  lastExit: unknown;
  usage: WorkloadUsage | null;
  lastHeartbeatPeriod: string | null;
  noticeGiven: boolean;
  endsAt: string;
}

const HASH = /^0x[0-9a-fA-F]{64}$/;

function fail(
  reply: FastifyReply,
  status: number,
  code: ComputeApiErrorCode,
  message: string,
  extra: { problems?: WorkloadProblem[] } = {},
): FastifyReply {
  return reply.status(status).send({ error: { code, message, ...extra } });
}

export function registerComputeRoutes(app: FastifyInstance, ctx: ComputeContext): void {
  app.put<{ Params: { hash: string } }>(
    "/v1/workloads/:hash",
    { bodyLimit: 1024 * 1024 },
    async (request, reply) => {
      const hash = request.params.hash.toLowerCase();
      if (!HASH.test(hash))
        return fail(reply, 400, "BAD_REQUEST", "the path must end in a 0x-prefixed 32-byte hash");
      const validation = validateWorkload(request.body);
      if (!validation.ok) {
        return fail(reply, 400, "BAD_WORKLOAD", "the body is not a valid workload description", {
          problems: validation.problems,
        });
      }
      const actual = workloadHash(validation.workload);
      if (actual !== hash) {
        return fail(reply, 422, "WORKLOAD_MISMATCH", `the description hashes to ${actual}, not ${hash}`);
      }
      const { compute } = ctx.db;
      const orders = compute
        .ordersWithWorkload(hash)
        .filter((o) => o.state === "bidding" || o.state === "bid" || o.state === "won");
      const leases = compute.leasesWithWorkload(hash);
      if (orders.length === 0 && leases.length === 0) {
        return fail(
          reply,
          404,
          "UNKNOWN_WORKLOAD",
          "no order this provider bid on and no lease it holds has this workload",
        );
      }
      const stored = compute.putWorkload(hash, canonicalJson(validation.workload));
      if (stored)
        request.log.info({ hash, leases: leases.map((l) => l.id) }, "workload description received");
      const body: WorkloadResponse = {
        hash,
        state: stored ? "stored" : "already-stored",
        leases: leases.map((l) => l.id.toString()),
        orders: orders.map((o) => o.id.toString()),
      };
      return reply.status(stored ? 201 : 200).send(body);
    },
  );

  app.get<{ Params: { id: string } }>("/v1/leases/:id", async (request, reply) => {
    const { id } = request.params;
    if (!/^[0-9]{1,20}$/.test(id))
      return fail(reply, 400, "BAD_REQUEST", "the lease id must be a decimal integer");
    const lease = ctx.db.compute.lease(BigInt(id));
    if (!lease) return fail(reply, 404, "UNKNOWN_LEASE", `this provider holds no lease ${id}`);
    const running = ctx.supervisor.get(lease.id);
    const body: LeaseStatusResponse = {
      id: lease.id.toString(),
      state: lease.state,
      closeReason: lease.closeReason,
      workloadHash: lease.workloadHash,
      workloadReceived: ctx.db.compute.workload(lease.workloadHash) !== undefined,
      runState: lease.runState,
      runs: lease.runs,
      lastExit: lease.runExit === null ? null : (JSON.parse(lease.runExit) as unknown),
      usage: running ? running.usage() : null,
      lastHeartbeatPeriod: lease.lastHeartbeatPeriod?.toString() ?? null,
      noticeGiven: lease.noticeGiven,
      endsAt: lease.endsAt.toString(),
    };
    return reply.send(body);
  });
}
