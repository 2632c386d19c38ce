/**
 * Gas of the compute market's operations (rows of bench/gas.json; budgets in ./budgets.ts). Called by
 * ./measureGas.ts on its own fresh deployment. Steady state: every account already holds the ledger and
 * token balances it would have after its first lease, so no row pays for creating a balance slot (the first
 * rows say when they do).
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { Wallet } from "ethers";
import { deployStorage, registerProvider, USDC, type StorageFixture } from "../lib/inProcessSuite.js";
import type { IComputeMarket } from "../../typechain-types/interfaces/IComputeMarket.js";
import { BENCH_GENESIS, seededKey } from "./deterministicChain.js";
import type { MeasuredRow } from "./report.js";
import { gasOf } from "./storageGas.js";

const PRICE = 100n;
const COLLATERAL = 50n * USDC;
const NOTICE = 600n;
/** Close reasons (IComputeMarket.CloseReason). */
const TENANT = 0n;
const WITH_NOTICE = 1n;
const WITHOUT_NOTICE = 2n;
const INSUFFICIENT_FUNDS = 4n;
const EXPIRED = 5n;

async function request(
  f: StorageFixture,
  overrides: Partial<IComputeMarket.OrderRequestStruct> = {},
): Promise<IComputeMarket.OrderRequestStruct> {
  const now = BigInt(await f.helpers.time.latest());
  return {
    spec: {
      cpuMillicores: 4000n,
      memoryMiB: 8192n,
      storageGiB: 100n,
      gpuCount: 1n,
      gpuModel: "0x" + Buffer.from("a100-80gb").toString("hex").padEnd(32, "0"),
      region: "0x" + Buffer.from("eu-west").toString("hex").padEnd(32, "0"),
    },
    workloadHash: "0x" + "ab".repeat(32),
    maxPricePerSecond: PRICE,
    deposit: 100n * USDC,
    duration: 0n,
    expiresAt: now + 3600n,
    minCollateral: 0n,
    minNoticeWindow: 0n,
    ...overrides,
  };
}

async function post(
  f: StorageFixture,
  tenant: HardhatEthersSigner,
  overrides: Partial<IComputeMarket.OrderRequestStruct> = {},
): Promise<{ id: bigint; gas: number }> {
  const gas = await gasOf(f.compute.connect(tenant).createOrder(await request(f, overrides)));
  return { id: await f.compute.lastOrderId(), gas };
}

/** A lease from `tenant` to `provider`, heartbeated in period 0; returns its id and start. */
async function lease(
  f: StorageFixture,
  tenant: HardhatEthersSigner,
  provider: HardhatEthersSigner,
  overrides: Partial<IComputeMarket.OrderRequestStruct> = {},
): Promise<{ id: bigint; startedAt: bigint }> {
  const { id } = await post(f, tenant, overrides);
  await f.compute.connect(provider).createBid(id, PRICE, COLLATERAL, NOTICE);
  await f.compute.connect(tenant).acceptBid(id, provider.address);
  const startedAt = (await f.compute.getLease(id)).startedAt;
  await f.compute.connect(provider).heartbeat(id);
  return { id, startedAt };
}

