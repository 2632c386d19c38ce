// Ordering of signed data-set states (design §2): versions strictly increase per data set, the newest signed state
// supersedes every older one, and the market skips an entry whose version is not above the stored one.
import { StrataError } from "../errors.js";
import type { DataSetState } from "./eip712.js";

/** A state with the signature that authorises it. */
export interface SignedDataSetState {
  readonly state: DataSetState;
  readonly signature: string;
}

/** Negative when `a` is older than `b`, positive when newer, 0 for the same version (throws across data sets). */
export function compareStateVersions(a: DataSetState, b: DataSetState): number {
  if (a.dataSetId !== b.dataSetId) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `states of data sets ${a.dataSetId} and ${b.dataSetId} do not compare`,
    );
  }
  return a.version < b.version ? -1 : a.version > b.version ? 1 : 0;
}

/** True when the market would accept `candidate` over the stored version (strictly greater). */
export function supersedes(candidate: DataSetState, storedVersion: bigint): boolean {
  return candidate.version > storedVersion;
}

/** The next version to sign after `latest` (1 for a data set without a state yet). */
export function nextStateVersion(latest: bigint | undefined): bigint {
  return (latest ?? 0n) + 1n;
}

/**
 * The newest signed state of each data set among `states` (any order, any data sets): what a provider submits in
 * one `updateDataSets` call. Two different states with the same version of one data set are an equivocation and
 * refused (INVALID_ARGUMENT). Result sorted by data-set id.
 */
export function newestStates<T extends SignedDataSetState>(states: Iterable<T>): T[] {
  const newest = new Map<bigint, T>();
  for (const entry of states) {
    const held = newest.get(entry.state.dataSetId);
    if (held === undefined || entry.state.version > held.state.version) {
      newest.set(entry.state.dataSetId, entry);
    } else if (entry.state.version === held.state.version && !sameState(entry.state, held.state)) {
      throw new StrataError("INVALID_ARGUMENT", `two different states of data set ${entry.state.dataSetId}`, {
        details: `version ${entry.state.version}`,
      });
    }
  }
  return [...newest.values()].sort((a, b) =>
    a.state.dataSetId < b.state.dataSetId ? -1 : a.state.dataSetId > b.state.dataSetId ? 1 : 0,
  );
}

/** The newest held states that the chain does not have yet (version above `storedVersion(id)`). */
export function statesToSubmit<T extends SignedDataSetState>(
  held: Iterable<T>,
  storedVersion: (dataSetId: bigint) => bigint,
): T[] {
  return newestStates(held).filter((entry) => supersedes(entry.state, storedVersion(entry.state.dataSetId)));
}

function sameState(a: DataSetState, b: DataSetState): boolean {
  return a.span === b.span && a.root.toLowerCase() === b.root.toLowerCase();
}
