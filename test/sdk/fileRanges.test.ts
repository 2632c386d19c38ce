import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileRangeChunks } from "../../offchain/sdk/data/fileRanges.js";
import { StrataError } from "../../offchain/sdk/errors.js";

describe("fileRangeChunks: a file range read into two recycled buffers", function () {
  let dir: string;
  let path: string;
  const data = randomBytes(10_000);
  const short = (at: number): Error => new StrataError("PIECE_CORRUPT", `ended at ${at}`);

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "strata-ranges-"));
    path = join(dir, "data.bin");
    await writeFile(path, data);
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  async function read(start: number, end: number, chunkBytes: number, stopAfter = Infinity) {
    const handle = await open(path, "r");
    const copies: Buffer[] = [];
    const memory = new Set<ArrayBufferLike>();
    try {
      for await (const chunk of fileRangeChunks(handle, start, end, chunkBytes, short)) {
        expect(chunk.length).to.be.at.most(chunkBytes);
        memory.add(chunk.buffer);
        copies.push(Buffer.from(chunk));
        if (copies.length >= stopAfter) break;
      }
    } finally {
      await handle.close();
    }
    return { bytes: Buffer.concat(copies), chunks: copies.length, buffers: memory.size };
  }

  it("yields exactly the range, in order, whatever the chunk size, from two buffers only", async function () {
    for (const [start, end, chunk] of [
      [0, 10_000, 1024],
      [1, 9_999, 1000],
      [4_095, 4_097, 4096],
      [0, 10_000, 1 << 20],
      [9_999, 10_000, 64],
    ] as const) {
      const got = await read(start, end, chunk);
      expect(Buffer.compare(got.bytes, data.subarray(start, end)), `${start}-${end}/${chunk}`).to.equal(0);
      expect(got.chunks).to.equal(Math.ceil((end - start) / chunk));
      expect(got.buffers).to.equal(Math.min(2, got.chunks));
    }
  });

  it("a later chunk overwrites the memory of the chunk before the one asked for, never of the current one", async function () {
    const handle = await open(path, "r");
    try {
      const chunks = fileRangeChunks(handle, 0, 4096, 1024, short);
      const first = (await chunks.next()).value as Uint8Array;
      const firstCopy = Buffer.from(first);
      const second = (await chunks.next()).value as Uint8Array;
      // The first chunk's buffer now holds the third chunk's read (or is being read into): only the second is stable.
      expect(Buffer.compare(Buffer.from(second), data.subarray(1024, 2048))).to.equal(0);
      expect(Buffer.compare(firstCopy, data.subarray(0, 1024))).to.equal(0);
      expect(second.buffer).to.not.equal(first.buffer);
      await chunks.return(undefined);
    } finally {
      await handle.close();
    }
  });

  it("reads nothing for an empty range and stops cleanly when the caller stops early", async function () {
    expect((await read(500, 500, 64)).chunks).to.equal(0);
    const early = await read(0, 10_000, 1000, 3);
    expect(Buffer.compare(early.bytes, data.subarray(0, 3000))).to.equal(0);
  });

  it("throws the caller's error when the file ends before the range does", async function () {
    const handle = await open(path, "r");
    try {
      const seen: number[] = [];
      let error: unknown;
      try {
        for await (const chunk of fileRangeChunks(handle, 9_000, 12_000, 512, short)) seen.push(chunk.length);
      } catch (caught) {
        error = caught;
      }
      expect(seen.reduce((a, b) => a + b, 0)).to.equal(1000);
      expect(error).to.be.instanceOf(StrataError);
      expect((error as StrataError).code).to.equal("PIECE_CORRUPT");
      expect((error as StrataError).message).to.contain("ended at 10000");
    } finally {
      await handle.close();
    }
  });
});
