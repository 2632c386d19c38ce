import { expect } from "chai";
import { InvalidArgumentError } from "commander";
import { makeError } from "ethers";
import { StorageMarket__factory } from "../../typechain-types/index.js";
import { exitCodeFor, formatFailure, toFailure } from "../../offchain/cli/errors.js";
import { StrataError } from "../../offchain/sdk/errors.js";

describe("CLI error reporting", () => {
  it("maps codes to exit codes: 1 input, 2 chain or provider, 3 data integrity", () => {
    expect(exitCodeFor("INVALID_ARGUMENT")).to.equal(1);
    expect(exitCodeFor("FILE_NOT_FOUND")).to.equal(1);
    expect(exitCodeFor("RPC_UNREACHABLE")).to.equal(2);
    expect(exitCodeFor("PROVIDER_REJECTED")).to.equal(2);
    expect(exitCodeFor("FILE_HASH_MISMATCH")).to.equal(3);
    expect(exitCodeFor("DECRYPT_FAILED")).to.equal(3);
  });

  it("keeps a StrataError's code and details, on one line", () => {
    const failure = toFailure(
      new StrataError("KEY_MISSING", "no key", { details: "export it\nsecond line" }),
    );
    expect(failure).to.deep.equal({
      code: "KEY_MISSING",
      message: "no key",
      details: "export it\nsecond line",
      exitCode: 1,
    });
    expect(formatFailure(failure)).to.equal("strata: no key — export it (KEY_MISSING)");
  });

  it("decodes a reverted call's custom error (CHAIN_REVERT, exit 2)", () => {
    const iface = StorageMarket__factory.createInterface();
    const data = iface.encodeErrorResult("MarketUnknownDataSet", [7n]);
    const failure = toFailure(
      makeError("reverted", "CALL_EXCEPTION", {
        action: "call",
        data,
        reason: null,
        transaction: { to: null, data: "0x" },
        invocation: null,
        revert: null,
      }),
    );
    expect(failure.code).to.equal("CHAIN_REVERT");
    expect(failure.exitCode).to.equal(2);
    expect(failure.message).to.contain("MarketUnknownDataSet(7)");
  });

  it("classifies network failures, usage errors and unknown errors", () => {
    expect(toFailure(makeError("down", "NETWORK_ERROR", { event: "x" })).code).to.equal("RPC_UNREACHABLE");
    expect(toFailure(new InvalidArgumentError("expected a positive integer"))).to.include({
      code: "INVALID_ARGUMENT",
      exitCode: 1,
    });
    expect(toFailure(new Error("boom"))).to.include({ code: "INTERNAL", exitCode: 1 });
  });
});
