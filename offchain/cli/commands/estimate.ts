import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { quoteStorage, pieceLayout } from "../../sdk/client/quote.js";
import { selectProviders } from "../../sdk/client/selectProviders.js";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import { amountsJson, formatBytes, formatDuration, tokenJson } from "../format/units.js";
import { byteSize, decimalAmount, list, nonNegativeInt, positiveInt } from "../parse.js";
import type { Runner } from "../runner.js";

interface EstimateOptions {
  k: number;
  m: number;
  duration: number;
  maxPrice?: string;
  minCollateral?: string;
  providers?: string[];
}

export function registerEstimateCommand(program: Command, run: Runner): void {
  program
    .command("estimate")
    .summary("what storing a file would cost, before storing it (no key needed)")
    .description(
      "quote the cost of storing a file (or a size) the way strata store would: the providers it would choose " +
        "(cheapest first, asked for their terms), the escrow each data set must hold — the lockup that pays the " +
        "notice plus --duration proving periods — and the total in tokens. Nothing is signed or sent",
    )
    .argument("<size|file>", "a file, or a size such as 1048576, 512MiB, 2GiB")
    .option("--k <n>", "data pieces (any k of the k + m pieces rebuild the file)", positiveInt, 2)
    .option("--m <n>", "parity pieces (how many providers may disappear)", nonNegativeInt, 1)
    .option("--duration <periods>", "proving periods to pay for ahead", positiveInt, 24)
    .option("--max-price <amount>", "highest price accepted, in tokens per TiB per 30 days", decimalAmount)
    .option(
      "--min-collateral <amount>",
      "least collateral per TiB a provider must lock, in tokens",
      decimalAmount,
    )
    .option("--providers <list>", "comma-separated provider addresses or endpoints to quote", list)
    .action((target: string, opts: EstimateOptions, command: Command) =>
      run(command, (ctx) => estimate(ctx, target, opts)),
    );
}

/** A file's size, or the size written on the command line (a file of that name wins). */
async function sizeOf(target: string): Promise<{ fileSize: number; file: string | null }> {
  if (existsSync(target)) {
    const info = await stat(target);
    if (!info.isFile()) throw new StrataError("INVALID_ARGUMENT", `${target} is not a file`);
    return { fileSize: info.size, file: target };
  }
  let size: bigint;
  try {
    size = byteSize(target);
  } catch {
    throw new StrataError("FILE_NOT_FOUND", `${target} is neither a file nor a size`, {
      details: "pass a file, or a size such as 1048576, 512MiB or 2GiB",
    });
  }
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new StrataError("AMOUNT_OUT_OF_RANGE", `${target} is larger than a file the client can store`);
  }
  return { fileSize: Number(size), file: null };
}

async function estimate(ctx: CliContext, target: string, opts: EstimateOptions): Promise<void> {
  const { fileSize, file } = await sizeOf(target);
  const { pieceSize } = pieceLayout(fileSize, opts.k, opts.m);
  const chain = await ctx.chain();
  const units = await ctx.tokenUnits();
  const provingPeriod = await chain.market.provingPeriod();
  const selection = await selectProviders(
    {
      count: opts.k + opts.m,
      pieceSize: BigInt(pieceSize),
      chainId: chain.chainId,
      market: chain.deployment.market,
      provingPeriod,
      maxPricePerTiBMonth: opts.maxPrice === undefined ? null : units.parse(opts.maxPrice),
      minCollateralPerTiB: opts.minCollateral === undefined ? 0n : units.parse(opts.minCollateral),
      ...(opts.providers === undefined ? {} : { providers: opts.providers }),
    },
    { registry: chain.registry, agentFor: (endpoint) => ctx.agent(endpoint, { timeoutMs: 3000 }) },
  );
  const quote = quoteStorage({
    fileSize,
    k: opts.k,
    m: opts.m,
    periods: BigInt(opts.duration),
    provingPeriod,
    offers: selection.chosen.map((offer) => ({
      provider: offer.address,
      pricePerTiBMonth: offer.terms.pricePerTiBMonth,
      noticePeriods: offer.terms.noticePeriods,
      collateral: offer.collateral,
    })),
  });
  ctx.result(
    {
      file,
      fileSize,
      k: quote.k,
      m: quote.m,
      pieceSize: quote.pieceSize,
      storedBytes: quote.storedBytes,
      periods: quote.periods,
      provingPeriodSeconds: provingPeriod,
      prepaidSeconds: quote.prepaidSeconds,
      token: tokenJson(units),
      ...amountsJson(
        { total: quote.total, lockup: quote.lockup, prepaid: quote.prepaid, perPeriod: quote.perPeriod },
        units,
      ),
      pieces: quote.pieces.map((p) => ({
        piece: p.piece,
        provider: p.provider,
        endpoint: selection.chosen[p.piece]?.endpoint ?? null,
        ...amountsJson(
          { pricePerTiBMonth: p.pricePerTiBMonth, lockup: p.lockup, prepaid: p.prepaid, total: p.total },
          units,
        ),
      })),
      spareProviders: selection.spares.length,
    },
    () => [
      `${file ?? "a file"} of ${formatBytes(fileSize)} as ${quote.k} + ${quote.m} pieces of ${formatBytes(quote.pieceSize)} ` +
        `(${formatBytes(quote.storedBytes)} held in all), paid ${formatDuration(quote.prepaidSeconds, provingPeriod)} ahead:`,
      ...quote.pieces.map(
        (p) =>
          `  piece ${p.piece} -> ${p.provider} at ${units.format(p.pricePerTiBMonth)} per TiB-month: ` +
          `${units.format(p.total)} (lockup ${units.format(p.lockup)} + prepaid ${units.format(p.prepaid)})`,
      ),
      `total ${units.format(quote.total)} into escrow (${units.format(quote.lockup)} stays locked until the data ` +
        `sets end; ${units.format(quote.perPeriod)} per proving period)`,
    ],
  );
}
