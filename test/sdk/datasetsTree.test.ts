import { expect } from "chai";
import { network } from "hardhat";
import { createHash } from "node:crypto";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import {
  EMPTY_LAYOUT,
  layoutSpan,
  pieceAt,
  pieceHeight,
  placePiece,
  removePiece,
  validateLayout,
  type DataSetLayout,
} from "../../offchain/sdk/datasets/placement.js";
import {
  DataSetTree,
  EMPTY_DATA_SET_ROOT,
  ZERO_SUBTREE_ROOTS,
  dataSetDepth,
  dataSetRoot,
  verifyDataSetLeaf,
  type PieceSiblings,
} from "../../offchain/sdk/datasets/tree.js";
import type { MerkleHarness } from "../../typechain-types/index.js";
import { expectStrataError } from "./helpers/assertions.js";
import { SeededRandom } from "./helpers/seededRandom.js";

const ZERO_LEAF: [string, string] = [EMPTY_DATA_SET_ROOT, EMPTY_DATA_SET_ROOT];

/** A data set built the slow way: every piece's bytes laid out in one image, hashed as one full tree. */
class BruteForceDataSet {
  layout: DataSetLayout = EMPTY_LAYOUT;
  readonly trees = new Map<number, PieceTree>();

  add(random: SeededRandom, reuseFreed: boolean): void {
    const size = random.int(1, 64 * 40);
    const tree = PieceTree.build(random.bytes(size));
    const placed = placePiece(this.layout, tree.root, pieceHeight(size), { reuseFreed });
    this.layout = placed.layout;
    this.trees.set(placed.piece.offset, tree);
  }

  remove(random: SeededRandom): void {
    const piece = random.pick(this.layout.pieces);
    this.layout = removePiece(this.layout, piece.offset);
    this.trees.delete(piece.offset);
  }

  /** The full tree over 2^D leaves, built from every byte. */
  fullTree(): PieceTree {
    const depth = dataSetDepth(layoutSpan(this.layout));
    const image = new Uint8Array(64 * 2 ** depth);
    for (const piece of this.layout.pieces) {
      const tree = this.trees.get(piece.offset);
      if (tree === undefined) throw new Error("missing piece");
      for (let leaf = 0; leaf < tree.leafCount; leaf++) {
        const [lo, hi] = tree.leaf(leaf);
        image.set(Buffer.from(lo.slice(2) + hi.slice(2), "hex"), (piece.offset + leaf) * 64);
      }
    }
    return PieceTree.build(image);
  }

  leafBytes(leaf: number): [string, string] {
    const index = pieceAt(this.layout, leaf);
    const piece = this.layout.pieces[index];
    if (piece === undefined) return ZERO_LEAF;
    const tree = this.trees.get(piece.offset);
    if (tree === undefined) throw new Error("missing piece");
    return tree.openPadded(leaf - piece.offset).leaf;
  }

  /** The piece-internal path, as the agent reads it from its piece store (padding leaves included). */
  readonly siblings: PieceSiblings = (_index, leafInPiece, piece) => {
    const tree = this.trees.get(piece.offset);
    if (tree === undefined) throw new Error("missing piece");
    return paddedPath(tree, leafInPiece);
  };
}

/** The piece-internal path of any leaf of the padded piece tree, as the agent's piece store must serve it. */
function paddedPath(tree: PieceTree, leaf: number): string[] {
  return tree.openPadded(leaf).path;
}

