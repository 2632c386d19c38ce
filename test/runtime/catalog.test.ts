import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { Catalog, defaultCatalogPath, filesOf } from "../../offchain/runtime/catalog/catalog.js";
import { prepareFile } from "../../offchain/sdk/data/prepare.js";
import { packFiles } from "../../offchain/sdk/files/bundle.js";
import { rawCid } from "../../offchain/sdk/files/cid.js";
import { completeManifest, type Manifest } from "../../offchain/sdk/manifest/manifest.js";
import { expectStrataError } from "../sdk/helpers/assertions.js";

const client = new Wallet("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");

async function manifestOf(names: string[], bundled = true): Promise<Manifest> {
  const { bytes, entries } = packFiles(
    names.map((name, i) => ({ name, bytes: new Uint8Array(10 + i).fill(i) })),
  );
  const { manifestDraft } = await prepareFile(bytes, { k: 1, m: 1, signer: client, fileName: "bundle" });
  const draft = bundled
    ? {
        ...manifestDraft,
        files: entries.map((e) => ({ ...e, id: rawCid(new TextEncoder().encode(e.name)), public: false })),
      }
    : manifestDraft;
  return completeManifest(
    draft,
    { chainId: 31337n, market: "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
    manifestDraft.pieces.map((_, index) => ({
      provider: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      endpoint: "http://127.0.0.1:8701",
      dataSetId: 1n + BigInt(index),
      offset: 0,
      addedInVersion: 2n,
    })),
  );
}

describe("client catalog (runtime/catalog)", () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), "strata-catalog-"));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it("defaults to the user's data folder, overridable by STRATA_CATALOG", () => {
    expect(defaultCatalogPath({ HOME: "/home/u" })).to.equal("/home/u/.local/share/strata/catalog.sqlite");
    expect(defaultCatalogPath({ HOME: "/home/u", XDG_DATA_HOME: "/d" })).to.equal("/d/strata/catalog.sqlite");
    expect(defaultCatalogPath({ STRATA_CATALOG: "/x/c.db" })).to.equal("/x/c.db");
  });

  it("keeps a partial store durably (reopened) with its placements, then marks it stored", async () => {
    const path = join(folder, "sub", "catalog.sqlite");
    const manifest = await manifestOf(["a.txt", "dir/b.txt"]);
    const first = Catalog.open(path);
    first.recordPartial(manifest, "/m.strata.json.partial", new Map([[0, '{"piece":0}']]));
    first.close();

    const catalog = Catalog.open(path);
    expect(catalog.partials().map((p) => p.manifestId)).to.deep.equal([manifest.fileId]);
    expect(catalog.manifest(manifest.fileId).manifest).to.deep.equal(manifest);
    expect(catalog.pieces(manifest.fileId).map((p) => [p.piece, p.placement, p.applied])).to.deep.equal([
      [0, '{"piece":0}', false],
      [1, null, false],
    ]);
    catalog.markApplied(manifest.fileId, 1);
    expect(catalog.pieces(manifest.fileId).map((p) => p.applied)).to.deep.equal([false, true]);
    catalog.markStored(manifest, "/m.strata.json");
    expect(catalog.partials()).to.deep.equal([]);
    expect(catalog.manifest(manifest.fileId)).to.include({ status: "stored", path: "/m.strata.json" });
    expect(catalog.pieces(manifest.fileId).every((p) => p.applied)).to.equal(true);
    catalog.close();
  });

  it("finds files by content id, path, base name and payload id; removal hides them", async () => {
    const catalog = Catalog.open(":memory:");
    const manifest = await manifestOf(["a.txt", "dir/b.txt"]);
    catalog.importManifest(manifest, null);
    const [a, b] = filesOf(manifest);
    if (a === undefined || b === undefined) throw new Error("two files expected");
    expect(catalog.find(a.id).map((f) => f.name)).to.deep.equal(["a.txt"]);
    expect(catalog.find("dir/b.txt").map((f) => f.offset)).to.deep.equal([b.offset]);
    expect(catalog.find("b.txt").map((f) => f.name)).to.deep.equal(["dir/b.txt"]);
    expect(catalog.find(manifest.fileId)).to.have.length(2);
    expect(catalog.find("nothing")).to.deep.equal([]);

    catalog.markRemoved(manifest.fileId, ["a.txt"]);
    expect(catalog.find("a.txt")).to.deep.equal([]);
    expect(catalog.manifest(manifest.fileId).status).to.equal("stored");
    catalog.markRemoved(manifest.fileId, ["dir/b.txt"]);
    expect(catalog.manifest(manifest.fileId).status).to.equal("removed");
    expect(catalog.files()).to.deep.equal([]);
    expect(catalog.files({ includeRemoved: true })).to.have.length(2);
    catalog.close();
  });

  it("lists a manifest without a files section as one file named by its file id", async () => {
    const catalog = Catalog.open(":memory:");
    const manifest = await manifestOf(["only"], false);
    catalog.importManifest(manifest, "/only.strata.json");
    expect(catalog.find(manifest.fileId).map((f) => [f.name, f.size, f.contentId])).to.deep.equal([
      ["bundle", manifest.fileSize, manifest.fileId],
    ]);
    expectStrataError(() => catalog.manifest("0x00"), "CATALOG_NOT_FOUND");
    catalog.close();
  });
});
