import type { StorageMarket } from "../../../typechain-types/index.js";
import { publishedTerms, type PlacementAttempt } from "./placePiece.js";

/** What became of the proposals a store run abandoned. */
export interface Reconciliation {
  /** Nonces cancelled on chain: those proposals can never be published. */
  cancelled: bigint[];
  /** Abandoned proposals that were published after all and now hold their piece. */
  adopted: { piece: number; dealId: bigint }[];
  /** Abandoned proposals published for a piece placed elsewhere: terminated (full refund, not started). */
  duplicates: { piece: number; dealId: bigint }[];
}

type CleanupMarket = Pick<
  StorageMarket,
  | "nonceUsed"
  | "cancelNonce"
  | "multicall"
  | "interface"
  | "terminateDeal"
  | "filters"
  | "queryFilter"
  | "getAddress"
>;

/**
 * Settle every proposal given to a provider but not (known to be) published: a provider holds a valid
 * signature for it and could publish it any time before its start deadline. Unused nonces are cancelled in
 * one multicall; a proposal that did get published is adopted for its piece if that piece has no deal, or
 * terminated as a duplicate. Mutates `placed` (adoptions) and the adopted attempts' `deal`.
 */
export async function settleAbandoned(
  attempts: readonly PlacementAttempt[],
  placed: Map<number, PlacementAttempt>,
  ctx: { market: CleanupMarket; periods: bigint; fromBlock: number },
): Promise<Reconciliation> {
  const result: Reconciliation = { cancelled: [], adopted: [], duplicates: [] };
  const abandoned = attempts.filter((a) => a.delivered && a.deal === null);
  if (abandoned.length === 0) return result;
  const used = await Promise.all(
    abandoned.map((a) => ctx.market.nonceUsed(a.proposal.client, a.proposal.nonce)),
  );
  const toCancel = abandoned.filter((_, i) => used[i] !== true);
  for (const attempt of abandoned.filter((_, i) => used[i] === true))
    await claim(attempt, placed, ctx, result);
  if (toCancel.length === 0) return result;

  try {
    const calls = toCancel.map((a) =>
      ctx.market.interface.encodeFunctionData("cancelNonce", [a.proposal.nonce]),
    );
    await (await ctx.market.multicall(calls)).wait();
    result.cancelled.push(...toCancel.map((a) => a.proposal.nonce));
  } catch {
    // One of them was published meanwhile (the batch reverts on a used nonce): settle them one by one.
    for (const attempt of toCancel) {
      if (await ctx.market.nonceUsed(attempt.proposal.client, attempt.proposal.nonce)) {
        await claim(attempt, placed, ctx, result);
        continue;
      }
      try {
        await (await ctx.market.cancelNonce(attempt.proposal.nonce)).wait();
        result.cancelled.push(attempt.proposal.nonce);
      } catch {
        await claim(attempt, placed, ctx, result);
      }
    }
  }
  return result;
}

/** A used nonce: adopt its deal for the piece, or terminate it as a duplicate. */
async function claim(
  attempt: PlacementAttempt,
  placed: Map<number, PlacementAttempt>,
  ctx: { market: CleanupMarket; periods: bigint; fromBlock: number },
  result: Reconciliation,
): Promise<void> {
  let terms;
  try {
    terms = await publishedTerms(ctx, attempt.proposal, null);
  } catch {
    return; // cancelled, not published: nothing to do
  }
  if (!placed.has(attempt.piece)) {
    attempt.deal = terms;
    attempt.error = null;
    placed.set(attempt.piece, attempt);
    result.adopted.push({ piece: attempt.piece, dealId: terms.id });
    return;
  }
  await (await ctx.market.terminateDeal(terms)).wait();
  result.duplicates.push({ piece: attempt.piece, dealId: terms.id });
}
