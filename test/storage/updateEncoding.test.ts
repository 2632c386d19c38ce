// A signed state update reads its entry's state as four raw calldata words (DataSetUpdates._copyState) and hashes
// them without re-encoding: these tests pin that a state whose id, version or span does not fit in 64 bits is
// rejected as the ABI decoder rejects it, whatever bits above 64 are set, and that the well-formed call succeeds.
import { expect } from "chai";
import { createDataSet, putState, signState, topUp, USDC, UniformTree } from "../helpers/fixture.js";
import { setup } from "./dataSets.helpers.js";

/** Byte offsets (in the hex string, after "0x") of the state's words in `updateDataSets([entry])` calldata. */
const WORD = { dataSetId: 0, version: 1, span: 3 } as const;
const stateWordAt = (index: number) => 2 * (4 + 3 * 32 + index * 32);

describe("StorageMarket: the encoding of a signed state", () => {
  for (const [field, index] of Object.entries(WORD)) {
    it(`test_updateDataSets_rejectsA${field.charAt(0).toUpperCase()}${field.slice(1)}Above64Bits`, async () => {
      const f = await setup();
      const id = await createDataSet(f);
      await topUp(f, id, 100n * USDC);
      const tree = UniformTree.random(1000n);
      const signed = await signState(f, f.client, {
        dataSetId: id,
        version: 1n,
        root: tree.root,
        span: tree.span,
      });
      const data = f.market.interface.encodeFunctionData("updateDataSets", [[signed]]);
      const at = stateWordAt(index);
      for (const bit of [64, 200, 255]) {
        // The word with one bit above its 64 set: the signature no longer matters, the entry is malformed.
        const word = BigInt("0x" + data.slice(2 + at, 2 + at + 64)) | (1n << BigInt(bit));
        const dirty = data.slice(0, 2 + at) + word.toString(16).padStart(64, "0") + data.slice(2 + at + 64);
        await expect(f.provider.sendTransaction({ to: await f.market.getAddress(), data: dirty })).to.revert(
          f.ethers,
        );
      }
      // The clean call applies.
      await (await f.provider.sendTransaction({ to: await f.market.getAddress(), data })).wait();
      expect((await f.market.dataSet(id)).version).to.equal(1n);
      expect((await f.market.dataSet(id)).span).to.equal(tree.span);
    });
  }

  it("test_updateDataSets_theStateHashIsTheEip712StructHash", async () => {
    const f = await setup();
    const id = await createDataSet(f);
    await topUp(f, id, 100n * USDC);
    // A state with every field large (high bits of each 64-bit field set) is signed and applied like any other.
    const tree = UniformTree.random(1000n);
    const version = (1n << 56n) - 1n;
    await (await putState(f, id, tree, { version })).wait();
    expect((await f.market.dataSet(id)).version).to.equal(version);
    // One above the stored version's bound is skipped as stale, not applied.
    await expect(putState(f, id, UniformTree.random(1000n), { version: 1n << 56n }))
      .to.emit(f.market, "DataSetUpdateSkipped")
      .withArgs(id, 1n << 56n, 0n);
  });
});
