import { expect } from "chai";
import { createAgent } from "../../offchain/agent/agent.js";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { createDataSetSchema, dataSetStateSchema } from "../../offchain/sdk/api/datasets.js";
import {
  deployStorage,
  fundClient,
  makeTerms,
  randomPiece,
  registerProvider,
  topUp,
  USDC,
} from "../helpers/fixture.js";
import { agentConfig, nextState, removeTempDirs } from "./helpers.js";

describe("agent over a real socket", function () {
  after(removeTempDirs);

  it("listens, streams pieces, answers 413 to oversize bodies, ticks by itself and stops cleanly", async function () {
    const f = await deployStorage();
    await registerProvider(f, f.provider);
    await fundClient(f, f.client);
    const config = await agentConfig(f, { tickMs: 50, policy: { maxPieceSize: "4096" } });
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

      const { terms, signature } = await makeTerms(f);
      const created = await fetch(`${base}/v1/datasets`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ terms: createDataSetSchema.encode(terms), signature }),
      });
      expect(created.status).to.equal(201);
      const id = BigInt(((await created.json()) as { dataSetId: string }).dataSetId);

      const piece = randomPiece(4000);
      const oversize = await fetch(`${base}/v1/datasets/${id}/pieces/${piece.tree.root}`, {
        method: "PUT",
        headers: { "content-type": "application/octet-stream" },
        body: new Uint8Array(4097),
      });
      expect(oversize.status).to.equal(413);
      expect(((await oversize.json()) as { error: { code: string } }).error.code).to.equal("TOO_LARGE");

      const put = await fetch(`${base}/v1/datasets/${id}/pieces/${piece.tree.root}`, {
        method: "PUT",
        headers: { "content-type": "application/octet-stream" },
        body: piece.data,
      });
      expect(put.status).to.equal(201);
      const next = await nextState(f, { id, layout: [], version: 0n }, { add: [piece] });
      const posted = await fetch(`${base}/v1/datasets/${id}/state`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          state: dataSetStateSchema.encode(next.state),
          signature: next.signature,
          add: next.add,
        }),
      });
      expect(posted.status).to.equal(200);
      await topUp(f, id, 100n * USDC);

      // The tick loop submits the signed state without being asked.
      const deadline = Date.now() + 10_000;
      let version = 0n;
      while (Date.now() < deadline && version !== 1n) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const view = (await (await fetch(`${base}/v1/datasets/${id}`)).json()) as {
          onChain: { version: string };
        };
        version = BigInt(view.onChain.version);
      }
      expect(version).to.equal(1n);
    } finally {
      await agent.stop();
    }
    expect(agent.context.db.isOpen).to.equal(false);
    await agent.stop(); // idempotent
  });
});
