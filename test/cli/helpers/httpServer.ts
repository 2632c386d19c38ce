import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** `value`, or a thrown error if it is missing (keeps tests free of non-null assertions). */
export function must<T>(value: T | undefined | null, what = "value"): T {
  if (value === undefined || value === null) throw new Error(`${what} is missing`);
  return value;
}

/** An HTTP server on 127.0.0.1 with a random port; close() also drops open (hanging) connections. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>,
): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      Promise.resolve(handler(req, res, Buffer.concat(chunks))).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A minimal JSON-RPC endpoint: eth_chainId answers `chainId`; eth_getCode answers `code` for every address;
 * anything else is an error. Handles batches (ethers batches its calls).
 */
export async function startFakeRpc(options: { chainId: bigint; code: string }): Promise<TestServer> {
  return startServer((_req, res, body) => {
    const answer = (request: { id: number; method: string }) => {
      switch (request.method) {
        case "eth_chainId":
          return { jsonrpc: "2.0", id: request.id, result: `0x${options.chainId.toString(16)}` };
        case "eth_getCode":
          return { jsonrpc: "2.0", id: request.id, result: options.code };
        default:
          return { jsonrpc: "2.0", id: request.id, error: { code: -32601, message: "method not found" } };
      }
    };
    const parsed = JSON.parse(body.toString("utf8")) as
      { id: number; method: string } | { id: number; method: string }[];
    sendJson(res, 200, Array.isArray(parsed) ? parsed.map(answer) : answer(parsed));
  });
}

/** What tests read from a rejection (StrataError and ProviderRejectedError fields). */
export type CodedError = Error & { code: string; details?: string; agentCode?: string; status?: number };

/** Assert that `promise` rejects with a StrataError of `code`; returns the error. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<CodedError> {
  try {
    await promise;
  } catch (error) {
    const actual = (error as { code?: unknown }).code;
    if (actual !== code) {
      throw new Error(`expected code ${code}, got ${String(actual)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return error as CodedError;
  }
  throw new Error(`expected a rejection with code ${code}, but it resolved`);
}
