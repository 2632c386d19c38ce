import { expect } from "chai";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { fastify } from "fastify";
import type { Agent } from "../../offchain/agent/agent.js";
import { extensionToJson } from "../../offchain/agent/codec.js";
import type { DealRecord } from "../../offchain/agent/db.js";
import { installErrorHandlers } from "../../offchain/agent/http/errors.js";
import { registerExtensionRoutes } from "../../offchain/agent/http/extensions.js";
import type { CliIo } from "../../offchain/cli/context.js";
import { runCli } from "../../offchain/cli/program.js";
import { marketDomain, signExtension, type DealExtension } from "../../offchain/sdk/deals/eip712.js";
import { termsHash, withEndPeriod, type DealTerms } from "../../offchain/sdk/deals/terms.js";
import {
  deployStorage,
  enterProofWindow,
  fundClient,
  makeProposal,
  PERIOD,
  publishOne,
  registerProvider,
  type StorageFixture,
} from "../helpers/fixture.js";
import { must } from "../cli/helpers/httpServer.js";
import {
  errorCode,
  removeTempDirs,
  startTestAgent,
  storeOverHttp,
  tempDataDir,
  type InjectedResponse,
} from "./helpers.js";
import { routeToAgent, startRpcBridge } from "../cli/helpers/inProcessChain.js";

const PRICE = 10n;
/** Extension nonces, far from the proposal nonces the fixture hands out. */
let nextNonce = 1_000_000n;

interface ExtensionBody {
  dealId: string;
  extension: ReturnType<typeof extensionToJson>;
  signature: string;
}

async function extensionBody(
  f: StorageFixture,
  terms: DealTerms,
  opts: { newEndPeriod?: bigint; nonce?: bigint; deadline?: bigint; signer?: HardhatEthersSigner } = {},
): Promise<ExtensionBody> {
  const extension: DealExtension = {
    dealId: terms.id,
    newEndPeriod: opts.newEndPeriod ?? terms.endPeriod + 2n,
    nonce: opts.nonce ?? nextNonce++,
    deadline: opts.deadline ?? BigInt(await f.helpers.time.latest()) + 3600n,
  };
  const domain = marketDomain(f.chainId, await f.market.getAddress());
  const signature = await signExtension(opts.signer ?? f.client, domain, extension);
  return { dealId: terms.id.toString(), extension: extensionToJson(extension), signature };
}

function post(agent: Agent, body: unknown): Promise<InjectedResponse> {
  return agent.app.inject({ method: "POST", url: "/v1/extensions", payload: body as object });
}

async function chainHash(f: StorageFixture, id: bigint): Promise<bigint> {
  const [hash] = await f.market.dealState(id);
  return hash;
}

/** Enter the proof window of the provider's next period and let the agent act; returns the period. */
async function proveOnePeriod(f: StorageFixture, agent: Agent): Promise<bigint> {
  const period = (await f.market.proofState(f.provider.address)).nextPeriod;
  await enterProofWindow(f, period);
  const report = await agent.tick();
  expect(report.prover?.proven, `period ${period}`).to.equal(period);
  return period;
}

