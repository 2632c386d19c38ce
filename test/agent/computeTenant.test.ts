import { expect } from "chai";
import type { Agent } from "../../offchain/agent/agent.js";
import { ingressPath } from "../../offchain/agent/compute/ingress.js";
import { LeaseVolumes } from "../../offchain/agent/compute/volumes.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import {
  ACCESS_HEADER,
  leaseUpdateMessage,
  signLeaseAccess,
  type LeaseTarget,
} from "../../offchain/sdk/compute/tenantAuth.js";
import { closeReasonIndex } from "../../offchain/sdk/compute/orders.js";
import { parseWorkload, type WorkloadDescription } from "../../offchain/sdk/compute/workload.js";
import { deployStorage, type StorageFixture } from "../helpers/fixture.js";
import {
  computeParties,
  makeOrder,
  postOrder,
  putWorkload,
  startComputeAgent,
  waitUntil,
} from "./computeHelpers.js";
import { removeTempDirs, tempDataDir } from "./helpers.js";

/** A backend with a small SQLite database on its volume: POST /notes adds a note, GET /notes lists them. */
const BACKEND_SCRIPT = (label: string) => `
const { DatabaseSync } = require("node:sqlite");
const http = require("node:http");
const db = new DatabaseSync(process.env.STRATA_VOLUME_DB + "/notes.sqlite");
db.exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
http.createServer((req, res) => {
  if (req.method === "POST" && req.url === "/notes") {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      db.prepare("INSERT INTO notes (text) VALUES (?)").run(body);
      res.writeHead(201, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true }));
    });
    return;
  }
  if (req.url === "/health") return res.end("ok");
  const notes = db.prepare("SELECT text FROM notes ORDER BY id").all().map((r) => r.text);
  res.writeHead(200, { "content-type": "application/json", "x-version": "${label}" });
  res.end(JSON.stringify({ version: "${label}", notes, prefix: req.headers["x-forwarded-prefix"] ?? null }));
}).listen(8080, "127.0.0.1", () => console.log("backend ${label} listening"));
`;

function backend(label: string): WorkloadDescription {
  return parseWorkload({
    version: 2,
    services: {
      api: {
        run: { kind: "node", script: BACKEND_SCRIPT(label) },
        resources: { cpuMillicores: 250, memoryMiB: 192 },
        expose: [8080],
        health: { port: 8080, path: "/health", intervalSeconds: 1, timeoutSeconds: 1, failures: 3 },
        volumes: { db: "/data/db" },
        restart: "on-failure",
      },
    },
    volumes: { db: { sizeMiB: 32 } },
    pricing: { maxPricePerHour: "0.036", deposit: "1" },
  });
}

