import { expect } from "chai";
import { createAgent } from "../../offchain/agent/agent.js";
import { proposalToJson } from "../../offchain/agent/codec.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { deployStorage, fundClient, makeProposal, registerProvider } from "../helpers/fixture.js";
import { agentConfig, removeTempDirs } from "./helpers.js";

describe("agent over a real socket", function () {
  after(removeTempDirs);

  it("listens, streams uploads, answers 413 to oversize bodies, ticks by itself and stops cleanly", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const config = await agentConfig(f, { tickMs: 50 });
    const agent = await createAgent({
      config,
      signer: f.provider,
      provider: f.ethers.provider,
      logger: silentLogger(),
    });
    await agent.start();
    try {
      const base = agent.address() ?? "";
      expect(base).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = (await (await fetch(`${base}/health`)).json()) as { ok: boolean };
      expect(health.ok).to.equal(true);

      const signed = await makeProposal(f, { periods: 2n });
      const created = await fetch(`${base}/v1/deals`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ proposal: proposalToJson(signed.proposal), signature: signed.signature }),
      });
      expect(created.status).to.equal(201);
      const { uploadId } = (await created.json()) as { uploadId: string };

      const oversize = await fetch(`${base}/v1/uploads/${uploadId}`, {
        method: "PUT",
        headers: { "content-type": "application/octet-stream" },
        body: new Uint8Array(signed.piece.data.length + 1),
      });
      expect(oversize.status).to.equal(413);
      expect(((await oversize.json()) as { error: { code: string } }).error.code).to.equal("TOO_LARGE");

      const put = await fetch(`${base}/v1/uploads/${uploadId}`, {
        method: "PUT",
        headers: { "content-type": "application/octet-stream" },
        body: signed.piece.data,
      });
      expect(put.status).to.equal(202);

      // The tick loop publishes the accepted upload without being asked.
      const deadline = Date.now() + 10_000;
      let state = "";
      while (Date.now() < deadline && state !== "published") {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const status = (await (await fetch(`${base}/v1/uploads/${uploadId}`)).json()) as { state: string };
        state = status.state;
      }
      expect(state).to.equal("published");
    } finally {
      await agent.stop();
    }
    expect(agent.context.db.isOpen).to.equal(false);
    await agent.stop(); // idempotent
  });
});
