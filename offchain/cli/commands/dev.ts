import type { Command } from "commander";
import { TestStablecoin__factory } from "../../../typechain-types/index.js";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import { amountsJson, tokenJson } from "../format/units.js";
import { address, decimalAmount } from "../parse.js";
import type { Runner } from "../runner.js";
import { confirmTransaction } from "../../sdk/chain/confirm.js";

interface MintOptions {
  to?: string;
}

export function registerDevCommands(program: Command, run: Runner): void {
  program
    .command("dev")
    .description("helpers for local development chains")
    .command("mint")
    .description(
      "mint test stablecoins (StrataLocal deployments only; the signer must own the token, e.g. --account 0)",
    )
    .argument("<amount>", "tokens to mint, e.g. 1000", decimalAmount)
    .option("--to <address>", "recipient (default: the signing account)", address)
    .action((amount: string, opts: MintOptions, command: Command) =>
      run(command, (ctx) => mint(ctx, amount, opts)),
    );
}

async function mint(ctx: CliContext, amountText: string, opts: MintOptions): Promise<void> {
  const { chain, signer } = await ctx.signed();
  if (chain.deployment.module !== "StrataLocal") {
    throw new StrataError("INVALID_ARGUMENT", "dev mint only works with the StrataLocal test stablecoin");
  }
  const units = await ctx.tokenUnits();
  const amount = units.parsePositive(amountText, "the amount to mint");
  const to = opts.to ?? (await signer.getAddress());
  const token = TestStablecoin__factory.connect(chain.deployment.token, signer);
  const owner = await token.owner();
  if (owner.toLowerCase() !== (await signer.getAddress()).toLowerCase()) {
    throw new StrataError("INVALID_ARGUMENT", `only the token owner ${owner} can mint`, {
      details: `on a local chain the deployer is dev account 0: ${ctx.commandLine(`dev mint ${amountText}${opts.to === undefined ? ` --to ${await signer.getAddress()}` : ` --to ${opts.to}`}`, { account: 0 })}`,
    });
  }
  const tx = await token.mint(to, amount);
  await confirmTransaction(tx);
  const balance = await token.balanceOf(to);
  ctx.result(
    { to, token: tokenJson(units), ...amountsJson({ minted: amount, balance }, units), txHash: tx.hash },
    () => `minted ${units.format(amount)} to ${to}: balance ${units.format(balance)}`,
  );
}
