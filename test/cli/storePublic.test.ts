import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readStoredFile } from "../../offchain/sdk/client/readStoredFile.js";
import { retrieveFile } from "../../offchain/sdk/client/retrieve.js";
import {
  fundAndApply,
  storeFile,
  type PiecePlaced,
  type StoreDeps,
  type StoreEvent,
  type StoreRequest,
} from "../../offchain/sdk/client/store.js";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import { prepareReplica } from "../../offchain/sdk/data/replica.js";
import { publicCid } from "../../offchain/sdk/files/cid.js";
import {
  fromJsonValue,
  loadManifest,
  replicaPieceSize,
  toJsonValue,
  type Manifest,
} from "../../offchain/sdk/manifest/manifest.js";
import { deployStorage, USDC, type StorageFixture } from "../helpers/fixture.js";
import { fakeProviders, type FakeAgent } from "./helpers/fakeAgent.js";
import { expectCode, must } from "./helpers/httpServer.js";

describe("public files: stored in the clear as full replicas (in-process chain, fake agents)", function () {
  this.timeout(60_000);
  let f: StorageFixture;
  let dir: string;
  let agents: FakeAgent[];
  let deps: StoreDeps;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-public-"));
    f = await deployStorage();
    const fakes = await fakeProviders(f, [f.provider, f.provider2, ...f.others].slice(0, 4), [
      {},
      {},
      {},
      {},
    ]);
    agents = fakes.agents;
    deps = {
      signer: f.client,
      chainId: f.chainId,
      market: f.market.connect(f.client),
      registry: f.registry,
      token: f.token.connect(f.client),
      provider: f.ethers.provider,
      agentFor: fakes.agentFor,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))),
    };
    await f.token.mint(f.client.address, 1_000n * USDC);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function request(bytes: Uint8Array, overrides: Partial<StoreRequest> = {}): StoreRequest {
    return {
      bytes,
      fileName: "page.html",
      k: 2,
      m: 1,
      public: true,
      periods: 4n,
      maxPricePerTiBMonth: null,
      manifestPath: join(dir, "page.strata.json"),
      applyTimeoutMs: 300,
      pollMs: 10,
      ...overrides,
    };
  }

  it("prepares one padded piece in the clear, committed like any piece, linked once per replica", async () => {
    const bytes = new Uint8Array(randomBytes(1000));
    const prepared = await prepareReplica([bytes], bytes.length, { dir }, { replicas: 3, fileName: "a.bin" });
    const padded = new Uint8Array(replicaPieceSize(1000));
    padded.set(bytes);
    expect(padded.length).to.equal(1024);
    expect(prepared.pieces.map((p) => p.root)).to.deep.equal(Array(3).fill(PieceTree.build(padded).root));
    for (const piece of prepared.pieces) {
      expect(Buffer.from(await readFile(must(piece.path))).equals(Buffer.from(padded))).to.equal(true);
    }
    const [first, second] = await Promise.all(prepared.pieces.slice(0, 2).map((p) => stat(must(p.path))));
    expect(second?.ino).to.equal(first?.ino); // hard links: one copy on the client's disk
    const draft = prepared.manifestDraft;
    expect(draft).to.deep.include({ public: true, fileSize: 1000, encryption: { algorithm: "none" } });
    expect(draft.coding).to.deep.include({
      algorithm: "replica-v1",
      k: 1,
      m: 2,
      shardSize: 1024,
      payloadSize: 1000,
    });
    expect(replicaPieceSize(0)).to.equal(64);
    await expectCode(
      prepareReplica([bytes], 999, { dir: join(dir, "x") }, { replicas: 3, fileName: "a.bin" }),
      "INVALID_ARGUMENT",
    );
    await expectCode(
      prepareReplica([bytes], 1000, { dir }, { replicas: 8, fileName: "a.bin" }),
      "INVALID_ARGUMENT",
    );
  });

  it("stores with `public: true`: 3 replicas by default whatever k and m, each with the file's public index", async () => {
    const bytes = Buffer.from("<!doctype html><p>public</p>\n".repeat(20_000)); // several UnixFS chunks
    const result = await storeFile(request(bytes), deps);
    const manifest = await loadManifest(result.manifestPath);
    expect(manifest.public).to.equal(true);
    expect(manifest.encryption).to.deep.equal({ algorithm: "none" });
    expect(manifest.coding).to.deep.include({ algorithm: "replica-v1", k: 1, m: 2 });
    expect(manifest.pieces).to.have.length(3);
    expect(new Set(manifest.pieces.map((p) => p.root)).size).to.equal(1);
    expect(new Set(manifest.pieces.map((p) => p.provider)).size).to.equal(3);
    const cid = await publicCid(bytes);
    expect(manifest.files).to.deep.equal([
      { name: "page.html", offset: 0, size: bytes.length, sha256: manifest.fileHash, id: cid, public: true },
    ]);
    const root = must(manifest.pieces[0]).root;
    const holders = agents.filter((a) => manifest.pieces.some((p) => p.endpoint === a.endpoint));
    expect(holders).to.have.length(3);
    for (const agent of holders) {
      expect(agent.publicIndexes.get(root)).to.deep.equal([
        { cid, path: "page.html", size: bytes.length, offset: 0, contentType: "text/html; charset=utf-8" },
      ]);
      // Each replica is the whole file in the clear.
      expect(
        Buffer.from(must(agent.pieces.get(root)))
          .subarray(0, bytes.length)
          .equals(bytes),
      ).to.equal(true);
    }
    const four = await storeFile(
      request(bytes, { replicas: 4, manifestPath: join(dir, "four.strata.json") }),
      deps,
    );
    expect(four.manifest.pieces).to.have.length(4);
  });

  it("sends a replica's public index only after its upload is stored under the prepared root, else moves it to a spare", async () => {
    const altering = must(agents[0]);
    altering.behaviour = { alterUploads: true, pricePerTiBMonth: 1n };
    const bytes = new Uint8Array(randomBytes(300_000));
    const events: StoreEvent[] = [];
    const result = await storeFile(request(bytes, { onProgress: (e) => events.push(e) }), deps);
    const root = must(result.manifest.pieces[0]).root;
    // The provider that stored other bytes gets no index and is replaced by the spare.
    expect(result.manifest.pieces.map((p) => p.endpoint)).to.not.include(altering.endpoint);
    expect(altering.publicIndexes.size).to.equal(0);
    const retry = events.find((e) => e.type === "retry");
    expect(retry?.type === "retry" ? retry.reason : "").to.match(/stored piece \d as 0x/);
    for (const piece of result.manifest.pieces) {
      const agent = must(agents.find((a) => a.endpoint === piece.endpoint));
      expect(agent.publicIndexes.get(root)).to.have.length(1);
    }
  });

  it("uploads every replica while the piece is prepared (staged shard 0 read as it is written)", async () => {
    const bytes = new Uint8Array(randomBytes(12 << 20));
    // The source holds back its second half until a provider has received bytes of the first: without the
    // overlap the store would never get there (and fails after 30 s).
    let uploading: () => void = () => undefined;
    const firstUpload = new Promise<void>((resolve) => {
      uploading = resolve;
    });
    async function* gated(): AsyncIterable<Uint8Array> {
      yield bytes.subarray(0, 6 << 20);
      const timeout = new Promise<never>((_, reject) => {
        setTimeout(() => {
          reject(new Error("no replica was uploaded while the piece was prepared"));
        }, 30_000);
      });
      await Promise.race([firstUpload, timeout]);
      yield bytes.subarray(6 << 20);
    }
    const events: StoreEvent[] = [];
    const result = await storeFile(
      request(bytes, {
        fileName: "blob.bin",
        onProgress: (e) => {
          events.push(e);
          if (e.type === "upload") uploading();
        },
      }),
      {
        ...deps,
        prepareReplica: (_source, size, output, options) => prepareReplica(gated(), size, output, options),
      },
    );
    const types = events.map((e) => e.type);
    expect(types.indexOf("upload")).to.be.greaterThan(-1);
    expect(types.indexOf("upload")).to.be.lessThan(types.indexOf("prepared"));
    const root = must(result.manifest.pieces[0]).root;
    expect(result.manifest.pieces).to.have.length(3);
    for (const piece of result.manifest.pieces) {
      const agent = must(agents.find((a) => a.endpoint === piece.endpoint));
      expect(
        Buffer.from(must(agent.pieces.get(root)))
          .subarray(0, bytes.length)
          .equals(bytes),
      ).to.equal(true);
      expect(agent.publicIndexes.get(root)).to.deep.equal([
        {
          cid: await publicCid(bytes),
          path: "blob.bin",
          size: bytes.length,
          offset: 0,
          contentType: "application/octet-stream",
        },
      ]);
    }
  });

  it("a resumed public store uploads what an agent lacks and sends its public index again", async () => {
    const stuck = must(agents[0]);
    stuck.behaviour = { neverApply: true, pricePerTiBMonth: 1n };
    let placed: readonly PiecePlaced[] = [];
    const onProgress = (event: StoreEvent): void => {
      if (event.type === "recovery-saved") placed = event.placed;
    };
    const bytes = new Uint8Array(randomBytes(50_000));
    await expectCode(storeFile(request(bytes, { onProgress }), deps), "STORE_INCOMPLETE");
    const partialPath = join(dir, "page.strata.json.partial");
    const partial = await loadManifest(partialPath);
    const root = must(partial.pieces[0]).root;
    const placement = must(placed.find((p) => p.endpoint === stuck.endpoint));
    // As if the store had stopped right after the recovery manifest: neither the piece nor its index arrived.
    stuck.pieces.delete(root);
    stuck.publicIndexes.clear();
    const { failures } = await fundAndApply(
      {
        manifest: partial,
        placements: [placement],
        periods: 4n,
        partialPath,
        piecesDir: join(dir, "page.strata.json.pieces"),
      },
      {
        signer: f.client,
        market: f.market.connect(f.client),
        token: f.token.connect(f.client),
        agentFor: deps.agentFor,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))),
        now: Date.now,
        timeoutMs: 300,
        pollMs: 10,
      },
    );
    expect(stuck.pieces.has(root)).to.equal(true);
    expect(stuck.publicIndexes.get(root)).to.deep.equal([
      {
        cid: await publicCid(bytes),
        path: "page.html",
        size: bytes.length,
        offset: 0,
        contentType: "text/html; charset=utf-8",
      },
    ]);
    // This agent still never applies: the failure is reported, the pieces stay for another resume.
    expect(failures.map((x) => x.piece)).to.deep.equal([placement.piece]);
  });

  it("reads a public file from any one replica, without a wallet, skipping a tampered or a missing one", async () => {
    const bytes = new Uint8Array(randomBytes(70_000));
    const { manifest } = await storeFile(request(bytes), deps);
    const holder = (i: number) => must(agents.find((a) => a.endpoint === manifest.pieces[i]?.endpoint));
    const file = must(manifest.files?.[0]);
    const agentFor = (endpoint: string) => must(agents.find((a) => a.endpoint === endpoint));

    holder(0).behaviour = { tamper: true };
    holder(1).behaviour = { down: true };
    const read = await readStoredFile(manifest, file, { agentFor });
    expect(Buffer.from(read.bytes).equals(Buffer.from(bytes))).to.equal(true);
    expect(read.used).to.deep.equal([2]);
    expect(read.failures.map((x) => x.piece)).to.deep.equal([0, 1]);
    // A range cannot be checked against the whole file's hash: it comes unverified from the first replica.
    const tampered = await readStoredFile(manifest, file, { agentFor }, { start: 10, end: 20 });
    expect(tampered.used).to.deep.equal([0]);
    expect(Buffer.from(tampered.bytes).equals(Buffer.from(bytes.subarray(10, 20)))).to.equal(false);
    holder(0).behaviour = {};
    const range = await readStoredFile(manifest, file, { agentFor }, { start: 10, end: 20 });
    expect(Buffer.from(range.bytes).equals(Buffer.from(bytes.subarray(10, 20)))).to.equal(true);

    const out = join(dir, "out.bin");
    const retrieved = await retrieveFile({ manifest, outPath: out }, { signer: f.client, agentFor });
    expect(Buffer.from(await readFile(out)).equals(Buffer.from(bytes))).to.equal(true);
    expect(retrieved.used).to.deep.equal([0]);

    // The first replica serves other bytes: it is dropped after its whole payload fails the hash, the output is cut
    // back, and (the second being down) the third replica's bytes are all that is kept.
    holder(0).behaviour = { tamper: true };
    const again = join(dir, "again.bin");
    const failedOver = await retrieveFile({ manifest, outPath: again }, { signer: f.client, agentFor });
    expect(Buffer.from(await readFile(again)).equals(Buffer.from(bytes))).to.equal(true);
    expect(failedOver.used).to.deep.equal([2]);
    expect(failedOver.failures.map((x) => x.piece)).to.deep.equal([0, 1]);
    for (const i of [0, 2]) holder(i).behaviour = { tamper: true };
    await expectCode(readStoredFile(manifest, file, { agentFor }), "PIECES_UNAVAILABLE");
    await expectCode(
      retrieveFile({ manifest, outPath: join(dir, "none.bin") }, { signer: f.client, agentFor }),
      "PIECES_UNAVAILABLE",
    );
  });

  it("validates public manifests: encryption none and replica coding only together with public: true", async () => {
    const { manifest } = await storeFile(request(new Uint8Array(randomBytes(500))), deps);
    const json = toJsonValue(manifest) as Record<string, unknown>;
    expect(fromJsonValue(json)).to.deep.equal(manifest);
    const notPublic = { ...json };
    delete notPublic.public;
    expect(() => fromJsonValue(notPublic))
      .to.throw()
      .with.property("code", "BAD_MANIFEST");
    const padded = { ...json, coding: { ...(json.coding as object), shardSize: 1024 } };
    expect(() => fromJsonValue(padded))
      .to.throw()
      .with.property("code", "BAD_MANIFEST");
    const encrypted: Manifest = manifest;
    const privateFiles = { ...json, files: encrypted.files?.map((x) => ({ ...x, public: false })) };
    expect(() => fromJsonValue(privateFiles))
      .to.throw()
      .with.property("code", "BAD_MANIFEST");
  });
});
