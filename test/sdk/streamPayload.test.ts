import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import { CommitPool } from "../../offchain/sdk/commitment/parallel.js";
import { HASH_BLOCK_BYTES, PieceHasher } from "../../offchain/sdk/commitment/stream.js";
import { geometryFor, openChunk, payloadRuns, sealChunk } from "../../offchain/sdk/data/chunked.js";
import {
  memoryWriter,
  preparePayload,
  readRange,
  type FetchShardRange,
  type PreparedPayload,
} from "../../offchain/sdk/data/stream.js";
import { deterministicBytes, expectRejection, expectStrataError } from "./helpers/assertions.js";

const KEY = Uint8Array.from(randomBytes(32));
const PREFIX = Uint8Array.from(randomBytes(8));

async function prepareInMemory(
  bytes: Uint8Array,
  k: number,
  m: number,
  chunkSize: number,
  partSize = 100_003,
): Promise<{ payload: PreparedPayload; shards: Map<number, Uint8Array> }> {
  const shards = new Map<number, Uint8Array>();
  const parts: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += partSize) parts.push(bytes.subarray(at, at + partSize));
  const payload = await preparePayload({
    source: parts,
    size: bytes.length,
    k,
    m,
    key: KEY,
    chunkSize,
    segmentStripes: 2,
    output: (index, size) => Promise.resolve(memoryWriter(size, (b) => shards.set(index, b))),
  });
  return { payload, shards };
}

function fetcher(
  shards: Map<number, Uint8Array>,
  opts: { missing?: readonly number[]; tamper?: number; log?: [number, number, number][] } = {},
): FetchShardRange {
  return (index, start, end) => {
    opts.log?.push([index, start, end]);
    if (opts.missing?.includes(index)) return Promise.reject(new Error(`piece ${index} is gone`));
    const shard = shards.get(index);
    if (shard === undefined) return Promise.reject(new Error("no shard"));
    const copy = Uint8Array.from(shard.subarray(start, end));
    if (opts.tamper === index && copy.length > 0) copy[copy.length >> 1] = (copy[copy.length >> 1] ?? 0) ^ 1;
    return Promise.resolve(copy);
  };
}

describe("chunked encryption (manifest v3)", function () {
  const chunks = [0, 1, 2].map((i) => deterministicBytes(`chunk ${i}`, 1000));
  const sealed = chunks.map((c, i) => sealChunk(KEY, PREFIX, i, i === 2, c));

  it("opens each chunk at its own index with its final flag", function () {
    sealed.forEach((s, i) => {
      expect(openChunk(KEY, PREFIX, i, i === 2, s).equals(Buffer.from(chunks[i] ?? []))).to.equal(true);
    });
  });

  it("detects reordered and swapped chunks (the index is in the nonce and the AAD)", function () {
    expectStrataError(
      () => openChunk(KEY, PREFIX, 1, false, sealed[0] ?? Buffer.alloc(0)),
      "CHUNK_AUTH_FAILED",
    );
    expectStrataError(
      () => openChunk(KEY, PREFIX, 0, false, sealed[1] ?? Buffer.alloc(0)),
      "CHUNK_AUTH_FAILED",
    );
  });

  it("detects truncation: a non-final chunk read as the last one fails", function () {
    // A payload cut after chunk 1: the reader expects chunk 1 to be final.
    expectStrataError(
      () => openChunk(KEY, PREFIX, 1, true, sealed[1] ?? Buffer.alloc(0)),
      "CHUNK_AUTH_FAILED",
    );
    // And the real last chunk read as non-final (bytes appended after it) fails too.
    expectStrataError(
      () => openChunk(KEY, PREFIX, 2, false, sealed[2] ?? Buffer.alloc(0)),
      "CHUNK_AUTH_FAILED",
    );
    // A chunk cut short fails.
    expectStrataError(
      () => openChunk(KEY, PREFIX, 2, true, (sealed[2] ?? Buffer.alloc(0)).subarray(0, 500)),
      "CHUNK_AUTH_FAILED",
    );
  });

  it("detects altered bytes, another key and another file's nonce prefix", function () {
    const altered = Buffer.from(sealed[0] ?? Buffer.alloc(0));
    altered[10] = (altered[10] ?? 0) ^ 1;
    expectStrataError(() => openChunk(KEY, PREFIX, 0, false, altered), "CHUNK_AUTH_FAILED");
    expectStrataError(
      () => openChunk(Uint8Array.from(randomBytes(32)), PREFIX, 0, false, sealed[0] ?? Buffer.alloc(0)),
      "CHUNK_AUTH_FAILED",
    );
    expectStrataError(
      () => openChunk(KEY, Uint8Array.from(randomBytes(8)), 0, false, sealed[0] ?? Buffer.alloc(0)),
      "CHUNK_AUTH_FAILED",
    );
  });

  it("lays a payload out in stripes: each run maps back to the right shard bytes", function () {
    const g = geometryFor(1_000_000, 3, 262_144);
    expect(g.stripes).to.equal(2);
    expect(g.lastSlice).to.equal(64 * Math.ceil(Math.ceil((1_000_000 - 786_432) / 3) / 64));
    expect(g.shardSize).to.equal(262_144 + g.lastSlice);
    const runs = payloadRuns(g, 0, 1_000_000);
    expect(runs.reduce((sum, r) => sum + r.length, 0)).to.equal(1_000_000);
    expect(runs.map((r) => r.shard)).to.deep.equal([0, 1, 2, 0, 1, 2]);
  });
});

