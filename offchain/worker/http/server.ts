/**
 * The worker's HTTP endpoint (fastify): GET /health (JSON), GET /metrics (Prometheus text) and, when given its
 * dependencies, the read-only dashboard (HTML pages under `/`; see ../dashboard/routes.ts).
 */
import { fastify, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { notFoundPage, registerDashboard, type DashboardDeps } from "../dashboard/routes.js";
import type { Logger } from "../../runtime/logger.js";
import type { WorkerMetrics } from "../metrics.js";
import type { HealthReport } from "./health.js";

export interface HttpDeps {
  logger: Logger;
  metrics: WorkerMetrics;
  /** The current health (computed per request). */
  health: () => HealthReport;
  /** The dashboard's index and chain reads (absent: no dashboard). */
  dashboard?: DashboardDeps;
}

/** Build the app (not listening): `app.inject()` in tests, `app.listen()` in the worker. */
export function buildHttpApp(deps: HttpDeps): FastifyInstance {
  // Requests are logged at info: scrapes every few seconds would drown the worker's own logs.
  const logger: FastifyBaseLogger = deps.logger.child({ component: "http" }, { level: "warn" });
  const app = fastify({ loggerInstance: logger });

  // 200 while starting or ok, 503 while degraded: load balancers and probes read the code, people the body.
  app.get("/health", async (_request, reply) => {
    const report = deps.health();
    return reply.code(report.status === "degraded" ? 503 : 200).send(report);
  });

  app.get("/metrics", async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.header("content-type", deps.metrics.registry.contentType).send(text);
  });

  if (deps.dashboard !== undefined) registerDashboard(app, deps.dashboard);

  // Browsers (Accept: text/html) get the dashboard's 404 page, programs the JSON error.
  app.setNotFoundHandler(async (request, reply) => {
    if (deps.dashboard !== undefined && (request.headers.accept ?? "").includes("text/html")) {
      return notFoundPage(reply, `no page ${request.url}`);
    }
    return reply
      .code(404)
      .send({ error: { code: "NOT_FOUND", message: `no route ${request.method} ${request.url}` } });
  });
  return app;
}
