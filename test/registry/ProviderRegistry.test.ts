import { expect } from "chai";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { ContractTransactionResponse } from "ethers";
import { deployStorage, USDC, type StorageFixture } from "../helpers/fixture.js";
import type { ProviderRegistry } from "../../typechain-types/index.js";

const DELAY = 86_400n;
const STAKE = 1_000n * USDC;
const ENDPOINT = "https://sp.example.org";
const CAPACITY = 1n << 40n;
const PRICE = 2n * USDC;
const MAX_UINT128 = (1n << 128n) - 1n;

interface RegistryFixture extends StorageFixture {
  /** An account holding MARKET_ROLE, standing in for a market contract. */
  marketSigner: HardhatEthersSigner;
  /** The provider's payout address (distinct from the provider). */
  payee: HardhatEthersSigner;
  stranger: HardhatEthersSigner;
}

async function setup(): Promise<RegistryFixture> {
  const f = await deployStorage({ unbondingDelay: DELAY });
  const [marketSigner, payee, stranger] = f.others;
  if (!marketSigner || !payee || !stranger) throw new Error("not enough signers");
  await f.registry.grantRole(await f.registry.MARKET_ROLE(), marketSigner.address);
  return { ...f, marketSigner, payee, stranger };
}

async function register(f: RegistryFixture, who: HardhatEthersSigner = f.provider) {
  await f.registry.connect(who).register(f.payee.address, ENDPOINT, CAPACITY, PRICE);
}

async function fundAndStake(f: RegistryFixture, who: HardhatEthersSigner = f.provider, amount = STAKE) {
  await f.token.mint(who.address, amount);
  await f.token.connect(who).approve(await f.registry.getAddress(), amount);
  await f.registry.connect(who).stake(who.address, amount);
}

/** Register the provider and stake STAKE. */
async function staked(): Promise<RegistryFixture> {
  const f = await setup();
  await register(f);
  await fundAndStake(f);
  return f;
}

async function blockTime(f: StorageFixture, tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  const block = await f.ethers.provider.getBlock(receipt.blockNumber);
  if (!block) throw new Error("no block");
  return BigInt(block.timestamp);
}

async function stakeOf(registry: ProviderRegistry, who: string) {
  const s = await registry.stakeInfo(who);
  return { free: s.free, locked: s.locked, unbonding: s.unbonding, releaseAt: s.unbondingReleaseAt };
}

