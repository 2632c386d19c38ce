import { createHash } from "node:crypto";
import { expect } from "chai";
import { hexlify } from "ethers";
import {
  ciphertextIds,
  extractFile,
  isValidBundlePath,
  packFiles,
  parseRange,
  payloadSlice,
  planBundles,
} from "../../offchain/sdk/files/bundle.js";
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

  it("reads a payload range across data shards and names each file's ciphertext", () => {
    const shards = [bytes(64, 1), bytes(64, 2), bytes(64, 3)];
    const whole = new Uint8Array(shards.flatMap((shard) => [...shard]));
    expect(payloadSlice(shards, 60, 70)).to.deep.equal(whole.subarray(60, 130));
    expect(payloadSlice(shards, 0, 0)).to.deep.equal(new Uint8Array(0));
    expectStrataError(() => payloadSlice(shards, 150, 50), "INVALID_ARGUMENT");
    expect(ciphertextIds(shards, [{ offset: 10, size: 100 }])).to.deep.equal([
      rawCid(whole.subarray(10, 110)),
    ]);
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
