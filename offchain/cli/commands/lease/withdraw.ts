import type { Command } from "commander";
import { withdrawalAmount } from "../../../sdk/compute/tenantRules.js";
import type { CliContext } from "../../context.js";
import { amountsJson, tokenJson } from "../../format/units.js";
import { decimalAmount } from "../../parse.js";
import type { Runner } from "../../runner.js";
import { signedMarket } from "./shared.js";
import { confirmTransaction } from "../../../sdk/chain/confirm.js";

export function registerLeaseWithdraw(lease: Command, run: Runner): void {
  lease
    .command("withdraw")
    .description("move tokens from your compute market balance (refunds, earnings, bounties) to your wallet")
    .argument("[amount]", "tokens to withdraw (default: everything)", decimalAmount)
    .action((amount: string | undefined, _opts: unknown, command: Command) =>
      run(command, (ctx) => withdraw(ctx, amount)),
    );
}

async function withdraw(ctx: CliContext, amountText: string | undefined): Promise<void> {
  const { market: compute, me } = await signedMarket(ctx);
  const units = await ctx.tokenUnits();
  const available = await compute.balanceOf(me);
  const amount = withdrawalAmount(
    available,
    amountText === undefined ? undefined : units.parse(amountText),
    units.format,
  );
  const tx = await compute.withdraw(amount);
  await confirmTransaction(tx);
  ctx.result(
    {
      account: me,
      ...amountsJson({ withdrawn: amount, remaining: available - amount }, units),
      token: tokenJson(units),
      txHash: tx.hash,
    },
    () =>
      `withdrew ${units.format(amount)} from the compute market (remaining ${units.format(available - amount)})`,
  );
}
