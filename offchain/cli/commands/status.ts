import type { Command } from "commander";
import { dataSetFunding } from "../../sdk/client/dataSets.js";
import { fileStatus } from "../../sdk/client/fileStatus.js";
import type { CliContext } from "../context.js";
import {
  dataSetJson,
  dataSetLine,
  paidThrough,
  paidThroughJson,
  pieceStatusLine,
} from "../format/datasets.js";
import { formatBytes, tokenJson } from "../format/units.js";
import type { Runner } from "../runner.js";
import { permanentStatus } from "../files/permanent.js";
import { resolveTargets } from "../targets.js";

export function registerStatusCommand(program: Command, run: Runner): void {
  program
    .command("status")
    .summary("health of a stored file, piece by piece, or of one data set")
    .description(
      "show, for every piece of a stored file, whether its data set is live and holds it, whether its provider " +
        "is proving, until when the escrow pays and whether the provider answers; exits with 2 when fewer than k " +
        "pieces are healthy (the file is at risk). With a data set id, show that data set (exit 2 once it has ended)",
    )
    .argument("<target>", "a manifest written by strata store, or a data set id (a file id with --permanent)")
    .option("--permanent", "<target> is a permanent file id: its solvency and every piece slot")
    .action((target: string, opts: { permanent?: boolean }, command: Command) =>
      run(command, (ctx) => (opts.permanent === true ? permanentStatus(ctx, target) : status(ctx, target))),
    );
}

async function status(ctx: CliContext, target: string): Promise<void> {
  const chain = await ctx.chain();
  const units = await ctx.tokenUnits();
  const provingPeriod = await chain.market.provingPeriod();
  const { manifest, dataSets } = await resolveTargets(chain, target);
  if (manifest === null) {
    const [only] = dataSets;
    if (only === undefined) return;
    const funding = only.status === "finalized" ? null : await dataSetFunding(chain.market, only);
    // A data set that no longer holds data (finalized) is not healthy: exit 2, as for a file at risk.
    if (only.status === "finalized") ctx.exitCode = 2;
    const clock = await ctx.periodClock();
    ctx.result({ ...dataSetJson(only, funding, units, clock), token: tokenJson(units) }, () =>
      dataSetLine(only, funding, units, provingPeriod, clock).trim(),
    );
    return;
  }
  const clock = await ctx.periodClock();
  const report = await fileStatus(manifest, {
    market: chain.market,
    agentFor: (endpoint) => ctx.agent(endpoint, { timeoutMs: 3000 }),
    now: clock.now,
  });
  const { k } = report;
  const summary = {
    fileName: manifest.fileName,
    fileSize: manifest.fileSize,
    fileId: manifest.fileId,
    k,
    m: manifest.coding.m,
    healthyPieces: report.healthy,
    retrievable: report.retrievable,
    atRisk: report.atRisk,
    token: tokenJson(units),
    pieces: report.pieces.map((p) => ({
      piece: p.piece,
      provider: p.provider,
      endpoint: p.endpoint,
      dataSetId: p.dataSetId,
      offset: p.offset,
      health: p.health,
      reasons: p.reasons,
      applied: p.applied,
      reachable: p.reachable,
      // The end `datasets renew` and `datasets list` show: the last fully paid period and when it ends.
      ...paidThroughJson(paidThrough(p.funding?.fundedSeconds, clock)),
      proving: p.proving,
      dataSet: p.dataSet === null ? null : dataSetJson(p.dataSet, p.funding, units, clock),
    })),
  };
  if (report.atRisk) ctx.exitCode = 2;
  ctx.result(summary, () => [
    `${manifest.fileName} (${formatBytes(manifest.fileSize)}): ${report.healthy} of ${report.pieces.length} pieces healthy, ${k} needed — ` +
      (report.atRisk
        ? report.retrievable
          ? "AT RISK (still retrievable)"
          : "AT RISK (not retrievable now)"
        : "safe"),
    ...report.pieces.map((p) => pieceStatusLine(p, units, provingPeriod, clock)),
  ]);
}
