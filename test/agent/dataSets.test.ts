import { expect } from "chai";
import type { Agent } from "../../offchain/agent/agent.js";
import { createDataSetSchema, dataSetStateSchema } from "../../offchain/sdk/api/datasets.js";
import { verifyDataSetLeaf } from "../../offchain/sdk/datasets/tree.js";
import {
  deployStorage,
  fundClient,
  makeTerms,
  randomPiece,
  registerProvider,
  topUp,
  USDC,
  type StorageFixture,
} from "../helpers/fixture.js";
import {
  errorCode,
  nextState,
  openDataSetOverHttp,
  postState,
  putPiece,
  removeTempDirs,
  startTestAgent,
  storePieces,
  type ClientDataSet,
} from "./helpers.js";

/** Words of a 64-byte hex leaf. */
function words(leaf: string): [string, string] {
  return ["0x" + leaf.slice(2, 66), "0x" + leaf.slice(66, 130)];
}

describe("agent data-set routes", function () {
  const agents: Agent[] = [];
  let f: StorageFixture;
  let agent: Agent;

  beforeEach(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    agent = await startTestAgent(f);
    agents.push(agent);
  });
  afterEach(async function () {
    for (const a of agents.splice(0)) await a.stop();
  });
  after(removeTempDirs);

  it("GET /v1/terms answers the configured offer", async function () {
    const body = (await agent.app.inject({ method: "GET", url: "/v1/terms" })).json<
      Record<string, unknown>
    >();
    expect(body).to.include({
      provider: f.provider.address,
      market: await f.market.getAddress(),
      pricePerTiBMonth: String((5n * USDC) / 2n),
      collateralPerTiB: String(100n * USDC),
      noticePeriods: "2",
      maxPieceBytes: String(1n << 30n),
      provingPeriod: "3600",
      endpoint: "http://127.0.0.1:7999",
    });
  });

  it("POST /v1/datasets creates the data set on chain, once per (client, nonce)", async function () {
    const { terms, signature } = await makeTerms(f);
    const payload = { terms: createDataSetSchema.encode(terms), signature };
    const created = await agent.app.inject({ method: "POST", url: "/v1/datasets", payload });
    expect(created.statusCode, created.body).to.equal(201);
    const { dataSetId, txHash } = created.json<{ dataSetId: string; txHash: string }>();
    expect(BigInt(dataSetId)).to.equal(await f.market.dataSetCount());
    const view = await f.market.dataSet(BigInt(dataSetId));
    expect(view.client).to.equal(f.client.address);
    expect(view.pricePerTiBMonth).to.equal(terms.pricePerTiBMonth);

    const again = await agent.app.inject({ method: "POST", url: "/v1/datasets", payload });
    expect(again.statusCode).to.equal(200);
    expect(again.json()).to.deep.equal({ dataSetId, txHash });
    expect(await f.market.dataSetCount()).to.equal(BigInt(dataSetId));
  });

  it("POST /v1/datasets refuses terms that are not the offer, or not signed by the client", async function () {
    const cheap = await makeTerms(f, { pricePerTiBMonth: USDC });
    const refused = await agent.app.inject({
      method: "POST",
      url: "/v1/datasets",
      payload: { terms: createDataSetSchema.encode(cheap.terms), signature: cheap.signature },
    });
    expect(refused.statusCode).to.equal(422);
    expect(errorCode(refused)).to.equal("POLICY_REJECTED");

    const other = await makeTerms(f, { client: f.client2 });
    const forged = await agent.app.inject({
      method: "POST",
      url: "/v1/datasets",
      payload: {
        terms: createDataSetSchema.encode({ ...other.terms, client: f.client.address }),
        signature: other.signature,
      },
    });
    expect(forged.statusCode).to.equal(400);
    expect(errorCode(forged)).to.equal("BAD_SIGNATURE");

    const late = await makeTerms(f, { deadline: 1n });
    const expired = await agent.app.inject({
      method: "POST",
      url: "/v1/datasets",
      payload: { terms: createDataSetSchema.encode(late.terms), signature: late.signature },
    });
    expect(errorCode(expired)).to.equal("BAD_TERMS");
    expect(await f.market.dataSetCount()).to.equal(0n);
  });

  it("PUT a piece checks its commitment; POST state checks the layout, the pieces and the version", async function () {
    const set: ClientDataSet = { id: await openDataSetOverHttp(agent, f), layout: [], version: 0n };
    const piece = randomPiece(3000);
    const wrong = await putPiece(agent, set.id, piece.tree.root, randomPiece(3000).data);
    expect(wrong.statusCode).to.equal(422);
    expect(errorCode(wrong)).to.equal("ROOT_MISMATCH");

    const missing = await postState(agent, f, set, { add: [piece] });
    expect(missing.statusCode).to.equal(409);
    expect(errorCode(missing)).to.equal("PIECE_NOT_STORED");

    const put = await putPiece(agent, set.id, piece.tree.root, piece.data);
    expect(put.statusCode, put.body).to.equal(201);
    expect(put.json()).to.deep.equal({ root: piece.tree.root, size: "3000" });
    const accepted = await postState(agent, f, set, { add: [piece] });
    expect(accepted.statusCode, accepted.body).to.equal(200);
    expect(accepted.json()).to.deep.equal({ accepted: true, version: "1" });

    const view = (await agent.app.inject({ method: "GET", url: `/v1/datasets/${set.id}` })).json<{
      layout: unknown[];
      version: string;
      span: string;
      onChain: { version: string; span: string };
    }>();
    expect(view.layout).to.deep.equal([{ root: piece.tree.root, size: 3000, offset: 0, height: 6 }]);
    expect(view.version).to.equal("1");
    expect(view.span).to.equal("64");
    expect(view.onChain).to.include({ version: "0", span: "0" });

    // Replaying version 1 is stale; removing a piece that is not there is a bad layout.
    const stale = await postState(agent, f, { ...set, version: 0n, layout: [] }, { add: [piece] });
    expect(errorCode(stale)).to.equal("STALE_VERSION");
    const bad = await postState(agent, f, set, { remove: [64] }).catch((error: unknown) => error);
    expect(bad).to.be.instanceOf(Error); // the client's own placement refuses it first
  });

  it("refuses a state whose signed root is not the layout's, and a session key out of scope", async function () {
    const set: ClientDataSet = { id: await openDataSetOverHttp(agent, f), layout: [], version: 0n };
    const [a, b] = [randomPiece(1000), randomPiece(5000)];
    await storePieces(agent, f, set, [a]);
    expect((await putPiece(agent, set.id, b.tree.root, b.data)).statusCode).to.equal(201);
    // Sign the layout with b but announce no change: the agent's layout does not hash to the signed root.
    const next = await nextState(f, set, { add: [b] });
    const lying = await agent.app.inject({
      method: "POST",
      url: `/v1/datasets/${set.id}/state`,
      payload: {
        state: dataSetStateSchema.encode(next.state),
        signature: next.signature,
        add: [],
        remove: [],
      },
    });
    expect(lying.statusCode).to.equal(422);
    expect(errorCode(lying)).to.equal("LAYOUT_MISMATCH");

    const key = f.others[0];
    if (key === undefined) throw new Error("no signer");
    const now = BigInt(await f.helpers.time.latest());
    await (
      await f.market
        .connect(f.client)
        .authorizeSessionKey(key.address, { provider: f.provider.address, maxSpan: 64n, expiry: now + 3600n })
    ).wait();
    const overCap = await postState(agent, f, set, { add: [b] }, key);
    expect(overCap.statusCode).to.equal(403);
    expect(errorCode(overCap)).to.equal("SESSION_KEY_REFUSED");
    await (
      await f.market.connect(f.client).authorizeSessionKey(key.address, {
        provider: f.provider.address,
        maxSpan: 1024n,
        expiry: now + 3600n,
      })
    ).wait();
    const inScope = await postState(agent, f, set, { add: [b] }, key);
    expect(inScope.statusCode, inScope.body).to.equal(200);
    const stranger = f.others[1];
    if (stranger === undefined) throw new Error("no signer");
    const unsigned = await postState(agent, f, set, { remove: [0] }, stranger);
    expect(errorCode(unsigned)).to.equal("SESSION_KEY_REFUSED");
  });

  it("opens leaves against the on-chain root, padding and gap leaves included", async function () {
    const set: ClientDataSet = { id: await openDataSetOverHttp(agent, f), layout: [], version: 0n };
    const small = randomPiece(100); // 2 leaves of data in a 2-leaf subtree
    const big = randomPiece(64 * 5); // 5 leaves in an 8-leaf subtree: 3 padding leaves
    await storePieces(agent, f, set, [small, big]);
    await topUp(f, set.id, 1000n * USDC);
    const notYet = await agent.app.inject({ method: "GET", url: `/v1/datasets/${set.id}/leaves/0` });
    expect(errorCode(notYet)).to.equal("LEAF_OUT_OF_RANGE"); // the chain holds span 0 until the update lands

    const tick = await agent.tick();
    expect(tick.states?.applied.map((a) => a.dataSetId)).to.deep.equal([set.id]);
    const view = await f.market.dataSet(set.id);
    expect(view.version).to.equal(1n);
    expect(view.span).to.equal(16n); // small at 0..1, gap 2..7, big at 8..15

    for (const leaf of [0, 1, 3, 8, 12, 13, 15]) {
      const response = await agent.app.inject({
        method: "GET",
        url: `/v1/datasets/${set.id}/leaves/${leaf}`,
      });
      expect(response.statusCode, response.body).to.equal(200);
      const body = response.json<{
        leaf: string;
        path: string[];
        root: string;
        span: string;
        depth: number;
      }>();
      expect(body.root).to.equal(view.root);
      expect(body.depth).to.equal(4);
      expect(
        verifyDataSetLeaf(view.root, body.depth, leaf, words(body.leaf), body.path),
        `leaf ${leaf}`,
      ).to.equal(true);
      if (leaf === 3 || leaf >= 13) expect(body.leaf).to.equal("0x" + "00".repeat(64));
    }
    const outside = await agent.app.inject({ method: "GET", url: `/v1/datasets/${set.id}/leaves/16` });
    expect(outside.statusCode).to.equal(400);
    expect(errorCode(outside)).to.equal("LEAF_OUT_OF_RANGE");
    const unknown = await agent.app.inject({ method: "GET", url: `/v1/datasets/999/leaves/0` });
    expect(errorCode(unknown)).to.equal("UNKNOWN_DATA_SET");
  });
});
