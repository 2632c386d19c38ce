import { expect } from "chai";
import { Wallet } from "ethers";
import { prepareFile } from "../../offchain/sdk/data/prepare.js";
import { packFiles } from "../../offchain/sdk/files/bundle.js";
import { rawCid } from "../../offchain/sdk/files/cid.js";
import { completeManifest, fromJson, toJson, type Manifest } from "../../offchain/sdk/manifest/manifest.js";
import { BadManifestError } from "../../offchain/sdk/manifest/validate.js";
import { expectStrataError } from "./helpers/assertions.js";

const client = new Wallet("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
type Json = Record<string, unknown>;

async function bundleManifest(): Promise<Manifest> {
  const { bytes, entries } = packFiles([
    { name: "a.txt", bytes: new Uint8Array(100).fill(1) },
    { name: "dir/b.txt", bytes: new Uint8Array(50).fill(2) },
  ]);
  const { manifestDraft } = await prepareFile(bytes, { k: 1, m: 0, signer: client, fileName: "bundle" });
  const draft = {
    ...manifestDraft,
    files: entries.map((e) => ({ ...e, id: rawCid(new Uint8Array([e.offset])), public: false })),
  };
  return completeManifest(draft, { chainId: 31337n, market: "0x5FbDB2315678afecb367f032d93F642f64180aa3" }, [
    {
      provider: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      endpoint: "http://127.0.0.1:8701",
      dataSetId: 1n,
      offset: 0,
      addedInVersion: 1n,
    },
  ]);
}

function files(json: Json, index: number): Json {
  const item = (json.files as Json[])[index];
  if (item === undefined) throw new Error(`no file ${index}`);
  return item;
}

describe("manifest files section (docs/SPEC-DATA.md §10)", () => {
  let manifest: Manifest;
  before(async () => {
    manifest = await bundleManifest();
  });

  it("round-trips the files index; a single-file manifest has none", () => {
    expect(manifest.files?.map((f) => [f.name, f.offset, f.size])).to.deep.equal([
      ["a.txt", 0, 100],
      ["dir/b.txt", 100, 50],
    ]);
    expect(fromJson(toJson(manifest))).to.deep.equal(manifest);
    const single = { ...manifest };
    delete single.files;
    expect(JSON.parse(toJson(single))).to.not.have.property("files");
  });

  const cases: [string, string, (json: Json) => void][] = [
    ["a file past the payload", "files[1].size", (json) => (files(json, 1).size = 51)],
    ["a path escaping the folder", "files[0].name", (json) => (files(json, 0).name = "../a")],
    ["a repeated name", "files[1].name", (json) => (files(json, 1).name = "a.txt")],
    ["an id that is not a CID", "files[0].id", (json) => (files(json, 0).id = "0x12")],
    ["a missing public flag", "files[0].public", (json) => delete files(json, 0).public],
    ["an unknown file field", "files[0].mode", (json) => (files(json, 0).mode = 420)],
  ];
  for (const [what, field, edit] of cases) {
    it(`rejects ${what} with BAD_MANIFEST at "${field}"`, () => {
      const json = JSON.parse(toJson(manifest)) as Json;
      edit(json);
      const error = expectStrataError(() => fromJson(JSON.stringify(json)), "BAD_MANIFEST");
      if (!(error instanceof BadManifestError)) throw new Error("expected a BadManifestError");
      expect(error.field).to.equal(field);
    });
  }
});
