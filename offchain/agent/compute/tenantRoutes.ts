/**
 * Routes a lease's tenant uses at its provider, each authenticated by the tenant's signature (tenantAuth.ts):
 * - `PUT /v1/leases/:id/manifest` — a new manifest version `{version, manifest, signature}`: valid, signed over
 *   {chain, market, lease, version, manifest hash}, a version above the current one, the same price terms as
 *   the order's manifest, resources within the order's. The workload is restarted on it; volumes are kept.
 * - `GET /v1/leases/:id/logs[?follow=1&from=<byte>]` — the workload's output (streamed while it runs with follow).
 * - `GET /v1/leases/:id/events` — start, exit, restart, oom, health, update and end events.
 * - `GET /v1/leases/:id/volumes/:volume/backup` — a tar of the volume, streamed.
 * Reads carry the header `x-strata-tenant-auth: <expiresAt>.<signature>` of an access grant for their scope.
 * Errors have the agent API's shape `{error: {code, message}}`; nobody but the tenant gets anything but an error.
 */
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  ACCESS_HEADER,
  checkLeaseAccess,
  leaseUpdateMessage,
  signedBy,
  type AccessScope,
  type LeaseTarget,
} from "../../sdk/compute/tenantAuth.js";
import {
  canonicalJson,
  parseWorkloadJson,
  totalResources,
  validateWorkload,
  workloadHash,
} from "../../sdk/compute/workload.js";
import type { LeaseRecord } from "../db.js";
import type { ComputeContext } from "./context.js";
import { currentManifest, setCurrentManifest, startLeaseWorkload } from "./leaseKeeper.js";

const LEASE_ID = /^[0-9]{1,20}$/;

function fail(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  extra: object = {},
): FastifyReply {
  return reply.status(status).send({ error: { code, message, ...extra } });
}

function leaseOf(ctx: ComputeContext, id: string): LeaseRecord | undefined {
  return LEASE_ID.test(id) ? ctx.db.compute.lease(BigInt(id)) : undefined;
}

function target(ctx: ComputeContext, leaseId: bigint): LeaseTarget {
  return { chainId: ctx.chain.chainId, market: ctx.config.deployment.computeMarket ?? "", leaseId };
}

/** The lease when the request carries the tenant's valid grant for `scope`; otherwise the reply is sent. */
async function authorised(
  ctx: ComputeContext,
  request: FastifyRequest<{ Params: { id: string } }>,
  reply: FastifyReply,
  scope: AccessScope,
): Promise<LeaseRecord | undefined> {
  const lease = leaseOf(ctx, request.params.id);
  if (!lease) {
    await fail(reply, 404, "UNKNOWN_LEASE", `this provider holds no lease ${request.params.id}`);
    return undefined;
  }
  const header = request.headers[ACCESS_HEADER];
  const check = checkLeaseAccess(
    Array.isArray(header) ? header[0] : header,
    target(ctx, lease.id),
    scope,
    lease.tenant,
    Math.floor(Date.now() / 1000),
  );
  if (!check.ok) {
    await fail(reply, check.code === "AUTH_REQUIRED" ? 401 : 403, check.code, check.message);
    return undefined;
  }
  return lease;
}

