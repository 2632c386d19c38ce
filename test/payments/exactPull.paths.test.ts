// Every path by which tokens enter a Strata contract goes through ExactPull: a token that delivers less than
// asked is rejected on each of them (registry stake, the three ledgers' deposits, data set escrow top-ups,
// order deposits, lease top-ups, challenge bonds), while a ledger balance still funds new business without
// any pull.
import { expect } from "chai";
import type {
  ComputeMarket,
  FeeOnTransferToken,
  ProviderRegistry,
  RetrievalChallenges,
  StorageMarket,
} from "../../typechain-types/index.js";
import { DEFAULT_MAX_RETRIEVAL_BOND, LOCAL_RETRIEVAL_PARAMETERS } from "../../deploy/lib/storageSuite.js";
import {
  defaultComputeParameters,
  defaultParameters,
  deployComputeMarket,
  deployMarket,
  deployStorage,
  CREATE_TYPES,
  makeTerms,
  PERIOD,
  signState,
  USDC,
  UniformTree,
  type StorageFixture,
} from "../helpers/fixture.js";
import { COLLATERAL, DEPOSIT, NOTICE, orderRequest, PRICE } from "../compute/helpers.js";

/** What a 1 % fee-on-transfer token delivers of `amount`. */
function delivered(amount: bigint): bigint {
  return amount - amount / 100n;
}

interface FeeSuite {
  f: StorageFixture;
  fee: FeeOnTransferToken;
  registry: ProviderRegistry;
  market: StorageMarket;
  rc: RetrievalChallenges;
  compute: ComputeMarket;
  dataSetId: bigint;
  leaseId: bigint;
}

/** The whole suite on a fee token, set up with the fee off (a live data set and a live lease), then the fee on. */
async function feeSuite(): Promise<FeeSuite> {
  const f = await deployStorage();
  const fee = await f.ethers.deployContract("FeeOnTransferToken");
  const token = await fee.getAddress();
  const registry = await f.ethers.deployContract("ProviderRegistry", [token, f.admin.address, 86_400n]);
  const market = await deployMarket(f.ethers, {
    registry: await registry.getAddress(),
    token,
    admin: f.admin.address,
    treasury: f.treasury.address,
    provingPeriod: PERIOD,
    params: defaultParameters(),
  });
  const rc = await f.ethers.deployContract("RetrievalChallenges", [
    await market.getAddress(),
    f.admin.address,
    DEFAULT_MAX_RETRIEVAL_BOND,
    LOCAL_RETRIEVAL_PARAMETERS,
  ]);
  const compute = await deployComputeMarket(f.ethers, {
    registry: await registry.getAddress(),
    token,
    admin: f.admin.address,
    treasury: f.treasury.address,
    params: defaultComputeParameters(),
  });
  await registry.grantRole(await registry.MARKET_ROLE(), await market.getAddress());
  await registry.grantRole(await registry.MARKET_ROLE(), await compute.getAddress());
  await market.grantRole(await market.RETRIEVAL_ROLE(), await rc.getAddress());

  await fee.setFeePercent(0n);
  const stake = 10_000n * USDC;
  await fee.mint(f.provider.address, stake);
  await fee.connect(f.provider).approve(await registry.getAddress(), stake);
  await registry.connect(f.provider).register(f.provider.address, "https://p", 1n, 1n);
  await registry.connect(f.provider).stake(f.provider.address, stake);
  for (const spender of [market, compute, rc]) {
    await fee.mint(f.client.address, 1_000_000n * USDC);
    await fee.connect(f.client).approve(await spender.getAddress(), 1_000_000n * USDC);
    await fee.mint(f.watcher.address, 1_000_000n * USDC);
    await fee.connect(f.watcher).approve(await spender.getAddress(), 1_000_000n * USDC);
  }
  const domain = {
    name: "Strata StorageMarket",
    version: "2",
    chainId: f.chainId,
    verifyingContract: await market.getAddress(),
  };
  const { terms } = await makeTerms(f, { collateralPerTiB: 0n });
  await market
    .connect(f.provider)
    .createDataSet(terms, await f.client.signTypedData(domain, CREATE_TYPES, terms));
  const dataSetId = await market.dataSetCount();
  await market.connect(f.client).topUp(dataSetId, 100n * USDC);
  const tree = UniformTree.random(1n << 20n);
  const state = await signState({ ...f, market }, f.client, {
    dataSetId,
    version: 1n,
    root: tree.root,
    span: tree.span,
  });
  await market.connect(f.provider).updateDataSets([state]);
  await compute.connect(f.client).createOrder(await orderRequest(f));
  const leaseId = await compute.lastOrderId();
  await compute.connect(f.provider).createBid(leaseId, PRICE, COLLATERAL, NOTICE);
  await compute.connect(f.client).acceptBid(leaseId, f.provider.address);
  await fee.setFeePercent(1n);
  return { f, fee, registry, market, rc, compute, dataSetId, leaseId };
}

