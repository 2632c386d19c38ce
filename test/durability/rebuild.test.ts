import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { pieceRoot } from "../../offchain/sdk/commitment/parallel.js";
import { encode } from "../../offchain/sdk/data/erasure.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { rebuildPiece } from "../../offchain/sdk/repair/rebuild.js";

async function codedFile(k: number, m: number) {
  const pieces = await encode(Uint8Array.from(randomBytes(k * 4096 + 100)), k, m);
  return { pieces, roots: pieces.map((p) => pieceRoot(p)), size: pieces[0]?.length ?? 0 };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StrataError) return error.code;
    throw error;
  }
  return undefined;
}

describe("SDK repair: rebuild a lost piece from k others", () => {
  it("test_rebuildPiece_dataAndParityPiecesFromExactlyK", async () => {
    const { pieces, roots, size } = await codedFile(4, 2);
    for (const index of [0, 3, 5]) {
      // Keep exactly k pieces other than `index`.
      const kept = pieces.map((p, i) => (i === index || i === (index + 1) % 6 ? null : p));
      const rebuilt = await rebuildPiece({
        index,
        k: 4,
        m: 2,
        pieceSize: size,
        pieceRoots: roots,
        pieces: kept,
      });
      expect(Buffer.from(rebuilt).equals(Buffer.from(pieces[index] ?? new Uint8Array()))).to.equal(true);
    }
  });

  it("test_rebuildPiece_dropsACorruptSourceAndNeedsKGoodOnes", async () => {
    const { pieces, roots, size } = await codedFile(4, 2);
    const corrupt = Uint8Array.from(pieces[1] ?? []);
    corrupt[0] = (corrupt[0] ?? 0) ^ 1;
    // Pieces 1 (corrupt), 2, 3, 4, 5: four good ones remain, enough for k = 4.
    const withCorrupt = [null, corrupt, ...pieces.slice(2)];
    const rebuilt = await rebuildPiece({
      index: 0,
      k: 4,
      m: 2,
      pieceSize: size,
      pieceRoots: roots,
      pieces: withCorrupt,
    });
    expect(pieceRoot(rebuilt)).to.equal(roots[0]);
    // Only three good pieces: refused.
    const tooFew = [null, corrupt, pieces[2] ?? null, pieces[3] ?? null, pieces[4] ?? null, null];
    expect(
      await codeOf(
        rebuildPiece({ index: 0, k: 4, m: 2, pieceSize: size, pieceRoots: roots, pieces: tooFew }),
      ),
    ).to.equal("NOT_ENOUGH_PIECES");
  });

  it("test_rebuildPiece_refusesARebuildThatDoesNotMatchTheCommitment", async () => {
    const { pieces, roots, size } = await codedFile(2, 1);
    const wrongRoots = [...roots];
    wrongRoots[0] = roots[1] ?? "";
    expect(
      await codeOf(
        rebuildPiece({
          index: 0,
          k: 2,
          m: 1,
          pieceSize: size,
          pieceRoots: wrongRoots,
          pieces: [null, ...pieces.slice(1)],
        }),
      ),
    ).to.equal("PIECE_CORRUPT");
    expect(
      await codeOf(rebuildPiece({ index: 3, k: 2, m: 1, pieceSize: size, pieceRoots: roots, pieces })),
    ).to.equal("INVALID_ARGUMENT");
  });
});
