// Data sets for the worker tests: a live, funded data set of the fixture's client with the fixture's provider.
import type { StorageFixture, UniformTree } from "../helpers/fixture.js";
import { liveDataSet } from "../storage/dataSets.helpers.js";

/** Create, fund and fill a data set of `span` leaves (default 64); returns its id and tree. */
export async function openDataSet(
  f: StorageFixture,
  span = 64n,
  opts: Parameters<typeof liveDataSet>[2] = {},
): Promise<{ id: bigint; tree: UniformTree }> {
  return liveDataSet(f, span, opts);
}
