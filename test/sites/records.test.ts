import { expect } from "chai";
import { AbiCoder, keccak256, Wallet } from "ethers";
import { postSiteRequest } from "../../offchain/sdk/api/sites.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import {
  contentTypeFor,
  encodeSiteManifest,
  lookupSitePath,
  parseSiteManifest,
  SITE_MANIFEST_FORMAT,
  type SiteManifest,
} from "../../offchain/sdk/sites/manifest.js";
import {
  isNewerSiteRecord,
  signSiteRecord,
  siteDomain,
  siteIdOf,
  SiteRecordError,
  SITE_RECORD_PERMANENT_TYPE,
  SITE_RECORD_TYPE,
  siteRecordDigest,
  verifySiteRecord,
  type SiteRecord,
} from "../../offchain/sdk/sites/record.js";

const MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const OTHER_MARKET = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const OWNER = new Wallet("0x" + "22".repeat(32));
const STRANGER = new Wallet("0x" + "33".repeat(32));
const domain = siteDomain(31337n, MARKET);
const CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

function record(overrides: Partial<SiteRecord> = {}): SiteRecord {
  return {
    siteId: siteIdOf(OWNER.address, "blog"),
    owner: OWNER.address,
    name: "blog",
    version: 1n,
    rootCid: CID,
    backend: { leaseId: 7n, url: "http://127.0.0.1:23001" },
    createdAt: 1_900_000_000n,
    removed: false,
    ...overrides,
  };
}

function problemOf(fn: () => void): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(SiteRecordError);
    expect((error as StrataError).code).to.equal("SITE_RECORD_INVALID");
    return (error as SiteRecordError).problem;
  }
  throw new Error("expected a refusal");
}