describe("data-set tree (offchain/sdk/datasets/tree.ts, placement.ts)", function () {
  describe("zero subtrees and depth", function () {
    it("pins z0, z1, z2 and follows z(h+1) = sha256(zh || zh) up to 2^47 leaves", function () {
      expect(ZERO_SUBTREE_ROOTS).to.have.length(48);
      expect(ZERO_SUBTREE_ROOTS[0]).to.equal(
        "0xf5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b",
      );
      expect(ZERO_SUBTREE_ROOTS[1]).to.equal(
        "0xdb56114e00fdd4c1f85c892bf35ac9a89289aaecb1ebd0a96cde606a748b5d71",
      );
      expect(ZERO_SUBTREE_ROOTS[2]).to.equal(
        "0xc78009fdf07fc56a11f122370658a353aaa542ed63e44c4bc15ff4cd105ab33c",
      );
      for (let height = 0; height <= 6; height++) {
        expect(PieceTree.build(new Uint8Array(64 * 2 ** height)).root).to.equal(ZERO_SUBTREE_ROOTS[height]);
      }
    });

    it("gives D = ceil(log2(span)), 0 for span 0 and 1", function () {
      const cases: [number, number][] = [
        [0, 0],
        [1, 0],
        [2, 1],
        [3, 2],
        [4, 2],
        [5, 3],
        [1024, 10],
        [1025, 11],
      ];
      for (const [span, depth] of cases) expect(dataSetDepth(span)).to.equal(depth, `span ${span}`);
      expect(dataSetDepth(2n ** 47n)).to.equal(47);
      expect(pieceHeight(1)).to.equal(0);
      expect(pieceHeight(65)).to.equal(1);
      expect(pieceHeight(64 * 5)).to.equal(3);
    });

    it("roots an empty data set at bytes32(0) and a lone piece at its own root", function () {
      expect(dataSetRoot(EMPTY_LAYOUT)).to.equal(EMPTY_DATA_SET_ROOT);
      const piece = PieceTree.build(new Uint8Array(64 * 8).fill(7));
      const { layout } = placePiece(EMPTY_LAYOUT, piece.root, 3);
      expect(layoutSpan(layout)).to.equal(8);
      expect(dataSetRoot(layout)).to.equal(piece.root);
    });
  });

  describe("placement", function () {
    const root = ZERO_SUBTREE_ROOTS[0] ?? "";

    it("appends each piece at roundUp(span, 2^d)", function () {
      let layout = EMPTY_LAYOUT;
      const offsets: number[] = [];
      for (const height of [0, 2, 0, 3, 1]) {
        const placed = placePiece(layout, root, height);
        layout = placed.layout;
        offsets.push(placed.piece.offset);
      }
      expect(offsets).to.deep.equal([0, 4, 8, 16, 24]);
      expect(layoutSpan(layout)).to.equal(26);
    });

    it("reuses the lowest aligned freed range when asked, deterministically", function () {
      let layout = EMPTY_LAYOUT;
      for (const height of [0, 2, 0, 3]) layout = placePiece(layout, root, height).layout; // 0, 4, 8, 16
      layout = removePiece(layout, 4); // frees 4..7
      const reused = placePiece(layout, root, 1, { reuseFreed: true });
      expect(reused.piece.offset).to.equal(2); // the gap 1..3 holds an aligned pair at 2
      const appended = placePiece(layout, root, 1);
      expect(appended.piece.offset).to.equal(24);
      const larger = placePiece(reused.layout, root, 2, { reuseFreed: true });
      expect(larger.piece.offset).to.equal(4);
      expect(layoutSpan(larger.layout)).to.equal(24);
      expect(larger.layout.pieces.map((piece) => piece.offset)).to.deep.equal([0, 2, 4, 8, 16]);
    });

    it("shrinks the span only when trailing pieces are removed", function () {
      let layout = EMPTY_LAYOUT;
      for (const height of [2, 0, 3]) layout = placePiece(layout, root, height).layout; // 0, 4, 8
      expect(layoutSpan(removePiece(layout, 4))).to.equal(16);
      expect(layoutSpan(removePiece(layout, 8))).to.equal(5);
      expect(layoutSpan(removePiece(removePiece(layout, 4), 8))).to.equal(4);
      expectStrataError(() => removePiece(layout, 5), "INVALID_ARGUMENT");
    });

    it("refuses misaligned, overlapping or oversized layouts", function () {
      expectStrataError(
        () => validateLayout({ pieces: [{ root, height: 2, offset: 2 }] }),
        "INVALID_ARGUMENT",
      );
      expectStrataError(
        () =>
          validateLayout({
            pieces: [
              { root, height: 2, offset: 0 },
              { root, height: 0, offset: 3 },
            ],
          }),
        "INVALID_ARGUMENT",
      );
      expectStrataError(() => placePiece(EMPTY_LAYOUT, root, 48), "INVALID_ARGUMENT");
    });
  });

  describe("roots and paths against a brute-force full tree", function () {
    it("match for random additions and removals, with and without range reuse", async function () {
      const random = new SeededRandom(11);
      for (let round = 0; round < 12; round++) {
        const dataSet = new BruteForceDataSet();
        const reuse = round % 2 === 1;
        for (let step = 0; step < 8; step++) {
          if (dataSet.layout.pieces.length > 0 && random.next() < 0.3) dataSet.remove(random);
          else dataSet.add(random, reuse);
          const tree = DataSetTree.build(dataSet.layout);
          const span = layoutSpan(dataSet.layout);
          if (span === 0) {
            expect(tree.root).to.equal(EMPTY_DATA_SET_ROOT);
            continue;
          }
          const full = dataSet.fullTree();
          expect(tree.root).to.equal(full.root, `round ${round} step ${step}`);
          expect(tree.depth).to.equal(full.depth);
          for (const leaf of [0, span - 1, random.int(0, span - 1), random.int(0, span - 1)]) {
            const opened = await tree.leafPath(leaf, dataSet.siblings);
            expect(opened.path).to.deep.equal(paddedPath(full, leaf));
            expect(verifyDataSetLeaf(tree.root, tree.depth, leaf, dataSet.leafBytes(leaf), opened.path)).to.be
              .true;
          }
        }
      }
    });

    it("opens every leaf of a small data set, gaps included, and only at depth D", async function () {
      const random = new SeededRandom(5);
      const dataSet = new BruteForceDataSet();
      for (let step = 0; step < 6; step++) dataSet.add(random, false);
      dataSet.layout = removePiece(dataSet.layout, dataSet.layout.pieces[1]?.offset ?? 0);
      const tree = DataSetTree.build(dataSet.layout);
      for (let leaf = 0; leaf < tree.span; leaf++) {
        const opened = await tree.leafPath(leaf, dataSet.siblings);
        const bytes = dataSet.leafBytes(leaf);
        expect(opened.path).to.have.length(tree.depth);
        expect(verifyDataSetLeaf(tree.root, tree.depth, leaf, bytes, opened.path)).to.be.true;
        expect(verifyDataSetLeaf(tree.root, tree.depth + 1, leaf, bytes, [...opened.path, tree.root])).to.be
          .false;
        expect(verifyDataSetLeaf(tree.root, tree.depth - 1, leaf, bytes, opened.path.slice(0, -1))).to.be
          .false;
        expect(verifyDataSetLeaf(tree.root, tree.depth, leaf ^ 1, bytes, opened.path)).to.equal(
          dataSet.leafBytes(leaf ^ 1)[0] === bytes[0] && dataSet.leafBytes(leaf ^ 1)[1] === bytes[1],
        );
      }
    });

    it("assembles upper paths from piece roots alone", function () {
      const random = new SeededRandom(8);
      const dataSet = new BruteForceDataSet();
      for (let step = 0; step < 5; step++) dataSet.add(random, false);
      const tree = DataSetTree.build(dataSet.layout);
      dataSet.layout.pieces.forEach((piece, index) => {
        const upper = tree.upperPath(index);
        expect(upper).to.have.length(tree.depth - piece.height);
        expect(rootFromNode(piece.root, piece.offset / 2 ** piece.height, upper)).to.equal(tree.root);
      });
    });

    it("refuses leaves outside the span and piece paths of the wrong length", async function () {
      const dataSet = new BruteForceDataSet();
      dataSet.add(new SeededRandom(1), false);
      const tree = DataSetTree.build(dataSet.layout);
      let error: unknown;
      await tree.leafPath(tree.span, dataSet.siblings).catch((caught: unknown) => (error = caught));
      expect((error as { code?: string } | undefined)?.code).to.equal("LEAF_OUT_OF_RANGE");
      if (tree.depth > 0) {
        error = undefined;
        await tree.leafPath(0, () => []).catch((caught: unknown) => (error = caught));
        expect((error as { code?: string } | undefined)?.code).to.equal("INVALID_ARGUMENT");
      }
    });
  });

  describe("against the on-chain verifier (MerkleSha256 through MerkleHarness)", function () {
    let harness: MerkleHarness;

    before(async function () {
      const { ethers } = await network.create();
      harness = await ethers.deployContract("MerkleHarness");
    });

    it("recomputes the data-set root from a leaf and its path, gaps included", async function () {
      const random = new SeededRandom(21);
      const dataSet = new BruteForceDataSet();
      for (let step = 0; step < 6; step++) dataSet.add(random, false);
      dataSet.layout = removePiece(dataSet.layout, dataSet.layout.pieces[2]?.offset ?? 0);
      const tree = DataSetTree.build(dataSet.layout);
      const gap = pieceAt(dataSet.layout, 1) < 0 ? 1 : (dataSet.layout.pieces[1]?.offset ?? 1) - 1;
      for (const leaf of [0, gap, tree.span - 1, random.int(0, tree.span - 1)]) {
        const opened = await tree.leafPath(leaf, dataSet.siblings);
        const [lo, hi] = dataSet.leafBytes(leaf);
        expect(await harness.computeRoot(lo, hi, leaf, [...opened.path])).to.equal(tree.root);
      }
    });
  });
});

