import { Option, type Command } from "commander";
import { ICreditLedger__factory } from "../../../typechain-types/index.js";
import { findDataSetIds } from "../../sdk/client/dataSets.js";
import { withdrawClientFunds } from "../../sdk/client/withdraw.js";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import { decimalAmount } from "../parse.js";
import type { Runner } from "../runner.js";

export function registerBalanceCommands(program: Command, run: Runner): void {
  program
    .command("balance")
    .description(
      "show the signing account's tokens: in the wallet, in the market (refunds, earnings; funds top-ups " +
        "first), the escrow of its data sets above their lockup (withdrawable) and the allowance the market may pull",
    )
    .action((_opts: unknown, command: Command) => run(command, (ctx) => balance(ctx)));
  program
    .command("withdraw")
    .description(
      "move tokens to your wallet: without an amount, first the escrow of your data sets above their lockup, then " +
        "your whole market balance (refunds, earnings; a provider's payee); with an amount, from the balance only",
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
  const ids = await findDataSetIds(chain.market, { client: me });
  const escrows = await Promise.all(ids.map((id) => chain.market.withdrawableEscrow(id)));
  const escrowWithdrawable = escrows.reduce((sum, e) => sum + e, 0n);
  ctx.result({ account: me, wallet, market, escrowWithdrawable, allowance, retrieval, compute }, () => [
    `${me}: wallet ${units.format(wallet)}, market balance ${units.format(market)}, ` +
      `data set escrow above lockup ${units.format(escrowWithdrawable)}, allowance ${units.format(allowance)}` +
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
  const units = await ctx.tokenUnits();
  const me = await signer.getAddress();
  if (from === "market" && amountText === undefined) {
    const result = await withdrawClientFunds(storageMarket, me, { escrow: true });
    const fromEscrow = result.fromEscrow.reduce((sum, e) => sum + e.amount, 0n);
    if (result.withdrawn === 0n) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        "nothing to withdraw: the market balance is 0 and no data set has escrow above its lockup",
      );
    }
    ctx.result(
      {
        account: me,
        from,
        withdrawn: result.withdrawn,
        fromEscrow: result.fromEscrow,
        remaining: 0n,
        txHash: result.txHash,
      },
      () => [
        `withdrew ${units.format(result.withdrawn)}` +
          (fromEscrow > 0n
            ? ` (of which ${units.format(fromEscrow)} from ${result.fromEscrow.length} data set escrow(s))`
            : ""),
      ],
    );
    return;
  }
  const market = from === "market" ? storageMarket : ICreditLedger__factory.connect(ledgerAddress, signer);
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