describe("ProviderRegistry", function () {
  describe("deployment", function () {
    it("records the token, the delay and gives the admin the admin, parameter and pauser roles", async function () {
      const f = await setup();
      const r = f.registry;
      expect(await r.token()).to.equal(await f.token.getAddress());
      expect(await r.unbondingDelay()).to.equal(DELAY);
      expect(await r.hasRole(await r.DEFAULT_ADMIN_ROLE(), f.admin.address)).to.be.true;
      expect(await r.hasRole(await r.PARAMETER_ROLE(), f.admin.address)).to.be.true;
      expect(await r.hasRole(await r.PAUSER_ROLE(), f.admin.address)).to.be.true;
      expect(await r.hasRole(await r.MARKET_ROLE(), f.admin.address)).to.be.false;
      expect(await r.hasRole(await r.MARKET_ROLE(), await f.market.getAddress())).to.be.true;
      expect(await r.providerCount()).to.equal(0n);
    });

    it("rejects an initial unbonding delay outside [60 s, 90 days] and accepts both bounds", async function () {
      const f = await setup();
      const factory = await f.ethers.getContractFactory("ProviderRegistry");
      const token = await f.token.getAddress();
      await expect(factory.deploy(token, f.admin.address, 59n))
        .to.be.revertedWithCustomError(f.registry, "RegistryParameterOutOfBounds")
        .withArgs(59n, 60n, 90n * 86_400n);
      await expect(factory.deploy(token, f.admin.address, 90n * 86_400n + 1n))
        .to.be.revertedWithCustomError(f.registry, "RegistryParameterOutOfBounds")
        .withArgs(90n * 86_400n + 1n, 60n, 90n * 86_400n);
      const low = await factory.deploy(token, f.admin.address, 60n);
      expect(await low.unbondingDelay()).to.equal(60n);
      const high = await factory.deploy(token, f.admin.address, 90n * 86_400n);
      expect(await high.unbondingDelay()).to.equal(90n * 86_400n);
      await expect(high.deploymentTransaction())
        .to.emit(high, "UnbondingDelaySet")
        .withArgs(90n * 86_400n);
    });
  });

  describe("register", function () {
    it("stores the profile, emits ProviderRegistered and enumerates the provider", async function () {
      const f = await setup();
      await expect(f.registry.connect(f.provider).register(f.payee.address, ENDPOINT, CAPACITY, PRICE))
        .to.emit(f.registry, "ProviderRegistered")
        .withArgs(f.provider.address, f.payee.address, ENDPOINT, CAPACITY, PRICE);
      const info = await f.registry.providerInfo(f.provider.address);
      expect(info.payee).to.equal(f.payee.address);
      expect(info.registered).to.be.true;
      expect(info.capacityBytes).to.equal(CAPACITY);
      expect(info.pricePerTiBMonth).to.equal(PRICE);
      expect(info.endpoint).to.equal(ENDPOINT);
      expect(await f.registry.isRegistered(f.provider.address)).to.be.true;
      expect(await f.registry.payeeOf(f.provider.address)).to.equal(f.payee.address);
      expect(await f.registry.providerCount()).to.equal(1n);
      expect(await f.registry.providerAt(0n)).to.equal(f.provider.address);
      const s = await stakeOf(f.registry, f.provider.address);
      expect(s).to.deep.equal({ free: 0n, locked: 0n, unbonding: 0n, releaseAt: 0n });
    });

    it("lists providers in registration order and reverts providerAt past the end", async function () {
      const f = await setup();
      await register(f, f.provider2);
      await register(f, f.provider);
      expect(await f.registry.providerCount()).to.equal(2n);
      expect(await f.registry.providerAt(0n)).to.equal(f.provider2.address);
      expect(await f.registry.providerAt(1n)).to.equal(f.provider.address);
      await expect(f.registry.providerAt(2n)).to.be.revertedWithPanic(0x32);
    });

    it("rejects registering twice", async function () {
      const f = await setup();
      await register(f);
      await expect(f.registry.connect(f.provider).register(f.payee.address, ENDPOINT, CAPACITY, PRICE))
        .to.be.revertedWithCustomError(f.registry, "RegistryAlreadyRegistered")
        .withArgs(f.provider.address);
    });

    it("rejects a zero payee", async function () {
      const f = await setup();
      await expect(
        f.registry.connect(f.provider).register(f.ethers.ZeroAddress, ENDPOINT, CAPACITY, PRICE),
      ).to.be.revertedWithCustomError(f.registry, "RegistryZeroPayee");
    });

    it("rejects an empty endpoint and one longer than 256 bytes, and accepts exactly 256 bytes", async function () {
      const f = await setup();
      const r = f.registry.connect(f.provider);
      await expect(r.register(f.payee.address, "", CAPACITY, PRICE))
        .to.be.revertedWithCustomError(f.registry, "RegistryBadEndpoint")
        .withArgs(0n, 256n);
      await expect(r.register(f.payee.address, "x".repeat(257), CAPACITY, PRICE))
        .to.be.revertedWithCustomError(f.registry, "RegistryBadEndpoint")
        .withArgs(257n, 256n);
      // Length is counted in bytes: 128 two-byte characters are 256 bytes, 129 are 258.
      await expect(r.register(f.payee.address, "é".repeat(129), CAPACITY, PRICE))
        .to.be.revertedWithCustomError(f.registry, "RegistryBadEndpoint")
        .withArgs(258n, 256n);
      await r.register(f.payee.address, "é".repeat(128), CAPACITY, PRICE);
      expect((await f.registry.providerInfo(f.provider.address)).endpoint).to.equal("é".repeat(128));
    });

    it("is blocked while paused and works again after unpause", async function () {
      const f = await setup();
      await f.registry.pause();
      await expect(
        f.registry.connect(f.provider).register(f.payee.address, ENDPOINT, CAPACITY, PRICE),
      ).to.be.revertedWithCustomError(f.registry, "EnforcedPause");
      await f.registry.unpause();
      await register(f);
      expect(await f.registry.isRegistered(f.provider.address)).to.be.true;
    });
  });

  describe("updateProvider", function () {
    it("replaces the profile and emits ProviderUpdated, leaving stake and enumeration alone", async function () {
      const f = await staked();
      await expect(f.registry.connect(f.provider).updateProvider(f.stranger.address, "https://b", 7n, 9n))
        .to.emit(f.registry, "ProviderUpdated")
        .withArgs(f.provider.address, f.stranger.address, "https://b", 7n, 9n);
      const info = await f.registry.providerInfo(f.provider.address);
      expect([
        info.payee,
        info.registered,
        info.capacityBytes,
        info.pricePerTiBMonth,
        info.endpoint,
      ]).to.deep.equal([f.stranger.address, true, 7n, 9n, "https://b"]);
      expect(await f.registry.payeeOf(f.provider.address)).to.equal(f.stranger.address);
      expect((await f.registry.stakeInfo(f.provider.address)).free).to.equal(STAKE);
      expect(await f.registry.providerCount()).to.equal(1n);
    });

    it("rejects an unregistered caller, a zero payee and a bad endpoint", async function () {
      const f = await setup();
      await expect(f.registry.connect(f.provider).updateProvider(f.payee.address, ENDPOINT, 1n, 1n))
        .to.be.revertedWithCustomError(f.registry, "RegistryNotRegistered")
        .withArgs(f.provider.address);
      await register(f);
      await expect(
        f.registry.connect(f.provider).updateProvider(f.ethers.ZeroAddress, ENDPOINT, 1n, 1n),
      ).to.be.revertedWithCustomError(f.registry, "RegistryZeroPayee");
      await expect(f.registry.connect(f.provider).updateProvider(f.payee.address, "", 1n, 1n))
        .to.be.revertedWithCustomError(f.registry, "RegistryBadEndpoint")
        .withArgs(0n, 256n);
    });

    it("works while paused", async function () {
      const f = await staked();
      await f.registry.pause();
      await expect(
        f.registry.connect(f.provider).updateProvider(f.payee.address, "https://p", 1n, 1n),
      ).to.emit(f.registry, "ProviderUpdated");
    });
  });

  describe("stake", function () {
    it("pulls exactly the amount from the caller, credits the provider's free stake and emits StakeAdded", async function () {
      const f = await staked();
      const payer = f.stranger;
      await f.token.mint(payer.address, 250n);
      await f.token.connect(payer).approve(await f.registry.getAddress(), 250n);
      const tx = f.registry.connect(payer).stake(f.provider.address, 250n);
      await expect(tx).to.emit(f.registry, "StakeAdded").withArgs(f.provider.address, payer.address, 250n);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [payer, f.registry], [-250n, 250n]);
      expect((await f.registry.stakeInfo(f.provider.address)).free).to.equal(STAKE + 250n);
      expect((await f.registry.stakeInfo(payer.address)).free).to.equal(0n);
    });

    it("rejects an unregistered provider, a zero amount and an amount above 2^128 - 1", async function () {
      const f = await staked();
      await expect(f.registry.connect(f.provider).stake(f.stranger.address, 1n))
        .to.be.revertedWithCustomError(f.registry, "RegistryNotRegistered")
        .withArgs(f.stranger.address);
      await expect(
        f.registry.connect(f.provider).stake(f.provider.address, 0n),
      ).to.be.revertedWithCustomError(f.registry, "RegistryZeroAmount");
      await expect(f.registry.connect(f.provider).stake(f.provider.address, MAX_UINT128 + 1n))
        .to.be.revertedWithCustomError(f.registry, "RegistryAmountTooLarge")
        .withArgs(MAX_UINT128 + 1n);
    });

    it("reverts when the caller has not approved the registry", async function () {
      const f = await staked();
      await f.token.mint(f.stranger.address, 10n);
      await expect(
        f.registry.connect(f.stranger).stake(f.provider.address, 10n),
      ).to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance");
    });

    it("rejects a fee-on-transfer token that delivers less than asked (PaymentTokenShortfall)", async function () {
      const f = await setup();
      const fee = await f.ethers.deployContract("FeeOnTransferToken");
      const registry = await f.ethers.deployContract("ProviderRegistry", [
        await fee.getAddress(),
        f.admin.address,
        DELAY,
      ]);
      await registry.connect(f.provider).register(f.payee.address, ENDPOINT, CAPACITY, PRICE);
      await fee.mint(f.provider.address, 1_000n);
      await fee.connect(f.provider).approve(await registry.getAddress(), 1_000n);
      await expect(registry.connect(f.provider).stake(f.provider.address, 1_000n))
        .to.be.revertedWithCustomError(registry, "PaymentTokenShortfall")
        .withArgs(1_000n, 990n);
      expect((await registry.stakeInfo(f.provider.address)).free).to.equal(0n);
    });
  });

  describe("requestUnbond / cancelUnbond", function () {
    it("moves free stake to unbonding with releaseAt = now + delay", async function () {
      const f = await staked();
      const ts = BigInt(await f.helpers.time.latest()) + 10n;
      await f.helpers.time.setNextBlockTimestamp(ts);
      const tx = f.registry.connect(f.provider).requestUnbond(300n);
      await expect(tx)
        .to.emit(f.registry, "UnbondingStarted")
        .withArgs(f.provider.address, 300n, ts + DELAY);
      expect(await stakeOf(f.registry, f.provider.address)).to.deep.equal({
        free: STAKE - 300n,
        locked: 0n,
        unbonding: 300n,
        releaseAt: ts + DELAY,
      });
    });

    it("restarts the delay for the whole unbonding balance on every request", async function () {
      const f = await staked();
      const t1 = await blockTime(f, f.registry.connect(f.provider).requestUnbond(100n));
      await f.helpers.time.increaseTo(t1 + DELAY - 100n);
      const t2 = await blockTime(f, f.registry.connect(f.provider).requestUnbond(50n));
      const s = await stakeOf(f.registry, f.provider.address);
      expect(s.unbonding).to.equal(150n);
      expect(s.releaseAt).to.equal(t2 + DELAY);
      // The first request's release time has passed, but the balance now waits for the second one.
      await f.helpers.time.setNextBlockTimestamp(t1 + DELAY + 1n);
      await expect(f.registry.connect(f.provider).withdrawUnbonded())
        .to.be.revertedWithCustomError(f.registry, "RegistryStillUnbonding")
        .withArgs(t2 + DELAY, t1 + DELAY + 1n);
    });

    it("rejects a zero amount and more than the free stake", async function () {
      const f = await staked();
      await expect(f.registry.connect(f.provider).requestUnbond(0n)).to.be.revertedWithCustomError(
        f.registry,
        "RegistryZeroAmount",
      );
      await f.registry.connect(f.marketSigner).lockCollateral(f.provider.address, 400n);
      await expect(f.registry.connect(f.provider).requestUnbond(STAKE - 399n))
        .to.be.revertedWithCustomError(f.registry, "RegistryInsufficientFreeStake")
        .withArgs(f.provider.address, STAKE - 400n, STAKE - 399n);
      await expect(f.registry.connect(f.stranger).requestUnbond(1n))
        .to.be.revertedWithCustomError(f.registry, "RegistryInsufficientFreeStake")
        .withArgs(f.stranger.address, 0n, 1n);
    });

    it("cancelUnbond returns unbonding stake to free and keeps the release time", async function () {
      const f = await staked();
      const t = await blockTime(f, f.registry.connect(f.provider).requestUnbond(500n));
      await expect(f.registry.connect(f.provider).cancelUnbond(200n))
        .to.emit(f.registry, "UnbondingCancelled")
        .withArgs(f.provider.address, 200n);
      expect(await stakeOf(f.registry, f.provider.address)).to.deep.equal({
        free: STAKE - 300n,
        locked: 0n,
        unbonding: 300n,
        releaseAt: t + DELAY,
      });
    });

    it("cancelUnbond rejects a zero amount, more than the unbonding balance and a deregistered caller", async function () {
      const f = await staked();
      await f.registry.connect(f.provider).requestUnbond(500n);
      await expect(f.registry.connect(f.provider).cancelUnbond(0n)).to.be.revertedWithCustomError(
        f.registry,
        "RegistryZeroAmount",
      );
      await expect(f.registry.connect(f.provider).cancelUnbond(501n))
        .to.be.revertedWithCustomError(f.registry, "RegistryInsufficientUnbonding")
        .withArgs(f.provider.address, 500n, 501n);
      await f.registry.connect(f.provider).deregister();
      await expect(f.registry.connect(f.provider).cancelUnbond(1n))
        .to.be.revertedWithCustomError(f.registry, "RegistryNotRegistered")
        .withArgs(f.provider.address);
    });
  });

  describe("withdrawUnbonded", function () {
    it("rejects a withdrawal before the release time and pays the payee exactly at it", async function () {
      const f = await staked();
      const t = await blockTime(f, f.registry.connect(f.provider).requestUnbond(400n));
      await f.helpers.time.setNextBlockTimestamp(t + DELAY - 1n);
      await expect(f.registry.connect(f.provider).withdrawUnbonded())
        .to.be.revertedWithCustomError(f.registry, "RegistryStillUnbonding")
        .withArgs(t + DELAY, t + DELAY - 1n);
      await f.helpers.time.setNextBlockTimestamp(t + DELAY);
      const tx = f.registry.connect(f.provider).withdrawUnbonded();
      await expect(tx)
        .to.emit(f.registry, "StakeWithdrawn")
        .withArgs(f.provider.address, f.payee.address, 400n);
      await expect(tx).to.changeTokenBalances(
        f.ethers,
        f.token,
        [f.payee, f.provider, f.registry],
        [400n, 0n, -400n],
      );
      const s = await stakeOf(f.registry, f.provider.address);
      expect([s.free, s.unbonding]).to.deep.equal([STAKE - 400n, 0n]);
    });

    it("rejects a withdrawal with nothing unbonding, including a second withdrawal", async function () {
      const f = await staked();
      await expect(f.registry.connect(f.provider).withdrawUnbonded()).to.be.revertedWithCustomError(
        f.registry,
        "RegistryZeroAmount",
      );
      await f.registry.connect(f.provider).requestUnbond(1n);
      await f.helpers.time.increase(DELAY);
      await f.registry.connect(f.provider).withdrawUnbonded();
      await expect(f.registry.connect(f.provider).withdrawUnbonded()).to.be.revertedWithCustomError(
        f.registry,
        "RegistryZeroAmount",
      );
    });

    it("pays the payee that is current at withdrawal time", async function () {
      const f = await staked();
      await f.registry.connect(f.provider).requestUnbond(100n);
      await f.registry.connect(f.provider).updateProvider(f.stranger.address, ENDPOINT, CAPACITY, PRICE);
      await f.helpers.time.increase(DELAY);
      expect(await f.registry.connect(f.provider).withdrawUnbonded.staticCall()).to.equal(100n);
      await expect(f.registry.connect(f.provider).withdrawUnbonded()).to.changeTokenBalances(
        f.ethers,
        f.token,
        [f.stranger, f.payee],
        [100n, 0n],
      );
    });
  });

  describe("deregister and re-register", function () {
    it("deregisters, unbonds all free stake and keeps the payee for the withdrawal", async function () {
      const f = await staked();
      const ts = BigInt(await f.helpers.time.latest()) + 5n;
      await f.helpers.time.setNextBlockTimestamp(ts);
      const tx = f.registry.connect(f.provider).deregister();
      await expect(tx).to.emit(f.registry, "ProviderDeregistered").withArgs(f.provider.address);
      await expect(tx)
        .to.emit(f.registry, "UnbondingStarted")
        .withArgs(f.provider.address, STAKE, ts + DELAY);
      expect(await f.registry.isRegistered(f.provider.address)).to.be.false;
      expect(await f.registry.payeeOf(f.provider.address)).to.equal(f.payee.address);
      expect(await stakeOf(f.registry, f.provider.address)).to.deep.equal({
        free: 0n,
        locked: 0n,
        unbonding: STAKE,
        releaseAt: ts + DELAY,
      });
      // No new stake for a deregistered provider, but its unbonding stake still leaves to its payee.
      await expect(f.registry.connect(f.provider).stake(f.provider.address, 1n))
        .to.be.revertedWithCustomError(f.registry, "RegistryNotRegistered")
        .withArgs(f.provider.address);
      await f.helpers.time.increaseTo(ts + DELAY);
      await expect(f.registry.connect(f.provider).withdrawUnbonded()).to.changeTokenBalance(
        f.ethers,
        f.token,
        f.payee,
        STAKE,
      );
    });

    it("deregisters without an UnbondingStarted event when there is no free stake", async function () {
      const f = await setup();
      await register(f);
      const tx = f.registry.connect(f.provider).deregister();
      await expect(tx).to.emit(f.registry, "ProviderDeregistered").withArgs(f.provider.address);
      await expect(tx).not.to.emit(f.registry, "UnbondingStarted");
    });

    it("rejects deregistering an unregistered account, twice, or with collateral locked", async function () {
      const f = await staked();
      await expect(f.registry.connect(f.stranger).deregister())
        .to.be.revertedWithCustomError(f.registry, "RegistryNotRegistered")
        .withArgs(f.stranger.address);
      await f.registry.connect(f.marketSigner).lockCollateral(f.provider.address, 7n);
      await expect(f.registry.connect(f.provider).deregister())
        .to.be.revertedWithCustomError(f.registry, "RegistryCollateralLocked")
        .withArgs(f.provider.address, 7n);
      await f.registry.connect(f.marketSigner).unlockCollateral(f.provider.address, 7n);
      await f.registry.connect(f.provider).deregister();
      await expect(f.registry.connect(f.provider).deregister())
        .to.be.revertedWithCustomError(f.registry, "RegistryNotRegistered")
        .withArgs(f.provider.address);
    });

    it("re-registers after deregistering without a second enumeration entry and can cancel the unbonding", async function () {
      const f = await staked();
      await register(f, f.provider2);
      await f.registry.connect(f.provider).deregister();
      await expect(f.registry.connect(f.provider).register(f.stranger.address, "https://again", 5n, 6n))
        .to.emit(f.registry, "ProviderRegistered")
        .withArgs(f.provider.address, f.stranger.address, "https://again", 5n, 6n);
      expect(await f.registry.providerCount()).to.equal(2n);
      expect(await f.registry.providerAt(0n)).to.equal(f.provider.address);
      expect(await f.registry.providerAt(1n)).to.equal(f.provider2.address);
      expect(await f.registry.payeeOf(f.provider.address)).to.equal(f.stranger.address);
      await f.registry.connect(f.provider).cancelUnbond(STAKE);
      const s = await stakeOf(f.registry, f.provider.address);
      expect([s.free, s.unbonding]).to.deep.equal([STAKE, 0n]);
      await f.registry.connect(f.marketSigner).lockCollateral(f.provider.address, STAKE);
      expect((await f.registry.stakeInfo(f.provider.address)).locked).to.equal(STAKE);
    });
  });

  describe("market functions", function () {
    it("only MARKET_ROLE may lock, unlock, slash and collect", async function () {
      const f = await staked();
      const role = await f.registry.MARKET_ROLE();
      const r = f.registry.connect(f.stranger);
      await expect(r.lockCollateral(f.provider.address, 1n))
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, role);
      await expect(r.unlockCollateral(f.provider.address, 0n))
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, role);
      await expect(r.slash(f.provider.address, 0n, 1n))
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, role);
      await expect(r.collectSlashed())
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, role);
      // Not even the provider itself or the admin.
      await expect(f.registry.connect(f.provider).lockCollateral(f.provider.address, 1n))
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(f.provider.address, role);
      await expect(f.registry.connect(f.admin).slash(f.provider.address, 0n, 1n))
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(f.admin.address, role);
    });

    it("only the admin can grant MARKET_ROLE", async function () {
      const f = await setup();
      const role = await f.registry.MARKET_ROLE();
      await expect(f.registry.connect(f.stranger).grantRole(role, f.stranger.address))
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, await f.registry.DEFAULT_ADMIN_ROLE());
    });

    it("lockCollateral moves free to locked and emits CollateralLocked", async function () {
      const f = await staked();
      await expect(f.registry.connect(f.marketSigner).lockCollateral(f.provider.address, 600n))
        .to.emit(f.registry, "CollateralLocked")
        .withArgs(f.provider.address, f.marketSigner.address, 600n);
      const s = await stakeOf(f.registry, f.provider.address);
      expect([s.free, s.locked]).to.deep.equal([STAKE - 600n, 600n]);
    });

    it("lockCollateral rejects an unregistered provider and more than the free stake", async function () {
      const f = await staked();
      await expect(f.registry.connect(f.marketSigner).lockCollateral(f.stranger.address, 0n))
        .to.be.revertedWithCustomError(f.registry, "RegistryNotRegistered")
        .withArgs(f.stranger.address);
      await f.registry.connect(f.provider).requestUnbond(100n);
      // Unbonding stake cannot be locked.
      await expect(f.registry.connect(f.marketSigner).lockCollateral(f.provider.address, STAKE))
        .to.be.revertedWithCustomError(f.registry, "RegistryInsufficientFreeStake")
        .withArgs(f.provider.address, STAKE - 100n, STAKE);
    });

    it("unlockCollateral moves locked to free and rejects more than the locked amount", async function () {
      const f = await staked();
      await f.registry.connect(f.marketSigner).lockCollateral(f.provider.address, 600n);
      await expect(f.registry.connect(f.marketSigner).unlockCollateral(f.provider.address, 601n))
        .to.be.revertedWithCustomError(f.registry, "RegistryInsufficientLocked")
        .withArgs(f.provider.address, 600n, 601n);
      await expect(f.registry.connect(f.marketSigner).unlockCollateral(f.provider.address, 250n))
        .to.emit(f.registry, "CollateralUnlocked")
        .withArgs(f.provider.address, f.marketSigner.address, 250n);
      const s = await stakeOf(f.registry, f.provider.address);
      expect([s.free, s.locked]).to.deep.equal([STAKE - 350n, 350n]);
    });

    it("slash takes the exact locked amount, then free stake first and unbonding second, owing it to the market", async function () {
      const f = await staked();
      // free STAKE - 700, locked 500, unbonding 200
      await f.registry.connect(f.marketSigner).lockCollateral(f.provider.address, 500n);
      await f.registry.connect(f.provider).requestUnbond(200n);
      const t = (await stakeOf(f.registry, f.provider.address)).releaseAt;
      const free = STAKE - 700n;
      const r = f.registry.connect(f.marketSigner);
      expect(await r.slash.staticCall(f.provider.address, 120n, free + 50n)).to.equal(free + 50n);
      const tx = r.slash(f.provider.address, 120n, free + 50n);
      await expect(tx)
        .to.emit(f.registry, "StakeSlashed")
        .withArgs(f.provider.address, f.marketSigner.address, 120n, free + 50n);
      // The tokens stay in the registry, owed to the slashing market until it collects them.
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [f.marketSigner, f.registry], [0n, 0n]);
      expect(await f.registry.slashedOwedTo(f.marketSigner.address)).to.equal(120n + free + 50n);
      expect(await stakeOf(f.registry, f.provider.address)).to.deep.equal({
        free: 0n,
        locked: 380n,
        unbonding: 150n,
        releaseAt: t,
      });
    });

    it("slash takes only what free and unbonding stake hold when asked for more", async function () {
      const f = await staked();
      await f.registry.connect(f.marketSigner).lockCollateral(f.provider.address, 100n);
      await f.registry.connect(f.provider).requestUnbond(50n);
      const unlocked = STAKE - 100n;
      const r = f.registry.connect(f.marketSigner);
      expect(await r.slash.staticCall(f.provider.address, 0n, STAKE * 10n)).to.equal(unlocked);
      await expect(r.slash(f.provider.address, 0n, STAKE * 10n))
        .to.emit(f.registry, "StakeSlashed")
        .withArgs(f.provider.address, f.marketSigner.address, 0n, unlocked);
      const s = await stakeOf(f.registry, f.provider.address);
      expect([s.free, s.locked, s.unbonding]).to.deep.equal([0n, 100n, 0n]);
      expect(await f.registry.slashedOwedTo(f.marketSigner.address)).to.equal(unlocked);
    });

    it("slash of unbonding stake only when free stake is empty; a zero slash owes nothing", async function () {
      const f = await staked();
      await f.registry.connect(f.provider).requestUnbond(STAKE);
      const r = f.registry.connect(f.marketSigner);
      await expect(r.slash(f.provider.address, 0n, 0n))
        .to.emit(f.registry, "StakeSlashed")
        .withArgs(f.provider.address, f.marketSigner.address, 0n, 0n);
      expect(await f.registry.slashedOwedTo(f.marketSigner.address)).to.equal(0n);
      await expect(r.slash(f.provider.address, 0n, 30n))
        .to.emit(f.registry, "StakeSlashed")
        .withArgs(f.provider.address, f.marketSigner.address, 0n, 30n);
      expect((await f.registry.stakeInfo(f.provider.address)).unbonding).to.equal(STAKE - 30n);
      expect(await f.registry.slashedOwedTo(f.marketSigner.address)).to.equal(30n);
    });

    it("collectSlashed pays each market exactly what its slashes took, once", async function () {
      const f = await staked();
      const otherMarket = f.stranger;
      await f.registry.grantRole(await f.registry.MARKET_ROLE(), otherMarket.address);
      await f.registry.connect(f.marketSigner).lockCollateral(f.provider.address, 300n);
      await f.registry.connect(f.marketSigner).slash(f.provider.address, 100n, 0n);
      await f.registry.connect(f.marketSigner).slash(f.provider.address, 50n, 7n);
      await f.registry.connect(otherMarket).slash(f.provider.address, 0n, 5n);
      expect(await f.registry.slashedOwedTo(f.marketSigner.address)).to.equal(157n);
      expect(await f.registry.slashedOwedTo(otherMarket.address)).to.equal(5n);
      // Registry balance = free + locked + unbonding + slashed owed to markets.
      const held = async () => {
        const st = await f.registry.stakeInfo(f.provider.address);
        const owed =
          (await f.registry.slashedOwedTo(f.marketSigner.address)) +
          (await f.registry.slashedOwedTo(otherMarket.address));
        return st.free + st.locked + st.unbonding + owed;
      };
      expect(await f.token.balanceOf(await f.registry.getAddress()))
        .to.equal(STAKE)
        .and.to.equal(await held());
      expect(await f.registry.connect(f.marketSigner).collectSlashed.staticCall()).to.equal(157n);
      const tx = f.registry.connect(f.marketSigner).collectSlashed();
      await expect(tx).to.emit(f.registry, "SlashedCollected").withArgs(f.marketSigner.address, 157n);
      await expect(tx).to.changeTokenBalances(
        f.ethers,
        f.token,
        [f.marketSigner, otherMarket, f.registry],
        [157n, 0n, -157n],
      );
      expect(await f.registry.slashedOwedTo(f.marketSigner.address)).to.equal(0n);
      expect(await f.registry.slashedOwedTo(otherMarket.address)).to.equal(5n);
      expect(await f.token.balanceOf(await f.registry.getAddress()))
        .to.equal(STAKE - 157n)
        .and.to.equal(await held());
      // Nothing left: returns 0, no transfer, no event.
      expect(await f.registry.connect(f.marketSigner).collectSlashed.staticCall()).to.equal(0n);
      const again = f.registry.connect(f.marketSigner).collectSlashed();
      await expect(again).not.to.emit(f.registry, "SlashedCollected");
      await expect(again).to.changeTokenBalance(f.ethers, f.token, f.marketSigner, 0n);
      await expect(f.registry.connect(f.provider).collectSlashed())
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(f.provider.address, await f.registry.MARKET_ROLE());
    });

    it("slash rejects more than the locked amount", async function () {
      const f = await staked();
      await f.registry.connect(f.marketSigner).lockCollateral(f.provider.address, 10n);
      await expect(f.registry.connect(f.marketSigner).slash(f.provider.address, 11n, 0n))
        .to.be.revertedWithCustomError(f.registry, "RegistryInsufficientLocked")
        .withArgs(f.provider.address, 10n, 11n);
    });
  });

  describe("governance", function () {
    it("setUnbondingDelay is bounded, parameter-role only and applies to later requests", async function () {
      const f = await staked();
      const t = await blockTime(f, f.registry.connect(f.provider).requestUnbond(10n));
      await expect(f.registry.connect(f.stranger).setUnbondingDelay(600n))
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, await f.registry.PARAMETER_ROLE());
      await expect(f.registry.setUnbondingDelay(59n))
        .to.be.revertedWithCustomError(f.registry, "RegistryParameterOutOfBounds")
        .withArgs(59n, 60n, 7_776_000n);
      await expect(f.registry.setUnbondingDelay(7_776_001n))
        .to.be.revertedWithCustomError(f.registry, "RegistryParameterOutOfBounds")
        .withArgs(7_776_001n, 60n, 7_776_000n);
      await expect(f.registry.setUnbondingDelay(7_776_000n))
        .to.emit(f.registry, "UnbondingDelaySet")
        .withArgs(7_776_000n);
      await expect(f.registry.setUnbondingDelay(60n)).to.emit(f.registry, "UnbondingDelaySet").withArgs(60n);
      expect(await f.registry.unbondingDelay()).to.equal(60n);
      // The earlier request keeps its release time; a new one uses the new delay for the whole balance.
      expect((await f.registry.stakeInfo(f.provider.address)).unbondingReleaseAt).to.equal(t + DELAY);
      const t2 = await blockTime(f, f.registry.connect(f.provider).requestUnbond(10n));
      expect((await f.registry.stakeInfo(f.provider.address)).unbondingReleaseAt).to.equal(t2 + 60n);
    });

    it("pause and unpause are pauser-role only and emit Paused / Unpaused", async function () {
      const f = await setup();
      const role = await f.registry.PAUSER_ROLE();
      await expect(f.registry.connect(f.stranger).pause())
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, role);
      await expect(f.registry.pause()).to.emit(f.registry, "Paused").withArgs(f.admin.address);
      expect(await f.registry.paused()).to.be.true;
      await expect(f.registry.pause()).to.be.revertedWithCustomError(f.registry, "EnforcedPause");
      await expect(f.registry.connect(f.stranger).unpause())
        .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, role);
      await expect(f.registry.unpause()).to.emit(f.registry, "Unpaused").withArgs(f.admin.address);
      await expect(f.registry.unpause()).to.be.revertedWithCustomError(f.registry, "ExpectedPause");
    });

    it("a pause never blocks stake, unbonding, cancelling, withdrawing, deregistering or the market functions (incl. collectSlashed)", async function () {
      const f = await staked();
      await f.registry.pause();
      const r = f.registry.connect(f.provider);
      await f.token.mint(f.provider.address, 100n);
      await f.token.connect(f.provider).approve(await f.registry.getAddress(), 100n);
      await r.stake(f.provider.address, 100n);
      await r.requestUnbond(300n);
      await r.cancelUnbond(100n);
      const m = f.registry.connect(f.marketSigner);
      await m.lockCollateral(f.provider.address, 50n);
      await m.unlockCollateral(f.provider.address, 20n);
      await m.slash(f.provider.address, 30n, 0n);
      await expect(m.collectSlashed()).to.changeTokenBalance(f.ethers, f.token, f.marketSigner, 30n);
      await f.helpers.time.increase(DELAY);
      await expect(r.withdrawUnbonded()).to.changeTokenBalance(f.ethers, f.token, f.payee, 200n);
      await expect(r.deregister()).to.emit(f.registry, "ProviderDeregistered");
      await f.helpers.time.increase(DELAY);
      await expect(r.withdrawUnbonded()).to.changeTokenBalance(
        f.ethers,
        f.token,
        f.payee,
        STAKE + 100n - 200n - 30n,
      );
      expect(await f.registry.paused()).to.be.true;
    });
  });

  describe("views", function () {
    it("payeeOf falls back to the provider itself for an account without a profile", async function () {
      const f = await setup();
      expect(await f.registry.payeeOf(f.stranger.address)).to.equal(f.stranger.address);
      expect(await f.registry.isRegistered(f.stranger.address)).to.be.false;
      const info = await f.registry.providerInfo(f.stranger.address);
      expect([info.payee, info.registered, info.endpoint]).to.deep.equal([f.ethers.ZeroAddress, false, ""]);
    });
  });
});
