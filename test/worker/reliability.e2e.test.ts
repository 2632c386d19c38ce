/**
 * Crash safety with real processes: a `hardhat node` with the suite deployed by Ignition and a few hundred
 * indexed events, and the worker's own entry point (offchain/worker/main.ts under tsx) SIGKILLed at random
 * points of its catch-up, several times, then run to the end. The index it leaves must equal a clean index of
 * the same chain: no duplicate, no gap.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { once } from "node:events";
import path from "node:path";
import {
  ProviderRegistry__factory,
  StorageMarket__factory,
  TestStablecoin__factory,
} from "../../typechain-types/index.js";
import { devAccountWallet } from "../../offchain/sdk/chain/connect.js";
import { loadDeployment } from "../../offchain/sdk/chain/deployment.js";
import {
  CREATE_DATA_SET_TYPES,
  DATA_SET_STATE_TYPES,
  dataSetDomain,
  type CreateDataSet,
  type DataSetState,
} from "../../offchain/sdk/datasets/eip712.js";
import { WorkerDb } from "../../offchain/worker/db/index.js";
import type { HealthReport } from "../../offchain/worker/http/health.js";
import { Indexer } from "../../offchain/worker/indexer/indexer.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { createMetrics } from "../../offchain/worker/metrics.js";
import {
  freePort,
  NODE,
  ROOT,
  startLocalChain,
  stopProcess,
  type LocalChain,
} from "../../scripts/lib/localChain.js";
import { FAST_RPC, waitFor, writeProcessWorkerConfig } from "./helpers.js";

const MAIN = path.join(ROOT, "offchain", "worker", "main.ts");
const USDC = 1_000_000n;
const DEALS = 90;
const BATCH = 30;

/** One provider and one client; DEALS deals published in batches (plus registry and parameter events). */
async function populate(chain: LocalChain): Promise<void> {
  const { provider, addresses } = chain;
  const owner = devAccountWallet(0).connect(provider);
  const storer = devAccountWallet(5).connect(provider);
  const client = devAccountWallet(6).connect(provider);
  const token = TestStablecoin__factory.connect(addresses.token, owner);
  await (await token.mint(storer.address, 1_000_000n * USDC)).wait();
  await (await token.mint(client.address, 1_000_000n * USDC)).wait();
  await (await token.connect(storer).approve(addresses.registry, 2n ** 255n)).wait();
  await (await token.connect(client).approve(addresses.market, 2n ** 255n)).wait();
  const registry = ProviderRegistry__factory.connect(addresses.registry, storer);
  await (await registry.register(storer.address, "http://127.0.0.1:9/p", 1n << 40n, 1n)).wait();
  await (await registry.stake(storer.address, 500_000n * USDC)).wait();
  const market = StorageMarket__factory.connect(addresses.market, storer);
  const latest = await provider.getBlock("latest");
  const deadline = BigInt(latest?.timestamp ?? 0) + 6n * 3600n;
  const domain = dataSetDomain(31337n, addresses.market);
  const asClient = StorageMarket__factory.connect(addresses.market, client);
  let nonce = 1n;
  for (let done = 0; done < DEALS; done += BATCH) {
    const states = [];
    for (let i = 0; i < BATCH; i++) {
      const terms: CreateDataSet = {
        client: client.address,
        provider: storer.address,
        pricePerTiBMonth: 2_500_000n,
        collateralPerTiB: USDC,
        noticePeriods: 2n,
        nonce: nonce++,
        deadline,
      };
      const signature = await client.signTypedData(domain, CREATE_DATA_SET_TYPES, terms);
      const id = await market.createDataSet.staticCall(terms, signature);
      await (await market.createDataSet(terms, signature)).wait();
      await (await asClient.topUp(id, 10n * USDC)).wait();
      const state: DataSetState = {
        dataSetId: id,
        version: 1n,
        root: "0x" + randomBytes(32).toString("hex"),
        span: 1n << 14n,
      };
      states.push({
        state,
        signer: client.address,
        signature: await client.signTypedData(domain, DATA_SET_STATE_TYPES, state),
      });
    }
    await (await market.updateDataSets(states)).wait();
  }
}

