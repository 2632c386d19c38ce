import { readFileSync } from "node:fs";
import { zstdDecompressSync } from "node:zlib";
import { expect } from "chai";
import { isCid, publicCid, rawCid } from "../../offchain/sdk/files/cid.js";

interface Vector {
  name: string;
  content: { utf8: string } | { zstd: string };
  size?: number;
  cid: string;
  source: string;
}

const folder = new URL("../vectors/unixfs/", import.meta.url);
const { vectors } = JSON.parse(readFileSync(new URL("cids.json", folder), "utf8")) as { vectors: Vector[] };

function contentOf(vector: Vector): Uint8Array {
  if ("utf8" in vector.content) return new TextEncoder().encode(vector.content.utf8);
  return new Uint8Array(zstdDecompressSync(readFileSync(new URL(vector.content.zstd, folder))));
}

describe("content ids (sdk/files/cid)", function () {
  this.timeout(120_000);

  for (const vector of vectors) {
    it(`publicCid matches IPFS for ${vector.name} (${vector.source.split(":")[0] ?? ""})`, async () => {
      const bytes = contentOf(vector);
      if (vector.size !== undefined) expect(bytes.length).to.equal(vector.size);
      expect(await publicCid(bytes)).to.equal(vector.cid);
    });
  }

  it("hashes a stream the same as the whole buffer (odd slice sizes)", async () => {
    const bytes = new Uint8Array(700_001).map((_, i) => (i * 31) % 251);
    async function* pieces() {
      await Promise.resolve();
      for (let at = 0; at < bytes.length; at += 99_991) yield bytes.subarray(at, at + 99_991);
    }
    expect(await publicCid(pieces())).to.equal(await publicCid(bytes));
  });

  it("a single chunk is its raw block: rawCid equals publicCid up to 256 KiB, not beyond", async () => {
    const one = new Uint8Array(262_144).fill(7);
    expect(await publicCid(one)).to.equal(rawCid(one));
    const two = new Uint8Array(262_145).fill(7);
    expect(await publicCid(two)).to.not.equal(rawCid(two));
    expect(await publicCid(two)).to.match(/^bafybei/);
  });

  it("isCid accepts CIDs and refuses other text", () => {
    expect(isCid(rawCid(new Uint8Array(1)))).to.equal(true);
    expect(isCid("bafy-not-a-cid")).to.equal(false);
    expect(isCid("0x1234")).to.equal(false);
  });
});
