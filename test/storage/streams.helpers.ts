// Helpers shared by the stream, proof, fault and ending tests (test/storage/{proofs,faults,settlement,
// termination,extension}.test.ts). Built on test/helpers/fixture.ts; nothing here changes the fixture's behaviour.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { SnapshotRestorer } from "@nomicfoundation/hardhat-network-helpers/types";
import { expect } from "chai";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { marketDomain, signExtension, type DealExtension } from "../../offchain/sdk/deals/eip712.js";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import {
  defaultParameters,
  deployStorage,
  fundClient,
  makeProposal,
  PERIOD,
  publish,
  randomPiece,
  registerProvider,
  USDC,
  type MarketParameters,
  type PieceData,
  type StorageFixture,
} from "../helpers/fixture.js";

/** Deals a provider holds, by id, with the data needed to answer their challenges. */
export type Held = Map<bigint, { deal: DealTerms; piece: PieceData }>;

/** IStorageMarket.EndReason. */
export const EndReason = {
  Expired: 0n,
  ClientTerminated: 1n,
  ProviderTerminated: 2n,
  TooManyFaults: 3n,
} as const;

export const BPS = 10_000n;
/** Stake of each provider registered by `useStorageFixture`. */
export const STAKE = 10_000n * USDC;
/** The fixture's default collateral per deal. */
export const COLLATERAL = 100n * USDC;

/**
 * One network per suite: the storage suite is deployed once, both providers registered and staked and both
 * clients funded; every test then starts from that snapshot. Returns a getter for the fixture.
 */
