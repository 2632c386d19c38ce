import { expect } from "chai";
import { Readable } from "node:stream";
import type { Agent } from "../../offchain/agent/agent.js";
import { proposalToJson } from "../../offchain/agent/codec.js";
import { marketDomain, signProposal } from "../../offchain/sdk/deals/eip712.js";
import type { DealProposal } from "../../offchain/sdk/deals/terms.js";
import {
  deployStorage,
  fundClient,
  makeProposal,
  randomPiece,
  registerProvider,
  USDC,
  type StorageFixture,
} from "../helpers/fixture.js";
import { errorCode, postProposal, putBytes, removeTempDirs, startTestAgent } from "./helpers.js";

describe("agent HTTP API", function () {
  let f: StorageFixture;
  let agent: Agent;

  before(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider, 1_000n * USDC);
    await fundClient(f, f.client);
    agent = await startTestAgent(f, {
      overrides: {
        policy: {
          minPricePerSecondPerMiB: "1000", // 4 per second for a 4 KiB piece
          maxPieceSize: "8192",
          maxDurationPeriods: "48",
          collateralPerGiB: String(200n * USDC * 262_144n), // 200 tUSD for a 4 KiB piece
          minStartDeadlineSeconds: 300,
        },
      },
    });
  });

  after(async function () {
    await agent.stop();
    await removeTempDirs();
  });

  it("serves health and terms", async function () {
    const health = await agent.app.inject({ method: "GET", url: "/health" });
    expect(health.statusCode).to.equal(200);
    expect(health.json()).to.deep.include({
      ok: true,
      provider: f.provider.address,
      chainId: f.chainId.toString(),
    });
    const terms = (await agent.app.inject({ method: "GET", url: "/v1/terms" })).json<
      Record<string, unknown>
    >();
    expect(terms).to.deep.include({
      provider: f.provider.address,
      maxPieceSize: "8192",
      maxDurationPeriods: "48",
      minPricePerSecondPerMiB: "1000",
      provingPeriod: "3600",
    });
  });

  it("takes a proposal, stores its bytes, and serves them back", async function () {
    const signed = await makeProposal(f, { periods: 2n, pricePerSecond: 10n });
    const created = await postProposal(agent, signed.proposal, signed.signature);
    expect(created.statusCode).to.equal(201);
    const { uploadId, uploadUrl } = created.json<{ uploadId: string; uploadUrl: string }>();
    expect(uploadUrl).to.equal(`http://127.0.0.1:7999/v1/uploads/${uploadId}`);
    const waiting = await agent.app.inject({ method: "GET", url: `/v1/uploads/${uploadId}` });
    expect(waiting.json()).to.deep.include({ state: "awaiting-data", dealId: null });

    const put = await putBytes(agent, uploadId, signed.piece.data);
    expect(put.statusCode).to.equal(202);
    expect(put.json()).to.deep.equal({ state: "accepted" });
    const accepted = await agent.app.inject({ method: "GET", url: `/v1/uploads/${uploadId}` });
    expect(accepted.json()).to.deep.include({ state: "accepted" });

    const piece = await agent.app.inject({ method: "GET", url: `/v1/pieces/${signed.proposal.root}` });
    expect(piece.statusCode).to.equal(200);
    expect(piece.headers["content-type"]).to.equal("application/octet-stream");
    expect(Buffer.compare(piece.rawPayload, Buffer.from(signed.piece.data))).to.equal(0);

    const again = await putBytes(agent, uploadId, signed.piece.data);
    expect(again.statusCode).to.equal(409);
    expect(errorCode(again)).to.equal("UPLOAD_NOT_OPEN");

    const status = (await agent.app.inject({ method: "GET", url: "/v1/status" })).json<{
      deals: { pending: number };
      pieces: number;
      bytesStored: string;
      balance: { freeStake: string };
    }>();
    expect(status.deals.pending).to.be.greaterThan(0);
    expect(status.pieces).to.be.greaterThan(0);
    expect(status.balance.freeStake).to.equal((1_000n * USDC).toString());
  });

  it("rejects malformed proposals and foreign signatures with 400 BAD_PROPOSAL", async function () {
    const signed = await makeProposal(f);
    const missing = await agent.app.inject({
      method: "POST",
      url: "/v1/deals",
      payload: {
        proposal: { ...proposalToJson(signed.proposal), size: undefined },
        signature: signed.signature,
      },
    });
    expect(missing.statusCode).to.equal(400);
    expect(errorCode(missing)).to.equal("BAD_PROPOSAL");
    // The route's schema names the field to fix.
    expect(missing.json<{ error: { message: string } }>().error.message).to.contain("body.proposal.size");

    const notJson = await agent.app.inject({
      method: "POST",
      url: "/v1/deals",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    expect(notJson.statusCode).to.equal(400);

    const forged = await signProposal(
      f.client2,
      marketDomain(f.chainId, await f.market.getAddress()),
      signed.proposal,
    );
    const wrongSigner = await postProposal(agent, signed.proposal, forged);
    expect(wrongSigner.statusCode).to.equal(400);
    expect(errorCode(wrongSigner)).to.equal("BAD_PROPOSAL");

    const tampered = await postProposal(agent, { ...signed.proposal, pricePerSecond: 11n }, signed.signature);
    expect(errorCode(tampered)).to.equal("BAD_PROPOSAL");

    const other = await makeProposal(f, { provider: f.provider2 });
    expect(errorCode(await postProposal(agent, other.proposal, other.signature))).to.equal("BAD_PROPOSAL");

    const odd = await signedCustom(f, {
      ...signed.proposal,
      duration: 5000n,
      nonce: signed.proposal.nonce + 10_000n,
    });
    expect(errorCode(await postProposal(agent, odd.proposal, odd.signature))).to.equal("BAD_PROPOSAL");
  });

  it("rejects proposals outside the policy with 422 POLICY_REJECTED", async function () {
    const now = BigInt(await f.helpers.time.latest());
    const cases: Parameters<typeof makeProposal>[1][] = [
      { pricePerSecond: 3n }, // below 4 per second
      { piece: randomPiece(8256) }, // above maxPieceSize
      { periods: 49n }, // above maxDurationPeriods
      { collateral: 201n * USDC }, // above 200 tUSD for 4 KiB
      { startDeadline: now + 100n }, // less than 300 s ahead
    ];
    for (const opts of cases) {
      const signed = await makeProposal(f, opts);
      const response = await postProposal(agent, signed.proposal, signed.signature);
      expect(
        response.statusCode,
        JSON.stringify(opts, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
      ).to.equal(422);
      expect(errorCode(response)).to.equal("POLICY_REJECTED");
    }
  });

  it("rejects a proposal the free stake cannot collateralise with 422", async function () {
    // 1,000 tUSD staked; pending uploads already promise some of it.
    const first = await makeProposal(f, { collateral: 200n * USDC });
    expect((await postProposal(agent, first.proposal, first.signature)).statusCode).to.equal(201);
    for (let i = 0; i < 3; i++) {
      const more = await makeProposal(f, { collateral: 200n * USDC });
      await postProposal(agent, more.proposal, more.signature);
    }
    const tooMuch = await makeProposal(f, { collateral: 200n * USDC });
    const response = await postProposal(agent, tooMuch.proposal, tooMuch.signature);
    expect(response.statusCode).to.equal(422);
    expect(errorCode(response)).to.equal("POLICY_REJECTED");
  });

  it("rejects a client that cannot pay the escrow with 402 CLIENT_UNFUNDED", async function () {
    const signed = await makeProposal(f, { client: f.client2, collateral: 1n });
    const response = await postProposal(agent, signed.proposal, signed.signature);
    expect(response.statusCode).to.equal(402);
    expect(errorCode(response)).to.equal("CLIENT_UNFUNDED");
  });

  it("answers 409 DUPLICATE to a second proposal with the same client and nonce", async function () {
    const signed = await makeProposal(f, { collateral: 1n });
    const created = await postProposal(agent, signed.proposal, signed.signature);
    const { uploadId } = created.json<{ uploadId: string }>();
    const again = await postProposal(agent, signed.proposal, signed.signature);
    expect(again.statusCode).to.equal(409);
    expect(again.json()).to.deep.equal({
      error: {
        code: "DUPLICATE",
        message: again.json<{ error: { message: string } }>().error.message,
        uploadId,
      },
    });
    const sameNonce = await signedCustom(f, { ...signed.proposal, pricePerSecond: 20n });
    const conflict = await postProposal(agent, sameNonce.proposal, sameNonce.signature);
    expect(conflict.statusCode).to.equal(409);
    expect(conflict.json<{ error: { uploadId?: string } }>().error.uploadId).to.equal(undefined);
  });

  it("refuses more bytes than the proposal's size with 413, before reading them all", async function () {
    const signed = await makeProposal(f, { collateral: 1n });
    const { uploadId } = (await postProposal(agent, signed.proposal, signed.signature)).json<{
      uploadId: string;
    }>();
    const bigger = Buffer.concat([Buffer.from(signed.piece.data), Buffer.alloc(64)]);
    const declared = await putBytes(agent, uploadId, bigger);
    expect(declared.statusCode).to.equal(413);
    expect(errorCode(declared)).to.equal("TOO_LARGE");

    // Without a Content-Length (chunked): the stream is cut off once it passes the size.
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled++;
        this.push(pulled > 1000 ? null : Buffer.alloc(4096, 7));
      },
    });
    const chunked = await agent.app.inject({
      method: "PUT",
      url: `/v1/uploads/${uploadId}`,
      headers: { "content-type": "application/octet-stream", "transfer-encoding": "chunked" },
      payload: endless,
    });
    expect(chunked.statusCode).to.equal(413);
    expect(pulled).to.be.lessThan(1000);

    const ok = await putBytes(agent, uploadId, signed.piece.data);
    expect(ok.statusCode).to.equal(202);
  });

  it("rejects bytes that do not hash to the root (422), short bodies (400), other media types (415)", async function () {
    const signed = await makeProposal(f, { collateral: 1n });
    const { uploadId } = (await postProposal(agent, signed.proposal, signed.signature)).json<{
      uploadId: string;
    }>();
    const wrong = Buffer.from(signed.piece.data);
    wrong[100] = (wrong[100] ?? 0) ^ 0xff;
    const mismatch = await putBytes(agent, uploadId, wrong);
    expect(mismatch.statusCode).to.equal(422);
    expect(errorCode(mismatch)).to.equal("ROOT_MISMATCH");

    const short = await putBytes(agent, uploadId, signed.piece.data.subarray(0, 1000));
    expect(short.statusCode).to.equal(400);
    expect(errorCode(short)).to.equal("INCOMPLETE_UPLOAD");

    const text = await agent.app.inject({
      method: "PUT",
      url: `/v1/uploads/${uploadId}`,
      headers: { "content-type": "text/plain" },
      payload: "hello",
    });
    expect(text.statusCode).to.equal(415);
    expect(errorCode(text)).to.equal("UNSUPPORTED_MEDIA_TYPE");

    const status = await agent.app.inject({ method: "GET", url: `/v1/uploads/${uploadId}` });
    expect(status.json()).to.deep.include({ state: "awaiting-data" });
    expect((await putBytes(agent, uploadId, signed.piece.data)).statusCode).to.equal(202);
  });

  it("answers 404 for unknown uploads, pieces and routes", async function () {
    const upload = await putBytes(agent, "no-such-upload", new Uint8Array(64));
    expect(upload.statusCode).to.equal(404);
    expect(errorCode(upload)).to.equal("UNKNOWN_UPLOAD");
    const get = await agent.app.inject({ method: "GET", url: "/v1/uploads/nope" });
    expect(errorCode(get)).to.equal("UNKNOWN_UPLOAD");
    const piece = await agent.app.inject({ method: "GET", url: `/v1/pieces/0x${"ab".repeat(32)}` });
    expect(piece.statusCode).to.equal(404);
    expect(errorCode(piece)).to.equal("UNKNOWN_PIECE");
    const route = await agent.app.inject({ method: "GET", url: "/v2/whatever" });
    expect(route.statusCode).to.equal(404);
    expect(errorCode(route)).to.equal("NOT_FOUND");
  });
});

async function signedCustom(
  f: StorageFixture,
  proposal: DealProposal,
): Promise<{ proposal: DealProposal; signature: string }> {
  const client = proposal.client === f.client.address ? f.client : f.client2;
  const signature = await signProposal(
    client,
    marketDomain(f.chainId, await f.market.getAddress()),
    proposal,
  );
  return { proposal, signature };
}
