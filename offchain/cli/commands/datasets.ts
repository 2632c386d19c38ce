import type { Command } from "commander";
import { dataSetFunding, findDataSets } from "../../sdk/client/dataSets.js";
import { renewDataSets } from "../../sdk/client/renew.js";
import { removeFile, type DataSetRemoval } from "../../sdk/client/terminate.js";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import {
  dataSetJson,
  dataSetLine,
  paidThrough,
  paidThroughJson,
  paidThroughText,
} from "../format/datasets.js";
import { amountsJson, formatDuration, periodWhen, tokenJson } from "../format/units.js";
import { address, nonNegativeInt, positiveInt } from "../parse.js";
import type { Runner } from "../runner.js";
import { resolveTargets } from "../targets.js";
import { confirmTransaction } from "../../sdk/chain/confirm.js";

interface ListOptions {
  client?: string | true;
  provider?: string | true;
  fromBlock?: number;
}

export function registerDataSetCommands(program: Command, run: Runner): void {
  const group = program
    .command("datasets")
    .description("data sets: one agreement between a client and a provider, holding any number of pieces");
  group
    .command("list")
    .summary("list data sets of a client or provider")
    .description(
      "list data sets of a client (default: the signing account) or of a provider, with their state",
    )
    .option("--client [address]", "data sets paid by this client (default: the signing account)", address)
    .option(
      "--provider [address]",
      "data sets held by this provider (no address: the signing account)",
      address,
    )
    .option("--from-block <n>", "scan events from this block (default 0)", nonNegativeInt)
    .action((opts: ListOptions, command: Command) => run(command, (ctx) => list(ctx, opts)));
  group
    .command("renew")
    .summary("pay data sets for more proving periods (a top-up)")
    .description(
      "top up the escrow of a data set, or of every data set of a stored file, with what --periods more proving " +
        "periods of its current size cost. A data set lives while its escrow covers its lockup",
    )
    .argument("<target>", "a data set id, or a manifest (all of the file's data sets)")
    .requiredOption("--periods <n>", "proving periods to pay for", positiveInt)
    .action((target: string, opts: { periods: number }, command: Command) =>
      run(command, (ctx) => renew(ctx, target, BigInt(opts.periods))),
    );
  group
    .command("terminate")
    .summary("remove a stored file's pieces, or end a data set with notice")
    .description(
      "with a manifest: remove the file's pieces from their data sets (a signed state without them); a data set " +
        "that holds nothing else is terminated instead. With a data set id: terminate it. A terminated data set " +
        "ends after its notice (paid from the lockup); the rest of its escrow comes back once it is finalized",
    )
    .argument("<target>", "a manifest, or a data set id")
    .action((target: string, _opts: unknown, command: Command) =>
      run(command, (ctx) => terminate(ctx, target)),
    );
}

async function list(ctx: CliContext, opts: ListOptions): Promise<void> {
  const chain = await ctx.chain();
  const self = async () => (await ctx.signer()).getAddress();
  const provider = opts.provider === true ? await self() : opts.provider;
  let client = opts.client === true ? await self() : opts.client;
  if (client === undefined && provider === undefined) client = await self();
  const infos = await findDataSets(chain.market, {
    ...(client === undefined ? {} : { client }),
    ...(provider === undefined ? {} : { provider }),
    ...(opts.fromBlock === undefined ? {} : { fromBlock: opts.fromBlock }),
  });
  const fundings = await Promise.all(
    infos.map((info) =>
      info.status === "finalized" ? Promise.resolve(null) : dataSetFunding(chain.market, info),
    ),
  );
  const units = await ctx.tokenUnits();
  const clock = await ctx.periodClock();
  ctx.result(
    {
      client: client ?? null,
      provider: provider ?? null,
      token: tokenJson(units),
      dataSets: infos.map((info, i) => dataSetJson(info, fundings[i] ?? null, units, clock)),
    },
    () =>
      infos.length === 0
        ? "no data sets"
        : [
            `${infos.length} data set(s)`,
            ...infos.map((info, i) =>
              dataSetLine(info, fundings[i] ?? null, units, clock.provingPeriod, clock),
            ),
          ],
  );
}

