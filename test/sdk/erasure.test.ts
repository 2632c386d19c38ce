import { expect } from "chai";
import { createHash } from "node:crypto";
import {
  checkCoding,
  computeParity,
  encode,
  reconstruct,
  reconstructData,
  shardSizeFor,
  STRIPE_BYTES,
} from "../../offchain/sdk/data/erasure.js";
import { deterministicBytes, expectRejection, expectStrataError } from "./helpers/assertions.js";

/** Every subset of `size` indices out of 0..n-1. */
function subsets(n: number, size: number): number[][] {
  if (size === 0) return [[]];
  if (n < size) return [];
  return [...subsets(n - 1, size - 1).map((subset) => [...subset, n - 1]), ...subsets(n - 1, size)];
}

function sha(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

describe("erasure coding", function () {
  describe("parameters", function () {
    it("accepts 1 <= k <= 24 and 0 <= m <= 6 (the library's limits)", function () {
      checkCoding(1, 0);
      checkCoding(24, 6);
      for (const [k, m] of [
        [0, 1],
        [25, 0],
        [2, -1],
        [2, 7],
        [1.5, 1],
        [Number.NaN, 1],
      ] as const) {
        expectStrataError(() => {
          checkCoding(k, m);
        }, "INVALID_ARGUMENT");
      }
    });

    it("sizes shards as ceil(payload / k) rounded up to 64 bytes, at least 64", function () {
      expect(shardSizeFor(0, 1)).to.equal(64);
      expect(shardSizeFor(16, 4)).to.equal(64);
      expect(shardSizeFor(64, 1)).to.equal(64);
      expect(shardSizeFor(65, 1)).to.equal(128);
      expect(shardSizeFor(257, 4)).to.equal(128);
      expect(shardSizeFor((1 << 20) + 23, 3)).to.equal(349_568);
    });
  });

  describe("encode", function () {
    it("is systematic: the data shards are the payload zero-padded to k * shardSize", async function () {
      const payload = deterministicBytes("systematic", 1000);
      const shards = await encode(payload, 3, 2);
      expect(shards).to.have.length(5);
      const shardSize = shardSizeFor(1000, 3);
      shards.forEach((shard) => expect(shard.length).to.equal(shardSize));
      const joined = Buffer.concat(shards.slice(0, 3));
      expect(joined.subarray(0, 1000).equals(Buffer.from(payload))).to.be.true;
      expect(joined.subarray(1000).every((byte) => byte === 0)).to.be.true;
    });

    it("makes parity shard 0 the XOR of the data shards", async function () {
      const shards = await encode(deterministicBytes("xor", 5000), 4, 2);
      const xor = new Uint8Array(shards[0]?.length ?? 0);
      for (const shard of shards.slice(0, 4))
        shard.forEach((byte, index) => (xor[index] = (xor[index] ?? 0) ^ byte));
      expect(Buffer.from(xor).equals(Buffer.from(shards[4] ?? []))).to.be.true;
    });

    it("with m = 0 only pads and splits (no coding)", async function () {
      const payload = deterministicBytes("m0", 130);
      const shards = await encode(payload, 2, 0);
      expect(shards.map((shard) => shard.length)).to.deep.equal([128, 128]);
      expect(await computeParity(shards, 0)).to.deep.equal([]);
    });

    it("produces pinned parity for a multi-stripe payload (the stripe size is part of the format)", async function () {
      // 4 shards of 288 KiB: one 256 KiB stripe and one 32 KiB stripe each.
      const payload = deterministicBytes("pinned parity", 4 * 288 * 1024 - 40);
      const shards = await encode(payload, 4, 2);
      expect(shards[0]?.length).to.equal(288 * 1024);
      expect(288 * 1024).to.be.greaterThan(STRIPE_BYTES);
      expect(shards.slice(4).map(sha)).to.deep.equal(PINNED_PARITY);
    });

    it("rejects data shards of unequal or unaligned size", async function () {
      await expectRejection(
        () => computeParity([new Uint8Array(64), new Uint8Array(128)], 1),
        "INVALID_ARGUMENT",
      );
      await expectRejection(() => computeParity([new Uint8Array(65)], 1), "INVALID_ARGUMENT");
    });
  });

  describe("reconstruct", function () {
    for (const [k, m, size] of [
      [1, 2, 100],
      [2, 1, 1000],
      [3, 2, 70_000],
      [4, 2, 4 * 300 * 1024 + 5],
    ] as const) {
      it(`rebuilds all ${k + m} shards from every ${k}-subset (k=${k}, m=${m}, ${size}-byte payload)`, async function () {
        const shards = await encode(deterministicBytes(`subsets-${k}-${m}`, size), k, m);
        const shardSize = shards[0]?.length ?? 0;
        const digests = shards.map(sha);
        for (const subset of subsets(k + m, k)) {
          const given = shards.map((shard, index) => (subset.includes(index) ? shard : null));
          expect(
            (await reconstruct(given, k, m, shardSize)).map(sha),
            `from ${subset.join(",")}`,
          ).to.deep.equal(digests);
          const data = await reconstructData(given, k, m, shardSize);
          expect(data.map(sha)).to.deep.equal(digests.slice(0, k));
        }
      });
    }

    it("returns the given shards themselves and leaves them unchanged", async function () {
      const shards = await encode(deterministicBytes("identity", 500), 2, 2);
      const given = [shards[0] ?? null, null, null, shards[3] ?? null];
      const out = await reconstruct(given, 2, 2, 256);
      expect(out[0]).to.equal(shards[0]);
      expect(out[3]).to.equal(shards[3]);
      expect(sha(out[1] ?? new Uint8Array())).to.equal(sha(shards[1] ?? new Uint8Array()));
    });

    it("with m = 0 needs every data shard", async function () {
      const shards = await encode(deterministicBytes("m0 rebuild", 300), 3, 0);
      expect((await reconstructData(shards, 3, 0, 128)).map(sha)).to.deep.equal(shards.map(sha));
      await expectRejection(
        () => reconstructData([shards[0] ?? null, null, shards[2] ?? null], 3, 0, 128),
        "NOT_ENOUGH_PIECES",
      );
    });

    it("throws NOT_ENOUGH_PIECES with fewer than k shards", async function () {
      const shards = await encode(deterministicBytes("too few", 1000), 3, 2);
      const given = [shards[0] ?? null, null, null, shards[3] ?? null, null];
      await expectRejection(() => reconstruct(given, 3, 2, shards[0]?.length ?? 0), "NOT_ENOUGH_PIECES");
    });

    it("rejects a wrong slot count or a shard of the wrong size with INVALID_ARGUMENT", async function () {
      const shards = await encode(deterministicBytes("bad input", 1000), 2, 1);
      await expectRejection(() => reconstruct(shards.slice(0, 2), 2, 1, 512), "INVALID_ARGUMENT");
      await expectRejection(
        () => reconstruct([shards[0] ?? null, new Uint8Array(64), null], 2, 1, 512),
        "INVALID_ARGUMENT",
      );
      await expectRejection(() => reconstruct(shards, 2, 1, 100), "INVALID_ARGUMENT");
    });
  });
});

/** sha256 of the two parity shards of the pinned-parity payload (regenerate only with a new coding version). */
const PINNED_PARITY = [
  "715afb46327abab51318c1eedf9de2c945010d88b3043498d61d6ce9db902634",
  "f308815391b89ccd5d2d34e6d832abb12bd143ef7f1df3692fdf9388078d42c0",
];
