import type { Command } from "commander";
import { leaseStatus } from "../../../sdk/compute/market.js";
import { missedHeartbeatsReport } from "../../../sdk/compute/receipts.js";
import { checkReportable } from "../../../sdk/compute/tenantRules.js";
import type { CliContext } from "../../context.js";
import { closureJson } from "../../format/lease.js";
import { amountsJson, tokenJson } from "../../format/units.js";
import type { Runner } from "../../runner.js";
import { leaseId, signedMarket } from "./shared.js";
import { sendMissedHeartbeatsReport } from "../../../sdk/compute/reportGas.js";
import { confirmTransaction } from "../../../sdk/chain/confirm.js";

export function registerLeaseReport(lease: Command, run: Runner): void {
  lease
    .command("report")
    .description("report a lease's missed heartbeat periods (anyone; earns the missed-heartbeat bounty)")
    .argument("<leaseId>", "the lease", leaseId)
    .action((id: bigint, _opts: unknown, command: Command) => run(command, (ctx) => report(ctx, id)));
}

async function report(ctx: CliContext, id: bigint): Promise<void> {
  const { market: compute } = await signedMarket(ctx);
  const units = await ctx.tokenUnits();
  checkReportable(await leaseStatus(compute, id));
  const tx = await sendMissedHeartbeatsReport(compute, id);
  const reported = missedHeartbeatsReport(compute, await confirmTransaction(tx));
  const after = await leaseStatus(compute, id);
  ctx.result(
    {
      leaseId: id,
      count: reported.count,
      ...amountsJson(
        { refunded: reported.refunded, bounty: reported.bounty, compensation: reported.compensation },
        units,
      ),
      closed: closureJson(after.closed, units),
      token: tokenJson(units),
      txHash: tx.hash,
    },
    () =>
      `reported ${reported.count} missed period(s) of lease ${id}: ${units.format(reported.refunded)} no longer payable to the provider, ` +
      `bounty ${units.format(reported.bounty)}, ${units.format(reported.compensation)} credited to the tenant's balance` +
      (after.closed ? `; the lease closed (${after.closed.reason})` : ""),
  );
}
