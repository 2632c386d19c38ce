import type { Command } from "commander";
import { computeMarketOf, ensureComputeFunding, leaseStatus } from "../../../sdk/compute/market.js";
import { checkTopUpAmount, requireLive } from "../../../sdk/compute/tenantRules.js";
import type { CliContext } from "../../context.js";
import { fundingJson } from "../../format/lease.js";
import { amountsJson, isoTime, tokenJson } from "../../format/units.js";
import { decimalAmount } from "../../parse.js";
import type { Runner } from "../../runner.js";
import { leaseId } from "./shared.js";
import { confirmTransaction } from "../../../sdk/chain/confirm.js";

export function registerLeaseTopUp(lease: Command, run: Runner): void {
  lease
    .command("topup")
    .description("add tokens to a lease's escrow (anyone may pay for a tenant)")
    .argument("<leaseId>", "the lease", leaseId)
    .argument("<amount>", "tokens to add", decimalAmount)
    .action((id: bigint, amount: string, _opts: unknown, command: Command) =>
      run(command, (ctx) => topUp(ctx, id, amount)),
    );
}

async function topUp(ctx: CliContext, id: bigint, amountText: string): Promise<void> {
  const { chain, signer, token } = await ctx.signed();
  const compute = computeMarketOf(chain.deployment, signer);
  const units = await ctx.tokenUnits();
  const amount = units.parse(amountText);
  checkTopUpAmount(amount);
  requireLive(await leaseStatus(compute, id));
  const funding = await ensureComputeFunding(amount, { market: compute, token, signer });
  const tx = await compute.topUp(id, amount);
  await confirmTransaction(tx);
  const after = await leaseStatus(compute, id);
  ctx.result(
    {
      leaseId: id,
      ...amountsJson({ amount, escrow: after.live?.escrow ?? 0n }, units),
      fundedUntil: after.live?.fundedUntil ?? 0n,
      funding: fundingJson(funding, units),
      token: tokenJson(units),
      txHash: tx.hash,
    },
    () =>
      `added ${units.format(amount)} to lease ${id}: escrow ${units.format(after.live?.escrow ?? 0n)}, funded until ` +
      isoTime(after.live?.fundedUntil ?? 0n),
  );
}
