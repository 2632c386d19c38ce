import { expect } from "chai";
import { median } from "../../scripts/bench/storeRetrieve.js";

describe("bench medians (scripts/bench/storeRetrieve.ts)", function () {
  it("is the middle sample of an odd count and the mean of the middle two of an even one, in any order", function () {
    expect(median([5])).to.equal(5);
    expect(median([9.5, 3.25, 7])).to.equal(7);
    expect(median([4, 1, 3, 2])).to.equal(2.5);
    expect(median([16.98, 9.81, 10.82, 11.08, 12.5])).to.equal(11.08);
    expect(Number.isNaN(median([]))).to.equal(true);
  });
});
