import { expect } from "chai";
import { StrataError } from "../../offchain/sdk/errors.js";
import { packSiteArchive, unpackSiteArchive } from "../../offchain/sdk/sites/archive.js";
import { planSite } from "../../offchain/sdk/sites/plan.js";

const text = (s: string) => new TextEncoder().encode(s);

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(StrataError);
    return (error as StrataError).code;
  }
  throw new Error("expected a refusal");
}

describe("site archives", function () {
  const files = [
    { path: "index.html", bytes: text("<h1>home</h1>") },
    { path: "css/site.css", bytes: text("body{}") },
    { path: "copy.html", bytes: text("<h1>home</h1>") },
    { path: "empty.txt", bytes: new Uint8Array() },
  ];

  it("restores every path of the version, checked against the record's root content id", async function () {
    const plan = await planSite(files, null);
    const archive = packSiteArchive(plan.manifest, files);
    const { manifest, files: restored } = await unpackSiteArchive(archive, plan.manifestCid);
    expect(manifest).to.deep.equal(plan.manifest);
    expect(restored.map((f) => f.path)).to.deep.equal([
      "copy.html",
      "css/site.css",
      "empty.txt",
      "index.html",
    ]);
    for (const file of files) {
      const back = restored.find((f) => f.path === file.path);
      expect(Buffer.from(back?.bytes ?? [])).to.deep.equal(Buffer.from(file.bytes));
      expect(back?.cid).to.equal(plan.manifest.files[file.path]?.cid);
    }
  });

  it("holds the reused files of an update too (the whole version, not what changed)", async function () {
    const first = await planSite(files, null);
    const next = [...files, { path: "new.html", bytes: text("new") }];
    const plan = await planSite(next, first.manifest);
    expect(plan.changed.map((f) => f.path)).to.deep.equal(["new.html"]);
    const { files: restored } = await unpackSiteArchive(
      packSiteArchive(plan.manifest, next),
      plan.manifestCid,
    );
    expect(restored).to.have.length(5);
  });

  it("refuses another version's root, a changed byte, a truncated or extended archive", async function () {
    const plan = await planSite(files, null);
    const archive = packSiteArchive(plan.manifest, files);
    const other = await planSite([{ path: "index.html", bytes: text("x") }], null);
    expect(await refusal(unpackSiteArchive(archive, other.manifestCid))).to.equal("SITE_MANIFEST_INVALID");
    const flipped = archive.slice();
    flipped[archive.length - 3] = (flipped[archive.length - 3] ?? 0) ^ 1;
    expect(await refusal(unpackSiteArchive(flipped, plan.manifestCid))).to.equal("SITE_MANIFEST_INVALID");
    expect(await refusal(unpackSiteArchive(archive.slice(0, -1), plan.manifestCid))).to.equal(
      "SITE_MANIFEST_INVALID",
    );
    const longer = new Uint8Array(archive.length + 1);
    longer.set(archive);
    expect(await refusal(unpackSiteArchive(longer, plan.manifestCid))).to.equal("SITE_MANIFEST_INVALID");
    const header = archive.slice();
    new DataView(header.buffer).setBigUint64(0, 1n << 40n);
    expect(await refusal(unpackSiteArchive(header, plan.manifestCid))).to.equal("SITE_MANIFEST_INVALID");
  });

  it("refuses to pack a file the manifest does not list as it is", async function () {
    const plan = await planSite(files, null);
    const changed = files.map((f) =>
      f.path === "index.html" ? { ...f, bytes: text("<h1>other size</h1>") } : f,
    );
    expect(() => packSiteArchive(plan.manifest, changed)).to.throw(StrataError);
  });
});
