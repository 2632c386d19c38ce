import { expect } from "chai";
import {
  defaultParameters,
  deployMarket,
  deployStorage,
  fundClient,
  PERIOD,
  proveNext,
  randomPiece,
  registerProvider,
  USDC,
  type MarketParameters,
  type PieceData,
  type StorageFixture,
} from "../helpers/fixture.js";
import { marketDomain, signExtension, type DealExtension } from "../../offchain/sdk/deals/eip712.js";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import { eventsIn, goToPeriod, mined, nextNonce, publishBatch, signed } from "./publishing.helpers.js";

type ParamName = keyof MarketParameters;

/** Struct order of IStorageMarket.Parameters. */
const FIELDS: ParamName[] = [
  "proofWindow",
  "challengeCount",
  "challengeFinality",
  "maxFaults",
  "missedFaultPenaltyBps",
  "declaredFaultPenaltyBps",
  "providerTerminationFeeBps",
  "faultTerminationBountyBps",
  "treasuryShareBps",
  "minDealPeriods",
  "maxDealPeriods",
  "maxPieceSize",
  "missedProofBounty",
];

const MAX_BOUNTY = 100n * USDC; // deployMarket's default maxMissedProofBounty
const UINT32_MAX = (1n << 32n) - 1n;

/**
 * Hard bounds with the fixture's parameters (P = 3600 s, missedFaultPenaltyBps = 1000, maxDealPeriods = 8760),
 * plus whatever other fields must change so that only the field under test is out of bounds.
 */
const BOUNDS: { name: ParamName; min: bigint; max: bigint; with?: Partial<Record<ParamName, bigint>> }[] = [
  { name: "proofWindow", min: 30n, max: PERIOD },
  { name: "challengeCount", min: 1n, max: 16n },
  { name: "challengeFinality", min: 1n, max: 128n },
  { name: "maxFaults", min: 1n, max: 100n },
  { name: "missedFaultPenaltyBps", min: 0n, max: 5_000n, with: { declaredFaultPenaltyBps: 0n } },
  { name: "declaredFaultPenaltyBps", min: 0n, max: 1_000n },
  { name: "providerTerminationFeeBps", min: 0n, max: 10_000n },
  { name: "faultTerminationBountyBps", min: 0n, max: 2_000n },
  { name: "treasuryShareBps", min: 0n, max: 5_000n },
  { name: "maxDealPeriods", min: 1n, max: UINT32_MAX / PERIOD, with: { minDealPeriods: 1n } },
  { name: "minDealPeriods", min: 1n, max: 24n * 365n },
  { name: "maxPieceSize", min: 64n, max: 1n << 40n },
  { name: "missedProofBounty", min: 0n, max: MAX_BOUNTY },
];

function asArray(p: MarketParameters): bigint[] {
  return FIELDS.map((k) => BigInt(p[k]));
}

async function expectParameters(f: StorageFixture, expected: MarketParameters) {
  expect([...(await f.market.parameters())]).to.deep.equal(asArray(expected));
}