function spawnWorker(configFile: string, log: string[]): ChildProcess {
  const child = spawn(NODE, ["--import", "tsx", MAIN, configFile], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: "--disable-warning=ExperimentalWarning" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (chunk: Buffer) => {
    log.push(chunk.toString());
    if (log.length > 200) log.shift();
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  return child;
}

/** The cursor of the worker's database, read without disturbing the running worker (WAL readers). */
function cursorOf(dbPath: string): number | null {
  try {
    const db = WorkerDb.open(dbPath);
    try {
      return db.cursor();
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

describe("e2e: the worker survives kill -9 at any point", function () {
  this.timeout(240_000);
  let chain: LocalChain;
  let child: ChildProcess | undefined;

  before(async function () {
    chain = await startLocalChain();
    await populate(chain);
    // A longer chain than events: the catch-up takes many small steps, so kills land in the middle of it.
    await chain.mine(400);
  });

  after(async function () {
    if (child) await stopProcess(child);
    await chain.stop();
  });

  it("test_kill9_resumes: repeated SIGKILLs mid catch-up leave an index equal to a clean one", async function () {
    const port = await freePort();
    const dbPath = path.join(chain.workDir, "worker.db");
    const configFile = path.join(chain.workDir, "worker.json");
    const config = (maxBlockRange: number) => {
      writeProcessWorkerConfig(configFile, chain, { dbPath, port, maxBlockRange });
    };
    config(2);
    const log: string[] = [];
    const kills: number[] = [];
    for (let round = 0; round < 5; round++) {
      const before = cursorOf(dbPath) ?? -1;
      child = spawnWorker(configFile, log);
      // Wait until this run has indexed something, then kill it at a random moment of its catch-up.
      await waitFor(
        `run ${round} to make progress`,
        () => {
          if (child?.exitCode !== null) throw new Error(`worker exited early:\n${log.join("")}`);
          return (cursorOf(dbPath) ?? -1) > before;
        },
        60_000,
      );
      await new Promise((r) => setTimeout(r, randomInt(0, 400)));
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
      kills.push(cursorOf(dbPath) ?? -1);
    }
    // The kills happened during the catch-up, not after it.
    const head = await chain.provider.getBlockNumber();
    expect(kills.filter((k) => k < head - 5)).to.have.length.greaterThan(2);

    // The last run resumes from the last kill in larger steps: the resume is under test, not the step size.
    config(50);
    child = spawnWorker(configFile, log);
    const url = `http://127.0.0.1:${port}/health`;
    let report: HealthReport | undefined;
    await waitFor(
      "the final run to catch up",
      async () => {
        if (child?.exitCode !== null) throw new Error(`worker exited:\n${log.join("")}`);
        report = await fetch(url)
          .then((r) => r.json() as Promise<HealthReport>)
          .catch(() => undefined);
        return report?.status === "ok" && (report.indexedBlock ?? 0) >= head;
      },
      120_000,
    );
    await stopProcess(child);
    child = undefined;

    const deployment = await loadDeployment({ chainId: 31337n, file: chain.deploymentFile });
    const crashed = WorkerDb.open(dbPath);
    const clean = WorkerDb.open(":memory:");
    try {
      const indexer = new Indexer({
        db: clean,
        provider: chain.provider,
        deployment: {
          ...chain.addresses,
          retrievalChallenges: deployment.retrievalChallenges ?? null,
        },
        confirmations: 0,
        startBlock: crashed.startBlock() ?? 0,
        maxBlockRange: 2000,
        retry: FAST_RPC,
        logger: silentLogger(),
        metrics: createMetrics({ defaults: false }),
      });
      await indexer.catchUp();
      const got = crashed.dumpChainTables();
      const want = clean.dumpChainTables();
      for (const table of Object.keys(want)) expect(got[table], table).to.deep.equal(want[table]);
      expect(got).to.deep.equal(want);
      expect(got.data_sets).to.have.length(DEALS);
      const ids = crashed.openDataSets().map((d) => d.dataSetId);
      expect(ids).to.deep.equal(Array.from({ length: DEALS }, (_, i) => BigInt(i + 1)));
      expect(crashed.providerEndpoint(devAccountWallet(5).address)).to.equal("http://127.0.0.1:9/p");
    } finally {
      crashed.close();
      clean.close();
    }
  });
});
