import { expect } from "chai";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { Agent } from "../../offchain/agent/agent.js";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import { sampleLeaf, type SampleLeafOptions, type SampleResult } from "../../offchain/sdk/proofs/sampling.js";
import { removeTempDirs, startTestAgent } from "../agent/helpers.js";
import { sendJson, startServer, type TestServer } from "../cli/helpers/httpServer.js";
import { deployStorage, registerProvider } from "../helpers/fixture.js";
import { deterministicBytes, expectRejection } from "./helpers/assertions.js";

/** 100 leaves and a partial last one. */
const SIZE = 64 * 100 + 20;
const data = deterministicBytes("sampling", SIZE);
const tree = PieceTree.build(data);
const LAST = tree.leafCount - 1;

function options(endpoint: string, overrides: Partial<SampleLeafOptions> = {}): SampleLeafOptions {
  return {
    endpoint,
    root: tree.root,
    size: BigInt(SIZE),
    leafIndex: 7,
    timeoutMs: 2000,
    maxBytes: 64 * 1024,
    ...overrides,
  };
}

function expectFailure(result: SampleResult, code: string, context = ""): void {
  expect(result.ok, `${context} ${JSON.stringify(result)}`).to.equal(false);
  if (!result.ok) expect(result.code, `${context} ${result.message}`).to.equal(code);
}

interface Tamper {
  /** Change the proof answer (JSON object) before it is sent. */
  proof?: (body: Record<string, unknown>) => unknown;
  /** Change the range bytes before they are sent. */
  bytes?: (bytes: Buffer) => Buffer;
  /** Send the whole piece with 200 instead of honouring the range. */
  ignoreRange?: boolean;
  contentRange?: string;
}

/** A provider serving the piece like the agent does, except for what `tamper` changes. */
function providerRoutes(tamper: Tamper = {}) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === `/v1/pieces/${tree.root}/proof`) {
      const index = Number(url.searchParams.get("leaf"));
      const body = {
        root: tree.root,
        size: String(SIZE),
        leafIndex: index,
        leaf: tree.leaf(index),
        path: tree.path(index),
      };
      sendJson(res, 200, tamper.proof ? tamper.proof(body) : body);
      return;
    }
    if (url.pathname === `/v1/pieces/${tree.root}`) {
      const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
      if (tamper.ignoreRange === true || !match) {
        res.writeHead(200, { "content-length": SIZE });
        res.end(Buffer.from(data));
        return;
      }
      const start = Number(match[1]);
      const end = Math.min(Number(match[2]), SIZE - 1);
      const honest = Buffer.from(data.subarray(start, end + 1));
      const bytes = tamper.bytes ? tamper.bytes(honest) : honest;
      res.writeHead(206, {
        "content-range": tamper.contentRange ?? `bytes ${start}-${end}/${SIZE}`,
        "content-length": bytes.length,
      });
      res.end(bytes);
      return;
    }
    sendJson(res, 404, { error: { code: "NOT_FOUND", message: "no" } });
  };
}

