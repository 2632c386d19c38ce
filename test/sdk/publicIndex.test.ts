import { expect } from "chai";
import { CID } from "multiformats/cid";
import type { PublicIndexEntry } from "../../offchain/sdk/api/publicFiles.js";
import { packFiles } from "../../offchain/sdk/files/bundle.js";
import { canonicalCid, publicCid } from "../../offchain/sdk/files/cid.js";
import { contentTypeFor, DEFAULT_CONTENT_TYPE } from "../../offchain/sdk/files/contentType.js";
import { buildPublicIndex, verifyPublicIndex } from "../../offchain/sdk/files/publicIndex.js";
import { deterministicBytes, expectRejection } from "./helpers/assertions.js";

describe("public index: built from the manifest's files, verified against the piece's bytes", function () {
  const files = [
    { name: "index.html", bytes: deterministicBytes("page", 2_000) },
    { name: "assets/app.js", bytes: deterministicBytes("script", 300_000) },
    { name: "empty", bytes: new Uint8Array(0) },
  ];
  const packed = packFiles(files);
  const piece = new Uint8Array(packed.bytes.length + 64);
  piece.set(packed.bytes);
  const read = (start: number, end: number) => [piece.subarray(start, end)];
  let index: PublicIndexEntry[];

  before(async function () {
    const described = await Promise.all(
      packed.entries.map(async (e) => ({
        ...e,
        id: await publicCid(packed.bytes.subarray(e.offset, e.offset + e.size)),
        public: true,
      })),
    );
    index = buildPublicIndex(described);
  });

  it("lists each file with its CID, path, size, offset and the content type its extension implies", function () {
    expect(index.map((e) => [e.path, e.offset, e.size, e.contentType])).to.deep.equal([
      ["index.html", 0, 2_000, "text/html; charset=utf-8"],
      ["assets/app.js", 2_000, 300_000, "text/javascript; charset=utf-8"],
      ["empty", 302_000, 0, DEFAULT_CONTENT_TYPE],
    ]);
    expect(() =>
      buildPublicIndex([{ name: "a", offset: 0, size: 0, id: index[0]?.cid ?? "", public: false }]),
    )
      .to.throw()
      .with.property("code", "INVALID_ARGUMENT");
  });

  it("guesses content types from the last extension, case-insensitively; unknown is octet-stream", function () {
    expect(contentTypeFor("a/b/STYLE.CSS")).to.equal("text/css; charset=utf-8");
    expect(contentTypeFor("photo.jpeg")).to.equal("image/jpeg");
    expect(contentTypeFor("archive.tar.gz")).to.equal("application/gzip");
    expect(contentTypeFor("dir.html/readme")).to.equal(DEFAULT_CONTENT_TYPE);
    expect(contentTypeFor(".html")).to.equal(DEFAULT_CONTENT_TYPE);
    expect(contentTypeFor("x.exe")).to.equal(DEFAULT_CONTENT_TYPE);
  });

  it("accepts the true index", async function () {
    await verifyPublicIndex(index, piece.length, read);
  });

  it("rejects every lie with PUBLIC_INDEX_INVALID", async function () {
    const [page, script] = [index[0], index[1]] as [PublicIndexEntry, PublicIndexEntry];
    const lies: PublicIndexEntry[][] = [
      [{ ...page, cid: script.cid }],
      [{ ...script, offset: script.offset + 1 }],
      [page, { ...script, offset: 1_999 }],
      [{ ...script, offset: piece.length - 100 }],
      [{ ...page, contentType: "application/octet-stream" }],
      [{ ...page, path: "a//b.html" }],
      [page, { ...script, path: page.path }],
    ];
    for (const lie of lies) {
      await expectRejection(() => verifyPublicIndex(lie, piece.length, read), "PUBLIC_INDEX_INVALID");
    }
  });

  it("names CIDs canonically (CIDv1, base32)", async function () {
    const cid = await publicCid(new Uint8Array(0));
    expect(canonicalCid(cid)).to.equal(cid);
    expect(canonicalCid(cid.toUpperCase())).to.equal(undefined);
    expect(canonicalCid("nonsense")).to.equal(undefined);
    // a CIDv0 names the same dag-pb block as its v1 form (the root of a multi-chunk file is dag-pb)
    const root = await publicCid(deterministicBytes("big", 600_000));
    expect(root.startsWith("bafybei")).to.equal(true);
    expect(canonicalCid(CID.parse(root).toV0().toString())).to.equal(root);
  });
});
