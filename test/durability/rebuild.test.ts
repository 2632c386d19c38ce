import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { pieceRoot } from "../../offchain/sdk/commitment/parallel.js";
import { encode, STRIPE_BYTES } from "../../offchain/sdk/data/erasure.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { rebuildPieceFile, rebuildSegments, savePiece } from "../../offchain/sdk/repair/pieceFiles.js";

async function codedFile(k: number, m: number, dataBytes = k * 4096 + 100) {
  const pieces = await encode(Uint8Array.from(randomBytes(dataBytes)), k, m);
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

describe("SDK repair: pieces on disk, rebuilt segment by segment (sdk/repair/pieceFiles.ts)", () => {
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "strata-rebuild-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  /** Write pieces to files; `null` where a piece is not held. */
  const filesOf = (pieces: readonly (Uint8Array | null)[]) =>
    pieces.map((piece, i) => {
      if (piece === null) return null;
      const file = path.join(dir, `source-${i}`);
      writeFileSync(file, piece);
      return file;
    });

  it("test_savePiece_keepsOnlyTheRightBytes: checked as they arrive; a wrong, short or long body leaves no file", async () => {
    const { pieces, roots, size } = await codedFile(2, 1);
    const piece = pieces[0] ?? new Uint8Array();
    const target = path.join(dir, "piece");
    // In several chunks, as a body arrives.
    await savePiece([piece.subarray(0, 1000), piece.subarray(1000)], roots[0] ?? "", size, target);
    expect(readFileSync(target).equals(piece)).to.equal(true);
    const other = path.join(dir, "other");
    const tampered = Uint8Array.from(piece);
    tampered[size - 1] = (tampered[size - 1] ?? 0) ^ 1;
    expect(await codeOf(savePiece([tampered], roots[0] ?? "", size, other))).to.equal("PIECE_CORRUPT");
    expect(await codeOf(savePiece([piece.subarray(1)], roots[0] ?? "", size, other))).to.equal(
      "PIECE_CORRUPT",
    );
    expect(await codeOf(savePiece([piece, piece.subarray(0, 1)], roots[0] ?? "", size, other))).to.equal(
      "PIECE_CORRUPT",
    );
    expect(existsSync(other)).to.equal(false);
  });

  it("test_rebuildPieceFile_dataAndParityPiecesFromExactlyK", async () => {
    const { pieces, roots, size } = await codedFile(4, 2);
    for (const index of [0, 3, 5]) {
      // Keep exactly k pieces other than `index`.
      const kept = pieces.map((p, i) => (i === index || i === (index + 1) % 6 ? null : p));
      const out = path.join(dir, `rebuilt-${index}`);
      await rebuildPieceFile({
        index,
        k: 4,
        m: 2,
        pieceSize: size,
        root: roots[index] ?? "",
        sources: filesOf(kept),
        out,
      });
      expect(readFileSync(out).equals(Buffer.from(pieces[index] ?? new Uint8Array()))).to.equal(true);
    }
  });

  it("test_rebuildSegments_manySegments: segment by segment equals the whole decode, in order, for held and missing pieces", async () => {
    // 600 KiB pieces decoded one stripe (256 KiB) at a time: three segments per piece, the last one short.
    const { pieces, size } = await codedFile(3, 2, 3 * 614_400 - 100);
    expect(size).to.equal(614_400);
    const sources = filesOf([null, pieces[1] ?? null, null, pieces[3] ?? null, pieces[4] ?? null]);
    const seen: { index: number; offset: number }[] = [];
    const built = new Map<number, Buffer[]>();
    await rebuildSegments(
      { k: 3, m: 2, pieceSize: size, sources, wanted: [0, 1, 2], segmentBytes: STRIPE_BYTES },
      (index, bytes, offset) => {
        seen.push({ index, offset });
        built.set(index, [...(built.get(index) ?? []), Buffer.from(bytes)]);
        return Promise.resolve();
      },
    );
    for (const index of [0, 1, 2]) {
      expect(Buffer.concat(built.get(index) ?? []).equals(Buffer.from(pieces[index] ?? []))).to.equal(true);
    }
    expect(seen.slice(0, 4)).to.deep.equal([
      { index: 0, offset: 0 },
      { index: 1, offset: 0 },
      { index: 2, offset: 0 },
      { index: 0, offset: STRIPE_BYTES },
    ]);
    expect(seen).to.have.length(9);
    // A segment that is not whole stripes would decode other bytes: refused.
    expect(
      await codeOf(
        rebuildSegments({ k: 3, m: 2, pieceSize: size, sources, wanted: [0], segmentBytes: 4096 }, () =>
          Promise.resolve(),
        ),
      ),
    ).to.equal("INVALID_ARGUMENT");
  });

  it("test_rebuildPieceFile_needsKHeldPieces", async () => {
    const { pieces, roots, size } = await codedFile(4, 2);
    // Three held pieces besides piece 0: refused before anything is written.
    const tooFew = [null, pieces[1] ?? null, pieces[2] ?? null, pieces[3] ?? null, null, null];
    const out = path.join(dir, "rebuilt");
    expect(
      await codeOf(
        rebuildPieceFile({
          index: 0,
          k: 4,
          m: 2,
          pieceSize: size,
          root: roots[0] ?? "",
          sources: filesOf(tooFew),
          out,
        }),
      ),
    ).to.equal("NOT_ENOUGH_PIECES");
    expect(existsSync(out)).to.equal(false);
  });

  it("test_rebuildPieceFile_refusesARebuildThatDoesNotMatchTheCommitment", async () => {
    const { pieces, roots, size } = await codedFile(2, 1);
    const out = path.join(dir, "rebuilt");
    // A held source whose bytes are not its piece (the caller checks sources; here one slipped through).
    const wrong = Uint8Array.from(pieces[1] ?? []);
    wrong[0] = (wrong[0] ?? 0) ^ 1;
    expect(
      await codeOf(
        rebuildPieceFile({
          index: 0,
          k: 2,
          m: 1,
          pieceSize: size,
          root: roots[0] ?? "",
          sources: filesOf([null, wrong, pieces[2] ?? null]),
          out,
        }),
      ),
    ).to.equal("PIECE_CORRUPT");
    expect(existsSync(out)).to.equal(false);
    expect(
      await codeOf(
        rebuildPieceFile({
          index: 3,
          k: 2,
          m: 1,
          pieceSize: size,
          root: roots[0] ?? "",
          sources: filesOf(pieces),
          out,
        }),
      ),
    ).to.equal("INVALID_ARGUMENT");
  });
});
