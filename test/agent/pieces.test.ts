import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { PieceStore } from "../../offchain/agent/pieceStore.js";
import { judgeCreateTerms } from "../../offchain/agent/policy.js";
import { TreeCache, treeCost } from "../../offchain/agent/treeCache.js";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import { removeTempDirs, tempDataDir } from "./helpers.js";

function chunks(data: Uint8Array, size = 1000): AsyncIterable<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

describe("agent piece store", function () {
  after(removeTempDirs);

  it("writes a piece through a temporary file, verifies it, and reports damage", async function () {
    const store = new PieceStore(join(await tempDataDir(), "pieces"), { cacheBytes: 1 << 20 });
    await store.init();
    const data = Uint8Array.from(randomBytes(10_000));
    const { root } = PieceTree.build(data);
    const written = await store.write(root, data.length, chunks(data));
    expect(written.ok).to.equal(true);
    expect(await store.list()).to.deep.equal([root]);
    expect(await store.verify(root, BigInt(data.length))).to.deep.equal({ ok: true });
    expect((await store.tree(root, BigInt(data.length))).root).to.equal(root);

    const corrupt = Buffer.from(data);
    corrupt[5000] = (corrupt[5000] ?? 0) ^ 1;
    await writeFile(store.path(root), corrupt);
    expect(await store.verify(root, BigInt(data.length))).to.deep.equal({ ok: false, problem: "corrupt" });
    await store.delete(root);
    expect(await store.verify(root, BigInt(data.length))).to.deep.equal({ ok: false, problem: "missing" });
    expect(await store.present(root, BigInt(data.length))).to.deep.equal({ ok: false, problem: "missing" });
    const missing = await store.tree(root, BigInt(data.length)).catch((e: unknown) => e);
    expect(missing).to.have.property("code", "PIECE_NOT_FOUND");
  });

  it("leaves nothing behind when the bytes are too many or hash elsewhere, and keeps a short upload to resume", async function () {
    const dir = join(await tempDataDir(), "pieces");
    const store = new PieceStore(dir, { cacheBytes: 0 });
    await store.init();
    const data = Uint8Array.from(randomBytes(4096));
    const { root } = PieceTree.build(data);
    expect(await store.write(root, 4095, chunks(data))).to.deep.include({ ok: false, reason: "too-large" });
    const other = PieceTree.build(Uint8Array.from(randomBytes(4096))).root;
    expect(await store.write(other, 4096, chunks(data))).to.deep.include({
      ok: false,
      reason: "root-mismatch",
    });
    expect(await readdir(dir)).to.deep.equal([]);
    expect(await store.write(root, 4097, chunks(data))).to.deep.include({ ok: false, reason: "too-small" });
    expect(await store.uploadStatus(root, 4097)).to.deep.equal({ size: 4097, received: 4096 });
    await store.dropUpload(root, 4097);
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it("resumes an upload after a dropped connection, checking the offset and the whole piece's root", async function () {
    const dir = join(await tempDataDir(), "pieces");
    const store = new PieceStore(dir, { cacheBytes: 0 });
    await store.init();
    // Over two 4 MiB hashing blocks, so that the resumed commitment crosses block boundaries.
    const data = Uint8Array.from(randomBytes((9 << 20) + 100));
    const { root } = PieceTree.build(data);
    const cut = (5 << 20) + 33;
    async function* dropped(): AsyncIterable<Uint8Array> {
      yield data.subarray(0, 1 << 20);
      yield data.subarray(1 << 20, cut);
      await Promise.resolve();
      throw new Error("connection reset");
    }
    const failure = await store.write(root, data.length, dropped()).catch((e: unknown) => e);
    expect(failure).to.be.an("error");
    expect(await store.uploadStatus(root, data.length)).to.deep.equal({ size: data.length, received: cut });
    // A resume at the wrong offset is refused and changes nothing.
    expect(await store.write(root, data.length, chunks(data.subarray(cut - 10)), cut - 10)).to.deep.equal({
      ok: false,
      reason: "offset-mismatch",
      received: cut,
    });
    const done = await store.write(root, data.length, chunks(data.subarray(cut), 1 << 20), cut);
    expect(done.ok).to.equal(true);
    expect(await store.verify(root, BigInt(data.length))).to.deep.equal({ ok: true });
    expect((await readdir(dir)).sort()).to.deep.equal([`${root}.piece`]);
    // Resumed bytes that do not complete the root are rejected and the partial upload deleted.
    const badRoot = PieceTree.build(Uint8Array.from(randomBytes(1000))).root;
    expect((await store.write(badRoot, 1000, chunks(data.subarray(0, 400)))).ok).to.equal(false);
    expect(await store.write(badRoot, 1000, chunks(data.subarray(400, 1000)), 400)).to.deep.include({
      ok: false,
      reason: "root-mismatch",
    });
    expect(await store.uploadStatus(badRoot, 1000)).to.equal(undefined);
  });

  it("keeps exactly the bytes that arrived when socket-sized chunks stop between two write batches", async function () {
    const dir = join(await tempDataDir(), "pieces");
    const store = new PieceStore(dir, { cacheBytes: 0 });
    await store.init();
    const data = Uint8Array.from(randomBytes((3 << 20) + 4321));
    const { root } = PieceTree.build(data);
    const cut = (2 << 20) + 1234; // not on a 64 KiB chunk nor on a 1 MiB batch boundary
    async function* dropped(): AsyncIterable<Uint8Array> {
      for (let at = 0; at < cut; at += 64 << 10) yield data.subarray(at, Math.min(cut, at + (64 << 10)));
      await Promise.resolve();
      throw new Error("connection reset");
    }
    expect(await store.write(root, data.length, dropped()).catch((e: unknown) => e)).to.be.an("error");
    expect(await store.uploadStatus(root, data.length)).to.deep.equal({ size: data.length, received: cut });
    const done = await store.write(root, data.length, chunks(data.subarray(cut), 64 << 10), cut);
    expect(done.ok).to.equal(true);
    expect(await store.verify(root, BigInt(data.length))).to.deep.equal({ ok: true });
  });

  it("stores exactly the bytes it hashed when the source reuses one buffer for every chunk", async function () {
    // A file read into one reused buffer (as the payload pipeline reads its source): each chunk is valid only until
    // the next is asked for. A store that kept the chunks to write later would hash the right bytes, record the
    // piece as good, and leave other bytes on disk.
    const store = new PieceStore(join(await tempDataDir(), "pieces"), { cacheBytes: 0 });
    await store.init();
    const data = Uint8Array.from(randomBytes((2 << 20) + 777));
    const { root } = PieceTree.build(data);
    async function* reusedBuffer(): AsyncIterable<Uint8Array> {
      const buffer = new Uint8Array(64 << 10);
      for (let at = 0; at < data.length; at += buffer.length) {
        const part = data.subarray(at, at + buffer.length);
        buffer.set(part);
        yield buffer.subarray(0, part.length);
        await Promise.resolve();
      }
    }
    const written = await store.write(root, data.length, reusedBuffer());
    expect(written.ok).to.equal(true);
    expect(Buffer.compare(await store.read(root), data)).to.equal(0);
    expect(await store.verify(root, BigInt(data.length))).to.deep.equal({ ok: true });
  });

  it("opens every leaf of the padded tree from disk exactly as the whole tree does", async function () {
    const store = new PieceStore(join(await tempDataDir(), "pieces"), { cacheBytes: 0 });
    await store.init();
    const data = Uint8Array.from(randomBytes(70_000 + 13));
    const tree = PieceTree.build(data);
    expect((await store.write(tree.root, data.length, chunks(data))).ok).to.equal(true);
    for (const index of [0, 1, 1023, 1024, 1093, 1094, 1500, 2 ** tree.depth - 1]) {
      const opened = await store.openPadded(tree.root, BigInt(data.length), index);
      expect(opened).to.deep.equal(tree.openPadded(index));
    }
    const outside = await store
      .openPadded(tree.root, BigInt(data.length), 2 ** tree.depth)
      .catch((e: unknown) => e);
    expect(outside).to.have.property("code", "LEAF_OUT_OF_RANGE");
  });

  it("keeps the tree cache within its byte budget, evicting the least recently used", function () {
    const trees = [1, 2, 3].map(() => PieceTree.build(Uint8Array.from(randomBytes(4096))));
    const [a, b, c] = trees as [PieceTree, PieceTree, PieceTree];
    const cache = new TreeCache(treeCost(a) * 2);
    cache.set(a.root, a);
    cache.set(b.root, b);
    expect(cache.get(a.root)).to.equal(a); // a is now the most recent
    cache.set(c.root, c);
    expect(cache.get(b.root)).to.equal(undefined);
    expect(cache.get(a.root)).to.equal(a);
    expect(cache.bytes).to.be.at.most(treeCost(a) * 2);
  });

  it("opens a data set only on the provider's own offer, before the deadline and within the market's notice", function () {
    const policy = {
      pricePerTiBMonth: 2_500_000n,
      collateralPerTiB: 100_000_000n,
      noticePeriods: 2,
      maxPieceSize: 1n << 30n,
    };
    const me = "0x00000000000000000000000000000000000000aa";
    const terms = {
      client: "0x00000000000000000000000000000000000000bb",
      provider: me,
      pricePerTiBMonth: 2_500_000n,
      collateralPerTiB: 100_000_000n,
      noticePeriods: 2n,
      nonce: 1n,
      deadline: 1000n,
    };
    const ctx = { me, policy, now: 999n, maxNoticePeriods: 720n };
    expect(judgeCreateTerms(terms, ctx)).to.deep.equal({ ok: true });
    const code = (t: typeof terms, c = ctx) => {
      const verdict = judgeCreateTerms(t, c);
      return verdict.ok ? "OK" : verdict.code;
    };
    expect(code({ ...terms, provider: terms.client })).to.equal("BAD_TERMS");
    expect(code(terms, { ...ctx, now: 1000n })).to.equal("BAD_TERMS");
    expect(
      code({ ...terms, noticePeriods: 721n }, { ...ctx, policy: { ...policy, noticePeriods: 721 } }),
    ).to.equal("BAD_TERMS");
    expect(code({ ...terms, pricePerTiBMonth: 2_499_999n })).to.equal("POLICY_REJECTED");
    expect(code({ ...terms, pricePerTiBMonth: 2_500_001n })).to.equal("POLICY_REJECTED");
    expect(code({ ...terms, collateralPerTiB: 1n })).to.equal("POLICY_REJECTED");
    expect(code({ ...terms, noticePeriods: 3n })).to.equal("POLICY_REJECTED");
  });
});
