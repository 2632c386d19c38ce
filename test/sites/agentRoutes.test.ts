import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { expect } from "chai";
import { Wallet } from "ethers";
import { fastify, type FastifyInstance } from "fastify";
import { AgentDb } from "../../offchain/agent/db.js";
import { KEPT_VERSIONS } from "../../offchain/agent/sites/store.js";
import type { PublicFileSource, PublicFileStat } from "../../offchain/agent/files/publicFiles.js";
import { installErrorHandlers } from "../../offchain/agent/http/errors.js";
import { registerSiteRoutes } from "../../offchain/agent/http/sites.js";
import { postSiteRequest } from "../../offchain/sdk/api/sites.js";
import { publicCid } from "../../offchain/sdk/files/cid.js";
import {
  contentTypeFor,
  encodeSiteManifest,
  SITE_MANIFEST_FORMAT,
  type SiteManifest,
} from "../../offchain/sdk/sites/manifest.js";
import { signSiteRecord, siteDomain, siteIdOf, type SiteRecord } from "../../offchain/sdk/sites/record.js";

const MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const domain = siteDomain(31337n, MARKET);
const OWNER = new Wallet("0x" + "44".repeat(32));

/** Public files in memory, by content id: what the agent's public index answers. */
class MemoryPublicFiles implements PublicFileSource {
  readonly files = new Map<string, { bytes: Uint8Array; contentType: string }>();

  async add(bytes: Uint8Array, contentType = "application/octet-stream"): Promise<string> {
    const cid = await publicCid(bytes);
    this.files.set(cid, { bytes, contentType });
    return cid;
  }

  stat(cid: string): Promise<PublicFileStat | null> {
    const file = this.files.get(cid);
    return Promise.resolve(file ? { cid, size: file.bytes.length, contentType: file.contentType } : null);
  }

  read(cid: string, start: number, end: number): Promise<Uint8Array> {
    const file = this.files.get(cid);
    if (!file) return Promise.reject(new Error(`no ${cid}`));
    return Promise.resolve(file.bytes.subarray(start, end));
  }

  stream(cid: string, start: number, end: number): NodeJS.ReadableStream {
    const file = this.files.get(cid);
    if (!file) throw new Error(`no ${cid}`);
    return Readable.from([Buffer.from(file.bytes.subarray(start, end))]);
  }
}

/** GET `path` exactly as written (node's http client sends the path as given). */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

const text = (s: string) => new TextEncoder().encode(s);

interface Site {
  manifest: SiteManifest;
  manifestCid: string;
}

async function storeSite(files: MemoryPublicFiles, content: Record<string, string>): Promise<Site> {
  const manifest: SiteManifest = { format: SITE_MANIFEST_FORMAT, files: {} };
  for (const [path, body] of Object.entries(content)) {
    const bytes = text(body);
    manifest.files[path] = {
      cid: await files.add(bytes),
      size: bytes.length,
      contentType: contentTypeFor(path),
    };
  }
  return { manifest, manifestCid: await files.add(encodeSiteManifest(manifest), "application/json") };
}

function cidOf(site: Site, path: string): string {
  const file = site.manifest.files[path];
  if (file === undefined) throw new Error(`no ${path} in the site`);
  return file.cid;
}

function recordFor(rootCid: string, version: bigint, overrides: Partial<SiteRecord> = {}): SiteRecord {
  return {
    siteId: siteIdOf(OWNER.address, "blog"),
    owner: OWNER.address,
    name: "blog",
    version,
    rootCid,
    backend: null,
    createdAt: 1_900_000_000n,
    removed: false,
    ...overrides,
  };
}

