import { expect } from "chai";
import { isError, Network } from "ethers";
import { StrataError } from "../../offchain/sdk/errors.js";
import { WorkerDb } from "../../offchain/worker/db/index.js";
import { Indexer } from "../../offchain/worker/indexer/indexer.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { createMetrics } from "../../offchain/worker/metrics.js";
import { classifyRpcError, isRangeTooLarge } from "../../offchain/runtime/rpc/retry.js";
import { WorkerRpcProvider, type WorkerRpcProviderOptions } from "../../offchain/runtime/rpc/provider.js";
import {
  deployStorage,
  fundClient,
  publishOne,
  registerProvider,
  type StorageFixture,
} from "../helpers/fixture.js";
import { FAST_RPC, startRpcProxy, type RpcProxy } from "../worker/helpers.js";

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

describe("worker JSON-RPC provider", function () {
  this.timeout(60_000);
  /** The proxy of the latest `connect`. */
  let proxy: RpcProxy | undefined;
  const opened: { proxy: RpcProxy; provider: WorkerRpcProvider }[] = [];

  async function connect(
    upstream: (method: string, params: unknown[]) => Promise<unknown>,
    options: WorkerRpcProviderOptions = {},
  ): Promise<WorkerRpcProvider> {
    proxy = await startRpcProxy(upstream);
    const provider = new WorkerRpcProvider(proxy.url, Network.from(31337n), {
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
    const rpc = new WorkerRpcProvider(
      started.url.replace("http://", "http://worker:s%3Acret@"),
      Network.from(31337n),
      {
        staticNetwork: true,
        fetch: (input, init) => {
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

  describe("with the indexer", function () {
    let f: StorageFixture;

    beforeEach(async function () {
      f = await deployStorage();
      await registerProvider(f, f.provider);
      await fundClient(f, f.client);
      for (let i = 0; i < 4; i++) await publishOne(f);
    });

    function indexerOver(rpc: WorkerRpcProvider | typeof f.ethers.provider): {
      indexer: Indexer;
      db: WorkerDb;
    } {
      const db = WorkerDb.open(":memory:");
      const indexer = new Indexer({
        db,
        provider: rpc,
        deployment: {
          market: f.market.target as string,
          registry: f.registry.target as string,
          retrievalChallenges: f.retrievalChallenges.target as string,
        },
        confirmations: 0,
        startBlock: 0,
        maxBlockRange: 2000,
        retry: FAST_RPC,
        logger: silentLogger(),
        metrics: createMetrics({ defaults: false }),
      });
      return { indexer, db };
    }

    it("test_catchUp_responseLimit: a range over the limit is split until each answer fits; same index", async function () {
      // About two of the market's logs fit: the first range (every block so far) must be split.
      const rpc = await connect((method, params) => f.ethers.provider.send(method, params), {
        maxLogsResponseBytes: 2500,
      });
      const { indexer, db } = indexerOver(rpc);
      const result = await indexer.catchUp();
      expect(result.caughtUp).to.equal(true);
      const { indexer: whole, db: reference } = indexerOver(f.ethers.provider);
      const once = await whole.catchUp();
      expect(once.indexed).to.equal(result.indexed);
      expect(db.counts().deals).to.equal(4);
      expect(db.dumpChainTables()).to.deep.equal(reference.dumpChainTables());
      // Without the limit one request covers the whole chain; with it, several did.
      expect(proxy?.requests.get("eth_getLogs") ?? 0).to.be.greaterThan(2);
      db.close();
      reference.close();
    });
  });
});
