import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { readdir, readlink, rm } from "node:fs/promises";
import { get as httpGet } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { Agent } from "../../offchain/agent/agent.js";
import { parseRange } from "../../offchain/agent/http/pieces.js";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import { deployStorage, registerProvider, type StorageFixture } from "../helpers/fixture.js";
import { errorCode, removeTempDirs, startTestAgent, type InjectedResponse } from "./helpers.js";

/** A piece of 3 blocks of leaves plus a partial last leaf, stored in the agent as an upload would. */
const SIZE = 3 * 65_536 + 37;

async function storePiece(agent: Agent, size: number): Promise<{ data: Buffer; tree: PieceTree }> {
  const data = randomBytes(size);
  const tree = PieceTree.build(data);
  const { pieces, db } = agent.context;
  const written = await pieces.write(tree.root, size, Readable.from([data]));
  if (!written.ok) throw new Error(`write failed: ${written.reason}`);
  db.putPiece({
    root: tree.root,
    size: BigInt(size),
    path: written.path,
    verifiedAt: 0,
    ok: true,
    problem: null,
  });
  return { data, tree };
}

describe("agent piece routes: byte ranges", function () {
  let f: StorageFixture;
  let agent: Agent;
  let data: Buffer;
  let tree: PieceTree;

  const get = (url: string, headers: Record<string, string> = {}): Promise<InjectedResponse> =>
    agent.app.inject({ method: "GET", url, headers });

  before(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    agent = await startTestAgent(f);
    ({ data, tree } = await storePiece(agent, SIZE));
  });

  after(async function () {
    await agent.stop();
    await removeTempDirs();
  });

  it("interprets single byte ranges and ignores what it does not serve", function () {
    expect(parseRange(undefined, 100)).to.deep.equal({ kind: "whole" });
    expect(parseRange("bytes=0-63", 100)).to.deep.equal({ kind: "range", start: 0, end: 63 });
    expect(parseRange("bytes=64-", 100)).to.deep.equal({ kind: "range", start: 64, end: 99 });
    expect(parseRange("bytes=-10", 100)).to.deep.equal({ kind: "range", start: 90, end: 99 });
    expect(parseRange("bytes=-500", 100)).to.deep.equal({ kind: "range", start: 0, end: 99 });
    expect(parseRange("bytes=90-1000", 100)).to.deep.equal({ kind: "range", start: 90, end: 99 });
    expect(parseRange("bytes=100-", 100)).to.deep.equal({ kind: "unsatisfiable" });
    expect(parseRange("bytes=-0", 100)).to.deep.equal({ kind: "unsatisfiable" });
    expect(parseRange("bytes=99999999999999999999-", 100)).to.deep.equal({ kind: "unsatisfiable" });
    expect(parseRange("bytes=0-1,5-6", 100)).to.deep.equal({ kind: "whole" });
    expect(parseRange("bytes=5-1", 100)).to.deep.equal({ kind: "whole" });
    expect(parseRange("items=0-1", 100)).to.deep.equal({ kind: "whole" });
    expect(parseRange("bytes=-", 100)).to.deep.equal({ kind: "whole" });
  });

  it("serves the whole piece without a Range header, advertising byte ranges", async function () {
    const whole = await get(`/v1/pieces/${tree.root}`);
    expect(whole.statusCode).to.equal(200);
    expect(whole.headers["accept-ranges"]).to.equal("bytes");
    expect(whole.headers["content-length"]).to.equal(String(SIZE));
    expect(Buffer.compare(whole.rawPayload, data)).to.equal(0);
  });

  it("answers a byte range with 206, its content-range and exactly its bytes", async function () {
    const cases: [string, number, number][] = [
      ["bytes=0-63", 0, 63],
      ["bytes=65536-65599", 65_536, 65_599],
      [`bytes=${SIZE - 37}-${SIZE - 37 + 63}`, SIZE - 37, SIZE - 1], // the partial last leaf, clipped
      [`bytes=${SIZE - 100}-`, SIZE - 100, SIZE - 1],
      ["bytes=-5", SIZE - 5, SIZE - 1],
    ];
    for (const [range, start, end] of cases) {
      const response = await get(`/v1/pieces/${tree.root}`, { range });
      expect(response.statusCode, range).to.equal(206);
      expect(response.headers["content-range"], range).to.equal(`bytes ${start}-${end}/${SIZE}`);
      expect(response.headers["content-length"], range).to.equal(String(end - start + 1));
      expect(Buffer.compare(response.rawPayload, data.subarray(start, end + 1)), range).to.equal(0);
    }
  });

  it("serves a piece of several read buffers byte for byte, whole and across buffer boundaries; HEAD sends none", async function () {
    // Served in 1 MiB reads into two recycled buffers: a write not finished before its buffer is read into again
    // would show here as wrong bytes.
    const big = await storePiece(agent, 3 * (1 << 20) + 4_099);
    const size = big.data.length;
    const whole = await get(`/v1/pieces/${big.tree.root}`);
    expect(whole.statusCode).to.equal(200);
    expect(whole.headers["content-length"]).to.equal(String(size));
    expect(Buffer.compare(whole.rawPayload, big.data)).to.equal(0);
    const start = (1 << 20) - 10;
    const end = 3 * (1 << 20) + 5;
    const ranged = await get(`/v1/pieces/${big.tree.root}`, { range: `bytes=${start}-${end}` });
    expect(ranged.statusCode).to.equal(206);
    expect(ranged.headers["content-range"]).to.equal(`bytes ${start}-${end}/${size}`);
    expect(Buffer.compare(ranged.rawPayload, big.data.subarray(start, end + 1))).to.equal(0);
    const head = await agent.app.inject({ method: "HEAD", url: `/v1/pieces/${big.tree.root}` });
    expect(head.statusCode).to.equal(200);
    expect(head.headers["content-length"]).to.equal(String(size));
    expect(head.headers["accept-ranges"]).to.equal("bytes");
    expect(head.rawPayload.length).to.equal(0);
  });

  it("survives a client that hangs up mid-answer: the next client gets every byte and no file is left open", async function () {
    const big = await storePiece(agent, 8 * (1 << 20) + 17);
    await agent.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = agent.app.server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/v1/pieces/${big.tree.root}`;
    // Read one chunk, then drop the connection while the agent is still writing.
    const firstBytes = await new Promise<number>((resolve, reject) => {
      const request = httpGet(url, (answer) => {
        answer.once("data", (chunk: Buffer) => {
          request.destroy();
          resolve(chunk.length);
        });
      });
      request.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code !== "ECONNRESET") reject(error);
      });
    });
    expect(firstBytes).to.be.greaterThan(0);
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(Buffer.compare(whole, big.data)).to.equal(0);
    // The dropped answer's file handle is closed (Linux: no open descriptor of this process names the piece).
    const piecePath = agent.context.pieces.path(big.tree.root);
    const openOnPiece = async (): Promise<number> => {
      const fds = await readdir("/proc/self/fd");
      const targets = await Promise.all(
        fds.map(async (fd) => readlink(`/proc/self/fd/${fd}`).catch(() => "")),
      );
      return targets.filter((target) => target === piecePath).length;
    };
    const deadline = Date.now() + 2000;
    while ((await openOnPiece()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await openOnPiece()).to.equal(0);
  });

  it("answers 416 with the size for an unsatisfiable range, 200 for a multi-range", async function () {
    const past = await get(`/v1/pieces/${tree.root}`, { range: `bytes=${SIZE}-` });
    expect(past.statusCode).to.equal(416);
    expect(past.headers["content-range"]).to.equal(`bytes */${SIZE}`);
    expect(errorCode(past)).to.equal("RANGE_NOT_SATISFIABLE");
    const multi = await get(`/v1/pieces/${tree.root}`, { range: "bytes=0-1,10-20" });
    expect(multi.statusCode).to.equal(200);
    expect(multi.rawPayload.length).to.equal(SIZE);
  });

  it("streams a range from disk: the file is opened on the range only", async function () {
    const opened = await agent.context.pieces.open(tree.root, { start: 100, end: 163 });
    if (!opened) throw new Error("piece missing");
    const chunks: Buffer[] = [];
    // Chunks share two buffers: copy each before asking for the next.
    for await (const chunk of opened.chunks) chunks.push(Buffer.from(chunk));
    expect(opened.size).to.equal(SIZE);
    expect(Buffer.compare(Buffer.concat(chunks), data.subarray(100, 164))).to.equal(0);
  });

  it("answers 404 UNKNOWN_PIECE for unknown or malformed roots", async function () {
    for (const root of [`0x${"ab".repeat(32)}`, "0x1234", "nope"]) {
      for (const url of [`/v1/pieces/${root}`]) {
        const response = await get(url);
        expect(response.statusCode, url).to.equal(404);
        expect(errorCode(response), url).to.equal("UNKNOWN_PIECE");
      }
    }
  });

  it("answers 404 for a piece lost on disk, and records it", async function () {
    const lost = await storePiece(agent, 5000);
    await rm(agent.context.pieces.path(lost.tree.root));
    const missing = await get(`/v1/pieces/${lost.tree.root}`);
    expect(missing.statusCode).to.equal(404);
    expect(errorCode(missing)).to.equal("UNKNOWN_PIECE");
    expect(agent.context.db.piece(lost.tree.root)).to.deep.include({ ok: false, problem: "missing" });
    expect((await get(`/v1/pieces/${lost.tree.root}`, { range: "bytes=0-9" })).statusCode).to.equal(404);
  });
});
