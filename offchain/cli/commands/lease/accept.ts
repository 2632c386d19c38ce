import type { Command } from "commander";
import { sendWorkload } from "../../../sdk/compute/agentApi.js";
import { workloadForOrder } from "../../../sdk/compute/keptWorkloads.js";
import { activeBids, leaseStatus, orderView } from "../../../sdk/compute/market.js";
import { checkAcceptable, chooseBid } from "../../../sdk/compute/tenantRules.js";
import { StrataError } from "../../../sdk/errors.js";
import type { CliContext } from "../../context.js";
import { leaseJson, perHour, priceJson } from "../../format/lease.js";
import { isoTime, tokenJson } from "../../format/units.js";
import { address } from "../../parse.js";
import type { Runner } from "../../runner.js";
import { chainNow, leaseId, signedMarket, workloadsDirOption } from "./shared.js";
import { confirmTransaction } from "../../../sdk/chain/confirm.js";

interface AcceptOptions {
  cheapest?: boolean;
  workload?: string;
  upload: boolean;
  workloadsDir: string;
}

export function registerLeaseAccept(lease: Command, run: Runner): void {
  workloadsDirOption(
    lease
      .command("accept")
      .summary("accept a bid: the lease starts and the workload goes to the provider")
      .description(
        "accept a bid on your order. The workload description is sent to the provider's agent first " +
          "(PUT /v1/workloads/<hash>): if the agent refuses or cannot be reached nothing is accepted (choose " +
          "another bid, or --no-upload and `strata lease upload` later). Then acceptBid starts the lease",
      )
      .argument("<orderId>", "the order", leaseId)
      .argument("[provider]", "the bidder to accept (an address)", address)
      .option("--cheapest", "accept the cheapest bid")
      .option("--workload <file>", "the workload description (default: the one `lease order` kept)")
      .option("--no-upload", "accept without sending the workload first"),
  ).action((orderId: bigint, provider: string | undefined, opts: AcceptOptions, command: Command) =>
    run(command, (ctx) => accept(ctx, orderId, provider, opts)),
  );
}

async function accept(
  ctx: CliContext,
  orderId: bigint,
  providerArg: string | undefined,
  opts: AcceptOptions,
): Promise<void> {
  if ((providerArg === undefined) === (opts.cheapest !== true)) {
    throw new StrataError("INVALID_ARGUMENT", "give either a provider address or --cheapest");
  }
  const { market: compute, me } = await signedMarket(ctx);
  const { registry } = await ctx.chain();
  const units = await ctx.tokenUnits();
  const view = await orderView(compute, orderId, await chainNow(ctx));
  checkAcceptable(view, me);
  const live = await activeBids(compute, registry, orderId, view.order.blockNumber);
  const chosen = chooseBid(live, orderId, providerArg);
  const workload = opts.upload
    ? await workloadForOrder(view.order.request.workloadHash, {
        ...(opts.workload === undefined ? {} : { file: opts.workload }),
        dir: opts.workloadsDir,
      })
    : null;
  if (workload) await sendWorkload(chosen.endpoint, workload, { fetch: ctx.io.fetch });
  const tx = await compute.acceptBid(orderId, chosen.provider);
  await confirmTransaction(tx);
  const status = await leaseStatus(compute, orderId);
  ctx.result(
    {
      leaseId: orderId,
      provider: chosen.provider,
      ...priceJson("pricePerSecond", chosen.pricePerSecond, units),
      workloadSent: workload !== null,
      lease: leaseJson(status, units),
      token: tokenJson(units),
      txHash: tx.hash,
    },
    () => [
      `lease ${orderId} started with ${chosen.provider} at ${perHour(units, chosen.pricePerSecond)}` +
        (workload ? `; workload sent to ${chosen.endpoint}` : "; workload not sent (strata lease upload)"),
      `  escrow ${units.format(status.live?.escrow ?? 0n)}, funded until ${isoTime(status.live?.fundedUntil ?? 0n)}`,
    ],
  );
}
