// Replays the market's data-set events into each provider's size classes and slots (docs/SPEC.md, "Proofs";
// design §3-§4), with the same copy-on-write words as the market, so that the frozen state of a provider's
// current period — the input of the challenge draw — is known off chain without reading contract storage.
//
// The slot algorithm (the market's, step for step): a data set with span s > 0 is in draw class k = drawClassOf(s)
// (size class ceil(log2 s), its eighth); adding it appends a slot to its draw class (count_k += 1); removing it moves
// the draw class's last slot into its hole and decrements count_k; a span change that changes k is a removal from the
// old draw class then an append to the new one.
// Every word written (count_k, slot entries, the data set's span and root) is versioned by the provider's
// nextPeriod N at the time of the change; the change's effectivePeriod is N + 1.
import { StrataError } from "../errors.js";
import { drawClassOf, type FrozenDataSet, type FrozenProviderState } from "./draw.js";
import { EMPTY_DATA_SET_ROOT } from "./tree.js";
import { VersionedWord, type StoredWord } from "./versionedWord.js";

/** A data set was created for `provider` (no state yet: span 0). */
export interface DataSetCreatedEvent {
  readonly kind: "created";
  readonly dataSetId: bigint;
  readonly provider: string;
}

/** A signed state took effect from `effectivePeriod` (DataSetUpdated; creation with a state emits one too). */
export interface DataSetUpdatedEvent {
  readonly kind: "updated";
  readonly dataSetId: bigint;
  readonly version: bigint;
  readonly root: string;
  readonly span: bigint;
  /** The provider's nextPeriod at the change, plus one. */
  readonly effectivePeriod: bigint;
}

/** The data set stops being challengeable from `effectivePeriod` (it leaves its class). */
export interface DataSetEndedEvent {
  readonly kind: "ended";
  readonly dataSetId: bigint;
  /** The provider's nextPeriod when the market removed it from its class, plus one. */
  readonly effectivePeriod: bigint;
}

/** The provider's nextPeriod moved (ProofSubmitted(period) → period + 1; a missed-proof report → its new N). */
export interface ProviderPeriodAdvancedEvent {
  readonly kind: "periodAdvanced";
  readonly provider: string;
  readonly nextPeriod: bigint;
}

/** The events the replay consumes, in chain order. Class changes are derived from `updated`, not read. */
export type DataSetEvent =
  DataSetCreatedEvent | DataSetUpdatedEvent | DataSetEndedEvent | ProviderPeriodAdvancedEvent;

/** The current (latest written) view of one data set. */
export interface ReplayedDataSet {
  readonly dataSetId: bigint;
  readonly provider: string;
  readonly version: bigint;
  readonly span: bigint;
  readonly root: string;
  /** Current size class, undefined when empty or ended. */
  readonly sizeClass: number | undefined;
  /** Current draw class (`sizeClass << 3 | eighth`), undefined when empty or ended. */
  readonly drawClass: number | undefined;
  /** Current slot in that draw class. */
  readonly slot: number | undefined;
  readonly ended: boolean;
}

interface DataSetRecord {
  readonly provider: string;
  version: bigint;
  readonly state: VersionedWord<FrozenDataSet>;
  drawClass: number | undefined;
  slot: number;
  ended: boolean;
}

interface ProviderRecord {
  nextPeriod: bigint;
  readonly counts: Map<number, VersionedWord<number>>;
  readonly slots: Map<number, VersionedWord<bigint>[]>;
}

/** The snapshot format: 2 since slots are per draw class (docs/SPEC.md §4.3); 1 held power-of-two classes. */
export const REPLAY_SNAPSHOT_FORMAT = 2;

