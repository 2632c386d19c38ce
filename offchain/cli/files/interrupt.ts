// SIGINT and SIGTERM during a long command: the first asks it to stop at its next safe point (an AbortSignal the
// work checks), so it can say what exists and how to resume; the process then exits non-zero.
export interface Interrupt {
  signal: AbortSignal;
  /** Stop listening (the default handlers come back). */
  release: () => void;
}

export function catchInterrupts(onFirst: (name: NodeJS.Signals) => void): Interrupt {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals): void => {
    if (!controller.signal.aborted) onFirst(name);
    controller.abort(name);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    release: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}
