import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { readdir, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { hexlify } from "ethers";
import type { Agent } from "../../offchain/agent/agent.js";
import { createAgentClient, httpPut, type PutTransport } from "../../offchain/sdk/client/agentClient.js";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import { deployStorage, registerProvider, type StorageFixture } from "../helpers/fixture.js";
import { openDataSetOverHttp, removeTempDirs, startTestAgent, tempDataDir } from "./helpers.js";

/** A transport whose first PUT stops after `cut` bytes and drops the connection. */
function droppingPut(cut: number): { put: PutTransport; puts: string[] } {
  const puts: string[] = [];
  let dropped = false;
  const put: PutTransport = (url, headers, body, timeoutMs) => {
    puts.push(headers["x-upload-offset"] ?? "0");
    if (dropped) return httpPut(url, headers, body, timeoutMs);
    dropped = true;
    async function* truncated(): AsyncIterable<Uint8Array> {
      let sent = 0;
      for await (const chunk of body) {
        if (sent + chunk.length > cut) {
          yield chunk.subarray(0, cut - sent);
          // Let the bytes reach the agent, then drop the connection.
          await new Promise((resolve) => setTimeout(resolve, 200));
          throw new Error("connection dropped");
        }
        sent += chunk.length;
        yield chunk;
      }
    }
    return httpPut(url, headers, truncated(), timeoutMs);
  };
  return { put, puts };
}

describe("agent uploads: streamed to disk, resumed after a dropped connection", function () {
  this.timeout(60_000);
  let f: StorageFixture;
  let agent: Agent;
  let endpoint: string;
  let dataSetId: bigint;

  before(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    agent = await startTestAgent(f);
    await agent.app.listen({ port: 0, host: "127.0.0.1" });
    endpoint = `http://127.0.0.1:${(agent.app.server.address() as AddressInfo).port}`;
    dataSetId = await openDataSetOverHttp(agent, f);
  });

  after(async function () {
    await agent.stop();
    await removeTempDirs();
  });

  it("resumes from the offset the agent reports and stores the piece once, verified", async function () {
    const data = Uint8Array.from(randomBytes((6 << 20) + 4321));
    const { root } = PieceTree.build(data);
    const path = join(await tempDataDir(), "piece.bin");
    await writeFile(path, data);
    const { put, puts } = droppingPut((3 << 20) + 77);
    const client = createAgentClient(endpoint, { put });
    const stored = await client.putPieceFile(dataSetId, root, { path, size: data.length });
    expect(stored).to.deep.equal({ root, size: BigInt(data.length) });
    // Two PUTs: the first from 0, dropped; the second from what the agent held, not from 0.
    expect(puts).to.have.length(2);
    expect(puts[0]).to.equal("0");
    expect(Number(puts[1]))
      .to.be.greaterThan(0)
      .and.at.most((3 << 20) + 77);
    const { pieces } = agent.context;
    expect(await pieces.verify(root, BigInt(data.length))).to.deep.equal({ ok: true });
    expect((await readdir(pieces.dir)).filter((name) => name.includes(root.slice(2, 12)))).to.deep.equal([
      `${root}.piece`,
    ]);
    expect(await client.uploadStatus(dataSetId, root, data.length)).to.deep.equal({
      root,
      size: data.length,
      received: data.length,
    });
  });

  it("refuses a resume at another offset than the bytes held (409 UPLOAD_OFFSET_MISMATCH)", async function () {
    const data = Uint8Array.from(randomBytes(300_000));
    const { root } = PieceTree.build(data);
    const url = `${endpoint}/v1/datasets/${dataSetId}/pieces/${root}`;
    const first = await fetch(url, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "x-piece-size": String(data.length) },
      body: data.subarray(0, 100_000),
    });
    expect(first.status).to.equal(400); // Content-Length must be size - offset
    const wrong = await fetch(url, {
      method: "PUT",
      headers: {
        "content-type": "application/octet-stream",
        "x-piece-size": String(data.length),
        "x-upload-offset": "1000",
      },
      body: data.subarray(1000),
    });
    expect(wrong.status).to.equal(409);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).to.equal(
      "UPLOAD_OFFSET_MISMATCH",
    );
    const client = createAgentClient(endpoint);
    expect((await client.uploadStatus(dataSetId, root, data.length)).received).to.equal(0);
  });

  it("rejects and deletes an upload whose bytes do not hash to the root", async function () {
    const data = Uint8Array.from(randomBytes(200_000));
    const root = PieceTree.build(Uint8Array.from(randomBytes(200_000))).root;
    const path = join(await tempDataDir(), "wrong.bin");
    await writeFile(path, data);
    const client = createAgentClient(endpoint);
    const error = await client
      .putPieceFile(dataSetId, root, { path, size: data.length })
      .catch((e: unknown) => e);
    expect(error).to.have.property("agentCode", "ROOT_MISMATCH");
    expect((await client.uploadStatus(dataSetId, root, data.length)).received).to.equal(0);
    expect((await readdir(agent.context.pieces.dir)).some((name) => name.startsWith(root))).to.equal(false);
  });
  it("stores a piece streamed by upload id while it is produced, names its root, and resumes a dropped upload", async function () {
    const data = Uint8Array.from(randomBytes((5 << 20) + 999));
    const { root } = PieceTree.build(data);
    const id = hexlify(randomBytes(32));
    const { put, puts } = droppingPut((2 << 20) + 5);
    const client = createAgentClient(endpoint, { put });
    const reads: number[] = [];
    // The bytes become available a slice at a time, as a store's preparation writes them.
    async function* produce(offset: number): AsyncIterable<Uint8Array> {
      reads.push(offset);
      for (let at = offset; at < data.length; at += 300_000) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        yield data.subarray(at, Math.min(data.length, at + 300_000));
      }
    }
    const progress: number[] = [];
    const stored = await client.uploadPiece(dataSetId, { id, size: data.length, read: produce }, (sent) =>
      progress.push(sent),
    );
    expect(stored).to.deep.equal({ root, size: BigInt(data.length) });
    // Resumed from the bytes the agent held, not from 0.
    expect(puts).to.have.length(2);
    expect(reads[0]).to.equal(0);
    expect(reads[1]).to.equal(Number(puts[1]));
    expect(Number(puts[1])).to.be.greaterThan(0);
    expect(progress.at(-1)).to.equal(data.length);
    const { pieces } = agent.context;
    expect(await pieces.verify(root, BigInt(data.length))).to.deep.equal({ ok: true });
    expect(agent.context.db.piece(root)?.ok).to.equal(true);
    const names = await readdir(pieces.dir);
    expect(names.filter((name) => name.endsWith(".upload"))).to.deep.equal([]);
    expect(await client.namedUploadStatus(dataSetId, id, data.length)).to.deep.equal({
      uploadId: id,
      size: data.length,
      received: data.length,
      root,
    });
    // The same upload again is acknowledged without a body being read.
    const again = await createAgentClient(endpoint).uploadPiece(dataSetId, {
      id,
      size: data.length,
      read: produce,
    });
    expect(again).to.deep.equal({ root, size: BigInt(data.length) });
  });

  it("refuses an upload by id larger than the piece size announced, and keeps nothing", async function () {
    const id = hexlify(randomBytes(32));
    const response = await fetch(`${endpoint}/v1/datasets/${dataSetId}/uploads/${id}`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "x-piece-size": "1000" },
      body: new Uint8Array(2000),
    });
    expect(response.status).to.equal(400);
    const client = createAgentClient(endpoint);
    expect((await client.namedUploadStatus(dataSetId, id, 1000)).received).to.equal(0);
    expect((await readdir(agent.context.pieces.dir)).some((name) => name.includes(id.slice(2)))).to.equal(
      false,
    );
  });
});