describe("agent compute: a tenant's backend (isolated runtime, volumes, ingress, updates, logs)", function () {
  this.timeout(180_000);
  let f: StorageFixture;
  const agents: Agent[] = [];

  beforeEach(async () => {
    f = await deployStorage();
    await computeParties(f);
  });
  const volumes: { dataDir: string; leaseId: bigint }[] = [];
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()));
    // Volumes outlive the agent by design (they are mounted images): the lease "ends" here.
    for (const { dataDir, leaseId } of volumes.splice(0))
      await new LeaseVolumes(dataDir, silentLogger()).wipe(leaseId);
  });
  after(removeTempDirs);

  async function leaseOn(agent: Agent, manifest: WorkloadDescription): Promise<bigint> {
    const orderId = await postOrder(f, await makeOrder(f, manifest));
    await agent.tick();
    expect((await putWorkload(agent, manifest)).statusCode).to.equal(201);
    await (await f.compute.connect(f.client).acceptBid(orderId, f.provider.address)).wait();
    await agent.tick();
    return orderId;
  }

  const get = async (agent: Agent, url: string) => agent.app.inject({ method: "GET", url });
  const notesOf = async (agent: Agent, leaseId: bigint) => {
    const answer = await get(agent, `${ingressPath(leaseId, "api")}notes`);
    return answer.statusCode === 200
      ? answer.json<{ version: string; notes: string[]; prefix: string }>()
      : undefined;
  };
  const ready = async (agent: Agent, leaseId: bigint, version: string) =>
    waitUntil(async () => (await notesOf(agent, leaseId))?.version === version, 30_000);

  it("keeps the SQLite data of its volume across an agent restart and a signed update, and serves it only through the ingress", async () => {
    const dataDir = await tempDataDir();
    const first = await startComputeAgent(f, { dataDir, compute: { noticeOnShutdown: false } });
    agents.push(first);
    expect(first.compute?.context.supervisor.runtime.name).to.equal("isolated");
    const runtime = await get(first, "/v1/compute/runtime");
    expect(runtime.json()).to.deep.equal({ runtime: "isolated", isolated: true, fallbackReason: null });

    const leaseId = await leaseOn(first, backend("v1"));
    volumes.push({ dataDir, leaseId });
    expect(await ready(first, leaseId, "v1")).to.equal(true);
    const post = await first.app.inject({
      method: "POST",
      url: `${ingressPath(leaseId, "api")}notes`,
      payload: "first note",
      headers: { "content-type": "text/plain" },
    });
    expect(post.statusCode).to.equal(201);
    expect(post.headers["content-type"]).to.equal("application/json");
    expect((await notesOf(first, leaseId))?.prefix).to.equal(`/v1/leases/${leaseId}/api`);
    // Without the trailing slash a browser is sent to the service's directory.
    const bare = await get(first, `/v1/leases/${leaseId}/api`);
    expect([bare.statusCode, bare.headers.location]).to.deep.equal([308, `/v1/leases/${leaseId}/api/`]);
    // Ingress limits: an oversized body is refused before it reaches the service.
    const big = await first.app.inject({
      method: "POST",
      url: `${ingressPath(leaseId, "api")}notes`,
      payload: "x",
      headers: { "content-type": "text/plain", "content-length": String(64 * 1024 * 1024) },
    });
    expect(big.statusCode).to.equal(413);
    expect((await get(first, `${ingressPath(leaseId, "nope")}x`)).statusCode).to.equal(404);

    // The agent restarts: the workload stops with it and starts again on the same volume.
    await first.stop();
    agents.splice(agents.indexOf(first), 1);
    const second = await startComputeAgent(f, { dataDir, compute: { noticeOnShutdown: false } });
    agents.push(second);
    await second.tick();
    expect(await ready(second, leaseId, "v1")).to.equal(true);
    expect((await notesOf(second, leaseId))?.notes).to.deep.equal(["first note"]);

    // A signed update swaps the version; the volume (and its database) stays.
    const target: LeaseTarget = {
      chainId: second.context.chain.chainId,
      market: await f.compute.getAddress(),
      leaseId,
    };
    const v2 = backend("v2");
    const { workloadHash } = await import("../../offchain/sdk/compute/workload.js");
    const sign = (version: number, manifest: WorkloadDescription, signer = f.client) =>
      signer.signMessage(leaseUpdateMessage(target, version, workloadHash(manifest)));
    const update = (version: number, manifest: WorkloadDescription, signature: string) =>
      second.app.inject({
        method: "PUT",
        url: `/v1/leases/${leaseId}/manifest`,
        payload: { version, manifest, signature },
      });
    // Someone else's signature, or the tenant's signature over another version, is refused.
    expect((await update(2, v2, await sign(2, v2, f.provider))).statusCode).to.equal(403);
    expect((await update(3, v2, await sign(2, v2))).statusCode).to.equal(403);
    const tooBig = structuredClone(v2);
    if (tooBig.services.api) tooBig.services.api.resources.memoryMiB = 100_000;
    expect((await update(2, tooBig, await sign(2, tooBig))).json()).to.deep.nested.include({
      "error.code": "RESOURCES_EXCEED_ORDER",
    });
    const cheaper = { ...v2, pricing: { maxPricePerHour: "0.001", deposit: "1" } };
    expect((await update(2, cheaper, await sign(2, cheaper))).json()).to.deep.nested.include({
      "error.code": "PRICE_CHANGED",
    });
    const applied = await update(2, v2, await sign(2, v2));
    expect(applied.statusCode).to.equal(200);
    expect(await ready(second, leaseId, "v2")).to.equal(true);
    expect((await notesOf(second, leaseId))?.notes).to.deep.equal(["first note"]);
    // Replaying the same (or an older) signed update is refused.
    expect((await update(2, v2, await sign(2, v2))).json()).to.deep.nested.include({
      "error.code": "STALE_VERSION",
    });

    // Logs and events reach the tenant, and nobody else.
    const now = Math.floor(Date.now() / 1000);
    const tenantLogs = await signLeaseAccess(f.client, target, "logs", now);
    const strangerLogs = await signLeaseAccess(f.provider2, target, "logs", now);
    const logs = await second.app.inject({
      method: "GET",
      url: `/v1/leases/${leaseId}/logs`,
      headers: { [ACCESS_HEADER]: tenantLogs },
    });
    expect(logs.statusCode).to.equal(200);
    expect(logs.body).to.contain("[api] backend v1 listening");
    expect(logs.body).to.contain("[api] backend v2 listening");
    const refused = await second.app.inject({
      method: "GET",
      url: `/v1/leases/${leaseId}/logs`,
      headers: { [ACCESS_HEADER]: strangerLogs },
    });
    expect(refused.statusCode).to.equal(403);
    expect(refused.json()).to.deep.nested.include({ "error.code": "AUTH_INVALID" });
    expect(refused.body).to.not.contain("backend");
    expect((await get(second, `/v1/leases/${leaseId}/logs`)).statusCode).to.equal(401);
    const expired = await signLeaseAccess(f.client, target, "logs", now - 4000);
    expect(
      (
        await second.app.inject({
          method: "GET",
          url: `/v1/leases/${leaseId}/logs`,
          headers: { [ACCESS_HEADER]: expired },
        })
      ).statusCode,
    ).to.equal(403);
    // A grant for the logs does not open the events.
    expect(
      (
        await second.app.inject({
          method: "GET",
          url: `/v1/leases/${leaseId}/events`,
          headers: { [ACCESS_HEADER]: tenantLogs },
        })
      ).statusCode,
    ).to.equal(403);
    const events = await second.app.inject({
      method: "GET",
      url: `/v1/leases/${leaseId}/events`,
      headers: { [ACCESS_HEADER]: await signLeaseAccess(f.client, target, "events", now) },
    });
    const types = events.json<{ events: { type: string }[] }>().events.map((e) => e.type);
    expect(types).to.include.members(["workload-start", "start", "workload-end", "update"]);

    // A backup of the volume is a tar holding the database.
    const backup = await second.app.inject({
      method: "GET",
      url: `/v1/leases/${leaseId}/volumes/db/backup`,
      headers: { [ACCESS_HEADER]: await signLeaseAccess(f.client, target, "backup", now) },
    });
    expect(backup.statusCode).to.equal(200);
    expect(backup.headers["content-type"]).to.equal("application/x-tar");
    expect(backup.rawPayload.includes(Buffer.from("notes.sqlite"))).to.equal(true);
  });

  it("shows a service failing its health checks on the lease, and wipes the volumes when the lease ends", async () => {
    const dataDir = await tempDataDir();
    const agent = await startComputeAgent(f, { dataDir });
    agents.push(agent);
    const sick = parseWorkload({
      version: 2,
      services: {
        api: {
          run: {
            kind: "node",
            script:
              "require('fs').writeFileSync(process.env.STRATA_VOLUME_DB + '/x', 'kept');" +
              "require('http').createServer((q, r) => { r.statusCode = q.url === '/health' ? 500 : 200; r.end('x'); }).listen(8080);",
          },
          resources: { cpuMillicores: 250, memoryMiB: 128 },
          expose: [8080],
          health: { port: 8080, path: "/health", intervalSeconds: 1, timeoutSeconds: 1, failures: 2 },
          volumes: { db: "/data/db" },
          restart: "on-failure",
        },
      },
      volumes: { db: { sizeMiB: 16 } },
    });
    const leaseId = await leaseOn(agent, sick);
    volumes.push({ dataDir, leaseId });
    const status = async () =>
      (await get(agent, `/v1/leases/${leaseId}`)).json<{
        health?: Record<string, string>;
        runtime?: string;
      }>();
    expect(await waitUntil(async () => (await status()).health?.api === "unhealthy", 20_000)).to.equal(true);
    expect((await status()).runtime).to.equal("isolated");
    const volumeDir = agent.compute?.context.supervisor.volumes.leaseDir(leaseId) ?? "";
    const { access } = await import("node:fs/promises");
    expect(
      await access(`${volumeDir}/db/x`).then(
        () => true,
        () => false,
      ),
    ).to.equal(true);

    await (await f.compute.connect(f.client).closeLease(leaseId, closeReasonIndex("Tenant"))).wait();
    await agent.tick();
    expect(agent.compute?.context.supervisor.isRunning(leaseId)).to.equal(false);
    expect(
      await access(volumeDir).then(
        () => true,
        () => false,
      ),
    ).to.equal(false);
    expect((await get(agent, ingressPath(leaseId, "api"))).statusCode).to.equal(404);
  });
});
