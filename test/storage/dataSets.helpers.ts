import { expect } from "chai";
import type { ProviderRegistry, StorageMarket } from "../../typechain-types/index.js";
import {
  CREATE_TYPES,
  createDataSet,
  defaultParameters,
  deployMarket,
  deployStorage,
  makeTerms,
  fundClient,
  putState,
  registerProvider,
  topUp,
  USDC,
  UniformTree,
  type StorageFixture,
} from "../helpers/fixture.js";

/** The ERC-20 functions a market on a hostile token needs from it (ReentrantToken, FeeOnTransferToken). */
interface MintableToken {
  getAddress(): Promise<string>;
  mint(to: string, amount: bigint): Promise<{ wait(): Promise<unknown> }>;
  connect(signer: StorageFixture["client"]): {
    approve(spender: string, amount: bigint): Promise<{ wait(): Promise<unknown> }>;
  };
}

/**
 * A registry and a market on `token` (a hostile token under test), with `f.provider` registered and staked, the
 * client funded and approving the market, and data set 1 created between them. `fx` is `f` with the new contracts.
 */
export async function marketOnToken(
  f: StorageFixture,
  token: MintableToken,
  provingPeriod: bigint,
): Promise<{ market: StorageMarket; registry: ProviderRegistry; fx: StorageFixture; marketAddress: string }> {
  const tokenAddress = await token.getAddress();
  const registry = await f.ethers.deployContract("ProviderRegistry", [
    tokenAddress,
    f.admin.address,
    86_400n,
  ]);
  const registryAddress = await registry.getAddress();
  const market = await deployMarket(f.ethers, {
    registry: registryAddress,
    token: tokenAddress,
    admin: f.admin.address,
    treasury: f.treasury.address,
    provingPeriod,
    params: defaultParameters(),
  });
  const marketAddress = await market.getAddress();
  await (await registry.grantRole(await registry.MARKET_ROLE(), marketAddress)).wait();
  await (await token.mint(f.provider.address, 10_000n * USDC)).wait();
  await (await token.connect(f.provider).approve(registryAddress, 10_000n * USDC)).wait();
  await (await registry.connect(f.provider).register(f.provider.address, "https://p", 1n, 1n)).wait();
  await (await registry.connect(f.provider).stake(f.provider.address, 10_000n * USDC)).wait();
  await (await token.mint(f.client.address, 1_000_000n * USDC)).wait();
  await (await token.connect(f.client).approve(marketAddress, 1_000_000n * USDC)).wait();
  const domain = {
    name: "Strata StorageMarket",
    version: "2",
    chainId: f.chainId,
    verifyingContract: marketAddress,
  };
  const { terms } = await makeTerms(f);
  const signature = await f.client.signTypedData(domain, CREATE_TYPES, terms);
  await (await market.connect(f.provider).createDataSet(terms, signature)).wait();
  const fx = { ...f, market, registry, token } as unknown as StorageFixture;
  return { market, registry, fx, marketAddress };
}

export const TIB_LEAVES = 1n << 34n;
export const MONTH = 2_592_000n;

/** A fresh suite with a registered, staked provider and a funded client. */
export async function setup(): Promise<StorageFixture> {
  const f = await deployStorage();
  await registerProvider(f, f.provider, 1_000_000n * USDC);
  await registerProvider(f, f.provider2, 1_000_000n * USDC);
  await fundClient(f, f.client, 1_000_000n * USDC);
  return f;
}

/** Create a data set, fund it with `escrow`, and put `span` leaves in it; returns its id and tree. */
export async function liveDataSet(
  f: StorageFixture,
  span: bigint,
  opts: { escrow?: bigint; provider?: StorageFixture["provider"]; price?: bigint; notice?: bigint } = {},
): Promise<{ id: bigint; tree: UniformTree }> {
  const provider = opts.provider ?? f.provider;
  const id = await createDataSet(f, {
    provider,
    ...(opts.price === undefined ? {} : { pricePerTiBMonth: opts.price }),
    ...(opts.notice === undefined ? {} : { noticePeriods: opts.notice }),
  });
  await topUp(f, id, opts.escrow ?? 1_000n * USDC);
  const tree = UniformTree.random(span);
  await (await putState(f, id, tree, { provider })).wait();
  return { id, tree };
}

/** Move to the start of the period after the provider's next one is proven... by time only. */
export async function toPeriod(f: StorageFixture, period: bigint) {
  const start = await f.market.periodStart(period);
  const now = BigInt(await f.helpers.time.latest());
  if (now < start) await f.helpers.time.increaseTo(start);
}

export function expectClose(actual: number, expected: number, tolerance: number, what: string) {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).to.be.at.most(tolerance);
}
