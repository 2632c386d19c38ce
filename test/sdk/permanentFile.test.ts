import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pieceRoot } from "../../offchain/sdk/commitment/parallel.js";
import { encode } from "../../offchain/sdk/data/erasure.js";
import {
  bytesSource,
  encodePermanentFile,
  LENGTH_HEADER_BYTES,
  permanentGeometry,
  rebuildPermanentPiece,
  retrievePermanent,
  type RetrievePermanentDeps,
} from "../../offchain/sdk/durability/permanent.js";
import { savePiece } from "../../offchain/sdk/repair/pieceFiles.js";
import { encodeInMemory } from "../helpers/permanentPieces.js";
import { permanentWorld } from "../../scripts/bench/permanentWorld.js";
import { pieceLeaf, verifyPieceProof } from "../../offchain/sdk/repair/pieceList.js";

/** One body of one chunk. */
async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  await Promise.resolve();
  yield bytes;
}

/** Every slot live; holder i answers with `serve(i, piece i)` (its piece by default). */
function world(
  file: { pieceSpan: bigint; roots: readonly string[]; pieces: readonly Uint8Array[] },
  serve: (index: number, piece: Uint8Array) => Uint8Array = (_i, piece) => piece,
): RetrievePermanentDeps {
  return permanentWorld({ k: 2, n: 3, pieceSpan: file.pieceSpan, roots: file.roots }, (index) =>
    once(serve(index, file.pieces[index] ?? new Uint8Array())),
  );
}

