import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { costFor, readDataSet } from "../../offchain/sdk/client/dataSets.js";
import { DATA_SET_RECORD_FILE } from "../../offchain/sdk/client/dataSetRecord.js";
import { fileStatus } from "../../offchain/sdk/client/fileStatus.js";
import { renewDataSets, manifestDataSets } from "../../offchain/sdk/client/renew.js";
import { retrieveFile } from "../../offchain/sdk/client/retrieve.js";
import {
  fundAndApply,
  storeFile,
  type PiecePlaced,
  type StoreDeps,
  type StoreEvent,
  type StoreRequest,
} from "../../offchain/sdk/client/store.js";
import { removeFile } from "../../offchain/sdk/client/terminate.js";
import { withdrawClientFunds } from "../../offchain/sdk/client/withdraw.js";
import { pieceHeight } from "../../offchain/sdk/datasets/placement.js";
import { prepareStream } from "../../offchain/sdk/data/prepare.js";
import { geometryFor } from "../../offchain/sdk/data/chunked.js";
import { ciphertextIds, packFiles, piecesPayloadReader } from "../../offchain/sdk/files/bundle.js";
import { encryptionOf, loadManifest } from "../../offchain/sdk/manifest/manifest.js";
import { deployStorage, USDC, type StorageFixture } from "../helpers/fixture.js";
import { fakeProviders, type FakeAgent, type FakeAgentBehaviour } from "./helpers/fakeAgent.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { expectCode, must } from "./helpers/httpServer.js";

const PERIODS = 24n;

