import { expect } from "chai";
import type { Duty, WorkerContext } from "../../offchain/worker/context.js";
import type { HealthReport } from "../../offchain/worker/http/health.js";
import { HealthState } from "../../offchain/worker/http/health.js";
import { deployStorage, fundClient, registerProvider, type StorageFixture } from "../helpers/fixture.js";
import { openDataSet } from "./dataSets.helpers.js";
import { removeTempDirs, testWorker, waitFor } from "./helpers.js";

const DESIGN_METRICS = [
  "strata_worker_blocks_behind",
  "strata_worker_indexed_block",
  "strata_worker_data_sets_tracked",
  "strata_worker_reports_sent_total",
  "strata_worker_reports_won_total",
  "strata_worker_reports_lost_total",
  "strata_worker_bounty_earned",
  "strata_worker_rpc_errors_total",
  "strata_worker_proof_checks_total",
  "strata_worker_retrieval_samples_total",
  "strata_worker_challenges_total",
  "strata_worker_alerts_total",
];

describe("worker HTTP, health and runtime", function () {
  let f: StorageFixture;

  beforeEach(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    await openDataSet(f);
  });

  after(removeTempDirs);

  it("test_health_startingThenOk: starting before the first catch-up, ok after it", async function () {
    let now = 1_000_000;
    const worker = await testWorker(f, { clock: () => now });
    try {
      const before = await worker.app.inject({ method: "GET", url: "/health" });
      expect(before.statusCode).to.equal(200);
      expect(before.json<HealthReport>()).to.include({
        status: "starting",
        chainId: f.chainId.toString(),
        readOnly: true,
        worker: null,
        indexedBlock: null,
        dataSetsTracked: 0,
        lastError: null,
        since: new Date(1_000_000).toISOString(),
      });
      now += 5000;
      await worker.tick();
      const head = await f.ethers.provider.getBlockNumber();
      const after = await worker.app.inject({ method: "GET", url: "/health" });
      expect(after.statusCode).to.equal(200);
      expect(after.json<HealthReport>()).to.include({
        status: "ok",
        indexedBlock: head,
        head,
        blocksBehind: 0,
        dataSetsTracked: 1,
        since: new Date(1_005_000).toISOString(),
      });
    } finally {
      await worker.stop();
    }
  });

  it("test_metrics_prometheus: every design metric in Prometheus text with prom-client's content type", async function () {
    const worker = await testWorker(f);
    try {
      await worker.tick();
      const response = await worker.app.inject({ method: "GET", url: "/metrics" });
      expect(response.statusCode).to.equal(200);
      expect(response.headers["content-type"]).to.equal(worker.context.metrics.registry.contentType);
      for (const name of DESIGN_METRICS) expect(response.body).to.match(new RegExp(`^# TYPE ${name} `, "m"));
      const head = await f.ethers.provider.getBlockNumber();
      expect(response.body).to.match(new RegExp(`^strata_worker_indexed_block ${head}$`, "m"));
      expect(response.body).to.match(/^strata_worker_data_sets_tracked 1$/m);
      const missing = await worker.app.inject({ method: "GET", url: "/nope" });
      expect(missing.statusCode).to.equal(404);
      expect(missing.json<{ error: { code: string } }>().error.code).to.equal("NOT_FOUND");
    } finally {
      await worker.stop();
    }
  });

  it("test_start_listens: port 0 picks a port; stop is idempotent and closes the database", async function () {
    const worker = await testWorker(f);
    await worker.start();
    const url = worker.address();
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    await waitFor("the first catch-up", () => worker.health().status === "ok");
    const health = (await (await fetch(`${url ?? ""}/health`)).json()) as HealthReport;
    expect(health.status).to.equal("ok");
    // A new block is indexed without calling tick().
    await openDataSet(f);
    await waitFor("the new data set", () => worker.health().dataSetsTracked === 2);
    await Promise.all([worker.stop(), worker.stop()]);
    await worker.stop();
    expect(worker.context.db.isOpen).to.equal(false);
    let refused = false;
    await fetch(`${url ?? ""}/health`).catch(() => {
      refused = true;
    });
    expect(refused).to.equal(true);
    expect((await worker.tick()).duties).to.deep.equal({});
  });

  it("test_tick_duties: run in order after the catch-up; a throwing duty is logged, counted, retried", async function () {
    const seen: string[] = [];
    let failNext = true;
    const duties: Duty[] = [
      {
        name: "first",
        run: (ctx: WorkerContext) => {
          seen.push(`first@${ctx.db.cursor() ?? -1}`);
          return Promise.resolve({ dataSets: ctx.db.openDataSetCount() });
        },
      },
      {
        name: "flaky",
        run: () => {
          seen.push("flaky");
          if (failNext) {
            failNext = false;
            return Promise.reject(new Error("boom"));
          }
          return Promise.resolve(undefined);
        },
      },
      {
        name: "last",
        run: () => {
          seen.push("last");
          return Promise.resolve({ ok: true });
        },
      },
    ];
    const worker = await testWorker(f, { duties });
    try {
      const head = await f.ethers.provider.getBlockNumber();
      const report = await worker.tick();
      expect(seen).to.deep.equal([`first@${head}`, "flaky", "last"]);
      expect(report.duties).to.deep.equal({ first: { dataSets: 1 }, flaky: undefined, last: { ok: true } });
      const failures = (await worker.context.metrics.dutyFailures.get()).values;
      expect(failures).to.deep.include({ value: 1, labels: { duty: "flaky" } });
      const second = await worker.tick();
      expect(Object.keys(second.duties)).to.deep.equal(["first", "flaky", "last"]);
      expect(second.duties.last).to.deep.equal({ ok: true });
      expect(seen).to.have.length(6);
    } finally {
      await worker.stop();
    }
  });

  it("test_tick_noOverlap: concurrent tick() calls run one after the other", async function () {
    let active = 0;
    let maxActive = 0;
    const slow: Duty = {
      name: "slow",
      run: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 30));
        active--;
        return undefined;
      },
    };
    const worker = await testWorker(f, { duties: [slow] });
    try {
      await Promise.all([worker.tick(), worker.tick(), worker.tick()]);
      expect(maxActive).to.equal(1);
    } finally {
      await worker.stop();
    }
  });

  it("test_healthState: degraded on failure with the error, back to ok on success", function () {
    let now = 0;
    const state = new HealthState(() => now);
    expect(state.status).to.equal("starting");
    now = 10;
    state.indexed(false);
    expect(state.status).to.equal("starting");
    now = 20;
    state.failed(Object.assign(new Error("down"), { code: "RPC_FAILED" }));
    expect(state.status).to.equal("degraded");
    expect(state.lastError).to.deep.equal({
      code: "RPC_FAILED",
      message: "down",
      at: new Date(20).toISOString(),
    });
    expect(state.since).to.equal(new Date(20).toISOString());
    now = 30;
    state.indexed(true);
    expect(state.status).to.equal("ok");
    expect(state.since).to.equal(new Date(30).toISOString());
    now = 40;
    state.indexed(false); // a later step that is behind again does not go back to starting
    expect(state.status).to.equal("ok");
    expect(state.since).to.equal(new Date(30).toISOString());
  });
});