describe("retrieval sampling (sampleLeaf)", function () {
  const servers: TestServer[] = [];
  const serve = async (handler: Parameters<typeof startServer>[0]): Promise<string> => {
    const server = await startServer(handler);
    servers.push(server);
    return server.url;
  };

  afterEach(async function () {
    for (const server of servers.splice(0)) await server.close();
  });

  describe("against the agent's routes", function () {
    let agent: Agent;
    let endpoint: string;

    before(async function () {
      const f = await deployStorage();
      await registerProvider(f, f.provider);
      agent = await startTestAgent(f);
      const written = await agent.context.pieces.write(tree.root, SIZE, Readable.from([data]));
      if (!written.ok) throw new Error(written.reason);
      agent.context.db.putPiece({
        root: tree.root,
        size: BigInt(SIZE),
        path: written.path,
        verifiedAt: 0,
        ok: true,
        problem: null,
      });
      await agent.app.listen({ host: "127.0.0.1", port: 0 });
      endpoint = `http://127.0.0.1:${(agent.app.server.address() as AddressInfo).port}/`;
    });

    after(async function () {
      // Samples abort their second request when the first fails: fetch may keep a connected socket that
      // never sent a request, which the server's close would wait for.
      agent.app.server.closeAllConnections();
      await agent.stop();
      await removeTempDirs();
    });

    it("accepts an honest agent's leaves, first, inner and the partial last", async function () {
      for (const leafIndex of [0, 7, 64, LAST]) {
        const result = await sampleLeaf(options(endpoint, { leafIndex }));
        expect(result, `leaf ${leafIndex}`).to.deep.include({ ok: true });
        expect(result.latencyMs).to.be.a("number").and.be.at.least(0);
      }
    });

    it("reports PROVIDER_REJECTED when the agent does not have the piece", async function () {
      const other = PieceTree.build(deterministicBytes("other", 640));
      const result = await sampleLeaf(options(endpoint, { root: other.root, size: 640n, leafIndex: 1 }));
      expectFailure(result, "PROVIDER_REJECTED");
    });
  });

  it("accepts a provider honouring the protocol (the fake is sound)", async function () {
    const url = await serve(providerRoutes());
    expect(await sampleLeaf(options(url, { leafIndex: LAST }))).to.deep.include({ ok: true });
  });

  it("times out on a server that never answers, within the timeout", async function () {
    const url = await serve(() => {
      // never answers
    });
    const started = Date.now();
    const result = await sampleLeaf(options(url, { timeoutMs: 300 }));
    expectFailure(result, "PROVIDER_TIMEOUT");
    expect(Date.now() - started).to.be.within(250, 1500);
    expect(result.latencyMs).to.be.at.least(250);
  });

  it("times out on a server that trickles its bodies forever", async function () {
    const timers: NodeJS.Timeout[] = [];
    const url = await serve((req, res) => {
      const isProof = (req.url ?? "").includes("/proof");
      res.writeHead(isProof ? 200 : 206, {
        "content-type": isProof ? "application/json" : "application/octet-stream",
        ...(isProof ? {} : { "content-range": `bytes 448-511/${SIZE}` }),
      });
      res.write(isProof ? "{" : "x");
      timers.push(setInterval(() => res.write(isProof ? " " : ""), 50));
    });
    try {
      const started = Date.now();
      const result = await sampleLeaf(options(url, { timeoutMs: 400 }));
      expectFailure(result, "PROVIDER_TIMEOUT");
      expect(Date.now() - started).to.be.within(350, 2000);
    } finally {
      for (const timer of timers) clearInterval(timer);
    }
  });

  it("stops reading a 1 GB answer at the cap: PROVIDER_BAD_DATA, quickly, with bounded memory", async function () {
    const GB = 1 << 30;
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const url = await serve((req, res) => {
      const isProof = (req.url ?? "").includes("/proof");
      res.writeHead(isProof ? 200 : 206, {
        "content-length": GB,
        // The leaf's content-range, then far more bytes than it says.
        ...(isProof ? {} : { "content-range": `bytes 448-511/${SIZE}` }),
      });
      const pump = () => {
        while (sent < GB && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const before = process.memoryUsage().arrayBuffers;
    const started = Date.now();
    const result = await sampleLeaf(options(url, { timeoutMs: 10_000, maxBytes: 1 << 20 }));
    expectFailure(result, "PROVIDER_BAD_DATA");
    expect(Date.now() - started).to.be.below(3000);
    expect(sent).to.be.below(64 << 20);
    expect(process.memoryUsage().arrayBuffers - before).to.be.below(64 << 20);

    // Only the proof oversized, the range honest: the proof read is what stops.
    sent = 0;
    const proofOnly = await serve((req, res) => {
      if (!(req.url ?? "").includes("/proof")) {
        providerRoutes()(req, res);
        return;
      }
      res.writeHead(200, { "content-length": GB });
      const pump = () => {
        while (sent < GB && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    expectFailure(
      await sampleLeaf(options(proofOnly, { timeoutMs: 10_000, maxBytes: 1 << 20 })),
      "PROVIDER_BAD_DATA",
    );
    expect(sent).to.be.below(64 << 20);
  });

  it("rejects a server that ignores the range and sends the whole piece", async function () {
    const url = await serve(providerRoutes({ ignoreRange: true }));
    expectFailure(await sampleLeaf(options(url)), "PROVIDER_BAD_DATA");
  });

  it("rejects bytes that differ from the proof's leaf", async function () {
    const url = await serve(
      providerRoutes({
        bytes: (bytes) => {
          const copy = Buffer.from(bytes);
          copy[3] = (copy[3] ?? 0) ^ 1;
          return copy;
        },
      }),
    );
    expectFailure(await sampleLeaf(options(url)), "PROVIDER_BAD_DATA");
  });

  it("rejects a short range, and a content-range for other bytes", async function () {
    const short = await serve(providerRoutes({ bytes: (bytes) => bytes.subarray(0, 63) }));
    expectFailure(await sampleLeaf(options(short)), "PROVIDER_BAD_DATA");
    const shifted = await serve(providerRoutes({ contentRange: `bytes 0-63/${SIZE}` }));
    expectFailure(await sampleLeaf(options(shifted)), "PROVIDER_BAD_DATA");
  });

  it("rejects a consistent leaf whose path does not hash to the root", async function () {
    const url = await serve(
      providerRoutes({
        proof: (body) => {
          const path = [...(body.path as string[])];
          path[2] = `0x${"11".repeat(32)}`;
          return { ...body, path };
        },
      }),
    );
    expectFailure(await sampleLeaf(options(url)), "PROVIDER_BAD_DATA");
  });

  it("rejects a proof with fake leaf bytes matching fake range bytes", async function () {
    // Self-consistent lie: the range and the proof's leaf agree, but not with the root.
    const fake = Buffer.alloc(64, 7);
    const url = await serve(
      providerRoutes({
        bytes: () => fake,
        proof: (body) => ({
          ...body,
          leaf: [`0x${fake.subarray(0, 32).toString("hex")}`, `0x${fake.subarray(32).toString("hex")}`],
        }),
      }),
    );
    expectFailure(await sampleLeaf(options(url)), "PROVIDER_BAD_DATA");
  });

  it("rejects malformed proof answers", async function () {
    const answers: ((body: Record<string, unknown>) => unknown)[] = [
      () => "not an object",
      (body) => ({ ...body, root: `0x${"00".repeat(32)}` }),
      (body) => ({ ...body, size: "64" }),
      (body) => ({ ...body, leafIndex: 8 }),
      (body) => ({ ...body, leaf: [(body.leaf as string[])[0]] }),
      (body) => ({ ...body, leaf: ["0x12", "0x34"] }),
      (body) => ({ ...body, path: (body.path as string[]).slice(1) }),
      (body) => ({ ...body, path: "nope" }),
    ];
    for (const [i, proof] of answers.entries()) {
      const url = await serve(providerRoutes({ proof }));
      expectFailure(await sampleLeaf(options(url)), "PROVIDER_BAD_DATA", `answer ${i}`);
    }
    const notJson = await serve((req, res) => {
      if ((req.url ?? "").includes("/proof")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{ nope");
        return;
      }
      providerRoutes()(req, res);
    });
    expectFailure(await sampleLeaf(options(notJson)), "PROVIDER_BAD_DATA");
  });

  it("reports PROVIDER_REJECTED for 4xx/5xx and PROVIDER_BAD_DATA for a redirect", async function () {
    const notFound = await serve((_req, res) => {
      sendJson(res, 404, { error: { code: "UNKNOWN_PIECE" } });
    });
    expectFailure(await sampleLeaf(options(notFound)), "PROVIDER_REJECTED");
    const broken = await serve((req, res) => {
      if ((req.url ?? "").includes("/proof")) sendJson(res, 500, {});
      else providerRoutes()(req, res);
    });
    expectFailure(await sampleLeaf(options(broken)), "PROVIDER_REJECTED");
    const redirect = await serve((_req, res) => {
      res.writeHead(302, { location: "http://127.0.0.1:1/elsewhere" });
      res.end();
    });
    expectFailure(await sampleLeaf(options(redirect)), "PROVIDER_BAD_DATA");
  });

  it("reports PROVIDER_UNREACHABLE for a refused port and an unusable endpoint", async function () {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, "127.0.0.1", () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => {
          resolve(free);
        });
      });
    });
    expectFailure(await sampleLeaf(options(`http://127.0.0.1:${port}`)), "PROVIDER_UNREACHABLE");
    expectFailure(await sampleLeaf(options("ftp://127.0.0.1/")), "PROVIDER_UNREACHABLE");
    expectFailure(await sampleLeaf(options("not a url")), "PROVIDER_UNREACHABLE");
  });

  it("uses the fetch it is given", async function () {
    const seen: string[] = [];
    const url = await serve(providerRoutes());
    const result = await sampleLeaf({
      ...options(url),
      fetch: (input, init) => {
        seen.push(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
        return fetch(input, init);
      },
    });
    expect(result).to.deep.include({ ok: true });
    expect(seen).to.have.members([
      `${url}/v1/pieces/${tree.root}/proof?leaf=7`,
      `${url}/v1/pieces/${tree.root}`,
    ]);
  });

  it("throws INVALID_ARGUMENT for bad arguments only", async function () {
    const bad: Partial<SampleLeafOptions>[] = [
      { root: "0x1234" },
      { size: 0n },
      { leafIndex: tree.leafCount },
      { leafIndex: -1 },
      { leafIndex: 1.5 },
      { timeoutMs: 0 },
      { timeoutMs: Number.NaN },
      { maxBytes: 0 },
    ];
    for (const overrides of bad) {
      await expectRejection(() => sampleLeaf(options("http://127.0.0.1:1", overrides)), "INVALID_ARGUMENT");
    }
  });
});
