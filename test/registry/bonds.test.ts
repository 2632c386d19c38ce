// The registry's side of the bonds markets hold themselves (docs/SPEC.md §3): `bondStake` moves free stake into
// the tokens held for the calling market, `returnStake` gives it back, from those tokens first and for the rest
// pulled exactly from the market. The storage market's use of them is tested in test/storage/proofBondCustody.test.ts.
import { expect } from "chai";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { deployStorage, USDC, type StorageFixture } from "../helpers/fixture.js";

const STAKE = 1_000n * USDC;

interface BondFixture extends StorageFixture {
  /** An account holding MARKET_ROLE, standing in for a market contract. */
  marketSigner: HardhatEthersSigner;
  stranger: HardhatEthersSigner;
}

async function staked(): Promise<BondFixture> {
  const f = await deployStorage({ unbondingDelay: 86_400n });
  const [marketSigner, stranger] = f.others;
  if (!marketSigner || !stranger) throw new Error("not enough signers");
  await f.registry.grantRole(await f.registry.MARKET_ROLE(), marketSigner.address);
  await f.registry.connect(f.provider).register(f.provider.address, "https://p.example.org", 1n, 1n);
  await f.token.mint(f.provider.address, STAKE);
  await f.token.connect(f.provider).approve(await f.registry.getAddress(), STAKE);
  await f.registry.connect(f.provider).stake(f.provider.address, STAKE);
  return { ...f, marketSigner, stranger };
}

/** The registry's token balance equals the stake it holds plus what it holds for markets (docs/SPEC.md §3). */
async function expectRegistryConserves(f: BondFixture, markets: string[]) {
  const s = await f.registry.stakeInfo(f.provider.address);
  let held = 0n;
  for (const m of markets) held += await f.registry.slashedOwedTo(m);
  expect(await f.token.balanceOf(await f.registry.getAddress())).to.equal(
    s.free + s.locked + s.unbonding + held,
  );
}

