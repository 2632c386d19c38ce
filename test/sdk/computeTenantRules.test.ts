import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { NonceSequence, NONCES_PER_BASE } from "../../offchain/sdk/client/nonces.js";
import {
  keepWorkload,
  keptWorkloadPath,
  workloadForOrder,
} from "../../offchain/sdk/compute/keptWorkloads.js";
import type { LeaseStatus, LiveBid, OrderView } from "../../offchain/sdk/compute/market.js";
import type { OrderRequest } from "../../offchain/sdk/compute/orders.js";
import { cancelRefund, missedHeartbeatsReport, postedOrderId } from "../../offchain/sdk/compute/receipts.js";
import {
  checkAcceptable,
  checkOrderDeposit,
  checkOrderResources,
  checkReportable,
  checkTopUpAmount,
  chooseBid,
  closeReasonFor,
  isCurrent,
  isPartyTo,
  liveLeaseState,
  pricePerSecondFromHourly,
  requireLive,
  withdrawalAmount,
} from "../../offchain/sdk/compute/tenantRules.js";
import {
  workloadHash,
  type WorkloadDescription,
  totalResources,
} from "../../offchain/sdk/compute/workload.js";
import { IComputeMarket__factory } from "../../typechain-types/index.js";
import { expectRejection, expectStrataError } from "./helpers/assertions.js";

const TENANT = Wallet.createRandom().address;
const PROVIDER = Wallet.createRandom().address;
const OTHER = Wallet.createRandom().address;

const WORKLOAD: WorkloadDescription = {
  version: 2,
  services: {
    main: {
      run: { kind: "command", command: ["sleep", "60"] },
      resources: { cpuMillicores: 500, memoryMiB: 256 },
      restart: "never",
    },
  },
};

const REQUEST: OrderRequest = {
  resources: { cpuMillicores: 500, memoryMiB: 256, storageGiB: 0, gpuCount: 0, gpuModel: "", region: "" },
  workloadHash: workloadHash(WORKLOAD),
  maxPricePerSecond: 10n,
  deposit: 1_000n,
  duration: 0n,
  expiresAt: 2_000n,
  minCollateral: 0n,
  minNoticeWindow: 0n,
};

function orderView(overrides: Partial<OrderView> = {}): OrderView {
  return {
    order: { id: 7n, tenant: TENANT, request: REQUEST, closeBounty: 100n, blockNumber: 1, txHash: "0x" },
    status: "open",
    expired: false,
    bidCount: 1n,
    ...overrides,
  };
}

type Live = NonNullable<LeaseStatus["live"]>;

function lease(live: Partial<Live> | null): LeaseStatus {
  return {
    id: 7n,
    tenant: TENANT,
    provider: PROVIDER,
    pricePerSecond: 10n,
    startedAt: 0n,
    startBlock: 1,
    closed:
      live === null
        ? {
            reason: "Tenant",
            closer: TENANT,
            paidToProvider: 0n,
            refundedToTenant: 0n,
            bountyToCloser: 0n,
            compensationToTenant: 0n,
            collateralReleased: 0n,
            txHash: "0x",
          }
        : null,
    live:
      live === null
        ? null
        : {
            endsAt: 0n,
            heartbeatPeriod: 60n,
            nextPeriod: 1n,
            currentPeriod: 1n,
            heartbeatDue: false,
            missedHeartbeats: 0n,
            reportablePeriods: 0n,
            noticeGiven: false,
            noticeWindow: 0n,
            collateral: 0n,
            escrow: 100n,
            paidSeconds: 0n,
            settleable: 0n,
            overdrawn: false,
            ended: false,
            fundedUntil: 100n,
            ...live,
          },
  };
}

const bid = (provider: string, pricePerSecond: bigint): LiveBid => ({
  provider,
  pricePerSecond,
  collateral: 0n,
  noticeWindow: 0n,
  endpoint: "http://127.0.0.1:1",
});

