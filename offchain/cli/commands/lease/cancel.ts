import type { Command } from "commander";
import { cancelRefund } from "../../../sdk/compute/receipts.js";
import type { CliContext } from "../../context.js";
import { amountJson, tokenJson } from "../../format/units.js";
import type { Runner } from "../../runner.js";
import { leaseId, signedMarket } from "./shared.js";
import { confirmTransaction } from "../../../sdk/chain/confirm.js";

export function registerLeaseCancel(lease: Command, run: Runner): void {
  lease
    .command("cancel")
    .description("cancel your open order: the deposit returns to your compute market balance")
    .argument("<orderId>", "the order", leaseId)
    .action((orderId: bigint, _opts: unknown, command: Command) =>
      run(command, (ctx) => cancel(ctx, orderId)),
    );
}

async function cancel(ctx: CliContext, orderId: bigint): Promise<void> {
  const { market: compute } = await signedMarket(ctx);
  const units = await ctx.tokenUnits();
  const tx = await compute.cancelOrder(orderId);
  const refund = cancelRefund(compute, await confirmTransaction(tx));
  ctx.result(
    { orderId, ...amountJson("refund", refund, units), token: tokenJson(units), txHash: tx.hash },
    () =>
      `order ${orderId} cancelled: ${units.format(refund)} back to your compute market balance (strata lease withdraw)`,
  );
}
