import { expect } from "chai";
import { keccak256, toBeHex } from "ethers";
import {
  drawChallenges,
  type FrozenDataSet,
  type FrozenProviderState,
} from "../../offchain/sdk/datasets/draw.js";
import { drawClassOf } from "../../offchain/sdk/datasets/draw.js";
import { DataSetReplay, type DataSetEvent, type ReplaySnapshot } from "../../offchain/sdk/datasets/replay.js";
import { VersionedWord } from "../../offchain/sdk/datasets/versionedWord.js";
import { expectStrataError } from "./helpers/assertions.js";
import { SeededRandom } from "./helpers/seededRandom.js";

const ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

function rootOf(value: number): string {
  return keccak256(toBeHex(value, 32));
}

/** The slot algorithm without versioning; its state when a period becomes current is what that period freezes. */
class PlainClasses {
  readonly classes = new Map<string, Map<number, bigint[]>>();
  readonly dataSets = new Map<
    bigint,
    { provider: string; span: bigint; root: string; c: number | undefined }
  >();

  create(id: bigint, provider: string): void {
    this.dataSets.set(id, { provider, span: 0n, root: "0x" + "00".repeat(32), c: undefined });
  }

  update(id: bigint, span: bigint, root: string): void {
    const record = this.dataSets.get(id);
    if (record === undefined) throw new Error("unknown");
    const c = drawClassOf(span);
    if (c !== record.c) {
      this.remove(id);
      if (c !== undefined) this.slots(record.provider, c).push(id);
      record.c = c;
    }
    record.span = span;
    record.root = root;
  }

  end(id: bigint): void {
    this.remove(id);
    this.update(id, 0n, "0x" + "00".repeat(32));
  }

  snapshot(provider: string): FrozenProviderState {
    const classes = new Map<number, readonly bigint[]>();
    const dataSets = new Map<bigint, FrozenDataSet>();
    for (const [c, ids] of this.classes.get(provider) ?? []) {
      if (ids.length === 0) continue;
      classes.set(c, [...ids]);
      for (const id of ids) {
        const record = this.dataSets.get(id);
        if (record !== undefined) dataSets.set(id, { span: record.span, root: record.root });
      }
    }
    return { classes, dataSets };
  }

  private remove(id: bigint): void {
    const record = this.dataSets.get(id);
    if (record?.c === undefined) return;
    const slots = this.slots(record.provider, record.c);
    const hole = slots.indexOf(id);
    const last = slots.pop();
    if (last !== undefined && last !== id) slots[hole] = last;
    record.c = undefined;
  }

  private slots(provider: string, c: number): bigint[] {
    let byClass = this.classes.get(provider);
    if (byClass === undefined) this.classes.set(provider, (byClass = new Map<number, bigint[]>()));
    let slots = byClass.get(c);
    if (slots === undefined) byClass.set(c, (slots = []));
    return slots;
  }
}

