import type { Command } from "commander";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import { decimalAmount } from "../parse.js";
import type { Runner } from "../program.js";

export function registerBalanceCommands(program: Command, run: Runner): void {
  program
    .command("balance")
    .description(
      "show the signing account's tokens: in the wallet, in the market (refunds, earnings; funds new deals " +
        "first) and the allowance the market may pull for deals",
    )
    .action((_opts: unknown, command: Command) => run(command, (ctx) => balance(ctx)));
  program
    .command("withdraw")
    .description(
      "move tokens from your market balance (refunds, earnings) to your wallet (a provider's payee)",
    )
    .argument("[amount]", "tokens to withdraw (default: everything)", decimalAmount)
    .action((amount: string | undefined, _opts: unknown, command: Command) =>
      run(command, (ctx) => withdraw(ctx, amount)),
    );
}

async function balance(ctx: CliContext): Promise<void> {
  const { chain, signer } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const me = await signer.getAddress();
  const [wallet, market, allowance] = await Promise.all([
    chain.token.balanceOf(me),
    chain.market.balanceOf(me),
    chain.token.allowance(me, chain.deployment.market),
  ]);
  ctx.result({ account: me, wallet, market, allowance }, () => [
    `${me}: wallet ${units.format(wallet)}, market balance ${units.format(market)}, allowance ${units.format(allowance)}`,
  ]);
}

async function withdraw(ctx: CliContext, amountText: string | undefined): Promise<void> {
  const { signer, market } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const me = await signer.getAddress();
  const available = await market.balanceOf(me);
  const amount = amountText === undefined ? available : units.parse(amountText);
  if (amount === 0n) {
    throw new StrataError("INVALID_ARGUMENT", "nothing to withdraw: the market balance is 0");
  }
  if (amount > available) {
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the market balance is ${units.format(available)}, less than ${units.format(amount)}`,
    );
  }
  const tx = await market.withdraw(amount);
  await tx.wait();
  ctx.result(
    { account: me, withdrawn: amount, remaining: available - amount, txHash: tx.hash },
    () => `withdrew ${units.format(amount)} (remaining market balance ${units.format(available - amount)})`,
  );
}
