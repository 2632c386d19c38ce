import { expect } from "chai";
import type { Interface } from "ethers";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import type { ReentrantToken, RetrievalChallenges, StorageMarket } from "../../typechain-types/index.js";
import { deployStorage, type StorageFixture } from "../helpers/fixture.js";
import { deployOnToken, escrowOf, publishBatch, signed } from "./publishing.helpers.js";
import {
  answer,
  BOND,
  openOn,
  passDeadline,
  Status,
  useRetrievalFixture,
  WINDOW,
} from "./retrieval.helpers.js";
import { publishDeals } from "./streams.helpers.js";

/** A registry, market and challenge contract on `token`, with two collateral-free deals of the provider. */
async function suiteOnToken(
  f: StorageFixture,
  token: string,
  mint: (to: string, amount: bigint) => Promise<unknown>,
): Promise<{ market: StorageMarket; rc: RetrievalChallenges; deals: DealTerms[] }> {
  const { market } = await deployOnToken(f, token);
  const marketAddress = await market.getAddress();
  const batch = [
    await signed(f, { collateral: 0n }, { market: marketAddress }),
    await signed(f, { collateral: 0n }, { market: marketAddress }),
  ];
  const escrow = batch.reduce((sum, s) => sum + escrowOf(s.proposal), 0n);
  await mint(f.client.address, escrow);
  // Any ERC-20 ABI will do for `approve`.
  const erc20 = await f.ethers.getContractAt("TestStablecoin", token);
  await erc20.connect(f.client).approve(marketAddress, escrow);
  const { deals } = await publishBatch(f, batch, f.provider, market);
  const rc = await f.ethers.deployContract("RetrievalChallenges", [
    marketAddress,
    f.admin.address,
    1_000n * BOND,
    { responseWindow: WINDOW, bond: BOND },
  ]);
  await market.grantRole(await market.RETRIEVAL_ROLE(), await rc.getAddress());
  await mint(f.watcher.address, 10n * BOND);
  await erc20.connect(f.watcher).approve(await rc.getAddress(), 10n * BOND);
  return { market, rc, deals };
}

/** Name of the custom error the token's last reentrant call reverted with. */
async function reentryError(token: ReentrantToken, iface: Interface): Promise<string | undefined> {
  expect(await token.lastReentrySucceeded()).to.be.false;
  return iface.parseError(await token.lastReentryReturn())?.name;
}

