// Helpers of the worker duty tests (test/worker/duties.*.test.ts): workers that follow the fixture's whole
// deployment (retrieval challenges included), clock moves, metric reads and a scriptable provider endpoint.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Signer } from "ethers";
import type { Counter } from "prom-client";
import type { WorkerConfigOverrides } from "../../offchain/worker/config.js";
import type { Duty } from "../../offchain/worker/context.js";
import type { Worker } from "../../offchain/worker/worker.js";
import { startServer, type TestServer } from "../cli/helpers/httpServer.js";
import type { StorageFixture, UniformTree } from "../helpers/fixture.js";
import { testWorker, workerConfig } from "./helpers.js";

/** A worker (not started) following the fixture's market, registry and retrieval-challenge contract. */
export async function dutyWorker(
  f: StorageFixture,
  options: { signer?: Signer; duties?: Duty[]; overrides?: WorkerConfigOverrides; dbPath?: string } = {},
): Promise<Worker> {
  const config = await workerConfig(f, {
    deployment: {
      market: await f.market.getAddress(),
      registry: await f.registry.getAddress(),
      token: await f.token.getAddress(),
      retrievalChallenges: await f.retrievalChallenges.getAddress(),
    },
    ...(options.dbPath === undefined ? {} : { dbPath: options.dbPath }),
    ...options.overrides,
  });
  return testWorker(f, {
    config,
    ...(options.signer === undefined ? {} : { signer: options.signer }),
    duties: options.duties ?? [],
  });
}

/** Move chain time so that the provider's next unresolved period is closed (`count` periods missed). */
export async function missPeriods(f: StorageFixture, provider: string, count = 1n): Promise<bigint> {
  const next = (await f.market.proofState(provider)).nextPeriod;
  const target = await f.market.periodStart(next + count);
  if (BigInt(await f.helpers.time.latest()) < target) await f.helpers.time.increaseTo(target);
  return next;
}

/** The value of a counter (with `labels`), 0 when never incremented. */
export async function counterValue(counter: Counter, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  const match = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.value ?? 0;
}

export async function nonceOf(f: StorageFixture, who: string): Promise<number> {
  return f.ethers.provider.getTransactionCount(who, "latest");
}

/** How the fake provider endpoint answers. */
export type EndpointMode = "honest" | "hang" | "huge" | "wrong-leaf" | "not-found";

export interface FakeEndpoint {
  url: string;
  mode: EndpointMode;
  /** Requests received. */
  requests: number;
  close(): Promise<void>;
}

/**
 * A provider data plane answering the agent's leaf route (`GET /v1/datasets/:id/leaves/:leaf`) from the trees of
 * `sets` (by data-set id), or misbehaving as `mode` says.
 */
export async function fakeEndpoint(sets: Map<bigint, UniformTree>): Promise<FakeEndpoint> {
  const state = { mode: "honest" as EndpointMode, requests: 0 };
  const server: TestServer = await startServer((req: IncomingMessage, res: ServerResponse) => {
    state.requests++;
    const url = new URL(req.url ?? "/", "http://localhost");
    const match = /^\/v1\/datasets\/(\d+)\/leaves\/(\d+)$/.exec(url.pathname);
    const tree = match?.[1] === undefined ? undefined : sets.get(BigInt(match[1]));
    switch (state.mode) {
      case "hang":
        return; // never answers; the sampler's deadline must end it
      case "not-found":
        res
          .writeHead(404, { "content-type": "application/json" })
          .end('{"error":{"code":"DATA_SET_NOT_FOUND","message":"unknown"}}');
        return;
      case "huge":
        res.writeHead(200, { "content-type": "application/json" });
        res.end(Buffer.alloc(4 << 20, 0x20)); // 4 MiB of spaces: far above maxBytes
        return;
      case "honest":
      case "wrong-leaf":
        break;
    }
    if (!match?.[2] || !tree) {
      res.writeHead(404).end();
      return;
    }
    const leafIndex = BigInt(match[2]);
    const [lo, hi] = tree.leaf(leafIndex);
    let leaf = `0x${lo.slice(2)}${hi.slice(2)}`;
    if (state.mode === "wrong-leaf") leaf = `0x${leaf.slice(2, 4) === "ff" ? "00" : "ff"}${leaf.slice(4)}`;
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        leaf,
        path: tree.path(leafIndex),
        root: tree.root,
        span: tree.span.toString(),
        depth: tree.depth,
      }),
    );
  });
  return {
    url: server.url,
    get mode() {
      return state.mode;
    },
    set mode(mode: EndpointMode) {
      state.mode = mode;
    },
    get requests() {
      return state.requests;
    },
    close: () => server.close(),
  };
}
