// One behaviour suite for the shared governance base (contracts/governance/Governed.sol and MarketGovernance.sol),
// run against every contract built on it: the provider registry, the storage market, the compute market and the
// retrieval challenges. Roles, bounded parameters, the treasury, and a pause that stops new business but never
// withdrawals, refunds or settlement.
import type { BaseContract, ContractTransactionResponse } from "ethers";
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { SnapshotRestorer } from "@nomicfoundation/hardhat-network-helpers/types";
import { DEFAULT_ADMIN_ROLE, PARAMETER_ROLE, PAUSER_ROLE } from "../../deploy/lib/storageSuite.js";
import {
  defaultComputeParameters,
  defaultParameters,
  deployStorage,
  fundClient,
  makeTerms,
  proveNext,
  putState,
  registerProvider,
  topUp,
  USDC,
  UniformTree,
  createDataSet,
  type StorageFixture,
} from "../helpers/fixture.js";
import { fundTenant, orderRequest, startLease, CloseReason } from "../compute/helpers.js";

/** A governed contract as this suite sees it. */
interface Governed extends BaseContract {
  hasRole(role: string, account: string): Promise<boolean>;
  paused(): Promise<boolean>;
  pause(): Promise<ContractTransactionResponse>;
  unpause(): Promise<ContractTransactionResponse>;
  connect(runner: StorageFixture["admin"]): Governed;
}

interface Live {
  dataSet: bigint;
  /** A second live data set, with no challenge open on it. */
  otherDataSet: bigint;
  tree: UniformTree;
  leaseId: bigint;
  orderId: bigint;
  challengeId: bigint;
}

interface Case {
  name: string;
  contract: (f: StorageFixture) => Governed;
  /** One piece of new business, sent while paused (must revert EnforcedPause). */
  newBusiness: (f: StorageFixture, live: Live) => Promise<ContractTransactionResponse>;
  /** Withdrawals, refunds and settlement, run while paused (each must succeed). */
  neverPaused: (f: StorageFixture, live: Live) => Promise<void>;
  /** An out-of-bounds parameter change sent by `who` (must revert with the contract's own bounds error). */
  outOfBounds: (f: StorageFixture, who: HardhatEthersSigner) => Promise<ContractTransactionResponse>;
  boundsError: string;
}