export function useStorageFixture(): () => StorageFixture {
  let fixture: StorageFixture | undefined;
  let snapshot: SnapshotRestorer | undefined;
  before(async function () {
    fixture = await deployStorage();
    await registerProvider(fixture, fixture.provider);
    await registerProvider(fixture, fixture.provider2);
    await fundClient(fixture, fixture.client);
    await fundClient(fixture, fixture.client2);
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

/** Set every parameter to the fixture default except `overrides`. */
export async function setParams(
  f: StorageFixture,
  overrides: Partial<Record<keyof MarketParameters, bigint>>,
): Promise<void> {
  await f.market.connect(f.admin).setParameters(defaultParameters(overrides));
}

export interface DealSpec {
  size?: number;
  periods?: bigint;
  pricePerSecond?: bigint;
  collateral?: bigint;
  client?: HardhatEthersSigner;
  nonce?: bigint;
}

/** Publish one batch of deals (one per spec) from `provider`; returns the deals in order and the held pieces. */
export async function publishDeals(
  f: StorageFixture,
  specs: DealSpec[],
  provider: HardhatEthersSigner = f.provider,
): Promise<{ deals: DealTerms[]; held: Held }> {
  const signed: Awaited<ReturnType<typeof makeProposal>>[] = [];
  for (const spec of specs) {
    signed.push(
      await makeProposal(f, {
        provider,
        client: spec.client,
        piece: randomPiece(spec.size ?? 4096),
        periods: spec.periods,
        pricePerSecond: spec.pricePerSecond,
        collateral: spec.collateral,
        nonce: spec.nonce,
      }),
    );
  }
  const deals = await publish(f, signed, provider);
  if (deals.length !== specs.length) throw new Error("not every deal was published");
  const held: Held = new Map();
  deals.forEach((deal, i) => {
    const piece = signed[i]?.piece;
    if (!piece) throw new Error("piece missing");
    held.set(deal.id, { deal, piece });
  });
  return { deals, held };
}

/** Publish a single deal; returns its terms and a Held map with it. */
export async function publishDeal(
  f: StorageFixture,
  spec: DealSpec = {},
  provider: HardhatEthersSigner = f.provider,
): Promise<{ deal: DealTerms; held: Held }> {
  const { deals, held } = await publishDeals(f, [spec], provider);
  const deal = deals[0];
  if (!deal) throw new Error("deal missing");
  return { deal, held };
}

/** Opening time of `period`'s proof window. */
export async function windowOpensAt(f: StorageFixture, period: bigint): Promise<bigint> {
  const window = (await f.market.parameters()).proofWindow;
  return (await f.market.periodStart(period + 1n)) - window;
}

/** Move time to `offset` seconds into `period` (mines a block at that time). */
export async function goToPeriod(f: StorageFixture, period: bigint, offset = 0n): Promise<void> {
  await f.helpers.time.increaseTo((await f.market.periodStart(period)) + offset);
}

/** The next block (the next transaction, with automine) gets timestamp `ts`. */
export async function atNextBlock(f: StorageFixture, ts: bigint): Promise<void> {
  await f.helpers.time.setNextBlockTimestamp(ts);
}

/** The next block number. */
export async function nextBlock(f: StorageFixture): Promise<bigint> {
  return BigInt(await f.helpers.time.latestBlock()) + 1n;
}

/** Wait for a transaction and return its receipt. */
export async function mined(tx: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return receipt;
}

/** The provider's first unresolved period. */
export async function nextPeriodOf(f: StorageFixture, provider: HardhatEthersSigner): Promise<bigint> {
  return (await f.market.proofState(provider.address)).nextPeriod;
}

/** Price of the whole deal (its escrow at publication, or after its last extension). */
export function escrowOf(deal: DealTerms): bigint {
  return deal.pricePerSecond * (deal.endPeriod - deal.startPeriod) * PERIOD;
}

/** `amount * bps / 10_000`, rounded down like the contract. */
export function bpsOf(amount: bigint, bps: bigint): bigint {
  return (amount * bps) / BPS;
}

/** Every account the fixture knows. */
export function allAccounts(f: StorageFixture): HardhatEthersSigner[] {
  return [f.admin, f.treasury, f.provider, f.provider2, f.client, f.client2, f.watcher, ...f.others];
}

/** Sum of the market ledger balances of every fixture account. */
export async function ledgerTotal(f: StorageFixture): Promise<bigint> {
  let total = 0n;
  for (const account of allAccounts(f)) total += await f.market.balanceOf(account.address);
  return total;
}

/**
 * Funds conservation: the tokens the market holds (plus slashed tokens the registry owes it) equal every ledger
 * balance plus the unstreamed escrow of the live deals (escrow minus what was already credited to the provider).
 */
export async function expectFundsConserved(f: StorageFixture, liveDeals: DealTerms[]): Promise<void> {
  const market = await f.market.getAddress();
  const assets = (await f.token.balanceOf(market)) + (await f.registry.slashedOwedTo(market));
  let owed = await ledgerTotal(f);
  for (const deal of liveDeals) {
    const [termsHash, paidSeconds] = await f.market.dealState(deal.id);
    expect(termsHash, `deal ${deal.id} should be live`).to.not.equal(0n);
    owed += escrowOf(deal) - deal.pricePerSecond * paidSeconds;
  }
  expect(assets, "market assets == ledger balances + live escrow").to.equal(owed);
}

let extensionNonce = 1n << 50n;

/** A DealExtension for `deal` signed by `signer` (default: the fixture client), with fields overridden. */
export async function signedExtension(
  f: StorageFixture,
  deal: DealTerms,
  overrides: Partial<DealExtension> = {},
  signer: HardhatEthersSigner = f.client,
): Promise<{ extension: DealExtension; signature: string }> {
  const now = BigInt(await f.helpers.time.latest());
  const extension: DealExtension = {
    dealId: deal.id,
    newEndPeriod: deal.endPeriod + 2n,
    nonce: extensionNonce++,
    deadline: now + 3600n,
    ...overrides,
  };
  const signature = await signExtension(
    signer,
    marketDomain(f.chainId, await f.market.getAddress()),
    extension,
  );
  return { extension, signature };
}
