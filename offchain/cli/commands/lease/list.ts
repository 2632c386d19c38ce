import type { Command } from "commander";
import { marketEntries } from "../../../sdk/compute/market.js";
import { isCurrent, isPartyTo } from "../../../sdk/compute/tenantRules.js";
import type { CliContext } from "../../context.js";
import { marketEntryJson, marketEntryLine } from "../../format/lease.js";
import { tokenJson } from "../../format/units.js";
import { nonNegativeInt } from "../../parse.js";
import type { Runner } from "../../runner.js";
import { chainNow, signedMarket } from "./shared.js";

interface ListOptions {
  mine?: boolean;
  fromBlock: number;
}

export function registerLeaseList(lease: Command, run: Runner): void {
  lease
    .command("list")
    .description(
      "open orders and live leases on the market; with --mine, every order and lease you are part of",
    )
    .option("--mine", "only orders and leases where you are the tenant or the provider (closed ones too)")
    .option("--from-block <n>", "scan events from this block", nonNegativeInt, 0)
    .action((opts: ListOptions, command: Command) => run(command, (ctx) => list(ctx, opts)));
}

async function list(ctx: CliContext, opts: ListOptions): Promise<void> {
  const { market: compute, me } = await signedMarket(ctx);
  const units = await ctx.tokenUnits();
  const entries = await marketEntries(compute, { fromBlock: opts.fromBlock, now: await chainNow(ctx) });
  const mine = opts.mine === true;
  const shown = entries.filter((x) => (mine ? isPartyTo(x, me) : isCurrent(x)));
  const json = shown.map((x) => marketEntryJson(x, units));
  ctx.result({ account: me, mine, entries: json, token: tokenJson(units) }, () =>
    shown.length === 0
      ? mine
        ? "no orders or leases of yours"
        : "no open orders or live leases"
      : shown.map((x) => marketEntryLine(x, units)),
  );
}