describe("site records", function () {
  it("siteIdOf is keccak256(abi.encode(owner, name)) and does not depend on the address' case", function () {
    const expected = keccak256(
      AbiCoder.defaultAbiCoder().encode(["address", "string"], [OWNER.address, "blog"]),
    );
    expect(siteIdOf(OWNER.address, "blog")).to.equal(expected.toLowerCase());
    expect(siteIdOf(OWNER.address.toLowerCase(), "blog")).to.equal(expected.toLowerCase());
    expect(siteIdOf(OWNER.address, "blog2")).to.not.equal(expected.toLowerCase());
    expect(siteIdOf(STRANGER.address, "blog")).to.not.equal(expected.toLowerCase());
  });

  it("states its EIP-712 type", function () {
    expect(SITE_RECORD_TYPE).to.equal(
      "SiteRecord(bytes32 siteId,address owner,string name,uint64 version,string rootCid,uint256 backendLease," +
        "string backendUrl,uint64 createdAt,bool removed)",
    );
  });

  it("verifies a record signed by its owner, with or without a backend, and a tombstone", async function () {
    for (const r of [
      record(),
      record({ backend: null }),
      record({ version: 3n, rootCid: "", removed: true, backend: null }),
    ]) {
      verifySiteRecord(domain, r, await signSiteRecord(OWNER, domain, r));
    }
  });

  it("refuses a record signed by anyone but its owner", async function () {
    const r = record();
    const forged = await signSiteRecord(STRANGER, domain, r);
    expect(
      problemOf(() => {
        verifySiteRecord(domain, r, forged);
      }),
    ).to.equal("BAD_SIGNATURE");
    expect(
      problemOf(() => {
        verifySiteRecord(domain, r, "0x1234");
      }),
    ).to.equal("BAD_SIGNATURE");
  });

  it("refuses a record replayed on another chain or for another market", async function () {
    const r = record();
    const signature = await signSiteRecord(OWNER, domain, r);
    expect(
      problemOf(() => {
        verifySiteRecord(siteDomain(1n, MARKET), r, signature);
      }),
    ).to.equal("BAD_SIGNATURE");
    expect(
      problemOf(() => {
        verifySiteRecord(siteDomain(31337n, OTHER_MARKET), r, signature);
      }),
    ).to.equal("BAD_SIGNATURE");
  });

  it("refuses a signed record with any field changed", async function () {
    const r = record();
    const signature = await signSiteRecord(OWNER, domain, r);
    const changes: Partial<SiteRecord>[] = [
      { version: 2n },
      { rootCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy" },
      { backend: { leaseId: 8n, url: "http://127.0.0.1:23001" } },
      { backend: { leaseId: 7n, url: "http://evil.example" } },
      { backend: null },
      { createdAt: 1n },
    ];
    for (const change of changes) {
      expect(
        problemOf(() => {
          verifySiteRecord(domain, { ...r, ...change }, signature);
        }),
      ).to.equal("BAD_SIGNATURE");
    }
  });

  describe("permanentFileId", function () {
    // The type every record was signed under before the field existed, written out so a change to it shows here.
    const V1_TYPES = {
      SiteRecord: [
        { name: "siteId", type: "bytes32" },
        { name: "owner", type: "address" },
        { name: "name", type: "string" },
        { name: "version", type: "uint64" },
        { name: "rootCid", type: "string" },
        { name: "backendLease", type: "uint256" },
        { name: "backendUrl", type: "string" },
        { name: "createdAt", type: "uint64" },
        { name: "removed", type: "bool" },
      ],
    };

    it("states the second EIP-712 type: the first with permanentFileId appended", function () {
      expect(SITE_RECORD_PERMANENT_TYPE).to.equal(
        SITE_RECORD_TYPE.slice(0, -1) + ",uint256 permanentFileId)",
      );
    });

    it("still verifies a record signed under the type without the field", async function () {
      const r = record();
      const signature = await OWNER.signTypedData(domain, V1_TYPES, {
        siteId: r.siteId,
        owner: r.owner,
        name: r.name,
        version: r.version,
        rootCid: r.rootCid,
        backendLease: 7n,
        backendUrl: "http://127.0.0.1:23001",
        createdAt: r.createdAt,
        removed: false,
      });
      verifySiteRecord(domain, r, signature);
      expect(await signSiteRecord(OWNER, domain, r)).to.equal(signature);
    });

    it("signs and verifies a record naming a permanent file, under a digest of its own", async function () {
      const r = record({ permanentFileId: 12n });
      const signature = await signSiteRecord(OWNER, domain, r);
      verifySiteRecord(domain, r, signature);
      expect(siteRecordDigest(domain, r)).to.not.equal(siteRecordDigest(domain, record()));
      expect(siteRecordDigest(domain, r)).to.not.equal(
        siteRecordDigest(domain, record({ permanentFileId: 13n })),
      );
    });

    it("refuses the field stripped, added or changed after signing", async function () {
      const withFile = record({ permanentFileId: 12n });
      const signedWith = await signSiteRecord(OWNER, domain, withFile);
      const stripped: SiteRecord = { ...withFile };
      delete stripped.permanentFileId;
      for (const r of [stripped, record({ permanentFileId: 13n })]) {
        expect(
          problemOf(() => {
            verifySiteRecord(domain, r, signedWith);
          }),
        ).to.equal("BAD_SIGNATURE");
      }
      const signedWithout = await signSiteRecord(OWNER, domain, record());
      expect(
        problemOf(() => {
          verifySiteRecord(domain, withFile, signedWithout);
        }),
      ).to.equal("BAD_SIGNATURE");
    });

    it("refuses file id 0 and a tombstone naming a file", function () {
      for (const change of [
        { permanentFileId: 0n },
        { permanentFileId: 3n, rootCid: "", removed: true, backend: null },
      ] satisfies Partial<SiteRecord>[]) {
        expect(
          problemOf(() => {
            verifySiteRecord(domain, record(change), "0x");
          }),
        ).to.equal("BAD_SHAPE");
      }
    });

    it("crosses the wire: present as a decimal string, absent when the record names none", async function () {
      const r = record({ permanentFileId: 12n });
      const signature = await signSiteRecord(OWNER, domain, r);
      const wire = JSON.parse(JSON.stringify(postSiteRequest.encode({ record: r, signature }))) as {
        record: Record<string, unknown>;
      };
      expect(wire.record.permanentFileId).to.equal("12");
      const back = postSiteRequest.parse(wire);
      expect(back.record.permanentFileId).to.equal(12n);
      verifySiteRecord(domain, back.record, back.signature);
      const old = JSON.parse(
        JSON.stringify(
          postSiteRequest.encode({
            record: record(),
            signature: await signSiteRecord(OWNER, domain, record()),
          }),
        ),
      ) as { record: Record<string, unknown> };
      expect(old.record).to.not.have.property("permanentFileId");
      const parsedOld = postSiteRequest.parse(old);
      expect(parsedOld.record.permanentFileId).to.equal(undefined);
      verifySiteRecord(domain, parsedOld.record, parsedOld.signature);
    });
  });

  it("refuses a site id that is not keccak256(owner, name), whoever signs it", async function () {
    const r = record({ siteId: siteIdOf(STRANGER.address, "blog") });
    expect(
      problemOf(() => {
        verifySiteRecord(domain, r, "0x");
      }),
    ).to.equal("BAD_SITE_ID");
    const renamed = record({ name: "other" });
    expect(
      problemOf(() => {
        verifySiteRecord(domain, renamed, "0x");
      }),
    ).to.equal("BAD_SITE_ID");
    await signSiteRecord(OWNER, domain, record()); // the well-formed one signs
  });

  it("refuses malformed records before signing", async function () {
    const bad: Partial<SiteRecord>[] = [
      { name: "Blog", siteId: siteIdOf(OWNER.address, "Blog") },
      { name: "", siteId: siteIdOf(OWNER.address, "") },
      { version: 0n },
      { rootCid: "" },
      { removed: true },
      { backend: { leaseId: 0n, url: "http://127.0.0.1:1" } },
      { backend: { leaseId: 1n, url: "javascript:alert(1)" } },
    ];
    for (const change of bad) {
      let refused = false;
      try {
        await signSiteRecord(OWNER, domain, record(change));
      } catch (error) {
        refused = (error as SiteRecordError).problem === "BAD_SHAPE";
      }
      expect(
        refused,
        JSON.stringify(change, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
      ).to.equal(true);
    }
  });

  it("orders versions: only a higher version of the same site replaces the one held", function () {
    const held = record({ version: 4n });
    expect(isNewerSiteRecord(null, held)).to.equal(true);
    expect(isNewerSiteRecord(held, record({ version: 5n }))).to.equal(true);
    expect(isNewerSiteRecord(held, record({ version: 4n }))).to.equal(false);
    expect(isNewerSiteRecord(held, record({ version: 3n }))).to.equal(false);
    const other = record({ siteId: siteIdOf(OWNER.address, "shop"), name: "shop", version: 9n });
    expect(isNewerSiteRecord(held, other)).to.equal(false);
  });

  it("round-trips a signed record through the wire schema", async function () {
    const r = record();
    const signature = await signSiteRecord(OWNER, domain, r);
    const wire = JSON.parse(JSON.stringify(postSiteRequest.encode({ record: r, signature }))) as unknown;
    const back = postSiteRequest.parse(wire);
    expect(back.record).to.deep.equal({ ...r, siteId: r.siteId.toLowerCase() });
    verifySiteRecord(domain, back.record, back.signature);
  });
});

describe("site manifests", function () {
  const manifest: SiteManifest = {
    format: SITE_MANIFEST_FORMAT,
    files: {
      "index.html": { cid: CID, size: 10, contentType: "text/html; charset=utf-8" },
      "docs/index.html": { cid: CID, size: 10, contentType: "text/html; charset=utf-8" },
      "app.js": { cid: CID, size: 3, contentType: "text/javascript; charset=utf-8" },
    },
  };

  it("encodes canonically (sorted paths) and parses back", function () {
    const reordered: SiteManifest = {
      format: manifest.format,
      files: Object.fromEntries(Object.entries(manifest.files).reverse()),
    };
    const bytes = encodeSiteManifest(manifest);
    expect(Buffer.from(encodeSiteManifest(reordered)).equals(Buffer.from(bytes))).to.equal(true);
    expect(parseSiteManifest(bytes)).to.deep.equal(manifest);
  });

  it("refuses paths that leave the site, bad content ids and unknown fields", function () {
    const file = { cid: CID, size: 1, contentType: "text/plain" };
    const bad = [
      { format: SITE_MANIFEST_FORMAT, files: { "../etc/passwd": file } },
      { format: SITE_MANIFEST_FORMAT, files: { "a/./b": file } },
      { format: SITE_MANIFEST_FORMAT, files: { "/abs": file } },
      { format: SITE_MANIFEST_FORMAT, files: { "a\\b": file } },
      { format: SITE_MANIFEST_FORMAT, files: { a: { ...file, cid: "nope" } } },
      { format: SITE_MANIFEST_FORMAT, files: { a: { ...file, contentType: "text/html\r\nx-evil: 1" } } },
      { format: SITE_MANIFEST_FORMAT, files: {} },
      { format: "other", files: { a: file } },
      { format: SITE_MANIFEST_FORMAT, files: { a: file }, extra: 1 },
    ];
    for (const json of bad) {
      expect(() => parseSiteManifest(new TextEncoder().encode(JSON.stringify(json))), JSON.stringify(json))
        .to.throw(StrataError)
        .with.property("code", "SITE_MANIFEST_INVALID");
    }
    expect(() => parseSiteManifest(new TextEncoder().encode("{")))
      .to.throw(StrataError)
      .with.property("code", "SITE_MANIFEST_INVALID");
  });

  it("resolves files, folders to index.html and folder links without a slash to a redirect", function () {
    expect(lookupSitePath(manifest, [""])).to.include({ kind: "file", path: "index.html" });
    expect(lookupSitePath(manifest, [])).to.include({ kind: "file", path: "index.html" });
    expect(lookupSitePath(manifest, ["docs", ""])).to.include({ kind: "file", path: "docs/index.html" });
    expect(lookupSitePath(manifest, ["app.js"])).to.include({ kind: "file", path: "app.js" });
    expect(lookupSitePath(manifest, ["docs"])).to.deep.equal({ kind: "folder", location: "docs/" });
    expect(lookupSitePath(manifest, ["nothing.html"])).to.deep.equal({ kind: "missing" });
    expect(lookupSitePath(manifest, ["app.js", ""])).to.deep.equal({ kind: "missing" });
  });

  it("gives content types by extension", function () {
    expect(contentTypeFor("index.html")).to.equal("text/html; charset=utf-8");
    expect(contentTypeFor("a/b/style.CSS")).to.equal("text/css; charset=utf-8");
    expect(contentTypeFor("app.mjs")).to.equal("text/javascript; charset=utf-8");
    expect(contentTypeFor("logo.svg")).to.equal("image/svg+xml");
    expect(contentTypeFor("strata-site.json")).to.equal("application/json");
    expect(contentTypeFor("README")).to.equal("application/octet-stream");
    expect(contentTypeFor(".env")).to.equal("application/octet-stream");
  });
});
