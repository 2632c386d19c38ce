import { expect } from "chai";
import { Network } from "ethers";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { RpcProvider } from "../../offchain/runtime/rpc/provider.js";
import { WorkerDb } from "../../offchain/worker/db/index.js";
import { Indexer } from "../../offchain/worker/indexer/indexer.js";
import { createMetrics } from "../../offchain/worker/metrics.js";
import { deployStorage, fundClient, registerProvider, type StorageFixture } from "../helpers/fixture.js";
import { openDataSet } from "./dataSets.helpers.js";
import { startRpcProxy, type RpcProxy } from "../runtime/rpcProxy.js";
import { FAST_RPC } from "./helpers.js";

/** The indexer over the runtime's size-capped transport. */
describe("indexer over the size-capped transport", function () {
  this.timeout(60_000);
  let proxy: RpcProxy | undefined;
  const opened: { proxy: RpcProxy; provider: RpcProvider }[] = [];

  async function connect(
    upstream: (method: string, params: unknown[]) => Promise<unknown>,
    options: { maxLogsResponseBytes: number },
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

  describe("with the indexer", function () {
    let f: StorageFixture;

    beforeEach(async function () {
      f = await deployStorage();
      await registerProvider(f, f.provider);
      await fundClient(f, f.client);
      for (let i = 0; i < 4; i++) await openDataSet(f);
    });

    function indexerOver(rpc: RpcProvider | typeof f.ethers.provider): {
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
      expect(db.counts().dataSets).to.equal(4);
      expect(db.dumpChainTables()).to.deep.equal(reference.dumpChainTables());
      // Without the limit one request covers the whole chain; with it, several did.
      expect(proxy?.requests.get("eth_getLogs") ?? 0).to.be.greaterThan(2);
      db.close();
      reference.close();
    });
  });
});
