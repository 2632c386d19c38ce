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
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  leaseParams,
  leaseStatusResponse,
  workloadParams,
  workloadResponse,
  type LeaseStatusResponse,
  type WorkloadResponse,
} from "../../sdk/api/routes.js";
import {
  canonicalJson,
  validateWorkload,
  workloadHash,
  type WorkloadProblem,
} from "../../sdk/compute/workload.js";
import type { AgentApiErrorCode } from "../http/errors.js";
import type { ComputeContext } from "./context.js";
import { currentManifest } from "./leaseKeeper.js";

export type ComputeApiErrorCode =
  AgentApiErrorCode | "BAD_WORKLOAD" | "WORKLOAD_MISMATCH" | "UNKNOWN_WORKLOAD" | "UNKNOWN_LEASE";

export type { LeaseStatusResponse, WorkloadResponse };

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

export function registerComputeRoutes(server: FastifyInstance, ctx: ComputeContext): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  app.put(
    "/v1/workloads/:hash",
    {
      bodyLimit: 1024 * 1024,
      schema: { params: workloadParams, response: { 200: workloadResponse, 201: workloadResponse } },
    },
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
        leases: leases.map((l) => l.id),
        orders: orders.map((o) => o.id),
      };
      return reply.status(stored ? 201 : 200).send(body);
    },
  );

  const leaseSchema = { params: leaseParams, response: { 200: leaseStatusResponse } };
  app.get("/v1/leases/:id", { schema: leaseSchema }, async (request, reply) => {
    const { id } = request.params;
    if (!/^[0-9]{1,20}$/.test(id))
      return fail(reply, 400, "BAD_REQUEST", "the lease id must be a decimal integer");
    const lease = ctx.db.compute.lease(BigInt(id));
    if (!lease) return fail(reply, 404, "UNKNOWN_LEASE", `this provider holds no lease ${id}`);
    const running = ctx.supervisor.get(lease.id);
    const body: LeaseStatusResponse = {
      id: lease.id,
      state: lease.state,
      closeReason: lease.closeReason,
      workloadHash: lease.workloadHash,
      workloadReceived: ctx.db.compute.workload(lease.workloadHash) !== undefined,
      runState: lease.runState,
      runs: lease.runs,
      lastExit: lease.runExit === null ? null : (JSON.parse(lease.runExit) as unknown),
      usage: running ? running.usage() : null,
      lastHeartbeatPeriod: lease.lastHeartbeatPeriod,
      noticeGiven: lease.noticeGiven,
      endsAt: lease.endsAt,
      runtime: ctx.supervisor.runtime.name,
      manifestVersion: currentManifest(ctx, lease).version,
      health: await ctx.supervisor.health(lease.id),
    };
    return reply.send(body);
  });
}