/** Root reached from an interior node (a piece root) at `index` of its level, through `path`. */
function rootFromNode(node: string, index: number, path: readonly string[]): string {
  let current: Buffer = Buffer.from(node.slice(2), "hex");
  let position = index;
  for (const sibling of path) {
    const other = Buffer.from(sibling.slice(2), "hex");
    const pair = position % 2 === 0 ? Buffer.concat([current, other]) : Buffer.concat([other, current]);
    current = createHashSha256(pair);
    position = Math.floor(position / 2);
  }
  return "0x" + current.toString("hex");
}

function createHashSha256(data: Buffer): Buffer {
  return createHash("sha256").update(data).digest();
}

describe("PieceTree.openPadded (offchain/sdk/commitment/merkle.ts)", function () {
  it("opens padding leaves as zero leaves with a path to the piece root, and refuses leaves past 2^depth", function () {
    const tree = PieceTree.build(new SeededRandom(2).bytes(64 * 5 + 1));
    expect(tree.depth).to.equal(3);
    for (let leaf = 0; leaf < 8; leaf++) {
      const opened = tree.openPadded(leaf);
      if (leaf >= tree.leafCount) expect(opened.leaf).to.deep.equal(ZERO_LEAF);
      expect(verifyDataSetLeaf(tree.root, 3, leaf, opened.leaf, opened.path)).to.be.true;
    }
    expectStrataError(() => tree.openPadded(8), "LEAF_OUT_OF_RANGE");
    expectStrataError(() => tree.path(6), "LEAF_OUT_OF_RANGE");
  });
});