/** A JSON-safe copy of the whole replay (bigints as decimal strings), for a daemon's database. */
export interface ReplaySnapshot {
  readonly format: typeof REPLAY_SNAPSHOT_FORMAT;
  readonly providers: readonly {
    readonly provider: string;
    readonly nextPeriod: string;
    readonly classes: readonly {
      readonly drawClass: number;
      readonly count: JsonWord<number>;
      readonly slots: readonly JsonWord<string>[];
    }[];
  }[];
  readonly dataSets: readonly {
    readonly dataSetId: string;
    readonly provider: string;
    readonly version: string;
    readonly state: JsonWord<{ readonly span: string; readonly root: string }>;
    readonly drawClass: number | null;
    readonly slot: number;
    readonly ended: boolean;
  }[];
}

/** A versioned word in a snapshot. */
export interface JsonWord<T> {
  readonly cur: T;
  readonly prev: T;
  readonly writtenAt: string;
}

const EMPTY_STATE: FrozenDataSet = { span: 0n, root: EMPTY_DATA_SET_ROOT };

/** The replay state machine: feed it every event in chain order with `apply`, read frozen states for the draw. */
export class DataSetReplay {
  private readonly providers = new Map<string, ProviderRecord>();
  private readonly dataSets = new Map<bigint, DataSetRecord>();

  /** Apply one event (chain order). */
  apply(event: DataSetEvent): void {
    switch (event.kind) {
      case "created":
        this.create(event);
        return;
      case "updated":
        this.update(event);
        return;
      case "ended":
        this.end(event);
        return;
      case "periodAdvanced":
        this.advance(event.provider, event.nextPeriod);
        return;
    }
  }

  /** The provider's nextPeriod as last seen (0 before any event). */
  nextPeriod(provider: string): bigint {
    return this.providers.get(key(provider))?.nextPeriod ?? 0n;
  }

  /**
   * What `provider` must prove for `period` (default: its current nextPeriod): per class the frozen slot array, and
   * each slotted data set's frozen span and root. `period` must not be older than the last change (one level of
   * history); read it when the period is current, e.g. before applying the ProofSubmitted event that closes it.
   */
  frozenState(provider: string, period: bigint = this.nextPeriod(provider)): FrozenProviderState {
    const record = this.providers.get(key(provider));
    const classes = new Map<number, readonly bigint[]>();
    const dataSets = new Map<bigint, FrozenDataSet>();
    if (record === undefined) return { classes, dataSets };
    for (const [c, count] of record.counts) {
      const n = count.frozen(period);
      if (n === 0) continue;
      const words = record.slots.get(c) ?? [];
      const ids: bigint[] = [];
      for (let slot = 0; slot < n; slot++) {
        const word = words[slot];
        if (word === undefined)
          throw new StrataError("DATA_SET_EVENT_OUT_OF_ORDER", `class ${c} lost slot ${slot}`);
        const id = word.frozen(period);
        ids.push(id);
        dataSets.set(id, this.record(id).state.frozen(period));
      }
      classes.set(c, ids);
    }
    return { classes, dataSets };
  }

  /** The current view of a data set (DATA_SET_NOT_FOUND when no `created` event named it). */
  dataSet(dataSetId: bigint): ReplayedDataSet {
    const record = this.record(dataSetId);
    const state = record.state.current;
    return {
      dataSetId,
      provider: record.provider,
      version: record.version,
      span: state.span,
      root: state.root,
      sizeClass: record.drawClass === undefined ? undefined : record.drawClass >> 3,
      drawClass: record.drawClass,
      slot: record.drawClass === undefined ? undefined : record.slot,
      ended: record.ended,
    };
  }

