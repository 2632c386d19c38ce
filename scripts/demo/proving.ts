/**
 * Moving a local chain's clock through proving periods without making honest providers miss them: the demo's
 * chapters jump to the proof window of the period they wait for, and every running provider that is due for that
 * period (its next period to prove is exactly that one) proves it before the clock moves again. A provider left
 * behind by the jumps would miss periods, have its data sets terminated for faults, and lose pieces that nobody
 * lost.
 */
import type { StorageMarket } from "../../typechain-types/index.js";
import type { LocalChain } from "../lib/localChain.js";
import { until } from "../lib/localProcesses.js";

/**
 * Move the clock into the proof window of `period` (5 s after it opens) unless it is there already, and wait until
 * every address of `required` has proven it; give every address of `running` that was due for `period` when called
 * and holds data (a current weight: data sets not ended) up to `othersMs` to prove it as well. A provider whose
 * data sets all ended has nothing left to prove and never moves its next period, so it is not waited for; one with
 * data gets as long as a slow machine may need (its agent's tick can be busy placing or fetching a piece), because
 * a period it misses costs it a fault and can end a data set nobody lost.
 */
export async function proveThroughPeriod(
  chain: LocalChain,
  market: StorageMarket,
  period: bigint,
  provers: { required: readonly string[]; running: readonly string[] },
  timeoutMs = 90_000,
  othersMs = 45_000,
): Promise<void> {
  const due = await Promise.all(
    provers.running.map(async (p) => {
      const [state, [, current]] = await Promise.all([market.proofState(p), market.weight(p)]);
      return state.nextPeriod === period && current > 0n;
    }),
  );
  const others = provers.running.filter((_, i) => due[i] === true);
  const [end, window, block] = await Promise.all([
    market.periodStart(period + 1n),
    market.parameters().then((p) => p.proofWindow),
    chain.provider.getBlock("latest"),
  ]);
  const at = BigInt(block?.timestamp ?? 0);
  if (at < end - window + 5n) await chain.advance(Number(end - window + 5n - at));
  const proven = async (who: readonly string[]) => {
    const proofs = await Promise.all(who.map((p) => market.proofState(p)));
    return proofs.every((p) => p.nextPeriod > period) ? true : undefined;
  };
  await until(
    `the providers due for period ${period} to prove it`,
    () => proven(provers.required),
    timeoutMs,
  );
  // The other due providers get time to prove too; the wait is bounded and does not fail (an agent that stopped
  // proving is the story's to notice, not this helper's).
  await until(`the other providers to prove period ${period}`, () => proven(others), othersMs).catch(
    () => undefined,
  );
}

/**
 * Move the clock to `target` (a chain timestamp) without letting a proof window close under a running provider:
 * each window of a period that one of `provers` still holding data is due for, and that closes before `target`,
 * is entered first (proveThroughPeriod), and every such provider due for it must prove it (within `timeoutMs`)
 * before the clock moves on. A provider whose window closed already is left to its report.
 */
export async function advanceProving(
  chain: LocalChain,
  market: StorageMarket,
  target: bigint,
  provers: readonly string[],
  timeoutMs = 90_000,
): Promise<void> {
  for (;;) {
    const block = await chain.provider.getBlock("latest");
    const at = BigInt(block?.timestamp ?? 0);
    if (at >= target) return;
    const due = await Promise.all(
      provers.map(async (p) => {
        const [state, [, current]] = await Promise.all([market.proofState(p), market.weight(p)]);
        if (current === 0n) return null;
        const end = await market.periodStart(state.nextPeriod + 1n);
        return end > at ? { prover: p, period: state.nextPeriod, end } : null;
      }),
    );
    const open = due.filter((d) => d !== null);
    const first = open.reduce<(typeof open)[number] | undefined>(
      (min, d) => (min === undefined || d.end < min.end ? d : min),
      undefined,
    );
    if (first === undefined || first.end > target) {
      await chain.advance(Number(target - at));
      return;
    }
    const required = open.filter((d) => d.period === first.period).map((d) => d.prover);
    await proveThroughPeriod(chain, market, first.period, { required, running: [] }, timeoutMs);
  }
}
