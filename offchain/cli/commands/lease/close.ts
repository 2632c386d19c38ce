import { Option, type Command } from "commander";
import { leaseStatus } from "../../../sdk/compute/market.js";
import { closeReasonIndex, CLOSE_REASONS, type CloseReason } from "../../../sdk/compute/orders.js";
import { closeReasonFor } from "../../../sdk/compute/tenantRules.js";
import type { CliContext } from "../../context.js";
import { closureJson } from "../../format/lease.js";
import { tokenJson } from "../../format/units.js";
import type { Runner } from "../../runner.js";
import { leaseId, signedMarket } from "./shared.js";
import { confirmTransaction } from "../../../sdk/chain/confirm.js";

interface CloseOptions {
  reason?: CloseReason;
}

export function registerLeaseClose(lease: Command, run: Runner): void {
  lease
    .command("close")
    .summary("close a lease")
    .description(
      "close a lease. The tenant closes for Tenant (unstreamed escrow comes back). Anyone may close an overdrawn " +
        "lease (InsufficientFunds: the closer earns the close bounty), one whose duration is over (Expired) or " +
        "whose provider's notice ran out (ProviderWithNotice). Without --reason the reason that applies is used",
    )
    .argument("<leaseId>", "the lease", leaseId)
    .addOption(
      // Missed heartbeats close a lease through `lease report`; a provider without notice through its agent.
      new Option("--reason <reason>", "close reason").choices(
        CLOSE_REASONS.filter((r) => r !== "MissedHeartbeats" && r !== "ProviderWithoutNotice"),
      ),
    )
    .action((id: bigint, opts: CloseOptions, command: Command) =>
      run(command, (ctx) => close(ctx, id, opts)),
    );
}

async function close(ctx: CliContext, id: bigint, opts: CloseOptions): Promise<void> {
  const { market: compute, me } = await signedMarket(ctx);
  const units = await ctx.tokenUnits();
  const before = await leaseStatus(compute, id);
  const reason = closeReasonFor(before, me, opts.reason);
  const isTenant = before.tenant.toLowerCase() === me.toLowerCase();
  const tx = await compute.closeLease(id, closeReasonIndex(reason));
  await confirmTransaction(tx);
  const after = await leaseStatus(compute, id);
  const c = after.closed;
  ctx.result(
    { leaseId: id, reason, closed: closureJson(c ?? null, units), token: tokenJson(units), txHash: tx.hash },
    () =>
      `lease ${id} closed (${reason}): paid to provider ${units.format(c?.paidToProvider ?? 0n)}, refunded to tenant ` +
      `${units.format(c?.refundedToTenant ?? 0n)}, bounty ${units.format(c?.bountyToCloser ?? 0n)}` +
      (isTenant ? " (refunds are in your compute market balance: strata lease withdraw)" : ""),
  );
}