describe("RetrievalChallenges adversarial", function () {
  describe("reentrancy through the token", function () {
    async function reentrantSetup() {
      const f = await deployStorage();
      const token = await f.ethers.deployContract("ReentrantToken");
      const { rc, deals } = await suiteOnToken(f, await token.getAddress(), (to, amount) =>
        token.mint(to, amount),
      );
      const [a, b] = deals as [DealTerms, DealTerms];
      return { f, token, rc, a, b, rcAddress: await rc.getAddress() };
    }

    it("test_openChallenge_reentrantOpenDuringTheBondPullFails", async function () {
      const { f, token, rc, a, b, rcAddress } = await reentrantSetup();
      await token.arm(rcAddress, rc.interface.encodeFunctionData("openChallenge", [b, 0n]));
      await expect(rc.connect(f.watcher).openChallenge(a, 0n)).to.emit(rc, "RetrievalChallengeOpened");
      expect(await reentryError(token, rc.interface)).to.equal("ReentrancyGuardReentrantCall");
      expect(await rc.challengeCount()).to.equal(1n);
      expect(await rc.openChallengeOf(b.id)).to.equal(0n);
      expect(await token.balanceOf(rcAddress)).to.equal(BOND);
    });

    it("test_openChallenge_reentrantEnforceOrAnswerDuringTheBondPullFails", async function () {
      const { f, token, rc, a, b, rcAddress } = await reentrantSetup();
      const { id, deadline } = await openOn({ ...f, retrievalChallenges: rc }, a, 0n);
      await passDeadline(f, deadline);
      await token.arm(rcAddress, rc.interface.encodeFunctionData("enforceChallenge", [id, a]));
      await rc.connect(f.watcher).openChallenge(b, 0n);
      expect(await reentryError(token, rc.interface)).to.equal("ReentrancyGuardReentrantCall");
      expect((await rc.challengeOf(id)).status).to.equal(Status.Open);
      await token.arm(
        rcAddress,
        rc.interface.encodeFunctionData("answerChallenge", [
          id,
          a,
          ["0x" + "00".repeat(32), "0x" + "00".repeat(32)],
          [],
        ]),
      );
      await rc.connect(f.watcher).deposit(f.watcher.address, 1n);
      expect(await reentryError(token, rc.interface)).to.equal("ReentrancyGuardReentrantCall");
    });

    it("test_withdraw_reentrantWithdrawDuringTheTransferFails", async function () {
      const { f, token, rc, rcAddress } = await reentrantSetup();
      const tokenAddress = await token.getAddress();
      await rc.connect(f.watcher).deposit(f.watcher.address, 3n * BOND);
      // The token contract holds a balance here too, so a successful reentrant withdraw would pay it.
      await rc.connect(f.watcher).deposit(tokenAddress, BOND);
      await token.arm(rcAddress, rc.interface.encodeFunctionData("withdraw", [BOND]));
      await expect(rc.connect(f.watcher).withdraw(2n * BOND))
        .to.emit(rc, "Withdrawn")
        .withArgs(f.watcher.address, f.watcher.address, 2n * BOND);
      expect(await reentryError(token, rc.interface)).to.equal("ReentrancyGuardReentrantCall");
      expect(await rc.balanceOf(tokenAddress)).to.equal(BOND);
      expect(await token.balanceOf(rcAddress)).to.equal(2n * BOND);
    });
  });

  describe("governance and races", function () {
    const fixture = useRetrievalFixture();

    it("test_enforceChallenge_revertsWhileTheMarketRoleIsRevokedAndTheChallengeStaysOpen", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deals, held } = await publishDeals(f, [{}, {}]);
      const [a, b] = deals as [DealTerms, DealTerms];
      const ca = await openOn(f, a, 0n);
      const cb = await openOn(f, b, 0n);
      const role = await f.market.RETRIEVAL_ROLE();
      await f.market.connect(f.admin).revokeRole(role, await rc.getAddress());
      // Answering never needs the market: it still works without the role.
      const piece = held.get(a.id)?.piece;
      if (!piece) throw new Error("piece missing");
      await expect(answer(f, ca.id, a, piece, 0n)).to.emit(rc, "RetrievalChallengeAnswered");
      await passDeadline(f, cb.deadline);
      await expect(rc.enforceChallenge(cb.id, b))
        .to.be.revertedWithCustomError(f.market, "AccessControlUnauthorizedAccount")
        .withArgs(await rc.getAddress(), role);
      expect((await rc.challengeOf(cb.id)).status).to.equal(Status.Open);
      expect(await rc.balanceOf(f.watcher.address)).to.equal(0n);
      // Once the role is back, the same challenge is enforced.
      await f.market.connect(f.admin).grantRole(role, await rc.getAddress());
      await expect(rc.enforceChallenge(cb.id, b)).to.emit(rc, "RetrievalChallengeFailed");
    });

    it("test_openChallenge_providerTerminatingFirstMakesTheOpenRevertWithoutTakingTheBond", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deals } = await publishDeals(f, [{}]);
      const [a] = deals as [DealTerms];
      await f.market.connect(f.provider).terminateDeal(a);
      const before = await f.token.balanceOf(f.watcher.address);
      await expect(rc.connect(f.watcher).openChallenge(a, 0n))
        .to.be.revertedWithCustomError(rc, "RetrievalUnknownDeal")
        .withArgs(a.id);
      expect(await f.token.balanceOf(f.watcher.address)).to.equal(before);
    });

    it("test_answerChallenge_cannotBeAnsweredByAnotherProviderWithTheSameData", async function () {
      const f = fixture();
      const rc = f.retrievalChallenges;
      const { deals, held } = await publishDeals(f, [{}]);
      const [a] = deals as [DealTerms];
      const piece = held.get(a.id)?.piece;
      if (!piece) throw new Error("piece missing");
      const { id } = await openOn(f, a, 2n);
      await expect(answer(f, id, a, piece, 2n, f.provider2))
        .to.be.revertedWithCustomError(rc, "RetrievalNotProvider")
        .withArgs(id, f.provider2.address);
    });
  });
});