describe("data-set replay (offchain/sdk/datasets/replay.ts, versionedWord.ts)", function () {
  it("versioned words: the first write of an epoch keeps the frozen value, later ones only replace the current", function () {
    const word = new VersionedWord(0);
    word.write(1, 5n);
    expect([word.current, word.frozen(5n), word.frozen(6n)]).to.deep.equal([1, 0, 1]);
    word.write(2, 5n);
    expect([word.current, word.frozen(5n), word.frozen(6n)]).to.deep.equal([2, 0, 2]);
    word.write(3, 6n);
    expect([word.current, word.frozen(6n), word.frozen(7n), word.writtenAt]).to.deep.equal([3, 2, 3, 6n]);
    expectStrataError(() => {
      word.write(4, 5n);
    }, "DATA_SET_EVENT_OUT_OF_ORDER");
    expectStrataError(() => word.frozen(5n), "DATA_SET_EVENT_OUT_OF_ORDER");
  });

  it("appends to a draw class, swaps the last slot into a hole and moves a data set whose draw class changes", function () {
    const replay = new DataSetReplay();
    const events: DataSetEvent[] = [
      { kind: "periodAdvanced", provider: ALICE, nextPeriod: 1n },
      ...[1n, 2n, 3n, 4n].map((id): DataSetEvent => ({ kind: "created", dataSetId: id, provider: ALICE })),
      // Spans 17 and 18: size class 5, its first eighth (draw class 40, capacity 18).
      { kind: "updated", dataSetId: 1n, version: 1n, root: rootOf(1), span: 17n, effectivePeriod: 2n },
      { kind: "updated", dataSetId: 2n, version: 1n, root: rootOf(2), span: 18n, effectivePeriod: 2n },
      { kind: "updated", dataSetId: 3n, version: 1n, root: rootOf(3), span: 17n, effectivePeriod: 2n },
      { kind: "updated", dataSetId: 4n, version: 1n, root: rootOf(4), span: 1n, effectivePeriod: 2n },
    ];
    events.forEach((event) => {
      replay.apply(event);
    });
    expect(replay.frozenState(ALICE).classes.size).to.equal(0); // everything takes effect from period 2
    replay.apply({ kind: "periodAdvanced", provider: ALICE, nextPeriod: 2n });
    expect(replay.frozenState(ALICE).classes).to.deep.equal(
      new Map([
        [40, [1n, 2n, 3n]],
        [0, [4n]],
      ]),
    );
    replay.apply({ kind: "ended", dataSetId: 1n, effectivePeriod: 3n }); // 3 moves into slot 0
    replay.apply({
      kind: "updated",
      dataSetId: 2n,
      version: 2n,
      root: rootOf(5),
      span: 9n,
      effectivePeriod: 3n,
    });
    replay.apply({
      kind: "updated",
      dataSetId: 4n,
      version: 2n,
      root: rootOf(6),
      span: 2n,
      effectivePeriod: 3n,
    });
    expect(replay.dataSet(3n)).to.include({ sizeClass: 5, drawClass: 40, slot: 0 });
    expect(replay.dataSet(2n)).to.include({ sizeClass: 4, drawClass: 32, slot: 0, span: 9n, version: 2n });
    expect(replay.dataSet(1n)).to.include({
      ended: true,
      sizeClass: undefined,
      drawClass: undefined,
      span: 0n,
    });
    // Period 2 still sees the state frozen when it became current.
    const frozen = replay.frozenState(ALICE);
    expect(frozen.classes).to.deep.equal(
      new Map([
        [40, [1n, 2n, 3n]],
        [0, [4n]],
      ]),
    );
    expect(frozen.dataSets.get(2n)).to.deep.equal({ span: 18n, root: rootOf(2) });
    replay.apply({ kind: "periodAdvanced", provider: ALICE, nextPeriod: 3n });
    expect(replay.frozenState(ALICE).classes).to.deep.equal(
      new Map([
        [40, [3n]],
        [32, [2n]],
        [8, [4n]],
      ]),
    );
    expect(replay.dataSetsOf(ALICE)).to.deep.equal([1n, 2n, 3n, 4n]);
    expect(replay.dataSetsOf(BOB)).to.deep.equal([]);
  });

  it("freezes exactly the state each period had when it became current (random events, two providers, restarts)", function () {
    const random = new SeededRandom(17);
    let replay = new DataSetReplay();
    const plain = new PlainClasses();
    const providers = [ALICE, BOB];
    const next = new Map(providers.map((provider) => [provider, 1n]));
    const frozenAt = new Map(providers.map((provider) => [provider, plain.snapshot(provider)]));
    for (const provider of providers) replay.apply({ kind: "periodAdvanced", provider, nextPeriod: 1n });
    const versions = new Map<bigint, bigint>();
    const ended = new Set<bigint>();
    let nextId = 1n;
    for (let step = 0; step < 1500; step++) {
      const provider = random.pick(providers);
      const period = next.get(provider) ?? 0n;
      const live = [...versions.keys()].filter(
        (id) => !ended.has(id) && plain.dataSets.get(id)?.provider === provider,
      );
      const roll = random.next();
      if (roll < 0.15 || live.length === 0) {
        const id = nextId++;
        replay.apply({ kind: "created", dataSetId: id, provider });
        plain.create(id, provider);
        versions.set(id, 0n);
      } else if (roll < 0.65) {
        const id = random.pick(live);
        const version = (versions.get(id) ?? 0n) + 1n;
        versions.set(id, version);
        const span = random.next() < 0.1 ? 0n : BigInt(random.int(1, 300));
        const root = rootOf(step);
        replay.apply({ kind: "updated", dataSetId: id, version, root, span, effectivePeriod: period + 1n });
        plain.update(id, span, root);
      } else if (roll < 0.75) {
        const id = random.pick(live);
        ended.add(id);
        replay.apply({ kind: "ended", dataSetId: id, effectivePeriod: period + 1n });
        plain.end(id);
      } else {
        next.set(provider, period + 1n);
        replay.apply({ kind: "periodAdvanced", provider, nextPeriod: period + 1n });
        frozenAt.set(provider, plain.snapshot(provider));
      }
      if (step % 100 === 99) {
        // A daemon restart: the replay continues from its saved JSON exactly.
        const saved = JSON.stringify(replay.toSnapshot());
        replay = DataSetReplay.fromSnapshot(JSON.parse(saved) as ReplaySnapshot);
        expect(JSON.stringify(replay.toSnapshot())).to.equal(saved);
      }
      const check = random.pick(providers);
      expect(replay.frozenState(check)).to.deep.equal(frozenAt.get(check), `step ${step}`);
    }
  });

  it("keeps the draw of a frozen period when the provider ends the drawn data set and opens another", function () {
    const replay = new DataSetReplay();
    replay.apply({ kind: "periodAdvanced", provider: ALICE, nextPeriod: 4n });
    for (const id of [1n, 2n]) {
      replay.apply({ kind: "created", dataSetId: id, provider: ALICE });
      replay.apply({
        kind: "updated",
        dataSetId: id,
        version: 1n,
        root: rootOf(Number(id)),
        span: 1000n,
        effectivePeriod: 5n,
      });
    }
    replay.apply({ kind: "periodAdvanced", provider: ALICE, nextPeriod: 5n });
    const parameters = { seed: rootOf(99), provider: ALICE, period: 5n, challengeCount: 4 };
    const before = drawChallenges(parameters, replay.frozenState(ALICE));
    expect(before).to.have.length(4);
    // After the seed: end every drawn data set, open a new one, grow the other: nothing moves for period 5.
    for (const id of new Set(before.map((challenge) => challenge.dataSetId))) {
      replay.apply({ kind: "ended", dataSetId: id, effectivePeriod: 6n });
    }
    replay.apply({ kind: "created", dataSetId: 3n, provider: ALICE });
    replay.apply({
      kind: "updated",
      dataSetId: 3n,
      version: 1n,
      root: rootOf(3),
      span: 4096n,
      effectivePeriod: 6n,
    });
    expect(drawChallenges(parameters, replay.frozenState(ALICE))).to.deep.equal(before);
    // The next period sees the changes.
    replay.apply({ kind: "periodAdvanced", provider: ALICE, nextPeriod: 6n });
    const after = drawChallenges({ ...parameters, period: 6n }, replay.frozenState(ALICE));
    expect(after.every((challenge) => challenge.dataSetId !== before[0]?.dataSetId)).to.be.true;
  });

  it("advances the period implicitly when a change is written ahead (missed periods recorded first)", function () {
    const replay = new DataSetReplay();
    replay.apply({ kind: "created", dataSetId: 1n, provider: ALICE });
    replay.apply({
      kind: "updated",
      dataSetId: 1n,
      version: 1n,
      root: rootOf(1),
      span: 4n,
      effectivePeriod: 8n,
    });
    expect(replay.nextPeriod(ALICE)).to.equal(7n);
    expect(replay.frozenState(ALICE).classes.size).to.equal(0);
    expect(replay.frozenState(ALICE, 8n).classes).to.deep.equal(new Map([[17, [1n]]])); // span 4: class 2, eighth 1
  });

  it("refuses unknown data sets, stale versions, changes after the end and periods going back", function () {
    const replay = new DataSetReplay();
    expectStrataError(() => {
      replay.apply({
        kind: "updated",
        dataSetId: 9n,
        version: 1n,
        root: rootOf(1),
        span: 1n,
        effectivePeriod: 1n,
      });
    }, "DATA_SET_NOT_FOUND");
    replay.apply({ kind: "created", dataSetId: 1n, provider: ALICE });
    expectStrataError(() => {
      replay.apply({ kind: "created", dataSetId: 1n, provider: ALICE });
    }, "DATA_SET_EVENT_OUT_OF_ORDER");
    replay.apply({
      kind: "updated",
      dataSetId: 1n,
      version: 2n,
      root: rootOf(1),
      span: 1n,
      effectivePeriod: 3n,
    });
    expectStrataError(() => {
      replay.apply({
        kind: "updated",
        dataSetId: 1n,
        version: 2n,
        root: rootOf(2),
        span: 2n,
        effectivePeriod: 3n,
      });
    }, "DATA_SET_EVENT_OUT_OF_ORDER");
    expectStrataError(() => {
      replay.apply({ kind: "periodAdvanced", provider: ALICE, nextPeriod: 1n });
    }, "DATA_SET_EVENT_OUT_OF_ORDER");
    replay.apply({ kind: "ended", dataSetId: 1n, effectivePeriod: 3n });
    expectStrataError(() => {
      replay.apply({
        kind: "updated",
        dataSetId: 1n,
        version: 3n,
        root: rootOf(2),
        span: 2n,
        effectivePeriod: 3n,
      });
    }, "DATA_SET_EVENT_OUT_OF_ORDER");
    expectStrataError(() => replay.dataSet(2n), "DATA_SET_NOT_FOUND");
    expectStrataError(
      () => DataSetReplay.fromSnapshot({ ...replay.toSnapshot(), format: 1 } as unknown as ReplaySnapshot),
      "INVALID_ARGUMENT",
    );
  });
});
