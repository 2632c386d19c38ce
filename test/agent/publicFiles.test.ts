import { expect } from "chai";
import { randomBytes } from "node:crypto";
import type { Agent } from "../../offchain/agent/agent.js";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import type { PublicIndexEntry } from "../../offchain/sdk/api/publicFiles.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { packFiles } from "../../offchain/sdk/files/bundle.js";
import { publicCid } from "../../offchain/sdk/files/cid.js";
import { buildPublicIndex } from "../../offchain/sdk/files/publicIndex.js";
import { replicaPieceSize } from "../../offchain/sdk/manifest/manifest.js";
import {
  deployStorage,
  fundClient,
  registerProvider,
  topUp,
  USDC,
  type PieceData,
  type StorageFixture,
} from "../helpers/fixture.js";
import {
  errorCode,
  openDataSetOverHttp,
  putPiece,
  removeTempDirs,
  startTestAgent,
  storePieces,
  type ClientDataSet,
  type InjectedResponse,
} from "./helpers.js";

/** A public bundle: a page, a multi-chunk image (UnixFS root over several raw leaves) and an empty file. */
async function publicBundle(): Promise<{
  piece: PieceData;
  index: PublicIndexEntry[];
  files: Map<string, Buffer>;
}> {
  const files = new Map<string, Buffer>([
    ["index.html", Buffer.from("<!doctype html><title>strata</title><p>hello</p>\n")],
    ["img/logo.png", randomBytes(600_000)],
    ["empty.txt", Buffer.alloc(0)],
  ]);
  const packed = packFiles([...files].map(([name, bytes]) => ({ name, bytes })));
  const entries = await Promise.all(
    packed.entries.map(async (e) => ({
      ...e,
      id: await publicCid(packed.bytes.subarray(e.offset, e.offset + e.size)),
      public: true,
    })),
  );
  const data = new Uint8Array(replicaPieceSize(packed.bytes.length));
  data.set(packed.bytes);
  return { piece: { data, tree: PieceTree.build(data) }, index: buildPublicIndex(entries), files };
}

