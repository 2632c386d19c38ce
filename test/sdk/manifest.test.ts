import { expect } from "chai";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { prepareFile } from "../../offchain/sdk/data/prepare.js";
import { BadManifestError } from "../../offchain/sdk/manifest/validate.js";
import {
  completeManifest,
  fromJson,
  loadManifest,
  saveManifest,
  toJson,
  type Manifest,
} from "../../offchain/sdk/manifest/manifest.js";
import { expectRejection, expectStrataError } from "./helpers/assertions.js";

const client = new Wallet("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const PROVIDER_ADDRESSES = [
  "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
];
const MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

type Json = Record<string, unknown>;

async function sampleManifest(): Promise<Manifest> {
  const { manifestDraft } = await prepareFile(new Uint8Array(300), {
    k: 1,
    m: 1,
    signer: client,
    fileName: "notes.txt",
    now: () => new Date("2026-11-20T10:00:00.000Z"),
  });
  return completeManifest(
    manifestDraft,
    { chainId: 31337n, market: MARKET },
    manifestDraft.pieces.map((_, index) => ({
      provider: PROVIDER_ADDRESSES[index % 2] ?? "",
      endpoint: `http://127.0.0.1:${8701 + index}`,
      dataSetId: 7n + BigInt(index),
      // A 316-byte piece covers 5 leaves, padded to 8: its offset is a multiple of 8.
      offset: 8 * index,
      addedInVersion: 3n,
    })),
  );
}

/** A deep copy of the manifest's JSON with `edit` applied. */
function edited(manifest: Manifest, edit: (json: Json) => void): string {
  const json = JSON.parse(toJson(manifest)) as Json;
  edit(json);
  return JSON.stringify(json);
}

function piece(json: Json, index: number): Json {
  const item = (json.pieces as Json[])[index];
  if (item === undefined) throw new Error(`no piece ${index}`);
  return item;
}

function section(json: Json, key: string): Json {
  return json[key] as Json;
}

