// Running the real CLI in process against the in-process chain and an in-process agent: a JSON-RPC bridge (the
// CLI talks to a URL) and a `fetch` that routes the agent's endpoint to `app.inject`.
import type { Agent } from "../../../offchain/agent/agent.js";
import type { StorageFixture } from "../../helpers/fixture.js";
import { sendJson, startServer, type TestServer } from "./httpServer.js";

/** A JSON-RPC endpoint over HTTP in front of the in-process chain (the CLI talks to a URL). */
export function startRpcBridge(f: StorageFixture): Promise<TestServer> {
  interface Call {
    id: number;
    method: string;
    params?: unknown[];
  }
  const one = async (call: Call) => {
    try {
      const result: unknown = await f.ethers.provider.send(call.method, call.params ?? []);
      return { jsonrpc: "2.0", id: call.id, result };
    } catch (error) {
      const { message, data } = error as { message?: string; data?: unknown };
      return { jsonrpc: "2.0", id: call.id, error: { code: -32603, message: message ?? "error", data } };
    }
  };
  return startServer(async (_req, res, body) => {
    const parsed = JSON.parse(body.toString("utf8")) as Call | Call[];
    sendJson(res, 200, Array.isArray(parsed) ? await Promise.all(parsed.map(one)) : await one(parsed));
  });
}

/** `fetch` that hands requests for the agent's registered endpoint to `app.inject`, the rest to the network. */
export function routeToAgent(endpoint: string, agent: Agent): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(endpoint)) return fetch(input, init);
    const res = await agent.app.inject({
      method: (init?.method ?? "GET") as "GET" | "POST" | "PUT",
      url: url.slice(endpoint.length),
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      ...(typeof init?.body === "string" ? { payload: init.body } : {}),
    });
    return new Response(res.body, {
      status: res.statusCode,
      headers: { "content-type": res.headers["content-type"] ?? "application/json" },
    });
  };
}