/** Everything `retrievePermanent` writes. */
async function retrieved(deps: RetrievePermanentDeps): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  const { length } = await retrievePermanent(1n, deps, {
    write: (bytes) => {
      parts.push(Uint8Array.from(bytes));
      return Promise.resolve();
    },
  });
  const out = Buffer.concat(parts);
  expect(out.length).to.equal(length);
  return out;
}

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
      const file = await encodeInMemory(bytes);
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
      expect((await retrieved(world(file))).equals(bytes)).to.equal(true);
      // Data piece 0's holder serves other bytes: it is skipped, and piece 0 decoded from piece 1 and the parity.
      const tampered = world(file, (i, piece) => (i === 0 ? piece.map((b) => b ^ 1) : piece));
      expect((await retrieved(tampered)).equals(bytes)).to.equal(true);
      // Data piece 1 short: decoded as well.
      const short = world(file, (i, piece) => (i === 1 ? piece.subarray(1) : piece));
      expect((await retrieved(short)).equals(bytes)).to.equal(true);
    });
  }

  it("encodes segment by segment exactly as the whole payload codes: a 17 MiB file (16 MiB pieces, two segments)", async function () {
    const bytes = randomBytes(17 << 20);
    const dir = mkdtempSync(path.join(tmpdir(), "strata-permanent-"));
    try {
      const file = await encodePermanentFile(bytesSource(bytes), 2, 3, dir);
      expect(file.pieceSize).to.equal(16 << 20);
      const payload = new Uint8Array(2 * file.pieceSize);
      new DataView(payload.buffer).setBigUint64(0, BigInt(bytes.length));
      payload.set(bytes, LENGTH_HEADER_BYTES);
      const whole = await encode(payload, 2, 1);
      file.files.forEach((f, i) => {
        const piece = readFileSync(f);
        expect(piece.equals(Buffer.from(whole[i] ?? [])), `piece ${i}`).to.equal(true);
        expect(file.roots[i]).to.equal(pieceRoot(piece));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a source that ends early (the file changed) fails and leaves no pieces", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "strata-permanent-"));
    try {
      const shrunk = {
        size: 5000,
        read: (into: Uint8Array, at: number) =>
          Promise.resolve(at < 1000 ? Math.min(into.length, 1000 - at) : 0),
      };
      const error = await encodePermanentFile(shrunk, 2, 3, dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.have.property("code", "INVALID_ARGUMENT");
      expect(readdirSync(dir)).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads nothing out when fewer than k holders serve their pieces (NOT_ENOUGH_PIECES)", async function () {
    const file = await encodeInMemory(randomBytes(5000));
    let written = 0;
    const error = await retrievePermanent(
      1n,
      world(file, (i, piece) => (i === 2 ? piece : new Uint8Array(piece.length))),
      {
        write: (bytes) => {
          written += bytes.length;
          return Promise.resolve();
        },
      },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.have.property("code", "NOT_ENOUGH_PIECES");
    expect(written).to.equal(0);
  });

  it("rebuilds a lost piece into a file from k holders and the commitments on chain, with its list proof", async function () {
    const file = await encodeInMemory(randomBytes(9000));
    const served = new Map(file.roots.map((root, i) => [root, file.pieces[i] ?? new Uint8Array()]));
    const corrupt = new Uint8Array(file.pieceSize); // a holder serving the wrong bytes is skipped
    const dir = mkdtempSync(path.join(tmpdir(), "strata-permanent-"));
    const store = (bytes: Uint8Array) => (root: string, size: number, to: string) =>
      savePiece([bytes], root, size, to);
    const out = path.join(dir, "rebuilt");
    const request = {
      index: 1,
      k: 2,
      n: 3,
      pieceSpan: file.pieceSpan,
      piecesRoot: file.list.root,
      slots: file.roots.map((pieceRoot, i) => ({ pieceRoot, holder: i === 1 ? null : `holder-${i}` })),
      download: (holder: string, root: string, size: number, to: string) =>
        store(holder === "holder-2" ? corrupt : (served.get(root) ?? new Uint8Array()))(root, size, to),
      dir,
      out,
    };
    try {
      // Piece 0 alone (piece 2's holder serves garbage): fewer than k good pieces.
      let error: unknown;
      await rebuildPermanentPiece(request).catch((e: unknown) => (error = e));
      expect(error).to.have.property("code", "NOT_ENOUGH_PIECES");
      const rebuilt = await rebuildPermanentPiece({
        ...request,
        download: (_holder: string, root: string, size: number, to: string) =>
          store(served.get(root) ?? new Uint8Array())(root, size, to),
      });
      expect(readFileSync(out).equals(Buffer.from(file.pieces[1] ?? new Uint8Array()))).to.equal(true);
      expect(rebuilt.root).to.equal(file.roots[1]);
      expect(rebuilt.proof).to.deep.equal(file.list.proof(1));
      // Commitments that do not make the file's list, or one never placed, are refused.
      const forged = { ...request, piecesRoot: file.roots[0] ?? "" };
      await rebuildPermanentPiece(forged).then(
        () => expect.fail("a forged list was accepted"),
        (e: unknown) => expect(e).to.have.property("code", "PIECE_CORRUPT"),
      );
      // A holder whose commitment is not on chain cannot be checked: it does not count towards k.
      const unplaced = {
        ...request,
        slots: request.slots.map((s, i) => (i === 2 ? { ...s, pieceRoot: null } : s)),
      };
      await rebuildPermanentPiece(unplaced).then(
        () => expect.fail("an unknown commitment was accepted"),
        (e: unknown) => expect(e).to.have.property("code", "NOT_ENOUGH_PIECES"),
      );
      // The wanted piece was never placed (nobody stages it any more): decoded, hashed, and proven by the list the
      // other commitments complete.
      rmSync(out, { force: true });
      const honest = (_holder: string, root: string, size: number, to: string) =>
        store(served.get(root) ?? new Uint8Array())(root, size, to);
      const neverPlaced = {
        ...request,
        download: honest,
        slots: request.slots.map((s, i) => (i === 1 ? { pieceRoot: null, holder: null } : s)),
      };
      const decoded = await rebuildPermanentPiece(neverPlaced);
      expect(decoded.root).to.equal(file.roots[1]);
      expect(decoded.proof).to.deep.equal(file.list.proof(1));
      expect(readFileSync(out).equals(Buffer.from(file.pieces[1] ?? new Uint8Array()))).to.equal(true);
      // The same against a list the pieces do not make: refused, and no file is left.
      rmSync(out, { force: true });
      await rebuildPermanentPiece({ ...neverPlaced, piecesRoot: file.roots[0] ?? "" }).then(
        () => expect.fail("a piece outside the file's list was accepted"),
        (e: unknown) => expect(e).to.have.property("code", "PIECE_CORRUPT"),
      );
      expect(existsSync(out)).to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a payload whose length header claims more than its pieces hold (PIECE_CORRUPT)", async function () {
    const payload = new Uint8Array(128);
    new DataView(payload.buffer).setBigUint64(0, 1000n);
    const pieces = await encode(payload, 2, 1);
    const file = { pieceSpan: 1n, pieces, roots: pieces.map((p) => pieceRoot(p)) };
    const error = await retrieved(world(file)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.have.property("code", "PIECE_CORRUPT");
    expect(String(error)).to.match(/claims 1000 bytes/);
  });
});
