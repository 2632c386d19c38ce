import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { pieceRoot } from "../../offchain/sdk/commitment/parallel.js";
import { reconstructData } from "../../offchain/sdk/data/erasure.js";
import {
  decodePermanentPayload,
  encodePermanentFile,
  LENGTH_HEADER_BYTES,
  permanentGeometry,
  rebuildPermanentPiece,
} from "../../offchain/sdk/durability/permanent.js";
import { pieceLeaf, verifyPieceProof } from "../../offchain/sdk/repair/pieceList.js";

describe("permanent file format (offchain/sdk/durability/permanent.ts)", function () {
  it("cuts every file into pieces of exactly a power of two of leaves", function () {
    expect(permanentGeometry(0, 2)).to.deep.equal({ pieceSize: 64, pieceSpan: 1n });
    expect(permanentGeometry(2 * 64 - LENGTH_HEADER_BYTES, 2)).to.deep.equal({
      pieceSize: 64,
      pieceSpan: 1n,
    });
    expect(permanentGeometry(2 * 64 - LENGTH_HEADER_BYTES + 1, 2)).to.deep.equal({
      pieceSize: 128,
      pieceSpan: 2n,
    });
    expect(permanentGeometry(300_017, 10)).to.deep.equal({ pieceSize: 32_768, pieceSpan: 512n });
  });

  for (const size of [0, 1, 119, 120, 121, 5000, 70_001]) {
    it(`gives a ${size}-byte file back from any k of its n pieces, each proven in the piece list`, async function () {
      const bytes = randomBytes(size);
      const file = await encodePermanentFile(bytes, 2, 3);
      expect(file.pieces.map((p) => p.length)).to.deep.equal([
        file.pieceSize,
        file.pieceSize,
        file.pieceSize,
      ]);
      file.pieces.forEach((piece, index) => {
        expect(pieceRoot(piece)).to.equal(file.roots[index]);
        const leaf = pieceLeaf({
          index,
          pieceRoot: file.roots[index] ?? "",
          span: file.pieceSpan,
          dataSetId: 0n,
        });
        expect(verifyPieceProof(leaf, file.list.proof(index), file.list.root)).to.equal(true);
        // A piece's proof does not prove it at another position.
        const moved = pieceLeaf({
          index: (index + 1) % 3,
          pieceRoot: file.roots[index] ?? "",
          span: file.pieceSpan,
          dataSetId: 0n,
        });
        expect(verifyPieceProof(moved, file.list.proof(index), file.list.root)).to.equal(false);
      });
      expect(Buffer.from(decodePermanentPayload(file.pieces.slice(0, 2))).equals(bytes)).to.equal(true);
      // Without data piece 0: rebuilt from piece 1 and the parity piece.
      const data = await reconstructData(
        [null, file.pieces[1] ?? null, file.pieces[2] ?? null],
        2,
        1,
        file.pieceSize,
      );
      expect(Buffer.from(decodePermanentPayload(data.slice(0, 2))).equals(bytes)).to.equal(true);
    });
  }

  it("rebuilds a lost piece from k holders and the commitments on chain, with its list proof", async function () {
    const file = await encodePermanentFile(randomBytes(9000), 2, 3);
    const served = new Map(file.roots.map((root, i) => [root, file.pieces[i] ?? new Uint8Array()]));
    const corrupt = new Uint8Array(file.pieceSize); // a holder serving the wrong bytes is skipped
    const request = {
      index: 1,
      k: 2,
      n: 3,
      pieceSpan: file.pieceSpan,
      piecesRoot: file.list.root,
      slots: file.roots.map((pieceRoot, i) => ({ pieceRoot, holder: i === 1 ? null : `holder-${i}` })),
      download: (holder: string, root: string) =>
        Promise.resolve(holder === "holder-2" ? corrupt : (served.get(root) ?? new Uint8Array())),
    };
    // Piece 0 alone (piece 2's holder serves garbage): fewer than k good pieces.
    let error: unknown;
    await rebuildPermanentPiece(request).catch((e: unknown) => (error = e));
    expect(error).to.have.property("code", "NOT_ENOUGH_PIECES");
    const rebuilt = await rebuildPermanentPiece({
      ...request,
      download: (_holder: string, root: string) => Promise.resolve(served.get(root) ?? new Uint8Array()),
    });
    expect(Buffer.from(rebuilt.bytes).equals(Buffer.from(file.pieces[1] ?? new Uint8Array()))).to.equal(true);
    expect(rebuilt.root).to.equal(file.roots[1]);
    expect(rebuilt.proof).to.deep.equal(file.list.proof(1));
    // Commitments that do not make the file's list, or one never placed, are refused.
    const forged = { ...request, piecesRoot: file.roots[0] ?? "" };
    await rebuildPermanentPiece(forged).then(
      () => expect.fail("a forged list was accepted"),
      (e: unknown) => expect(e).to.have.property("code", "PIECE_CORRUPT"),
    );
    const unplaced = {
      ...request,
      slots: request.slots.map((s, i) => (i === 2 ? { ...s, pieceRoot: null } : s)),
    };
    await rebuildPermanentPiece(unplaced).then(
      () => expect.fail("an unknown commitment was accepted"),
      (e: unknown) => expect(e).to.have.property("code", "NOT_ENOUGH_PIECES"),
    );
  });

  it("refuses a payload whose length header claims more than its pieces hold", function () {
    const piece = new Uint8Array(64);
    new DataView(piece.buffer).setBigUint64(0, 1000n);
    expect(() => decodePermanentPayload([piece])).to.throw(/claims 1000 bytes/);
  });
});
