/**
 * Helpers of the worker tests: configurations for the fixture's deployment, workers on the in-process
 * network, and a JSON-RPC HTTP proxy in front of any upstream that can be switched to fail.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import type { Provider, Signer } from "ethers";
import {
  parseWorkerConfig,
  resolveWorkerConfig,
  type WorkerConfig,
  type WorkerConfigOverrides,
} from "../../offchain/worker/config.js";
import type { Duty } from "../../offchain/worker/context.js";
import { createLogger, silentLogger, type Logger } from "../../offchain/runtime/logger.js";
import { createMetrics } from "../../offchain/worker/metrics.js";
import { createWorker, type Worker } from "../../offchain/worker/worker.js";
import type { StorageFixture } from "../helpers/fixture.js";

/** Worker logs are silent unless STRATA_TEST_LOG names a level (e.g. STRATA_TEST_LOG=debug). */
export function testLogger(): Logger {
  const level = process.env.STRATA_TEST_LOG;
  return level ? createLogger({ name: "strata-worker", level }) : silentLogger();
}

const dirs: string[] = [];

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "strata-worker-test-"));
  dirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** Fast retries for tests: failures surface in well under a second. */
export const FAST_RPC = { attempts: 2, baseMs: 10, maxMs: 50, timeoutMs: 2000 };

/**
 * A resolved configuration for the fixture's deployment: a fresh database file, confirmations 0, start block
 * 0, port 0, fast retries, silent logs.
 */
export async function workerConfig(
  f: StorageFixture,
  overrides: WorkerConfigOverrides = {},
): Promise<WorkerConfig> {
  const settings = parseWorkerConfig(
    {
      deployment: {
        market: await f.market.getAddress(),
        registry: await f.registry.getAddress(),
        token: await f.token.getAddress(),
        retrievalChallenges: await f.retrievalChallenges.getAddress(),
      },
      dbPath: join(await tempDir(), "worker.db"),
      confirmations: 0,
      startBlock: 0,
      pollIntervalMs: 50,
      listen: "127.0.0.1:0",
      logLevel: "silent",
      rpc: FAST_RPC,
    },
    { overrides },
  );
  return resolveWorkerConfig(settings, { chainId: f.chainId });
}

/** A worker on the fixture's chain (read-only unless `signer`), not started. */
export async function testWorker(
  f: StorageFixture,
  options: {
    config?: WorkerConfig;
    overrides?: WorkerConfigOverrides;
    provider?: Provider;
    signer?: Signer;
    duties?: Duty[];
    clock?: () => number;
  } = {},
): Promise<Worker> {
  const config = options.config ?? (await workerConfig(f, options.overrides));
  return createWorker({
    config,
    provider: options.provider ?? f.ethers.provider,
    signer: options.signer ?? null,
    logger: testLogger(),
    metrics: createMetrics({ defaults: false }),
    ...(options.duties === undefined ? {} : { duties: options.duties }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
}

/** Wait until `predicate` holds (polling), or fail after `timeoutMs`. */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// ------------------------------------------------------------------ failing JSON-RPC proxy

/** ok: forward; refuse: drop the connection; error500: HTTP 500; hang: never answer. */
export type ProxyMode = "ok" | "refuse" | "error500" | "hang";

export interface RpcProxy {
  url: string;
  mode: ProxyMode;
  /** JSON-RPC requests received (batch members counted one by one), by method. */
  readonly requests: Map<string, number>;
  total(): number;
  close(): Promise<void>;
}

interface JsonRpcRequest {
  id: number | string | null;
  method: string;
  params?: unknown[];
}

/**
 * A loopback HTTP JSON-RPC server that forwards to `upstream` (e.g. the in-process network's `send`), with a
 * switchable failure mode.
 */
export async function startRpcProxy(
  upstream: (method: string, params: unknown[]) => Promise<unknown>,
): Promise<RpcProxy> {
  const requests = new Map<string, number>();
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const state = { mode: "ok" as ProxyMode };

  const answer = async (request: JsonRpcRequest): Promise<unknown> => {
    try {
      const result = await upstream(request.method, request.params ?? []);
      return { jsonrpc: "2.0", id: request.id, result };
    } catch (error) {
      const e = error as { code?: unknown; message?: unknown; data?: unknown };
      return {
        jsonrpc: "2.0",
        id: request.id,
        error: {
          code: typeof e.code === "number" ? e.code : -32000,
          message: typeof e.message === "string" ? e.message : "upstream error",
          ...(e.data === undefined ? {} : { data: e.data }),
        },
      };
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as JsonRpcRequest | JsonRpcRequest[];
    const batch = Array.isArray(body) ? body : [body];
    for (const r of batch) requests.set(r.method, (requests.get(r.method) ?? 0) + 1);
    switch (state.mode) {
      case "refuse":
        req.socket.destroy();
        return;
      case "error500":
        res.writeHead(500, { "content-type": "text/plain" }).end("upstream unavailable");
        return;
      case "hang":
        hanging.add(res);
        return;
      case "ok": {
        const answers = await Promise.all(batch.map(answer));
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify(Array.isArray(body) ? answers : answers[0], (_k, v: unknown) =>
            typeof v === "bigint" ? `0x${v.toString(16)}` : v,
          ),
        );
      }
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    get mode() {
      return state.mode;
    },
    set mode(mode: ProxyMode) {
      state.mode = mode;
      if (mode !== "hang") {
        for (const res of hanging) res.destroy();
        hanging.clear();
      }
    },
    requests,
    total: () => [...requests.values()].reduce((a, b) => a + b, 0),
    async close() {
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close").catch(() => undefined);
    },
  };
}
