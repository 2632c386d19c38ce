import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dealStatus, findDeals, signDealExtension, terminateDeal } from "../../offchain/sdk/client/deals.js";
import { retrieveFile } from "../../offchain/sdk/client/retrieve.js";
import {
  storeFile,
  type StoreDeps,
  type StoreEvent,
  type StoreRequest,
} from "../../offchain/sdk/client/store.js";
import { loadManifest } from "../../offchain/sdk/manifest/manifest.js";
import { deployStorage, USDC, type StorageFixture } from "../helpers/fixture.js";
import { fakeProviders, type FakeAgent, type FakeAgentBehaviour } from "./helpers/fakeAgent.js";
import { expectCode, must } from "./helpers/httpServer.js";

const PERIODS = 24n;

describe("store, retrieve and manage a file's deals (in-process chain, fake agents)", function () {
  this.timeout(60_000);
  let f: StorageFixture;
  let dir: string;
  let agents: FakeAgent[];
  let deps: StoreDeps;

  async function setUp(behaviours: FakeAgentBehaviour[], count = behaviours.length): Promise<void> {
    f = await deployStorage();
    const signers = [f.provider, f.provider2, ...f.others].slice(0, count);
    const fakes = await fakeProviders(f, signers, behaviours);
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
      publishTimeoutMs: 300,
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

  it("stores a file as k + m deals with distinct providers and retrieves it byte for byte", async () => {
    await setUp([{}, {}, {}]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const bytes = new Uint8Array(randomBytes(100_000));
    const events: StoreEvent[] = [];
    const result = await storeFile(request(bytes, { onProgress: (e) => events.push(e) }), deps);

    const manifest = await loadManifest(result.manifestPath);
    expect(manifest.pieces.map((p) => p.dealId)).to.not.include(null);
    expect(new Set(manifest.pieces.map((p) => p.provider)).size).to.equal(3);
    expect(existsSync(`${result.manifestPath}.partial`)).to.equal(false);
    // Escrow came from the allowance approved up front, exactly the deals' total.
    expect(result.funding.approveTx).to.not.equal(null);
    expect(await f.token.allowance(f.client.address, await f.market.getAddress())).to.equal(0n);
    expect(events.filter((e) => e.type === "published")).to.have.length(3);

    const deals = await findDeals(f.market, { client: f.client.address });
    expect(deals.map((d) => d.terms.id).sort()).to.deep.equal(manifest.pieces.map((p) => p.dealId).sort());
    for (const piece of manifest.pieces) {
      const deal = deals.find((d) => d.terms.id === piece.dealId);
      expect(deal?.terms).to.deep.equal(piece.deal);
      expect((await dealStatus(f.market, deal ?? (deals[0] as never))).phase).to.equal("pending");
    }

    const out = join(dir, "restored.bin");
    const restored = await retrieveFile(
      { manifest, outPath: out },
      { signer: f.client, agentFor: deps.agentFor },
    );
    expect(Buffer.from(await readFile(out)).equals(Buffer.from(bytes))).to.equal(true);
    expect(restored.used.sort()).to.deep.equal([0, 1]);
    await expectCode(
      retrieveFile({ manifest, outPath: out }, { signer: f.client, agentFor: deps.agentFor }),
      "OUTPUT_EXISTS",
    );
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
    const result = await retrieveFile(
      { manifest, outPath: out },
      { signer: f.client, agentFor: deps.agentFor },
    );
    expect(Buffer.from(await readFile(out)).equals(Buffer.from(bytes))).to.equal(true);
    expect(result.used.sort()).to.deep.equal([1, 2]);
    expect(result.failures.map((x) => x.piece)).to.deep.equal([0]);

    holder(1).behaviour = { down: true };
    await expectCode(
      retrieveFile({ manifest, outPath: join(dir, "b.bin") }, { signer: f.client, agentFor: deps.agentFor }),
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
        { signer: f.client2, agentFor: deps.agentFor },
      ),
      "WRONG_KEY",
    );
  });

  it("fails with INSUFFICIENT_FUNDS before any proposal or upload", async () => {
    await setUp([{}, {}, {}]);
    await expectCode(storeFile(request(new Uint8Array(randomBytes(1000))), deps), "INSUFFICIENT_FUNDS");
    for (const agent of agents) expect(agent.uploads.size).to.equal(0);
  });

  it("retries a piece whose provider never publishes on a spare and cancels the abandoned proposal", async () => {
    // The first three providers are the cheapest; the one that never publishes is among them.
    await setUp([{ neverPublish: true, pricePerTiBMonth: 1n }, {}, {}, { pricePerTiBMonth: 10n * USDC }]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const events: StoreEvent[] = [];
    const result = await storeFile(
      request(new Uint8Array(randomBytes(20_000)), { onProgress: (e) => events.push(e) }),
      deps,
    );
    const manifest = await loadManifest(result.manifestPath);
    const stuck = must(agents[0]);
    expect(manifest.pieces.map((p) => p.endpoint)).to.not.include(stuck.endpoint);
    expect(manifest.pieces.map((p) => p.endpoint)).to.include(must(agents[3]).endpoint);
    expect(events.some((e) => e.type === "retry")).to.equal(true);

    const [abandoned] = [...stuck.uploads.values()];
    expect(result.cleanup.cancelled).to.deep.equal([abandoned?.proposal.nonce]);
    expect(await f.market.nonceUsed(f.client.address, abandoned?.proposal.nonce ?? 0n)).to.equal(true);
  });

  it("terminates a duplicate deal published after the client gave up on it", async () => {
    await setUp([{ silentPublish: true, pricePerTiBMonth: 1n }, {}, {}, { pricePerTiBMonth: 10n * USDC }]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const result = await storeFile(request(new Uint8Array(randomBytes(20_000))), deps);
    expect(result.cleanup.duplicates).to.have.length(1);
    const duplicate = result.cleanup.duplicates[0];
    const [record] = await findDeals(f.market, { dealId: duplicate?.dealId ?? 0n });
    expect(record?.ended?.reason).to.equal("client-terminated");
    expect((await loadManifest(result.manifestPath)).pieces.map((p) => p.dealId)).to.not.include(
      duplicate?.dealId,
    );
  });

  it("terminates the deals made and cancels the rest when a piece cannot be placed (STORE_INCOMPLETE)", async () => {
    await setUp([{}, {}, { rejectProposals: true }]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const before = await f.token.balanceOf(f.client.address);
    await expectCode(storeFile(request(new Uint8Array(randomBytes(5_000))), deps), "STORE_INCOMPLETE");
    const deals = await findDeals(f.market, { client: f.client.address });
    expect(deals).to.have.length(2);
    for (const deal of deals) expect(deal.ended?.reason).to.equal("client-terminated");
    // Every unit of escrow is back (in the market balance); the rejected proposal's nonce is cancelled.
    const ledger = await f.market.balanceOf(f.client.address);
    expect(ledger + (await f.token.balanceOf(f.client.address))).to.equal(before);
    const cancelled = await f.market.queryFilter(f.market.filters.NonceCancelled(f.client.address));
    expect(cancelled).to.have.length(1);
    expect(existsSync(join(dir, "notes.strata.json"))).to.equal(false);
    expect(existsSync(join(dir, "notes.strata.json.partial"))).to.equal(false);
  });

  it("keeps the placed deals and a partial manifest with keepPartial", async () => {
    await setUp([{}, {}, { rejectProposals: true }]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    await expectCode(
      storeFile(request(new Uint8Array(randomBytes(5_000)), { keepPartial: true }), deps),
      "STORE_INCOMPLETE",
    );
    const partial = await loadManifest(join(dir, "notes.strata.json.partial"));
    expect(partial.pieces.filter((p) => p.dealId !== null)).to.have.length(2);
  });

  it("renews a deal through its provider and terminates it as the client", async () => {
    await setUp([{}, {}, {}]);
    await f.token.mint(f.client.address, 1_000n * USDC);
    const { manifestPath } = await storeFile(request(new Uint8Array(randomBytes(5_000))), deps);
    const piece = (await loadManifest(manifestPath)).pieces[0];
    const [record] = await findDeals(f.market, { dealId: piece?.dealId ?? 0n });
    if (!record) throw new Error("deal not found");
    const latest = await f.ethers.provider.getBlock("latest");
    const signed = await signDealExtension(f.client, record.terms, {
      periods: 5n,
      chainId: f.chainId,
      market: await f.market.getAddress(),
      provingPeriod: await f.market.provingPeriod(),
      deadline: BigInt(latest?.timestamp ?? 0) + 3600n,
    });
    expect(signed.cost).to.equal(record.terms.pricePerSecond * 5n * 3600n);
    await f.token.connect(f.client).approve(await f.market.getAddress(), signed.cost);
    await deps.agentFor(piece?.endpoint ?? "").submitExtension(signed.request);
    const [extended] = await findDeals(f.market, { dealId: record.terms.id });
    expect(extended?.terms.endPeriod).to.equal(record.terms.endPeriod + 5n);

    const ended = await terminateDeal(f.market.connect(f.client), extended?.terms ?? record.terms);
    expect(ended.refundedToClient).to.equal(record.terms.pricePerSecond * (PERIODS + 5n) * 3600n);
    const [after] = await findDeals(f.market, { dealId: record.terms.id });
    expect((await dealStatus(f.market, after ?? record)).phase).to.equal("ended");
  });
});