describe("ProviderRegistry: bonds held by markets", () => {
  it("test_bondStake_onlyMarkets_andReturnStake_onlyMarkets", async () => {
    const f = await staked();
    const role = await f.registry.MARKET_ROLE();
    for (const who of [f.stranger, f.provider, f.admin]) {
      await expect(f.registry.connect(who).bondStake(f.provider.address, 1n))
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(who.address, role);
      await expect(f.registry.connect(who).returnStake(f.provider.address, 1n))
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(who.address, role);
    }
  });

  it("test_bondStake_movesExactlyTheAmountFromFreeStakeToTheMarketsHolding", async () => {
    const f = await staked();
    const m = f.registry.connect(f.marketSigner);
    await expect(m.bondStake(f.provider.address, 300n * USDC))
      .to.emit(f.registry, "StakeBonded")
      .withArgs(f.provider.address, f.marketSigner.address, 300n * USDC);
    const s = await f.registry.stakeInfo(f.provider.address);
    expect([s.free, s.locked, s.unbonding]).to.deep.equal([700n * USDC, 0n, 0n]);
    expect(await f.registry.slashedOwedTo(f.marketSigner.address)).to.equal(300n * USDC);
    await expectRegistryConserves(f, [f.marketSigner.address]);
    // The provider cannot unbond what the market holds.
    await expect(f.registry.connect(f.provider).requestUnbond(700n * USDC + 1n))
      .to.be.revertedWithCustomError(f.registry, "RegistryInsufficientFreeStake")
      .withArgs(f.provider.address, 700n * USDC, 700n * USDC + 1n);
  });

  it("test_bondStake_rejectsMoreThanTheFreeStakeAndAnUnregisteredProvider", async () => {
    const f = await staked();
    const m = f.registry.connect(f.marketSigner);
    await expect(m.bondStake(f.provider.address, STAKE + 1n))
      .to.be.revertedWithCustomError(f.registry, "RegistryInsufficientFreeStake")
      .withArgs(f.provider.address, STAKE, STAKE + 1n);
    await expect(m.bondStake(f.stranger.address, 0n))
      .to.be.revertedWithCustomError(f.registry, "RegistryNotRegistered")
      .withArgs(f.stranger.address);
  });

  it("test_returnStake_takesFromTheMarketsHoldingFirst_evenToADeregisteredProvider", async () => {
    const f = await staked();
    const m = f.registry.connect(f.marketSigner);
    await (await m.bondStake(f.provider.address, 300n * USDC)).wait();
    // The bond is outside `locked`: the provider may deregister; its free stake unbonds, the bond stays held.
    await (await f.registry.connect(f.provider).deregister()).wait();
    expect(await f.registry.slashedOwedTo(f.marketSigner.address)).to.equal(300n * USDC);
    // The market slashed 100 of the bond (its own accounting) and gives back the 200 left.
    await expect(m.returnStake(f.provider.address, 200n * USDC))
      .to.emit(f.registry, "StakeReturned")
      .withArgs(f.provider.address, f.marketSigner.address, 200n * USDC);
    const s = await f.registry.stakeInfo(f.provider.address);
    expect([s.free, s.unbonding]).to.deep.equal([200n * USDC, 700n * USDC]);
    expect(await f.registry.slashedOwedTo(f.marketSigner.address)).to.equal(100n * USDC);
    await expectRegistryConserves(f, [f.marketSigner.address]);
    // The slashed 100 are the market's to collect; the returned stake can leave through unbonding.
    await (await m.collectSlashed()).wait();
    expect(await f.token.balanceOf(f.marketSigner.address)).to.equal(100n * USDC);
    await (await f.registry.connect(f.provider).requestUnbond(200n * USDC)).wait();
    await expectRegistryConserves(f, [f.marketSigner.address]);
  });

  it("test_returnStake_pullsExactlyThePartTheMarketAlreadyCollected", async () => {
    const f = await staked();
    const m = f.registry.connect(f.marketSigner);
    const registry = await f.registry.getAddress();
    await (await m.bondStake(f.provider.address, 300n * USDC)).wait();
    await (await m.collectSlashed()).wait();
    expect(await f.token.balanceOf(f.marketSigner.address)).to.equal(300n * USDC);
    // Without an allowance the return cannot be paid: it reverts and nothing moves.
    await expect(m.returnStake(f.provider.address, 250n * USDC)).to.be.revertedWithCustomError(
      f.token,
      "ERC20InsufficientAllowance",
    );
    await (await f.token.connect(f.marketSigner).approve(registry, 250n * USDC)).wait();
    await expect(m.returnStake(f.provider.address, 250n * USDC))
      .to.emit(f.registry, "StakeReturned")
      .withArgs(f.provider.address, f.marketSigner.address, 250n * USDC);
    expect(await f.token.balanceOf(f.marketSigner.address)).to.equal(50n * USDC);
    expect((await f.registry.stakeInfo(f.provider.address)).free).to.equal(950n * USDC);
    expect(await f.registry.slashedOwedTo(f.marketSigner.address)).to.equal(0n);
    await expectRegistryConserves(f, [f.marketSigner.address]);
  });

  it("test_returnStake_splitsBetweenTheHoldingAndAPull", async () => {
    const f = await staked();
    const m = f.registry.connect(f.marketSigner);
    await (await m.bondStake(f.provider.address, 300n * USDC)).wait();
    await (await m.collectSlashed()).wait();
    await (await m.bondStake(f.provider.address, 100n * USDC)).wait();
    await (await f.token.connect(f.marketSigner).approve(await f.registry.getAddress(), 300n * USDC)).wait();
    // 100 held, 300 collected: a return of 350 takes the 100 and pulls 250.
    await (await m.returnStake(f.provider.address, 350n * USDC)).wait();
    expect(await f.token.balanceOf(f.marketSigner.address)).to.equal(50n * USDC);
    expect(await f.registry.slashedOwedTo(f.marketSigner.address)).to.equal(0n);
    expect((await f.registry.stakeInfo(f.provider.address)).free).to.equal(950n * USDC);
    await expectRegistryConserves(f, [f.marketSigner.address]);
  });

  it("test_marketRole_revokedKeepsWhatIsHeldButBlocksBondsAndReturns", async () => {
    const f = await staked();
    const m = f.registry.connect(f.marketSigner);
    await (await m.bondStake(f.provider.address, 300n * USDC)).wait();
    await (await f.registry.revokeRole(await f.registry.MARKET_ROLE(), f.marketSigner.address)).wait();
    expect(await f.registry.slashedOwedTo(f.marketSigner.address)).to.equal(300n * USDC);
    await expect(m.returnStake(f.provider.address, 1n)).to.be.revertedWithCustomError(
      f.registry,
      "AccessControlUnauthorizedAccount",
    );
    await (await f.registry.grantRole(await f.registry.MARKET_ROLE(), f.marketSigner.address)).wait();
    await (await m.returnStake(f.provider.address, 300n * USDC)).wait();
    expect((await f.registry.stakeInfo(f.provider.address)).free).to.equal(STAKE);
  });
});
