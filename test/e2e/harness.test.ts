import { expect } from "chai";
import { StrataError } from "../../offchain/sdk/errors.js";
import { freePort, startLocalChain, type LocalChain } from "../../scripts/lib/localChain.js";
import { until } from "../../scripts/lib/localProcesses.js";

describe("e2e harness", function () {
  this.timeout(180_000);
  let chain: LocalChain | undefined;
  after(async () => chain?.stop());

  it("starts a real node and deploys the suite with the Ignition module under its own deployment id", async function () {
    chain = await startLocalChain();
    for (const address of Object.values(chain.addresses)) {
      expect(await chain.provider.getCode(address)).to.not.equal("0x");
    }
    const before = (await chain.provider.getBlock("latest"))?.timestamp ?? 0;
    await chain.advance(3600);
    const after = (await chain.provider.getBlock("latest"))?.timestamp ?? 0;
    expect(after - before).to.be.at.least(3600);
  });

  it("gives up waiting with LOCAL_PROCESS_TIMEOUT and hands out free ports", async function () {
    const port = await freePort();
    expect(port).to.be.within(1, 65_535);
    let error: unknown;
    try {
      await until("something that never happens", () => Promise.resolve(undefined), 10);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(StrataError);
    expect((error as StrataError).code).to.equal("LOCAL_PROCESS_TIMEOUT");
  });
});