const CASES: Case[] = [
  {
    name: "ProviderRegistry",
    contract: (f) => f.registry,
    newBusiness: (f) => f.registry.connect(f.client2).register(f.client2.address, "https://c", 1n, 1n),
    neverPaused: async (f) => {
      await f.registry.connect(f.provider2).requestUnbond(USDC);
      await f.registry.connect(f.provider2).cancelUnbond(USDC);
      await f.registry.connect(f.provider2).requestUnbond(USDC);
      await f.helpers.time.increase(86_401);
      await expect(f.registry.connect(f.provider2).withdrawUnbonded()).to.emit(f.registry, "StakeWithdrawn");
    },
    outOfBounds: (f, who) => f.registry.connect(who).setUnbondingDelay(59n),
    boundsError: "RegistryParameterOutOfBounds",
  },
  {
    name: "StorageMarket",
    contract: (f) => f.market,
    newBusiness: async (f) => {
      const p = await makeTerms(f, { provider: f.provider });
      return f.market.connect(f.provider).createDataSet(p.terms, p.signature);
    },
    neverPaused: async (f, live) => {
      // The data set's open retrieval challenge holds its close until it is answered (answers never pause).
      await (
        await f.retrievalChallenges
          .connect(f.provider)
          .answerChallenge(live.challengeId, live.tree.leaf(0n), live.tree.path(0n))
      ).wait();
      await expect(f.market.connect(f.watcher).settleDataSet(live.dataSet)).to.emit(
        f.market,
        "DataSetSettled",
      );
      await expect(f.market.connect(f.client).withdrawEscrow(live.otherDataSet, USDC)).to.emit(
        f.market,
        "EscrowWithdrawn",
      );
      await expect(f.market.connect(f.client).terminateDataSet(live.dataSet)).to.emit(
        f.market,
        "DataSetTerminated",
      );
      await expect(
        proveNext(
          f,
          f.provider,
          new Map([
            [live.dataSet, live.tree],
            [live.otherDataSet, live.tree],
          ]),
        ),
      ).to.emit(f.market, "ProofSubmitted");
      await expect(f.market.finalizeDataSet(live.dataSet))
        .to.emit(f.market, "DataSetUpdated")
        .and.to.emit(f.market, "DataSetEnded");
      const refund = await f.market.balanceOf(f.client.address);
      expect(refund > 0n).to.equal(true);
      await expect(f.market.connect(f.client).withdraw(refund)).to.emit(f.market, "Withdrawn");
    },
    outOfBounds: (f, who) => f.market.connect(who).setParameters(defaultParameters({ maxFaults: 0n })),
    boundsError: "MarketParameterOutOfBounds",
  },
  {
    name: "ComputeMarket",
    contract: (f) => f.compute,
    newBusiness: async (f) => f.compute.connect(f.client).createOrder(await orderRequest(f)),
    neverPaused: async (f, live) => {
      await expect(f.compute.connect(f.watcher).settleLease(live.leaseId)).to.emit(f.compute, "LeaseSettled");
      await expect(f.compute.connect(f.client).cancelOrder(live.orderId)).to.emit(
        f.compute,
        "OrderCancelled",
      );
      await expect(f.compute.connect(f.client).closeLease(live.leaseId, CloseReason.Tenant)).to.emit(
        f.compute,
        "LeaseClosed",
      );
      const refund = await f.compute.balanceOf(f.client.address);
      expect(refund > 0n).to.equal(true);
      await expect(f.compute.connect(f.client).withdraw(refund)).to.emit(f.compute, "Withdrawn");
    },
    outOfBounds: (f, who) =>
      f.compute.connect(who).setParameters(defaultComputeParameters({ maxMissedHeartbeats: 0n })),
    boundsError: "ComputeParameterOutOfBounds",
  },
  {
    name: "RetrievalChallenges",
    contract: (f) => f.retrievalChallenges,
    newBusiness: (f, live) => f.retrievalChallenges.connect(f.watcher).openChallenge(live.otherDataSet, 1n),
    neverPaused: async (f, live) => {
      await expect(
        f.retrievalChallenges
          .connect(f.provider)
          .answerChallenge(live.challengeId, live.tree.leaf(0n), live.tree.path(0n)),
      ).to.emit(f.retrievalChallenges, "RetrievalChallengeAnswered");
      const bond = await f.retrievalChallenges.balanceOf(f.provider.address);
      expect(bond > 0n).to.equal(true);
      await expect(f.retrievalChallenges.connect(f.provider).withdraw(bond)).to.emit(
        f.retrievalChallenges,
        "Withdrawn",
      );
    },
    outOfBounds: (f, who) =>
      f.retrievalChallenges.connect(who).setParameters({ responseWindow: 59n, bond: 1n }),
    boundsError: "RetrievalParameterOutOfBounds",
  },
];