describe("payments: ExactPull on every path that pulls tokens", function () {
  let s: FeeSuite;

  beforeEach(async function () {
    s = await feeSuite();
  });

  it("test_stake_rejectsAShortDelivery", async function () {
    const { f, fee, registry } = s;
    await fee.mint(f.provider.address, 1_000n * USDC);
    await fee.connect(f.provider).approve(await registry.getAddress(), 1_000n * USDC);
    await expect(registry.connect(f.provider).stake(f.provider.address, 1_000n * USDC))
      .to.be.revertedWithCustomError(registry, "PaymentTokenShortfall")
      .withArgs(1_000n * USDC, delivered(1_000n * USDC));
  });

  it("test_deposit_rejectsAShortDeliveryOnEachLedger", async function () {
    const { f, market, compute, rc } = s;
    for (const ledger of [market, compute, rc]) {
      await expect(ledger.connect(f.client).deposit(f.client.address, 5n * USDC))
        .to.be.revertedWithCustomError(ledger, "PaymentTokenShortfall")
        .withArgs(5n * USDC, delivered(5n * USDC));
      expect(await ledger.balanceOf(f.client.address)).to.equal(0n);
    }
  });

  it("test_topUpDataSet_rejectsAShortEscrowPull", async function () {
    const { f, market, dataSetId } = s;
    await expect(market.connect(f.client).topUp(dataSetId, 30n * USDC))
      .to.be.revertedWithCustomError(market, "PaymentTokenShortfall")
      .withArgs(30n * USDC, delivered(30n * USDC));
  });

  it("test_createOrder_rejectsAShortDepositPull", async function () {
    const { f, compute } = s;
    await expect(compute.connect(f.client).createOrder(await orderRequest(f)))
      .to.be.revertedWithCustomError(compute, "PaymentTokenShortfall")
      .withArgs(DEPOSIT, delivered(DEPOSIT));
  });

  it("test_topUp_rejectsAShortPull", async function () {
    const { f, compute, leaseId } = s;
    await expect(compute.connect(f.client).topUp(leaseId, 7n * USDC))
      .to.be.revertedWithCustomError(compute, "PaymentTokenShortfall")
      .withArgs(7n * USDC, delivered(7n * USDC));
  });

  it("test_openChallenge_rejectsAShortBondPull", async function () {
    const { f, rc, dataSetId } = s;
    const bond = LOCAL_RETRIEVAL_PARAMETERS.bond;
    await expect(rc.connect(f.watcher).openChallenge(dataSetId, 0n))
      .to.be.revertedWithCustomError(rc, "PaymentTokenShortfall")
      .withArgs(bond, delivered(bond));
  });

  it("test_ledgerBalance_fundsNewBusinessWithoutAPull_evenOnAFeeToken", async function () {
    const { f, fee, market, compute, dataSetId } = s;
    // Refunds credit the ledger without any token transfer; new business then draws on that balance.
    await fee.setFeePercent(0n);
    await compute.connect(f.client).createOrder(await orderRequest(f));
    const orderId = await compute.lastOrderId();
    await fee.setFeePercent(1n);
    await compute.connect(f.client).cancelOrder(orderId);
    expect(await compute.balanceOf(f.client.address)).to.equal(DEPOSIT);
    await compute.connect(f.client).createOrder(await orderRequest(f));
    expect(await compute.balanceOf(f.client.address)).to.equal(0n);

    const free = await market.withdrawableEscrow(dataSetId);
    expect(free > 0n).to.equal(true);
    await market.connect(f.client).withdrawEscrow(dataSetId, free);
    expect(await market.balanceOf(f.client.address)).to.equal(free);
    const tokens = await fee.balanceOf(f.client.address);
    await market.connect(f.client).topUp(dataSetId, free);
    expect(await market.balanceOf(f.client.address)).to.equal(0n);
    expect(await fee.balanceOf(f.client.address)).to.equal(tokens);
  });
});
