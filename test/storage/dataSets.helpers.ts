import { expect } from "chai";
import {
  createDataSet,
  deployStorage,
  fundClient,
  putState,
  registerProvider,
  topUp,
  USDC,
  UniformTree,
  type StorageFixture,
} from "../helpers/fixture.js";

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
