import { expect } from "chai";
import {
  addResources,
  decideBid,
  NO_RESOURCES,
  type BidPolicy,
  type Commitments,
  type OrderToJudge,
} from "../../offchain/agent/compute/bidding.js";
import type { ComputeResources, OrderRequest } from "../../offchain/sdk/compute/orders.js";
import { PRICE_SCALE } from "../../offchain/sdk/compute/pricing.js";

const ME = "0x1000000000000000000000000000000000000001";
const TENANT = "0x2000000000000000000000000000000000000002";
const NOW = 1_000_000n;
const BOUNDS = { minNoticeWindow: 60n, maxNoticeWindow: 86_400n };

const policy = (overrides: Partial<BidPolicy> = {}): BidPolicy => ({
  prices: {
    perMillicoreSecond: PRICE_SCALE / 100n, // 0.01
    perMiBSecond: PRICE_SCALE / 1000n, // 0.001
    perStorageGiBSecond: PRICE_SCALE / 10n, // 0.1
    perGpuSecond: { t4: 10n * PRICE_SCALE },
  },
  minMarginBps: 2000,
  collateralPerLease: 1_000_000n,
  collateralPriceSeconds: 0n,
  noticeWindowSeconds: 600,
  maxConcurrentLeases: 3,
  capacity: { cpuMillicores: 2000, memoryMiB: 4096, storageGiB: 10, gpus: { t4: 2 } },
  region: "eu-west",
  minFundedSeconds: 600,
  ...overrides,
});

function order(
  resources: Partial<ComputeResources> = {},
  request: Partial<Omit<OrderRequest, "resources">> = {},
): OrderToJudge {
  return {
    id: 7n,
    tenant: TENANT,
    closeBounty: 1_000_000n,
    request: {
      resources: {
        cpuMillicores: 500,
        memoryMiB: 1024,
        storageGiB: 0,
        gpuCount: 0,
        gpuModel: "",
        region: "",
        ...resources,
      },
      workloadHash: `0x${"11".repeat(32)}`,
      maxPricePerSecond: 100n,
      deposit: 1_000_000n + 100n * 3600n,
      duration: 0n,
      expiresAt: NOW + 3600n,
      minCollateral: 0n,
      minNoticeWindow: 0n,
      ...request,
    },
  };
}

const idle: Commitments = { count: 0, used: NO_RESOURCES };

function reasonOf(decision: ReturnType<typeof decideBid>): string {
  return decision.bid ? "bid" : decision.reason;
}

