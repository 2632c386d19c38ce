// Helpers shared by the retrieval-challenge tests (test/storage/retrieval*.test.ts). Built on
// test/helpers/fixture.ts and test/storage/streams.helpers.ts; nothing here changes their behaviour.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { SnapshotRestorer } from "@nomicfoundation/hardhat-network-helpers/types";
import { expect } from "chai";
import type { ContractTransactionReceipt } from "ethers";
import type { DealTerms } from "../../offchain/sdk/deals/terms.js";
import type { RetrievalChallenges } from "../../typechain-types/index.js";
import {
  deployStorage,
  fundClient,
  registerProvider,
  USDC,
  type DeployOptions,
  type PieceData,
  type StorageFixture,
} from "../helpers/fixture.js";
import { eventsIn, mined } from "./publishing.helpers.js";

/** IRetrievalChallenges.Status. */
export const Status = { None: 0n, Open: 1n, Answered: 2n, Failed: 3n, Voided: 4n } as const;

/** IStorageMarket.EndReason.RetrievalFailed. */
export const RETRIEVAL_FAILED = 4n;
/** IStorageMarket.EndReason.ProviderTerminated. */
export const PROVIDER_TERMINATED = 2n;

/** The local deployment's retrieval parameters (deploy/lib/storageSuite.ts). */
export const WINDOW = 600n;
export const BOND = 5n * USDC;
/** Tokens each challenger gets (and approves to the challenge contract) in `useRetrievalFixture`. */
export const CHALLENGER_FUNDS = 1_000n * USDC;

/**
 * One network per suite: the storage suite (with its retrieval-challenge contract) deployed once, both
 * providers registered and staked, both clients funded, and the watcher and `others[0]` funded as challengers
 * with an allowance to the challenge contract. Every test starts from that snapshot.
 */
export function useRetrievalFixture(options: DeployOptions = {}): () => StorageFixture {
  let fixture: StorageFixture | undefined;
  let snapshot: SnapshotRestorer | undefined;
  before(async function () {
    const f = await deployStorage(options);
    await registerProvider(f, f.provider);
    await registerProvider(f, f.provider2);
    await fundClient(f, f.client);
    await fundClient(f, f.client2);
    for (const challenger of challengers(f)) await fundChallenger(f, challenger);
    fixture = f;
    snapshot = await f.helpers.takeSnapshot();
  });
  beforeEach(async function () {
    if (!snapshot) throw new Error("fixture not deployed");
    await snapshot.restore();
  });
  return () => {
    if (!fixture) throw new Error("fixture not deployed");
    return fixture;
  };
}

/** The accounts `useRetrievalFixture` funds as challengers. */
export function challengers(f: StorageFixture): HardhatEthersSigner[] {
  const other = f.others[0];
  if (!other) throw new Error("not enough signers");
  return [f.watcher, other];
}

/** Mint `amount` to `who` and approve the challenge contract for it. */
export async function fundChallenger(
  f: StorageFixture,
  who: HardhatEthersSigner,
  amount = CHALLENGER_FUNDS,
): Promise<void> {
  await f.token.mint(who.address, amount);
  await f.token.connect(who).approve(await f.retrievalChallenges.getAddress(), amount);
}

/** Open a challenge on `deal`'s leaf `leafIndex` as `challenger`; returns its id, deadline and receipt. */
export async function openOn(
  f: StorageFixture,
  deal: DealTerms,
  leafIndex: bigint,
  challenger: HardhatEthersSigner = f.watcher,
): Promise<{ id: bigint; deadline: bigint; receipt: ContractTransactionReceipt }> {
  const receipt = await mined(f.retrievalChallenges.connect(challenger).openChallenge(deal, leafIndex));
  const [event] = await eventsIn(receipt, f.retrievalChallenges, "RetrievalChallengeOpened");
  if (!event) throw new Error("no RetrievalChallengeOpened event");
  return { id: event.args.challengeId as bigint, deadline: event.args.deadline as bigint, receipt };
}

/** The leaf and path that answer a challenge of `leafIndex` on `piece`. */
export function answerOf(piece: PieceData, leafIndex: bigint): { leaf: [string, string]; path: string[] } {
  const i = Number(leafIndex);
  return { leaf: piece.tree.leaf(i), path: piece.tree.path(i) };
}

/** Answer challenge `id` on `deal` from the provider with the true leaf and path. */
export function answer(
  f: StorageFixture,
  id: bigint,
  deal: DealTerms,
  piece: PieceData,
  leafIndex: bigint,
  provider: HardhatEthersSigner = f.provider,
) {
  const { leaf, path } = answerOf(piece, leafIndex);
  return f.retrievalChallenges.connect(provider).answerChallenge(id, deal, leaf, path);
}

/** Move time so that the next block is just past `deadline` (enforcement becomes possible). */
export async function passDeadline(f: StorageFixture, deadline: bigint): Promise<void> {
  await f.helpers.time.setNextBlockTimestamp(deadline + 1n);
}

/** Sum of the challenge-contract ledger balances of `accounts`. */
export async function retrievalLedgerTotal(
  rc: RetrievalChallenges,
  accounts: HardhatEthersSigner[],
): Promise<bigint> {
  let total = 0n;
  for (const a of accounts) total += await rc.balanceOf(a.address);
  return total;
}

/**
 * Conservation of the challenge contract: the tokens it holds equal every ledger balance plus the bonds of
 * open challenges (a bond is always exactly in one place: escrowed, credited to the provider, or credited back).
 */
export async function expectBondsConserved(
  f: StorageFixture,
  accounts: HardhatEthersSigner[],
): Promise<void> {
  const rc = f.retrievalChallenges;
  const held = await f.token.balanceOf(await rc.getAddress());
  let owed = await retrievalLedgerTotal(rc, accounts);
  const count = await rc.challengeCount();
  for (let id = 1n; id <= count; id++) {
    const c = await rc.challengeOf(id);
    if (c.status === Status.Open) owed += c.bond;
  }
  expect(held, "challenge contract tokens == ledger balances + open bonds").to.equal(owed);
}
