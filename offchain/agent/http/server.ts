/** The agent's HTTP data plane (fastify): the routes of the agent API, JSON errors, streamed uploads. */
import { fastify, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { AgentContext } from "../context.js";
import { installErrorHandlers } from "./errors.js";
import { registerDataSetRoutes } from "./datasets.js";
import { registerFileRoutes } from "./files.js";
import { registerInfoRoutes } from "./info.js";
import { registerPieceRoutes } from "./pieces.js";
import { registerPermanentRoutes } from "../permanent/routes.js";

/** Build the app (not listening): `app.inject()` in tests, `app.listen()` in the agent. */
export function buildHttpApp(ctx: AgentContext): FastifyInstance {
  // Typed as fastify's base logger so the app keeps fastify's default generics.
  const logger: FastifyBaseLogger = ctx.logger.child({ component: "http" });
  const app = fastify({
    loggerInstance: logger,
    bodyLimit: 1024 * 1024,
    // Uploads can take a while on slow links; keep idle sockets from lingering.
    requestTimeout: 0,
    connectionTimeout: 0,
  });
  // Piece bytes are not buffered by fastify: the route streams them to the piece store and enforces the size.
  app.addContentTypeParser("application/octet-stream", (_request, payload, done) => {
    done(null, payload);
  });
  installErrorHandlers(app);
  registerInfoRoutes(app, ctx);
  registerPieceRoutes(app, ctx);
  registerDataSetRoutes(app, ctx);
  registerFileRoutes(app, ctx);

  registerPermanentRoutes(app, ctx);
  return app;
}
