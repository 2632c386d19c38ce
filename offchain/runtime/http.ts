/**
 * The listening address of a long-running program's HTTP server (provider agent, worker).
 */
import type { FastifyInstance } from "fastify";

/**
 * The base URL of `app` once it listens on `listen` (the bound port when `listen.port` is 0; IPv6 hosts in
 * brackets).
 */
export function listeningUrl(
  app: Pick<FastifyInstance, "server">,
  listen: { host: string; port: number },
): string {
  const info = app.server.address();
  const port = typeof info === "object" && info !== null ? info.port : listen.port;
  return `http://${listen.host.includes(":") ? `[${listen.host}]` : listen.host}:${port}`;
}
