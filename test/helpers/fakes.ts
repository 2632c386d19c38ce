/**
 * Hand-driven stand-ins shared by the tests of time- and block-driven code (the service loop, the agent's wake,
 * waiting block by block): timers that fire only when told, a chain whose blocks are mined by hand, and helpers to
 * let pending promise work run.
 */

/** Let queued promise callbacks and immediates run (`rounds` turns of the event loop). */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A promise the test resolves when it chooses. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Timers that fire only when the test says so, remembering each one's delay (fits `Timers` and `WaitTimers`). */
export class ManualTimers {
  private next = 1;
  readonly pending = new Map<number, { callback: () => void; ms: number }>();

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { callback, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === "number") this.pending.delete(handle);
  }

  /** The delays of the timers waiting to fire. */
  delays(): number[] {
    return [...this.pending.values()].map((t) => t.ms);
  }

  /** Fire the one pending timer and let what it starts settle. */
  async fire(): Promise<void> {
    const [entry] = [...this.pending.entries()];
    if (entry === undefined) throw new Error("no timer pending");
    this.pending.delete(entry[0]);
    entry[1].callback();
    await settle();
  }

  /** Fire every pending timer at once. */
  fireAll(): void {
    const timers = [...this.pending.values()];
    this.pending.clear();
    for (const { callback } of timers) callback();
  }
}

/** A chain whose blocks the test mines by hand (fits `BlockSource` and `BlockEvents`). */
export class ManualBlocks {
  readonly listeners = new Set<(blockNumber: number) => void>();
  number = 100;

  on(_event: "block", listener: (blockNumber: number) => void): Promise<this> {
    this.listeners.add(listener);
    return Promise.resolve(this);
  }

  off(_event: "block", listener: (blockNumber: number) => void): Promise<this> {
    this.listeners.delete(listener);
    return Promise.resolve(this);
  }

  /** Mine one block: every listener hears its number. */
  mine(): void {
    this.number++;
    for (const listener of [...this.listeners]) listener(this.number);
  }
}
