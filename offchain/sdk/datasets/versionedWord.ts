// The copy-on-write word of the epoch rule (docs/SPEC.md, "Proofs"; design §3): every change made while a
// provider's nextPeriod is N takes effect from N + 1. One level of history suffices because N only advances by a
// proof or a missed-proof report, which closes the epoch.
import { StrataError } from "../errors.js";

/** The stored fields of a versioned word. */
export interface StoredWord<T> {
  readonly cur: T;
  readonly prev: T;
  readonly writtenAt: bigint;
}

/** `{cur, prev, writtenAt}` exactly as the market stores it. */
export class VersionedWord<T> {
  private cur: T;
  private prev: T;
  private writtenAtPeriod: bigint;

  /** A word that has never been written holds `initial` for every period. */
  constructor(initial: T) {
    this.cur = initial;
    this.prev = initial;
    this.writtenAtPeriod = -1n;
  }

  /** A word with the given stored fields (from `toStored`, e.g. after a restart). */
  static fromStored<T>(stored: StoredWord<T>): VersionedWord<T> {
    const word = new VersionedWord(stored.cur);
    word.prev = stored.prev;
    word.writtenAtPeriod = stored.writtenAt;
    return word;
  }

  /** The three stored fields, for persistence. */
  toStored(): StoredWord<T> {
    return { cur: this.cur, prev: this.prev, writtenAt: this.writtenAtPeriod };
  }

  /** The value after every write so far (what the next period will see). */
  get current(): T {
    return this.cur;
  }

  /** The provider's nextPeriod at the last write (-1 before any). */
  get writtenAt(): bigint {
    return this.writtenAtPeriod;
  }

  /**
   * Write `value` while the provider's nextPeriod is `period`: the first write of an epoch keeps the old value as
   * `prev`; later writes of the same epoch only replace `cur`. Writing for an older epoch is refused.
   */
  write(value: T, period: bigint): void {
    if (period < this.writtenAtPeriod) {
      throw new StrataError(
        "DATA_SET_EVENT_OUT_OF_ORDER",
        `write for period ${period} after one for ${this.writtenAtPeriod}`,
      );
    }
    if (period > this.writtenAtPeriod) {
      this.prev = this.cur;
      this.writtenAtPeriod = period;
    }
    this.cur = value;
  }

  /** The value frozen for proving `period`: `writtenAt == period ? prev : cur` (period >= writtenAt). */
  frozen(period: bigint): T {
    if (period < this.writtenAtPeriod) {
      throw new StrataError(
        "DATA_SET_EVENT_OUT_OF_ORDER",
        `period ${period} is older than the word's last write`,
        {
          details: `written at ${this.writtenAtPeriod}: one level of history only`,
        },
      );
    }
    return period === this.writtenAtPeriod ? this.prev : this.cur;
  }
}
