/**
 * Whether any test of the suite running this `after` hook failed. In an `after` hook `this.currentTest` is the last
 * test run (or none), so a suite whose earlier test failed would keep its processes' output to itself.
 */
export function suiteFailed(context: Mocha.Context): boolean {
  const suite = context.test?.parent;
  if (suite === undefined) return false;
  const failed = (s: Mocha.Suite): boolean =>
    s.tests.some((t) => t.state === "failed") || s.suites.some(failed);
  return failed(suite);
}