export function registerTenantRoutes(app: FastifyInstance, ctx: ComputeContext): void {
  app.put<{ Params: { id: string }; Body: unknown }>(
    "/v1/leases/:id/manifest",
    { bodyLimit: 1024 * 1024 },
    async (request, reply) => {
      const lease = leaseOf(ctx, request.params.id);
      if (!lease)
        return fail(reply, 404, "UNKNOWN_LEASE", `this provider holds no lease ${request.params.id}`);
      if (lease.state !== "active")
        return fail(reply, 409, "LEASE_NOT_ACTIVE", `lease ${lease.id} is ${lease.state}`);
      const body = request.body as { version?: unknown; manifest?: unknown; signature?: unknown } | null;
      const version = body?.version;
      const signature = body?.signature;
      if (typeof version !== "number" || !Number.isSafeInteger(version) || typeof signature !== "string") {
        return fail(
          reply,
          400,
          "BAD_REQUEST",
          "the body must be {version: integer, manifest: {...}, signature: 0x...}",
        );
      }
      const validation = validateWorkload(body?.manifest);
      if (!validation.ok) {
        return fail(reply, 400, "BAD_WORKLOAD", "the manifest is invalid", { problems: validation.problems });
      }
      const manifest = validation.workload;
      const hash = workloadHash(manifest);
      if (!signedBy(leaseUpdateMessage(target(ctx, lease.id), version, hash), signature, lease.tenant)) {
        return fail(reply, 403, "AUTH_INVALID", "the update is not signed by the lease's tenant");
      }
      const current = currentManifest(ctx, lease);
      if (version <= current.version) {
        return fail(
          reply,
          409,
          "STALE_VERSION",
          `version ${version} is not above the current version ${current.version}`,
        );
      }
      const original = ctx.db.compute.workload(lease.workloadHash);
      const originalPricing = original ? parseWorkloadJson(original.description).pricing : undefined;
      if (canonicalJson(originalPricing ?? null) !== canonicalJson(manifest.pricing ?? null)) {
        return fail(
          reply,
          422,
          "PRICE_CHANGED",
          "an update keeps the lease's price terms (pricing) unchanged",
        );
      }
      const need = totalResources(manifest);
      if (need.cpuMillicores > lease.resources.cpuMillicores || need.memoryMiB > lease.resources.memoryMiB) {
        return fail(
          reply,
          422,
          "RESOURCES_EXCEED_ORDER",
          `the manifest needs ${need.cpuMillicores} millicores and ${need.memoryMiB} MiB; the order bought ` +
            `${lease.resources.cpuMillicores} millicores and ${lease.resources.memoryMiB} MiB`,
        );
      }
      ctx.db.compute.putWorkload(hash, canonicalJson(manifest));
      setCurrentManifest(ctx, lease.id, { version, hash });
      ctx.supervisor.recordEvent(lease.id, { at: Date.now(), type: "update", version, manifestHash: hash });
      await ctx.supervisor.stop(lease.id, `updated to version ${version}`);
      const fresh = ctx.db.compute.lease(lease.id) ?? lease;
      await startLeaseWorkload(ctx, fresh);
      return reply.send({ leaseId: lease.id.toString(), version, manifestHash: hash, state: "restarted" });
    },
  );

  app.get<{ Params: { id: string }; Querystring: { follow?: string; from?: string } }>(
    "/v1/leases/:id/logs",
    async (request, reply) => {
      const lease = await authorised(ctx, request, reply, "logs");
      if (!lease) return reply;
      const path = ctx.supervisor.logPath(lease.id);
      const follow = request.query.follow === "1" || request.query.follow === "true";
      let offset = Number(request.query.from ?? "0");
      if (!Number.isSafeInteger(offset) || offset < 0) offset = 0;
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, {
        "content-type": "text/plain; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      });
      const client = { gone: false };
      request.raw.on("close", () => {
        client.gone = true;
      });
      for (;;) {
        const size = await stat(path).then(
          (s) => s.size,
          () => 0,
        );
        if (size > offset) {
          await new Promise<void>((resolve) => {
            const stream = createReadStream(path, { start: offset, end: size - 1 });
            stream.on("data", (chunk) => out.write(chunk));
            stream.on("end", resolve);
            stream.on("error", () => {
              resolve();
            });
          });
          offset = size;
        }
        if (!follow || client.gone) break;
        if (!ctx.supervisor.isRunning(lease.id) && size <= offset) {
          await new Promise((r) => setTimeout(r, 500));
          const after = await stat(path).then(
            (s) => s.size,
            () => 0,
          );
          if (after <= offset && !ctx.supervisor.isRunning(lease.id)) break;
        }
        await new Promise((r) => setTimeout(r, 300));
      }
      out.end();
      return reply;
    },
  );

  app.get<{ Params: { id: string } }>("/v1/leases/:id/events", async (request, reply) => {
    const lease = await authorised(ctx, request, reply, "events");
    if (!lease) return reply;
    return reply.send({ leaseId: lease.id.toString(), events: await ctx.supervisor.events(lease.id) });
  });

  app.get<{ Params: { id: string; volume: string } }>(
    "/v1/leases/:id/volumes/:volume/backup",
    async (request, reply) => {
      const lease = await authorised(ctx, request, reply, "backup");
      if (!lease) return reply;
      const manifest = currentManifest(ctx, lease).manifest;
      const { volume } = request.params;
      if (manifest?.volumes?.[volume] === undefined) {
        return fail(reply, 404, "UNKNOWN_VOLUME", `lease ${lease.id} has no volume ${volume}`);
      }
      const dir = `${ctx.supervisor.volumes.leaseDir(lease.id)}/${volume}`;
      if (
        !(await stat(dir).then(
          (s) => s.isDirectory(),
          () => false,
        ))
      ) {
        return fail(reply, 404, "UNKNOWN_VOLUME", `volume ${volume} of lease ${lease.id} holds nothing yet`);
      }
      reply.hijack();
      const tar = spawn("tar", ["-C", dir, "--exclude", "./lost+found", "-cf", "-", "."], {
        stdio: ["ignore", "pipe", "ignore"],
      });
      reply.raw.writeHead(200, {
        "content-type": "application/x-tar",
        "content-disposition": `attachment; filename="lease-${lease.id}-${volume}.tar"`,
      });
      tar.stdout.pipe(reply.raw);
      request.raw.on("close", () => tar.kill("SIGKILL"));
      return reply;
    },
  );
}
