import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { httpPut } from "../../offchain/sdk/client/agentClient.js";

describe("httpPut: a streamed upload body", function () {
  let server: Server;
  let url: string;
  /** Answers with the sha256 and length of what arrived; refuses bodies announced over 64 MiB at once. */
  before(async function () {
    server = createServer((request, response) => {
      if (Number(request.headers["content-length"]) > 64 << 20) {
        response.writeHead(413, { connection: "close" }).end("too large");
        return;
      }
      const hash = createHash("sha256");
      let length = 0;
      request.on("data", (chunk: Buffer) => {
        hash.update(chunk);
        length += chunk.length;
      });
      request.on("end", () => response.end(JSON.stringify({ sha256: hash.digest("hex"), length })));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  after(async function () {
    await new Promise((resolve) => server.close(resolve));
  });

  it("is done with each chunk before asking for the next: a source may reuse one buffer", async function () {
    const data = randomBytes(24 << 20);
    const chunk = 256 << 10;
    const buffer = Buffer.alloc(chunk);
    async function* reused(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < data.length; at += chunk) {
        await Promise.resolve(); // as a file read would, the next chunk comes in a later turn
        data.copy(buffer, 0, at, at + chunk);
        yield buffer;
      }
      // The transport's last write is complete before the source is resumed past the end: poison the buffer.
      buffer.fill(0);
    }
    const answer = await httpPut(url, { "content-length": String(data.length) }, reused(), 30_000);
    expect(answer.status).to.equal(200);
    const body = (await answer.json()) as { sha256: string; length: number };
    expect(body.length).to.equal(data.length);
    expect(body.sha256).to.equal(createHash("sha256").update(data).digest("hex"));
  });

  it("stops reading the body when the server answers early, and resolves with that answer", async function () {
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      const chunk = Buffer.alloc(64 << 10);
      for (;;) {
        await Promise.resolve();
        pulled++;
        yield chunk;
      }
    }
    const answer = await httpPut(url, { "content-length": String(1 << 30) }, endless(), 30_000);
    expect(answer.status).to.equal(413);
    expect(await answer.text()).to.equal("too large");
    // Give a write still in flight the time to fail, then check nothing more is read.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = pulled;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pulled).to.equal(after);
  });
});
