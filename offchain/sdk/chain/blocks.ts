/**
 * Waiting on the chain block by block instead of on a fixed poll: a condition is checked now and again as soon as a
 * new block arrives, so a wait ends with the block that satisfies it and reads the chain once per block.
 */

/**
 * New-block notifications. An ethers Provider fits: over HTTP it asks for the block number every `pollingInterval`
 * (connectChain sets a short one) and emits one event per new block; over a WebSocket the node pushes them.
 */
export interface BlockEvents {
  on(event: "block", listener: (blockNumber: number) => void): unknown;
  off(event: "block", listener: (blockNumber: number) => void): unknown;
}

/** The timer functions a wait uses (default: the global ones). */
export interface WaitTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface EachBlockOptions {
  /** Give up after this long (ms): the wait rejects with `onTimeout()`. */
  timeoutMs: number;
  onTimeout: () => Error;
  timers?: WaitTimers;
}

const globalTimers: WaitTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout | undefined);
  },
};

/**
 * Run `check` now and after every new block until it returns a value other than undefined (the wait resolves with
 * it) or throws (the wait rejects with that error). Checks never overlap: blocks that arrive while one runs are
 * answered by a single check right after it. After `timeoutMs` the wait rejects with `onTimeout()`. The block
 * listener and the timer are removed whatever the outcome, so nothing keeps the process alive afterwards.
 */
export function onEachBlock<T>(
  blocks: BlockEvents,
  check: () => Promise<T | undefined>,
  options: EachBlockOptions,
): Promise<T> {
  const timers = options.timers ?? globalTimers;
  return new Promise<T>((resolve, reject) => {
    let finished = false;
    let checking = false;
    let blockWhileChecking = false;
    const finish = (settle: () => void): void => {
      if (finished) return;
      finished = true;
      timers.clearTimeout(timer);
      void Promise.resolve(blocks.off("block", onBlock)).catch(() => undefined);
      settle();
    };
    const blockArrived = (): boolean => blockWhileChecking;
    const run = async (): Promise<void> => {
      checking = true;
      try {
        do {
          blockWhileChecking = false;
          const answer = await check();
          if (answer !== undefined) {
            finish(() => {
              resolve(answer);
            });
            return;
          }
          // Read through a call: the flag is set by block events during the await. After the timeout the listener
          // is gone, so no block asks for another check.
        } while (blockArrived());
      } catch (error) {
        finish(() => {
          reject(error instanceof Error ? error : new Error(String(error)));
        });
      } finally {
        checking = false;
      }
    };
    function onBlock(): void {
      if (finished) return;
      if (checking) blockWhileChecking = true;
      else void run();
    }
    const timer = timers.setTimeout(() => {
      finish(() => {
        reject(options.onTimeout());
      });
    }, options.timeoutMs);
    // Subscribed before the first check: a block mined during it is not missed.
    void Promise.resolve(blocks.on("block", onBlock)).catch((error: unknown) => {
      finish(() => {
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
    void run();
  });
}