export async function computeRows(genesis: string = BENCH_GENESIS): Promise<MeasuredRow[]> {
  const f = await deployStorage({ fresh: true, initialDate: genesis });
  const { compute } = f;
  const [tenant, provider, provider2, watcher] = [f.client, f.provider, f.provider2, f.watcher];
  for (const p of [provider, provider2]) await registerProvider(f, p, 1_000_000n * USDC);
  await f.token.mint(tenant.address, 100_000_000n * USDC);
  await f.token.connect(tenant).approve(await compute.getAddress(), 100_000_000n * USDC);
  const period = (await compute.parameters()).heartbeatPeriod;
  const rows: MeasuredRow[] = [];

  // Warm-up: every account earns, pays and withdraws once, as after its first lease.
  const warm = await lease(f, tenant, provider);
  await f.helpers.time.increase(10);
  await compute.connect(tenant).closeLease(warm.id, TENANT);
  await compute.connect(provider).withdraw(1n);
  await compute.connect(tenant).withdraw(1n);
  await compute.connect(tenant).deposit(tenant.address, 10_000n * USDC);

  // Orders.
  await f.token.mint(f.client2.address, 1_000n * USDC);
  await f.token.connect(f.client2).approve(await compute.getAddress(), 1_000n * USDC);
  const fromAllowance = await gasOf(compute.connect(f.client2).createOrder(await request(f)));
  rows.push({
    operation: "compute: create order (deposit pulled from allowance)",
    gas: fromAllowance,
    note: "three new storage words; the resource spec and workload hash travel in the event only",
  });
  const { id: order1, gas: fromLedger } = await post(f, tenant);
  rows.push({
    operation: "compute: create order (deposit from the tenant's ledger balance)",
    gas: fromLedger,
  });

  // Bids: the provider's steady-state bid locks collateral in the registry.
  const bidGas = await gasOf(compute.connect(provider).createBid(order1, PRICE, COLLATERAL, NOTICE));
  rows.push({
    operation: "compute: create bid (collateral locked in the registry)",
    gas: bidGas,
    note: "one new storage word per bid (keyed by order and provider)",
  });
  await compute.connect(provider2).createBid(order1, PRICE - 1n, COLLATERAL, NOTICE);
  const withdrawBid = await gasOf(compute.connect(provider2).withdrawBid(order1));
  rows.push({
    operation: "compute: withdraw a bid (collateral unlocked)",
    gas: withdrawBid,
  });

  // Accept with 1 bid and with 20 bids.
  const accept1 = await gasOf(compute.connect(tenant).acceptBid(order1, provider.address));
  rows.push({ operation: "compute: accept bid into lease, 1 bid", gas: accept1 });
  const { id: order20 } = await post(f, tenant);
  for (let i = 0; i < 19; i++) {
    const w = new Wallet(seededKey(`bidder ${i}`), f.ethers.provider);
    await f.helpers.setBalance(w.address, 10n ** 20n);
    await f.registry.connect(w).register(w.address, "https://bidder", 1n, 1n);
    await f.token.mint(w.address, COLLATERAL);
    await f.token.connect(w).approve(await f.registry.getAddress(), COLLATERAL);
    await f.registry.connect(w).stake(w.address, COLLATERAL);
    await compute.connect(w).createBid(order20, PRICE, COLLATERAL, NOTICE);
  }
  await compute.connect(provider).createBid(order20, PRICE, COLLATERAL, NOTICE);
  const accept20 = await gasOf(compute.connect(tenant).acceptBid(order20, provider.address));
  rows.push({
    operation: "compute: accept bid into lease, 20 bids",
    gas: accept20,
    note: "losing bidders withdraw their own bids afterwards; accepting never touches them",
  });

  // Heartbeat, settle, top up, withdraw.
  const hb = await gasOf(compute.connect(provider).heartbeat(order20));
  rows.push({
    operation: "compute: lease heartbeat",
    gas: hb,
    note: "one storage word read and written",
  });
  await f.helpers.time.increase(30);
  rows.push({
    operation: "compute: settle a lease (anyone)",
    gas: await gasOf(compute.connect(watcher).settleLease(order20)),
    note: "O(1): no per-period state",
  });
  rows.push({
    operation: "compute: top up a lease (from allowance)",
    gas: await gasOf(compute.connect(tenant).topUp(order20, 5n * USDC)),
  });
  rows.push({
    operation: "compute: provider withdraws earnings",
    gas: await gasOf(compute.connect(provider).withdraw(1000n)),
    note: "CreditLedger.withdraw to the registry payee (payee already holds tokens)",
  });

  // Missed heartbeats: one period missed, reported by a watcher (first bounty creates its balance).
  const missed = await lease(f, tenant, provider);
  await f.helpers.time.increaseTo(missed.startedAt + 2n * period);
  rows.push({
    operation: "compute: report a missed heartbeat, first report by this watcher",
    gas: await gasOf(compute.connect(watcher).reportMissedHeartbeats(missed.id)),
    note: "bounty slashed from the lease's collateral; creates the watcher's ledger balance",
  });
  await f.helpers.time.increaseTo(missed.startedAt + 3n * period);
  rows.push({
    operation: "compute: report a missed heartbeat (watcher with a balance)",
    gas: await gasOf(compute.connect(watcher).reportMissedHeartbeats(missed.id)),
    note:
      "budget of a missed-proof report; reads 3 of the lease's 4 words and writes 2, credits the tenant and the " +
      "watcher, and keeps the treasury's share in the parameter word the penalty reads",
  });
  await f.helpers.time.increaseTo(missed.startedAt + 4n * period);
  rows.push({
    operation: "compute: close a lease for missed heartbeats (report reaching the limit)",
    gas: await gasOf(compute.connect(watcher).reportMissedHeartbeats(missed.id)),
    note: "bounty + penalty slashed, split tenant / treasury, rest of the collateral unlocked",
  });

  // Closes, each main reason.
  const byTenant = await lease(f, tenant, provider);
  await f.helpers.time.increase(20);
  rows.push({
    operation: "compute: close a lease (tenant)",
    gas: await gasOf(compute.connect(tenant).closeLease(byTenant.id, TENANT)),
  });
  const noNotice = await lease(f, tenant, provider);
  await f.helpers.time.increase(20);
  rows.push({
    operation: "compute: close a lease (provider without notice, slashed)",
    gas: await gasOf(compute.connect(provider).closeLease(noNotice.id, WITHOUT_NOTICE)),
  });
  const notice = await lease(f, tenant, provider);
  rows.push({
    operation: "compute: give notice",
    gas: await gasOf(compute.connect(provider).giveNotice(notice.id)),
  });
  await f.helpers.time.increase(Number(NOTICE) + 1);
  rows.push({
    operation: "compute: close a lease (provider with notice, after the window)",
    gas: await gasOf(compute.connect(watcher).closeLease(notice.id, WITH_NOTICE)),
  });
  const expiring = await lease(f, tenant, provider, { duration: period });
  await f.helpers.time.increase(Number(period) + 1);
  rows.push({
    operation: "compute: close a lease (expired)",
    gas: await gasOf(compute.connect(watcher).closeLease(expiring.id, EXPIRED)),
  });
  const dry = await lease(f, tenant, provider, {
    deposit: 10n * PRICE + (await compute.parameters()).closeBounty,
  });
  await f.helpers.time.increase(20);
  rows.push({
    operation: "compute: close an overdrawn lease for the bounty (anyone)",
    gas: await gasOf(compute.connect(watcher).closeLease(dry.id, INSUFFICIENT_FUNDS)),
  });
  return rows;
}
