// Helpers shared by the compute-market tests (test/compute/*.test.ts). Built on test/helpers/fixture.ts, which
// deploys the compute market beside the storage market on one registry.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { SnapshotRestorer } from "@nomicfoundation/hardhat-network-helpers/types";
import { expect } from "chai";
import {
  encodeBytes32String,
  hexlify,
  randomBytes,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
} from "ethers";
import type { IComputeMarket } from "../../typechain-types/interfaces/IComputeMarket.js";
import {
  defaultComputeParameters,
  deployStorage,
  registerProvider,
  USDC,
  type ComputeParameters,
  type StorageFixture,
} from "../helpers/fixture.js";

export type OrderRequest = IComputeMarket.OrderRequestStruct;

/** IComputeMarket.CloseReason. */
export const CloseReason = {
  Tenant: 0n,
  ProviderWithNotice: 1n,
  ProviderWithoutNotice: 2n,
  MissedHeartbeats: 3n,
  InsufficientFunds: 4n,
  Expired: 5n,
} as const;

/** IComputeMarket.OrderStatus. */
export const OrderStatus = { None: 0n, Open: 1n, Filled: 2n, Cancelled: 3n, Expired: 4n } as const;

/** IComputeMarket.BidStatus. */
export const BidStatus = { None: 0n, Active: 1n, Rejected: 2n } as const;

export const BPS = 10_000n;
/** Stake of each provider registered by `useComputeFixture`. */
export const STAKE = 10_000n * USDC;
/** Tokens minted to (and approved by) each tenant. */
export const TENANT_FUNDS = 1_000_000n * USDC;
/** Default parameters (the local deployment's). */
export const PARAMS = defaultComputeParameters();
export const HEARTBEAT = BigInt(PARAMS.heartbeatPeriod);
export const CLOSE_BOUNTY = BigInt(PARAMS.closeBounty);
export const MISSED_PENALTY = BigInt(PARAMS.missedHeartbeatPenalty);
/** Defaults of `orderRequest` and `placeBid`. */
export const MAX_PRICE = 100n;
export const PRICE = 80n;
export const DEPOSIT = 10n * USDC + CLOSE_BOUNTY;
export const ESCROW = DEPOSIT - CLOSE_BOUNTY;
export const COLLATERAL = 50n * USDC;
export const MIN_COLLATERAL = 10n * USDC;
export const NOTICE = 600n;

/** Give `tenant` tokens and approve the compute market. */
export async function fundTenant(
  f: StorageFixture,
  tenant: HardhatEthersSigner,
  amount = TENANT_FUNDS,
): Promise<void> {
  await f.token.mint(tenant.address, amount);
  await f.token.connect(tenant).approve(await f.compute.getAddress(), amount);
}

/**
 * One network per suite: the suite is deployed once, both providers registered and staked, both clients funded
 * as tenants; every test starts from that snapshot. Returns a getter for the fixture.
 */
export function useComputeFixture(options: { computeParams?: ComputeParameters } = {}): () => StorageFixture {
  let fixture: StorageFixture | undefined;
  let snapshot: SnapshotRestorer | undefined;
  before(async function () {
    fixture = await deployStorage({ computeParams: options.computeParams });
    await registerProvider(fixture, fixture.provider, STAKE);
    await registerProvider(fixture, fixture.provider2, STAKE);
    await fundTenant(fixture, fixture.client);
    await fundTenant(fixture, fixture.client2);
    snapshot = await fixture.helpers.takeSnapshot();
  });
  beforeEach(async function () {
    if (!snapshot) throw new Error("fixture not deployed");
    await snapshot.restore();
  });
  return () => {
    if (!fixture) throw new Error("fixture not deployed");
    return fixture;
  };
}

/** Set every compute parameter to the default except `overrides`. */
export async function setComputeParams(
  f: StorageFixture,
  overrides: Partial<Record<keyof ComputeParameters, bigint>>,
): Promise<void> {
  await f.compute.connect(f.admin).setParameters(defaultComputeParameters(overrides));
}

/** Latest block timestamp. */
export async function now(f: StorageFixture): Promise<bigint> {
  return BigInt(await f.helpers.time.latest());
}

/** The next transaction's block gets timestamp `ts`. */
export async function atNextBlock(f: StorageFixture, ts: bigint): Promise<void> {
  await f.helpers.time.setNextBlockTimestamp(ts);
}

/** Wait for a transaction and return its receipt. */
export async function mined(tx: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return receipt;
}

/** A valid order request (2 cores, 4 GiB, 20 GiB, no GPU, region "eu-west"), with fields overridden. */
export async function orderRequest(
  f: StorageFixture,
  overrides: Partial<OrderRequest> = {},
): Promise<OrderRequest> {
  return {
    spec: {
      cpuMillicores: 2000n,
      memoryMiB: 4096n,
      storageGiB: 20n,
      gpuCount: 0n,
      gpuModel: "0x" + "00".repeat(16),
      region: encodeBytes32String("eu-west").slice(0, 34),
    },
    workloadHash: hexlify(randomBytes(32)),
    maxPricePerSecond: MAX_PRICE,
    deposit: DEPOSIT,
    duration: 0n,
    expiresAt: (await now(f)) + 3600n,
    minCollateral: MIN_COLLATERAL,
    minNoticeWindow: 0n,
    ...overrides,
  };
}

