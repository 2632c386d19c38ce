/** A JSON-RPC endpoint over a real local HTTP server that can be told to fail: the transport's tests' node. */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

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
