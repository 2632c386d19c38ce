import { expect } from "chai";
import { getAddress } from "ethers";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StrataError } from "../../offchain/sdk/errors.js";
import {
  checkRepairBrief,
  encodeRepairBrief,
  parseRepairBrief,
  type RepairBrief,
} from "../../offchain/sdk/repair/brief.js";
import type { RegistryReader } from "../../offchain/sdk/client/selectProviders.js";
import { chooseProvider, type RepairDeps, type RepairRecord } from "../../offchain/sdk/repair/driver.js";
import type { PieceHealth } from "../../offchain/sdk/repair/lostPieces.js";
import { fileJournal } from "../../offchain/sdk/repair/forFile.js";
import { PieceList } from "../../offchain/sdk/repair/pieceList.js";
import { WorkerDb } from "../../offchain/worker/db/index.js";
import { parseWorkerConfig, resolveWorkerConfig } from "../../offchain/worker/config.js";

const MANDATE = "0x1111111111111111111111111111111111111111";
const OWNER = "0x2222222222222222222222222222222222222222";
const PROVIDER = "0x3333333333333333333333333333333333333333";

function brief(overrides: Partial<RepairBrief> = {}): RepairBrief {
  return {
    version: 1,
    chainId: 31337n,
    mandate: MANDATE,
    k: 1,
    m: 2,
    pieceSize: 1024,
    pieces: [0, 1, 2].map((index) => ({
      index,
      pieceRoot: "0x" + (index + 1).toString(16).padStart(64, "0"),
      span: 16n,
      dataSetId: BigInt(index + 1),
    })),
    ...overrides,
  };
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(StrataError);
    expect((error as StrataError).code).to.equal(code);
    return;
  }
  expect.fail(`expected ${code}`);
}

describe("repair briefs", () => {
  it("test_brief_roundTrip: the wire form parses back to the same brief", () => {
    const b = brief();
    const again = parseRepairBrief(JSON.parse(JSON.stringify(encodeRepairBrief(b))));
    expect(again).to.deep.equal(b);
  });

  it("test_brief_invalid: a piece count other than k + m, or a malformed field, is REPAIR_BRIEF_INVALID", () => {
    const b = brief();
    expectCode(() => parseRepairBrief(encodeRepairBrief({ ...b, m: 3 })), "REPAIR_BRIEF_INVALID");
    expectCode(() => parseRepairBrief({ ...encodeRepairBrief(b), mandate: "0x12" }), "REPAIR_BRIEF_INVALID");
    expectCode(() => parseRepairBrief({ ...encodeRepairBrief(b), version: 2 }), "REPAIR_BRIEF_INVALID");
  });

  it("test_brief_check: only a brief whose pieces make the signed root on the same chain is accepted", () => {
    const b = brief();
    const root = new PieceList(b.pieces).root;
    expect(checkRepairBrief(b, { chainId: 31337n, piecesRoot: root, pieceCount: 3 }).root).to.equal(root);
    // Another piece root (a brief that would "repair" with other data) does not make the signed root.
    const forged = brief({
      pieces: b.pieces.map((p, i) => (i === 1 ? { ...p, pieceRoot: "0x" + "ab".repeat(32) } : p)),
    });
    expectCode(
      () => checkRepairBrief(forged, { chainId: 31337n, piecesRoot: root, pieceCount: 3 }),
      "REPAIR_BRIEF_MISMATCH",
    );
    expectCode(
      () => checkRepairBrief(b, { chainId: 1n, piecesRoot: root, pieceCount: 3 }),
      "REPAIR_BRIEF_MISMATCH",
    );
    expectCode(
      () => checkRepairBrief(b, { chainId: 31337n, piecesRoot: root, pieceCount: 4 }),
      "REPAIR_BRIEF_MISMATCH",
    );
    const moved = brief({ pieces: b.pieces.map((p, i) => (i === 2 ? { ...p, dataSetId: 99n } : p)) });
    expectCode(
      () => checkRepairBrief(moved, { chainId: 31337n, piecesRoot: root, pieceCount: 3 }),
      "REPAIR_BRIEF_MISMATCH",
    );
  });
});

const RECORD: RepairRecord = {
  mandate: MANDATE,
  index: 1,
  stage: "opened",
  repairId: 7n,
  provider: PROVIDER,
  endpoint: "http://127.0.0.1:7001",
  dataSetId: null,
};

