import { expect } from "chai";
import { publicCid } from "../../offchain/sdk/files/cid.js";
import { parseSiteManifest } from "../../offchain/sdk/sites/manifest.js";
import { planSite } from "../../offchain/sdk/sites/plan.js";

const file = (path: string, text: string) => ({ path, bytes: new TextEncoder().encode(text) });

describe("planning a site version", function () {
  it("gives every file its public content id and type, and the manifest's id is that of its bytes", async function () {
    const plan = await planSite([file("index.html", "<h1>a</h1>"), file("css/site.css", "p{}")], null);
    expect(plan.manifest.files["index.html"]).to.deep.equal({
      cid: await publicCid(new TextEncoder().encode("<h1>a</h1>")),
      size: 10,
      contentType: "text/html; charset=utf-8",
    });
    expect(plan.manifest.files["css/site.css"]?.contentType).to.equal("text/css; charset=utf-8");
    expect(plan.manifestCid).to.equal(await publicCid(plan.manifestBytes));
    expect(parseSiteManifest(plan.manifestBytes)).to.deep.equal(plan.manifest);
    expect(plan.changed.map((f) => f.path)).to.deep.equal(["index.html", "css/site.css"]);
    expect(plan.reused).to.deep.equal([]);
  });

  it("stores only files whose content the previous version lacks, wherever they moved, and equal bytes once", async function () {
    const v1 = await planSite([file("index.html", "home"), file("a.js", "one"), file("b.js", "two")], null);
    const v2 = await planSite(
      [
        file("index.html", "home"), // unchanged
        file("js/a.js", "one"), // moved: same bytes, same id
        file("b.js", "two, changed"),
        file("c.js", "new"),
        file("d.js", "new"), // the same bytes as c.js
      ],
      v1.manifest,
    );
    expect(v2.reused).to.deep.equal(["index.html", "js/a.js"]);
    expect(v2.changed.map((f) => f.path)).to.deep.equal(["b.js", "c.js"]);
    expect(v2.manifest.files["d.js"]?.cid).to.equal(v2.manifest.files["c.js"]?.cid);
    expect(v2.manifestCid).to.not.equal(v1.manifestCid);
    // The same files again: nothing to store, the same manifest id.
    const again = await planSite(
      [file("index.html", "home"), file("a.js", "one"), file("b.js", "two")],
      v1.manifest,
    );
    expect(again.changed).to.deep.equal([]);
    expect(again.manifestCid).to.equal(v1.manifestCid);
  });
});
