import { expect } from "chai";
import { fetchPublicFile, type PublicFileSink } from "../../offchain/sdk/client/publicFiles.js";
import { publicCid } from "../../offchain/sdk/files/cid.js";
import { parseRange } from "../../offchain/sdk/files/bundle.js";
import { deterministicBytes, expectRejection } from "./helpers/assertions.js";

/** What a fake provider does with /v1/files/<cid>. */
type Provider = { kind: "serves"; bytes: Uint8Array } | { kind: "missing" } | { kind: "down" };

/** A fetch over fake providers keyed by endpoint, honouring HEAD and single byte ranges. */
function fakeFetch(providers: Record<string, Provider>, log: string[]): typeof fetch {
  return (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const method = init?.method ?? "GET";
    log.push(`${method} ${url.origin}`);
    const provider = providers[url.origin];
    if (provider === undefined || provider.kind === "down")
      return Promise.reject(new TypeError("fetch failed"));
    if (provider.kind === "missing") return Promise.resolve(new Response(null, { status: 404 }));
    const { bytes } = provider;
    const headers = new Headers({ "content-length": String(bytes.length) });
    if (method === "HEAD") return Promise.resolve(new Response(null, { status: 200, headers }));
    const range = new Headers(init?.headers).get("range");
    if (range === null) return Promise.resolve(new Response(bytes, { status: 200 }));
    const [, a = "0", b = "0"] = /bytes=(\d+)-(\d+)/.exec(range) ?? [];
    return Promise.resolve(new Response(bytes.slice(Number(a), Number(b) + 1), { status: 206 }));
  };
}

function memorySink(results: Uint8Array[]): () => Promise<PublicFileSink> {
  return () => {
    const chunks: Uint8Array[] = [];
    return Promise.resolve({
      write: (b) => {
        chunks.push(Uint8Array.from(b));
        return Promise.resolve();
      },
      commit: () => {
        results.push(Buffer.concat(chunks));
        return Promise.resolve();
      },
      abort: () => Promise.resolve(),
    });
  };
}

describe("fetchPublicFile: the first provider whose bytes hash to the CID", function () {
  const bytes = deterministicBytes("public file", 700_000);
  const other = deterministicBytes("other file", 700_000);
  let cid: string;
  before(async function () {
    cid = await publicCid(bytes);
  });

  it("skips down, missing and lying providers, asks the registry only after the catalog's, commits once", async function () {
    const log: string[] = [];
    const committed: Uint8Array[] = [];
    const result = await fetchPublicFile(
      {
        cid,
        endpoints: ["http://down.test", "http://missing.test/"],
        moreEndpoints: () => Promise.resolve(["http://missing.test", "http://liar.test", "http://good.test"]),
        open: memorySink(committed),
      },
      {
        fetch: fakeFetch(
          {
            "http://down.test": { kind: "down" },
            "http://missing.test": { kind: "missing" },
            "http://liar.test": { kind: "serves", bytes: other },
            "http://good.test": { kind: "serves", bytes },
          },
          log,
        ),
      },
    );
    expect(result).to.deep.include({
      endpoint: "http://good.test",
      size: 700_000,
      verified: true,
      range: null,
    });
    expect(result.asked.map((a) => [a.endpoint, a.outcome])).to.deep.equal([
      ["http://down.test", "unreachable"],
      ["http://missing.test", "not-found"],
      ["http://liar.test", "mismatch"],
      ["http://good.test", "served"],
    ]);
    expect(committed).to.have.length(1);
    expect(Buffer.from(committed[0] ?? []).equals(Buffer.from(bytes))).to.equal(true);
    expect(log.filter((l) => l.endsWith("missing.test"))).to.have.length(1); // asked once
  });

  it("CID_MISMATCH when every answering provider lies; PUBLIC_FILE_NOT_FOUND listing who was asked", async function () {
    const liars = fakeFetch({ "http://liar.test": { kind: "serves", bytes: other } }, []);
    await expectRejection(
      () => fetchPublicFile({ cid, endpoints: ["http://liar.test"], open: memorySink([]) }, { fetch: liars }),
      "CID_MISMATCH",
    );
    const nobody = fakeFetch({ "http://a.test": { kind: "missing" }, "http://b.test": { kind: "down" } }, []);
    const error = await expectRejection(
      () =>
        fetchPublicFile(
          { cid, endpoints: ["http://a.test", "http://b.test"], open: memorySink([]) },
          { fetch: nobody },
        ),
      "PUBLIC_FILE_NOT_FOUND",
    );
    expect(error.details).to.include("http://a.test: not-found").and.include("http://b.test: unreachable");
    await expectRejection(
      () => fetchPublicFile({ cid: "not-a-cid", endpoints: [], open: memorySink([]) }, { fetch: nobody }),
      "INVALID_ARGUMENT",
    );
  });

  it("returns a range unverified: a lying provider's range is not detected", async function () {
    const committed: Uint8Array[] = [];
    const result = await fetchPublicFile(
      {
        cid,
        endpoints: ["http://liar.test"],
        range: (size) => parseRange("-10", size),
        open: memorySink(committed),
      },
      { fetch: fakeFetch({ "http://liar.test": { kind: "serves", bytes: other } }, []) },
    );
    expect(result).to.deep.include({ verified: false, range: { start: 699_990, end: 700_000 }, bytes: 10 });
    expect(Buffer.from(committed[0] ?? []).equals(Buffer.from(other.subarray(699_990)))).to.equal(true);
    await expectRejection(
      () =>
        fetchPublicFile(
          {
            cid,
            endpoints: ["http://liar.test"],
            range: (size) => parseRange("700000-", size),
            open: memorySink([]),
          },
          { fetch: fakeFetch({ "http://liar.test": { kind: "serves", bytes } }, []) },
        ),
      "INVALID_ARGUMENT",
    );
  });
});
