import { expect } from "chai";
import { ZeroAddress } from "ethers";
import type { SessionKeyScope } from "../../offchain/sdk/datasets/eip712.js";
import { checkSessionKeyScope, type SessionKeyUse } from "../../offchain/sdk/datasets/sessionKeys.js";

const CLIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const PROVIDER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const OTHER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";

const scope: SessionKeyScope = {
  client: CLIENT,
  key: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
  provider: PROVIDER,
  maxSpan: 1000n,
  expiry: 2_000n,
};
const use: SessionKeyUse = { client: CLIENT.toLowerCase(), provider: PROVIDER, span: 1000n, now: 1_999n };

describe("session-key scope (offchain/sdk/datasets/sessionKeys.ts)", function () {
  it("allows a state within scope, before expiry, up to the span cap", function () {
    expect(checkSessionKeyScope(scope, use)).to.deep.equal({ allowed: true });
    expect(
      checkSessionKeyScope({ ...scope, provider: ZeroAddress }, { ...use, provider: OTHER }),
    ).to.deep.equal({
      allowed: true,
    });
  });

  it("refuses with a stable reason: revoked, expired (at expiry), another client or provider, span over the cap", function () {
    const refusal = (scopeOverride: Partial<SessionKeyScope>, useOverride: Partial<SessionKeyUse>): unknown =>
      checkSessionKeyScope({ ...scope, ...scopeOverride }, { ...use, ...useOverride });
    expect(refusal({}, { revoked: true })).to.deep.equal({ allowed: false, refusal: "REVOKED" });
    expect(refusal({}, { now: 2_000n })).to.deep.equal({ allowed: false, refusal: "EXPIRED" });
    expect(refusal({}, { client: OTHER })).to.deep.equal({ allowed: false, refusal: "WRONG_CLIENT" });
    expect(refusal({}, { provider: OTHER })).to.deep.equal({ allowed: false, refusal: "WRONG_PROVIDER" });
    expect(refusal({}, { span: 1001n })).to.deep.equal({ allowed: false, refusal: "SPAN_OVER_CAP" });
  });
});
