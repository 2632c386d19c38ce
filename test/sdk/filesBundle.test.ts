import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { hexlify } from "ethers";
import {
  ciphertextIds,
  ciphertextSpan,
  extractFile,
  isValidBundlePath,
  packFiles,
  parseRange,
  piecesPayloadReader,
  planBundles,
} from "../../offchain/sdk/files/bundle.js";
import { geometryFor, payloadRuns } from "../../offchain/sdk/data/chunked.js";
import { rawCid } from "../../offchain/sdk/files/cid.js";
import { expectStrataError } from "./helpers/assertions.js";

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 7 + seed) % 256);

describe("bundles (sdk/files/bundle)", () => {
  it("packs files back to back and gives each one back alone, hash-checked", () => {
    const files = [
      { name: "a.txt", bytes: bytes(10, 1) },
      { name: "empty", bytes: new Uint8Array(0) },
      { name: "dir/b.bin", bytes: bytes(1000, 2) },
    ];
    const { bytes: bundle, entries } = packFiles(files);
    expect(bundle.length).to.equal(1010);
    expect(entries.map((e) => [e.name, e.offset, e.size])).to.deep.equal([
      ["a.txt", 0, 10],
      ["empty", 10, 0],
      ["dir/b.bin", 10, 1000],
    ]);
    for (const [index, file] of files.entries()) {
      const entry = entries[index];
      if (entry === undefined) throw new Error("missing entry");
      expect(entry.sha256).to.equal(hexlify(createHash("sha256").update(file.bytes).digest()));
      expect(extractFile(bundle, entry)).to.deep.equal(file.bytes);
    }
  });

  it("detects a changed byte and an index that runs past the bundle", () => {
    const { bytes: bundle, entries } = packFiles([{ name: "a", bytes: bytes(64, 3) }]);
    const entry = entries[0];
    if (entry === undefined) throw new Error("missing entry");
    bundle[5] = (bundle[5] ?? 0) ^ 1;
    expectStrataError(() => extractFile(bundle, entry), "FILE_HASH_MISMATCH");
    expectStrataError(() => extractFile(bundle.subarray(0, 10), entry), "FILE_HASH_MISMATCH");
  });

  it("refuses unsafe or repeated paths", () => {
    for (const bad of ["", "/abs", "a//b", "../x", "a/./b", "a\\b", "a\u0000b", "x/.."]) {
      expect(isValidBundlePath(bad), bad).to.equal(false);
    }
    expect(isValidBundlePath("dir/sub/file.txt")).to.equal(true);
    expectStrataError(() => packFiles([{ name: "../etc", bytes: new Uint8Array(1) }]), "INVALID_ARGUMENT");
    expectStrataError(
      () =>
        packFiles([
          { name: "a", bytes: new Uint8Array(1) },
          { name: "a", bytes: new Uint8Array(2) },
        ]),
      "INVALID_ARGUMENT",
    );
  });

  it("names a file's ciphertext by the whole chunks covering it, read through the striped shards", async () => {
    // k = 2, 64-byte stripes: payload bytes 0..63 in shard 0, 64..127 in shard 1, 128..191 in shard 0 again, ...
    const geometry = geometryFor(300, 2, 64);
    const payload = bytes(300, 7);
    const dir = await mkdtemp(join(tmpdir(), "strata-ids-"));
    const shards = [new Uint8Array(geometry.shardSize), new Uint8Array(geometry.shardSize)];
    for (const run of payloadRuns(geometry, 0, 300)) {
      shards[run.shard]?.set(
        payload.subarray(run.payloadOffset, run.payloadOffset + run.length),
        run.shardOffset,
      );
    }
    const paths = await Promise.all(
      shards.map(async (shard, i) => {
        const path = join(dir, `piece-${i}.bin`);
        await writeFile(path, shard);
        return path;
      }),
    );
    const read = piecesPayloadReader(paths, geometry);
    expect(await read(60, 200)).to.deep.equal(payload.subarray(60, 200));
    // chunks of 84 plaintext bytes are sealed into 100: plaintext 90..179 lies in chunks 1 and 2 = payload 100..300
    const layout = { chunkSize: 84, payloadSize: 300 };
    expect(ciphertextSpan({ offset: 90, size: 90 }, layout)).to.deep.equal({ start: 100, end: 300 });
    expect(ciphertextSpan({ offset: 0, size: 84 }, layout)).to.deep.equal({ start: 0, end: 100 });
    expect(ciphertextSpan({ offset: 5, size: 0 }, layout)).to.deep.equal({ start: 0, end: 0 });
    expectStrataError(() => ciphertextSpan({ offset: 300, size: 10 }, layout), "INVALID_ARGUMENT");
    expect(
      await ciphertextIds(read, layout, [
        { offset: 90, size: 90 },
        { offset: 0, size: 0 },
      ]),
    ).to.deep.equal([rawCid(payload.subarray(100, 300)), rawCid(new Uint8Array(0))]);
    await rm(dir, { recursive: true, force: true });
  });

  it("plans bundles under a byte limit, a large file alone", () => {
    expect(planBundles([10, 10, 10], 25)).to.deep.equal([[0, 1], [2]]);
    expect(planBundles([5, 100, 5, 5], 20)).to.deep.equal([[0], [1], [2, 3]]);
    expect(planBundles([], 20)).to.deep.equal([]);
  });

  it("parses byte ranges as HTTP does (inclusive end, open end, suffix)", () => {
    expect(parseRange("0-9", 100)).to.deep.equal({ start: 0, end: 10 });
    expect(parseRange("90-", 100)).to.deep.equal({ start: 90, end: 100 });
    expect(parseRange("-10", 100)).to.deep.equal({ start: 90, end: 100 });
    expect(parseRange("50-1000", 100)).to.deep.equal({ start: 50, end: 100 });
    for (const bad of ["", "-", "a-b", "100-", "9-3"]) {
      expectStrataError(() => parseRange(bad, 100), "INVALID_ARGUMENT");
    }
  });
});
