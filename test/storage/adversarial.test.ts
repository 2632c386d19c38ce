import { expect } from "chai";
import { concat, Signature, toBeHex, type Interface } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import {
  buildProofs,
  deployStorage,
  enterProofWindow,
  fundClient,
  randomPiece,
  registerProvider,
  USDC,
  type PieceData,
  type StorageFixture,
} from "../helpers/fixture.js";
import type { ReentrantToken, StorageMarket } from "../../typechain-types/index.js";
import {
  answerChallenge,
  challengedLeaf,
  type ChallengeProof,
} from "../../offchain/sdk/proofs/challenges.js";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import {
  DEFAULT_COLLATERAL,
  deployOnToken,
  deploySecondMarket,
  escrowOf,
  argsOf,
  eventsIn,
  mined,
  publishBatch,
  signed,
} from "./publishing.helpers.js";

const STAKE = 10_000n * USDC;
const NONCE_USED = 0n;
const UNFUNDED = 1n;

async function ready(): Promise<StorageFixture> {
  const f = await deployStorage();
  await registerProvider(f, f.provider);
  await fundClient(f, f.client);
  return f;
}

/** Name of the custom error the reentrant call of `token` reverted with, decoded with `iface`. */
async function reentryError(token: ReentrantToken, iface: Interface): Promise<string | undefined> {
  expect(await token.lastReentrySucceeded()).to.be.false;
  return iface.parseError(await token.lastReentryReturn())?.name;
}

/** Sign an EIP-2612 permit of `owner` for `spender` on the fixture's token. */
async function signPermit(
  f: StorageFixture,
  owner: HardhatEthersSigner,
  spender: string,
  value: bigint,
  deadline: bigint,
) {
  const domain = {
    name: await f.token.name(),
    version: "1",
    chainId: f.chainId,
    verifyingContract: await f.token.getAddress(),
  };
  const types = {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  };
  const nonce = await f.token.nonces(owner.address);
  const sig = Signature.from(
    await owner.signTypedData(domain, types, { owner: owner.address, spender, value, nonce, deadline }),
  );
  return { owner: owner.address, value, deadline, v: sig.v, r: sig.r, s: sig.s };
}

type Permit = Awaited<ReturnType<typeof signPermit>>;

function permitCall(market: StorageMarket, p: Permit): string {
  return market.interface.encodeFunctionData("permitClient", [p.owner, p.value, p.deadline, p.v, p.r, p.s]);
}