describe("manifest", function () {
  let manifest: Manifest;
  before(async function () {
    manifest = await sampleManifest();
  });

  it("round-trips through JSON with bigints as decimal strings", function () {
    const text = toJson(manifest);
    const json = JSON.parse(text) as Json;
    expect(json.chainId).to.equal("31337");
    expect(json.version).to.equal(3);
    expect(piece(json, 0).dataSetId).to.equal("7");
    expect(piece(json, 1).dataSetId).to.equal("8");
    expect(piece(json, 1).offset).to.equal(8);
    expect(piece(json, 1).addedInVersion).to.equal("3");
    expect(fromJson(text)).to.deep.equal(manifest);
    expect(text.endsWith("}\n")).to.be.true;
  });

  it("completes a draft only with one placement per piece", async function () {
    const { manifestDraft } = await prepareFile(new Uint8Array(1), {
      k: 1,
      m: 1,
      signer: client,
      fileName: "x",
    });
    expectStrataError(
      () => completeManifest(manifestDraft, { chainId: 1n, market: MARKET }, []),
      "INVALID_ARGUMENT",
    );
  });

  it("normalises hex to lowercase and addresses to checksum case", function () {
    const text = edited(manifest, (json) => {
      json.fileHash = (json.fileHash as string).toUpperCase().replace("0X", "0x");
      json.market = MARKET.toLowerCase();
    });
    const parsed = fromJson(text);
    expect(parsed.fileHash).to.equal(manifest.fileHash);
    expect(parsed.market).to.equal(MARKET);
  });

  const cases: [string, string, (json: Json) => void][] = [
    ["a missing field", "version", (json) => delete json.version],
    ["another version", "version", (json) => (json.version = 4)],
    ["an unknown top-level field", "comment", (json) => (json.comment = "hi")],
    ["a short file id", "fileId", (json) => (json.fileId = "0x1234")],
    ["a file name with a path", "fileName", (json) => (json.fileName = "../etc/passwd")],
    ["a negative file size", "fileSize", (json) => (json.fileSize = -1)],
    ["a file size as a string", "fileSize", (json) => (json.fileSize = "300")],
    ["a malformed file hash", "fileHash", (json) => (json.fileHash = "0xzz")],
    ["a non-ISO timestamp", "createdAt", (json) => (json.createdAt = "yesterday")],
    ["a chain id as a number", "chainId", (json) => (json.chainId = 31337)],
    ["a zero chain id", "chainId", (json) => (json.chainId = "0")],
    ["a chain id with a leading zero", "chainId", (json) => (json.chainId = "031337")],
    [
      "a bad market checksum",
      "market",
      (json) => (json.market = "0x5fbDB2315678afecb367f032d93F642f64180aa3"),
    ],
    [
      "another cipher",
      "encryption.algorithm",
      (json) => (section(json, "encryption").algorithm = "AES-128-GCM"),
    ],
    [
      "a short nonce prefix",
      "encryption.noncePrefix",
      (json) => (section(json, "encryption").noncePrefix = "0x00"),
    ],
    [
      "a chunk size below 1 KiB",
      "encryption.chunkSize",
      (json) => (section(json, "encryption").chunkSize = 512),
    ],
    ["another stripe size", "coding.stripeSize", (json) => (section(json, "coding").stripeSize = 65536)],
    [
      "a short wrapped key",
      "encryption.wrappedKey.ciphertext",
      (json) => (section(section(json, "encryption"), "wrappedKey").ciphertext = "0x00"),
    ],
    ["another KDF", "encryption.kdf", (json) => (section(json, "encryption").kdf = "PBKDF2")],
    ["an unknown encryption field", "encryption.aad", (json) => (section(json, "encryption").aad = "0x")],
    [
      "another coding",
      "coding.algorithm",
      (json) => (section(json, "coding").algorithm = "reed-solomon-gf256"),
    ],
    ["k = 0", "coding.k", (json) => (section(json, "coding").k = 0)],
    ["m = 7", "coding.m", (json) => (section(json, "coding").m = 7)],
    ["a fractional k", "coding.k", (json) => (section(json, "coding").k = 1.5)],
    [
      "a payload size that is not fileSize + 16",
      "coding.payloadSize",
      (json) => (section(json, "coding").payloadSize = 300),
    ],
    [
      "a shard size that does not follow",
      "coding.shardSize",
      (json) => (section(json, "coding").shardSize = 512),
    ],
    ["a missing piece", "pieces", (json) => (json.pieces as Json[]).pop()],
    ["pieces not an array", "pieces", (json) => (json.pieces = {})],
    ["pieces out of order", "pieces[0].index", (json) => (json.pieces as Json[]).reverse()],
    ["a piece of another size", "pieces[0].size", (json) => (piece(json, 0).size = 64)],
    ["a malformed root", "pieces[1].root", (json) => (piece(json, 1).root = "0x12")],
    ["a missing endpoint", "pieces[1].endpoint", (json) => delete piece(json, 1).endpoint],
    ["a non-http endpoint", "pieces[0].endpoint", (json) => (piece(json, 0).endpoint = "ftp://host/")],
    ["a negative data set id", "pieces[0].dataSetId", (json) => (piece(json, 0).dataSetId = "-1")],
    ["a data set id 0", "pieces[0].dataSetId", (json) => (piece(json, 0).dataSetId = "0")],
    [
      "a data set id beyond uint64",
      "pieces[1].dataSetId",
      (json) => (piece(json, 1).dataSetId = (1n << 64n).toString()),
    ],
    ["a data set id as a number", "pieces[0].dataSetId", (json) => (piece(json, 0).dataSetId = 7)],
    ["a missing offset", "pieces[1].offset", (json) => delete piece(json, 1).offset],
    ["a negative offset", "pieces[1].offset", (json) => (piece(json, 1).offset = -4)],
    ["an unaligned offset", "pieces[1].offset", (json) => (piece(json, 1).offset = 6)],
    [
      "two pieces overlapping in one data set",
      "pieces[1].offset",
      (json) => {
        piece(json, 1).dataSetId = "7";
        piece(json, 1).offset = 0;
      },
    ],
    ["a version 0", "pieces[0].addedInVersion", (json) => (piece(json, 0).addedInVersion = "0")],
    ["an unknown piece field", "pieces[0].dealId", (json) => (piece(json, 0).dealId = "7")],
  ];
  for (const [what, field, edit] of cases) {
    it(`rejects ${what} with BAD_MANIFEST at "${field}"`, function () {
      const error = expectStrataError(() => fromJson(edited(manifest, edit)), "BAD_MANIFEST");
      if (!(error instanceof BadManifestError)) throw new Error("expected a BadManifestError");
      expect(error.field).to.equal(field);
      expect(error.details).to.equal(field);
    });
  }

  it("rejects text that is not JSON, or JSON that is not an object, at the document root", function () {
    for (const text of ["{", "[]", "null", '"manifest"']) {
      const error = expectStrataError(() => fromJson(text), "BAD_MANIFEST");
      if (!(error instanceof BadManifestError)) throw new Error("expected a BadManifestError");
      expect(error.field).to.equal("");
    }
  });

  describe("files", function () {
    let dir: string;
    beforeEach(async function () {
      dir = await mkdtemp(join(tmpdir(), "strata-manifest-"));
    });
    afterEach(async function () {
      await rm(dir, { recursive: true, force: true });
    });

    it("saves atomically, overwrites, and loads back the same manifest", async function () {
      const path = join(dir, "notes.strata.json");
      await saveManifest(path, manifest);
      const renamed = { ...manifest, fileName: "renamed.txt" };
      await saveManifest(path, renamed);
      expect(await loadManifest(path)).to.deep.equal(renamed);
      expect(await readFile(path, "utf8")).to.equal(toJson(renamed));
      expect(await readdir(dir)).to.deep.equal(["notes.strata.json"]);
    });

    it("throws MANIFEST_NOT_FOUND for a missing file", async function () {
      await expectRejection(() => loadManifest(join(dir, "missing.json")), "MANIFEST_NOT_FOUND");
      await expectRejection(() => loadManifest(dir), "MANIFEST_NOT_FOUND");
    });

    it("throws BAD_MANIFEST for a file that is not a manifest", async function () {
      const path = join(dir, "bad.json");
      await writeFile(path, '{"version": 3}');
      await expectRejection(() => loadManifest(path), "BAD_MANIFEST");
    });

    it("refuses a manifest of the deal-per-piece market with MANIFEST_OUTDATED, saying what to do", async function () {
      const path = join(dir, "old.json");
      await writeFile(path, JSON.stringify({ version: 1, pieces: [{ dealId: "7" }] }));
      const error = await expectRejection(() => loadManifest(path), "MANIFEST_OUTDATED");
      expect(error.details).to.contain("strata store");
    });

    it("refuses a version 2 manifest (whole-file encryption) with MANIFEST_OUTDATED, saying what to do", async function () {
      const path = join(dir, "v2.json");
      await writeFile(path, JSON.stringify({ version: 2, encryption: { iv: "0x00" } }));
      const error = await expectRejection(() => loadManifest(path), "MANIFEST_OUTDATED");
      expect(error.message).to.contain("version 2");
      expect(error.details).to.contain("strata store");
      expect(error.details).to.contain("release that stored it");
    });

    it("leaves no temporary file behind when the write fails", async function () {
      let failed = false;
      try {
        await saveManifest(join(dir, "no-such-dir", "m.json"), manifest);
      } catch {
        failed = true;
      }
      expect(failed).to.be.true;
      expect(await readdir(dir)).to.deep.equal([]);
    });
  });
});