describe("agent POST /v1/extensions", function () {
  this.timeout(120_000);
  let f: StorageFixture;
  let agent: Agent;
  let deal: DealRecord;

  /** A 3-period deal stored and published through the agent (policy: at most 10 periods in all). */
  beforeEach(async function () {
    f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    agent = await startTestAgent(f, {
      overrides: { policy: { maxDurationPeriods: "10" }, settleEveryPeriods: 0 },
    });
    await storeOverHttp(agent, await makeProposal(f, { periods: 3n, pricePerSecond: PRICE }));
    expect((await agent.tick()).publisher?.published).to.equal(1);
    deal = must(agent.context.db.activeDeals()[0], "published deal");
  });

  afterEach(async function () {
    await agent.stop();
  });
  after(removeTempDirs);

  it("extends the deal on chain, stores the new end period, and keeps proving past the old end", async function () {
    const oldEnd = deal.terms.endPeriod;
    const newEnd = oldEnd + 2n;
    const walletBefore = await f.token.balanceOf(f.client.address);
    const body = await extensionBody(f, deal.terms, { newEndPeriod: newEnd });

    const res = await post(agent, body);
    expect(res.statusCode, res.body).to.equal(200);
    const answer = res.json<{ state: string; txHash: string; newEndPeriod: string }>();
    expect(answer.state).to.equal("extended");
    expect(answer.newEndPeriod).to.equal(newEnd.toString());
    expect((await f.ethers.provider.getTransactionReceipt(answer.txHash))?.status).to.equal(1);

    const extended = withEndPeriod(deal.terms, newEnd);
    expect(await chainHash(f, deal.id)).to.equal(termsHash(extended));
    expect(agent.context.db.deal(deal.id)?.terms).to.deep.equal(extended);
    // The client paid the two added periods (from its allowance).
    expect(walletBefore - (await f.token.balanceOf(f.client.address))).to.equal(PRICE * 2n * PERIOD);

    // A retry of the same extension (lost answer) gets the same transaction back, and nothing is sent.
    const again = await post(agent, body);
    expect(again.statusCode, again.body).to.equal(200);
    expect(again.json<{ txHash: string }>().txHash).to.equal(answer.txHash);

    // Proofs keep landing after the old end period, up to the new one; then the deal is finalized.
    for (let i = 0n; i < newEnd - deal.terms.startPeriod; i++) await proveOnePeriod(f, agent);
    expect(agent.context.db.lastConfirmedProof()?.period).to.equal(newEnd - 1n);
    expect(newEnd - 1n).to.be.greaterThanOrEqual(oldEnd);
    await f.helpers.time.increaseTo(await f.market.periodStart(newEnd));
    expect((await agent.tick()).prover?.finalized).to.deep.equal([deal.id]);
  });

  it("rejects a signature that is not the deal's client's, and malformed bodies (400 BAD_EXTENSION)", async function () {
    const forged = await post(agent, await extensionBody(f, deal.terms, { signer: f.client2 }));
    expect(forged.statusCode).to.equal(400);
    expect(errorCode(forged)).to.equal("BAD_EXTENSION");

    const good = await extensionBody(f, deal.terms);
    const malformed: unknown[] = [
      [1, 2],
      { ...good, signature: "0xzz" },
      { ...good, extension: { ...good.extension, newEndPeriod: "-1" } },
      { ...good, extension: { ...good.extension, newEndPeriod: String(2n ** 32n) } },
      { ...good, dealId: "999" },
    ];
    for (const body of malformed) {
      const res = await post(agent, body);
      expect(res.statusCode, JSON.stringify(body)).to.equal(400);
      expect(errorCode(res)).to.equal("BAD_EXTENSION");
    }
    // Not after the current end: the market would revert it.
    const shorter = await post(
      agent,
      await extensionBody(f, deal.terms, { newEndPeriod: deal.terms.endPeriod }),
    );
    expect(errorCode(shorter)).to.equal("BAD_EXTENSION");
    expect(await chainHash(f, deal.id)).to.equal(termsHash(deal.terms));
  });

  it("refuses deals that are not this agent's (404 UNKNOWN_DEAL)", async function () {
    await registerProvider(f, f.provider2);
    const { deal: foreign } = await publishOne(f, { provider: f.provider2, periods: 3n });
    const res = await post(agent, await extensionBody(f, foreign));
    expect(res.statusCode).to.equal(404);
    expect(errorCode(res)).to.equal("UNKNOWN_DEAL");
    const unknown = await post(agent, await extensionBody(f, { ...deal.terms, id: 999n }));
    expect(errorCode(unknown)).to.equal("UNKNOWN_DEAL");
  });

  it("answers 402 CLIENT_UNFUNDED when the client can pay neither from its balance nor its allowance", async function () {
    await f.token.connect(f.client).approve(await f.market.getAddress(), 0n);
    const body = await extensionBody(f, deal.terms);
    const res = await post(agent, body);
    expect(res.statusCode).to.equal(402);
    expect(res.json<{ error: { code: string; revert: string } }>().error).to.include({
      code: "CLIENT_UNFUNDED",
      revert: "MarketUnfunded",
    });
    expect(await f.market.nonceUsed(f.client.address, BigInt(body.extension.nonce))).to.equal(false);
    expect(agent.context.db.deal(deal.id)?.terms).to.deep.equal(deal.terms);

    // Once funded, the same signed extension goes through.
    await f.token.connect(f.client).approve(await f.market.getAddress(), 10n ** 12n);
    expect((await post(agent, body)).statusCode).to.equal(200);
  });

  it("applies the provider's policy: total length and deadline (422 POLICY_REJECTED)", async function () {
    const start = deal.terms.startPeriod;
    const tooLong = await post(agent, await extensionBody(f, deal.terms, { newEndPeriod: start + 11n }));
    expect(tooLong.statusCode).to.equal(422);
    expect(errorCode(tooLong)).to.equal("POLICY_REJECTED");
    // Beyond the market's maxDealPeriods: the market itself would refuse it.
    const beyond = await post(
      agent,
      await extensionBody(f, deal.terms, { newEndPeriod: start + 24n * 365n + 1n }),
    );
    expect(errorCode(beyond)).to.equal("BAD_EXTENSION");
    const now = BigInt(await f.helpers.time.latest());
    const late = await post(agent, await extensionBody(f, deal.terms, { deadline: now }));
    expect(late.statusCode).to.equal(422);
    expect(errorCode(late)).to.equal("POLICY_REJECTED");
    // Exactly the policy's limit is fine.
    const longest = await post(agent, await extensionBody(f, deal.terms, { newEndPeriod: start + 10n }));
    expect(longest.statusCode, longest.body).to.equal(200);
  });

  it("names the custom error of other reverts (422 CHAIN_REVERT) and refuses a used nonce (409)", async function () {
    await f.market.connect(f.admin).pause();
    const paused = await post(agent, await extensionBody(f, deal.terms));
    expect(paused.statusCode).to.equal(422);
    expect(paused.json<{ error: { code: string; revert: string } }>().error).to.include({
      code: "CHAIN_REVERT",
      revert: "EnforcedPause",
    });
    await f.market.connect(f.admin).unpause();

    const body = await extensionBody(f, deal.terms);
    await f.market.connect(f.client).cancelNonce(BigInt(body.extension.nonce));
    const used = await post(agent, body);
    expect(used.statusCode).to.equal(409);
    expect(errorCode(used)).to.equal("DUPLICATE");
  });

  it("answers 202 submitted when the transaction is not mined in time, and applies it once mined", async function () {
    const app = fastify();
    installErrorHandlers(app);
    registerExtensionRoutes(app, agent.context, { replyWithinMs: 100 });
    const newEnd = deal.terms.endPeriod + 1n;
    const body = await extensionBody(f, deal.terms, { newEndPeriod: newEnd });
    await f.ethers.provider.send("evm_setAutomine", [false]);
    try {
      const res = await app.inject({ method: "POST", url: "/v1/extensions", payload: body });
      expect(res.statusCode, res.body).to.equal(202);
      expect(res.json()).to.include({ state: "submitted", newEndPeriod: newEnd.toString() });
      const busy = await app.inject({ method: "POST", url: "/v1/extensions", payload: body });
      expect(errorCode(busy)).to.equal("EXTENSION_IN_PROGRESS");
      expect(agent.context.db.deal(deal.id)?.terms.endPeriod).to.equal(deal.terms.endPeriod);
      await f.helpers.mine(1);
    } finally {
      await f.ethers.provider.send("evm_setAutomine", [true]);
    }
    const deadline = Date.now() + 30_000;
    while (agent.context.db.deal(deal.id)?.terms.endPeriod !== newEnd && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(agent.context.db.deal(deal.id)?.terms.endPeriod).to.equal(newEnd);
    expect(await chainHash(f, deal.id)).to.equal(termsHash(withEndPeriod(deal.terms, newEnd)));
    await app.close();
  });

  it("is what `strata deal renew` uses, end to end", async function () {
    const rpc = await startRpcBridge(f);
    try {
      const dir = await tempDataDir();
      const deployment = join(dir, "deployed_addresses.json");
      await writeFile(
        deployment,
        JSON.stringify({
          "StrataLocal#StorageMarket": await f.market.getAddress(),
          "StrataLocal#ProviderRegistry": await f.registry.getAddress(),
          "StrataLocal#TestStablecoin": await f.token.getAddress(),
        }),
      );
      const endpoint = (await f.registry.providerInfo(f.provider.address)).endpoint;
      let stdout = "";
      const io: CliIo = {
        stdout: (text) => (stdout += text),
        stderr: (text) => (stdout += text),
        interactive: false,
        env: {},
        fetch: routeToAgent(endpoint, agent),
      };
      // Dev account 4 is the fixture's client.
      const argv = ["--json", "--rpc", rpc.url, "--deployment", deployment, "--account", "4"];
      const code = await runCli([...argv, "deal", "renew", deal.id.toString(), "--periods", "2"], io);
      expect(code, stdout).to.equal(0);
      const out = JSON.parse(stdout) as { extensions: { sent: boolean; state: string; txHash: string }[] };
      expect(out.extensions).to.have.length(1);
      expect(out.extensions[0]).to.include({ sent: true, state: "extended" });
      const extended = withEndPeriod(deal.terms, deal.terms.endPeriod + 2n);
      expect(await chainHash(f, deal.id)).to.equal(termsHash(extended));
      expect(agent.context.db.deal(deal.id)?.terms).to.deep.equal(extended);
    } finally {
      await rpc.close();
    }
  });
});
