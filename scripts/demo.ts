/**
 * The storage story on the local chain, end to end with the real contracts: deploy the suite with the
 * Ignition module, register and stake a provider, sign and publish a deal for a real piece, prove it period
 * after period, stream and settle the payment, miss a period and get reported, and finalize the deal.
 * Run with `npm run demo`. Fails loudly if any step does not behave as the protocol says.
 */
import { network } from "hardhat";
import { randomBytes } from "node:crypto";
import StrataLocal from "../deploy/modules/StrataLocal.js";
import { PieceTree } from "../offchain/sdk/commitment/merkle.js";
import { marketDomain, signProposal } from "../offchain/sdk/deals/eip712.js";
import { dealFromEvent, type DealProposal, type DealTerms } from "../offchain/sdk/deals/terms.js";
import { answerChallenge } from "../offchain/sdk/proofs/challenges.js";

const USDC = 1_000_000n;
const fmt = (amount: bigint) => `${(Number(amount) / 1e6).toFixed(6)} tUSD`;
const step = (n: number, text: string) => {
  console.log(`\n[${n}] ${text}`);
};
function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`demo check failed: ${message}`);
}

const connection = await network.create();
const { ethers, ignition, networkHelpers: helpers } = connection;
const signers = await ethers.getSigners();
const [deployer, provider, client, watcher] = [signers[0], signers[1], signers[2], signers[3]];
if (!deployer || !provider || !client || !watcher) throw new Error("the local chain has too few accounts");
const providerSigner = provider;
const watcherSigner = watcher;

step(
  1,
  "Deploying the storage suite (Ignition module StrataLocal: token, registry, libraries, market, timelock)",
);
const deployed = await ignition.deploy(StrataLocal);
const token = await ethers.getContractAt("TestStablecoin", await deployed.token.getAddress());
const registry = await ethers.getContractAt("ProviderRegistry", await deployed.registry.getAddress());
const market = await ethers.getContractAt("StorageMarket", await deployed.market.getAddress());
const period = await market.provingPeriod();
const params = await market.parameters();
console.log(`    market ${await market.getAddress()}  registry ${await registry.getAddress()}`);
console.log(`    timelock ${await deployed.timelock.getAddress()} holds every admin/parameter/pauser role`);
console.log(
  `    proving period ${period}s, proof window ${params.proofWindow}s, ${params.challengeCount} challenges/proof`,
);

step(2, "Provider registers, stakes 1,000 tUSD");
await token.mint(provider.address, 1_000n * USDC);
await token.connect(provider).approve(await registry.getAddress(), 1_000n * USDC);
await registry.connect(provider).register(provider.address, "http://127.0.0.1:7001", 1n << 40n, 2n * USDC);
await registry.connect(provider).stake(provider.address, 1_000n * USDC);
console.log(`    stake: ${fmt((await registry.stakeInfo(provider.address)).free)} free`);

step(3, "Client commits to a 1 MiB piece and signs an EIP-712 deal proposal for 4 periods");
const data = Uint8Array.from(randomBytes(1 << 20));
const tree = PieceTree.build(data);
const chainId = (await ethers.provider.getNetwork()).chainId;
const now = BigInt(await helpers.time.latest());
const proposal: DealProposal = {
  client: client.address,
  provider: provider.address,
  root: tree.root,
  size: BigInt(data.length),
  duration: 4n * period,
  pricePerSecond: 50n,
  collateral: 100n * USDC,
  startDeadline: now + 600n,
  nonce: 1n,
};
const signature = await signProposal(client, marketDomain(chainId, await market.getAddress()), proposal);
console.log(
  `    root ${tree.root} (depth ${tree.depth}), escrow ${fmt(proposal.pricePerSecond * proposal.duration)}`,
);
await token.mint(client.address, 100n * USDC);
await token.connect(client).approve(await market.getAddress(), 100n * USDC);

