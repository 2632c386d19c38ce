import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { IPermanentStorage, IStorageMarket, PermanentStorage } from "../../typechain-types/index.js";
import { PieceList } from "../../offchain/sdk/repair/pieceList.js";
import { need, registerProvider, USDC, UniformTree, type StorageFixture } from "../helpers/fixture.js";
import { setup } from "../storage/dataSets.helpers.js";

export const SPAN = 1n << 30n; // 64 GiB pieces

/** A small coding (k = 2 of n = 3) so a test can place, lose and repair every piece. */
export function testConfig(): IPermanentStorage.ConfigStruct {
  return {
    referencePricePerTiBMonth: (5n * USDC) / 2n,
    declineBps: 50n,
    horizonYears: 200n,
    dataShards: 2n,
    totalShards: 3n,
    repairAllowanceBps: 5_000n,
    feeBps: 100n,
    maxPriceBps: 20_000n,
    collateralPerTiB: 100n * USDC,
    noticePeriods: 2n,
    prepaidPeriods: 48n,
    repairReward: USDC / 2n,
    offerWindow: 600n,
  };
}

export interface PermanentFixture {
  f: StorageFixture;
  perm: PermanentStorage;
  providers: HardhatEthersSigner[];
  trees: UniformTree[];
  list: PieceList;
  uploader: HardhatEthersSigner;
}

export async function permanentSetup(
  config: IPermanentStorage.ConfigStruct = testConfig(),
): Promise<PermanentFixture> {
  const f = await setup();
  const extra = f.others.slice(0, 3);
  for (const p of extra) await registerProvider(f, p, 1_000_000n * USDC);
  const providers = [f.provider, f.provider2, ...extra];
  const perm = await f.ethers.deployContract("PermanentStorage", [
    await f.market.getAddress(),
    config,
    f.treasury.address,
  ]);
  const trees = [0, 1, 2].map(() => UniformTree.random(SPAN));
  const list = new PieceList(
    trees.map((t, index) => ({ index, pieceRoot: t.root, span: SPAN, dataSetId: 0n })),
  );
  return { f, perm, providers, trees, list, uploader: f.client };
}

export async function storeFile(p: PermanentFixture): Promise<bigint> {
  const { f, perm, uploader } = p;
  const [principal, fee] = await perm.quote(SPAN);
  await f.token.mint(uploader.address, principal + fee);
  await f.token.connect(uploader).approve(await perm.getAddress(), principal + fee);
  await (await perm.connect(uploader).storePermanent(p.list.root, SPAN, principal + fee)).wait();
  return await perm.fileCount();
}

export function awardedTerms(
  perm: PermanentStorage,
  logs: readonly { topics: readonly string[]; data: string }[],
) {
  for (const log of logs) {
    const parsed = perm.interface.parseLog(log);
    if (parsed?.name === "SlotAwarded") {
      const t = parsed.args.terms as IStorageMarket.CreateDataSetStruct;
      return {
        client: t.client,
        provider: t.provider,
        pricePerTiBMonth: t.pricePerTiBMonth,
        collateralPerTiB: t.collateralPerTiB,
        noticePeriods: t.noticePeriods,
        nonce: t.nonce,
        deadline: t.deadline,
      };
    }
  }
  throw new Error("no SlotAwarded event");
}

/** Offer (one provider), award, create, place and apply piece `index`; returns the new data set id. */
export async function placePiece(
  p: PermanentFixture,
  fileId: bigint,
  index: number,
  provider: HardhatEthersSigner,
  price = 2n * USDC,
): Promise<bigint> {
  const { f, perm } = p;
  await (await perm.connect(provider).offer(fileId, index, price)).wait();
  const { offerWindow } = await perm.config();
  await f.helpers.time.increase(offerWindow + 1n);
  const receipt = await (await perm.award(fileId, index)).wait();
  const terms = awardedTerms(perm, receipt?.logs ?? []);
  await (await f.market.connect(provider).createDataSet(terms, "0x")).wait();
  const id = await f.market.dataSetCount();
  const tree = need(p.trees[index], "tree");
  await (await perm.place(fileId, index, tree.root, p.list.proof(index), id)).wait();
  const state = { dataSetId: id, version: 1n, root: tree.root, span: SPAN };
  await (
    await f.market
      .connect(provider)
      .updateDataSets([{ state, signer: await perm.getAddress(), signature: "0x" }])
  ).wait();
  return id;
}