describe("agent public files: index verification and GET|HEAD /v1/files/<cid>", function () {
  let f: StorageFixture;
  let agent: Agent;
  let set: ClientDataSet;
  let bundle: Awaited<ReturnType<typeof publicBundle>>;
  const entry = (path: string): PublicIndexEntry => {
    const found = bundle.index.find((e) => e.path === path);
    if (found === undefined) throw new Error(`no ${path}`);
    return found;
  };
  const putIndex = (entries: readonly PublicIndexEntry[], root = bundle.piece.tree.root) =>
    agent.app.inject({
      method: "PUT",
      url: `/v1/datasets/${set.id}/pieces/${root}/public-index`,
      payload: { entries },
    });
  const file = (cid: string, headers: Record<string, string> = {}, method: "GET" | "HEAD" = "GET") =>
    agent.app.inject({ method, url: `/v1/files/${cid}`, headers });

  before(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    agent = await startTestAgent(f);
    set = { id: await openDataSetOverHttp(agent, f), layout: [], version: 0n };
    bundle = await publicBundle();
  });
  after(async function () {
    await agent.stop();
    await removeTempDirs();
  });

  it("refuses an index for a piece it does not hold", async function () {
    const refused = await putIndex(bundle.index);
    expect(refused.statusCode).to.equal(409);
    expect(errorCode(refused)).to.equal("PIECE_NOT_STORED");
  });

  it("rejects a lying index: a wrong CID, overlapping files, a file past the piece, a false content type", async function () {
    const put = await putPiece(agent, set.id, bundle.piece.tree.root, bundle.piece.data);
    expect(put.statusCode, put.body).to.equal(201);
    const page = entry("index.html");
    const logo = entry("img/logo.png");
    const lies: PublicIndexEntry[][] = [
      // the page's bytes under the image's CID: what a client would send to make a provider serve other bytes
      [{ ...page, cid: logo.cid }],
      // a CID of the right bytes but announced one byte longer
      [{ ...page, size: page.size + 1 }],
      [page, { ...logo, offset: page.offset + 1 }],
      [{ ...logo, offset: bundle.piece.data.length - 10 }],
      [{ ...logo, contentType: "text/html; charset=utf-8" }],
      [{ ...page, path: "../index.html" }],
      [page, page],
    ];
    for (const entries of lies) {
      const refused = await putIndex(entries);
      expect(refused.statusCode, JSON.stringify(entries)).to.equal(422);
      expect(errorCode(refused)).to.equal("BAD_PUBLIC_INDEX");
    }
    expect(agent.context.db.publicFiles.indexOf(set.id, bundle.piece.tree.root)).to.deep.equal([]);
  });

  it("keeps a true index, but serves nothing until the piece is in an applied state", async function () {
    const accepted = await putIndex(bundle.index);
    expect(accepted.statusCode, accepted.body).to.equal(200);
    expect(accepted.json()).to.deep.equal({ root: bundle.piece.tree.root, files: 3 });
    expect(agent.context.db.publicFiles.indexOf(set.id, bundle.piece.tree.root)).to.have.length(3);
    expect((await file(entry("index.html").cid)).statusCode).to.equal(404);

    await storePieces(agent, f, set, [bundle.piece]);
    expect((await file(entry("index.html").cid)).statusCode).to.equal(404); // signed, not applied
    await topUp(f, set.id, 1000n * USDC);
    const tick = await agent.tick();
    expect(tick.states?.applied.map((a) => a.dataSetId)).to.deep.equal([set.id]);
  });

  it("serves a whole file with its type, length, ETag and immutable caching", async function () {
    for (const [path, bytes] of bundle.files) {
      const { cid } = entry(path);
      const answer = await file(cid);
      expect(answer.statusCode, path).to.equal(200);
      expect(Buffer.compare(answer.rawPayload, bytes), path).to.equal(0);
      expect(answer.headers["content-length"]).to.equal(String(bytes.length));
      expect(answer.headers.etag).to.equal(`"${cid}"`);
      expect(answer.headers["cache-control"]).to.equal("public, max-age=31536000, immutable");
      expect(answer.headers["accept-ranges"]).to.equal("bytes");
    }
    expect((await file(entry("index.html").cid)).headers["content-type"]).to.equal(
      "text/html; charset=utf-8",
    );
    expect((await file(entry("img/logo.png").cid)).headers["content-type"]).to.equal("image/png");
    expect((await file(entry("empty.txt").cid)).headers["content-type"]).to.equal(
      "text/plain; charset=utf-8",
    );
  });

  it("answers HEAD with the headers and no body", async function () {
    const { cid } = entry("img/logo.png");
    const head = await file(cid, {}, "HEAD");
    expect(head.statusCode).to.equal(200);
    expect(head.headers["content-length"]).to.equal("600000");
    expect(head.headers.etag).to.equal(`"${cid}"`);
    expect(head.rawPayload.length).to.equal(0);
  });

  it("answers single byte ranges with 206 and exactly their bytes, 416 when unsatisfiable", async function () {
    const { cid } = entry("img/logo.png");
    const logo = bundle.files.get("img/logo.png") ?? Buffer.alloc(0);
    const cases: [string, number, number][] = [
      ["bytes=0-0", 0, 0],
      ["bytes=262140-262150", 262_140, 262_150], // across a UnixFS chunk boundary
      ["bytes=599990-", 599_990, 599_999],
      ["bytes=-16", 599_984, 599_999],
      ["bytes=599000-700000", 599_000, 599_999], // clipped
    ];
    for (const [range, first, last] of cases) {
      const answer: InjectedResponse = await file(cid, { range });
      expect(answer.statusCode, range).to.equal(206);
      expect(answer.headers["content-range"], range).to.equal(`bytes ${first}-${last}/600000`);
      expect(answer.headers["content-length"], range).to.equal(String(last - first + 1));
      expect(Buffer.compare(answer.rawPayload, logo.subarray(first, last + 1)), range).to.equal(0);
    }
    const past = await file(cid, { range: "bytes=600000-" });
    expect(past.statusCode).to.equal(416);
    expect(past.headers["content-range"]).to.equal("bytes */600000");
    expect(errorCode(past)).to.equal("RANGE_NOT_SATISFIABLE");
    expect((await file(entry("empty.txt").cid, { range: "bytes=0-" })).statusCode).to.equal(416);
    // If-Range with another validator: the whole file
    expect((await file(cid, { range: "bytes=0-9", "if-range": '"other"' })).statusCode).to.equal(200);
  });

  it("answers 304 when If-None-Match names the CID", async function () {
    const { cid } = entry("index.html");
    for (const tag of [`"${cid}"`, `W/"${cid}"`, `"x", "${cid}"`, "*"]) {
      const answer = await file(cid, { "if-none-match": tag });
      expect(answer.statusCode, tag).to.equal(304);
      expect(answer.rawPayload.length).to.equal(0);
      expect(answer.headers.etag).to.equal(`"${cid}"`);
    }
    expect((await file(cid, { "if-none-match": '"other"' })).statusCode).to.equal(200);
  });

  it("answers 400 for a malformed CID and 404 (the agent's JSON error) for an unknown one", async function () {
    const bad = await file("not-a-cid");
    expect(bad.statusCode).to.equal(400);
    expect(errorCode(bad)).to.equal("BAD_REQUEST");
    const unknown = await file(await publicCid(Buffer.from("nobody stored this")));
    expect(unknown.statusCode).to.equal(404);
    expect(errorCode(unknown)).to.equal("NOT_FOUND");
  });

  it("ctx.publicFiles reads and streams ranges, and refuses bytes outside the file", async function () {
    const { cid } = entry("img/logo.png");
    const logo = bundle.files.get("img/logo.png") ?? Buffer.alloc(0);
    const source = agent.context.publicFiles;
    expect(await source.stat(cid)).to.deep.equal({ cid, size: 600_000, contentType: "image/png" });
    expect(Buffer.from(await source.read(cid, 100, 200)).equals(logo.subarray(100, 200))).to.equal(true);
    const chunks: Buffer[] = [];
    for await (const chunk of source.stream(cid, 5, 300_000)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(logo.subarray(5, 300_000))).to.equal(true);
    for (const [start, end] of [
      [0, 600_001],
      [10, 5],
      [-1, 3],
    ] as const) {
      const error = await source.read(cid, start, end).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(StrataError).with.property("code", "PUBLIC_FILE_RANGE");
    }
    expect(() => source.stream(cid, 0, 600_001)).to.throw(StrataError);
    const missing = await source.read("bafkreiunknown", 0, 1).catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(StrataError).with.property("code", "PUBLIC_FILE_NOT_FOUND");
    expect(await source.stat("bafkreiunknown")).to.equal(null);
  });

  it("stops serving once the data set is no longer live", async function () {
    const { cid } = entry("index.html");
    agent.context.db.dataSets.setStatus(set.id, "ending");
    expect((await file(cid)).statusCode).to.equal(404);
    expect(await agent.context.publicFiles.stat(cid)).to.equal(null);
    agent.context.db.dataSets.setStatus(set.id, "live");
    expect((await file(cid)).statusCode).to.equal(200);
  });

  it("forgets a piece's index with the piece", async function () {
    const { cid } = entry("index.html");
    agent.context.db.deletePiece(bundle.piece.tree.root);
    expect(agent.context.db.publicFiles.indexOf(set.id, bundle.piece.tree.root)).to.deep.equal([]);
    expect((await file(cid)).statusCode).to.equal(404);
  });
});
