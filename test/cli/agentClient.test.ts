import { expect } from "chai";
import {
  createAgentClient,
  httpGetRange,
  ProviderRejectedError,
} from "../../offchain/sdk/client/agentClient.js";
import { expectCode, sendJson, startServer, type TestServer } from "./helpers/httpServer.js";

const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const MARKET = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
const ROOT = `0x${"ab".repeat(32)}`;

/** Everything a body yields, in one buffer. */
async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(Uint8Array.from(part));
  return Buffer.concat(parts);
}

describe("agent HTTP client", () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  async function serve(handler: Parameters<typeof startServer>[0]): Promise<string> {
    const server = await startServer(handler);
    servers.push(server);
    return server.url;
  }

  it("parses /health and /v1/terms with bigints from decimal strings", async () => {
    const url = await serve((req, res) => {
      if (req.url === "/health") {
        sendJson(res, 200, {
          ok: true,
          provider: PROVIDER.toLowerCase(),
          chainId: "31337",
          market: MARKET,
          version: "1",
        });
      } else {
        sendJson(res, 200, {
          provider: PROVIDER,
          chainId: "31337",
          market: MARKET,
          pricePerTiBMonth: "2500000",
          collateralPerTiB: "10000000",
          noticePeriods: "7",
          maxPieceBytes: "1073741824",
          provingPeriod: "3600",
        });
      }
    });
    const agent = createAgentClient(`${url}/`);
    const health = await agent.health();
    expect(health).to.deep.equal({
      ok: true,
      provider: PROVIDER,
      chainId: 31337n,
      market: MARKET,
      version: "1",
    });
    const terms = await agent.terms();
    expect(terms.pricePerTiBMonth).to.equal(2_500_000n);
    expect(terms.collateralPerTiB).to.equal(10_000_000n);
    expect(terms.noticePeriods).to.equal(7n);
    expect(terms.maxPieceBytes).to.equal(1n << 30n);
    expect(terms.endpoint).to.equal("");
  });

  it("times out on an agent that never answers (PROVIDER_UNREACHABLE)", async () => {
    const url = await serve(() => new Promise(() => undefined));
    const error = await expectCode(
      createAgentClient(url, { timeoutMs: 150 }).health(),
      "PROVIDER_UNREACHABLE",
    );
    expect((error as { details?: string }).details).to.equal("timeout");
  });

  it("reports PROVIDER_UNREACHABLE when nothing listens", async () => {
    const server = await startServer(() => undefined);
    await server.close();
    await expectCode(createAgentClient(server.url).health(), "PROVIDER_UNREACHABLE");
  });

  it("maps an API error answer to PROVIDER_REJECTED with the agent's code", async () => {
    const url = await serve((_req, res) => {
      sendJson(res, 422, { error: { code: "POLICY_REJECTED", message: "price too low" } });
    });
    const error = await expectCode(
      createAgentClient(url).createDataSet({
        terms: {
          client: PROVIDER,
          provider: PROVIDER,
          pricePerTiBMonth: 1n,
          collateralPerTiB: 0n,
          noticePeriods: 2n,
          nonce: 7n,
          deadline: 1n,
        },
        signature: `0x${"12".repeat(65)}`,
      }),
      "PROVIDER_REJECTED",
    );
    expect(error).to.be.instanceOf(ProviderRejectedError);
    expect(error.agentCode).to.equal("POLICY_REJECTED");
    expect(error.status).to.equal(422);
  });

  it("keeps the HTTP status as the code of an error answer without the API's shape", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(503);
      res.end("busy");
    });
    const error = await expectCode(createAgentClient(url).terms(), "PROVIDER_REJECTED");
    expect(error.agentCode).to.equal("HTTP_503");
  });

  it("reports PROVIDER_BAD_DATA for malformed or oversized JSON", async () => {
    const url = await serve((req, res) => {
      if (req.url === "/health") sendJson(res, 200, { ok: "yes", provider: PROVIDER });
      else sendJson(res, 200, { padding: "x".repeat(4096) });
    });
    const bad = await expectCode(createAgentClient(url).health(), "PROVIDER_BAD_DATA");
    // The route's schema names the fields that are wrong.
    expect(bad.message).to.contain("ok:").and.to.contain("chainId:");
    await expectCode(createAgentClient(url, { maxJsonBytes: 1024 }).terms(), "PROVIDER_BAD_DATA");
  });

  for (const framing of ["content-length", "chunked"] as const) {
    it(`stops reading an oversized piece at its size + 1 (${framing} framing): PROVIDER_BAD_DATA`, async () => {
      const total = 64 * 1024 * 1024;
      let written = 0;
      const url = await serve((_req, res) => {
        const headers: Record<string, string> = { "content-type": "application/octet-stream" };
        if (framing === "content-length") headers["content-length"] = String(total);
        res.writeHead(200, headers);
        const chunk = Buffer.alloc(64 * 1024);
        res.on("error", () => undefined);
        const pump = () => {
          while (written < total && !res.destroyed && res.write(chunk)) written += chunk.length;
          if (written < total && !res.destroyed) res.once("drain", pump);
          else if (!res.destroyed) res.end();
        };
        pump();
      });
      await expectCode(collect(createAgentClient(url).pieceBody(ROOT, 100)), "PROVIDER_BAD_DATA");
      expect(written).to.be.lessThan(total);
    });
  }

  it("an unknown piece is the agent's 404 with its code", async () => {
    const url = await serve((_req, res) => {
      sendJson(res, 404, { error: { code: "UNKNOWN_PIECE", message: "no piece" } });
    });
    const error = await expectCode(collect(createAgentClient(url).pieceBody(ROOT, 100)), "PROVIDER_REJECTED");
    expect(error).to.have.property("agentCode", "UNKNOWN_PIECE");
  });

  it("rejects a piece shorter than its size (PROVIDER_BAD_DATA)", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(Buffer.alloc(50));
    });
    await expectCode(collect(createAgentClient(url).pieceBody(ROOT, 100)), "PROVIDER_BAD_DATA");
  });

  it("streams a piece of exactly its size with progress", async () => {
    const piece = Buffer.alloc(300_000, 7);
    const url = await serve((req, res) => {
      expect(req.url).to.equal(`/v1/pieces/${ROOT}`);
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(piece);
    });
    let last = 0;
    const bytes = await collect(
      createAgentClient(url).pieceBody(ROOT, piece.length, (done) => {
        last = done;
      }),
    );
    expect(Buffer.from(bytes).equals(piece)).to.equal(true);
    expect(last).to.equal(piece.length);
  });

  it("uploads a piece into a data set with its exact Content-Length and progress; checks the acknowledgement", async () => {
    const piece = Buffer.alloc(1_000_000, 3);
    let received: { length: number; header: string | undefined; url: string | undefined } | undefined;
    let acknowledged = ROOT;
    const url = await serve((req, res, body) => {
      received = { length: body.length, header: req.headers["content-length"], url: req.url };
      sendJson(res, 201, { root: acknowledged, size: String(body.length) });
    });
    const progress: number[] = [];
    const stored = await createAgentClient(url).putPiece(5n, ROOT, piece, (sent) => progress.push(sent));
    expect(stored).to.deep.equal({ root: ROOT, size: BigInt(piece.length) });
    expect(received).to.deep.equal({
      length: piece.length,
      header: String(piece.length),
      url: `/v1/datasets/5/pieces/${ROOT}`,
    });
    expect(progress.at(-1)).to.equal(piece.length);
    acknowledged = `0x${"cd".repeat(32)}`;
    await expectCode(createAgentClient(url).putPiece(5n, ROOT, piece), "PROVIDER_BAD_DATA");
  });

  it("reads a data set's layout and posts signed states as decimal strings", async () => {
    let posted: unknown;
    let postedTo: string | undefined;
    const url = await serve((req, res, body) => {
      if (req.method === "GET") {
        sendJson(res, 200, {
          dataSetId: "12",
          client: PROVIDER,
          layout: [{ root: ROOT, size: 100, offset: 0, height: 1 }],
          version: "1",
          root: ROOT,
          span: "2",
          onChain: { version: "1", root: ROOT, span: "2" },
        });
      } else {
        postedTo = req.url;
        posted = JSON.parse(body.toString("utf8"));
        sendJson(res, 202, { accepted: true, version: "2" });
      }
    });
    const agent = createAgentClient(url);
    const held = await agent.getDataSet(12n);
    expect(held.layout).to.deep.equal([{ root: ROOT, size: 100, offset: 0, height: 1 }]);
    expect(held.onChain.span).to.equal(2n);
    const state = { dataSetId: 12n, version: 2n, root: ROOT, span: 4n };
    const signature = `0x${"12".repeat(65)}`;
    const answer = await agent.postState({
      state,
      signature,
      add: [{ root: ROOT, size: 100, offset: 2, height: 1 }],
      remove: [],
    });
    expect(answer).to.deep.equal({ accepted: true, version: 2n });
    expect(postedTo).to.equal("/v1/datasets/12/state");
    expect(posted).to.deep.equal({
      state: { dataSetId: "12", version: "2", root: ROOT, span: "4" },
      signature,
      add: [{ root: ROOT, size: 100, offset: 2, height: 1 }],
      remove: [],
    });
  });

  it("refuses a layout piece at an unaligned offset (PROVIDER_BAD_DATA)", async () => {
    const url = await serve((_req, res) => {
      sendJson(res, 200, {
        dataSetId: "12",
        client: PROVIDER,
        layout: [{ root: ROOT, size: 100, offset: 1, height: 1 }],
        version: "1",
        root: ROOT,
        span: "2",
        onChain: { version: "1", root: ROOT, span: "2" },
      });
    });
    await expectCode(createAgentClient(url).getDataSet(12n), "PROVIDER_BAD_DATA");
  });
  it("reads a byte range over node:http into one buffer, exactly the bytes asked", async () => {
    const piece = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    let asked = "";
    const url = await serve((req, res) => {
      asked = req.headers.range ?? "";
      const [, a = "0", b = "0"] = /bytes=(\d+)-(\d+)/.exec(asked) ?? [];
      const body = piece.subarray(Number(a), Number(b) + 1);
      res.writeHead(206, { "content-length": String(body.length) });
      // In several writes, as a file stream sends it.
      for (let at = 0; at < body.length; at += 65_536) res.write(body.subarray(at, at + 65_536));
      res.end();
    });
    const bytes = await createAgentClient(url).downloadRange(ROOT, 1000, 250_001);
    expect(asked).to.equal("bytes=1000-250000");
    expect(Buffer.from(bytes).equals(piece.subarray(1000, 250_001))).to.equal(true);
  });

  it("refuses a range answer longer or shorter than asked (PROVIDER_BAD_DATA), maps errors and silence", async () => {
    const sizes = { long: 2000, short: 10 };
    const url = await serve((req, res) => {
      if (req.url?.endsWith("missing") === true) {
        sendJson(res, 404, { error: { code: "UNKNOWN_PIECE", message: "no piece" } });
        return;
      }
      if (req.url?.endsWith("silent") === true) return;
      const n = req.headers["x-case"] === "short" ? sizes.short : sizes.long;
      res.writeHead(206);
      res.end(Buffer.alloc(n));
    });
    const client = (kase: string) =>
      createAgentClient(url, {
        timeoutMs: 150,
        minBytesPerSecond: 1 << 30,
        get: (u, headers, limit, timeout) => httpGetRange(u, { ...headers, "x-case": kase }, limit, timeout),
      });
    await expectCode(client("long").downloadRange(ROOT, 0, 100), "PROVIDER_BAD_DATA");
    await expectCode(client("short").downloadRange(ROOT, 0, 100), "PROVIDER_BAD_DATA");
    const missing = createAgentClient(url, {
      get: (u, headers, limit, timeout) => httpGetRange(`${u}missing`, headers, limit, timeout),
    });
    const rejected = await expectCode(missing.downloadRange(ROOT, 0, 100), "PROVIDER_REJECTED");
    expect(rejected.agentCode).to.equal("UNKNOWN_PIECE");
    const silent = createAgentClient(url, {
      timeoutMs: 150,
      minBytesPerSecond: 1 << 30,
      get: (u, headers, limit, timeout) => httpGetRange(`${u}silent`, headers, limit, timeout),
    });
    const timedOut = await expectCode(silent.downloadRange(ROOT, 0, 100), "PROVIDER_UNREACHABLE");
    expect(timedOut.details).to.equal("timeout");
  });

  it("reads ranges on the download worker by default: into a handed-over buffer, with every error mapped as before", async () => {
    const piece = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
    const root = (tag: string): string => `0x${tag.repeat(64).slice(0, 64)}`;
    const url = await serve((req, res) => {
      const path = req.url ?? "";
      if (path.includes(root("d"))) {
        sendJson(res, 404, { error: { code: "UNKNOWN_PIECE", message: "no piece" } });
        return;
      }
      if (path.includes(root("e"))) return; // silent
      const [from, to] = (/bytes=(\d+)-(\d+)/.exec(req.headers.range ?? "") ?? []).slice(1).map(Number);
      const body = piece.subarray(from ?? 0, (to ?? 0) + 1);
      res.writeHead(206);
      if (path.includes(root("b"))) res.end(Buffer.concat([body, Buffer.alloc(10)]));
      else if (path.includes(root("c"))) res.end(body.subarray(1));
      else res.end(body);
    });
    const client = createAgentClient(url, { timeoutMs: 300, minBytesPerSecond: 1 << 30 });
    // The buffer handed over is detached here while the worker fills it, and comes back as the answer.
    const into = new Uint8Array(200_000);
    const bytes = await client.downloadRange(root("a"), 50_000, 250_000, into);
    expect(Buffer.from(bytes).equals(piece.subarray(50_000, 250_000))).to.equal(true);
    expect(into.byteLength).to.equal(0);
    expect(bytes.byteOffset).to.equal(0);
    expect(bytes.buffer.byteLength).to.equal(200_000);
    // A shared buffer is filled in place: the answer is a view of it, nothing is detached or allocated.
    const shared = new Uint8Array(new SharedArrayBuffer(1000));
    const inPlace = await client.downloadRange(root("a"), 2000, 3000, shared);
    expect(inPlace.buffer).to.equal(shared.buffer);
    expect(shared.byteLength).to.equal(1000);
    expect(Buffer.from(shared).equals(piece.subarray(2000, 3000))).to.equal(true);
    // Without one, and with a view that is not a whole buffer (copied, never handed over), the same bytes.
    const view = new Uint8Array(300_000).subarray(10, 1010);
    expect(
      Buffer.from(await client.downloadRange(root("a"), 0, 1000)).equals(piece.subarray(0, 1000)),
    ).to.equal(true);
    expect(
      Buffer.from(await client.downloadRange(root("a"), 0, 1000, view)).equals(piece.subarray(0, 1000)),
    ).to.equal(true);
    expect(view.byteLength).to.equal(1000);
    await expectCode(client.downloadRange(root("b"), 0, 100), "PROVIDER_BAD_DATA");
    await expectCode(client.downloadRange(root("c"), 0, 100), "PROVIDER_BAD_DATA");
    const rejected = await expectCode(client.downloadRange(root("d"), 0, 100), "PROVIDER_REJECTED");
    expect(rejected.agentCode).to.equal("UNKNOWN_PIECE");
    const timedOut = await expectCode(client.downloadRange(root("e"), 0, 100), "PROVIDER_UNREACHABLE");
    expect(timedOut.details).to.equal("timeout");
    const closed = await startServer((_req, res) => {
      res.end();
    });
    await closed.close();
    const refused = await expectCode(
      createAgentClient(closed.url).downloadRange(root("a"), 0, 100),
      "PROVIDER_UNREACHABLE",
    );
    expect(refused.details).to.equal("connection failed");
  });
});