step(4, "Provider publishes the deal (escrow pulled, 100 tUSD collateral locked)");
const receipt = await (await market.connect(provider).publishDeals([{ proposal, signature }])).wait();
let deal: DealTerms | undefined;
for (const log of receipt?.logs ?? []) {
  const parsed = market.interface.parseLog(log);
  if (parsed?.name === "DealPublished") deal = dealFromEvent(parsed);
}
check(deal !== undefined, "DealPublished was not emitted");
console.log(
  `    deal #${deal.id}: periods ${deal.startPeriod}..${deal.endPeriod - 1n}, gas ${String(receipt?.gasUsed)}`,
);
check((await registry.stakeInfo(provider.address)).locked === 100n * USDC, "collateral was not locked");

async function proveOrMiss(prove: boolean): Promise<void> {
  if (!deal) return;
  const st = await market.proofState(providerSigner.address);
  const end = await market.periodStart(st.nextPeriod + 1n);
  await helpers.time.increaseTo(end - params.proofWindow + 1n);
  await helpers.mine(Number(params.challengeFinality) + 1);
  if (!prove) {
    await helpers.time.increaseTo(end);
    const tx = await market.connect(watcherSigner).reportMissedProofs(providerSigner.address);
    const r = await tx.wait();
    console.log(
      `    period ${st.nextPeriod}: no proof -> watcher reports it (gas ${String(r?.gasUsed)}), bounty ${fmt(await market.balanceOf(watcherSigner.address))}`,
    );
    return;
  }
  const [ids, words] = await market.challenges(providerSigner.address);
  const proofs = ids.map((id, i) => {
    check(id === deal.id, "challenge landed on an unknown deal");
    return answerChallenge(deal, tree, words[i] ?? 0n);
  });
  const r = await (await market.connect(providerSigner).submitProof(st.nextPeriod, proofs)).wait();
  console.log(
    `    period ${st.nextPeriod}: proof of ${proofs.length} challenged leaves accepted (gas ${String(r?.gasUsed)})`,
  );
}

step(5, "Time passes: the provider proves periods 1 to 3; payment streams per second");
await proveOrMiss(true);
await proveOrMiss(true);
await proveOrMiss(true);
const due = await market.settleableAmount(deal);
const settle = await (await market.connect(watcher).settleDeal(deal)).wait();
console.log(`    anyone settles: ${fmt(due)} credited to the provider (gas ${String(settle?.gasUsed)})`);
check(due > 0n, "nothing was payable after proven periods");

step(6, "The provider misses a period: it is not paid for it and forfeits collateral to the client");
await proveOrMiss(false);
const [missed] = await market.dealFaults(deal);
check(missed === 1n, `expected 1 missed period, got ${missed}`);

step(
  7,
  "The deal ends; anyone finalizes: final payment, refund of the faulted period, penalty to the client",
);
const dealEnd = await market.periodStart(deal.endPeriod);
if (BigInt(await helpers.time.latest()) < dealEnd) await helpers.time.increaseTo(dealEnd);
await market.connect(watcher).finalizeDeal(deal);
const providerEarned = await market.balanceOf(provider.address);
const clientBack = await market.balanceOf(client.address);
const stake = await registry.stakeInfo(provider.address);
console.log(`    provider earned ${fmt(providerEarned)} for 3 proven periods`);
console.log(`    client got back ${fmt(clientBack)} (unpaid period + 90% of a 10% collateral penalty)`);
console.log(`    provider collateral released: free stake ${fmt(stake.free)}, locked ${fmt(stake.locked)}`);
check(providerEarned === 3n * period * proposal.pricePerSecond, "provider should be paid exactly 3 periods");
check(stake.locked === 0n, "collateral still locked");

step(8, "Everyone withdraws to their wallet (pull payments)");
await market.connect(provider).withdraw(providerEarned);
await market.connect(client).withdraw(clientBack);
console.log(
  `    provider wallet ${fmt(await token.balanceOf(provider.address))}, client wallet ${fmt(await token.balanceOf(client.address))}`,
);
console.log("\nDemo complete: every step behaved as the protocol specifies.");
