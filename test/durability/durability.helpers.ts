import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { RepairMandate, RepairMandateFactory } from "../../typechain-types/index.js";
import { signMandate, type MandateTerms } from "../../offchain/sdk/repair/mandate.js";
import { PieceList, type ListedPiece } from "../../offchain/sdk/repair/pieceList.js";
import { USDC, UniformTree, type StorageFixture } from "../helpers/fixture.js";
import { liveDataSet, setup } from "../storage/dataSets.helpers.js";

export const PIECE_SPAN = 1n << 30n; // 64 GiB

export interface MandateFixture {
  f: StorageFixture;
  factory: RepairMandateFactory;
  mandate: RepairMandate;
  list: PieceList;
  trees: UniformTree[];
  terms: MandateTerms;
}

let mandateNonce = 1n;

/** Deploy a factory, store two pieces in two of the owner's data sets and open a mandate over them. */
export async function mandateSetup(overrides: Partial<MandateTerms> = {}): Promise<MandateFixture> {
  const f = await setup();
  const factory = await f.ethers.deployContract("RepairMandateFactory", [await f.market.getAddress()]);
  const a = await liveDataSet(f, PIECE_SPAN, { escrow: 100n * USDC });
  const b = await liveDataSet(f, PIECE_SPAN, { escrow: 100n * USDC, provider: f.provider2 });
  const pieces: ListedPiece[] = [
    { index: 0, pieceRoot: a.tree.root, span: PIECE_SPAN, dataSetId: a.id },
    { index: 1, pieceRoot: b.tree.root, span: PIECE_SPAN, dataSetId: b.id },
  ];
  const list = new PieceList(pieces);
  const now = BigInt(await f.helpers.time.latest());
  const terms: MandateTerms = {
    owner: f.client.address,
    piecesRoot: list.root,
    pieceCount: 2,
    priceCeiling: 5n * USDC,
    collateralFloor: 100n * USDC,
    noticePeriods: 2n,
    prepaidPeriods: 24n,
    repairReward: USDC / 2n,
    budget: 50n * USDC,
    excluded: [],
    nonce: mandateNonce++,
    deadline: now + 3600n,
    ...overrides,
  };
  await f.token.mint(f.client.address, terms.budget);
  await f.token.connect(f.client).approve(await factory.getAddress(), terms.budget);
  const signature = await signMandate(f.client, f.chainId, await factory.getAddress(), terms);
  const address = await factory.mandateAddress(terms.owner, terms.nonce);
  await (await factory.connect(f.watcher).openMandate(terms, signature)).wait();
  const mandate = await f.ethers.getContractAt("RepairMandate", address);
  return { f, factory, mandate, list, trees: [a.tree, b.tree], terms };
}

/** End the owner's data set `id` for faults (maxFaults missed periods, then anyone terminates it). */
export async function failDataSet(f: StorageFixture, id: bigint, provider: HardhatEthersSigner) {
  const n = (await f.market.proofState(provider.address)).nextPeriod;
  const { maxFaults } = await f.market.parameters();
  // A data set written in period n is frozen from n + 1 on, so its faults start there.
  const target = await f.market.periodStart(n + maxFaults + 2n);
  if (BigInt(await f.helpers.time.latest()) < target) await f.helpers.time.increaseTo(target);
  await (await f.market.connect(f.watcher).terminateFaultyDataSet(id)).wait();
}