describe("StorageMarket governance", function () {
  describe("setParameters bounds", function () {
    for (const { name, min, max, with: extra } of BOUNDS) {
      it(`rejects ${name} just outside [${min}, ${max}] with MarketParameterOutOfBounds("${name}")`, async function () {
        const f = await deployStorage();
        const outside = min > 0n ? [min - 1n, max + 1n] : [max + 1n];
        for (const value of outside) {
          await expect(f.market.setParameters(defaultParameters({ ...extra, [name]: value })))
            .to.be.revertedWithCustomError(f.market, "MarketParameterOutOfBounds")
            .withArgs(name, value, min, max);
        }
        await expectParameters(f, defaultParameters());
      });

      it(`accepts ${name} at both bounds ${min} and ${max} and emits ParametersSet`, async function () {
        const f = await deployStorage();
        for (const value of [min, max]) {
          const params = defaultParameters({ ...extra, [name]: value });
          const receipt = await mined(f.market.setParameters(params));
          const [event] = await eventsIn(receipt, f.market, "ParametersSet");
          expect((event?.args[0] as { toArray(): unknown[] }).toArray()).to.deep.equal(asArray(params));
          await expectParameters(f, params);
        }
      });
    }

    it("bounds declaredFaultPenaltyBps by the missedFaultPenaltyBps given in the same call", async function () {
      const f = await deployStorage();
      const params = defaultParameters({ missedFaultPenaltyBps: 2_000n, declaredFaultPenaltyBps: 2_000n });
      await f.market.setParameters(params);
      await expectParameters(f, params);
      await expect(
        f.market.setParameters(
          defaultParameters({ missedFaultPenaltyBps: 2_000n, declaredFaultPenaltyBps: 2_001n }),
        ),
      )
        .to.be.revertedWithCustomError(f.market, "MarketParameterOutOfBounds")
        .withArgs("declaredFaultPenaltyBps", 2_001n, 0n, 2_000n);
    });

    it("bounds minDealPeriods by the maxDealPeriods given in the same call", async function () {
      const f = await deployStorage();
      await f.market.setParameters(defaultParameters({ minDealPeriods: 10n, maxDealPeriods: 10n }));
      await expect(f.market.setParameters(defaultParameters({ minDealPeriods: 11n, maxDealPeriods: 10n })))
        .to.be.revertedWithCustomError(f.market, "MarketParameterOutOfBounds")
        .withArgs("minDealPeriods", 11n, 1n, 10n);
    });

    it("bounds proofWindow and maxDealPeriods by the market's proving period", async function () {
      const f = await deployStorage({
        provingPeriod: 60n,
        params: defaultParameters({ proofWindow: 60n }),
      });
      const maxPeriods = UINT32_MAX / 60n; // 71,582,788 one-minute periods fit in 32 bits of seconds
      await f.market.setParameters(defaultParameters({ proofWindow: 60n, maxDealPeriods: maxPeriods }));
      await expect(
        f.market.setParameters(defaultParameters({ proofWindow: 60n, maxDealPeriods: maxPeriods + 1n })),
      )
        .to.be.revertedWithCustomError(f.market, "MarketParameterOutOfBounds")
        .withArgs("maxDealPeriods", maxPeriods + 1n, 1n, maxPeriods);
      await expect(f.market.setParameters(defaultParameters({ proofWindow: 61n })))
        .to.be.revertedWithCustomError(f.market, "MarketParameterOutOfBounds")
        .withArgs("proofWindow", 61n, 30n, 60n);
    });

    it("only PARAMETER_ROLE may set parameters", async function () {
      const f = await deployStorage();
      const role = await f.market.PARAMETER_ROLE();
      const params = defaultParameters({ challengeCount: 4n });
      await expect(f.market.connect(f.watcher).setParameters(params))
        .to.be.revertedWithCustomError(f.market, "AccessControlUnauthorizedAccount")
        .withArgs(f.watcher.address, role);
      await f.market.grantRole(role, f.watcher.address);
      await f.market.connect(f.watcher).setParameters(params);
      await expectParameters(f, params);
      await f.market.revokeRole(role, f.watcher.address);
      await expect(f.market.connect(f.watcher).setParameters(defaultParameters()))
        .to.be.revertedWithCustomError(f.market, "AccessControlUnauthorizedAccount")
        .withArgs(f.watcher.address, role);
    });
  });

  describe("treasury", function () {
    it("setTreasury is admin only, rejects zero and emits TreasurySet", async function () {
      const f = await deployStorage();
      await f.market.grantRole(await f.market.PARAMETER_ROLE(), f.watcher.address);
      await f.market.grantRole(await f.market.PAUSER_ROLE(), f.watcher.address);
      await expect(f.market.connect(f.watcher).setTreasury(f.watcher.address))
        .to.be.revertedWithCustomError(f.market, "AccessControlUnauthorizedAccount")
        .withArgs(f.watcher.address, await f.market.DEFAULT_ADMIN_ROLE());
      await expect(f.market.setTreasury(f.ethers.ZeroAddress)).to.be.revertedWithCustomError(
        f.market,
        "GovernanceZeroTreasury",
      );
      await expect(f.market.setTreasury(f.watcher.address))
        .to.emit(f.market, "TreasurySet")
        .withArgs(f.watcher.address);
      expect(await f.market.treasury()).to.equal(f.watcher.address);
    });
  });

  describe("constructor", function () {
    async function deployArgs(f: StorageFixture, over: Partial<Parameters<typeof deployMarket>[1]> = {}) {
      return {
        registry: await f.registry.getAddress(),
        token: await f.token.getAddress(),
        admin: f.admin.address,
        treasury: f.treasury.address,
        provingPeriod: PERIOD,
        params: defaultParameters(),
        ...over,
      };
    }

    it("records registry, token, clock, treasury, parameters and roles", async function () {
      const f = await deployStorage();
      const m = f.market;
      const receipt = await m.deploymentTransaction()?.wait();
      const block = await f.ethers.provider.getBlock(receipt?.blockNumber ?? 0);
      expect(await m.registry()).to.equal(await f.registry.getAddress());
      expect(await m.paymentToken()).to.equal(await f.token.getAddress());
      expect(await m.provingPeriod()).to.equal(PERIOD);
      expect(await m.genesis()).to.equal(BigInt(block?.timestamp ?? 0));
      expect(await m.periodStart(3n)).to.equal(BigInt(block?.timestamp ?? 0) + 3n * PERIOD);
      expect(await m.treasury()).to.equal(f.treasury.address);
      await expectParameters(f, defaultParameters());
      for (const role of [await m.DEFAULT_ADMIN_ROLE(), await m.PARAMETER_ROLE(), await m.PAUSER_ROLE()]) {
        expect(await m.hasRole(role, f.admin.address)).to.be.true;
        expect(await m.hasRole(role, f.provider.address)).to.be.false;
      }
      expect(await m.paused()).to.be.false;
      expect(await m.MAX_BATCH()).to.equal(100n);
    });

    it("rejects a payment token that is not the registry's (MarketTokenMismatch)", async function () {
      const f = await deployStorage();
      const other = await f.ethers.deployContract("TestStablecoin", [f.admin.address]);
      await expect(deployMarket(f.ethers, await deployArgs(f, { token: await other.getAddress() })))
        .to.be.revertedWithCustomError(f.market, "MarketTokenMismatch")
        .withArgs(await other.getAddress(), await f.token.getAddress());
    });

    it("rejects a proving period outside [60 s, 30 days] and accepts both bounds", async function () {
      const f = await deployStorage();
      const max = 30n * 86_400n;
      for (const provingPeriod of [59n, max + 1n]) {
        await expect(deployMarket(f.ethers, await deployArgs(f, { provingPeriod })))
          .to.be.revertedWithCustomError(f.market, "MarketParameterOutOfBounds")
          .withArgs("provingPeriod", provingPeriod, 60n, max);
      }
      const short = await deployMarket(
        f.ethers,
        await deployArgs(f, { provingPeriod: 60n, params: defaultParameters({ proofWindow: 60n }) }),
      );
      expect(await short.provingPeriod()).to.equal(60n);
      // A 30-day period allows at most floor((2^32 - 1) / 2,592,000) = 1657 periods per deal.
      const long = await deployMarket(
        f.ethers,
        await deployArgs(f, { provingPeriod: max, params: defaultParameters({ maxDealPeriods: 1657n }) }),
      );
      expect(await long.provingPeriod()).to.equal(max);
      await expect(
        deployMarket(
          f.ethers,
          await deployArgs(f, { provingPeriod: max, params: defaultParameters({ maxDealPeriods: 1658n }) }),
        ),
      )
        .to.be.revertedWithCustomError(f.market, "MarketParameterOutOfBounds")
        .withArgs("maxDealPeriods", 1658n, 1n, 1657n);
    });

    it("rejects out-of-bounds initial parameters, a bounty above the deployment cap and a zero treasury", async function () {
      const f = await deployStorage();
      await expect(
        deployMarket(f.ethers, await deployArgs(f, { params: defaultParameters({ challengeCount: 0n }) })),
      )
        .to.be.revertedWithCustomError(f.market, "MarketParameterOutOfBounds")
        .withArgs("challengeCount", 0n, 1n, 16n);
      await expect(
        deployMarket(f.ethers, {
          ...(await deployArgs(f, { params: defaultParameters({ missedProofBounty: 6n }) })),
          maxMissedProofBounty: 5n,
        }),
      )
        .to.be.revertedWithCustomError(f.market, "MarketParameterOutOfBounds")
        .withArgs("missedProofBounty", 6n, 0n, 5n);
      await expect(
        deployMarket(f.ethers, await deployArgs(f, { treasury: f.ethers.ZeroAddress })),
      ).to.be.revertedWithCustomError(f.market, "GovernanceZeroTreasury");
    });
  });

  describe("pause", function () {
    it("pause and unpause are PAUSER_ROLE only and emit Paused / Unpaused", async function () {
      const f = await deployStorage();
      const role = await f.market.PAUSER_ROLE();
      await expect(f.market.connect(f.watcher).pause())
        .to.be.revertedWithCustomError(f.market, "AccessControlUnauthorizedAccount")
        .withArgs(f.watcher.address, role);
      await expect(f.market.pause()).to.emit(f.market, "Paused").withArgs(f.admin.address);
      await expect(f.market.pause()).to.be.revertedWithCustomError(f.market, "EnforcedPause");
      await expect(f.market.connect(f.watcher).unpause())
        .to.be.revertedWithCustomError(f.market, "AccessControlUnauthorizedAccount")
        .withArgs(f.watcher.address, role);
      await expect(f.market.unpause()).to.emit(f.market, "Unpaused").withArgs(f.admin.address);
      await expect(f.market.unpause()).to.be.revertedWithCustomError(f.market, "ExpectedPause");
    });

    interface Held {
      deal: DealTerms;
      piece: PieceData;
    }

    /**
     * Provider: deal A (1 period) and deal B (4 periods); provider2: deal D (4 periods). All published in
     * period 0 (start period 1), price 10/s, collateral 100 USDC. Then the market is paused.
     */
    async function pausedMarket() {
      const f = await deployStorage();
      await registerProvider(f, f.provider);
      await registerProvider(f, f.provider2);
      await fundClient(f, f.client);
      const held = async (periods: bigint, provider = f.provider) => {
        const piece = randomPiece(4096);
        return {
          piece,
          s: await signed(f, {
            root: piece.tree.root,
            duration: periods * PERIOD,
            provider: provider.address,
          }),
        };
      };
      const a = await held(1n);
      const b = await held(4n);
      const d = await held(4n, f.provider2);
      const { deals } = await publishBatch(f, [a.s, b.s]);
      const { deals: deals2 } = await publishBatch(f, [d.s], f.provider2);
      const [dealA, dealB] = deals;
      const [dealD] = deals2;
      if (!dealA || !dealB || !dealD) throw new Error("not published");
      await f.market.pause();
      const A: Held = { deal: dealA, piece: a.piece };
      const B: Held = { deal: dealB, piece: b.piece };
      const D: Held = { deal: dealD, piece: d.piece };
      return { f, A, B, D };
    }

    async function extensionFor(f: StorageFixture, deal: DealTerms, newEndPeriod: bigint) {
      const extension: DealExtension = {
        dealId: deal.id,
        newEndPeriod,
        nonce: nextNonce(),
        deadline: BigInt(await f.helpers.time.latest()) + 3600n,
      };
      const sig = await signExtension(
        f.client,
        marketDomain(f.chainId, await f.market.getAddress()),
        extension,
      );
      return { extension, sig };
    }

    it("blocks publishDeals and extendDeal while paused, and both work again after unpause", async function () {
      const { f, B } = await pausedMarket();
      const s = await signed(f);
      await expect(f.market.connect(f.provider).publishDeals([s])).to.be.revertedWithCustomError(
        f.market,
        "EnforcedPause",
      );
      const { extension, sig } = await extensionFor(f, B.deal, 6n);
      await expect(
        f.market.connect(f.provider).extendDeal(B.deal, extension, sig),
      ).to.be.revertedWithCustomError(f.market, "EnforcedPause");
      await f.market.unpause();
      await expect(f.market.connect(f.provider).extendDeal(B.deal, extension, sig))
        .to.emit(f.market, "DealExtended")
        .withArgs(B.deal.id, 6n, 10n * 1n * PERIOD);
      expect((await publishBatch(f, [s])).deals).to.have.length(1);
    });

    it("does not block proofs, finalizing, settling, terminating, reporting, declaring or the ledger", async function () {
      const { f, A, B, D } = await pausedMarket();
      const price = 10n;
      // Proof of period 1 for A and B.
      await expect(proveNext(f, f.provider, new Map([A, B].map((h) => [h.deal.id, h])))).to.emit(
        f.market,
        "ProofSubmitted",
      );
      await goToPeriod(f, 2n, 1n);
      // A ended with period 1: finalize pays one proven period and releases the collateral.
      await expect(f.market.connect(f.watcher).finalizeDeal(A.deal))
        .to.emit(f.market, "DealEnded")
        .withArgs(A.deal.id, 0n, price * PERIOD, 0n, 0n, 100n * USDC);
      // B has streamed its proven period 1.
      const credited = await f.market.balanceOf(f.provider.address);
      await expect(f.market.connect(f.watcher).settleDeal(B.deal)).to.emit(f.market, "DealSettled");
      expect((await f.market.balanceOf(f.provider.address)) - credited).to.equal(price * PERIOD);
      expect((await f.market.dealState(B.deal.id))[1]).to.equal(PERIOD); // paidSeconds
      // The client ends B early and gets the unstreamed escrow back.
      await expect(f.market.connect(f.client).terminateDeal(B.deal))
        .to.emit(f.market, "DealEnded")
        .withArgs(B.deal.id, 1n, 0n, price * 3n * PERIOD, 0n, 100n * USDC);
      // provider2 never proved period 1: anyone reports it and earns the bounty.
      await expect(f.market.connect(f.watcher).reportMissedProofs(f.provider2.address)).to.emit(
        f.market,
        "MissedProofsReported",
      );
      expect(await f.market.balanceOf(f.watcher.address)).to.equal(1n * USDC);
      await expect(f.market.connect(f.provider2).declareFaults([D.deal.id]))
        .to.emit(f.market, "FaultDeclared")
        .withArgs(f.provider2.address, 2n, D.deal.id);
      // Ledger: withdrawals, deposits and nonce cancellation.
      expect(await f.market.balanceOf(f.provider.address)).to.equal(2n * price * PERIOD);
      await expect(f.market.connect(f.provider).withdraw(2n * price * PERIOD)).to.changeTokenBalance(
        f.ethers,
        f.token,
        f.provider,
        2n * price * PERIOD,
      );
      await expect(f.market.connect(f.watcher).withdraw(1n * USDC)).to.changeTokenBalance(
        f.ethers,
        f.token,
        f.watcher,
        1n * USDC,
      );
      await f.market.connect(f.client).deposit(f.client.address, 5n);
      await f.market.connect(f.client).withdraw(price * 3n * PERIOD + 5n);
      await expect(f.market.connect(f.client).cancelNonce(nextNonce())).to.emit(f.market, "NonceCancelled");
      expect(await f.market.paused()).to.be.true;
    });
  });
});
