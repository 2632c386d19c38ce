import { expect } from "chai";
import { startLocalChain, type LocalChain } from "../../scripts/lib/localChain.js";

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
});