  /** Ids of every data set of `provider` the replay knows (ended ones included), ascending. */
  dataSetsOf(provider: string): bigint[] {
    const wanted = key(provider);
    return [...this.dataSets.entries()]
      .filter(([, record]) => record.provider === wanted)
      .map(([id]) => id)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** A JSON-safe copy of the replay; `DataSetReplay.fromSnapshot` restores it exactly. */
  toSnapshot(): ReplaySnapshot {
    return {
      format: REPLAY_SNAPSHOT_FORMAT,
      providers: [...this.providers.entries()].map(([provider, record]) => ({
        provider,
        nextPeriod: record.nextPeriod.toString(),
        classes: [...record.counts.entries()].map(([c, count]) => ({
          drawClass: c,
          count: toJson(count.toStored(), (value) => value),
          slots: (record.slots.get(c) ?? []).map((word) => toJson(word.toStored(), (id) => id.toString())),
        })),
      })),
      dataSets: [...this.dataSets.entries()].map(([dataSetId, record]) => ({
        dataSetId: dataSetId.toString(),
        provider: record.provider,
        version: record.version.toString(),
        state: toJson(record.state.toStored(), (state) => ({
          span: state.span.toString(),
          root: state.root,
        })),
        drawClass: record.drawClass ?? null,
        slot: record.slot,
        ended: record.ended,
      })),
    };
  }

  /** Restore a replay saved with `toSnapshot` (INVALID_ARGUMENT for an unknown format). */
  static fromSnapshot(snapshot: ReplaySnapshot): DataSetReplay {
    if ((snapshot.format as number) !== REPLAY_SNAPSHOT_FORMAT) {
      throw new StrataError("INVALID_ARGUMENT", `unknown replay snapshot format ${snapshot.format}`);
    }
    const replay = new DataSetReplay();
    for (const provider of snapshot.providers) {
      const record = replay.providerRecord(provider.provider);
      record.nextPeriod = BigInt(provider.nextPeriod);
      for (const entry of provider.classes) {
        record.counts.set(entry.drawClass, VersionedWord.fromStored(fromJson(entry.count, (value) => value)));
        record.slots.set(
          entry.drawClass,
          entry.slots.map((word) => VersionedWord.fromStored(fromJson(word, (id) => BigInt(id)))),
        );
      }
    }
    for (const entry of snapshot.dataSets) {
      replay.dataSets.set(BigInt(entry.dataSetId), {
        provider: key(entry.provider),
        version: BigInt(entry.version),
        state: VersionedWord.fromStored(
          fromJson(entry.state, (state) => ({ span: BigInt(state.span), root: state.root })),
        ),
        drawClass: entry.drawClass ?? undefined,
        slot: entry.slot,
        ended: entry.ended,
      });
    }
    return replay;
  }

  private create(event: DataSetCreatedEvent): void {
    if (this.dataSets.has(event.dataSetId)) {
      throw new StrataError("DATA_SET_EVENT_OUT_OF_ORDER", `data set ${event.dataSetId} created twice`);
    }
    this.providerRecord(event.provider);
    this.dataSets.set(event.dataSetId, {
      provider: key(event.provider),
      version: 0n,
      state: new VersionedWord(EMPTY_STATE),
      drawClass: undefined,
      slot: 0,
      ended: false,
    });
  }

  private update(event: DataSetUpdatedEvent): void {
    const record = this.record(event.dataSetId);
    if (record.ended)
      throw new StrataError("DATA_SET_EVENT_OUT_OF_ORDER", `data set ${event.dataSetId} has ended`);
    // The market removes an ending data set from its class with a DataSetUpdated to span 0 at its current version.
    const removal = event.span === 0n && event.version === record.version;
    if (event.version <= record.version && !removal) {
      throw new StrataError(
        "DATA_SET_EVENT_OUT_OF_ORDER",
        `version ${event.version} of data set ${event.dataSetId}`,
        {
          details: `stored version ${record.version}`,
        },
      );
    }
    const period = this.changePeriod(record.provider, event.effectivePeriod);
    const provider = this.providerRecord(record.provider);
    const newClass = drawClassOf(event.span);
    if (newClass !== record.drawClass) {
      this.removeFromClass(provider, record, period);
      if (newClass !== undefined) this.appendToClass(provider, record, event.dataSetId, newClass, period);
    }
    record.state.write({ span: event.span, root: event.root }, period);
    record.version = event.version;
  }

  private end(event: DataSetEndedEvent): void {
    const record = this.record(event.dataSetId);
    if (record.ended) return;
    const period = this.changePeriod(record.provider, event.effectivePeriod);
    this.removeFromClass(this.providerRecord(record.provider), record, period);
    record.state.write(EMPTY_STATE, period);
    record.ended = true;
  }

  private advance(provider: string, nextPeriod: bigint): void {
    const record = this.providerRecord(provider);
    if (nextPeriod < record.nextPeriod) {
      throw new StrataError(
        "DATA_SET_EVENT_OUT_OF_ORDER",
        `nextPeriod ${nextPeriod} after ${record.nextPeriod}`,
      );
    }
    record.nextPeriod = nextPeriod;
  }

  /**
   * The tag a change with `effectivePeriod` was written at (effectivePeriod − 1): N, or N − 1 in the epoch of a
   * restart before its seed block (the change applies to N itself); nextPeriod never goes back.
   */
  private changePeriod(provider: string, effectivePeriod: bigint): bigint {
    const period = effectivePeriod - 1n;
    const next = this.nextPeriod(provider);
    if (period > next) this.advance(provider, period);
    else if (period + 1n < next) {
      throw new StrataError(
        "DATA_SET_EVENT_OUT_OF_ORDER",
        `a change effective from ${effectivePeriod} after ${next}`,
      );
    }
    return period;
  }

  private appendToClass(
    provider: ProviderRecord,
    record: DataSetRecord,
    dataSetId: bigint,
    c: number,
    period: bigint,
  ): void {
    const count = countWord(provider, c);
    const slot = count.current;
    const words = slotWords(provider, c);
    const word = (words[slot] ??= new VersionedWord(0n));
    word.write(dataSetId, period);
    count.write(slot + 1, period);
    record.drawClass = c;
    record.slot = slot;
  }

  private removeFromClass(provider: ProviderRecord, record: DataSetRecord, period: bigint): void {
    const c = record.drawClass;
    if (c === undefined) return;
    const count = countWord(provider, c);
    const words = slotWords(provider, c);
    const last = count.current - 1;
    if (record.slot !== last) {
      const moved = words[last]?.current;
      const hole = words[record.slot];
      if (moved === undefined || hole === undefined) {
        throw new StrataError("DATA_SET_EVENT_OUT_OF_ORDER", `draw class ${c} has no slot ${last}`);
      }
      hole.write(moved, period);
      this.record(moved).slot = record.slot;
    }
    count.write(last, period);
    record.drawClass = undefined;
  }

  private record(dataSetId: bigint): DataSetRecord {
    const record = this.dataSets.get(dataSetId);
    if (record === undefined) throw new StrataError("DATA_SET_NOT_FOUND", `data set ${dataSetId} is unknown`);
    return record;
  }

  private providerRecord(provider: string): ProviderRecord {
    const id = key(provider);
    let record = this.providers.get(id);
    if (record === undefined) {
      record = { nextPeriod: 0n, counts: new Map(), slots: new Map() };
      this.providers.set(id, record);
    }
    return record;
  }
}

function countWord(provider: ProviderRecord, c: number): VersionedWord<number> {
  let word = provider.counts.get(c);
  if (word === undefined) {
    word = new VersionedWord(0);
    provider.counts.set(c, word);
  }
  return word;
}

function slotWords(provider: ProviderRecord, c: number): VersionedWord<bigint>[] {
  let words = provider.slots.get(c);
  if (words === undefined) {
    words = [];
    provider.slots.set(c, words);
  }
  return words;
}

function toJson<T, J>(word: StoredWord<T>, convert: (value: T) => J): JsonWord<J> {
  return { cur: convert(word.cur), prev: convert(word.prev), writtenAt: word.writtenAt.toString() };
}

function fromJson<J, T>(word: JsonWord<J>, convert: (value: J) => T): StoredWord<T> {
  return { cur: convert(word.cur), prev: convert(word.prev), writtenAt: BigInt(word.writtenAt) };
}

function key(address: string): string {
  return address.toLowerCase();
}
