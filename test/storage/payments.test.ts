import { expect } from "chai";
import { createDataSet, proveNext, putState, topUp, USDC, UniformTree } from "../helpers/fixture.js";
import { liveDataSet, MONTH, setup, TIB_LEAVES } from "./dataSets.helpers.js";

const MIB = 1n << 20n;
const GIB = 1n << 30n;
const PERIOD = 3600n;

describe("StorageMarket: exact payments, escrow and lockup", () => {
  it("test_payments_exactInBytes: a 10 MiB and a 32 GiB data set are charged in proportion, to the leaf-second", async () => {
    const f = await setup();
    const price = 2_500n * USDC; // per TiB-month: large enough that one hour of 10 MiB is worth whole units
    const small = await liveDataSet(f, (10n * MIB) / 64n, { price, escrow: 10_000n * USDC });
    const large = await liveDataSet(f, (32n * GIB) / 64n, { price, escrow: 10_000n * USDC });
    const trees = new Map([
      [small.id, small.tree],
      [large.id, large.tree],
    ]);
    // The small one is frozen from the provider's first period, the large one (created during it) from the next.
    for (let i = 0; i < 4; i++) await (await proveNext(f, f.provider, trees)).wait();
    await (await f.market.settleDataSets([small.id, large.id])).wait();
    const a = await f.market.dataSet(small.id);
    const b = await f.market.dataSet(large.id);
    // Leaf-seconds exact, payments the floor of the exact formula.
    expect(a.leafSeconds).to.equal(small.tree.span * 4n * PERIOD);
    expect(b.leafSeconds).to.equal(large.tree.span * 3n * PERIOD);
    expect(a.paid).to.equal((price * a.leafSeconds) / (TIB_LEAVES * MONTH));
    expect(b.paid).to.equal((price * b.leafSeconds) / (TIB_LEAVES * MONTH));
    // 32 GiB / 10 MiB = 3276.8: the charges are in that proportion (to the rounding of the smaller one).
    // Scaling the large charge down by bytes and time gives the small one to within the one unit of its floor.
    const scaled = (b.paid * small.tree.span * 4n) / (large.tree.span * 3n);
    expect(scaled - a.paid).to.be.within(0n, 1n);
    // The remainder stays the client's: escrow + paid == deposited.
    expect(a.escrow + a.paid).to.equal(10_000n * USDC);
    expect(await f.market.balanceOf(f.provider.address)).to.equal(a.paid + b.paid);
  });

  it("test_settle_paysOnlyProvenPeriodsAndIsIdempotent", async () => {
    const f = await setup();
    const price = 2_500n * USDC;
    const { id, tree } = await liveDataSet(f, 1n << 24n, { price });
    await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
    const n = (await f.market.proofState(f.provider.address)).nextPeriod;
    // Two periods missed, then reported; then one proven.
    await f.helpers.time.increaseTo(await f.market.periodStart(n + 2n));
    await (await f.market.connect(f.watcher).reportMissedProofs(f.provider.address)).wait();
    await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
    await expect(f.market.connect(f.watcher).settleDataSet(id)).to.emit(f.market, "DataSetSettled");
    const ds = await f.market.dataSet(id);
    expect(ds.leafSeconds).to.equal(tree.span * 2n * PERIOD);
    expect(ds.missedFaults).to.equal(2n);
    const paid = ds.paid;
    await expect(f.market.settleDataSet(id))
      .to.emit(f.market, "DataSetSettled")
      .withArgs(id, 0n, ds.leafSeconds);
    expect((await f.market.dataSet(id)).paid).to.equal(paid);
    expect(await f.market.settleableAmount(id)).to.equal(0n);
  });

  it("test_settle_declaredPeriodsAreNotPaidButCounted", async () => {
    const f = await setup();
    const { id, tree } = await liveDataSet(f, 1n << 20n, { price: 2_500n * USDC });
    await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
    await (await f.market.connect(f.provider).declareFaults([id])).wait();
    await (await proveNext(f, f.provider, new Map())).wait();
    await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
    await (await f.market.settleDataSet(id)).wait();
    const ds = await f.market.dataSet(id);
    expect(ds.declaredFaults).to.equal(1n);
    expect(ds.leafSeconds).to.equal(tree.span * 2n * PERIOD);
  });

  it("test_settleDataSets_settlesManyAndRejectsUnknownIds", async () => {
    const f = await setup();
    const sets = [];
    for (let i = 0; i < 5; i++) sets.push(await liveDataSet(f, 1n << 20n, { price: 2_500n * USDC }));
    await (await proveNext(f, f.provider, new Map(sets.map((s) => [s.id, s.tree])))).wait();
    await (await proveNext(f, f.provider, new Map(sets.map((s) => [s.id, s.tree])))).wait();
    const ids = sets.map((s) => s.id);
    const expected = await Promise.all(ids.map((id) => f.market.settleableAmount(id)));
    await (await f.market.settleDataSets(ids)).wait();
    expect(await f.market.balanceOf(f.provider.address)).to.equal(expected.reduce((x, y) => x + y, 0n));
    await expect(f.market.settleDataSets([999n]))
      .to.be.revertedWithCustomError(f.market, "MarketUnknownDataSet")
      .withArgs(999n);
  });

  it("test_settle_isCappedByTheEscrow", async () => {
    const f = await setup();
    const { id, tree } = await liveDataSet(f, 1n << 20n, { price: 2_500n * USDC });
    const ds0 = await f.market.dataSet(id);
    for (let i = 0; i < 4; i++) await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
    await (await f.market.settleDataSet(id)).wait();
    const ds = await f.market.dataSet(id);
    expect(ds.paid + ds.escrow).to.equal(ds0.escrow);
  });

  it("test_withdrawEscrow_onlyAboveTheLockupAndOnlyByTheClient", async () => {
    const f = await setup();
    const { id, tree } = await liveDataSet(f, 1n << 30n, { escrow: 500n * USDC });
    const free = await f.market.withdrawableEscrow(id);
    const lock = await f.market.lockupFor(id, tree.span);
    expect(free).to.equal(500n * USDC - lock);
    await expect(f.market.connect(f.provider).withdrawEscrow(id, 1n)).to.be.revertedWithCustomError(
      f.market,
      "MarketNotDataSetParty",
    );
    await expect(f.market.connect(f.client).withdrawEscrow(id, free + 1n))
      .to.be.revertedWithCustomError(f.market, "MarketAboveAvailable")
      .withArgs(id, free + 1n, free);
    const before = await f.market.balanceOf(f.client.address);
    await expect(f.market.connect(f.client).withdrawEscrow(id, free))
      .to.emit(f.market, "EscrowWithdrawn")
      .withArgs(id, free);
    expect(await f.market.balanceOf(f.client.address)).to.equal(before + free);
    // Withdrawals are never blocked by a pause; top-ups are.
    await f.market.connect(f.admin).pause();
    await expect(f.market.connect(f.client).topUp(id, 1n)).to.be.revertedWithCustomError(
      f.market,
      "EnforcedPause",
    );
    await expect(f.market.connect(f.client).withdraw(before + free)).to.emit(f.market, "Withdrawn");
  });

  it("test_topUp_fromTheLedgerBalanceElseTheAllowance", async () => {
    const f = await setup();
    const id = await createDataSet(f);
    await (await f.market.connect(f.client).deposit(f.client.address, 7n * USDC)).wait();
    const tokens = await f.token.balanceOf(f.client.address);
    await expect(f.market.connect(f.client).topUp(id, 7n * USDC))
      .to.emit(f.market, "DataSetToppedUp")
      .withArgs(id, f.client.address, 7n * USDC);
    expect(await f.token.balanceOf(f.client.address)).to.equal(tokens);
    await (await f.market.connect(f.client).topUp(id, 3n * USDC)).wait();
    expect(await f.token.balanceOf(f.client.address)).to.equal(tokens - 3n * USDC);
    expect((await f.market.dataSet(id)).escrow).to.equal(10n * USDC);
    await expect(f.market.connect(f.client2).topUp(id, 1n)).to.be.revertedWithCustomError(
      f.market,
      "MarketUnfunded",
    );
  });

  it("test_rate_noPerSecondMinimum: a one-leaf data set accrues, and rounding waits until money moves", async () => {
    const f = await setup();
    const { id, tree } = await liveDataSet(f, 1n, { price: 1n });
    await (await proveNext(f, f.provider, new Map([[id, tree]]))).wait();
    await (await f.market.settleDataSet(id)).wait();
    const ds = await f.market.dataSet(id);
    expect(ds.leafSeconds).to.equal(PERIOD);
    expect(ds.paid).to.equal(0n); // 64 bytes for an hour at 1 unit per TiB-month is far below one unit
    await (await putState(f, id, UniformTree.random(2n))).wait();
    expect((await f.market.dataSet(id)).leafSeconds).to.equal(PERIOD);
  });

  it("test_topUp_escrowIsBoundedBelow2^128", async () => {
    const f = await setup();
    const id = await createDataSet(f);
    await topUp(f, id, 1n);
    await f.token.mint(f.client.address, 1n << 128n);
    await f.token.connect(f.client).approve(await f.market.getAddress(), 1n << 128n);
    await expect(f.market.connect(f.client).topUp(id, (1n << 128n) - 1n)).to.be.revertedWithCustomError(
      f.market,
      "MarketUnfunded",
    );
  });
});
