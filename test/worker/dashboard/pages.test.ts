/**
 * The dashboard on a worker over the in-process chain (real contracts): the numbers on its pages are the
 * chain's (stake and locked collateral from the registry, a data set's span and escrow from the market), a
 * hostile registry endpoint is shown escaped, and no page carries a script.
 */
import { expect } from "chai";
import { formatTokenAmount } from "../../../offchain/worker/dashboard/format.js";
import { deployStorage, fundClient, registerProvider, type StorageFixture } from "../../helpers/fixture.js";
import { openDataSet } from "../dataSets.helpers.js";
import { removeTempDirs, testWorker } from "../helpers.js";

const TOKEN = { symbol: "tUSD", decimals: 6 };

/** The text of the element with `id` (tags stripped). */
function field(body: string, id: string): string {
  const match = new RegExp(`id="${id}">([\\s\\S]*?)</dd>`).exec(body);
  if (match === null) throw new Error(`no #${id} on the page`);
  return (match[1] ?? "").replace(/<[^>]*>/g, "").trim();
}

describe("worker dashboard: pages over the in-process chain", function () {
  let f: StorageFixture;
  let dataSetId: bigint;
  const HOSTILE = `http://127.0.0.1:1/"><script>alert(1)</script>`;

  before(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    await f.registry.connect(f.provider2).register(f.provider2.address, HOSTILE, 1n << 40n, 1n);
    await fundClient(f, f.client);
    dataSetId = (await openDataSet(f, 64n)).id;
  });

  after(removeTempDirs);

  it("test_pages_numbersFromTheChain: overview, provider and data-set figures match the contracts", async function () {
    const worker = await testWorker(f);
    try {
      await worker.tick();
      const symbol = await f.token.symbol();
      const token = { ...TOKEN, symbol };
      const overview = await worker.app.inject({ method: "GET", url: "/" });
      expect(overview.statusCode).to.equal(200);
      expect(overview.headers["content-security-policy"]).to.include("default-src 'none'");
      expect(field(overview.body, "providers-registered")).to.equal("2");
      expect(field(overview.body, "data-set-count")).to.equal(String(await f.market.dataSetCount()));
      const stake1 = await f.registry.stakeInfo(f.provider.address);
      const stake2 = await f.registry.stakeInfo(f.provider2.address);
      // The proof bonds are the providers' stake too, held by the market (docs/SPEC.md §3).
      const [bond1] = await f.market.proofBond(f.provider.address);
      const [bond2] = await f.market.proofBond(f.provider2.address);
      expect(bond1).to.be.greaterThan(0n);
      const total =
        [stake1, stake2].reduce((s, x) => s + x.free + x.locked + x.unbonding, 0n) + bond1 + bond2;
      expect(field(overview.body, "total-stake")).to.equal(formatTokenAmount(total, token));
      expect(field(overview.body, "bytes-stored")).to.equal("4.00 KiB");

      const provider = await worker.app.inject({
        method: "GET",
        url: `/providers/${f.provider.address.toLowerCase()}`,
      });
      expect(provider.statusCode).to.equal(200);
      expect(field(provider.body, "provider-stake")).to.equal(
        formatTokenAmount(stake1.free + stake1.locked + stake1.unbonding + bond1, token),
      );
      expect(field(provider.body, "provider-proof-bond")).to.equal(formatTokenAmount(bond1, token));
      expect(stake1.locked).to.be.greaterThan(0n);
      expect(field(provider.body, "provider-locked")).to.equal(formatTokenAmount(stake1.locked, token));
      expect(provider.body).to.include(`href="/data-sets/${dataSetId}"`);

      const set = await f.market.dataSet(dataSetId);
      const page = await worker.app.inject({ method: "GET", url: `/data-sets/${dataSetId}` });
      expect(page.statusCode).to.equal(200);
      expect(field(page.body, "data-set-escrow")).to.equal(formatTokenAmount(set.escrow, token));
      expect(field(page.body, "data-set-span")).to.equal(`${set.span} (4.00 KiB)`);
      expect(field(page.body, "data-set-status")).to.equal("live");

      for (const body of [overview.body, provider.body, page.body]) expect(body).to.not.match(/<script/i);
    } finally {
      await worker.stop();
    }
  });

  it("test_pages_escapeChainText: a registry endpoint with markup is shown as text", async function () {
    const worker = await testWorker(f);
    try {
      await worker.tick();
      const overview = await worker.app.inject({ method: "GET", url: "/" });
      expect(overview.body).to.not.match(/<script/i);
      expect(overview.body).to.include("&lt;script&gt;alert(1)&lt;/script&gt;");
      const page = await worker.app.inject({ method: "GET", url: `/providers/${f.provider2.address}` });
      expect(page.statusCode).to.equal(200);
      expect(page.body).to.not.match(/<script/i);
    } finally {
      await worker.stop();
    }
  });
});
