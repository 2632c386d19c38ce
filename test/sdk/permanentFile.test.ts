import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { pieceRoot } from "../../offchain/sdk/commitment/parallel.js";
import { reconstructData } from "../../offchain/sdk/data/erasure.js";
import {
  decodePermanentPayload,
  encodePermanentFile,
  LENGTH_HEADER_BYTES,
  permanentGeometry,
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

  it("refuses a payload whose length header claims more than its pieces hold", function () {
    const piece = new Uint8Array(64);
    new DataView(piece.buffer).setBigUint64(0, 1000n);
    expect(() => decodePermanentPayload([piece])).to.throw(/claims 1000 bytes/);
  });
});
