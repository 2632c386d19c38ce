import { expect } from "chai";
import {
  deployStorage,
  fundClient,
  proveNext,
  publishOne,
  registerProvider,
  USDC,
} from "../helpers/fixture.js";

describe("StorageMarket lifecycle", function () {
  it("publishes a deal, proves every period, streams payment and finalizes with collateral back", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const { deal, piece } = await publishOne(f, {
      periods: 3n,
      pricePerSecond: 10n,
      collateral: 100n * USDC,
    });
    const pieces = new Map([[deal.id, { deal, piece }]]);
    const stakeAfterLock = await f.registry.stakeInfo(f.provider.address);
    expect(stakeAfterLock.locked).to.equal(100n * USDC);

    for (let i = 0; i < 3; i++) await proveNext(f, f.provider, pieces);

    await f.helpers.time.increaseTo(await f.market.periodStart(deal.endPeriod));
    await f.market.connect(f.watcher).finalizeDeal(deal);
    const total = 10n * 3n * 3600n;
    expect(await f.market.balanceOf(f.provider.address)).to.equal(total);
    expect(await f.market.balanceOf(f.client.address)).to.equal(0n);
    const stake = await f.registry.stakeInfo(f.provider.address);
    expect(stake.locked).to.equal(0n);
    expect(stake.free).to.equal(10_000n * USDC);
  });
});