/** Post an order from `tenant` (default: the fixture client); returns its id. */
export async function postOrder(
  f: StorageFixture,
  overrides: Partial<OrderRequest> = {},
  tenant: HardhatEthersSigner = f.client,
): Promise<bigint> {
  const request = await orderRequest(f, overrides);
  await mined(f.compute.connect(tenant).createOrder(request));
  return f.compute.lastOrderId();
}

export interface BidSpec {
  price?: bigint;
  collateral?: bigint;
  notice?: bigint;
}

/** Bid on `orderId` from `provider` (default: the fixture provider). */
export async function placeBid(
  f: StorageFixture,
  orderId: bigint,
  provider: HardhatEthersSigner = f.provider,
  spec: BidSpec = {},
): Promise<ContractTransactionReceipt> {
  return mined(
    f.compute
      .connect(provider)
      .createBid(orderId, spec.price ?? PRICE, spec.collateral ?? COLLATERAL, spec.notice ?? NOTICE),
  );
}

/** Post an order, bid on it from `provider` and accept the bid; returns the lease id and start time. */
export async function startLease(
  f: StorageFixture,
  opts: {
    order?: Partial<OrderRequest>;
    bid?: BidSpec;
    tenant?: HardhatEthersSigner;
    provider?: HardhatEthersSigner;
  } = {},
): Promise<{ leaseId: bigint; startedAt: bigint }> {
  const tenant = opts.tenant ?? f.client;
  const provider = opts.provider ?? f.provider;
  const orderId = await postOrder(f, opts.order, tenant);
  await placeBid(f, orderId, provider, opts.bid);
  await mined(f.compute.connect(tenant).acceptBid(orderId, provider.address));
  const lease = await f.compute.getLease(orderId);
  return { leaseId: orderId, startedAt: lease.startedAt };
}

/** Post the heartbeat of `period` at `startedAt + period * HEARTBEAT + offset` (that period must be the next). */
export async function heartbeatAt(
  f: StorageFixture,
  leaseId: bigint,
  startedAt: bigint,
  period: bigint,
  offset = 1n,
  provider: HardhatEthersSigner = f.provider,
): Promise<ContractTransactionReceipt> {
  await atNextBlock(f, startedAt + period * HEARTBEAT + offset);
  return mined(f.compute.connect(provider).heartbeat(leaseId));
}

/** Heartbeat every period from the lease's next unresolved one through `lastPeriod`, `offset` s into each. */
export async function heartbeatThrough(
  f: StorageFixture,
  leaseId: bigint,
  lastPeriod: bigint,
  offset = 1n,
  provider: HardhatEthersSigner = f.provider,
): Promise<void> {
  const lease = await f.compute.getLease(leaseId);
  for (let p = lease.nextPeriod; p <= lastPeriod; p++) {
    await heartbeatAt(f, leaseId, lease.startedAt, p, offset, provider);
  }
}

/** Every account the fixture knows. */
export function allAccounts(f: StorageFixture): HardhatEthersSigner[] {
  return [f.admin, f.treasury, f.provider, f.provider2, f.client, f.client2, f.watcher, ...f.others];
}

/**
 * Funds conservation of the compute market: the tokens it holds (plus slashed tokens the registry owes it)
 * equal every ledger balance plus the deposits of open orders plus the escrow and buffer of live leases.
 */
export async function expectComputeFundsConserved(
  f: StorageFixture,
  ids: { orders?: bigint[]; leases?: bigint[] } = {},
): Promise<void> {
  const compute = await f.compute.getAddress();
  const assets = (await f.token.balanceOf(compute)) + (await f.registry.slashedOwedTo(compute));
  let owed = 0n;
  for (const account of allAccounts(f)) owed += await f.compute.balanceOf(account.address);
  for (const id of ids.orders ?? []) {
    const order = await f.compute.getOrder(id);
    if (order.status === OrderStatus.Open) owed += order.deposit;
  }
  for (const id of ids.leases ?? []) {
    const lease = await f.compute.getLease(id);
    owed += lease.escrow + lease.closeBounty;
  }
  expect(assets, "compute assets == ledger balances + open deposits + live escrow and buffers").to.equal(
    owed,
  );
}

/** The provider's free and locked stake. */
export async function stakeOf(
  f: StorageFixture,
  provider: HardhatEthersSigner = f.provider,
): Promise<{ free: bigint; locked: bigint }> {
  const s = await f.registry.stakeInfo(provider.address);
  return { free: s.free, locked: s.locked };
}

/** `amount * bps / 10_000`, rounded down like the contract. */
export function bpsOf(amount: bigint, bps: bigint): bigint {
  return (amount * bps) / BPS;
}

/** How a missed-heartbeat penalty splits (SlashSplit with a reporter share), at the default parameters. */
export function reportSplit(penalty: bigint): { toTreasury: bigint; toReporter: bigint; toTenant: bigint } {
  const toTreasury = bpsOf(penalty, BigInt(PARAMS.treasuryShareBps));
  const toReporter = bpsOf(penalty, BigInt(PARAMS.reporterShareBps));
  return { toTreasury, toReporter, toTenant: penalty - toTreasury - toReporter };
}
