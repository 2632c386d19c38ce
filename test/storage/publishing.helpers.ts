// Helpers shared by the publishing, adversarial and governance tests (test/storage/{publish,adversarial,
// governance}.test.ts). Built on test/helpers/fixture.ts; nothing here changes the fixture's behaviour.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type {
  BaseContract,
  ContractTransactionReceipt,
  ContractTransactionResponse,
  LogDescription,
} from "ethers";
import { randomBytes } from "node:crypto";
import type { ProviderRegistry, StorageMarket } from "../../typechain-types/index.js";
import { marketDomain, signProposal } from "../../offchain/sdk/deals/eip712.js";
import { dealFromEvent, type DealProposal, type DealTerms } from "../../offchain/sdk/deals/terms.js";
import { defaultParameters, deployMarket, PERIOD, USDC, type StorageFixture } from "../helpers/fixture.js";

export interface Signed {
  proposal: DealProposal;
  signature: string;
}

/** The fixture's default proposal terms. */
export const DEFAULT_PRICE = 10n;
export const DEFAULT_COLLATERAL = 100n * USDC;
export const DEFAULT_PERIODS = 24n;
export const DEFAULT_SIZE = 4096n;

// Nonces of this file's proposals; far away from the fixture's own counter so both can be mixed in one test.
let nonceCounter = 1n << 40n;

/** A fresh nonce. */
export function nextNonce(): bigint {
  return nonceCounter++;
}

/** A random 32-byte root (publishing never looks at the data behind it). */
export function randomRoot(): string {
  return "0x" + randomBytes(32).toString("hex");
}

/** An unsigned proposal from the fixture's client to its provider with the given fields replaced. */
export async function buildProposal(
  f: StorageFixture,
  overrides: Partial<DealProposal> = {},
): Promise<DealProposal> {
  const now = BigInt(await f.helpers.time.latest());
  return {
    client: f.client.address,
    provider: f.provider.address,
    root: randomRoot(),
    size: DEFAULT_SIZE,
    duration: DEFAULT_PERIODS * PERIOD,
    pricePerSecond: DEFAULT_PRICE,
    collateral: DEFAULT_COLLATERAL,
    startDeadline: now + 3600n,
    nonce: nextNonce(),
    ...overrides,
  };
}

/**
 * A proposal signed by `signer` (default: the signer whose address is the proposal's client, looked up among
 * the fixture's accounts). `market` and `chainId` select the EIP-712 domain (default: the fixture's market).
 */
export async function signed(
  f: StorageFixture,
  overrides: Partial<DealProposal> = {},
  opts: { signer?: HardhatEthersSigner; market?: string; chainId?: bigint } = {},
): Promise<Signed> {
  const proposal = await buildProposal(f, overrides);
  const signer = opts.signer ?? signerOf(f, proposal.client);
  const domain = marketDomain(opts.chainId ?? f.chainId, opts.market ?? (await f.market.getAddress()));
  return { proposal, signature: await signProposal(signer, domain, proposal) };
}

/** The fixture signer with `address`. */
export function signerOf(f: StorageFixture, address: string): HardhatEthersSigner {
  const all = [f.admin, f.treasury, f.provider, f.provider2, f.client, f.client2, f.watcher, ...f.others];
  const found = all.find((s) => s.address.toLowerCase() === address.toLowerCase());
  if (!found) throw new Error(`no fixture signer for ${address}`);
  return found;
}

/** Escrow a proposal takes from its client. */
export function escrowOf(p: Pick<DealProposal, "pricePerSecond" | "duration">): bigint {
  return p.pricePerSecond * p.duration;
}

/** Wait for a transaction and return its receipt. */
export async function mined(tx: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return receipt;
}

/** The events named `name` that `contract` emitted in `receipt`. */
export async function eventsIn(
  receipt: ContractTransactionReceipt,
  contract: BaseContract,
  name: string,
): Promise<LogDescription[]> {
  const address = (await contract.getAddress()).toLowerCase();
  const out: LogDescription[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = contract.interface.parseLog(log);
    if (parsed?.name === name) out.push(parsed);
  }
  return out;
}

/** The arguments of a parsed event, in order. */
export function argsOf(event: LogDescription): unknown[] {
  return event.args.toArray() as unknown[];
}

/** Publish `batch` as `provider` and return the receipt and the published deals' terms. */
export async function publishBatch(
  f: StorageFixture,
  batch: Signed[],
  provider: HardhatEthersSigner = f.provider,
  market: StorageMarket = f.market,
): Promise<{ receipt: ContractTransactionReceipt; deals: DealTerms[] }> {
  const receipt = await mined(market.connect(provider).publishDeals(batch));
  const deals = (await eventsIn(receipt, market, "DealPublished")).map((e) => dealFromEvent(e));
  return { receipt, deals };
}

/** Deploy a second registry and market on `token` (same admin/treasury/parameters as the fixture). */
export async function deployOnToken(
  f: StorageFixture,
  token: string,
): Promise<{ registry: ProviderRegistry; market: StorageMarket }> {
  const registry = await f.ethers.deployContract("ProviderRegistry", [token, f.admin.address, 86_400n]);
  const market = await deployMarket(f.ethers, {
    registry: await registry.getAddress(),
    token,
    admin: f.admin.address,
    treasury: f.treasury.address,
    provingPeriod: PERIOD,
    params: defaultParameters(),
  });
  await registry.grantRole(await registry.MARKET_ROLE(), await market.getAddress());
  // Publishing needs a registered provider even when the deals lock no collateral.
  await registry.connect(f.provider).register(f.provider.address, "https://p", 1n, 1n);
  return { registry, market };
}

/** Deploy another market on the fixture's registry and token (it gets the registry's MARKET_ROLE). */
export async function deploySecondMarket(f: StorageFixture): Promise<StorageMarket> {
  const market = await deployMarket(f.ethers, {
    registry: await f.registry.getAddress(),
    token: await f.token.getAddress(),
    admin: f.admin.address,
    treasury: f.treasury.address,
    provingPeriod: PERIOD,
    params: defaultParameters(),
  });
  await f.registry.grantRole(await f.registry.MARKET_ROLE(), await market.getAddress());
  return market;
}

/** Move time to `offset` seconds into `period` (the next block gets that timestamp). */
export async function goToPeriod(f: StorageFixture, period: bigint, offset = 0n): Promise<void> {
  const target = (await f.market.periodStart(period)) + offset;
  await f.helpers.time.increaseTo(target);
}

/** Next block's timestamp will be `ts` (for exact time-dependent assertions). */
export async function atNextBlock(f: StorageFixture, ts: bigint): Promise<void> {
  await f.helpers.time.setNextBlockTimestamp(ts);
}
