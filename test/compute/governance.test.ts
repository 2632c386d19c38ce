import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress } from "ethers";
import StrataLocal from "../../deploy/modules/StrataLocal.js";
import {
  DEFAULT_MAX_CLOSE_BOUNTY,
  DEFAULT_MAX_MISSED_HEARTBEAT_PENALTY,
  LOCAL_COMPUTE_PARAMETERS,
} from "../../deploy/lib/computeSuite.js";
import {
  DEFAULT_ADMIN_ROLE,
  MARKET_ROLE,
  PARAMETER_ROLE,
  PAUSER_ROLE,
} from "../../deploy/lib/storageSuite.js";
import { defaultComputeParameters, deployComputeMarket, type ComputeParameters } from "../helpers/fixture.js";
import type { IComputeMarket } from "../../typechain-types/interfaces/IComputeMarket.js";
import { orderRequest, PARAMS, useComputeFixture } from "./helpers.js";

const DAY = 86_400n;

/** The parameters a view returned, as a plain object keyed like LOCAL_COMPUTE_PARAMETERS. */
function plain(p: IComputeMarket.ParametersStructOutput): Record<string, bigint> {
  const keys = Object.keys(LOCAL_COMPUTE_PARAMETERS) as (keyof typeof LOCAL_COMPUTE_PARAMETERS)[];
  return Object.fromEntries(keys.map((k) => [k, p[k]]));
}

/** For each parameter, out-of-bounds values and the bounds the error must report. */
const OUT_OF_BOUNDS: [keyof ComputeParameters, bigint, bigint, bigint][] = [
  ["heartbeatPeriod", 59n, 60n, DAY],
  ["heartbeatPeriod", DAY + 1n, 60n, DAY],
  ["maxMissedHeartbeats", 0n, 1n, 100n],
  ["maxMissedHeartbeats", 101n, 1n, 100n],
  ["missedHeartbeatsPenaltyBps", 10_001n, 0n, 10_000n],
  ["noNoticePenaltyBps", 10_001n, 0n, 10_000n],
  ["treasuryShareBps", 5_001n, 0n, 5_000n],
  ["maxNoticeWindow", 59n, 60n, 90n * DAY],
  ["maxNoticeWindow", 90n * DAY + 1n, 60n, 90n * DAY],
  ["minNoticeWindow", BigInt(PARAMS.maxNoticeWindow) + 1n, 0n, BigInt(PARAMS.maxNoticeWindow)],
  ["maxOrderLifetime", 299n, 300n, 90n * DAY],
  ["maxOrderLifetime", 90n * DAY + 1n, 300n, 90n * DAY],
  ["maxLeaseDuration", BigInt(PARAMS.heartbeatPeriod) - 1n, BigInt(PARAMS.heartbeatPeriod), 3650n * DAY],
  ["maxLeaseDuration", 3650n * DAY + 1n, BigInt(PARAMS.heartbeatPeriod), 3650n * DAY],
  [
    "missedHeartbeatPenalty",
    DEFAULT_MAX_MISSED_HEARTBEAT_PENALTY + 1n,
    0n,
    DEFAULT_MAX_MISSED_HEARTBEAT_PENALTY,
  ],
  ["closeBounty", 0n, 1n, DEFAULT_MAX_CLOSE_BOUNTY],
  ["closeBounty", DEFAULT_MAX_CLOSE_BOUNTY + 1n, 1n, DEFAULT_MAX_CLOSE_BOUNTY],
];

