import { expect } from "chai";
import { keccak256, toBeHex } from "ethers";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import {
  drawChallenges,
  drawClassOf,
  type FrozenDataSet,
  type FrozenProviderState,
} from "../../offchain/sdk/datasets/draw.js";
import { EMPTY_LAYOUT, pieceHeight, placePiece, removePiece } from "../../offchain/sdk/datasets/placement.js";
import {
  ZERO_LEAF,
  answerChallenge,
  verifyChallengeAnswer,
  type PieceReader,
} from "../../offchain/sdk/datasets/proofAnswer.js";
import { DataSetTree } from "../../offchain/sdk/datasets/tree.js";
import { expectRejection } from "./helpers/assertions.js";
import { SeededRandom } from "./helpers/seededRandom.js";

const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/** A provider's store: two data sets of random pieces, one with a removed piece (a gap inside its span). */
class ProviderStore {
  readonly trees = new Map<bigint, DataSetTree>();
  private readonly pieces = new Map<string, PieceTree>();

  constructor(random: SeededRandom) {
    for (const id of [1n, 2n]) {
      let layout = EMPTY_LAYOUT;
      for (let step = 0; step < 5; step++) {
        const size = random.int(1, 64 * 50);
        const piece = PieceTree.build(random.bytes(size));
        const placed = placePiece(layout, piece.root, pieceHeight(size));
        layout = placed.layout;
        this.pieces.set(`${id}:${placed.piece.offset}`, piece);
      }
      if (id === 2n) layout = removePiece(layout, layout.pieces[1]?.offset ?? 0);
      this.trees.set(id, DataSetTree.build(layout));
    }
  }

  /** The frozen state the market would hold for these two data sets. */
  frozen(): FrozenProviderState {
    const classes = new Map<number, bigint[]>();
    const dataSets = new Map<bigint, FrozenDataSet>();
    for (const [id, tree] of this.trees) {
      const c = drawClassOf(BigInt(tree.span));
      if (c === undefined) continue;
      classes.set(c, [...(classes.get(c) ?? []), id]);
      dataSets.set(id, { span: BigInt(tree.span), root: tree.root });
    }
    return { classes, dataSets };
  }

  /** Reads the pieces of data set `id`, padding leaves included. */
  reader(id: bigint): PieceReader {
    const piece = (offset: number): PieceTree => {
      const tree = this.pieces.get(`${id}:${offset}`);
      if (tree === undefined) throw new Error("missing piece");
      return tree;
    };
    return {
      siblings: (_index, leafInPiece, placed) => piece(placed.offset).openPadded(leafInPiece).path,
      leaf: (_index, leafInPiece, placed) => piece(placed.offset).openPadded(leafInPiece).leaf,
    };
  }
}

function otherRoot(root: string): string {
  return root.endsWith("0") ? root.slice(0, -1) + "1" : root.slice(0, -1) + "0";
}

describe("proof answers (offchain/sdk/datasets/proofAnswer.ts)", function () {
  it("answer every drawn challenge, gaps included, and verify only against the frozen root and leaf", async function () {
    const store = new ProviderStore(new SeededRandom(31));
    const state = store.frozen();
    let gaps = 0;
    let answered = 0;
    for (let index = 0; index < 60; index++) {
      const seed = keccak256(toBeHex(index, 32));
      for (const challenge of drawChallenges(
        { seed, provider: PROVIDER, period: 3n, challengeCount: 4 },
        state,
      )) {
        const tree = store.trees.get(challenge.dataSetId);
        const frozen = state.dataSets.get(challenge.dataSetId);
        if (tree === undefined || frozen === undefined) throw new Error("missing data set");
        const answer = await answerChallenge(tree, challenge, store.reader(challenge.dataSetId));
        answered++;
        if (answer.leaf === ZERO_LEAF) gaps++;
        expect(answer.path).to.have.length(challenge.sizeClass);
        expect(verifyChallengeAnswer(challenge, frozen, answer)).to.be.true;
        expect(verifyChallengeAnswer(challenge, { ...frozen, root: otherRoot(frozen.root) }, answer)).to.be
          .false;
        expect(verifyChallengeAnswer(challenge, { ...frozen, span: challenge.leaf }, answer)).to.be.false;
        expect(verifyChallengeAnswer({ ...challenge, leaf: challenge.leaf + 1n }, frozen, answer)).to.be
          .false;
        expect(verifyChallengeAnswer(challenge, frozen, { ...answer, path: answer.path.slice(1) })).to.be
          .false;
      }
    }
    expect(answered).to.equal(240);
    expect(gaps).to.be.greaterThan(0);
  });

  it("refuses to answer from a tree that is not the frozen one", async function () {
    const store = new ProviderStore(new SeededRandom(32));
    const tree = store.trees.get(1n);
    if (tree === undefined) throw new Error("missing data set");
    const grown = DataSetTree.build(placePiece(tree.layout, tree.root, tree.depth + 1).layout);
    const challenge = { dataSetId: 1n, leaf: 0n, sizeClass: tree.depth };
    await expectRejection(() => answerChallenge(grown, challenge, store.reader(1n)), "INVALID_ARGUMENT");
  });
});
