import { expect } from "chai";
import { network } from "hardhat";
import {
  PieceTree,
  fromHex,
  rootFromPath,
  treeDepth,
  leafCount,
} from "../../offchain/sdk/commitment/merkle.js";
import { commitPieces, commitPiecesSync } from "../../offchain/sdk/commitment/parallel.js";
import type { MerkleHarness } from "../../typechain-types/index.js";
import { generateVectors, readVectors } from "./helpers/commitmentVectors.js";

describe("shared commitment vectors (test/vectors/commitment.json)", function () {
  const file = readVectors();

  it("are exactly what PieceTree generates today", function () {
    expect(file).to.deep.equal(generateVectors());
  });

  it("give each vector's root from PieceTree, the single-threaded and the pooled committer", async function () {
    const pieces = file.vectors.map((vector) => fromHex(vector.data));
    const roots = file.vectors.map((vector) => vector.root);
    pieces.forEach((piece, index) => {
      expect(piece.length).to.equal(file.vectors[index]?.size);
      expect(PieceTree.build(piece).root).to.equal(roots[index]);
    });
    expect(commitPiecesSync(pieces)).to.deep.equal(roots);
    expect(await commitPieces(pieces, { threads: 2 })).to.deep.equal(roots);
  });

  it("open each leaf to the root in TypeScript (rootFromPath)", function () {
    for (const vector of file.vectors) {
      expect(vector.path.length).to.equal(vector.depth);
      expect(treeDepth(leafCount(vector.size))).to.equal(vector.depth);
      expect(rootFromPath(vector.leaf, vector.leafIndex, vector.path)).to.equal(vector.root);
    }
  });

  describe("against the on-chain verifier (MerkleSha256 through contracts/mocks/MerkleHarness.sol)", function () {
    let harness: MerkleHarness;

    before(async function () {
      const { ethers } = await network.create();
      harness = await ethers.deployContract("MerkleHarness");
    });

    it("computes every vector's root from its leaf and path", async function () {
      for (const vector of file.vectors) {
        expect(
          await harness.computeRoot(vector.leaf[0], vector.leaf[1], vector.leafIndex, vector.path),
        ).to.equal(vector.root);
      }
    });

    it("agrees on leaf count and depth for every vector size", async function () {
      for (const vector of file.vectors) {
        expect(await harness.leafCount(vector.size)).to.equal(BigInt(leafCount(vector.size)));
        expect(await harness.depthOf(leafCount(vector.size))).to.equal(BigInt(vector.depth));
      }
    });

    it("rejects an opening at another index or with a flipped leaf bit", async function () {
      const vector = file.vectors.find((candidate) => candidate.depth >= 2);
      if (vector === undefined) throw new Error("need a vector with depth >= 2");
      const otherIndex = vector.leafIndex ^ 1;
      expect(await harness.computeRoot(vector.leaf[0], vector.leaf[1], otherIndex, vector.path)).to.not.equal(
        vector.root,
      );
      const flipped = "0x" + (BigInt(vector.leaf[1]) ^ 1n).toString(16).padStart(64, "0");
      expect(await harness.computeRoot(vector.leaf[0], flipped, vector.leafIndex, vector.path)).to.not.equal(
        vector.root,
      );
    });
  });
});
