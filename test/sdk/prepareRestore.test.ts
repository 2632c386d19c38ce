import { expect } from "chai";
import { createHash } from "node:crypto";
import { Wallet } from "ethers";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import { CommitPool } from "../../offchain/sdk/commitment/parallel.js";
import { prepareFile, type PreparedFile } from "../../offchain/sdk/data/prepare.js";
import { restoreFile, verifyPieces } from "../../offchain/sdk/data/restore.js";
import { deterministicBytes, expectRejection } from "./helpers/assertions.js";

const owner = new Wallet("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const stranger = new Wallet("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");

function piecesOf(prepared: PreparedFile, indices?: readonly number[]): Map<number, Uint8Array> {
  return new Map(
    prepared.pieces
      .filter((piece) => indices?.includes(piece.index) ?? true)
      .map((piece) => [piece.index, piece.data]),
  );
}

function subsets(n: number, size: number): number[][] {
  if (size === 0) return [[]];
  if (n < size) return [];
  return [...subsets(n - 1, size - 1).map((subset) => [...subset, n - 1]), ...subsets(n - 1, size)];
}

function tampered(bytes: Uint8Array, at = 0): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[at] = (copy[at] ?? 0) ^ 1;
  return copy;
}

describe("prepareFile and restoreFile", function () {
  let pool: CommitPool;
  before(function () {
    pool = new CommitPool(2);
  });
  after(async function () {
    await pool.close();
  });

  const sizes = [0, 1, 63, 64, 65, (1 << 20) + 7];
  const codings: [number, number][] = [
    [1, 0],
    [1, 2],
    [2, 1],
    [3, 2],
    [4, 0],
    [4, 2],
  ];
  for (const size of sizes) {
    for (const [k, m] of codings) {
      it(`round-trips a ${size}-byte file with k=${k}, m=${m}`, async function () {
        const bytes = deterministicBytes(`file-${size}`, size);
        const prepared = await prepareFile(bytes, {
          k,
          m,
          signer: owner,
          fileName: "f.bin",
          commit: { pool },
        });
        const { manifestDraft: draft, pieces } = prepared;
        expect(draft.fileSize).to.equal(size);
        expect(draft.fileHash).to.equal("0x" + createHash("sha256").update(bytes).digest("hex"));
        const chunks = Math.max(1, Math.ceil(size / draft.encryption.chunkSize));
        expect(draft.coding.payloadSize).to.equal(size + 16 * chunks);
        expect(draft.coding.shardSize % 64).to.equal(0);
        expect(draft.coding.shardSize * k).to.be.at.least(size + 16);
        expect(pieces).to.have.length(k + m);
        for (const piece of pieces) {
          expect(piece.data.length).to.equal(draft.coding.shardSize);
          expect(piece.size).to.equal(draft.coding.shardSize);
          expect(piece.root).to.equal(PieceTree.build(piece.data).root);
          expect(draft.pieces[piece.index]).to.deep.equal({
            index: piece.index,
            root: piece.root,
            size: piece.size,
          });
        }
        // Restore from the last k pieces: parity first whenever m > 0.
        const last = pieces.slice(m).map((piece) => piece.index);
        const restored = await restoreFile(draft, piecesOf(prepared, last), owner, { commit: { pool } });
        expect(restored.data.equals(Buffer.from(bytes))).to.be.true;
        expect(restored.used.sort()).to.deep.equal(last);
        expect(restored.rejected).to.deep.equal([]);
      });
    }
  }

  describe("with a 3-of-5 file", function () {
    let prepared: PreparedFile;
    const bytes = deterministicBytes("three of five", 200_003);

    before(async function () {
      prepared = await prepareFile(bytes, {
        k: 3,
        m: 2,
        signer: owner,
        fileName: "report.pdf",
        commit: { pool },
      });
    });

    it("restores from every subset of 3 pieces", async function () {
      for (const subset of subsets(5, 3)) {
        const restored = await restoreFile(prepared.manifestDraft, piecesOf(prepared, subset), owner);
        expect(restored.data.equals(Buffer.from(bytes)), `pieces ${subset.join(",")}`).to.be.true;
      }
    });

    it("ignores a tampered piece when k valid ones remain, and reports it", async function () {
      const pieces = piecesOf(prepared);
      pieces.set(1, tampered(pieces.get(1) ?? new Uint8Array(), 100));
      const restored = await restoreFile(prepared.manifestDraft, pieces, owner);
      expect(restored.data.equals(Buffer.from(bytes))).to.be.true;
      expect(restored.rejected).to.have.length(1);
      expect(restored.rejected[0]).to.include({ index: 1, reason: "root-mismatch" });
      expect(restored.used.sort()).to.deep.equal([0, 2, 3]);
    });

    it("reports pieces of the wrong size or an unknown index without using them", async function () {
      const pieces = piecesOf(prepared, [0, 1, 2]);
      pieces.set(3, new Uint8Array(10));
      pieces.set(7, new Uint8Array(prepared.manifestDraft.coding.shardSize));
      const { valid, rejected } = await verifyPieces(prepared.manifestDraft, pieces);
      expect([...valid.keys()]).to.deep.equal([0, 1, 2]);
      expect(rejected).to.deep.equal([
        { index: 3, reason: "wrong-size" },
        { index: 7, reason: "unknown-index" },
      ]);
    });

    it("throws NOT_ENOUGH_PIECES when a tampered piece leaves fewer than k", async function () {
      const pieces = piecesOf(prepared, [0, 2, 4]);
      pieces.set(2, tampered(pieces.get(2) ?? new Uint8Array()));
      const error = await expectRejection(
        () => restoreFile(prepared.manifestDraft, pieces, owner),
        "NOT_ENOUGH_PIECES",
      );
      expect(error.details).to.be.a("string");
    });

    it("throws NOT_ENOUGH_PIECES with fewer than k pieces", async function () {
      await expectRejection(
        () => restoreFile(prepared.manifestDraft, piecesOf(prepared, [3, 4]), owner),
        "NOT_ENOUGH_PIECES",
      );
      await expectRejection(() => restoreFile(prepared.manifestDraft, new Map(), owner), "NOT_ENOUGH_PIECES");
    });

    it("throws WRONG_KEY for another wallet", async function () {
      await expectRejection(
        () => restoreFile(prepared.manifestDraft, piecesOf(prepared), stranger),
        "WRONG_KEY",
      );
    });

    it("throws CHUNK_AUTH_FAILED when the manifest's nonce prefix was altered", async function () {
      const draft = prepared.manifestDraft;
      const badNonce = { ...draft, encryption: { ...draft.encryption, noncePrefix: "0x" + "00".repeat(8) } };
      await expectRejection(() => restoreFile(badNonce, piecesOf(prepared), owner), "CHUNK_AUTH_FAILED");
    });

    it("throws FILE_HASH_MISMATCH when the plaintext does not hash to fileHash", async function () {
      const draft = { ...prepared.manifestDraft, fileHash: "0x" + "ab".repeat(32) };
      await expectRejection(() => restoreFile(draft, piecesOf(prepared), owner), "FILE_HASH_MISMATCH");
    });

    it("writes a fresh file id, key and IV for every preparation of the same bytes", async function () {
      const again = await prepareFile(bytes, {
        k: 3,
        m: 2,
        signer: owner,
        fileName: "report.pdf",
        commit: { pool },
      });
      expect(again.manifestDraft.fileId).to.not.equal(prepared.manifestDraft.fileId);
      expect(again.manifestDraft.encryption.noncePrefix).to.not.equal(
        prepared.manifestDraft.encryption.noncePrefix,
      );
      expect(again.pieces[0]?.root).to.not.equal(prepared.pieces[0]?.root);
      expect(again.manifestDraft.fileHash).to.equal(prepared.manifestDraft.fileHash);
    });
  });

  it("records the injected clock and file name", async function () {
    const now = new Date("2026-11-20T12:00:00.000Z");
    const { manifestDraft } = await prepareFile(new Uint8Array(5), {
      k: 2,
      m: 1,
      signer: owner,
      fileName: "a b.txt",
      now: () => now,
    });
    expect(manifestDraft.createdAt).to.equal("2026-11-20T12:00:00.000Z");
    expect(manifestDraft.fileName).to.equal("a b.txt");
  });

  it("rejects bad coding parameters and file names with INVALID_ARGUMENT", async function () {
    const bytes = new Uint8Array(10);
    for (const [k, m] of [
      [0, 1],
      [25, 1],
      [2, 7],
    ] as const) {
      await expectRejection(
        () => prepareFile(bytes, { k, m, signer: owner, fileName: "x" }),
        "INVALID_ARGUMENT",
      );
    }
    for (const fileName of ["", "dir/x", "..", "a\nb", "x".repeat(256)]) {
      await expectRejection(
        () => prepareFile(bytes, { k: 1, m: 0, signer: owner, fileName }),
        "INVALID_ARGUMENT",
      );
    }
  });

  it("throws PIECE_TOO_LARGE when pieces would exceed maxPieceSize", async function () {
    await expectRejection(
      () =>
        prepareFile(new Uint8Array(1000), { k: 2, m: 1, signer: owner, fileName: "x", maxPieceSize: 256 }),
      "PIECE_TOO_LARGE",
    );
  });
});
