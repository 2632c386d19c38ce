import { expect } from "chai";
import { JsonRpcProvider, Network } from "ethers";
import type { HealthReport } from "../../offchain/worker/http/health.js";
import type { Worker } from "../../offchain/worker/worker.js";
import { deployStorage, fundClient, registerProvider, type StorageFixture } from "../helpers/fixture.js";
import { openDataSet } from "./dataSets.helpers.js";
import { startRpcProxy, type RpcProxy } from "../runtime/rpcProxy.js";
import { removeTempDirs, testWorker, waitFor } from "./helpers.js";

async function health(worker: Worker): Promise<{ code: number; body: HealthReport }> {
  const response = await fetch(`${worker.address() ?? ""}/health`);
  return { code: response.status, body: (await response.json()) as HealthReport };
}

async function ticks(worker: Worker): Promise<number> {
  const values = (await worker.context.metrics.tickSeconds.get()).values;
  return values.find((v) => v.metricName === "strata_worker_tick_duration_seconds_count")?.value ?? 0;
}

async function rpcErrors(worker: Worker, kind: string): Promise<number> {
  const values = (await worker.context.metrics.rpcErrors.get()).values;
  return values.find((v) => v.labels.kind === kind)?.value ?? 0;
}

describe("worker reliability: a failing RPC endpoint", function () {
  this.timeout(60_000);
  let f: StorageFixture;
  let proxy: RpcProxy;
  let provider: JsonRpcProvider;
  let worker: Worker;

  beforeEach(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    await openDataSet(f);
    proxy = await startRpcProxy((method, params) => f.ethers.provider.send(method, params));
    provider = new JsonRpcProvider(proxy.url, Network.from(f.chainId), {
      staticNetwork: true,
      cacheTimeout: -1,
      pollingInterval: 1000,
      batchMaxCount: 1,
    });
    worker = await testWorker(f, {
      provider,
      overrides: { pollIntervalMs: 50, rpc: { attempts: 2, baseMs: 10, maxMs: 50, timeoutMs: 300 } },
    });
    await worker.start();
    await waitFor("the first catch-up", () => worker.health().status === "ok");
  });

  afterEach(async function () {
    await worker.stop();
    provider.destroy();
    await proxy.close();
  });

  after(removeTempDirs);

  it("test_rpcDown_degradedThenRecovers: 500s degrade /health, the loop backs off and resumes", async function () {
    const okSince = worker.health().since;
    proxy.mode = "error500";
    await waitFor("degraded", () => worker.health().status === "degraded", 5000);
    const degraded = await health(worker);
    expect(degraded.code).to.equal(503);
    expect(degraded.body.lastError?.code).to.equal("RPC_FAILED");
    expect(degraded.body.since >= okSince).to.equal(true);
    expect(await rpcErrors(worker, "network")).to.be.greaterThan(0);

    // Backoff: while failing, ticks slow down (250 ms doubling up to 30 s) instead of every 50 ms.
    const before = await ticks(worker);
    await new Promise((r) => setTimeout(r, 2000));
    const during = (await ticks(worker)) - before;
    expect(during).to.be.lessThan(8);

    proxy.mode = "ok";
    const { id } = await openDataSet(f);
    await waitFor("recovery", () => worker.health().status === "ok", 40_000);
    await waitFor("the new data set", () => worker.context.db.dataSetById(id) !== undefined, 10_000);
    const recovered = await health(worker);
    expect(recovered.code).to.equal(200);
    expect(recovered.body.since > degraded.body.since).to.equal(true);
    expect(recovered.body.lastError?.code).to.equal("RPC_FAILED"); // the last error stays visible
  });

  it("test_rpcHangs_timeouts: a hanging endpoint is a timeout, not a stuck worker", async function () {
    proxy.mode = "hang";
    await waitFor("degraded", () => worker.health().status === "degraded", 5000);
    expect(worker.health().lastError?.code).to.equal("RPC_TIMEOUT");
    expect(await rpcErrors(worker, "timeout")).to.be.greaterThan(0);
    proxy.mode = "ok";
    await waitFor("recovery", () => worker.health().status === "ok", 40_000);
    // stop() does not hang on an endpoint that hangs either: the current tick gives up at its timeout.
    proxy.mode = "hang";
    await waitFor("degraded again", () => worker.health().status === "degraded", 5000);
    const started = Date.now();
    await worker.stop();
    expect(Date.now() - started).to.be.lessThan(3000);
  });

  it("test_rpcRefuses_network: dropped connections count as network errors; duties wait", async function () {
    let dutyRuns = 0;
    await worker.stop();
    worker = await testWorker(f, {
      provider,
      overrides: { pollIntervalMs: 50, rpc: { attempts: 2, baseMs: 10, maxMs: 50, timeoutMs: 300 } },
      duties: [
        {
          name: "count",
          run: () => {
            dutyRuns++;
            return Promise.resolve(undefined);
          },
        },
      ],
    });
    await worker.start();
    await waitFor("the first duty run", () => dutyRuns > 0);
    proxy.mode = "refuse";
    await waitFor("degraded", () => worker.health().status === "degraded", 5000);
    expect(worker.health().lastError?.code).to.equal("RPC_FAILED");
    const runs = dutyRuns;
    await new Promise((r) => setTimeout(r, 500));
    expect(dutyRuns).to.equal(runs); // duties need a fresh index: they do not run while indexing fails
    proxy.mode = "ok";
    await waitFor("duties again", () => dutyRuns > runs, 40_000);
    expect(worker.health().status).to.equal("ok");
  });
});
