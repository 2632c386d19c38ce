/** Which data sets have a missing or corrupt piece, and releasing pieces no signed state needs any more. */
import type { SizedPlacedPiece } from "../../sdk/api/datasets.js";
import type { AgentContext } from "../context.js";
import type { DataSetRecord } from "../db.js";

/**
 * Check the pieces of each data set's layout frozen for `period` (file present with the right size), record what
 * is found, and return the ids of the data sets holding a missing or known-corrupt piece. A corrupt verdict from a
 * full scan stands until the piece re-hashes correctly; a piece that comes back after being lost is re-hashed
 * before it is trusted.
 */
export async function dataSetsWithBadPieces(
  ctx: AgentContext,
  dataSets: readonly DataSetRecord[],
  period: bigint,
): Promise<bigint[]> {
  const bad: bigint[] = [];
  const verdicts = new Map<string, boolean>();
  for (const dataSet of dataSets) {
    const frozen = ctx.db.dataSets.frozenState(dataSet.id, period);
    if (!frozen || frozen.state.span === 0n) continue;
    let ok = true;
    for (const piece of frozen.layout) {
      let verdict = verdicts.get(piece.root);
      if (verdict === undefined) {
        verdict = await checkPiece(ctx, piece, dataSet.id);
        verdicts.set(piece.root, verdict);
      }
      ok &&= verdict;
    }
    if (!ok) bad.push(dataSet.id);
  }
  return bad;
}

async function checkPiece(ctx: AgentContext, piece: SizedPlacedPiece, dataSetId: bigint): Promise<boolean> {
  const { root } = piece;
  const size = BigInt(piece.size);
  const record = ctx.db.piece(root);
  const health = await ctx.pieces.present(root, size);
  if (!health.ok) {
    if (record?.ok !== false || record.problem !== health.problem) {
      ctx.logger.error({ root, dataSetId, problem: health.problem }, "piece lost");
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

/**
 * Delete the pieces no state needs: not in any queued, submitted or still-freezable applied layout (see
 * DataSetStore.neededRoots) and older than `unreferencedPieceMs` (an upload waits that long for its signed state).
 */
export async function releaseUnneededPieces(ctx: AgentContext, fromPeriod: bigint): Promise<string[]> {
  const needed = ctx.db.dataSets.neededRoots(fromPeriod);
  // Staged permanent pieces wait for their slot's winner, however long that takes.
  for (const root of ctx.db.permanent.stagedRoots()) needed.add(root);
  const cutoff = ctx.clock() - ctx.config.unreferencedPieceMs;
  const released: string[] = [];
  for (const piece of ctx.db.pieces()) {
    if (needed.has(piece.root) || piece.createdAt > cutoff) continue;
    await ctx.pieces.delete(piece.root);
    ctx.db.deletePiece(piece.root);
    ctx.logger.info({ root: piece.root }, "piece released");
    released.push(piece.root);
  }
  return released;
}