describe("streaming payload pipeline", function () {
  let pool: CommitPool;
  before(function () {
    pool = new CommitPool(2);
  });
  after(async function () {
    await pool.close();
  });

  it("computes piece roots incrementally, equal to PieceTree, around the 4 MiB block size", async function () {
    for (const size of [
      1,
      64,
      65,
      100_000,
      HASH_BLOCK_BYTES,
      HASH_BLOCK_BYTES + 1,
      2 * HASH_BLOCK_BYTES + 999,
      7 * HASH_BLOCK_BYTES + 5, // more blocks than the pool hashes at once: hashed blocks are filled again
    ]) {
      const data = deterministicBytes(`piece ${size}`, size);
      const expected = PieceTree.build(data).root;
      for (const options of [{}, { pool }]) {
        const hasher = new PieceHasher(options);
        for (let at = 0; at < size; at += 777_777) await hasher.update(data.subarray(at, at + 777_777));
        expect(await hasher.digest(), `size ${size}`).to.equal(expected);
      }
    }
  });

  it("reads exact byte ranges across chunk, stripe and piece boundaries", async function () {
    // 1 KiB chunks, k=3: a 1.3 MB file spans two stripes and many chunks per stripe slice.
    const bytes = deterministicBytes("ranges", 1_300_001);
    const { payload, shards } = await prepareInMemory(bytes, 3, 2, 1024);
    expect(payload.payloadSize).to.equal(bytes.length + 16 * Math.ceil(bytes.length / 1024));
    for (const [index, shard] of shards) {
      expect(shard.length).to.equal(payload.shardSize);
      expect(PieceTree.build(shard).root).to.equal(payload.pieces[index]?.root);
    }
    const stripeBytes = 3 * 262_144;
    const edges = [0, 1, 1023, 1024, 1025, 262_143, 262_144, stripeBytes - 1, stripeBytes, stripeBytes + 5];
    const ranges: [number, number][] = [
      [0, bytes.length],
      [0, 0],
      [bytes.length - 1, bytes.length],
      [500_000, 900_000],
      ...edges.flatMap((e): [number, number][] => [
        [e, e + 1],
        [Math.max(0, e - 100), e + 3000],
      ]),
    ];
    for (const [start, end] of ranges) {
      const read = await readRange(payload, KEY, start, end, fetcher(shards));
      expect(read.bytes?.equals(Buffer.from(bytes.subarray(start, end))), `${start}-${end}`).to.equal(true);
      expect(read.failed).to.deep.equal([]);
    }
    const whole = await readRange(payload, KEY, 0, bytes.length, fetcher(shards));
    expect(whole.sha256).to.equal("0x" + createHash("sha256").update(bytes).digest("hex"));
  });

  it("fetches only the shard bytes a small range needs, from data pieces", async function () {
    const bytes = deterministicBytes("small range", 2_000_000);
    const { payload, shards } = await prepareInMemory(bytes, 2, 1, 4096);
    const log: [number, number, number][] = [];
    const read = await readRange(payload, KEY, 1_000_000, 1_000_010, fetcher(shards, { log }));
    expect(read.bytes?.equals(Buffer.from(bytes.subarray(1_000_000, 1_000_010)))).to.equal(true);
    const fetched = log.reduce((sum, [, start, end]) => sum + end - start, 0);
    expect(fetched).to.be.at.most(2 * (4096 + 16));
    expect(log.every(([index]) => index < 2)).to.equal(true);
  });

  it("rebuilds ranges from parity when a data piece is missing", async function () {
    const bytes = deterministicBytes("missing", 1_500_000);
    const { payload, shards } = await prepareInMemory(bytes, 3, 2, 1024);
    for (const missing of [[0], [2], [1, 2], [0, 4]]) {
      const log: [number, number, number][] = [];
      const read = await readRange(payload, KEY, 700_000, 1_400_000, fetcher(shards, { missing, log }));
      expect(read.bytes?.equals(Buffer.from(bytes.subarray(700_000, 1_400_000))), missing.join(",")).to.equal(
        true,
      );
      const parityUsed = log.some(([index]) => index >= 3);
      expect(parityUsed).to.equal(missing.some((i) => i < 3));
    }
    await expectRejection(
      () => readRange(payload, KEY, 0, 10, fetcher(shards, { missing: [0, 1, 2] })),
      "NOT_ENOUGH_PIECES",
    );
  });

  it("fetches a bounded window of steps ahead, from every data piece at once, and writes in order", async function () {
    const bytes = deterministicBytes("window", 3_000_000);
    const { payload, shards } = await prepareInMemory(bytes, 3, 1, 4096);
    for (const window of [1, 3]) {
      const inFlight = new Map<number, number>();
      const most = new Map<number, number>();
      let overall = 0;
      let mostOverall = 0;
      const base = fetcher(shards);
      const slow: FetchShardRange = async (index, start, end) => {
        inFlight.set(index, (inFlight.get(index) ?? 0) + 1);
        overall++;
        most.set(index, Math.max(most.get(index) ?? 0, inFlight.get(index) ?? 0));
        mostOverall = Math.max(mostOverall, overall);
        await new Promise((resolve) => setTimeout(resolve, 2 + ((start >> 10) % 5)));
        inFlight.set(index, (inFlight.get(index) ?? 0) - 1);
        overall--;
        return base(index, start, end);
      };
      const written: Buffer[] = [];
      const read = await readRange(payload, KEY, 0, bytes.length, slow, {
        segmentStripes: 1,
        window,
        write: (part) => {
          written.push(Buffer.from(part));
          return Promise.resolve();
        },
      });
      expect(Buffer.concat(written).equals(Buffer.from(bytes)), `window ${window}`).to.equal(true);
      expect(read.sha256).to.equal(`0x${createHash("sha256").update(bytes).digest("hex")}`);
      // Never more than `window` requests per piece; parity is never asked; the data pieces are asked together.
      expect([...most.keys()].sort()).to.deep.equal([0, 1, 2]);
      for (const [index, n] of most) expect(n, `piece ${index}, window ${window}`).to.equal(window);
      expect(mostOverall).to.equal(3 * window);
    }
  });

  it("replaces a data piece that fails while later steps are in flight with parity, once", async function () {
    const bytes = deterministicBytes("window-fail", 2_000_000);
    const { payload, shards } = await prepareInMemory(bytes, 2, 1, 4096);
    const base = fetcher(shards);
    let calls = 0;
    const failing: FetchShardRange = async (index, start, end) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (index === 1 && ++calls > 3) throw new Error("provider went away");
      return base(index, start, end);
    };
    const reported: number[] = [];
    const read = await readRange(payload, KEY, 0, bytes.length, failing, {
      segmentStripes: 1,
      window: 4,
      onShardFailed: (index) => reported.push(index),
    });
    expect(read.bytes?.equals(Buffer.from(bytes))).to.equal(true);
    expect(read.failed).to.deep.equal([1]);
    expect(reported).to.deep.equal([1]);
  });

  it("hands each fetched array back once it is decrypted: reused buffers, scrambled on return, corrupt nothing", async function () {
    const bytes = deterministicBytes("recycle", 1_500_000);
    const { payload, shards } = await prepareInMemory(bytes, 2, 1, 4096);
    // A fetcher that reads into recycled arrays when it has one of the right size, and scrambles every array
    // handed back: a view readRange still used after recycling it would come out as 0xAA bytes.
    const pooled = (opts: { missing?: readonly number[]; tamper?: number } = {}) => {
      const spare: Uint8Array[] = [];
      const out = new Set<Uint8Array>();
      let reused = 0;
      const fetch: FetchShardRange = async (index, start, end) => {
        await new Promise((resolve) => setTimeout(resolve, 0));
        const fresh = await fetcher(shards, opts)(index, start, end);
        const at = spare.findIndex((b) => b.length === fresh.length);
        const into = at >= 0 ? spare.splice(at, 1)[0] : undefined;
        if (into !== undefined) reused++;
        const bytes = into ?? new Uint8Array(fresh.length);
        bytes.set(fresh);
        out.add(bytes);
        return bytes;
      };
      const recycle = (bytes: Uint8Array): void => {
        expect(out.has(bytes), "recycled an array it was not given, or twice").to.equal(true);
        out.delete(bytes);
        bytes.fill(0xaa);
        spare.push(bytes);
      };
      return { fetch, recycle, outstanding: () => out.size, reused: () => reused };
    };
    for (const [what, opts, dropped] of [
      ["all data pieces", {}, []],
      ["a data piece missing (parity)", { missing: [0] }, [0]],
      ["a tampered data piece (culprit search)", { tamper: 1 }, [1]],
    ] as const) {
      const p = pooled(opts);
      const read = await readRange(payload, KEY, 0, bytes.length, p.fetch, {
        segmentStripes: 1,
        window: 3,
        recycle: p.recycle,
      });
      expect(read.bytes?.equals(Buffer.from(bytes)), what).to.equal(true);
      // A scrambled view would fail authentication and be "recovered" through parity: no other piece is dropped.
      expect(read.failed, what).to.deep.equal(dropped);
      expect(p.outstanding(), `${what}: arrays never handed back`).to.equal(0);
      expect(p.reused(), `${what}: no array was reused`).to.be.greaterThan(0);
    }
  });

  it("detects a tampered chunk: recovers through parity and names the piece, or fails typed without parity", async function () {
    const bytes = deterministicBytes("tamper", 800_000);
    const withParity = await prepareInMemory(bytes, 2, 1, 2048);
    const read = await readRange(
      withParity.payload,
      KEY,
      0,
      bytes.length,
      fetcher(withParity.shards, { tamper: 1 }),
    );
    expect(read.bytes?.equals(Buffer.from(bytes))).to.equal(true);
    expect(read.failed).to.deep.equal([1]);

    const noParity = await prepareInMemory(bytes, 2, 0, 2048);
    await expectRejection(
      () => readRange(noParity.payload, KEY, 100, 50_000, fetcher(noParity.shards, { tamper: 0 })),
      "CHUNK_AUTH_FAILED",
    );
    // Another key authenticates nothing.
    await expectRejection(
      () => readRange(noParity.payload, Uint8Array.from(randomBytes(32)), 0, 10, fetcher(noParity.shards)),
      "CHUNK_AUTH_FAILED",
    );
  });

  it("hashes payload spans as the chunks are sealed: overlapping, empty, unordered, equal to the payload's bytes", async function () {
    const bytes = deterministicBytes("spans", 700_001);
    const chunkSize = 1024;
    const spans = [
      { start: 5_000, end: 9_000 },
      { start: 0, end: 2_080 }, // two whole sealed chunks
      { start: 2_000, end: 2_100 }, // overlaps the one before
      { start: 300, end: 300 }, // empty
      { start: 0, end: 0 },
      { start: 650_000, end: 700_001 + 16 * Math.ceil(700_001 / chunkSize) }, // to the end of the payload
      { start: 1, end: 699_000 },
    ];
    const shards = new Map<number, Uint8Array>();
    const payload = await preparePayload({
      source: [bytes.subarray(0, 333_333), bytes.subarray(333_333)],
      size: bytes.length,
      k: 3,
      m: 1,
      key: KEY,
      chunkSize,
      segmentStripes: 2,
      hashSpans: spans,
      output: (index, size) => Promise.resolve(memoryWriter(size, (b) => shards.set(index, b))),
    });
    // The payload as the data shards hold it.
    const g = geometryFor(payload.payloadSize, 3);
    const whole = new Uint8Array(payload.payloadSize);
    for (const run of payloadRuns(g, 0, payload.payloadSize)) {
      const shard = shards.get(run.shard) ?? new Uint8Array();
      whole.set(shard.subarray(run.shardOffset, run.shardOffset + run.length), run.payloadOffset);
    }
    const expected = spans.map(
      (span) => "0x" + createHash("sha256").update(whole.subarray(span.start, span.end)).digest("hex"),
    );
    expect(payload.spanHashes).to.deep.equal(expected);
    // Without spans there is nothing extra; a span past the payload is refused before any work.
    const plain = await prepareInMemory(bytes.subarray(0, 5000), 2, 1, chunkSize);
    expect(plain.payload.spanHashes).to.equal(undefined);
    await expectRejection(
      () =>
        preparePayload({
          source: [bytes],
          size: bytes.length,
          k: 2,
          m: 1,
          key: KEY,
          chunkSize,
          hashSpans: [{ start: 0, end: payload.payloadSize + 1 }],
          output: (index, size) => Promise.resolve(memoryWriter(size, () => undefined)),
        }),
      "INVALID_ARGUMENT",
    );
  });

  it("writes pieces to files and removes them when the source is shorter than announced", async function () {
    const dir = await mkdtemp(join(tmpdir(), "strata-stream-"));
    try {
      const bytes = deterministicBytes("to files", 3_000_000);
      const prepared = await preparePayload({
        source: [bytes],
        size: bytes.length,
        k: 2,
        m: 1,
        key: KEY,
        output: { dir },
        pool,
      });
      for (const piece of prepared.pieces) {
        expect(piece.path).to.be.a("string");
        const onDisk = await readFile(piece.path ?? "");
        expect(onDisk.length).to.equal(prepared.shardSize);
        expect(PieceTree.build(onDisk).root).to.equal(piece.root);
      }
      const short = join(dir, "short");
      await expectRejection(
        () =>
          preparePayload({
            source: [bytes],
            size: bytes.length + 1,
            k: 2,
            m: 1,
            key: KEY,
            output: { dir: short },
          }),
        "INVALID_ARGUMENT",
      );
      expect(await readdir(short)).to.deep.equal([]);
      await expectRejection(
        () =>
          preparePayload({
            source: [bytes],
            size: bytes.length - 1,
            k: 2,
            m: 1,
            key: KEY,
            output: { dir: short },
          }),
        "INVALID_ARGUMENT",
      );
      expect((await stat(short)).isDirectory()).to.equal(true);
      expect(await readdir(short)).to.deep.equal([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
