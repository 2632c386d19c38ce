/** Which active deals' pieces are missing or corrupt, and releasing pieces nothing needs any more. */
import type { AgentContext } from "../context.js";
import type { DealRecord } from "../db.js";

/**
 * Check the pieces of the given deals cheaply (file present with the right size), record what is found, and
 * return the deals whose piece is missing or known corrupt. A corrupt verdict from a full scan stands until the
 * piece re-hashes correctly; a piece that comes back after being lost is re-hashed before it is trusted.
 */
export async function dealsWithBadPieces(
  ctx: AgentContext,
  deals: readonly DealRecord[],
): Promise<DealRecord[]> {
  const bad: DealRecord[] = [];
  const verdicts = new Map<string, boolean>();
  for (const deal of deals) {
    const root = deal.terms.root.toLowerCase();
    let ok = verdicts.get(root);
    if (ok === undefined) {
      ok = await checkPiece(ctx, root, deal);
      verdicts.set(root, ok);
    }
    if (!ok) bad.push(deal);
  }
  return bad;
}

async function checkPiece(ctx: AgentContext, root: string, deal: DealRecord): Promise<boolean> {
  const record = ctx.db.piece(root);
  const size = deal.terms.size;
  const health = await ctx.pieces.present(root, size);
  if (!health.ok) {
    if (record?.ok !== false || record.problem !== health.problem) {
      ctx.logger.error({ root, dealId: deal.id, problem: health.problem }, "piece lost");
    }
    ctx.db.putPiece({
      root,
      size,
      path: ctx.pieces.path(root),
      verifiedAt: record?.verifiedAt ?? null,
      ok: false,
      problem: health.problem,
    });
    return false;
  }
  if (record?.ok === true) return true;
  const recentlyCorrupt =
    record?.problem === "corrupt" &&
    record.verifiedAt !== null &&
    ctx.clock() - record.verifiedAt < ctx.config.integrityScanMs;
  if (recentlyCorrupt) return false; // the periodic scan re-hashes it; do not re-hash on every tick
  const verified = await ctx.pieces.verify(root, size);
  ctx.db.putPiece({
    root,
    size,
    path: ctx.pieces.path(root),
    verifiedAt: ctx.clock(),
    ok: verified.ok,
    problem: verified.ok ? null : verified.problem,
  });
  if (verified.ok) ctx.logger.info({ root }, "piece verified again");
  return verified.ok;
}

/** Delete a piece's file and record once no active deal or open upload needs it. */
export async function releasePieceIfUnused(ctx: AgentContext, root: string): Promise<boolean> {
  if (ctx.db.pieceNeeded(root)) return false;
  await ctx.pieces.delete(root);
  ctx.db.deletePiece(root);
  ctx.logger.info({ root }, "piece released");
  return true;
}
