/**
 * `expect(x).to.be.near(y, tolerance)`: |x − y| ≤ tolerance for plain numbers. Chai's own `closeTo` cannot be used
 * for floats in a full run: the ethers chai matchers replace it with a bigint-only version once they load.
 */
import * as chai from "chai";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Chai {
    interface Assertion {
      near(expected: number, tolerance: number): Assertion;
    }
  }
}

chai.use((lib) => {
  lib.Assertion.addMethod("near", function (this: Chai.AssertionStatic, expected: number, tolerance: number) {
    const actual: unknown = lib.util.flag(this, "object");
    this.assert(
      typeof actual === "number" && Number.isFinite(actual) && Math.abs(actual - expected) <= tolerance,
      `expected #{act} to be within ${tolerance} of #{exp}`,
      `expected #{act} not to be within ${tolerance} of #{exp}`,
      expected,
      actual,
    );
  });
});
