import type { Command } from "commander";
import { dealStatus, type DealStatus } from "../../sdk/client/deals.js";
import type { CliContext } from "../context.js";
import { formatBytes } from "../format/units.js";
import type { Runner } from "../runner.js";
import { resolveTargets } from "../targets.js";
import { dealStatusJson, dealStatusLine } from "../format/deals.js";

export function registerStatusCommand(program: Command, run: Runner): void {
  program
    .command("status")
    .summary("live state of a deal or of a stored file's deals")
    .description(
      "show the live state of a deal, or of every deal of a stored file with its providers' reachability and " +
        "whether enough pieces remain to rebuild it",
    )
    .argument("<target>", "a deal id, or a manifest written by strata store")
    .action((target: string, _opts: unknown, command: Command) => run(command, (ctx) => status(ctx, target)));
}

interface PieceReport {
  piece: number;
  provider: string;
  endpoint: string;
  dealId: bigint | null;
  phase: DealStatus["phase"] | "unplaced";
  reachable: boolean | null;
  deal: Record<string, unknown> | null;
}

async function status(ctx: CliContext, target: string): Promise<void> {
  const chain = await ctx.chain();
  const units = await ctx.tokenUnits();
  const { manifest, deals } = await resolveTargets(chain, target);
  const statuses = await Promise.all(deals.map((d) => dealStatus(chain.market, d.record)));
  if (manifest === null) {
    const [only] = statuses;
    if (only === undefined) return;
    ctx.result(dealStatusJson(only), () => dealStatusLine(only, units).trim());
    return;
  }
  const pieces: PieceReport[] = await Promise.all(
    manifest.pieces.map(async (piece) => {
      const st = statuses.find((s) => s.record.terms.id === piece.dealId);
      let reachable: boolean | null = null;
      try {
        const health = await ctx.agent(piece.endpoint, { timeoutMs: 3000 }).health();
        reachable = health.ok && health.provider.toLowerCase() === piece.provider.toLowerCase();
      } catch {
        reachable = false;
      }
      return {
        piece: piece.index,
        provider: piece.provider,
        endpoint: piece.endpoint,
        dealId: piece.dealId,
        phase: st?.phase ?? "unplaced",
        reachable,
        deal: st ? dealStatusJson(st) : null,
      };
    }),
  );
  const live = pieces.filter(
    (p) => (p.phase === "active" || p.phase === "pending") && p.reachable === true,
  ).length;
  const { k } = manifest.coding;
  const summary = {
    fileName: manifest.fileName,
    fileSize: manifest.fileSize,
    fileId: manifest.fileId,
    k,
    m: manifest.coding.m,
    livePieces: live,
    retrievable: live >= k,
    pieces,
  };
  ctx.result(summary, () => [
    `${manifest.fileName} (${formatBytes(manifest.fileSize)}): ${live} of ${pieces.length} pieces live and reachable, ${k} needed — ${live >= k ? "retrievable" : "AT RISK"}`,
    ...pieces.map((p) => {
      const st = statuses.find((s) => s.record.terms.id === p.dealId);
      const reach = p.reachable === true ? "reachable" : "UNREACHABLE";
      return st
        ? `${dealStatusLine(st, units)} [piece ${p.piece}, ${reach}]`
        : `  piece ${p.piece}: no deal [${reach}]`;
    }),
  ]);
}
