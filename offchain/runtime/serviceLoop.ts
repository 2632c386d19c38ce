/**
 * The service loop of a long-running program (provider agent, worker): ticks that never overlap, run every
 * `intervalMs` and on each new block (at most one every `blockTickGapMs`: on a chain with a block every 250 ms a
 * tick per block would spend a core and the RPC budget on reads that find nothing new); after a failed tick the pause grows exponentially (with jitter) up to
 * `backoff.maxMs`, and new blocks do not cut it short. `wake()` asks for a tick now (work arrived that should not
 * wait for the interval): one already running is followed at once by another, so work queued while it ran is not
 * left for the next interval. `stop()` lets the running tick finish and schedules nothing more. Timers, the block
 * source and the random source are passed in, so tests drive it step by step.
 */
import { StrataError } from "../sdk/errors.js";
import { backoffMs } from "./backoff.js";

/** The timer functions the loop uses (default: the global ones). */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Where new blocks come from (an ethers Provider fits). */
export interface BlockSource {
  on(event: "block", listener: () => void): Promise<unknown>;
  off(event: "block", listener: () => void): Promise<unknown>;
}

export interface ServiceLoopOptions<R> {
  /** One tick's work. `isStopping()` turns true once `stop()` was called: long ticks check it between steps. */
  runTick: (isStopping: () => boolean) => Promise<R>;
  /** What `tick()` returns once the loop is stopped (nothing ran). */
  idle: () => R;
  /** Pause between ticks while they succeed. */
  intervalMs: number;
  /** Whether a tick's report counts as failed (default: never); a throwing tick always does. */
  failed?: (report: R) => boolean;
  /** Pause after consecutive failures: backoffMs(failures, baseMs, maxMs). Default: base = intervalMs, max 30 s. */
  backoff?: { baseMs: number; maxMs: number };
  /** A tick also runs on every new block (unless one is running or the loop is backing off). */
  blocks?: BlockSource;
  /**
   * A block starts a tick no sooner than this long after the previous tick started (default 0: at once); a block
   * that comes sooner brings the tick forward to that time.
   */
  blockTickGapMs?: number;
  /** Clock for `blockTickGapMs` (default Date.now). */
  now?: () => number;
  timers?: Timers;
  random?: () => number;
  /** Told about a tick that threw (the loop carries on). */
  onTickError?: (error: unknown) => void;
}

export interface ServiceLoop<R> {
  /** Run one tick now (waits for a running tick first: ticks never overlap). */
  tick(): Promise<R>;
  /**
   * Ask for a tick as soon as possible instead of at the next interval: at once when idle, right after the running
   * tick otherwise (everything queued meanwhile goes into that one tick). Like a new block, it does not cut a
   * failure backoff short. Does nothing before `start()` or after `stop()`.
   */
  wake(): void;
  /** Start ticking: a first tick right away, then on schedule. SERVICE_STOPPED after `stop()`. */
  start(): Promise<void>;
  /** Stop scheduling, unsubscribe from blocks and wait for the running tick. Idempotent. */
  stop(): Promise<void>;
  /** The pause before the next scheduled tick, given the failures so far. */
  nextDelayMs(): number;
  readonly stopped: boolean;
  readonly started: boolean;
  /** Failed ticks in a row (0 after a success). */
  readonly failures: number;
}

/**
 * The agent's and the worker's `blockTickGapMs` (capped by their interval): on a chain with a block every 250 ms
 * (local nodes, some rollups) they tick at most once a second instead of on every block.
 */
export const BLOCK_TICK_GAP_MS = 1_000;

/** Longest pause between ticks while they keep failing, unless `backoff.maxMs` says otherwise. */
export const MAX_FAILURE_BACKOFF_MS = 30_000;

const globalTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout | undefined);
  },
};

/** SERVICE_STOPPED: `what` ("the agent") cannot start again once stopped. */
export function serviceStopped(what: string): StrataError {
  return new StrataError("SERVICE_STOPPED", `${what} was stopped`, {
    details: "a stopped service is not restarted: create a new one",
  });
}

export function createServiceLoop<R>(options: ServiceLoopOptions<R>): ServiceLoop<R> {
  const timers = options.timers ?? globalTimers;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const blockTickGapMs = options.blockTickGapMs ?? 0;
  /** When the last tick started, and when the scheduled one is due (undefined: none scheduled). */
  let lastTickAt = Number.NEGATIVE_INFINITY;
  let dueAt: number | undefined;
  const backoff = options.backoff ?? { baseMs: options.intervalMs, maxMs: MAX_FAILURE_BACKOFF_MS };
  let running: Promise<R> | undefined;
  let timer: unknown;
  let stopped = false;
  let started = false;
  let stopping: Promise<void> | undefined;
  let failures = 0;
  /** A wake came while a tick ran: the next one follows without the interval's pause. */
  let wokenWhileRunning = false;

  const runOnce = async (): Promise<R> => {
    try {
      const report = await options.runTick(() => stopped);
      failures = options.failed?.(report) === true ? failures + 1 : 0;
      return report;
    } catch (error) {
      failures++;
      throw error;
    }
  };

  /** One tick after any running one; `scheduled` when the timer started it (its caller schedules the next). */
  const runTick = async (scheduled: boolean): Promise<R> => {
    while (running) await running.catch(() => undefined);
    if (stopped) return options.idle();
    lastTickAt = now();
    running = runOnce();
    try {
      return await running;
    } finally {
      running = undefined;
      // A wake during a tick someone called by hand: the timer's tick is not coming soon, so schedule one now.
      if (!scheduled && wokenWhileRunning) {
        wokenWhileRunning = false;
        if (failures === 0) schedule(0);
      }
    }
  };

  const tick = (): Promise<R> => runTick(false);

  const nextDelayMs = (): number =>
    failures === 0 ? options.intervalMs : backoffMs(failures, backoff.baseMs, backoff.maxMs, random);

  const schedule = (delay: number): void => {
    if (stopped) return;
    timers.clearTimeout(timer);
    dueAt = now() + delay;
    timer = timers.setTimeout(() => {
      dueAt = undefined;
      void runTick(true)
        .catch((error: unknown) => {
          options.onTickError?.(error);
        })
        .finally(() => {
          const woken = wokenWhileRunning && failures === 0;
          wokenWhileRunning = false;
          schedule(woken ? 0 : nextDelayMs());
        });
    }, delay);
  };

  const onBlock = (): void => {
    if (running || failures > 0) return;
    const at = Math.max(now(), lastTickAt + blockTickGapMs);
    if (dueAt === undefined || at < dueAt) schedule(at - now());
  };

  const wake = (): void => {
    if (stopped || !started || failures > 0) return;
    if (running) wokenWhileRunning = true;
    else schedule(0);
  };

  return {
    tick,
    wake,
    nextDelayMs,
    get stopped() {
      return stopped;
    },
    get started() {
      return started;
    },
    get failures() {
      return failures;
    },
    async start() {
      if (stopped) throw serviceStopped("the service");
      if (started) return;
      started = true;
      await options.blocks?.on("block", onBlock);
      schedule(0);
    },
    stop() {
      stopping ??= (async () => {
        stopped = true;
        timers.clearTimeout(timer);
        if (started) await Promise.resolve(options.blocks?.off("block", onBlock)).catch(() => undefined);
        if (running) await running.catch(() => undefined);
      })();
      return stopping;
    },
  };
}
