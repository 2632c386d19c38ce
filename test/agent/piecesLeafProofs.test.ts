import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { BLOCK_DEPTH, LeafProver } from "../../offchain/agent/leafProofs.js";
import { PieceStore } from "../../offchain/agent/pieceStore.js";
import { LEAF_SIZE, PieceTree, rootFromPath } from "../../offchain/sdk/commitment/merkle.js";
import { removeTempDirs, tempDataDir } from "./helpers.js";

const BLOCK_BYTES = LEAF_SIZE * 2 ** BLOCK_DEPTH;

async function storedPiece(size: number): Promise<{ store: PieceStore; data: Uint8Array; tree: PieceTree }> {
  const store = new PieceStore(join(await tempDataDir(), "pieces"), { cacheBytes: 0 });
  await store.init();
  const data = Uint8Array.from(randomBytes(size));
  const tree = PieceTree.build(data);
  const written = await store.write(tree.root, size, Readable.from([data]));
  if (!written.ok) throw new Error(`write failed: ${written.reason}`);
  return { store, data, tree };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).to.have.property("code", code);
}

describe("agent leaf proofs from disk", function () {
  after(removeTempDirs);

  // Sizes around the block boundary, a partial last leaf, a single leaf and a piece with padding blocks.
  const sizes = [
    1,
    64,
    100,
    BLOCK_BYTES - 1,
    BLOCK_BYTES,
    BLOCK_BYTES + 1,
    3 * BLOCK_BYTES + 37,
    16 * BLOCK_BYTES + 5,
  ];
  for (const size of sizes) {
    it(`gives PieceTree's leaf and path for a ${size}-byte piece`, async function () {
      const { store, tree } = await storedPiece(size);
      const size64 = BigInt(size);
      const last = tree.leafCount - 1;
      const indices = [...new Set([0, 1, 1023, 1024, 1025, Math.floor(last / 2), last - 1, last])].filter(
        (i) => i >= 0 && i <= last,
      );
      for (const index of indices) {
        const proof = await store.leafProof(tree.root, size64, index);
        expect(proof.leaf, `leaf ${index}`).to.deep.equal(tree.leaf(index));
        expect(proof.path, `path ${index}`).to.deep.equal(tree.path(index));
        expect(rootFromPath(proof.leaf, index, proof.path)).to.equal(tree.root);
      }
    });
  }

  it("rejects a leaf outside the piece with LEAF_OUT_OF_RANGE", async function () {
    const { store, tree } = await storedPiece(130);
    await expectCode(store.leafProof(tree.root, 130n, 3), "LEAF_OUT_OF_RANGE");
    await expectCode(store.leafProof(tree.root, 130n, -1), "LEAF_OUT_OF_RANGE");
    await expectCode(store.leafProof(tree.root, 130n, 0.5), "LEAF_OUT_OF_RANGE");
  });

  it("says PIECE_NOT_FOUND once the file is gone, even with the top cached", async function () {
    const { store, tree } = await storedPiece(5 * BLOCK_BYTES);
    const size = BigInt(5 * BLOCK_BYTES);
    await store.leafProof(tree.root, size, 7);
    await rm(store.path(tree.root));
    await expectCode(store.leafProof(tree.root, size, 7), "PIECE_NOT_FOUND");
  });

  it("detects bytes changed after the top was computed, and a file of the wrong size", async function () {
    const { store, tree, data } = await storedPiece(3 * BLOCK_BYTES);
    const size = BigInt(data.length);
    await store.leafProof(tree.root, size, 0);
    const damaged = Buffer.from(data);
    const at = BLOCK_BYTES + 10;
    damaged[at] = (damaged[at] ?? 0) ^ 0xff;
    await writeFile(store.path(tree.root), damaged);
    // A leaf of an untouched block still proves; the damaged block does not.
    expect((await store.leafProof(tree.root, size, 0)).path).to.deep.equal(tree.path(0));
    await expectCode(store.leafProof(tree.root, size, 1024 + 3), "PIECE_CORRUPT");
    // Computed afresh (the damaged top was dropped): the whole piece no longer hashes to its root.
    await expectCode(store.leafProof(tree.root, size, 0), "PIECE_CORRUPT");

    await writeFile(store.path(tree.root), data.subarray(0, data.length - 1));
    await expectCode(store.leafProof(tree.root, size, 0), "PIECE_CORRUPT");
  });

  it("computes a piece's top once for concurrent proofs and keeps tops within budget", async function () {
    const { store, tree, data } = await storedPiece(4 * BLOCK_BYTES);
    let opened = 0; // one open per top computed plus one per proof's block read
    const prover = new LeafProver((root) => {
      opened++;
      return store.path(root);
    }, 64);
    const size = BigInt(data.length);
    const indices = [0, 1, 2, 3000, 4095];
    const proofs = await Promise.all(indices.map((i) => prover.proof(tree.root, size, i)));
    expect(proofs.map((p) => p.path)).to.deep.equal(indices.map((i) => tree.path(i)));
    expect(opened).to.equal(1 + indices.length);
    // Four block roots and the levels above: 7 nodes of 32 bytes, over the 64-byte budget: not kept.
    expect(prover.cachedTops).to.equal(0);
    const roomy = new LeafProver((root) => store.path(root));
    await roomy.proof(tree.root, size, 9);
    expect(roomy.cachedTops).to.equal(1);
    roomy.forget(tree.root);
    expect(roomy.cachedTops).to.equal(0);
    expect(Buffer.compare(await readFile(store.path(tree.root)), Buffer.from(data))).to.equal(0);
  });
});