describe("compute bidding policy", function () {
  it("bids cost × (1 + margin), rounded up, with the policy's collateral and notice", function () {
    // cost: 500 × 0.01 + 1024 × 0.001 = 6.024 -> 7; × 1.2 = 8.4 -> 9
    const decision = decideBid(order(), policy(), idle, BOUNDS, { now: NOW, me: ME });
    expect(decision).to.deep.equal({
      bid: true,
      pricePerSecond: 9n,
      collateral: 1_000_000n,
      noticeWindow: 600,
      gpuModel: null,
      costPerSecond: 7n,
    });
  });

  it("adds price-proportional collateral and bids at least 1 per second", function () {
    const decision = decideBid(order(), policy({ collateralPriceSeconds: 3600n }), idle, BOUNDS, {
      now: NOW,
      me: ME,
    });
    expect(decision.bid && decision.collateral).to.equal(1_000_000n + 9n * 3600n);
    const free = policy({
      prices: { perMillicoreSecond: 0n, perMiBSecond: 0n, perStorageGiBSecond: 0n, perGpuSecond: {} },
    });
    const cheap = decideBid(order(), free, idle, BOUNDS, { now: NOW, me: ME });
    expect(cheap.bid && cheap.pricePerSecond).to.equal(1n);
  });

  it("skips an order whose maximum price is below its price (final)", function () {
    const decision = decideBid(order({}, { maxPricePerSecond: 8n }), policy(), idle, BOUNDS, {
      now: NOW,
      me: ME,
    });
    expect(decision).to.deep.include({ bid: false, reason: "price", retry: false });
    expect(
      reasonOf(decideBid(order({}, { maxPricePerSecond: 9n }), policy(), idle, BOUNDS, { now: NOW, me: ME })),
    ).to.equal("bid");
  });

  it("skips expired orders, its own orders and other regions", function () {
    const ctx = { now: NOW, me: ME };
    expect(reasonOf(decideBid(order({}, { expiresAt: NOW }), policy(), idle, BOUNDS, ctx))).to.equal(
      "expired",
    );
    expect(
      reasonOf(
        decideBid({ ...order(), tenant: ME.toUpperCase().replace("0X", "0x") }, policy(), idle, BOUNDS, ctx),
      ),
    ).to.equal("own-order");
    expect(reasonOf(decideBid(order({ region: "us-east" }), policy(), idle, BOUNDS, ctx))).to.equal("region");
    expect(reasonOf(decideBid(order({ region: "eu-west" }), policy(), idle, BOUNDS, ctx))).to.equal("bid");
  });

  it("skips orders larger than the whole capacity (final) and waits when capacity is committed (retry)", function () {
    const ctx = { now: NOW, me: ME };
    expect(decideBid(order({ cpuMillicores: 2001 }), policy(), idle, BOUNDS, ctx)).to.deep.include({
      reason: "too-large",
      retry: false,
    });
    expect(decideBid(order({ storageGiB: 11 }), policy(), idle, BOUNDS, ctx)).to.deep.include({
      reason: "too-large",
    });
    const busy: Commitments = {
      count: 1,
      used: { cpuMillicores: 1600, memoryMiB: 0, storageGiB: 0, gpus: {} },
    };
    expect(decideBid(order(), policy(), busy, BOUNDS, ctx)).to.deep.include({
      reason: "capacity",
      retry: true,
    });
    const memory: Commitments = {
      count: 1,
      used: { cpuMillicores: 0, memoryMiB: 3500, storageGiB: 0, gpus: {} },
    };
    expect(decideBid(order(), policy(), memory, BOUNDS, ctx)).to.deep.include({
      reason: "capacity",
      retry: true,
    });
    const full: Commitments = { count: 3, used: NO_RESOURCES };
    expect(decideBid(order(), policy(), full, BOUNDS, ctx)).to.deep.include({
      reason: "concurrency",
      retry: true,
    });
  });

  it("prices and reserves GPUs by model", function () {
    const ctx = { now: NOW, me: ME };
    const gpu = order({ gpuCount: 2 }, { maxPricePerSecond: 1000n, deposit: 1_000_000n + 1000n * 3600n });
    const decision = decideBid(gpu, policy(), idle, BOUNDS, ctx);
    // (6.024 + 2 × 10) -> 27; × 1.2 = 32.4 -> 33
    expect(decision).to.deep.include({ bid: true, pricePerSecond: 33n, gpuModel: "t4" });
    expect(
      reasonOf(decideBid(order({ gpuCount: 1, gpuModel: "a100" }), policy(), idle, BOUNDS, ctx)),
    ).to.equal("gpu-model");
    expect(reasonOf(decideBid(order({ gpuCount: 3 }), policy(), idle, BOUNDS, ctx))).to.equal("too-large");
    const used = addResources(NO_RESOURCES, { ...gpu.request.resources, gpuCount: 1 }, "t4");
    expect(used.gpus).to.deep.equal({ t4: 1 });
    expect(decideBid(gpu, policy(), { count: 1, used }, BOUNDS, ctx)).to.deep.include({
      reason: "capacity",
      retry: true,
    });
  });

  it("skips orders asking for more collateral or notice than the policy gives, or outside the market's bounds", function () {
    const ctx = { now: NOW, me: ME };
    expect(
      reasonOf(decideBid(order({}, { minCollateral: 1_000_001n }), policy(), idle, BOUNDS, ctx)),
    ).to.equal("collateral");
    expect(
      reasonOf(decideBid(order({}, { minCollateral: 1_000_000n }), policy(), idle, BOUNDS, ctx)),
    ).to.equal("bid");
    expect(reasonOf(decideBid(order({}, { minNoticeWindow: 601n }), policy(), idle, BOUNDS, ctx))).to.equal(
      "notice",
    );
    expect(reasonOf(decideBid(order(), policy({ noticeWindowSeconds: 30 }), idle, BOUNDS, ctx))).to.equal(
      "notice",
    );
    expect(reasonOf(decideBid(order(), policy({ noticeWindowSeconds: 86_401 }), idle, BOUNDS, ctx))).to.equal(
      "notice",
    );
  });

  it("skips orders whose escrow (deposit minus the close bounty) pays for less than minFundedSeconds", function () {
    const ctx = { now: NOW, me: ME };
    // 9 per second × 600 s = 5400 beyond the 1 000 000 buffer.
    expect(reasonOf(decideBid(order({}, { deposit: 1_005_399n }), policy(), idle, BOUNDS, ctx))).to.equal(
      "underfunded",
    );
    expect(reasonOf(decideBid(order({}, { deposit: 1_005_400n }), policy(), idle, BOUNDS, ctx))).to.equal(
      "bid",
    );
    expect(reasonOf(decideBid(order({}, { deposit: 10n }), policy(), idle, BOUNDS, ctx))).to.equal(
      "underfunded",
    );
  });
});