async function renew(ctx: CliContext, target: string, periods: bigint): Promise<void> {
  const { chain, signer, market, token } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const { dataSets } = await resolveTargets(chain, target);
  const me = (await signer.getAddress()).toLowerCase();
  const foreign = dataSets.find((d) => d.client.toLowerCase() !== me);
  if (foreign !== undefined) {
    throw new StrataError("KEY_REFUSED", `data set ${foreign.id} is paid by ${foreign.client}, not by you`);
  }
  const result = await renewDataSets(
    dataSets.map((d) => d.id),
    periods,
    { market, token, signer },
  );
  const clock = await ctx.periodClock();
  const provingPeriod = clock.provingPeriod;
  // The new end of each data set, defined as `status` and `datasets list` show it (lastPaidPeriod, paidUntil).
  const after = await resolveTargets(chain, target);
  const ends = new Map<bigint, ReturnType<typeof paidThrough>>();
  for (const info of after.dataSets) {
    if (info.status === "finalized") continue;
    ends.set(info.id, paidThrough((await dataSetFunding(chain.market, info)).fundedSeconds, clock));
  }
  const endText = (id: bigint) => {
    const end = ends.get(id);
    return end === undefined || end === null ? "" : `, ${paidThroughText(end, clock)}`;
  };
  ctx.result(
    {
      periods,
      seconds: periods * provingPeriod,
      token: tokenJson(units),
      ...amountsJson({ total: result.total }, units),
      topUps: result.topUps.map((t) => ({
        ...t,
        ...amountsJson({ amount: t.amount }, units),
        ...paidThroughJson(ends.get(t.dataSetId) ?? null),
      })),
    },
    () => [
      `paid ${units.format(result.total)} for ${formatDuration(periods * provingPeriod, provingPeriod)} more`,
      ...result.topUps.map(
        (t) => `  data set #${t.dataSetId}: +${units.format(t.amount)}${endText(t.dataSetId)} (${t.txHash})`,
      ),
    ],
  );
}

async function terminate(ctx: CliContext, target: string): Promise<void> {
  const { chain, signer, market } = await ctx.signed();
  const { manifest, dataSets } = await resolveTargets(chain, target);
  let removals: DataSetRemoval[];
  if (manifest !== null) {
    removals = await removeFile(manifest, {
      signer,
      chainId: chain.chainId,
      market,
      agentFor: (endpoint) => ctx.agent(endpoint),
    });
  } else {
    removals = [];
    for (const info of dataSets) {
      if (info.status !== "live") {
        removals.push({ dataSetId: info.id, action: "already-ended" });
        continue;
      }
      const tx = await market.terminateDataSet(info.id);
      const receipt = await confirmTransaction(tx);
      let endPeriod: bigint | null = null;
      for (const log of receipt.logs) {
        const parsed = market.interface.parseLog(log);
        if (parsed?.name === "DataSetTerminated") endPeriod = parsed.args.endPeriod as bigint;
      }
      removals.push({ dataSetId: info.id, action: "terminated", txHash: tx.hash, endPeriod });
    }
  }
  const clock = await ctx.periodClock();
  ctx.result({ removals }, () =>
    removals.map((r) => {
      switch (r.action) {
        case "pieces-removed":
          return `data set #${r.dataSetId}: piece(s) at leaf ${r.offsets.join(", ")} removed (version ${r.version})`;
        case "terminated":
          return `data set #${r.dataSetId}: terminated, ends at ${r.endPeriod === null ? "an unknown period" : periodWhen(r.endPeriod, clock)} (${r.txHash})`;
        case "already-ended":
          return `data set #${r.dataSetId}: already ending or ended`;
      }
    }),
  );
}
