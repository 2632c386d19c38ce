import { expect } from "chai";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import {
  CommitPool,
  commitPieces,
  commitPiecesSync,
  defaultCommitPool,
  JOB_HEIGHT,
  pieceRoot,
} from "../../offchain/sdk/commitment/parallel.js";
import { expectRejection, expectStrataError, deterministicBytes } from "./helpers/assertions.js";

const JOB_BYTES = 64 * 2 ** JOB_HEIGHT;

/** Sizes around leaf, block (64 KiB), job (4 MiB) and power-of-two boundaries. */
const SIZES = [
  1,
  63,
  64,
  65,
  127,
  4096,
  65_535,
  65_536,
  65_537,
  200_000,
  JOB_BYTES - 64,
  JOB_BYTES,
  JOB_BYTES + 64,
];

describe("parallel piece commitment", function () {
  const pieces = SIZES.map((size) => deterministicBytes(`piece-${size}`, size));
  const expected = pieces.map((piece) => PieceTree.build(piece).root);

  it("single-threaded roots equal PieceTree.build(piece).root at every boundary size", function () {
    expect(commitPiecesSync(pieces)).to.deep.equal(expected);
    pieces.forEach((piece, index) => {
      expect(pieceRoot(piece)).to.equal(expected[index]);
    });
  });

  describe("on worker threads", function () {
    let pool: CommitPool;

    before(function () {
      pool = new CommitPool(2);
    });

    after(async function () {
      await pool.close();
    });

    it("returns the same roots, in order, for ordinary buffers (copied through shared slots)", async function () {
      expect(await pool.commit(pieces)).to.deep.equal(expected);
    });

    it("returns the same roots for views of a SharedArrayBuffer (no copy)", async function () {
      const shared = pieces.map((piece) => {
        const view = new Uint8Array(new SharedArrayBuffer(piece.length + 64), 32, piece.length);
        view.set(piece);
        return view;
      });
      expect(await pool.commit(shared)).to.deep.equal(expected);
    });

    it("splits a piece larger than one job across workers and lifts the subtrees to the same root", async function () {
      // 2 jobs + 1 leaf: depth grows by two levels over one job, most of it zero padding that is never hashed.
      const piece = deterministicBytes("multi-job", 2 * JOB_BYTES + 64);
      expect(await pool.commit([piece])).to.deep.equal([PieceTree.build(piece).root]);
    });

    it("does not detach or alter the caller's buffers", async function () {
      const piece = deterministicBytes("intact", JOB_BYTES + 100);
      const before = createHash("sha256").update(piece).digest("hex");
      await pool.commit([piece]);
      expect(piece.length).to.equal(JOB_BYTES + 100);
      expect(createHash("sha256").update(piece).digest("hex")).to.equal(before);
    });

    it("serves concurrent calls", async function () {
      const [a, b] = await Promise.all([pool.commit(pieces.slice(0, 6)), pool.commit(pieces.slice(6))]);
      expect([...a, ...b]).to.deep.equal(expected);
    });
  });

  it("commitPieces uses the shared pool (or a pool of the requested size) above 8 MiB, one thread below", async function () {
    const big = [deterministicBytes("big-a", 5 << 20), deterministicBytes("big-b", (3 << 20) + 7)];
    const expectedBig = commitPiecesSync(big);
    expect(await commitPieces(big)).to.deep.equal(expectedBig);
    expect(await commitPieces(big, { threads: 3 })).to.deep.equal(expectedBig);
    expect(await commitPieces(big, { threads: 1 })).to.deep.equal(expectedBig);
    expect(await commitPieces(pieces.slice(0, 3))).to.deep.equal(expected.slice(0, 3));
  });

  it("keeps one shared default pool and replaces it once it is closed", async function () {
    const pool = defaultCommitPool();
    expect(defaultCommitPool()).to.equal(pool);
    expect(pool.threads).to.equal(availableParallelism());
    await pool.close();
    expect(pool.usable).to.be.false;
    const replacement = defaultCommitPool();
    expect(replacement).to.not.equal(pool);
    expect(await replacement.commit([pieces[0] ?? new Uint8Array(1)])).to.deep.equal([expected[0]]);
  });

  it("rejects an empty piece with INVALID_ARGUMENT", async function () {
    expectStrataError(() => commitPiecesSync([new Uint8Array(0)]), "INVALID_ARGUMENT");
    const pool = new CommitPool(1);
    try {
      await expectRejection(() => pool.commit([new Uint8Array(1), new Uint8Array(0)]), "INVALID_ARGUMENT");
    } finally {
      await pool.close();
    }
  });

  it("fails jobs submitted to a closed pool with COMMIT_WORKER_FAILED", async function () {
    const pool = new CommitPool(1);
    await pool.close();
    await expectRejection(() => pool.commit([new Uint8Array(64)]), "COMMIT_WORKER_FAILED");
  });

  it("does not keep the process alive with an idle pool that was never closed", async function () {
    this.timeout(20_000);
    const script = [
      "const { CommitPool } = await import(process.argv[1]);",
      "const pool = new CommitPool(2);",
      "const [root] = await pool.commit([new Uint8Array(64)]);",
      "console.log(root);",
    ].join("\n");
    const module = fileURLToPath(new URL("../../offchain/sdk/commitment/parallel.ts", import.meta.url));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script, module],
      { timeout: 15_000 },
    );
    expect(stdout.trim()).to.equal(PieceTree.build(new Uint8Array(64)).root);
  });

  it("rejects a pool of zero threads", function () {
    expectStrataError(() => new CommitPool(0), "INVALID_ARGUMENT");
  });
});