describe("agent site routes", function () {
  let app: FastifyInstance;
  let db: AgentDb;
  let files: MemoryPublicFiles;
  const siteId = siteIdOf(OWNER.address, "blog");
  const base = `/v1/sites/${siteId}`;

  async function post(record: SiteRecord, signer: Wallet = OWNER, onDomain = domain) {
    const signature = await signSiteRecord(signer, onDomain, record);
    return app.inject({
      method: "POST",
      url: "/v1/sites",
      payload: postSiteRequest.encode({ record, signature }),
    });
  }

  beforeEach(async function () {
    db = AgentDb.open(":memory:");
    files = new MemoryPublicFiles();
    app = fastify();
    installErrorHandlers(app);
    registerSiteRoutes(app, { sites: db.sites, publicFiles: files, domain });
    await app.ready();
  });

  afterEach(async function () {
    await app.close();
    db.close();
  });

  describe("POST /v1/sites", function () {
    it("accepts a signed record whose manifest and files the agent holds; GET /v1/sites/<id> returns it", async function () {
      const site = await storeSite(files, { "index.html": "<h1>hi</h1>", "a.css": "body{}" });
      const record = recordFor(site.manifestCid, 1n, {
        backend: { leaseId: 3n, url: "http://127.0.0.1:23005" },
      });
      const res = await post(record);
      expect(res.statusCode, res.body).to.equal(201);
      expect(res.json()).to.deep.equal({ siteId, version: "1", accepted: true });
      const again = await post(record);
      expect(again.statusCode).to.equal(200);
      const got = await app.inject({ url: base });
      expect(got.statusCode).to.equal(200);
      const body = got.json<{
        record: { version: string; backend: { leaseId: string; url: string } };
        files: number;
      }>();
      expect(body.record.version).to.equal("1");
      expect(body.record.backend).to.deep.equal({ leaseId: "3", url: "http://127.0.0.1:23005" });
      expect(body.files).to.equal(2);
      expect((await app.inject({ url: `/v1/sites/0x${"00".repeat(32)}` })).json()).to.deep.include({
        error: { code: "UNKNOWN_SITE", message: `no site 0x${"00".repeat(32)} on this provider` },
      });
    });

    it("refuses a record signed by someone else, or for another chain or market", async function () {
      const site = await storeSite(files, { "index.html": "x" });
      const record = recordFor(site.manifestCid, 1n);
      for (const res of [
        await post(record, new Wallet("0x" + "55".repeat(32))),
        await post(record, OWNER, siteDomain(1n, MARKET)),
        await post(record, OWNER, siteDomain(31337n, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")),
      ]) {
        expect(res.statusCode).to.equal(400);
        expect(res.json<{ error: { code: string } }>().error.code).to.equal("BAD_SIGNATURE");
      }
      expect((await app.inject({ url: base })).statusCode).to.equal(404);
    });

    it("refuses a site id that is not the owner's", async function () {
      const site = await storeSite(files, { "index.html": "x" });
      const res = await app.inject({
        method: "POST",
        url: "/v1/sites",
        payload: postSiteRequest.encode({
          record: recordFor(site.manifestCid, 1n, { siteId: siteIdOf(OWNER.address, "other") }),
          signature: "0x" + "11".repeat(65),
        }),
      });
      expect(res.json<{ error: { code: string } }>().error.code).to.equal("BAD_SITE_RECORD");
    });

    it("refuses an older or equal version once a newer one is held", async function () {
      const v1 = await storeSite(files, { "index.html": "one" });
      const v2 = await storeSite(files, { "index.html": "two" });
      expect((await post(recordFor(v2.manifestCid, 2n))).statusCode).to.equal(201);
      for (const record of [recordFor(v1.manifestCid, 1n), recordFor(v1.manifestCid, 2n)]) {
        const res = await post(record);
        expect(res.statusCode).to.equal(409);
        expect(res.json<{ error: { code: string } }>().error.code).to.equal("STALE_VERSION");
      }
      expect((await app.inject({ url: `${base}/` })).body).to.equal("two");
    });

    it("refuses a record whose manifest or any file the agent does not hold, and a manifest that lies about sizes", async function () {
      const missingManifest = await post(
        recordFor("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", 1n),
      );
      expect(missingManifest.json<{ error: { code: string } }>().error.code).to.equal("SITE_CONTENT_MISSING");

      const site = await storeSite(files, { "index.html": "x", "b.js": "y" });
      const bCid = cidOf(site, "b.js");
      const bytes = files.files.get(bCid);
      files.files.delete(bCid);
      const missingFile = await post(recordFor(site.manifestCid, 1n));
      expect(missingFile.statusCode).to.equal(409);
      expect(missingFile.json<{ error: { code: string } }>().error.code).to.equal("SITE_CONTENT_MISSING");
      if (bytes) files.files.set(bCid, bytes);

      const lying: SiteManifest = structuredClone(site.manifest);
      const entry = lying.files["b.js"];
      if (entry) entry.size = 99;
      const lyingCid = await files.add(encodeSiteManifest(lying));
      const res = await post(recordFor(lyingCid, 1n));
      expect(res.statusCode).to.equal(422);
      expect(res.json<{ error: { code: string } }>().error.code).to.equal("BAD_SITE_MANIFEST");

      const disguised: SiteManifest = structuredClone(site.manifest);
      const js = disguised.files["b.js"];
      if (js) js.contentType = "text/html; charset=utf-8";
      const disguisedRes = await post(recordFor(await files.add(encodeSiteManifest(disguised)), 1n));
      expect(disguisedRes.json<{ error: { code: string } }>().error.code).to.equal("BAD_SITE_MANIFEST");

      const notJson = await files.add(text("not json"));
      expect((await post(recordFor(notJson, 1n))).json<{ error: { code: string } }>().error.code).to.equal(
        "BAD_SITE_MANIFEST",
      );
    });

    it("a tombstone stops serving the site; a later version serves it again", async function () {
      const site = await storeSite(files, { "index.html": "x" });
      expect((await post(recordFor(site.manifestCid, 1n))).statusCode).to.equal(201);
      expect((await post(recordFor("", 2n, { removed: true }))).statusCode).to.equal(201);
      const gone = await app.inject({ url: `${base}/` });
      expect(gone.statusCode).to.equal(410);
      expect((await post(recordFor(site.manifestCid, 1n))).statusCode).to.equal(409);
      expect(
        (await app.inject({ url: base })).json<{ record: { removed: boolean } }>().record.removed,
      ).to.equal(true);
      expect((await post(recordFor(site.manifestCid, 3n))).statusCode).to.equal(201);
      expect((await app.inject({ url: `${base}/` })).statusCode).to.equal(200);
    });

    it("keeps a bounded history: the newest KEPT_VERSIONS records, only the newest with its manifest", async function () {
      const site = await storeSite(files, { "index.html": "x" });
      for (let v = 1n; v <= BigInt(KEPT_VERSIONS) + 4n; v++) {
        expect((await post(recordFor(site.manifestCid, v))).statusCode).to.equal(201);
      }
      const versions = db.sites.versions(siteId);
      expect(versions.map((r) => r.record.version)).to.deep.equal(
        Array.from({ length: KEPT_VERSIONS }, (_, i) => BigInt(i + 5)),
      );
      expect(versions.filter((r) => r.manifest !== null).map((r) => r.record.version)).to.deep.equal([
        BigInt(KEPT_VERSIONS) + 4n,
      ]);
      expect((await app.inject({ url: `${base}/` })).body).to.equal("x");
    });

    it("keeps the history across a restart of the database", function () {
      // The migration creates the table; a version is kept and read back.
      const record = recordFor("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", 1n);
      expect(db.sites.put(record, "0x" + "11".repeat(65), null)).to.equal(true);
      expect(db.sites.put(record, "0x" + "11".repeat(65), null)).to.equal(false);
      expect(db.sites.versions(siteId).map((v) => v.record.version)).to.deep.equal([1n]);
    });
  });

  describe("GET|HEAD /v1/sites/<id>/<path>", function () {
    let site: Site;
    const page = "<!doctype html><title>Home</title><p>home</p>";
    const js = "console.log('strata');".repeat(10);

    beforeEach(async function () {
      site = await storeSite(files, {
        "index.html": page,
        "app.js": js,
        "style.css": "p { color: red }",
        "logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
        "docs/index.html": "<p>docs</p>",
        "data.bin": "\u0000\u0001",
        "strata-site.json": '{"backend":"http://127.0.0.1:23005"}',
      });
      expect((await post(recordFor(site.manifestCid, 1n))).statusCode).to.equal(201);
    });

    it("serves files with their content types, ETag = content id and no-cache", async function () {
      const expected: Record<string, string> = {
        "app.js": "text/javascript; charset=utf-8",
        "style.css": "text/css; charset=utf-8",
        "logo.svg": "image/svg+xml",
        "data.bin": "application/octet-stream",
        "strata-site.json": "application/json",
      };
      for (const [path, type] of Object.entries(expected)) {
        const res = await app.inject({ url: `${base}/${path}` });
        expect(res.statusCode, path).to.equal(200);
        expect(res.headers["content-type"], path).to.equal(type);
        expect(res.headers.etag).to.equal(`"${cidOf(site, path)}"`);
        expect(res.headers["cache-control"]).to.equal("no-cache");
        expect(res.headers["x-content-type-options"]).to.equal("nosniff");
      }
      expect((await app.inject({ url: `${base}/app.js` })).body).to.equal(js);
    });

    it("serves index.html for the site root and for folders, and redirects a folder without its slash", async function () {
      const root = await app.inject({ url: `${base}/` });
      expect(root.statusCode).to.equal(200);
      expect(root.body).to.equal(page);
      expect(root.headers["content-type"]).to.equal("text/html; charset=utf-8");
      expect((await app.inject({ url: `${base}/docs/` })).body).to.equal("<p>docs</p>");
      const redirect = await app.inject({ url: `${base}/docs?x=1` });
      expect(redirect.statusCode).to.equal(301);
      expect(redirect.headers.location).to.equal("docs/");
      expect((await app.inject({ url: `${base}/?q=1` })).body).to.equal(page);
    });

    it("answers HEAD with the headers and no body", async function () {
      const res = await app.inject({ method: "HEAD", url: `${base}/app.js` });
      expect(res.statusCode).to.equal(200);
      expect(res.headers["content-length"]).to.equal(String(js.length));
      expect(res.headers.etag).to.equal(`"${cidOf(site, "app.js")}"`);
      expect(res.body).to.equal("");
    });

    it("revalidates: If-None-Match with the current content id is a 304, an old one gets the new bytes", async function () {
      const etag = `"${cidOf(site, "app.js")}"`;
      const fresh = await app.inject({ url: `${base}/app.js`, headers: { "if-none-match": etag } });
      expect(fresh.statusCode).to.equal(304);
      expect(fresh.body).to.equal("");
      expect(fresh.headers.etag).to.equal(etag);
      const weak = await app.inject({
        url: `${base}/app.js`,
        headers: { "if-none-match": `"x", W/${etag}` },
      });
      expect(weak.statusCode).to.equal(304);

      const v2 = await storeSite(files, { "index.html": page, "app.js": "changed()" });
      expect((await post(recordFor(v2.manifestCid, 2n))).statusCode).to.equal(201);
      const stale = await app.inject({ url: `${base}/app.js`, headers: { "if-none-match": etag } });
      expect(stale.statusCode).to.equal(200);
      expect(stale.body).to.equal("changed()");
      expect(stale.headers.etag).to.equal(`"${cidOf(v2, "app.js")}"`);
      // The unchanged page keeps its content id, so a browser's copy stays valid across versions.
      const index = await app.inject({
        url: `${base}/`,
        headers: { "if-none-match": `"${cidOf(site, "index.html")}"` },
      });
      expect(index.statusCode).to.equal(304);
    });

    it("serves one byte range (206), refuses one past the end (416), and ignores a stale If-Range", async function () {
      const part = await app.inject({ url: `${base}/app.js`, headers: { range: "bytes=2-9" } });
      expect(part.statusCode).to.equal(206);
      expect(part.body).to.equal(js.slice(2, 10));
      expect(part.headers["content-range"]).to.equal(`bytes 2-9/${js.length}`);
      expect(part.headers["content-length"]).to.equal("8");
      const suffix = await app.inject({ url: `${base}/app.js`, headers: { range: "bytes=-5" } });
      expect(suffix.body).to.equal(js.slice(-5));
      const past = await app.inject({ url: `${base}/app.js`, headers: { range: `bytes=${js.length}-` } });
      expect(past.statusCode).to.equal(416);
      expect(past.headers["content-range"]).to.equal(`bytes */${js.length}`);
      const stale = await app.inject({
        url: `${base}/app.js`,
        headers: { range: "bytes=2-9", "if-range": '"old"' },
      });
      expect(stale.statusCode).to.equal(200);
      expect(stale.body).to.equal(js);
    });

    it("answers 404 with a plain page, or with the site's own 404.html when it has one", async function () {
      const plain = await app.inject({ url: `${base}/missing.html` });
      expect(plain.statusCode).to.equal(404);
      expect(plain.headers["content-type"]).to.equal("text/html; charset=utf-8");
      expect(plain.body).to.contain("Not found");

      const v2 = await storeSite(files, { "index.html": page, "404.html": "<p>our own 404</p>" });
      expect((await post(recordFor(v2.manifestCid, 2n))).statusCode).to.equal(201);
      const own = await app.inject({ url: `${base}/missing/deep.html` });
      expect(own.statusCode).to.equal(404);
      expect(own.body).to.equal("<p>our own 404</p>");
      expect(own.headers["content-type"]).to.equal("text/html; charset=utf-8");
      // Its ETag must not turn a 404 into a 304.
      const cached = await app.inject({
        url: `${base}/missing.html`,
        headers: { "if-none-match": `"${cidOf(v2, "404.html")}"` },
      });
      expect(cached.statusCode).to.equal(404);
      const unknown = await app.inject({ url: `/v1/sites/0x${"ab".repeat(32)}/` });
      expect(unknown.statusCode).to.equal(404);
      expect((await app.inject({ url: "/v1/sites/nonsense/index.html" })).statusCode).to.equal(404);
    });

    it("refuses .. and . segments, encoded or not, and encoded separators (400)", async function () {
      // A real socket: the raw request line reaches the agent as sent (no client-side dot-segment removal).
      await app.listen({ port: 0, host: "127.0.0.1" });
      const { port } = app.server.address() as AddressInfo;
      const paths = ["../x", "docs/../index.html", "%2e%2e/x", "docs/%2E%2E/index.html", "./index.html"];
      for (const path of [...paths, "docs%2f..%2fx", "a%5cb", "%00"]) {
        const res = await rawGet(port, `${base}/${path}`);
        expect(res.status, path).to.equal(400);
        expect((JSON.parse(res.body) as { error: { code: string } }).error.code, path).to.equal("BAD_PATH");
      }
      expect((await rawGet(port, `${base}/%zz`)).status).to.equal(400); // fastify refuses bad percent-encoding
      expect((await rawGet(port, `${base}/docs/index.html`)).status).to.equal(200);
    });

    it("answers 503 when a file of the version is no longer held", async function () {
      files.files.delete(cidOf(site, "style.css"));
      const res = await app.inject({ url: `${base}/style.css` });
      expect(res.statusCode).to.equal(503);
      expect(res.json<{ error: { code: string } }>().error.code).to.equal("SITE_CONTENT_MISSING");
    });
  });
});
