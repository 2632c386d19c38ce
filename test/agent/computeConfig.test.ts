import { expect } from "chai";
import { join } from "node:path";
import { configToFile, defaultConfig, parseConfig } from "../../offchain/agent/config.js";
import { AgentDb } from "../../offchain/agent/db.js";
import type { OrderRequest } from "../../offchain/sdk/compute/orders.js";
import { PRICE_SCALE } from "../../offchain/sdk/compute/pricing.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { removeTempDirs, tempDataDir } from "./helpers.js";

const DEPLOYMENT = {
  market: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  registry: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  token: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
};
const COMPUTE = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9";

function problems(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (error) {
    expect(error).to.be.instanceOf(StrataError);
    expect((error as StrataError).code).to.equal("CONFIG_INVALID");
    return (error as StrataError).details?.split("\n") ?? [];
  }
  return [];
}

const REQUEST: OrderRequest = {
  resources: {
    cpuMillicores: 500,
    memoryMiB: 256,
    storageGiB: 1,
    gpuCount: 0,
    gpuModel: "",
    region: "eu-west",
  },
  workloadHash: `0x${"AB".repeat(32)}`,
  maxPricePerSecond: 10n,
  deposit: 5_000_000n,
  duration: 0n,
  expiresAt: 1_900_000_000n,
  minCollateral: 1n,
  minNoticeWindow: 60n,
};

describe("agent compute configuration and records", function () {
  after(removeTempDirs);

  it("is off by default and reads prices in tokens per second, GPU models with dots, capacity and runtime", function () {
    const off = parseConfig({ deployment: DEPLOYMENT });
    expect(off.compute.enabled).to.equal(false);
    expect(off.deployment.computeMarket).to.equal(null);
    expect(off.compute.prices.perMillicoreSecond).to.equal(PRICE_SCALE / 100n);

    const config = parseConfig({
      deployment: { ...DEPLOYMENT, computeMarket: COMPUTE.toLowerCase() },
      compute: {
        enabled: true,
        pricePerMillicoreSecond: "0.000000005",
        pricePerGpuSecond: { "a100.80gb": "0.0000125" },
        capacity: { cpuMillicores: 8000, gpus: { "a100.80gb": 2 } },
        region: "eu-west",
        runtime: { niceness: 5, cpuTolerance: 1.5 },
      },
    });
    expect(config.deployment.computeMarket).to.equal(COMPUTE);
    expect(config.compute.prices.perMillicoreSecond).to.equal(5_000_000n);
    expect(config.compute.prices.perGpuSecond).to.deep.equal({ "a100.80gb": 12_500_000_000n });
    expect(config.compute.capacity).to.deep.equal({
      cpuMillicores: 8000,
      memoryMiB: 4096,
      storageGiB: 20,
      gpus: { "a100.80gb": 2 },
    });
    expect(config.compute.runtime).to.deep.include({ niceness: 5, cpuTolerance: 1.5, nodePath: null });
    // The file form round-trips.
    expect(parseConfig(configToFile(config))).to.deep.equal(config);
    expect(configToFile(config).compute.pricePerMillicoreSecond).to.equal("0.000000005");
  });

  it("reports bad compute fields, and compute enabled without a compute market", function () {
    expect(
      problems({
        deployment: DEPLOYMENT,
        compute: {
          enabled: "yes",
          pricePerMiBSecond: "0.0000000000000001",
          pricePerGpuSecond: { h100: 3 },
          capacity: { cpuMillicores: -1, gpus: { "": 1 } },
          region: "x".repeat(17),
          runtime: { niceness: 20, extra: 1 },
          bidEverything: true,
        },
      }),
    ).to.have.length(9);
    expect(problems({ deployment: DEPLOYMENT, compute: { enabled: true } })).to.deep.equal([
      "compute.enabled: needs deployment.computeMarket (the compute market's address)",
    ]);
    expect(defaultConfig().compute.enabled).to.equal(false);
  });

  it("keeps orders, bids, leases, run states and workloads across reopen", async function () {
    const path = join(await tempDataDir(), "agent.db");
    let now = 1000;
    const db = AgentDb.open(path, () => now);
    const store = db.compute;
    expect(
      store.insertOrder({
        id: 7n,
        tenant: "0x2000000000000000000000000000000000000002",
        request: REQUEST,
        closeBounty: 1_000_000n,
        createdBlock: 40,
        state: "waiting",
        reason: "new",
      }),
    ).to.equal(true);
    expect(
      store.insertOrder({
        id: 7n,
        tenant: "0x2",
        request: REQUEST,
        closeBounty: 0n,
        createdBlock: 41,
        state: "skipped",
        reason: null,
      }),
    ).to.equal(false);
    now = 2000;
    store.setOrderState(7n, "bid", {
      bid: { pricePerSecond: 9n, collateral: 1n << 90n, noticeWindow: 600, gpuModel: null },
      txHash: "0xaa",
      reason: null,
    });
    expect(store.ordersWithWorkload(REQUEST.workloadHash.toUpperCase().replace("0X", "0x"))).to.have.length(
      1,
    );
    store.insertLease({
      id: 7n,
      tenant: "0x2000000000000000000000000000000000000002",
      workloadHash: REQUEST.workloadHash,
      resources: REQUEST.resources,
      gpuModel: null,
      pricePerSecond: 9n,
      collateral: 1n << 90n,
      noticeWindow: 600,
      startedAt: 1_800_000_000n,
      endsAt: 0n,
      heartbeatPeriod: 60n,
      startedBlock: 50,
    });
    store.setRunning(7n, { pid: 4242, startTicks: 99 });
    store.setHeartbeat(7n, 3n);
    expect(store.putWorkload(REQUEST.workloadHash, "{}")).to.equal(true);
    expect(store.putWorkload(REQUEST.workloadHash, "{}")).to.equal(false);
    db.close();

    const reopened = AgentDb.open(path, () => now).compute;
    expect(reopened.order(7n)).to.deep.include({
      state: "won",
      bid: { pricePerSecond: 9n, collateral: 1n << 90n, noticeWindow: 600, gpuModel: null },
      txHash: "0xaa",
      createdBlock: 40,
      updatedAt: 2000,
    });
    expect(reopened.order(7n)?.request).to.deep.equal(REQUEST);
    expect(
      reopened
        .activeLeases()
        .map((l) => [l.id, l.runState, l.runs, l.pid, l.pidStart, l.lastHeartbeatPeriod]),
    ).to.deep.equal([[7n, "running", 1, 4242, 99, 3n]]);
    reopened.setRunEnded(7n, "exited", { reason: "memory" });
    reopened.closeLease(7n, "Tenant");
    expect(reopened.activeLeases()).to.deep.equal([]);
    expect(reopened.lease(7n)).to.deep.include({
      state: "closed",
      closeReason: "Tenant",
      runState: "exited",
      pid: null,
    });
    expect(reopened.workload(REQUEST.workloadHash.toUpperCase().replace("0X", "0x"))?.description).to.equal(
      "{}",
    );
    let code: string | undefined;
    try {
      reopened.setHeartbeat(8n, 1n);
    } catch (error) {
      code = (error as StrataError).code;
    }
    expect(code).to.equal("AGENT_DB_ERROR");
  });
});
