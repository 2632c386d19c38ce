/**
 * Run `task` over `items` with at most `limit` in flight; results keep the input order. The first error
 * rejects the whole call only after the tasks already running have settled (none is left floating).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const state: { failure?: { error: unknown } } = {};
  async function worker(): Promise<void> {
    while (state.failure === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        state.failure ??= { error };
      }
    }
  }
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker());
  await Promise.all(workers);
  if (state.failure !== undefined) throw state.failure.error;
  return results;
}

/** Resolve after `ms` milliseconds (a clock dependency for polling loops). */
export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
