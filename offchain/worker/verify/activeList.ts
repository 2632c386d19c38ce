/**
 * Off-chain mirror of the part of a provider's proving state that selects challenged deals, rebuilt from the
 * storage market's events in chain order (see contracts/storage/libraries/PackedDealList.sol and ProvingLib):
 *
 * - `DealPublished` appends the deal id to the provider's active list;
 * - `DealEnded` removes it by swap-and-pop: the last id moves into the vacated position;
 * - every event that sets the provider's seed block also sets `challengeable` to the list length at that
 *   moment: `ProofSubmitted` (seed of period + 1), `MissedProofsReported` (seed of fromPeriod + count) and
 *   `ChallengeSeedScheduled` (first publish after an empty list, or a seed refresh).
 *
 * A proof is checked against the state just before its `ProofSubmitted` log: the list as it is then (deals
 * ended after the seed was fixed have already been swapped out), and the `challengeable` of the seed in force.
 */
import { StrataError } from "../../sdk/errors.js";

/** Where a log sits in the chain; logs are totally ordered by (blockNumber, logIndex). */
export interface ChainPosition {
  blockNumber: number;
  logIndex: number;
}

/** Negative when `a` comes before `b`, positive after, 0 at the same log. */
export function comparePositions(a: ChainPosition, b: ChainPosition): number {
  return a.blockNumber !== b.blockNumber ? a.blockNumber - b.blockNumber : a.logIndex - b.logIndex;
}

/** Which market event scheduled a seed block. */
export type SeedSource = "proof" | "missed" | "scheduled";

/** The events of one provider that change its active list or its seed, each with its chain position. */
export type ProvingEvent =
  | { kind: "dealPublished"; dealId: bigint; at: ChainPosition }
  | { kind: "dealEnded"; dealId: bigint; at: ChainPosition }
  | { kind: "seedScheduled"; source: SeedSource; period: bigint; seedBlock: bigint; at: ChainPosition };

/** A seed block in force for `period`, as the event that scheduled it said. */
export interface ScheduledSeed {
  source: SeedSource;
  period: bigint;
  seedBlock: bigint;
  at: ChainPosition;
  /** Length of the active list when the seed was scheduled (the contract's `challengeable`). */
  challengeable: number;
}

/** A provider's active deal ids with the contract's O(1) push and swap-remove. */
export class ActiveDealList {
  private readonly ids: bigint[] = [];
  private readonly positions = new Map<bigint, number>();

  get length(): number {
    return this.ids.length;
  }

  /** The id at `position` (must be < length). */
  at(position: number): bigint {
    const id = this.ids[position];
    if (id === undefined) {
      throw new StrataError("INVALID_ARGUMENT", `position ${position} is outside the list of ${this.length}`);
    }
    return id;
  }

  has(id: bigint): boolean {
    return this.positions.has(id);
  }

  push(id: bigint): void {
    if (this.positions.has(id)) {
      throw new StrataError("WORKER_DB_ERROR", `deal ${id} was published twice`);
    }
    this.positions.set(id, this.ids.length);
    this.ids.push(id);
  }

  /** Remove `id` by moving the last id into its position; returns the moved id (undefined if it was last). */
  remove(id: bigint): bigint | undefined {
    const position = this.positions.get(id);
    if (position === undefined) {
      throw new StrataError("WORKER_DB_ERROR", `deal ${id} ended but is not in the active list`);
    }
    const last = this.ids.pop();
    this.positions.delete(id);
    if (last === undefined || last === id) return undefined;
    this.ids[position] = last;
    this.positions.set(last, position);
    return last;
  }

  /** A copy of the ids in list order. */
  toArray(): bigint[] {
    return [...this.ids];
  }
}

/** The provider's proving state just before a chain position. */
export interface ProvingSnapshot {
  /** Active deal ids in list order. */
  list: bigint[];
  /** The latest seed scheduled before the position (null if none was seen). */
  seed: ScheduledSeed | null;
}

/**
 * Replay `events` (one provider's, any order: they are sorted here) that come strictly before `before`.
 * Throws WORKER_DB_ERROR when the events cannot come from the contract (a deal published twice or
 * ended while not active): the index is incomplete or wrong, and nothing derived from it can be trusted.
 */
export function provingStateAt(events: readonly ProvingEvent[], before: ChainPosition): ProvingSnapshot {
  const list = new ActiveDealList();
  let seed: ScheduledSeed | null = null;
  const ordered = [...events].sort((a, b) => comparePositions(a.at, b.at));
  for (const event of ordered) {
    if (comparePositions(event.at, before) >= 0) break;
    switch (event.kind) {
      case "dealPublished":
        list.push(event.dealId);
        break;
      case "dealEnded":
        list.remove(event.dealId);
        break;
      case "seedScheduled":
        seed = {
          source: event.source,
          period: event.period,
          seedBlock: event.seedBlock,
          at: event.at,
          challengeable: list.length,
        };
        break;
    }
  }
  return { list: list.toArray(), seed };
}
