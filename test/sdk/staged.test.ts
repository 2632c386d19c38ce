import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StagedPieces } from "../../offchain/sdk/data/staged.js";
import { StrataError } from "../../offchain/sdk/errors.js";

/** Collect a reader's chunks in the background; `seen()` is the byte count so far. */
function collect(reader: AsyncIterable<Uint8Array>): { done: Promise<Buffer>; seen: () => number } {
  const parts: Uint8Array[] = [];
  let seen = 0;
  const done = (async () => {
    for await (const part of reader) {
      parts.push(Uint8Array.from(part));
      seen += part.length;
    }
    return Buffer.concat(parts);
  })();
  done.catch(() => undefined);
  return { done, seen: () => seen };
}

/** Wait until `seen()` reaches `bytes` (or fail after 5 s); then a moment more, to see that no byte beyond comes. */
async function reaches(seen: () => number, bytes: number): Promise<number> {
  const deadline = Date.now() + 5000;
  while (seen() < bytes && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  await new Promise((resolve) => setTimeout(resolve, 50));
  return seen();
}

describe("staged pieces: read back while they are written", function () {
  let dir: string;

  beforeEach(async function () {
    dir = await mkdtemp(join(tmpdir(), "strata-staged-"));
  });

  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("yields the bytes written so far before the shard is complete, then the rest, from any offset", async function () {
    const size = 700_000;
    const bytes = Uint8Array.from(randomBytes(size));
    const staged = new StagedPieces(dir, 2, size);
    // Readers may start before the preparation opens the shard.
    const whole = collect(staged.read(1, 0));
    const tail = collect(staged.read(1, 500_000));
    const writer = await staged.output(1, size);
    await writer.write(bytes.subarray(0, 300_000));
    expect(await reaches(whole.seen, 300_000)).to.equal(300_000);
    expect(tail.seen()).to.equal(0);
    await writer.write(bytes.subarray(300_000, 600_000));
    expect(await reaches(whole.seen, 600_000)).to.equal(600_000);
    expect(await reaches(tail.seen, 100_000)).to.equal(100_000);
    await writer.write(bytes.subarray(600_000));
    await writer.close();
    expect((await whole.done).equals(bytes)).to.equal(true);
    expect((await tail.done).equals(bytes.subarray(500_000))).to.equal(true);
    expect((await readFile(staged.path(1))).equals(bytes)).to.equal(true);
  });

  it("fails waiting readers when the preparation aborts or the store stops", async function () {
    const staged = new StagedPieces(dir, 1, 1000);
    const reader = collect(staged.read(0, 0));
    const writer = await staged.output(0, 1000);
    await writer.write(new Uint8Array(10));
    await writer.abort();
    try {
      await reader.done;
      expect.fail("the reader should fail");
    } catch (error) {
      expect(error).to.be.instanceOf(StrataError);
    }
    const stopped = new StagedPieces(dir, 1, 1000);
    const waiting = collect(stopped.read(0, 0));
    stopped.fail(new StrataError("STORE_INTERRUPTED", "stop"));
    try {
      await waiting.done;
      expect.fail("the reader should fail");
    } catch (error) {
      expect((error as StrataError).code).to.equal("STORE_INTERRUPTED");
    }
  });

  it("refuses a shard of another size or index", async function () {
    const staged = new StagedPieces(dir, 2, 1000);
    for (const [index, size] of [
      [2, 1000],
      [0, 999],
    ] as const) {
      try {
        await staged.output(index, size);
        expect.fail("should refuse");
      } catch (error) {
        expect((error as StrataError).code).to.equal("INTERNAL_INVARIANT");
      }
    }
  });
});
