import { Option, type Command } from "commander";
import { ICreditLedger__factory } from "../../../typechain-types/index.js";
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
    .addOption(
      new Option(
        "--from <ledger>",
        "which balance: the storage market's, or the retrieval-challenge contract's (returned bonds, answered challenges)",
      )
        .choices(["market", "retrieval"])
        .default("market"),
    )
    .action((amount: string | undefined, opts: { from: Ledger }, command: Command) =>
      run(command, (ctx) => withdraw(ctx, amount, opts.from)),
    );
}

async function balance(ctx: CliContext): Promise<void> {
  const { chain, signer } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const me = await signer.getAddress();
  const retrievalAddress = chain.deployment.retrievalChallenges;
  const [wallet, market, allowance, retrieval] = await Promise.all([
    chain.token.balanceOf(me),
    chain.market.balanceOf(me),
    chain.token.allowance(me, chain.deployment.market),
    retrievalAddress === undefined
      ? Promise.resolve(null)
      : ICreditLedger__factory.connect(retrievalAddress, signer).balanceOf(me),
  ]);
  ctx.result({ account: me, wallet, market, allowance, retrieval }, () => [
    `${me}: wallet ${units.format(wallet)}, market balance ${units.format(market)}, allowance ${units.format(allowance)}` +
      (retrieval === null ? "" : `, retrieval-challenge balance ${units.format(retrieval)}`),
  ]);
}

type Ledger = "market" | "retrieval";

async function withdraw(ctx: CliContext, amountText: string | undefined, from: Ledger): Promise<void> {
  const { signer, market: storageMarket, chain } = await ctx.signed();
  const retrievalAddress = chain.deployment.retrievalChallenges;
  if (from === "retrieval" && retrievalAddress === undefined) {
    throw new StrataError(
      "DEPLOYMENT_NOT_FOUND",
      "this deployment has no retrieval-challenge contract; withdraw --from market instead",
    );
  }
  const market =
    from === "retrieval" && retrievalAddress !== undefined
      ? ICreditLedger__factory.connect(retrievalAddress, signer)
      : storageMarket;
  const units = await ctx.tokenUnits();
  const me = await signer.getAddress();
  const available = await market.balanceOf(me);
  const amount = amountText === undefined ? available : units.parse(amountText);
  if (amount === 0n) {
    throw new StrataError("INVALID_ARGUMENT", `nothing to withdraw: the ${from} balance is 0`);
  }
  if (amount > available) {
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the ${from} balance is ${units.format(available)}, less than ${units.format(amount)}`,
    );
  }
  const tx = await market.withdraw(amount);
  await tx.wait();
  ctx.result(
    { account: me, from, withdrawn: amount, remaining: available - amount, txHash: tx.hash },
    () => `withdrew ${units.format(amount)} (remaining ${from} balance ${units.format(available - amount)})`,
  );
}
