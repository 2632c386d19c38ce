import { stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import type { Command } from "commander";
import { checkWritable } from "../../sdk/client/files.js";
import { storeFile, type StoreEvent } from "../../sdk/client/store.js";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import { formatBytes, formatDuration } from "../format/units.js";
import { decimalAmount, list, nonNegativeInt, positiveInt } from "../parse.js";
import type { Runner } from "../runner.js";
import { pieceBars } from "../progress.js";

interface StoreOptions {
  k: number;
  m: number;
  providers?: string[];
  duration: number;
  maxPrice?: string;
  minCollateral?: string;
  out?: string;
  force?: boolean;
  applyTimeout: number;
}

export function registerStoreCommand(program: Command, run: Runner): void {
  program
    .command("store")
    .summary("store a file with k + m providers (encrypted, erasure-coded)")
    .description(
      "store a file: encrypt it, erasure-code it into k data + m parity pieces and put each piece with a different " +
        "provider (cheapest first), in the data set you hold with that provider (one is opened when you have none). " +
        "Each data set's escrow is topped up to pay --duration proving periods plus its notice. Checks funds before " +
        "uploading, retries a failed piece with another provider, and writes a manifest (keep it: it is needed to " +
        "retrieve) before any token moves",
    )
    .argument("<file>", "the file to store")
    .option("--k <n>", "data pieces (any k of the k + m pieces rebuild the file)", positiveInt, 2)
    .option("--m <n>", "parity pieces (how many providers may disappear)", nonNegativeInt, 1)
    .option(
      "--providers <list>",
      "comma-separated provider addresses or endpoints to use (default: cheapest)",
      list,
    )
    .option("--duration <periods>", "proving periods to pay for ahead", positiveInt, 24)
    .option("--max-price <amount>", "highest price accepted, in tokens per TiB per 30 days", decimalAmount)
    .option(
      "--min-collateral <amount>",
      "least collateral per TiB a provider must lock, in tokens",
      decimalAmount,
    )
    .option("--out <manifest>", "manifest to write (default: <file name>.strata.json in this folder)")
    .option("--force", "overwrite an existing manifest")
    .option(
      "--apply-timeout <seconds>",
      "how long to wait for a provider to put a data set or a signed state on chain",
      positiveInt,
      300,
    )
    .action((file: string, opts: StoreOptions, command: Command) =>
      run(command, (ctx) => store(ctx, file, opts)),
    );
}

async function store(ctx: CliContext, file: string, opts: StoreOptions): Promise<void> {
  const input = await readInput(file);
  const manifestPath = resolve(opts.out ?? `${basename(file)}.strata.json`);
  await checkWritable(manifestPath, opts.force === true);
  const { chain, signer, market, token } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const bars = pieceBars(ctx.showProgress);
  const labels = new Map<number, string>();
  const onProgress = (event: StoreEvent): void => {
    switch (event.type) {
      case "selected":
        event.providers.forEach((p, i) => labels.set(i, `piece ${i} -> ${p.address.slice(0, 10)}`));
        ctx.note(
          `providers: ${event.providers.map((p) => `${p.address} (${units.format(p.terms.pricePerTiBMonth)} per TiB-month)`).join(", ")}` +
            (event.spares > 0 ? ` + ${event.spares} spare(s)` : ""),
        );
        break;
      case "prepared":
        ctx.note(`encrypted and coded into ${event.pieces} pieces of ${formatBytes(event.pieceSize)}`);
        break;
      case "data-set":
        bars.status(event.piece, `${event.created ? "opened" : "reusing"} data set #${event.dataSetId}`);
        break;
      case "upload":
        bars.update(
          event.piece,
          event.sent,
          event.total,
          labels.get(event.piece) ?? `piece ${event.piece}`,
          event.sent === event.total ? "uploaded" : "uploading",
        );
        break;
      case "signed":
        bars.status(event.piece, `signed version ${event.version} of data set #${event.dataSetId}`);
        break;
      case "recovery-saved":
        bars.log(`manifest saved before payment: ${event.path}`);
        break;
      case "funded":
        if (event.plan.approveTx !== null)
          bars.log(`approved ${units.format(event.plan.needed)} of escrow for the market`);
        break;
      case "topped-up":
        bars.log(`data set #${event.dataSetId}: escrow +${units.format(event.amount)}`);
        break;
      case "applied":
        bars.status(event.piece, `on chain: data set #${event.dataSetId} version ${event.version}`);
        break;
      case "retry":
        labels.set(event.piece, `piece ${event.piece} -> ${event.next.slice(0, 10)}`);
        bars.log(
          `piece ${event.piece}: ${event.failed} failed (${event.reason}); retrying with ${event.next}`,
        );
        break;
      case "gave-up":
        bars.status(event.piece, "failed");
        bars.log(`piece ${event.piece}: giving up (${event.reason})`);
        break;
    }
  };
  let result;
  try {
    result = await storeFile(
      {
        file: input,
        fileName: basename(file),
        k: opts.k,
        m: opts.m,
        periods: BigInt(opts.duration),
        maxPricePerTiBMonth: opts.maxPrice === undefined ? null : units.parse(opts.maxPrice),
        minCollateralPerTiB: opts.minCollateral === undefined ? 0n : units.parse(opts.minCollateral),
        ...(opts.providers === undefined ? {} : { providers: opts.providers }),
        manifestPath,
        applyTimeoutMs: opts.applyTimeout * 1000,
        onProgress,
      },
      {
        signer,
        chainId: chain.chainId,
        market,
        registry: chain.registry,
        token,
        provider: chain.provider,
        agentFor: (endpoint) => ctx.agent(endpoint),
      },
    );
  } finally {
    bars.stop();
  }
  const { manifest } = result;
  const provingPeriod = await chain.market.provingPeriod();
  const pieces = result.placed.map((p) => ({
    piece: p.piece,
    provider: p.provider,
    endpoint: p.endpoint,
    dataSetId: p.dataSetId,
    created: p.created,
    offset: p.offset,
    version: p.state.version,
    pricePerTiBMonth: p.pricePerTiBMonth,
    topUp: p.topUp,
  }));
  ctx.result(
    {
      manifest: result.manifestPath,
      fileId: manifest.fileId,
      fileName: manifest.fileName,
      fileSize: manifest.fileSize,
      k: manifest.coding.k,
      m: manifest.coding.m,
      pieceSize: manifest.coding.shardSize,
      periods: opts.duration,
      escrowAdded: result.escrowAdded,
      pieces,
      funding: result.funding,
    },
    () => [
      `stored ${manifest.fileName} (${formatBytes(manifest.fileSize)}) as ${manifest.pieces.length} pieces of ${formatBytes(manifest.coding.shardSize)}; any ${manifest.coding.k} rebuild it`,
      ...pieces.map(
        (p) =>
          `  piece ${p.piece}: data set #${p.dataSetId}${p.created ? " (new)" : ""} with ${p.provider} at leaf ${p.offset}, ` +
          `${units.format(p.pricePerTiBMonth)} per TiB-month, escrow +${units.format(p.topUp)}`,
      ),
      `  escrow added ${units.format(result.escrowAdded)}: ${formatDuration(BigInt(opts.duration) * provingPeriod, provingPeriod)} paid ahead plus each data set's notice`,
      `manifest: ${result.manifestPath} (keep it safe: it holds the wrapped file key and where the pieces are)`,
    ],
  );
}

/** The file to store, streamed from disk by storeFile (never read whole into memory). */
async function readInput(file: string): Promise<{ path: string; size: number }> {
  let info;
  try {
    info = await stat(file);
  } catch (cause) {
    throw new StrataError("FILE_NOT_FOUND", `no file at ${file}`, { cause });
  }
  if (!info.isFile()) throw new StrataError("INVALID_ARGUMENT", `${file} is not a regular file`);
  return { path: file, size: info.size };
}
