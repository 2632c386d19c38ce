/**
 * Ingress: the only way into a workload's network. `ANY /v1/leases/:id/:service/<path>` is proxied to the
 * service's first exposed port, through the unix socket the launcher listens on in the lease's ingress directory
 * (`<port>.sock`, forwarded inside the sandbox to 127.0.0.1:<port>). Bodies stream both ways (no buffering), so
 * uploads, server-sent events and downloads work from a browser. Limits per lease: request bodies up to
 * `maxBodyBytes` (413 beyond), at most `maxConcurrent` requests in flight (503 with Retry-After beyond).
 * The service sees the path below its prefix and `x-forwarded-prefix`, `x-forwarded-for`, `x-forwarded-proto`.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ComputeContext } from "./context.js";
import { currentManifest } from "./leaseKeeper.js";

export interface IngressLimits {
  maxBodyBytes: number;
  maxConcurrent: number;
  /** How long the service may take to answer (headers), in ms. */
  timeoutMs: number;
}

export const INGRESS_DEFAULTS: IngressLimits = {
  maxBodyBytes: 16 * 1024 * 1024,
  maxConcurrent: 32,
  timeoutMs: 60_000,
};

/** Service names that would shadow the lease's own routes. */
export const RESERVED_SERVICE_NAMES = ["logs", "events", "manifest", "volumes"] as const;

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

/** The public address of a lease's service on this agent. */
export function ingressPath(leaseId: bigint | string, service: string): string {
  return `/v1/leases/${leaseId}/${service}/`;
}

function copyHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name === "x-strata-tenant-auth") continue;
    out[name] = value;
  }
  return out;
}

export function registerIngress(
  server: FastifyInstance,
  ctx: ComputeContext,
  limits: IngressLimits = INGRESS_DEFAULTS,
): void {
  const inFlight = new Map<bigint, number>();
  void server.register((app, _opts, done) => {
    // Bodies are streamed to the service as they come: no parser reads them here.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_request, _payload, next) => {
      next(null);
    });
    const handler = async (
      request: FastifyRequest<{ Params: { id: string; service: string; "*"?: string } }>,
      reply: FastifyReply,
    ): Promise<FastifyReply> => {
      const { id, service } = request.params;
      const fail = (status: number, code: string, message: string) =>
        reply.status(status).header("content-type", "application/json").send({ error: { code, message } });
      if (!/^[0-9]{1,20}$/.test(id))
        return fail(400, "BAD_REQUEST", "the lease id must be a decimal integer");
      const lease = ctx.db.compute.lease(BigInt(id));
      if (lease?.state !== "active") return fail(404, "UNKNOWN_LEASE", `no live lease ${id} here`);
      const manifest = currentManifest(ctx, lease).manifest;
      const port = manifest?.services[service]?.expose?.[0];
      if (port === undefined)
        return fail(404, "UNKNOWN_SERVICE", `lease ${id} exposes no service ${service}`);
      if (!ctx.supervisor.isRunning(lease.id))
        return fail(503, "WORKLOAD_NOT_RUNNING", `lease ${id}'s workload is not running`);
      const declared = Number(request.headers["content-length"] ?? "0");
      if (declared > limits.maxBodyBytes) {
        return fail(413, "BODY_TOO_LARGE", `request bodies are limited to ${limits.maxBodyBytes} bytes`);
      }
      const busy = inFlight.get(lease.id) ?? 0;
      if (busy >= limits.maxConcurrent) {
        void reply.header("retry-after", "1");
        return fail(503, "TOO_MANY_REQUESTS", `lease ${id} already has ${busy} requests in flight`);
      }
      inFlight.set(lease.id, busy + 1);
      const release = (() => {
        let released = false;
        return () => {
          if (released) return;
          released = true;
          inFlight.set(lease.id, (inFlight.get(lease.id) ?? 1) - 1);
        };
      })();
      const rest = request.params["*"] ?? "";
      const query = request.raw.url?.includes("?") ? request.raw.url.slice(request.raw.url.indexOf("?")) : "";
      const prefix = ingressPath(lease.id, service);
      reply.hijack();
      const out = reply.raw;
      const upstream = httpRequest({
        socketPath: join(ctx.supervisor.ingressDir(lease.id), `${port}.sock`),
        method: request.method,
        path: `/${rest}${query}`,
        headers: {
          ...copyHeaders(request.headers),
          host: `127.0.0.1:${port}`,
          "x-forwarded-prefix": prefix.slice(0, -1),
          "x-forwarded-for": request.ip,
          "x-forwarded-proto": request.protocol,
          "x-forwarded-host": request.headers.host ?? "",
        },
        timeout: limits.timeoutMs,
      });
      const answer = (status: number, code: string, message: string) => {
        if (!out.headersSent) {
          out.writeHead(status, { "content-type": "application/json" });
          out.end(JSON.stringify({ error: { code, message } }));
        } else out.destroy();
      };
      upstream.on("response", (response) => {
        const headers = copyHeaders(response.headers);
        out.writeHead(response.statusCode ?? 502, response.statusMessage, headers);
        response.pipe(out);
        response.on("end", release);
        response.on("error", () => {
          release();
          out.destroy();
        });
      });
      upstream.on("timeout", () => upstream.destroy(new Error("timeout")));
      upstream.on("error", (error) => {
        release();
        answer(502, "UPSTREAM_FAILED", `the service did not answer: ${error.message}`);
      });
      out.on("close", () => {
        release();
        upstream.destroy();
      });
      let received = 0;
      request.raw.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received > limits.maxBodyBytes) {
          request.raw.unpipe(upstream);
          upstream.destroy();
          release();
          answer(413, "BODY_TOO_LARGE", `request bodies are limited to ${limits.maxBodyBytes} bytes`);
          request.raw.destroy();
        }
      });
      request.raw.pipe(upstream);
      return reply;
    };
    app.all("/v1/leases/:id/:service/*", handler);
    app.all(
      "/v1/leases/:id/:service",
      async (request: FastifyRequest<{ Params: { id: string; service: string } }>, reply) => {
        // A browser resolves relative links against the directory: send it there.
        const query = request.raw.url?.includes("?")
          ? request.raw.url.slice(request.raw.url.indexOf("?"))
          : "";
        return reply.redirect(`${ingressPath(request.params.id, request.params.service)}${query}`, 308);
      },
    );
    done();
  });
}
