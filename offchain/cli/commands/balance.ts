import { Option, type Command } from "commander";
import { ICreditLedger__factory } from "../../../typechain-types/index.js";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import { decimalAmount } from "../parse.js";
import type { Runner } from "../runner.js";

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
        "which balance: the storage market's, the retrieval-challenge contract's (returned bonds, answered " +
          "challenges) or the compute market's (lease earnings, refunds, bounties)",
      )
        .choices(["market", "retrieval", "compute"])
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
  const computeAddress = chain.deployment.computeMarket;
  const [wallet, market, allowance, retrieval, compute] = await Promise.all([
    chain.token.balanceOf(me),
    chain.market.balanceOf(me),
    chain.token.allowance(me, chain.deployment.market),
    retrievalAddress === undefined
      ? Promise.resolve(null)
      : ICreditLedger__factory.connect(retrievalAddress, signer).balanceOf(me),
    computeAddress === undefined
      ? Promise.resolve(null)
      : ICreditLedger__factory.connect(computeAddress, signer).balanceOf(me),
  ]);
  ctx.result({ account: me, wallet, market, allowance, retrieval, compute }, () => [
    `${me}: wallet ${units.format(wallet)}, market balance ${units.format(market)}, allowance ${units.format(allowance)}` +
      (retrieval === null ? "" : `, retrieval-challenge balance ${units.format(retrieval)}`) +
      (compute === null ? "" : `, compute market balance ${units.format(compute)}`),
  ]);
}

type Ledger = "market" | "retrieval" | "compute";

async function withdraw(ctx: CliContext, amountText: string | undefined, from: Ledger): Promise<void> {
  const { signer, market: storageMarket, chain } = await ctx.signed();
  const ledgerAddress =
    from === "retrieval"
      ? chain.deployment.retrievalChallenges
      : from === "compute"
        ? chain.deployment.computeMarket
        : chain.deployment.market;
  if (ledgerAddress === undefined) {
    throw new StrataError(
      "DEPLOYMENT_NOT_FOUND",
      `this deployment has no ${from === "retrieval" ? "retrieval-challenge contract" : "compute market"}; ` +
        "withdraw --from market instead",
    );
  }
  const market = from === "market" ? storageMarket : ICreditLedger__factory.connect(ledgerAddress, signer);
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
