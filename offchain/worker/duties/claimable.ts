/**
 * Earnings are credited in the contracts' ledgers (the market's for bounties, the retrieval-challenge
 * contract's for returned bonds) and withdrawn by the operator (`strata withdraw`), never automatically.
 * The duties log what is claimable whenever it changes.
 */
import type { WorkerContext } from "../context.js";
import type { Logger } from "../../runtime/logger.js";

const lastLogged = new WeakMap<WorkerContext, string>();

/** Log this worker's claimable balances if they changed since the last call (no-op when read-only). */
export async function logClaimable(ctx: WorkerContext, log: Logger): Promise<void> {
  const { chain } = ctx;
  const me = chain.me;
  if (me === null) return;
  const rc = chain.retrievalChallenges;
  const [market, retrieval] = await chain.read("claimable balances", () =>
    Promise.all([chain.market.balanceOf(me), rc === null ? Promise.resolve(0n) : rc.balanceOf(me)]),
  );
  const key = `${market}/${retrieval}`;
  if (lastLogged.get(ctx) === key) return;
  lastLogged.set(ctx, key);
  if (market === 0n && retrieval === 0n) return;
  log.info(
    { market, retrievalChallenges: retrieval, worker: me },
    "claimable earnings (withdraw with `strata withdraw`)",
  );
}
