import { expect } from "chai";
import type { DataSetState } from "../../offchain/sdk/datasets/eip712.js";
import {
  compareStateVersions,
  newestStates,
  nextStateVersion,
  statesToSubmit,
  supersedes,
  type SignedDataSetState,
} from "../../offchain/sdk/datasets/versions.js";
import { expectStrataError } from "./helpers/assertions.js";

function signed(dataSetId: bigint, version: bigint, span = version): SignedDataSetState {
  const state: DataSetState = { dataSetId, version, root: "0x" + "00".repeat(31) + "01", span };
  return { state, signature: `0x${version}` };
}

describe("signed state versions (offchain/sdk/datasets/versions.ts)", function () {
  it("orders versions of one data set and refuses to compare two data sets", function () {
    expect(compareStateVersions(signed(1n, 2n).state, signed(1n, 3n).state)).to.equal(-1);
    expect(compareStateVersions(signed(1n, 3n).state, signed(1n, 2n).state)).to.equal(1);
    expect(compareStateVersions(signed(1n, 3n).state, signed(1n, 3n).state)).to.equal(0);
    expectStrataError(
      () => compareStateVersions(signed(1n, 1n).state, signed(2n, 1n).state),
      "INVALID_ARGUMENT",
    );
    expect(supersedes(signed(1n, 4n).state, 3n)).to.be.true;
    expect(supersedes(signed(1n, 3n).state, 3n)).to.be.false;
    expect(nextStateVersion(undefined)).to.equal(1n);
    expect(nextStateVersion(7n)).to.equal(8n);
  });

  it("keeps the newest signed state of each data set, whatever the order received", function () {
    const held = [
      signed(2n, 1n),
      signed(1n, 3n),
      signed(1n, 5n),
      signed(2n, 4n),
      signed(1n, 4n),
      signed(1n, 5n),
    ];
    expect(newestStates(held).map((entry) => [entry.state.dataSetId, entry.state.version])).to.deep.equal([
      [1n, 5n],
      [2n, 4n],
    ]);
    expectStrataError(() => newestStates([signed(1n, 2n, 10n), signed(1n, 2n, 11n)]), "INVALID_ARGUMENT");
  });

  it("submits only the states the chain does not have yet", function () {
    const held = [signed(1n, 5n), signed(2n, 4n), signed(3n, 1n)];
    const stored = new Map([
      [1n, 5n],
      [2n, 2n],
    ]);
    expect(
      statesToSubmit(held, (id) => stored.get(id) ?? 0n).map((entry) => entry.state.dataSetId),
    ).to.deep.equal([2n, 3n]);
  });
});