describe("StorageMarket adversarial", function () {
  describe("fee-on-transfer token", function () {
    async function feeSetup() {
      const f = await deployStorage();
      const fee = await f.ethers.deployContract("FeeOnTransferToken");
      const { registry, market } = await deployOnToken(f, await fee.getAddress());
      return { f, fee, registry, market };
    }

    it("rejects staking when the registry receives less than the amount (PaymentTokenShortfall)", async function () {
      const { f, fee, registry } = await feeSetup();
      await fee.mint(f.provider.address, 1_000n * USDC);
      await fee.connect(f.provider).approve(await registry.getAddress(), 1_000n * USDC);
      await expect(registry.connect(f.provider).stake(f.provider.address, 1_000n * USDC))
        .to.be.revertedWithCustomError(registry, "PaymentTokenShortfall")
        .withArgs(1_000n * USDC, 990n * USDC);
    });

    it("rejects a deposit when the market receives less than the amount (PaymentTokenShortfall)", async function () {
      const { f, fee, market } = await feeSetup();
      await fee.mint(f.client.address, 1_000n);
      await fee.connect(f.client).approve(await market.getAddress(), 1_000n);
      await expect(market.connect(f.client).deposit(f.client.address, 1_000n))
        .to.be.revertedWithCustomError(market, "PaymentTokenShortfall")
        .withArgs(1_000n, 990n);
      expect(await market.balanceOf(f.client.address)).to.equal(0n);
    });

    it("reverts a publish whose escrow pull from the allowance delivers less (not a mere skip)", async function () {
      const { f, fee, market } = await feeSetup();
      const marketAddress = await market.getAddress();
      // No collateral: the provider cannot stake this token at all.
      const s = await signed(f, { collateral: 0n }, { market: marketAddress });
      const escrow = escrowOf(s.proposal);
      await fee.mint(f.client.address, escrow * 2n);
      await fee.connect(f.client).approve(marketAddress, escrow * 2n);
      await expect(market.connect(f.provider).publishDeals([s]))
        .to.be.revertedWithCustomError(market, "PaymentTokenShortfall")
        .withArgs(escrow, escrow - escrow / 100n);
      expect(await market.nonceUsed(f.client.address, s.proposal.nonce)).to.be.false;
      // A client without an allowance is still just skipped: the transfer fails instead of delivering less.
      const unfunded = await signed(
        f,
        { client: f.client2.address, collateral: 0n },
        { market: marketAddress },
      );
      await expect(market.connect(f.provider).publishDeals([unfunded]))
        .to.emit(market, "DealSkipped")
        .withArgs(f.client2.address, unfunded.proposal.nonce, UNFUNDED);
    });
  });

  describe("reentrancy through the token", function () {
    async function reentrantSetup() {
      const f = await deployStorage();
      const token = await f.ethers.deployContract("ReentrantToken");
      const { registry, market } = await deployOnToken(f, await token.getAddress());
      const tokenAddress = await token.getAddress();
      const marketAddress = await market.getAddress();
      await token.mint(f.client.address, 10_000n);
      await token.connect(f.client).approve(marketAddress, 10_000n);
      // The token contract itself holds a ledger balance, so a successful reentrant withdraw would pay it.
      await market.connect(f.client).deposit(tokenAddress, 500n);
      return { f, token, registry, market, tokenAddress, marketAddress };
    }

    it("a reentrant market.withdraw during a withdrawal's transfer fails with ReentrancyGuardReentrantCall", async function () {
      const { f, token, market, tokenAddress, marketAddress } = await reentrantSetup();
      await market.connect(f.client).deposit(f.client.address, 1_000n);
      await token.arm(marketAddress, market.interface.encodeFunctionData("withdraw", [500n]));
      await expect(market.connect(f.client).withdraw(400n))
        .to.emit(market, "Withdrawn")
        .withArgs(f.client.address, f.client.address, 400n);
      expect(await reentryError(token, market.interface)).to.equal("ReentrancyGuardReentrantCall");
      expect(await market.balanceOf(f.client.address)).to.equal(600n);
      expect(await market.balanceOf(tokenAddress)).to.equal(500n);
      expect(await token.balanceOf(marketAddress)).to.equal(500n + 1_000n - 400n);
      expect(await token.balanceOf(f.client.address)).to.equal(10_000n - 1_500n + 400n);
      expect(await token.balanceOf(tokenAddress)).to.equal(0n);
    });

    it("a reentrant market.deposit during a deposit's transfer fails with ReentrancyGuardReentrantCall", async function () {
      const { f, token, market, tokenAddress, marketAddress } = await reentrantSetup();
      await token.arm(marketAddress, market.interface.encodeFunctionData("deposit", [tokenAddress, 1n]));
      await expect(market.connect(f.client).deposit(f.client.address, 100n))
        .to.emit(market, "Deposited")
        .withArgs(f.client.address, f.client.address, 100n);
      expect(await reentryError(token, market.interface)).to.equal("ReentrancyGuardReentrantCall");
      expect(await market.balanceOf(f.client.address)).to.equal(100n);
      expect(await market.balanceOf(tokenAddress)).to.equal(500n);
      expect(await token.balanceOf(marketAddress)).to.equal(600n);
    });

    it("a reentrant market.withdraw during publishDeals' escrow pull fails and the deal is published once", async function () {
      const { f, token, market, tokenAddress, marketAddress } = await reentrantSetup();
      const s = await signed(
        f,
        { collateral: 0n, pricePerSecond: 1n, duration: 3600n },
        { market: marketAddress },
      );
      await token.arm(marketAddress, market.interface.encodeFunctionData("withdraw", [500n]));
      const { deals } = await publishBatch(f, [s], f.provider, market);
      expect(deals.map((d) => d.id)).to.deep.equal([1n]);
      expect(await reentryError(token, market.interface)).to.equal("ReentrancyGuardReentrantCall");
      expect(await market.balanceOf(tokenAddress)).to.equal(500n);
      expect(await token.balanceOf(marketAddress)).to.equal(500n + 3600n);
    });

    it("a reentrant registry.withdrawUnbonded or stake during an unbonded withdrawal fails", async function () {
      const { f, token, registry } = await reentrantSetup();
      const registryAddress = await registry.getAddress();
      const payee = f.watcher;
      await registry.connect(f.provider).updateProvider(payee.address, "https://p", 1n, 1n);
      await token.mint(f.provider.address, 1_000n);
      await token.connect(f.provider).approve(registryAddress, 1_000n);
      await registry.connect(f.provider).stake(f.provider.address, 1_000n);
      await registry.connect(f.provider).requestUnbond(600n);
      await f.helpers.time.increase(86_400);
      // The guard fires before the body: the error is the guard's, not RegistryZeroAmount.
      await token.arm(registryAddress, registry.interface.encodeFunctionData("withdrawUnbonded"));
      await registry.connect(f.provider).withdrawUnbonded();
      expect(await reentryError(token, registry.interface)).to.equal("ReentrancyGuardReentrantCall");
      expect(await token.balanceOf(payee.address)).to.equal(600n);
      expect(await token.balanceOf(registryAddress)).to.equal(400n);
      const s = await registry.stakeInfo(f.provider.address);
      expect([s.free, s.unbonding]).to.deep.equal([400n, 0n]);

      await registry.connect(f.provider).requestUnbond(100n);
      await f.helpers.time.increase(86_400);
      await token.arm(
        registryAddress,
        registry.interface.encodeFunctionData("stake", [f.provider.address, 1n]),
      );
      await registry.connect(f.provider).withdrawUnbonded();
      expect(await reentryError(token, registry.interface)).to.equal("ReentrancyGuardReentrantCall");
      expect((await registry.stakeInfo(f.provider.address)).free).to.equal(300n);
      expect(await token.balanceOf(registryAddress)).to.equal(300n);
    });
  });

  describe("signature replay", function () {
    it("rejects a proposal signed for another chain id", async function () {
      const f = await ready();
      for (const chainId of [1n, f.chainId + 1n]) {
        const s = await signed(f, {}, { chainId });
        await expect(f.market.connect(f.provider).publishDeals([s]))
          .to.be.revertedWithCustomError(f.market, "MarketBadSignature")
          .withArgs(f.client.address);
      }
    });

    it("rejects a proposal signed for another market contract", async function () {
      const f = await ready();
      const other = await deploySecondMarket(f);
      const forFirst = await signed(f);
      await expect(other.connect(f.provider).publishDeals([forFirst]))
        .to.be.revertedWithCustomError(other, "MarketBadSignature")
        .withArgs(f.client.address);
      const forOther = await signed(f, {}, { market: await other.getAddress() });
      await expect(f.market.connect(f.provider).publishDeals([forOther]))
        .to.be.revertedWithCustomError(f.market, "MarketBadSignature")
        .withArgs(f.client.address);
      // Each works on its own market.
      expect((await publishBatch(f, [forFirst])).deals).to.have.length(1);
      await f.token.connect(f.client).approve(await other.getAddress(), escrowOf(forOther.proposal));
      expect((await publishBatch(f, [forOther], f.provider, other)).deals).to.have.length(1);
    });

    it("rejects the malleable high-s twin of a valid signature", async function () {
      const f = await ready();
      const s = await signed(f);
      const sig = Signature.from(s.signature);
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const highS = "0x" + (n - BigInt(sig.s)).toString(16).padStart(64, "0");
      const twin = concat([sig.r, highS, toBeHex(sig.v === 27 ? 28 : 27, 1)]);
      await expect(f.market.connect(f.provider).publishDeals([{ proposal: s.proposal, signature: twin }]))
        .to.be.revertedWithCustomError(f.market, "MarketBadSignature")
        .withArgs(f.client.address);
      expect((await publishBatch(f, [s])).deals).to.have.length(1);
    });

    it("skips a replayed proposal (nonce used): no second escrow and no second collateral lock", async function () {
      const f = await ready();
      const s = await signed(f);
      await publishBatch(f, [s]);
      expect(await f.market.connect(f.provider).publishDeals.staticCall([s])).to.equal(0n);
      const tx = f.market.connect(f.provider).publishDeals([s]);
      await expect(tx)
        .to.emit(f.market, "DealSkipped")
        .withArgs(f.client.address, s.proposal.nonce, NONCE_USED);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [f.client, f.market], [0n, 0n]);
      await expect(tx).not.to.emit(f.registry, "CollateralLocked");
      expect((await f.registry.stakeInfo(f.provider.address)).locked).to.equal(DEFAULT_COLLATERAL);
      expect((await f.market.proofState(f.provider.address)).activeDeals).to.equal(1n);
    });
  });

  describe("front-running a publish", function () {
    it("another provider cannot publish a proposal addressed to someone else", async function () {
      const f = await ready();
      await registerProvider(f, f.provider2);
      const s = await signed(f);
      await expect(f.market.connect(f.provider2).publishDeals([s]))
        .to.be.revertedWithCustomError(f.market, "MarketNotProposalProvider")
        .withArgs(f.provider.address, f.provider2.address);
      expect(await f.market.nonceUsed(f.client.address, s.proposal.nonce)).to.be.false;
      expect((await publishBatch(f, [s])).deals[0]?.provider).to.equal(f.provider.address);
    });

    it("a client that cancels the nonce first makes the publish a no-op: no funds taken, no collateral locked", async function () {
      const f = await ready();
      const s = await signed(f);
      const clientBefore = await f.token.balanceOf(f.client.address);
      await f.market.connect(f.client).cancelNonce(s.proposal.nonce);
      expect(await f.market.connect(f.provider).publishDeals.staticCall([s])).to.equal(0n);
      const receipt = await mined(f.market.connect(f.provider).publishDeals([s]));
      expect((await eventsIn(receipt, f.market, "DealSkipped")).map(argsOf)).to.deep.equal([
        [f.client.address, s.proposal.nonce, NONCE_USED],
      ]);
      expect(await eventsIn(receipt, f.registry, "CollateralLocked")).to.have.length(0);
      expect(await f.token.balanceOf(f.client.address)).to.equal(clientBefore);
      expect(await f.token.balanceOf(await f.market.getAddress())).to.equal(0n);
      const stake = await f.registry.stakeInfo(f.provider.address);
      expect([stake.free, stake.locked]).to.deep.equal([STAKE, 0n]);
      expect((await f.market.proofState(f.provider.address)).activeDeals).to.equal(0n);
    });

    it("a third party cannot cancel a client's nonce: cancelNonce only spends the caller's own nonce", async function () {
      const f = await ready();
      const s = await signed(f);
      await expect(f.market.connect(f.watcher).cancelNonce(s.proposal.nonce))
        .to.emit(f.market, "NonceCancelled")
        .withArgs(f.watcher.address, s.proposal.nonce);
      expect(await f.market.nonceUsed(f.client.address, s.proposal.nonce)).to.be.false;
      expect((await publishBatch(f, [s])).deals).to.have.length(1);
    });
  });

  describe("a client that never funds", function () {
    it("is skipped without any change to its account, and its proposal publishes later once funded", async function () {
      const f = await ready();
      const s = await signed(f, { client: f.client2.address });
      const receipt = await mined(f.market.connect(f.provider).publishDeals([s]));
      expect((await eventsIn(receipt, f.market, "DealSkipped")).map(argsOf)).to.deep.equal([
        [f.client2.address, s.proposal.nonce, UNFUNDED],
      ]);
      expect(await eventsIn(receipt, f.market, "DealPublished")).to.have.length(0);
      expect(await f.market.nonceUsed(f.client2.address, s.proposal.nonce)).to.be.false;
      expect(await f.market.balanceOf(f.client2.address)).to.equal(0n);
      expect(await f.token.balanceOf(await f.market.getAddress())).to.equal(0n);
      expect((await f.registry.stakeInfo(f.provider.address)).locked).to.equal(0n);
      expect((await f.market.proofState(f.provider.address)).activeDeals).to.equal(0n);

      await fundClient(f, f.client2, escrowOf(s.proposal));
      const { deals } = await publishBatch(f, [s]);
      expect(deals.map((d) => [d.id, d.client])).to.deep.equal([[1n, f.client2.address]]);
      expect(await f.token.balanceOf(f.client2.address)).to.equal(0n);
    });
  });

  describe("contract (ERC-1271) clients", function () {
    it("publishes a proposal of a smart-contract wallet signed by its owner, and rejects other signers", async function () {
      const f = await ready();
      const owner = f.client2;
      const wallet = await f.ethers.deployContract("ERC1271Wallet", [owner.address]);
      const walletAddress = await wallet.getAddress();
      const marketAddress = await f.market.getAddress();
      const s = await signed(f, { client: walletAddress }, { signer: owner });
      const escrow = escrowOf(s.proposal);
      await f.token.mint(walletAddress, escrow);
      await wallet.connect(owner).approve(await f.token.getAddress(), marketAddress, escrow);

      const forged = await signed(f, { client: walletAddress }, { signer: f.client });
      await expect(f.market.connect(f.provider).publishDeals([forged]))
        .to.be.revertedWithCustomError(f.market, "MarketBadSignature")
        .withArgs(walletAddress);

      const tx = f.market.connect(f.provider).publishDeals([s]);
      await expect(tx)
        .to.emit(f.market, "DealPublished")
        .withArgs(
          1n,
          walletAddress,
          f.provider.address,
          s.proposal.root,
          s.proposal.size,
          1n,
          25n,
          s.proposal.pricePerSecond,
          s.proposal.collateral,
          s.proposal.nonce,
        );
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [wallet, f.market], [-escrow, escrow]);
      expect(await f.market.nonceUsed(walletAddress, s.proposal.nonce)).to.be.true;
      expect(await f.market.nonceUsed(owner.address, s.proposal.nonce)).to.be.false;
    });
  });

  describe("EIP-2612 permit with multicall", function () {
    it("publishes a deal for a client without allowance through multicall([permitClient, publishDeals])", async function () {
      const f = await ready();
      const client = f.client2;
      await f.token.mint(client.address, 1_000n * USDC);
      const marketAddress = await f.market.getAddress();
      const s = await signed(f, { client: client.address });
      const escrow = escrowOf(s.proposal);
      const deadline = BigInt(await f.helpers.time.latest()) + 3600n;
      const permit = await signPermit(f, client, marketAddress, escrow * 3n, deadline);
      const calls = [
        permitCall(f.market, permit),
        f.market.interface.encodeFunctionData("publishDeals", [[s]]),
      ];
      const tx = f.market.connect(f.provider).multicall(calls);
      await expect(tx).to.emit(f.market, "DealPublished");
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [client, f.market], [-escrow, escrow]);
      expect(await f.token.allowance(client.address, marketAddress)).to.equal(escrow * 2n);
      expect(await f.token.nonces(client.address)).to.equal(1n);
    });

    it("a front-run permit (already used) does not block the publish when the allowance exists", async function () {
      const f = await ready();
      const client = f.client2;
      await f.token.mint(client.address, 1_000n * USDC);
      const marketAddress = await f.market.getAddress();
      const s = await signed(f, { client: client.address });
      const escrow = escrowOf(s.proposal);
      const deadline = BigInt(await f.helpers.time.latest()) + 3600n;
      const permit = await signPermit(f, client, marketAddress, escrow, deadline);
      // A watcher submits the permit straight to the token first.
      await f.token
        .connect(f.watcher)
        .permit(permit.owner, marketAddress, permit.value, permit.deadline, permit.v, permit.r, permit.s);
      expect(await f.token.allowance(client.address, marketAddress)).to.equal(escrow);
      // The permit itself would now revert...
      await expect(
        f.token.permit(
          permit.owner,
          marketAddress,
          permit.value,
          permit.deadline,
          permit.v,
          permit.r,
          permit.s,
        ),
      ).to.be.revertedWithCustomError(f.token, "ERC2612InvalidSigner");
      // ...but permitClient swallows the failure and the publish goes through on the existing allowance.
      const calls = [
        permitCall(f.market, permit),
        f.market.interface.encodeFunctionData("publishDeals", [[s]]),
      ];
      const tx = f.market.connect(f.provider).multicall(calls);
      await expect(tx).to.emit(f.market, "DealPublished");
      await expect(tx).to.changeTokenBalance(f.ethers, f.token, client, -escrow);
      expect(await f.token.nonces(client.address)).to.equal(1n);
    });

    it("a failed permit with no allowance leaves the proposal skipped as unfunded, not reverted", async function () {
      const f = await ready();
      const client = f.client2;
      await f.token.mint(client.address, 1_000n * USDC);
      const marketAddress = await f.market.getAddress();
      const s = await signed(f, { client: client.address });
      const deadline = BigInt(await f.helpers.time.latest()) + 3600n;
      // Signed by the wrong key.
      const permit = {
        ...(await signPermit(f, f.client, marketAddress, USDC, deadline)),
        owner: client.address,
      };
      await f.market
        .connect(f.watcher)
        .permitClient(permit.owner, permit.value, deadline, permit.v, permit.r, permit.s);
      const calls = [
        permitCall(f.market, permit),
        f.market.interface.encodeFunctionData("publishDeals", [[s]]),
      ];
      await expect(f.market.connect(f.provider).multicall(calls))
        .to.emit(f.market, "DealSkipped")
        .withArgs(client.address, s.proposal.nonce, UNFUNDED);
      expect(await f.token.allowance(client.address, marketAddress)).to.equal(0n);
    });
  });

  describe("forged, stale and replayed proofs", function () {
    const SIZE = 64 * 1024; // 1024 leaves

    async function provingSetup() {
      const f = await ready();
      const piece = randomPiece(SIZE);
      const s = await signed(f, { root: piece.tree.root, size: BigInt(SIZE), duration: 4n * 3600n });
      const { deals } = await publishBatch(f, [s]);
      const deal = deals[0];
      if (!deal) throw new Error("not published");
      const pieces = new Map<bigint, { deal: DealTerms; piece: PieceData }>([[deal.id, { deal, piece }]]);
      await enterProofWindow(f, 1n);
      const [, words] = await f.market.challenges(f.provider.address);
      const proofs = await buildProofs(f, f.provider.address, pieces);
      return { f, deal, piece, pieces, words, proofs };
    }

    function flip(word: string): string {
      const last = parseInt(word.slice(-2), 16) ^ 1;
      return word.slice(0, -2) + last.toString(16).padStart(2, "0");
    }

    function copy(proofs: ChallengeProof[]): ChallengeProof[] {
      return proofs.map((p) => ({ ...p, leaf: [p.leaf[0], p.leaf[1]], path: [...p.path] }));
    }

    it("rejects a proof with a forged leaf or a forged path node (MarketInvalidProof)", async function () {
      const { f, deal, words, proofs } = await provingSetup();
      const word = words[0];
      const first = proofs[0];
      if (word === undefined || !first) throw new Error("no challenge");
      const leafIndex = BigInt(challengedLeaf(word, deal.size));
      const forgedLeaf = copy(proofs);
      forgedLeaf[0] = { ...first, leaf: [flip(first.leaf[0]), first.leaf[1]] };
      await expect(f.market.connect(f.provider).submitProof(1n, forgedLeaf))
        .to.be.revertedWithCustomError(f.market, "MarketInvalidProof")
        .withArgs(0n, deal.id, leafIndex);
      const forgedPath = copy(proofs);
      forgedPath[0] = { ...first, path: first.path.map((n, i) => (i === 3 ? flip(n) : n)) };
      await expect(f.market.connect(f.provider).submitProof(1n, forgedPath))
        .to.be.revertedWithCustomError(f.market, "MarketInvalidProof")
        .withArgs(0n, deal.id, leafIndex);
      await expect(f.market.connect(f.provider).submitProof(1n, proofs)).to.emit(f.market, "ProofSubmitted");
    });

    it("rejects a proof built from other data under the other data's root (MarketChallengeTermsMismatch)", async function () {
      const { f, deal, words } = await provingSetup();
      const other = randomPiece(SIZE);
      const stale = words.map((w) => answerChallenge({ ...deal, root: other.tree.root }, other.tree, w));
      await expect(f.market.connect(f.provider).submitProof(1n, stale))
        .to.be.revertedWithCustomError(f.market, "MarketChallengeTermsMismatch")
        .withArgs(0n, deal.id);
    });

    it("rejects other data passed off under the deal's own terms (MarketInvalidProof)", async function () {
      const { f, deal, words } = await provingSetup();
      const other = randomPiece(SIZE);
      const word = words[0];
      if (word === undefined) throw new Error("no challenge");
      // The deal's root, meta and parties hash, with leaves and paths of the other piece.
      const stale = words.map((w) => answerChallenge(deal, other.tree, w));
      await expect(f.market.connect(f.provider).submitProof(1n, stale))
        .to.be.revertedWithCustomError(f.market, "MarketInvalidProof")
        .withArgs(0n, deal.id, BigInt(challengedLeaf(word, deal.size)));
    });

    it("rejects last period's proof replayed for its old period (MarketWrongPeriod) or the new one", async function () {
      const { f, deal, words: oldWords, proofs } = await provingSetup();
      await f.market.connect(f.provider).submitProof(1n, proofs);
      await f.helpers.mine(3); // past the next seed block, so the seed check passes
      await expect(f.market.connect(f.provider).submitProof(1n, proofs))
        .to.be.revertedWithCustomError(f.market, "MarketWrongPeriod")
        .withArgs(1n, 2n);
      await enterProofWindow(f, 2n);
      await expect(f.market.connect(f.provider).submitProof(1n, proofs))
        .to.be.revertedWithCustomError(f.market, "MarketWrongPeriod")
        .withArgs(1n, 2n);
      // Period 2 draws new challenges: the old answers open the wrong leaves.
      const [, newWords] = await f.market.challenges(f.provider.address);
      const i = newWords.findIndex((w, k) => {
        const old = oldWords[k];
        return old === undefined || challengedLeaf(w, deal.size) !== challengedLeaf(old, deal.size);
      });
      const word = newWords[i];
      if (word === undefined) throw new Error("all challenges repeat the old leaves (p ~ 1e-6)");
      await expect(f.market.connect(f.provider).submitProof(2n, proofs))
        .to.be.revertedWithCustomError(f.market, "MarketInvalidProof")
        .withArgs(BigInt(i), deal.id, BigInt(challengedLeaf(word, deal.size)));
    });
  });
});
