/**
 * The open leases with their rebuilt positions, kept in memory between ticks and refreshed incrementally:
 * after the index moves forward only the leases with new events are read again; after a rollback (or on
 * first use) all of them are. Memory is one record per open lease.
 */
import type { WorkerDb } from "./index.js";
import type { IndexedLease } from "./leaseQueries.js";

export class OpenLeaseBook {
  private readonly leases = new Map<bigint, IndexedLease>();
  /** The cursor the book reflects (null: not loaded). */
  private syncedTo: number | null = null;
  private rollbacks = -1;

  /** Bring the book up to the index and return the open leases, by id. */
  sync(db: WorkerDb): IndexedLease[] {
    const cursor = db.cursor();
    const rollbacks = db.rollbackCount();
    if (this.syncedTo === null || cursor === null || cursor < this.syncedTo || rollbacks !== this.rollbacks) {
      this.leases.clear();
      for (const lease of db.openLeases()) this.leases.set(lease.id, lease);
    } else if (cursor > this.syncedTo) {
      const changed = db.leaseIdsChangedSince(this.syncedTo);
      for (const id of changed) this.leases.delete(id);
      for (const lease of db.leasesByIds(changed)) {
        if (lease.closed === null) this.leases.set(lease.id, lease);
      }
    }
    this.syncedTo = cursor;
    this.rollbacks = rollbacks;
    return [...this.leases.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get size(): number {
    return this.leases.size;
  }
}
