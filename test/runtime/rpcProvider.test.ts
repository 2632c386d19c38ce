import { expect } from "chai";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { isError, Network } from "ethers";
import { StrataError } from "../../offchain/sdk/errors.js";
import { classifyRpcError, isRangeTooLarge } from "../../offchain/runtime/rpc/retry.js";
import { RpcProvider, type RpcProviderOptions } from "../../offchain/runtime/rpc/provider.js";
import { startRpcProxy, type RpcProxy } from "./rpcProxy.js";

/** An upstream answering with `fn`'s value. */
function answering(fn: (method: string, params: unknown[]) => unknown) {
  return (method: string, params: unknown[]): Promise<unknown> => Promise.resolve(fn(method, params));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** A log-shaped object of about 1 KB of JSON. */
function fakeLog(i: number): Record<string, unknown> {
  return {
    address: "0x" + "11".repeat(20),
    topics: ["0x" + "22".repeat(32), "0x" + i.toString(16).padStart(64, "0")],
    data: "0x" + "33".repeat(320),
    blockNumber: "0x1",
    blockHash: "0x" + "44".repeat(32),
    transactionHash: "0x" + "55".repeat(32),
    transactionIndex: "0x0",
    logIndex: "0x" + i.toString(16),
    removed: false,
  };
}

describe("runtime JSON-RPC provider", function () {
  this.timeout(60_000);
  /** The proxy of the latest `connect`. */
  let proxy: RpcProxy | undefined;
  const opened: { proxy: RpcProxy; provider: RpcProvider }[] = [];

  async function connect(
    upstream: (method: string, params: unknown[]) => Promise<unknown>,
    options: RpcProviderOptions = {},
  ): Promise<RpcProvider> {
    proxy = await startRpcProxy(upstream);
    const provider = new RpcProvider(proxy.url, Network.from(31337n), {
      staticNetwork: true,
      cacheTimeout: -1,
      ...options,
    });
    opened.push({ proxy, provider });
    return provider;
  }

  afterEach(async function () {
    for (const { proxy: p, provider } of opened.splice(0)) {
      provider.destroy();
      await p.close();
    }
    proxy = undefined;
  });

  it("test_send_decodesUtf8AndBatches: multi-byte text intact, batched calls matched to their answers", async function () {
    const text = "Strata é ✓ 🚀 " + "x".repeat(100_000);
    const rpc = await connect(
      answering((method, params) =>
        method === "web3_clientVersion" ? text : `${method}:${String(params[0])}`,
      ),
    );
    expect(await rpc.send("web3_clientVersion", [])).to.equal(text);
    // Sent in the same tick: ethers batches them into one HTTP request.
    const answers = await Promise.all([1, 2, 3].map((i) => rpc.send("eth_echo", [i])));
    expect(answers).to.deep.equal(["eth_echo:1", "eth_echo:2", "eth_echo:3"]);
    expect(proxy?.requests.get("eth_echo")).to.equal(3);
  });

  it("test_getLogs_responseTooLarge: past the limit the request is abandoned with RPC_RESPONSE_TOO_LARGE", async function () {
    const rpc = await connect(
      answering((method) =>
        method === "eth_getLogs" ? Array.from({ length: 200 }, (_, i) => fakeLog(i)) : "0x",
      ),
      { maxLogsResponseBytes: 64 * 1024 },
    );
    const error = await rejection(rpc.send("eth_getLogs", [{ fromBlock: "0x0", toBlock: "0x10" }]));
    expect(error).to.be.instanceOf(StrataError);
    expect((error as StrataError).code).to.equal("RPC_RESPONSE_TOO_LARGE");
    // The indexer halves its range on it, and the retry loop does not repeat the same request.
    expect(isRangeTooLarge(error)).to.equal(true);
    expect(classifyRpcError(error)).to.equal("other");
  });

  it("test_getLogs_withinLimit: a response under the limit is parsed whole", async function () {
    const rpc = await connect(
      answering((method) =>
        method === "eth_getLogs" ? Array.from({ length: 50 }, (_, i) => fakeLog(i)) : "0x",
      ),
      { maxLogsResponseBytes: 64 * 1024 },
    );
    const logs = (await rpc.send("eth_getLogs", [{}])) as { logIndex: string }[];
    expect(logs.map((l) => Number(l.logIndex))).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
  });

  it("test_send_otherMethodsLimit: other methods have their own (larger) limit", async function () {
    const big = "0x" + "ab".repeat(100 * 1024);
    const rpc = await connect(
      answering(() => big),
      {
        maxLogsResponseBytes: 64 * 1024,
        maxResponseBytes: 1024 * 1024,
      },
    );
    expect(await rpc.send("eth_call", [])).to.equal(big);
    const small = await connect(
      answering(() => big),
      { maxResponseBytes: 64 * 1024 },
    );
    const error = await rejection(small.send("eth_call", []));
    expect((error as StrataError).code).to.equal("RPC_RESPONSE_TOO_LARGE");
  });

  it("test_send_timeout: a hanging node is abandoned after timeoutMs (TIMEOUT, retried by the worker)", async function () {
    const rpc = await connect(
      answering(() => "0x1"),
      { timeoutMs: 200 },
    );
    if (proxy) proxy.mode = "hang";
    const started = Date.now();
    const error = await rejection(rpc.send("eth_blockNumber", []));
    expect(Date.now() - started).to.be.below(5000);
    expect(isError(error, "TIMEOUT")).to.equal(true);
    expect(classifyRpcError(error)).to.equal("timeout");
  });

  it("test_send_serverErrors: HTTP 500 and dropped connections are network failures (retried)", async function () {
    const rpc = await connect(answering(() => "0x1"));
    if (proxy) proxy.mode = "error500";
    const http500 = await rejection(rpc.send("eth_blockNumber", []));
    expect(isError(http500, "SERVER_ERROR")).to.equal(true);
    expect(classifyRpcError(http500)).to.equal("network");
    if (proxy) proxy.mode = "refuse";
    const dropped = await rejection(rpc.send("eth_blockNumber", []));
    expect((dropped as StrataError).code).to.equal("RPC_FAILED");
    expect(classifyRpcError(dropped)).to.equal("network");
  });

  it("test_send_credentials: user:password in the URL is sent as Basic auth (fetch refuses such URLs)", async function () {
    const started = await startRpcProxy(answering(() => "0x7"));
    const seen: { url: string; authorization: string | null }[] = [];
    const rpc = new RpcProvider(
      started.url.replace("http://", "http://worker:s%3Acret@"),
      Network.from(31337n),
      {
        staticNetwork: true,
        fetch: (input: string | URL | Request, init?: RequestInit) => {
          seen.push({
            url: input instanceof URL ? input.href : typeof input === "string" ? input : input.url,
            authorization: new Headers(init?.headers).get("authorization"),
          });
          return globalThis.fetch(input, init);
        },
      },
    );
    opened.push({ proxy: started, provider: rpc });
    expect(await rpc.send("eth_chainId", [])).to.equal("0x7");
    expect(seen).to.deep.equal([
      {
        url: started.url + "/",
        authorization: `Basic ${Buffer.from("worker:s:cret").toString("base64")}`,
      },
    ]);
  });

  it("test_send_invalidJson: a body that is not JSON is RPC_FAILED (a network-kind failure, retried)", async function () {
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).end("<html>bad gateway</html>");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const rpc = new RpcProvider(`http://127.0.0.1:${port}`, Network.from(31337n), { staticNetwork: true });
    try {
      const error = await rejection(rpc.send("eth_blockNumber", []));
      expect(error).to.be.instanceOf(StrataError).with.property("code", "RPC_FAILED");
      expect(classifyRpcError(error)).to.equal("network");
    } finally {
      rpc.destroy();
      server.closeAllConnections();
      server.close();
    }
  });

  it("test_send_retriesReads: with `retry`, reads ride out a dropped connection and HTTP 500s", async function () {
    let calls = 0;
    const sleeps: number[] = [];
    const rpc = await connect(
      answering(() => {
        calls++;
        return "0x2a";
      }),
      {
        retry: {
          attempts: 4,
          baseMs: 10,
          maxMs: 50,
          timeoutMs: 2000,
          sleep: (ms) => {
            sleeps.push(ms);
            // the node comes back during the second pause
            if (sleeps.length === 2 && proxy) proxy.mode = "ok";
            return Promise.resolve();
          },
          random: () => 1,
        },
      },
    );
    if (proxy) proxy.mode = "refuse";
    expect(await rpc.send("eth_blockNumber", [])).to.equal("0x2a");
    expect(sleeps).to.deep.equal([10, 20]);
    expect(proxy?.requests.get("eth_blockNumber")).to.equal(3);
    expect(calls).to.equal(1);
    if (proxy) proxy.mode = "error500";
    const failed = await rejection(rpc.send("eth_getBalance", ["0x" + "11".repeat(20), "latest"]));
    expect(failed).to.be.instanceOf(StrataError).with.property("code", "RPC_FAILED");
    expect(proxy?.requests.get("eth_getBalance")).to.equal(4); // every try spent
  });

  it("test_send_neverRetriesWrites: a transaction is sent once, even with `retry`", async function () {
    const rpc = await connect(
      answering(() => "0x" + "ab".repeat(32)),
      {
        retry: { attempts: 4, baseMs: 1, maxMs: 1, timeoutMs: 2000 },
      },
    );
    if (proxy) proxy.mode = "refuse";
    const failed = await rejection(rpc.send("eth_sendRawTransaction", ["0x00"]));
    expect(failed).to.be.instanceOf(StrataError).with.property("code", "RPC_FAILED");
    expect(proxy?.requests.get("eth_sendRawTransaction")).to.equal(1);
  });

  it("test_send_sizeCapNotRetried: RPC_RESPONSE_TOO_LARGE is final (asking again gets the same answer)", async function () {
    const rpc = await connect(
      answering(() => Array.from({ length: 20 }, (_, i) => fakeLog(i))),
      { maxLogsResponseBytes: 4096, retry: { attempts: 4, baseMs: 1, maxMs: 1, timeoutMs: 2000 } },
    );
    const failed = await rejection(rpc.send("eth_getLogs", [{}]));
    expect(failed).to.be.instanceOf(StrataError).with.property("code", "RPC_RESPONSE_TOO_LARGE");
    expect(proxy?.requests.get("eth_getLogs")).to.equal(1);
  });
});