describe("compute tenant rules (sdk/compute/tenantRules)", function () {
  it("refuses an order smaller than its workload, or a GPU model without GPUs", function () {
    checkOrderResources(REQUEST.resources, totalResources(WORKLOAD));
    expectStrataError(() => {
      checkOrderResources({ ...REQUEST.resources, cpuMillicores: 499 }, totalResources(WORKLOAD));
    }, "INVALID_ARGUMENT");
    expectStrataError(() => {
      checkOrderResources({ ...REQUEST.resources, memoryMiB: 255 }, totalResources(WORKLOAD));
    }, "INVALID_ARGUMENT");
    expectStrataError(() => {
      checkOrderResources({ ...REQUEST.resources, gpuModel: "a100" }, totalResources(WORKLOAD));
    }, "INVALID_ARGUMENT");
    checkOrderResources({ ...REQUEST.resources, gpuCount: 1, gpuModel: "a100" }, totalResources(WORKLOAD));
  });

  it("rounds an hourly price down to base units per second and refuses one that rounds to zero", function () {
    expect(pricePerSecondFromHourly(36_000n)).to.equal(10n);
    expect(pricePerSecondFromHourly(3_601n)).to.equal(1n);
    expectStrataError(() => pricePerSecondFromHourly(3_599n), "INVALID_ARGUMENT");
  });

  it("wants a deposit above the close bounty", function () {
    checkOrderDeposit(101n, 100n);
    expectStrataError(() => {
      checkOrderDeposit(100n, 100n);
    }, "INVALID_ARGUMENT");
  });

  it("lets only the tenant accept, and only an open order before its expiry", function () {
    checkAcceptable(orderView(), TENANT.toLowerCase());
    expectStrataError(() => {
      checkAcceptable(orderView(), OTHER);
    }, "INVALID_ARGUMENT");
    expectStrataError(() => {
      checkAcceptable(orderView({ status: "cancelled" }), TENANT);
    }, "INVALID_ARGUMENT");
    expectStrataError(() => {
      checkAcceptable(orderView({ expired: true }), TENANT);
    }, "INVALID_ARGUMENT");
  });

  it("chooses the cheapest bid or the named provider's, BID_NOT_FOUND otherwise", function () {
    const live = [bid(PROVIDER, 5n), bid(OTHER, 9n)];
    expect(chooseBid(live, 7n).provider).to.equal(PROVIDER);
    expect(chooseBid(live, 7n, OTHER.toLowerCase()).provider).to.equal(OTHER);
    expectStrataError(() => chooseBid([], 7n), "BID_NOT_FOUND");
    expectStrataError(() => chooseBid(live, 7n, TENANT), "BID_NOT_FOUND");
  });

  it("names a live lease's state, overdrawn first", function () {
    expect(liveLeaseState(requireLive(lease({})))).to.equal("live");
    expect(liveLeaseState(requireLive(lease({ noticeGiven: true })))).to.equal("noticeGiven");
    expect(liveLeaseState(requireLive(lease({ ended: true, noticeGiven: true })))).to.equal("ended");
    expect(liveLeaseState(requireLive(lease({ overdrawn: true, ended: true })))).to.equal("overdrawn");
  });

  it("picks the close reason that applies to the closer, and refuses a closed or funded lease", function () {
    expect(closeReasonFor(lease({}), TENANT)).to.equal("Tenant");
    expect(closeReasonFor(lease({ overdrawn: true }), OTHER)).to.equal("InsufficientFunds");
    expect(closeReasonFor(lease({ ended: true }), OTHER)).to.equal("Expired");
    expect(closeReasonFor(lease({ ended: true, noticeGiven: true }), OTHER)).to.equal("ProviderWithNotice");
    expect(closeReasonFor(lease({}), OTHER, "Expired")).to.equal("Expired");
    expectStrataError(() => closeReasonFor(lease({}), OTHER), "INVALID_ARGUMENT");
    expectStrataError(() => closeReasonFor(lease(null), TENANT), "LEASE_NOT_FOUND");
  });

  it("checks reports, top-ups and withdrawals before any transaction", function () {
    expectStrataError(() => requireLive(lease(null)), "LEASE_NOT_FOUND");
    expectStrataError(() => {
      checkReportable(lease(null));
    }, "LEASE_NOT_FOUND");
    expectStrataError(() => {
      checkReportable(lease({}));
    }, "INVALID_ARGUMENT");
    checkReportable(lease({ reportablePeriods: 1n }));
    expectStrataError(() => {
      checkTopUpAmount(0n);
    }, "INVALID_ARGUMENT");
    checkTopUpAmount(1n);
    expect(withdrawalAmount(50n)).to.equal(50n);
    expect(withdrawalAmount(50n, 20n)).to.equal(20n);
    expectStrataError(() => withdrawalAmount(0n), "INVALID_ARGUMENT");
    expectStrataError(() => withdrawalAmount(50n, 51n), "INSUFFICIENT_FUNDS");
  });

  it("lists current business by default and an account's own entries with --mine", function () {
    expect(isPartyTo({ tenant: TENANT, provider: null }, TENANT.toLowerCase())).to.be.true;
    expect(isPartyTo({ tenant: TENANT, provider: PROVIDER }, PROVIDER)).to.be.true;
    expect(isPartyTo({ tenant: TENANT, provider: null }, OTHER)).to.be.false;
    expect(["open", "leased"].every((status) => isCurrent({ status: status as "open" }))).to.be.true;
    expect(isCurrent({ status: "closed" })).to.be.false;
  });
});