describe("repair journal", () => {
  it("test_tables_mandatesOnce: a MandateOpened seen twice (a re-read range) is kept once", () => {
    const db = WorkerDb.open(":memory:");
    const m = {
      mandate: MANDATE,
      owner: OWNER,
      piecesRoot: "0x" + "cd".repeat(32),
      pieceCount: 3,
      blockNumber: 5,
    };
    db.repairs.addMandate(m);
    db.repairs.addMandate({ ...m, blockNumber: 6 });
    const rows = db.repairs.mandates();
    expect(rows).to.have.length(1);
    expect(rows[0]?.blockNumber).to.equal(5);
    expect(rows[0]?.brief).to.equal(null);
    db.repairs.setBrief(MANDATE, '{"x":1}', null);
    expect(db.repairs.mandate(MANDATE)?.brief).to.equal('{"x":1}');
    db.close();
  });

  it("test_tables_stagesResume: the open repair of a piece moves through its stages; claimed or cancelled is done", () => {
    const db = WorkerDb.open(":memory:");
    const t = db.repairs;
    expect(t.openRepair(MANDATE, 1)).to.equal(null);
    t.saveRepair(RECORD);
    expect(t.openRepair(MANDATE, 1)).to.deep.equal(RECORD);
    const bound = { ...RECORD, stage: "bound" as const, dataSetId: 12n };
    t.saveRepair(bound);
    expect(t.openRepair(MANDATE, 1)).to.deep.equal(bound);
    expect(t.openRepair(MANDATE, 0)).to.equal(null);
    t.saveRepair({ ...bound, stage: "claimed" });
    expect(t.openRepair(MANDATE, 1)).to.equal(null);
    expect(t.repairs()).to.have.length(1);
    // A later repair of the same piece (after a cancelled one) is a new row.
    t.saveRepair({ ...RECORD, repairId: 8n });
    expect(t.openRepair(MANDATE, 1)?.repairId).to.equal(8n);
    expect(t.repairs()).to.have.length(2);
    db.close();
  });

  it("test_fileJournal: strata repair's journal survives a restart and forgets finished repairs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-repair-"));
    try {
      const path = join(dir, "f.repairs.json");
      await fileJournal(path).save(RECORD);
      const bound = { ...RECORD, stage: "bound" as const, dataSetId: 3n };
      await fileJournal(path).save(bound);
      expect(await fileJournal(path).load(MANDATE, 1)).to.deep.equal(bound);
      expect(await fileJournal(path).load(MANDATE, 0)).to.equal(null);
      await fileJournal(path).save({ ...bound, stage: "cancelled" });
      expect(await fileJournal(path).load(MANDATE, 1)).to.equal(null);
      expect(JSON.parse(readFileSync(path, "utf8"))).to.have.property(`${MANDATE}/1`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("repair configuration", () => {
  it("test_config_repair: on by default; the factory comes from the deployment file, briefs next to the database", async () => {
    const settings = parseWorkerConfig({
      deployment: {
        market: OWNER,
        registry: PROVIDER,
        token: MANDATE,
      },
      dbPath: "/tmp/w/worker.db",
    });
    expect(settings.repair).to.deep.equal({
      enabled: true,
      factory: null,
      briefsDir: null,
      fetchTimeoutMs: 60_000,
    });
    const config = await resolveWorkerConfig(settings, { chainId: 31337n });
    // Addresses given by hand: no deployment file to find a factory in.
    expect(config.repair.factory).to.equal(null);
    expect(config.repair.briefsDir).to.equal("/tmp/w/repair-briefs");
    const explicit = parseWorkerConfig({ repair: { factory: MANDATE, briefsDir: "b" } }, { baseDir: "/x" });
    expect(explicit.repair.factory).to.equal(MANDATE);
    expect(explicit.repair.briefsDir).to.equal("/x/b");
    expectCode(() => parseWorkerConfig({ repair: { factory: "0x0" } }), "CONFIG_INVALID");
  });
});

// ------------------------------------------------------------------ choosing the new provider

const MARKET_ADDRESS = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
const PERIOD = 3600n;

interface FakeOffer {
  address: string;
  price: bigint;
  collateral?: bigint;
  notice?: bigint;
}

function chooserDeps(offers: FakeOffer[]) {
  const byEndpoint = new Map(offers.map((o) => [`http://p${o.address.slice(-6)}`, o]));
  const endpointOf = (a: string) => `http://p${a.slice(-6).toLowerCase()}`;
  const registry: RegistryReader = {
    providerCount: () => Promise.resolve(BigInt(offers.length)),
    providerAt: (i) => Promise.resolve(offers[Number(i)]?.address ?? ""),
    providerInfo: (a) => Promise.resolve({ registered: true, endpoint: endpointOf(a), pricePerTiBMonth: 0n }),
    stakeInfo: () => Promise.resolve({ free: 10n ** 18n }),
  };
  const agentFor = (endpoint: string) => {
    const o = byEndpoint.get(endpoint);
    if (o === undefined) throw new Error(`no agent at ${endpoint}`);
    return {
      health: () =>
        Promise.resolve({
          ok: true,
          provider: o.address,
          chainId: 31337n,
          market: MARKET_ADDRESS,
          version: "1",
        }),
      terms: () =>
        Promise.resolve({
          provider: o.address,
          chainId: 31337n,
          market: MARKET_ADDRESS,
          pricePerTiBMonth: o.price,
          collateralPerTiB: o.collateral ?? 100n,
          noticePeriods: o.notice ?? 2n,
          maxPieceBytes: 1n << 30n,
          provingPeriod: PERIOD,
          endpoint,
        }),
    };
  };
  return {
    registry,
    agentFor: agentFor as unknown as RepairDeps["agentFor"],
    chainId: 31337n,
    marketAddress: MARKET_ADDRESS,
    provingPeriod: PERIOD,
  };
}

const A = "0x00000000000000000000000000000000000000a1";
const B = "0x00000000000000000000000000000000000000b2";
const C = "0x00000000000000000000000000000000000000c3";
const D = "0x00000000000000000000000000000000000000d4";
const E = "0x00000000000000000000000000000000000000e5";

function mandateTerms(
  overrides: Partial<{ priceCeiling: bigint; collateralFloor: bigint; excluded: string[] }> = {},
) {
  return {
    priceCeiling: overrides.priceCeiling ?? 50n,
    collateralFloor: overrides.collateralFloor ?? 100n,
    noticePeriods: 2n,
    excluded: overrides.excluded ?? [],
  } as unknown as Parameters<typeof chooseProvider>[3];
}

function healthOf(holders: { provider: string; lost: boolean }[]): PieceHealth[] {
  return holders.map((h, index) => ({
    piece: { index, pieceRoot: "0x" + "11".repeat(32), span: 16n, dataSetId: BigInt(index + 1) },
    holder: BigInt(index + 1),
    provider: h.provider,
    lost: h.lost,
    pendingRepair: 0n,
  }));
}

describe("repair: choosing the new provider within the mandate", () => {
  const b = brief();
  // Piece 0 was lost by A; B holds piece 1, C piece 2.
  const health = healthOf([
    { provider: A, lost: true },
    { provider: B, lost: false },
    { provider: C, lost: false },
  ]);
  const first = health[0];
  if (first === undefined) throw new Error("no piece 0");
  const lost: PieceHealth = first;

  it("test_choose_cheapestWithinTheTerms: never the loser, the excluded, above the ceiling, below the floor or on another notice", async () => {
    const deps = chooserDeps([
      { address: A, price: 1n }, // lost the piece
      { address: D, price: 2n }, // excluded by the owner
      { address: E, price: 60n }, // above the ceiling
      { address: "0x00000000000000000000000000000000000000f6", price: 3n, collateral: 99n }, // below the floor
      { address: "0x0000000000000000000000000000000000000077", price: 4n, notice: 3n }, // another notice
      { address: "0x0000000000000000000000000000000000000088", price: 9n },
      { address: "0x0000000000000000000000000000000000000099", price: 7n },
    ]);
    const chosen = await chooseProvider(b, lost, health, mandateTerms({ excluded: [D] }), deps);
    expect(chosen.address).to.equal(getAddress("0x0000000000000000000000000000000000000099"));
  });

  it("test_choose_prefersNonHolders: a provider holding another live piece only when no other qualifies", async () => {
    const cheapHolder = chooserDeps([
      { address: B, price: 1n },
      { address: E, price: 40n },
    ]);
    expect((await chooseProvider(b, lost, health, mandateTerms(), cheapHolder)).address).to.equal(
      getAddress(E),
    );
    const onlyHolders = chooserDeps([
      { address: B, price: 5n },
      { address: C, price: 3n },
      { address: A, price: 1n },
    ]);
    expect((await chooseProvider(b, lost, health, mandateTerms(), onlyHolders)).address).to.equal(
      getAddress(C),
    );
  });

  it("test_choose_none: REPAIR_NO_PROVIDER when nobody qualifies", async () => {
    const deps = chooserDeps([
      { address: A, price: 1n },
      { address: E, price: 60n },
    ]);
    try {
      await chooseProvider(b, lost, health, mandateTerms(), deps);
      expect.fail("expected REPAIR_NO_PROVIDER");
    } catch (error) {
      expect((error as StrataError).code).to.equal("REPAIR_NO_PROVIDER");
    }
  });
});