describe("store, retrieve and manage a file in data sets (in-process chain, fake agents)", function () {
  this.timeout(60_000);
  let f: StorageFixture;
  let dir: string;
  let agents: FakeAgent[];
  let deps: StoreDeps;
  let agentFor: (endpoint: string) => FakeAgent;

  async function setUp(behaviours: FakeAgentBehaviour[], count = behaviours.length): Promise<void> {
    f = await deployStorage();
    const signers = [f.provider, f.provider2, ...f.others].slice(0, count);
    const fakes = await fakeProviders(f, signers, behaviours);
    agents = fakes.agents;
    agentFor = fakes.agentFor;
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
  }

  function request(bytes: Uint8Array, overrides: Partial<StoreRequest> = {}): StoreRequest {
    return {
      bytes,
      fileName: "notes.bin",
      k: 2,
      m: 1,
      periods: PERIODS,
      maxPricePerTiBMonth: null,
      manifestPath: join(dir, "notes.strata.json"),
      applyTimeoutMs: 300,
      pollMs: 10,
      ...overrides,
    };
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-store-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("stores a file as k + m pieces in data sets with distinct providers and retrieves it byte for byte", async () => {
    await setUp([{}, {}, {}]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const bytes = new Uint8Array(randomBytes(100_000));
    const events: StoreEvent[] = [];
    const result = await storeFile(request(bytes, { onProgress: (e) => events.push(e) }), deps);

    const manifest = await loadManifest(result.manifestPath);
    expect(manifest.version).to.equal(3);
    expect(new Set(manifest.pieces.map((p) => p.provider)).size).to.equal(3);
    expect(new Set(manifest.pieces.map((p) => p.dataSetId)).size).to.equal(3);
    expect(existsSync(`${result.manifestPath}.partial`)).to.equal(false);
    expect(existsSync(join(dir, DATA_SET_RECORD_FILE))).to.equal(true);
    // The recovery manifest was written before the first top-up.
    const order = events.map((e) => e.type);
    expect(order.indexOf("recovery-saved")).to.be.lessThan(order.indexOf("topped-up"));
    expect(events.filter((e) => e.type === "applied")).to.have.length(3);
    // Escrow came from the allowance approved once, exactly the top-ups' total.
    expect(result.funding.approveTx).to.not.equal(null);
    expect(await f.token.allowance(f.client.address, await f.market.getAddress())).to.equal(0n);

    const provingPeriod = await f.market.provingPeriod();
    for (const piece of manifest.pieces) {
      const set = await readDataSet(f.market, piece.dataSetId);
      expect(set.status).to.equal("live");
      expect(set.provider).to.equal(piece.provider);
      expect(set.version).to.equal(piece.addedInVersion);
      expect(set.span).to.equal(2n ** BigInt(pieceHeight(piece.size)));
      // Escrow = lockup of the new span (notice + 2 periods) + the periods paid ahead, exactly.
      const lockup = await f.market.lockupFor(piece.dataSetId, set.span);
      expect(set.escrow).to.equal(lockup + costFor(set.pricePerTiBMonth, set.span, PERIODS * provingPeriod));
    }

    const out = join(dir, "restored.bin");
    const restored = await retrieveFile({ manifest, outPath: out }, { signer: f.client, agentFor: agentFor });
    expect(Buffer.from(await readFile(out)).equals(Buffer.from(bytes))).to.equal(true);
    expect(restored.used.sort()).to.deep.equal([0, 1]);
    await expectCode(
      retrieveFile({ manifest, outPath: out }, { signer: f.client, agentFor: agentFor }),
      "OUTPUT_EXISTS",
    );
  });

  it("chooses the cheapest providers by price per TiB-month", async () => {
    await setUp([
      { pricePerTiBMonth: 9n * USDC },
      { pricePerTiBMonth: 1n * USDC },
      { pricePerTiBMonth: 3n * USDC },
      { pricePerTiBMonth: 2n * USDC },
    ]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const { manifest } = await storeFile(request(new Uint8Array(randomBytes(10_000))), deps);
    const used = new Set(manifest.pieces.map((p) => p.endpoint));
    expect(used.has(must(agents[0]).endpoint)).to.equal(false);
    for (const set of manifestDataSets(manifest)) {
      expect((await readDataSet(f.market, set)).pricePerTiBMonth <= 3n * USDC).to.equal(true);
    }
  });

  it("adds a second file to the same data sets (new signed versions, no new data set)", async () => {
    await setUp([{}, {}, {}]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const first = await storeFile(request(new Uint8Array(randomBytes(20_000))), deps);
    const second = await storeFile(
      request(new Uint8Array(randomBytes(20_000)), { manifestPath: join(dir, "more.strata.json") }),
      deps,
    );
    expect(await f.market.dataSetCount()).to.equal(3n);
    expect(new Set(manifestDataSets(second.manifest))).to.deep.equal(
      new Set(manifestDataSets(first.manifest)),
    );
    for (const piece of second.manifest.pieces) {
      expect(piece.addedInVersion).to.equal(2n);
      const before = must(first.manifest.pieces.find((p) => p.dataSetId === piece.dataSetId));
      expect(piece.offset).to.not.equal(before.offset);
      expect((await readDataSet(f.market, piece.dataSetId)).version).to.equal(2n);
    }
    // Both files come back.
    const out = join(dir, "first.bin");
    await retrieveFile({ manifest: first.manifest, outPath: out }, { signer: f.client, agentFor: agentFor });
  });

  it("retrieves from the parity piece when a provider is gone and another serves a tampered piece", async () => {
    await setUp([{}, {}, {}]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const bytes = new Uint8Array(randomBytes(50_000));
    const { manifestPath } = await storeFile(request(bytes), deps);
    const manifest = await loadManifest(manifestPath);
    const holder = (index: number) =>
      must(agents.find((a) => a.endpoint === manifest.pieces[index]?.endpoint));

    holder(0).behaviour = { tamper: true };
    const out = join(dir, "a.bin");
    const result = await retrieveFile({ manifest, outPath: out }, { signer: f.client, agentFor: agentFor });
    expect(Buffer.from(await readFile(out)).equals(Buffer.from(bytes))).to.equal(true);
    expect(result.used.sort()).to.deep.equal([1, 2]);
    expect(result.failures.map((x) => x.piece)).to.deep.equal([0]);

    holder(1).behaviour = { down: true };
    await expectCode(
      retrieveFile({ manifest, outPath: join(dir, "b.bin") }, { signer: f.client, agentFor: agentFor }),
      "PIECES_UNAVAILABLE",
    );
    expect(existsSync(join(dir, "b.bin"))).to.equal(false);
  });

  it("refuses to restore with another wallet (WRONG_KEY)", async () => {
    await setUp([{}, {}, {}]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const { manifestPath } = await storeFile(request(new Uint8Array(randomBytes(1000))), deps);
    await expectCode(
      retrieveFile(
        { manifest: await loadManifest(manifestPath), outPath: join(dir, "x.bin") },
        { signer: f.client2, agentFor: agentFor },
      ),
      "WRONG_KEY",
    );
  });

  it("fails with INSUFFICIENT_FUNDS before any data set or upload", async () => {
    await setUp([{}, {}, {}]);
    const error = await expectCode(
      storeFile(request(new Uint8Array(randomBytes(1000))), deps),
      "INSUFFICIENT_FUNDS",
    );
    // Amounts in tokens with the symbol; base units only in the `...Raw` figures.
    const symbol = await f.token.symbol();
    expect((error as Error).message).to.match(new RegExp(`needs about [0-9.]+ ${symbol} of escrow`));
    expect((error as Error).message).to.not.match(/token units|base units/);
    if (!(error instanceof StrataError)) throw new Error("expected a StrataError");
    const data = error.data ?? {};
    expect(Object.keys(data).sort()).to.deep.equal(["ledgerRaw", "neededRaw", "walletRaw"]);
    expect(BigInt(data.neededRaw ?? "0")).to.be.greaterThan(0n);
    for (const agent of agents) {
      expect(agent.uploads).to.have.length(0);
      expect(agent.creates).to.have.length(0);
    }
  });

  it("retries a piece whose provider refuses it on a spare", async () => {
    await setUp([{ rejectUploads: true, pricePerTiBMonth: 1n }, {}, {}, { pricePerTiBMonth: 10n * USDC }]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const events: StoreEvent[] = [];
    const result = await storeFile(
      request(new Uint8Array(randomBytes(20_000)), { onProgress: (e) => events.push(e) }),
      deps,
    );
    const endpoints = result.manifest.pieces.map((p) => p.endpoint);
    expect(endpoints).to.not.include(must(agents[0]).endpoint);
    expect(endpoints).to.include(must(agents[3]).endpoint);
    expect(events.some((e) => e.type === "retry")).to.equal(true);
  });

  it("uploads pieces while they are prepared, and writes the recovery manifest before paying", async () => {
    await setUp([{}, {}, {}]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const events: StoreEvent[] = [];
    const bytes = new Uint8Array(randomBytes(24 << 20));
    // The source holds back its second half until a provider has received bytes of the first: without the
    // overlap the store would never get there (and fails after 30 s).
    let uploading: () => void = () => undefined;
    const firstUpload = new Promise<void>((resolve) => {
      uploading = resolve;
    });
    async function* gated(): AsyncIterable<Uint8Array> {
      yield bytes.subarray(0, 12 << 20);
      const timeout = new Promise<never>((_, reject) => {
        setTimeout(() => {
          reject(new Error("no piece was uploaded while the file was prepared"));
        }, 30_000);
      });
      await Promise.race([firstUpload, timeout]);
      yield bytes.subarray(12 << 20);
    }
    const result = await storeFile(
      request(bytes, {
        onProgress: (e) => {
          events.push(e);
          if (e.type === "upload") uploading();
        },
      }),
      { ...deps, prepare: (_source, size, output, options) => prepareStream(gated(), size, output, options) },
    );
    const types = events.map((e) => e.type);
    expect(types.indexOf("upload")).to.be.greaterThan(-1);
    expect(types.indexOf("upload")).to.be.lessThan(types.indexOf("prepared"));
    expect(types.indexOf("recovery-saved")).to.be.lessThan(types.indexOf("funded"));
    for (const [i, piece] of result.manifest.pieces.entries()) {
      const agent = agents.find((a) => a.endpoint === piece.endpoint);
      expect(agent?.pieces.has(piece.root), `piece ${i}`).to.equal(true);
    }
    const out = join(dir, "big.out");
    await retrieveFile({ manifest: result.manifest, outPath: out }, { signer: f.client, agentFor });
    expect((await readFile(out)).equals(bytes)).to.equal(true);
  });

  it("names packed files by their ciphertext while encrypting: the ids equal those read back from the pieces", async () => {
    await setUp([{}, {}, {}]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const packed = packFiles(
      [10, 300_000, 0, 70_000].map((size, i) => ({
        name: `f${i}.bin`,
        bytes: new Uint8Array(randomBytes(size)),
      })),
    );
    const fromPieces: string[][] = [];
    const result = await storeFile(
      request(packed.bytes, {
        packedFiles: packed.entries,
        describeFiles: async (prepared) => {
          const draft = prepared.manifestDraft;
          fromPieces.push(
            await ciphertextIds(
              piecesPayloadReader(
                prepared.pieces.slice(0, 2).map((p) => p.path ?? ""),
                geometryFor(draft.coding.payloadSize, 2, draft.coding.stripeSize),
              ),
              { chunkSize: encryptionOf(draft).chunkSize, payloadSize: draft.coding.payloadSize },
              packed.entries,
            ),
          );
          return packed.entries.map((entry, i) => ({
            ...entry,
            id: prepared.ciphertextIds?.[i] ?? "",
            public: false,
          }));
        },
      }),
      deps,
    );
    expect(fromPieces).to.have.length(1);
    expect(result.manifest.files?.map((file) => file.id)).to.deep.equal(fromPieces[0]);
    expect(new Set(fromPieces[0]).size).to.equal(4);
  });

  it("retries on a spare when a provider stores other bytes than it was sent", async () => {
    await setUp([{ alterUploads: true, pricePerTiBMonth: 1n }, {}, {}, { pricePerTiBMonth: 10n * USDC }]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const events: StoreEvent[] = [];
    const result = await storeFile(
      request(new Uint8Array(randomBytes(20_000)), { onProgress: (e) => events.push(e) }),
      deps,
    );
    expect(result.manifest.pieces.map((p) => p.endpoint)).to.not.include(must(agents[0]).endpoint);
    const retry = events.find((e) => e.type === "retry");
    expect(retry?.type === "retry" ? retry.reason : "").to.match(/stored piece \d as 0x/);
    // The recovery manifest names the spare only.
    const recoveries = events.filter((e) => e.type === "recovery-saved");
    const last = recoveries.at(-1);
    expect(last?.type === "recovery-saved" ? last.manifest.pieces.map((p) => p.endpoint) : []).to.not.include(
      must(agents[0]).endpoint,
    );
  });

  it("moves no token and writes no manifest when a piece cannot be placed (STORE_INCOMPLETE)", async () => {
    await setUp([{}, {}, { rejectDataSets: true }]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const before = await f.token.balanceOf(f.client.address);
    await expectCode(storeFile(request(new Uint8Array(randomBytes(5_000))), deps), "STORE_INCOMPLETE");
    expect(await f.token.balanceOf(f.client.address)).to.equal(before);
    expect(await f.market.balanceOf(f.client.address)).to.equal(0n);
    expect(existsSync(join(dir, "notes.strata.json"))).to.equal(false);
    expect(existsSync(join(dir, "notes.strata.json.partial"))).to.equal(false);
    // Nothing to resume: the staged pieces are removed with the failed store.
    expect(existsSync(join(dir, "notes.strata.json.pieces"))).to.equal(false);
  });

  it("keeps the staged pieces with the partial manifest; a resumed store re-uploads what an agent dropped", async () => {
    await setUp([{}, {}, { neverApply: true }]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    let placed: readonly PiecePlaced[] = [];
    const onProgress = (event: StoreEvent): void => {
      if (event.type === "recovery-saved") placed = event.placed;
    };
    await expectCode(
      storeFile(request(new Uint8Array(randomBytes(5_000)), { onProgress }), deps),
      "STORE_INCOMPLETE",
    );
    const piecesDir = join(dir, "notes.strata.json.pieces");
    expect((await readdir(piecesDir)).sort()).to.deep.equal(["piece-0.bin", "piece-1.bin", "piece-2.bin"]);
    const partial = await loadManifest(join(dir, "notes.strata.json.partial"));
    // The agent that never applied its state drops the unsigned upload; the resume sends it again.
    const stuck = placed.find((p) => p.piece === 2);
    const root = partial.pieces[2]?.root ?? "";
    const agent = agents.find((a) => a.endpoint === stuck?.endpoint);
    if (stuck === undefined || agent === undefined) throw new Error("no placement for piece 2");
    agent.pieces.delete(root);
    const uploadsBefore = agent.uploads.length;
    const { failures } = await fundAndApply(
      {
        manifest: partial,
        placements: [stuck],
        periods: PERIODS,
        partialPath: join(dir, "notes.strata.json.partial"),
        piecesDir,
      },
      {
        signer: f.client,
        market: f.market.connect(f.client),
        token: f.token.connect(f.client),
        agentFor,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))),
        now: Date.now,
        timeoutMs: 300,
        pollMs: 10,
      },
    );
    expect(agent.pieces.has(root)).to.equal(true);
    expect(agent.uploads.slice(uploadsBefore).map((u) => u.root)).to.deep.equal([root]);
    // This agent still never applies: the failure is reported, the pieces stay for another resume.
    expect(failures.map((x) => x.piece)).to.deep.equal([2]);
    expect(existsSync(piecesDir)).to.equal(true);
  });

  it("keeps the recovery manifest when a provider never applies its state; the escrow can be withdrawn", async () => {
    await setUp([{}, {}, { neverApply: true }]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const before = await f.token.balanceOf(f.client.address);
    await expectCode(storeFile(request(new Uint8Array(randomBytes(5_000))), deps), "STORE_INCOMPLETE");
    const partial = await loadManifest(join(dir, "notes.strata.json.partial"));
    expect(partial.pieces).to.have.length(3);
    expect(existsSync(join(dir, "notes.strata.json"))).to.equal(false);
    // The stuck data set is still empty on chain: its whole escrow is above the lockup and comes back.
    const withdrawn = await withdrawClientFunds(f.market.connect(f.client), f.client.address, {
      escrow: true,
    });
    expect(withdrawn.fromEscrow.length).to.be.at.least(1);
    expect(await f.token.balanceOf(f.client.address)).to.be.lessThan(before);
    expect(withdrawn.withdrawn > 0n).to.equal(true);
  });

  it("refuses a provider whose layout does not make the root it claims", async () => {
    await setUp([{ lieAboutLayout: true }, {}, {}]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    await expectCode(
      storeFile(request(new Uint8Array(randomBytes(5_000)), { maxAttemptsPerPiece: 1 }), deps),
      "STORE_INCOMPLETE",
    );
  });

  it("reports status per piece, renews by a top-up, removes the file's pieces and terminates emptied data sets", async () => {
    await setUp([{}, {}, {}]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const first = await storeFile(request(new Uint8Array(randomBytes(5_000))), deps);
    const now = BigInt((await f.ethers.provider.getBlock("latest"))?.timestamp ?? 0);
    const healthy = await fileStatus(first.manifest, { market: f.market, agentFor: agentFor, now });
    expect(healthy.healthy).to.equal(3);
    expect(healthy.atRisk).to.equal(false);
    expect(healthy.pieces.every((p) => p.paidUntil !== null && p.paidUntil > now)).to.equal(true);
    for (const agent of agents.slice(0, 2)) agent.behaviour = { down: true };
    const risky = await fileStatus(first.manifest, { market: f.market, agentFor: agentFor, now });
    expect(risky.atRisk).to.equal(true);
    expect(risky.retrievable).to.equal(false);
    for (const agent of agents) agent.behaviour = {};

    const ids = manifestDataSets(first.manifest);
    const escrowBefore = await Promise.all(ids.map(async (id) => (await readDataSet(f.market, id)).escrow));
    const renewed = await renewDataSets(ids, 5n, {
      market: f.market.connect(f.client),
      token: f.token.connect(f.client),
      signer: f.client,
    });
    const provingPeriod = await f.market.provingPeriod();
    for (const [i, id] of ids.entries()) {
      const set = await readDataSet(f.market, id);
      expect(set.escrow - must(escrowBefore[i])).to.equal(
        costFor(set.pricePerTiBMonth, set.span, 5n * provingPeriod),
      );
    }
    expect(renewed.topUps).to.have.length(3);

    // A second file shares the data sets: removing the first drops its pieces by a signed state.
    const second = await storeFile(
      request(new Uint8Array(randomBytes(5_000)), { manifestPath: join(dir, "more.strata.json") }),
      deps,
    );
    const removals = await removeFile(first.manifest, {
      signer: f.client,
      chainId: f.chainId,
      market: f.market.connect(f.client),
      agentFor: agentFor,
    });
    expect(removals.map((r) => r.action)).to.deep.equal([
      "pieces-removed",
      "pieces-removed",
      "pieces-removed",
    ]);
    for (const id of ids) expect((await readDataSet(f.market, id)).version).to.equal(3n);
    // The second file still comes back; removing it too ends the (now empty) data sets with notice.
    await retrieveFile(
      { manifest: second.manifest, outPath: join(dir, "second.bin") },
      { signer: f.client, agentFor: agentFor },
    );
    const ends = await removeFile(second.manifest, {
      signer: f.client,
      chainId: f.chainId,
      market: f.market.connect(f.client),
      agentFor: agentFor,
    });
    expect(ends.map((r) => r.action)).to.deep.equal(["terminated", "terminated", "terminated"]);
    for (const id of ids) expect((await readDataSet(f.market, id)).status).to.equal("ending");
  });
});