describe("compute receipts (sdk/compute/receipts)", function () {
  const market = { interface: IComputeMarket__factory.createInterface() };
  const log = (name: "OrderCancelled" | "MissedHeartbeatsReported" | "LeaseSlashed", args: unknown[]) =>
    market.interface.encodeEventLog(name, args);

  it("reads what a transaction did from its events, CHAIN_REVERT when an order was not posted", function () {
    expectStrataError(() => postedOrderId(market, { logs: [] }, "0xabc"), "CHAIN_REVERT");
    expectStrataError(() => postedOrderId(market, null, "0xabc"), "CHAIN_REVERT");
    expect(cancelRefund(market, { logs: [log("OrderCancelled", [3n, 77n])] })).to.equal(77n);
    expect(cancelRefund(market, { logs: [] })).to.equal(0n);
    expect(
      missedHeartbeatsReport(market, {
        logs: [log("MissedHeartbeatsReported", [3n, OTHER, 2n, 1n, 40n, 5n])],
      }),
    ).to.deep.equal({ count: 1n, refunded: 40n, bounty: 5n, compensation: 0n });
    // The report's own slash is its compensation; a second slash from the close it caused is not.
    const closing = [
      log("MissedHeartbeatsReported", [3n, OTHER, 2n, 1n, 40n, 5n]),
      log("LeaseSlashed", [PROVIDER, 3n, 12n, 5n, 3n]),
      log("LeaseSlashed", [PROVIDER, 3n, 100n, 0n, 25n]),
    ];
    expect(missedHeartbeatsReport(market, { logs: closing })).to.deep.equal({
      count: 1n,
      refunded: 40n,
      bounty: 5n,
      compensation: 12n,
    });
  });
});

describe("kept workload descriptions (sdk/compute/keptWorkloads)", function () {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-kept-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps a description by hash and finds it again; FILE_NOT_FOUND or WORKLOAD_MISMATCH otherwise", async function () {
    const hash = workloadHash(WORKLOAD);
    const kept = await keepWorkload(join(dir, "kept"), WORKLOAD);
    expect(kept).to.equal(keptWorkloadPath(join(dir, "kept"), hash));
    expect(await workloadForOrder(hash, { dir: join(dir, "kept") })).to.deep.equal(WORKLOAD);
    await expectRejection(() => workloadForOrder(hash, { dir: join(dir, "none") }), "FILE_NOT_FOUND");
    const other = join(dir, "other.json");
    await writeFile(
      other,
      JSON.stringify({ ...WORKLOAD, services: { main: { ...WORKLOAD.services.main, env: { OTHER: "1" } } } }),
    );
    await expectRejection(() => workloadForOrder(hash, { file: other, dir }), "WORKLOAD_MISMATCH");
  });
});

describe("typed errors of sdk invariants", function () {
  it("NONCES_EXHAUSTED after the 256 nonces of one base", function () {
    const nonces = new NonceSequence(0n);
    for (let i = 0; i < NONCES_PER_BASE; i++) nonces.next();
    expectStrataError(() => nonces.next(), "NONCES_EXHAUSTED");
  });
});