describe("ComputeMarket governance", function () {
  const get = useComputeFixture();

  describe("constructor", function () {
    it("test_constructor_grantsTheRolesAndSetsParametersAndTreasury", async function () {
      const f = get();
      for (const role of [DEFAULT_ADMIN_ROLE, PARAMETER_ROLE, PAUSER_ROLE]) {
        expect(await f.compute.hasRole(role, f.admin.address)).to.be.true;
      }
      expect(await f.compute.treasury()).to.equal(f.treasury.address);
      expect(await f.compute.registry()).to.equal(await f.registry.getAddress());
      expect(await f.compute.paymentToken()).to.equal(await f.token.getAddress());
      expect(await f.compute.MAX_BIDS()).to.equal(32n);
      expect(plain(await f.compute.parameters())).to.deep.equal(defaultComputeParameters());
    });

    it("test_constructor_revertsOnATokenMismatchAZeroTreasuryOrBadParameters", async function () {
      const f = get();
      const other = await f.ethers.deployContract("TestStablecoin", [f.admin.address]);
      const base = {
        registry: await f.registry.getAddress(),
        token: await f.token.getAddress(),
        admin: f.admin.address,
        treasury: f.treasury.address,
        params: defaultComputeParameters(),
      };
      const lib = await f.ethers.deployContract("ComputeParams");
      const factory = await f.ethers.getContractFactory("ComputeMarket", {
        libraries: { ComputeParams: await lib.getAddress() },
      });
      await expect(deployComputeMarket(f.ethers, { ...base, token: await other.getAddress() }))
        .to.be.revertedWithCustomError(factory, "ComputeTokenMismatch")
        .withArgs(await other.getAddress(), await f.token.getAddress());
      await expect(
        deployComputeMarket(f.ethers, { ...base, treasury: ZeroAddress }),
      ).to.be.revertedWithCustomError(factory, "GovernanceZeroTreasury");
      await expect(deployComputeMarket(f.ethers, { ...base, maxCloseBounty: 0n }))
        .to.be.revertedWithCustomError(factory, "ComputeParameterOutOfBounds")
        .withArgs("closeBounty", PARAMS.closeBounty, 1n, 0n);
    });
  });

  describe("setParameters", function () {
    it("test_setParameters_storesTheParametersAndEmits", async function () {
      const f = get();
      const params = defaultComputeParameters({
        heartbeatPeriod: 600n,
        closeBounty: 5n,
        minNoticeWindow: 0n,
      });
      await expect(f.compute.connect(f.admin).setParameters(params)).to.emit(f.compute, "ParametersSet");
      expect(plain(await f.compute.parameters())).to.deep.equal(params);
    });

    it("test_setParameters_acceptsEveryBound", async function () {
      const f = get();
      await f.compute.connect(f.admin).setParameters(
        defaultComputeParameters({
          heartbeatPeriod: DAY,
          maxMissedHeartbeats: 100n,
          missedHeartbeatsPenaltyBps: 10_000n,
          noNoticePenaltyBps: 10_000n,
          treasuryShareBps: 5_000n,
          maxNoticeWindow: 90n * DAY,
          minNoticeWindow: 90n * DAY,
          maxOrderLifetime: 90n * DAY,
          maxLeaseDuration: 3650n * DAY,
          missedHeartbeatPenalty: DEFAULT_MAX_MISSED_HEARTBEAT_PENALTY,
          closeBounty: DEFAULT_MAX_CLOSE_BOUNTY,
        }),
      );
      await f.compute.connect(f.admin).setParameters(
        defaultComputeParameters({
          heartbeatPeriod: 60n,
          maxMissedHeartbeats: 1n,
          missedHeartbeatsPenaltyBps: 0n,
          noNoticePenaltyBps: 0n,
          treasuryShareBps: 0n,
          maxNoticeWindow: 60n,
          minNoticeWindow: 0n,
          maxOrderLifetime: 300n,
          maxLeaseDuration: 60n,
          missedHeartbeatPenalty: 0n,
          closeBounty: 1n,
        }),
      );
      expect((await f.compute.parameters()).maxLeaseDuration).to.equal(60n);
    });

    for (const [name, value, min, max] of OUT_OF_BOUNDS) {
      it(`test_setParameters_revertsOn_${name}_${value}`, async function () {
        const f = get();
        await expect(f.compute.connect(f.admin).setParameters(defaultComputeParameters({ [name]: value })))
          .to.be.revertedWithCustomError(f.compute, "ComputeParameterOutOfBounds")
          .withArgs(name, value, min, max);
      });
    }

    it("test_setParameters_revertsWithoutTheParameterRole", async function () {
      const f = get();
      await expect(f.compute.connect(f.client).setParameters(defaultComputeParameters()))
        .to.be.revertedWithCustomError(f.compute, "AccessControlUnauthorizedAccount")
        .withArgs(f.client.address, PARAMETER_ROLE);
    });
  });

  describe("treasury and pause", function () {
    it("test_setTreasury_isAdminOnlyAndNonZero", async function () {
      const f = get();
      await expect(f.compute.connect(f.client).setTreasury(f.client.address))
        .to.be.revertedWithCustomError(f.compute, "AccessControlUnauthorizedAccount")
        .withArgs(f.client.address, DEFAULT_ADMIN_ROLE);
      await expect(f.compute.connect(f.admin).setTreasury(ZeroAddress)).to.be.revertedWithCustomError(
        f.compute,
        "GovernanceZeroTreasury",
      );
      await expect(f.compute.connect(f.admin).setTreasury(f.watcher.address))
        .to.emit(f.compute, "TreasurySet")
        .withArgs(f.watcher.address);
      expect(await f.compute.treasury()).to.equal(f.watcher.address);
    });

    it("test_pause_isPauserOnlyAndStopsNewOrders", async function () {
      const f = get();
      await expect(f.compute.connect(f.client).pause())
        .to.be.revertedWithCustomError(f.compute, "AccessControlUnauthorizedAccount")
        .withArgs(f.client.address, PAUSER_ROLE);
      await f.compute.connect(f.admin).pause();
      await expect(
        f.compute.connect(f.client).createOrder(await orderRequest(f)),
      ).to.be.revertedWithCustomError(f.compute, "EnforcedPause");
      await expect(f.compute.connect(f.client).unpause())
        .to.be.revertedWithCustomError(f.compute, "AccessControlUnauthorizedAccount")
        .withArgs(f.client.address, PAUSER_ROLE);
      await f.compute.connect(f.admin).unpause();
      await f.compute.connect(f.client).createOrder(await orderRequest(f));
      expect(await f.compute.lastOrderId()).to.equal(1n);
    });
  });

  describe("deployment", function () {
    it("test_deploy_wiresTheComputeMarketAndHandsItsRolesToTheTimelock", async function () {
      const { ethers, ignition } = await network.create();
      const [deployer] = await ethers.getSigners();
      if (!deployer) throw new Error("no signer");
      const deployed = await ignition.deploy(StrataLocal);
      const registry = await ethers.getContractAt("ProviderRegistry", await deployed.registry.getAddress());
      const compute = await ethers.getContractAt("ComputeMarket", await deployed.computeMarket.getAddress());
      const timelock = await deployed.timelock.getAddress();
      expect(await registry.hasRole(MARKET_ROLE, await compute.getAddress())).to.be.true;
      expect(await compute.registry()).to.equal(await registry.getAddress());
      expect(await compute.paymentToken()).to.equal(await deployed.token.getAddress());
      expect(await compute.treasury()).to.equal(timelock);
      expect(plain(await compute.parameters())).to.deep.equal(LOCAL_COMPUTE_PARAMETERS);
      for (const role of [DEFAULT_ADMIN_ROLE, PARAMETER_ROLE, PAUSER_ROLE]) {
        expect(await compute.hasRole(role, timelock), `timelock holds ${role}`).to.be.true;
        expect(await compute.hasRole(role, deployer.address), `deployer renounced ${role}`).to.be.false;
      }
    });
  });
});