describe("governance: the shared base on every governed contract", function () {
  let f: StorageFixture;
  let live: Live;
  let snapshot: SnapshotRestorer;

  before(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    await registerProvider(f, f.provider2);
    await fundClient(f, f.client);
    await fundTenant(f, f.client);
    await f.token.mint(f.watcher.address, 1_000n * USDC);
    await f.token.connect(f.watcher).approve(await f.retrievalChallenges.getAddress(), 1_000n * USDC);
    const ids: bigint[] = [];
    const tree = UniformTree.random(64n);
    for (let i = 0; i < 2; i++) {
      const id = await createDataSet(f, { noticePeriods: 0n });
      await topUp(f, id, 10n * USDC);
      await (await putState(f, id, tree)).wait();
      ids.push(id);
    }
    const [dataSet, otherDataSet] = ids as [bigint, bigint];
    const { leaseId } = await startLease(f);
    await f.compute.connect(f.client).createOrder(await orderRequest(f));
    const orderId = await f.compute.lastOrderId();
    await (await f.retrievalChallenges.connect(f.watcher).openChallenge(dataSet, 0n)).wait();
    const challengeId = await f.retrievalChallenges.challengeCount();
    live = { dataSet, otherDataSet, tree, leaseId, orderId, challengeId };
    snapshot = await f.helpers.takeSnapshot();
  });

  beforeEach(async function () {
    await snapshot.restore();
  });

  for (const c of CASES) {
    describe(c.name, function () {
      it("test_constructor_grantsAdminParameterAndPauserRolesToTheAdmin", async function () {
        const g = c.contract(f);
        for (const role of [DEFAULT_ADMIN_ROLE, PARAMETER_ROLE, PAUSER_ROLE]) {
          expect(await g.hasRole(role, f.admin.address)).to.equal(true);
          expect(await g.hasRole(role, f.client.address)).to.equal(false);
        }
      });

      it("test_pause_isPauserOnly_andEmitsPausedAndUnpaused", async function () {
        const g = c.contract(f);
        await expect(g.connect(f.client).pause())
          .to.be.revertedWithCustomError(g, "AccessControlUnauthorizedAccount")
          .withArgs(f.client.address, PAUSER_ROLE);
        await expect(g.pause()).to.emit(g, "Paused").withArgs(f.admin.address);
        expect(await g.paused()).to.equal(true);
        await expect(g.connect(f.client).unpause())
          .to.be.revertedWithCustomError(g, "AccessControlUnauthorizedAccount")
          .withArgs(f.client.address, PAUSER_ROLE);
        await expect(g.unpause()).to.emit(g, "Unpaused").withArgs(f.admin.address);
        expect(await g.paused()).to.equal(false);
      });

      it("test_pause_stopsNewBusiness_untilUnpaused", async function () {
        const g = c.contract(f);
        await g.pause();
        await expect(c.newBusiness(f, live)).to.be.revertedWithCustomError(g, "EnforcedPause");
        await g.unpause();
        await expect(c.newBusiness(f, live)).not.to.revert(f.ethers);
      });

      it("test_pause_neverBlocksWithdrawalsRefundsOrSettlement", async function () {
        await c.contract(f).pause();
        await c.neverPaused(f, live);
      });

      it("test_setParameters_isBoundedAndParameterRoleOnly", async function () {
        const g = c.contract(f);
        await expect(c.outOfBounds(f, f.admin)).to.be.revertedWithCustomError(g, c.boundsError);
        await expect(c.outOfBounds(f, f.client))
          .to.be.revertedWithCustomError(g, "AccessControlUnauthorizedAccount")
          .withArgs(f.client.address, PARAMETER_ROLE);
      });
    });
  }

  describe("StorageMarket pause flag (kept in the parameters' first word)", function () {
    it("test_pause_survivesSetParameters_andLeavesParametersUnchanged", async function () {
      const changed = defaultParameters({
        maxDataSetSize: 1n << 53n,
        challengeFinality: 128n,
        maxFaults: 100n,
      });
      await f.market.pause();
      await (await f.market.setParameters(changed)).wait();
      expect(await f.market.paused()).to.equal(true);
      const stored = await f.market.parameters();
      expect(stored.maxDataSetSize).to.equal(1n << 53n);
      expect(stored.challengeFinality).to.equal(128n);
      expect(stored.maxFaults).to.equal(100n);
      const p = await makeTerms(f, { provider: f.provider });
      await expect(
        f.market.connect(f.provider).createDataSet(p.terms, p.signature),
      ).to.be.revertedWithCustomError(f.market, "EnforcedPause");
      await (await f.market.unpause()).wait();
      expect(await f.market.paused()).to.equal(false);
      expect(await f.market.parameters()).to.deep.equal(stored);
      await (await f.market.setParameters(defaultParameters())).wait();
      expect(await f.market.paused()).to.equal(false);
    });
  });

  for (const name of ["StorageMarket", "ComputeMarket"] as const) {
    describe(`${name} treasury (MarketGovernance)`, function () {
      const market = () => (name === "StorageMarket" ? f.market : f.compute);

      it("test_treasury_isSetAtDeployment", async function () {
        expect(await market().treasury()).to.equal(f.treasury.address);
      });

      it("test_setTreasury_isAdminOnly_rejectsZero_andEmitsTreasurySet", async function () {
        const m = market();
        await m.grantRole(PARAMETER_ROLE, f.watcher.address);
        await m.grantRole(PAUSER_ROLE, f.watcher.address);
        await expect(m.connect(f.watcher).setTreasury(f.client2.address))
          .to.be.revertedWithCustomError(m, "AccessControlUnauthorizedAccount")
          .withArgs(f.watcher.address, DEFAULT_ADMIN_ROLE);
        await expect(m.setTreasury(ZeroAddress)).to.be.revertedWithCustomError(m, "GovernanceZeroTreasury");
        await expect(m.setTreasury(f.client2.address)).to.emit(m, "TreasurySet").withArgs(f.client2.address);
        expect(await m.treasury()).to.equal(f.client2.address);
      });

      it("test_setTreasury_worksWhilePaused", async function () {
        const m = market();
        await m.pause();
        await expect(m.setTreasury(f.client2.address)).to.emit(m, "TreasurySet");
      });
    });
  }
});
