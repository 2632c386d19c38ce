import type { Command } from "commander";
import { activeBids, orderView } from "../../../sdk/compute/market.js";
import type { CliContext } from "../../context.js";
import { bidJson, bidLine, perHour, priceJson } from "../../format/lease.js";
import { tokenJson } from "../../format/units.js";
import type { Runner } from "../../runner.js";
import { chainNow, leaseId, readMarket } from "./shared.js";

export function registerLeaseBids(lease: Command, run: Runner): void {
  lease
    .command("bids")
    .description("list the active bids on an order, cheapest first (read-only: no key needed)")
    .argument("<orderId>", "the order", leaseId)
    .action((orderId: bigint, _opts: unknown, command: Command) => run(command, (ctx) => bids(ctx, orderId)));
}

async function bids(ctx: CliContext, orderId: bigint): Promise<void> {
  const compute = await readMarket(ctx);
  const { registry } = await ctx.chain();
  const units = await ctx.tokenUnits();
  const view = await orderView(compute, orderId, await chainNow(ctx));
  const live = await activeBids(compute, registry, orderId, view.order.blockNumber);
  ctx.result(
    {
      orderId,
      status: view.status,
      expired: view.expired,
      ...priceJson("maxPricePerSecond", view.order.request.maxPricePerSecond, units),
      bids: live.map((b) => bidJson(b, units)),
      token: tokenJson(units),
    },
    () => [
      `order ${orderId} (${view.expired ? "expired" : view.status}), max ${perHour(units, view.order.request.maxPricePerSecond)}: ` +
        `${live.length} active bid(s), cheapest first`,
      ...live.map((b) => bidLine(b, units)),
    ],
  );
}
