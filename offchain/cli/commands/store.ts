import { createReadStream } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { filesOf, type Catalog } from "../../runtime/catalog/catalog.js";
import { readDataSet } from "../../sdk/client/dataSets.js";
import { geometryFor } from "../../sdk/data/chunked.js";
import { estimateStore, type StoreEstimate } from "../../sdk/client/estimate.js";
import { placementFromJson, placementToJson } from "../../sdk/client/placementRecord.js";
import {
  fundAndApply,
  piecesDirFor,
  stopIfAsked,
  storeFile,
  type PreparedPieces,
  type StoreEvent,
  type StoreResult,
} from "../../sdk/client/store.js";
import { StrataError } from "../../sdk/errors.js";
import { ciphertextIds, packFiles, piecesPayloadReader, planBundles } from "../../sdk/files/bundle.js";
import { publicCid } from "../../sdk/files/cid.js";
import { encryptionOf, loadManifest, saveManifest, type ManifestFile } from "../../sdk/manifest/manifest.js";
import type { CliContext, TokenUnits } from "../context.js";
import { catalogOption, jsonEvents, openCatalog, type CatalogOption } from "../files/catalogOption.js";
import { collectInputs, type InputFile } from "../files/inputs.js";
import { catchInterrupts } from "../files/interrupt.js";
import { checkOutputPath } from "../files/outputs.js";
import { formatBytes, formatDuration } from "../format/units.js";
import { byteSize, decimalAmount, list, nonNegativeInt, positiveInt } from "../parse.js";
import { pieceBars } from "../progress.js";
import type { Runner } from "../runner.js";
import { storePermanentFiles } from "../files/permanent.js";

interface StoreOptions extends CatalogOption {
  k: number;
  m: number;
  providers?: string[];
  duration: number;
  maxPrice?: string;
  minCollateral?: string;
  out?: string;
  force?: boolean;
  applyTimeout: number;
  public?: boolean;
  replicas: number;
  dryRun?: boolean;
  resume?: string;
  bundleSize?: bigint;
  permanent?: boolean;
  yes?: boolean;
  wait: number;
  maxPayment?: string;
}

/** Files are packed into payloads of at most this many bytes (each payload is one manifest). */
const DEFAULT_BUNDLE = "1GiB";

export function registerStoreCommand(program: Command, run: Runner): void {
  const command = program
    .command("store")
    .summary("store files with k + m providers (packed, encrypted, erasure-coded), or --public as replicas")
    .description(
      "store files: small files are packed together into one payload (a file costs its bytes, not a piece), which " +
        "is encrypted, erasure-coded into k data + m parity pieces, each put with a different provider (cheapest " +
        "first) in the data set you hold with it. Each data set's escrow is topped up to pay --duration proving " +
        "periods plus its notice. Output paths and funds are checked before any work; the manifest (as " +
        "<out>.partial) and the local catalog hold everything needed to recover before any token moves. Ctrl-C " +
        "stops at the next safe point and says how to resume (--resume) or undo. With --json, progress events go " +
        "to stderr as JSON lines",
    )
    .argument("[paths...]", "files and folders to store (a folder's files keep their paths inside it)")
    .option("--k <n>", "data pieces (any k of the k + m pieces rebuild the payload)", positiveInt, 2)
    .option("--m <n>", "parity pieces (how many providers may disappear)", nonNegativeInt, 1)
    .option(
      "--providers <list>",
      "comma-separated provider addresses or endpoints to use (default: cheapest; with --permanent: the agents " +
        "the pieces are handed to)",
      list,
    )
    .option("--duration <periods>", "proving periods to pay for ahead", positiveInt, 24)
    .option("--max-price <amount>", "highest price accepted, in tokens per TiB per 30 days", decimalAmount)
    .option(
      "--min-collateral <amount>",
      "least collateral per TiB a provider must lock, in tokens",
      decimalAmount,
    )
    .option(
      "--out <manifest>",
      "manifest to write (default: <name>.strata.json in this folder; several payloads add .2, .3 …)",
    )
    .option("--force", "replace an existing manifest (regular files only)")
    .option(
      "--apply-timeout <seconds>",
      "how long to wait for a provider to put a data set or a signed state on chain",
      positiveInt,
      300,
    )
    .option(
      "--public",
      "store in the clear for anyone, as --replicas full copies (--k/--m do not apply): each file gets the CIDv1 " +
        "`ipfs add --cid-version 1` computes, and every provider holding it serves it at /v1/files/<cid> " +
        "(strata get <cid> fetches it without the manifest)",
    )
    .option("--replicas <n>", "providers holding a full copy of public files (1..7)", positiveInt, 3)
    .option("--dry-run", "print the providers, prices, collateral and escrow a store would pay, and stop")
    .option(
      "--resume <partial>",
      "finish a store that stopped after its pieces were signed (its .partial manifest)",
    )
    .option(
      "--bundle-size <size>",
      `largest payload files are packed into (default ${DEFAULT_BUNDLE})`,
      byteSize,
    )
    .option(
      "--permanent",
      "pay once to keep each file permanently (docs/SPEC.md §16.2): quotes the one-time price, asks to confirm, " +
        "pays, hands each piece to a provider agent once, and providers place them through open offers; the file " +
        "is stored as given (encrypt a private file first). --dry-run only quotes",
    )
    .option("--yes", "with --permanent: pay the quote without asking")
    .option(
      "--wait <seconds>",
      "with --permanent: wait this long for every piece to be live",
      nonNegativeInt,
      0,
    )
    .option(
      "--max-payment <amount>",
      "with --permanent: most paid for all the files, in tokens",
      decimalAmount,
    );
  catalogOption(command).action((paths: string[], opts: StoreOptions, cmd: Command) =>
    run(cmd, (ctx) =>
      opts.permanent === true
        ? storePermanentFiles(ctx, paths, opts)
        : opts.resume === undefined
          ? store(ctx, paths, opts)
          : resume(ctx, opts.resume, opts),
    ),
  );
}

interface Bundle {
  files: InputFile[];
  manifestPath: string;
  bytes: number;
}

async function store(ctx: CliContext, paths: string[], opts: StoreOptions): Promise<void> {
  const inputs = await collectInputs(paths);
  for (const skipped of inputs.skipped) ctx.note(`skipped ${skipped} (not a regular file)`);
  const limit = Number(opts.bundleSize ?? byteSize(DEFAULT_BUNDLE));
  const plan = planBundles(
    inputs.files.map((f) => f.size),
    limit,
  );
  const out = resolve(opts.out ?? `${inputs.name}.strata.json`);
  const bundles: Bundle[] = plan.map((indexes, i) => {
    const files = indexes.map((index) => inputs.files[index]).filter((f): f is InputFile => f !== undefined);
    return {
      files,
      manifestPath:
        plan.length === 1 ? out : out.replace(/(\.strata\.json|\.json)?$/, (ext) => `.${i + 1}${ext}`),
      bytes: files.reduce((sum, f) => sum + f.size, 0),
    };
  });
  const chain = await ctx.chain();
  const units = await ctx.tokenUnits();
  const common = {
    ...(opts.public === true ? { k: 1, m: opts.replicas - 1 } : { k: opts.k, m: opts.m }),
    periods: BigInt(opts.duration),
    maxPricePerTiBMonth: opts.maxPrice === undefined ? null : units.parse(opts.maxPrice),
    minCollateralPerTiB: opts.minCollateral === undefined ? 0n : units.parse(opts.minCollateral),
    ...(opts.providers === undefined ? {} : { providers: opts.providers }),
  };
  if (opts.dryRun === true) {
    const estimates = [];
    for (const bundle of bundles) {
      estimates.push(
        await estimateStore(
          { ...common, payloadBytes: bundle.bytes, public: opts.public === true },
          {
            chainId: chain.chainId,
            market: chain.market,
            registry: chain.registry,
            agentFor: (endpoint) => ctx.agent(endpoint),
          },
        ),
      );
    }
    printEstimate(ctx, bundles, estimates, units);
    return;
  }
  // Every output path is checked before any work: nothing is uploaded or paid for a manifest that cannot be kept.
  for (const bundle of bundles) {
    await checkOutputPath(bundle.manifestPath, opts.force === true);
    await checkOutputPath(`${bundle.manifestPath}.partial`, opts.force === true);
  }
  const catalog = openCatalog(ctx, opts);
  const emitJson = jsonEvents(ctx);
  const interrupt = catchInterrupts((name) => {
    ctx.io.stderr(`strata: ${name} received, stopping at the next safe point…\n`);
  });
  const { signer, market, token } = await ctx.signed();
  const done: { bundle: Bundle; result: StoreResult }[] = [];
  try {
    for (const bundle of bundles) {
      const storedSoFar = done.map((d) => d.result.manifestPath).join(", ");
      stopIfAsked(
        interrupt.signal,
        storedSoFar === ""
          ? "before any work: nothing was uploaded or paid"
          : `between payloads: ${storedSoFar} are stored; the rest was not started (store those files again)`,
      );
      try {
        const result = await storeBundle(ctx, bundle, opts, catalog, interrupt.signal, emitJson, units, {
          ...common,
          signer,
          market,
          token,
        });
        done.push({ bundle, result });
      } catch (error) {
        if (done.length > 0 && error instanceof StrataError) {
          throw new StrataError(error.code, error.message, {
            details: `${error.details ?? ""} (already stored: ${done.map((d) => d.result.manifestPath).join(", ")})`,
            cause: error,
          });
        }
        throw error;
      }
    }
  } finally {
    interrupt.release();
    catalog.close();
  }
  const provingPeriod = await chain.market.provingPeriod();
  const payloads = done.map(({ result }) => summary(result));
  const files = done.flatMap(({ result }) => filesOf(result.manifest));
  ctx.result(payloads.length === 1 ? { ...payloads[0], payloads } : { payloads, files }, () => [
    ...done.flatMap(({ result }) => humanLines(result, units)),
    `  ${files.length} file(s); escrow paid ${formatDuration(BigInt(opts.duration) * provingPeriod, provingPeriod)} ahead plus each data set's notice`,
  ]);
}

interface StoreContext {
  k: number;
  m: number;
  periods: bigint;
  maxPricePerTiBMonth: bigint | null;
  minCollateralPerTiB: bigint;
  providers?: string[];
  signer: Awaited<ReturnType<CliContext["signed"]>>["signer"];
  market: Awaited<ReturnType<CliContext["signed"]>>["market"];
  token: Awaited<ReturnType<CliContext["signed"]>>["token"];
}

async function storeBundle(
  ctx: CliContext,
  bundle: Bundle,
  opts: StoreOptions,
  catalog: Catalog,
  signal: AbortSignal,
  emitJson: (event: object) => void,
  units: TokenUnits,
  store: StoreContext,
): Promise<StoreResult> {
  const chain = await ctx.chain();
  const isPublic = opts.public === true;
  // A single file is streamed from disk (bounded memory, any size); files packed together are read into memory,
  // a bundle being at most --bundle-size.
  const single = bundle.files.length === 1 ? bundle.files[0] : undefined;
  let source: { file: { path: string; size: number } } | { bytes: Uint8Array };
  let entries: { name: string; offset: number; size: number; sha256?: string }[];
  let publicIdOf: (entry: { offset: number; size: number }) => Promise<string>;
  if (single !== undefined) {
    source = { file: { path: single.path, size: single.size } };
    entries = [{ name: single.name, offset: 0, size: single.size }];
    publicIdOf = () => publicCid(createReadStream(single.path));
  } else {
    const contents = await Promise.all(
      bundle.files.map(async (file) => ({
        name: file.name,
        bytes: new Uint8Array(await readFile(file.path)),
      })),
    );
    const packed = packFiles(contents);
    source = { bytes: packed.bytes };
    entries = packed.entries;
    publicIdOf = (e) => publicCid(packed.bytes.subarray(e.offset, e.offset + e.size));
  }
  // Public files' CIDs are computed from the files while the payload is being prepared (from the first data set
  // on, once the funds were checked), not after it.
  let publicIds: Promise<string[]> | undefined;
  const startPublicIds = (): Promise<string[]> => {
    if (publicIds === undefined) {
      publicIds = Promise.all(entries.map(publicIdOf));
      publicIds.catch(() => undefined); // awaited by describeFiles; a store that fails first never asks
    }
    return publicIds;
  };
  const describeFiles = async (prepared: PreparedPieces): Promise<ManifestFile[]> => {
    const draft = prepared.manifestDraft;
    const paths = prepared.pieces.slice(0, store.k).map((p) => p.path ?? "");
    // The ciphertext ids were computed while the payload was encrypted (packedFiles); reading them back from the
    // pieces is the fallback.
    const ids = isPublic
      ? await startPublicIds()
      : (prepared.ciphertextIds ??
        (await ciphertextIds(
          piecesPayloadReader(paths, geometryFor(draft.coding.payloadSize, store.k, draft.coding.stripeSize)),
          { chunkSize: encryptionOf(draft).chunkSize, payloadSize: draft.coding.payloadSize },
          entries,
        )));
    // A single file's sha256 is the payload's, computed while it was encrypted.
    return entries.map((entry, i) => ({
      ...entry,
      sha256: entry.sha256 ?? draft.fileHash,
      id: ids[i] ?? "",
      public: isPublic,
    }));
  };
  const bars = pieceBars(ctx.showProgress);
  let manifestId: string | null = null;
  const onProgress = (event: StoreEvent): void => {
    handle(event);
    // After the event is handled: a "recovery-saved" line means the catalog row is durable too.
    emitJson({
      ...event,
      ...("manifest" in event ? { manifest: event.manifest.fileId, placed: undefined } : {}),
    });
  };
  const handle = (event: StoreEvent): void => {
    switch (event.type) {
      case "selected":
        ctx.note(
          `providers: ${event.providers.map((p) => `${p.address} (${units.format(p.terms.pricePerTiBMonth)} per TiB-month)`).join(", ")}` +
            (event.spares > 0 ? ` + ${event.spares} spare(s)` : ""),
        );
        break;
      case "prepared":
        ctx.note(
          isPublic
            ? `${bundle.files.length} public file(s), ${formatBytes(bundle.bytes)}: ${event.pieces} full replicas of ${formatBytes(event.pieceSize)}, in the clear`
            : `${bundle.files.length} file(s), ${formatBytes(bundle.bytes)}: encrypted and coded into ${event.pieces} pieces of ${formatBytes(event.pieceSize)}`,
        );
        break;
      case "data-set":
        if (isPublic) void startPublicIds();
        bars.status(event.piece, `${event.created ? "opened" : "reusing"} data set #${event.dataSetId}`);
        break;
      case "upload":
        bars.update(event.piece, event.sent, event.total, `piece ${event.piece}`, "uploading");
        break;
      case "signed":
        bars.status(event.piece, `signed version ${event.version} of data set #${event.dataSetId}`);
        break;
      case "recovery-saved":
        // Durable before any token moves: the catalog row (committed, synchronous FULL) and the .partial file.
        manifestId = event.manifest.fileId;
        catalog.recordPartial(
          event.manifest,
          event.path,
          new Map(event.placed.map((p) => [p.piece, placementToJson(p)])),
        );
        for (const p of event.placed) {
          catalog.recordDataSet({
            chainId: chain.chainId,
            market: event.manifest.market,
            id: p.dataSetId,
            provider: p.provider,
            endpoint: p.endpoint,
            pricePerTiBMonth: p.pricePerTiBMonth,
          });
        }
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
        if (manifestId !== null) catalog.markApplied(manifestId, event.piece);
        bars.status(event.piece, `on chain: data set #${event.dataSetId} version ${event.version}`);
        break;
      case "retry":
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
  try {
    const result = await storeFile(
      {
        ...source,
        fileName: bundle.files.length === 1 ? (bundle.files[0]?.name.split("/").at(-1) ?? "file") : "bundle",
        k: store.k,
        m: store.m,
        public: isPublic,
        replicas: store.k + store.m,
        periods: store.periods,
        maxPricePerTiBMonth: store.maxPricePerTiBMonth,
        minCollateralPerTiB: store.minCollateralPerTiB,
        ...(store.providers === undefined ? {} : { providers: store.providers }),
        manifestPath: bundle.manifestPath,
        applyTimeoutMs: opts.applyTimeout * 1000,
        onProgress,
        signal,
        describeFiles,
        ...(isPublic ? {} : { packedFiles: entries }),
      },
      {
        signer: store.signer,
        chainId: chain.chainId,
        market: store.market,
        registry: chain.registry,
        token: store.token,
        provider: chain.provider,
        blocks: chain.provider,
        agentFor: (endpoint) => ctx.agent(endpoint),
      },
    );
    catalog.markStored(result.manifest, result.manifestPath);
    return result;
  } finally {
    bars.stop();
  }
}

/** `store --resume <partial>`: pay for and apply the signed placements a stopped store left in the catalog. */
async function resume(ctx: CliContext, target: string, opts: StoreOptions): Promise<void> {
  const catalog = openCatalog(ctx, opts);
  const emitJson = jsonEvents(ctx);
  const interrupt = catchInterrupts((name) => {
    ctx.io.stderr(`strata: ${name} received, stopping at the next safe point…\n`);
  });
  try {
    const id = /^0x[0-9a-fA-F]{32}$/.test(target)
      ? target.toLowerCase()
      : (await loadManifest(target)).fileId;
    const entry = catalog.manifest(id);
    const partialPath = entry.path ?? resolve(target);
    const finalPath = partialPath.replace(/\.partial$/, "");
    if (entry.status !== "partial") {
      ctx.result({ manifest: finalPath, fileId: id, status: entry.status, resumed: false }, () => [
        `nothing to resume: ${id} is ${entry.status} (${finalPath})`,
      ]);
      return;
    }
    await checkOutputPath(finalPath, true);
    const { chain, signer, market, token } = await ctx.signed();
    const pending = [];
    for (const piece of catalog.pieces(id)) {
      if (piece.applied) continue;
      if (piece.placement === null) {
        throw new StrataError("CATALOG_DB_ERROR", `piece ${piece.piece} of ${id} has no recorded placement`, {
          details: "the store cannot be resumed: store the files again",
        });
      }
      const placed = placementFromJson(piece.placement);
      const info = await readDataSet(chain.market, placed.dataSetId);
      if (info.version >= placed.state.version) catalog.markApplied(id, piece.piece);
      else pending.push(placed);
    }
    const onProgress = (event: StoreEvent): void => {
      emitJson(event);
      if (event.type === "applied") catalog.markApplied(id, event.piece);
      if (event.type === "topped-up")
        ctx.note(`data set #${event.dataSetId}: escrow +${units.format(event.amount)}`);
    };
    const units = await ctx.tokenUnits();
    const { escrowAdded, failures } = await fundAndApply(
      {
        manifest: entry.manifest,
        placements: pending,
        periods: BigInt(opts.duration),
        partialPath,
        piecesDir: piecesDirFor(finalPath),
        signal: interrupt.signal,
        onProgress,
      },
      {
        signer,
        market,
        token,
        agentFor: (endpoint) => ctx.agent(endpoint),
        sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
        now: Date.now,
        timeoutMs: opts.applyTimeout * 1000,
        pollMs: 1000,
        blocks: chain.provider,
      },
    );
    if (failures.length > 0) {
      throw new StrataError(
        "STORE_INCOMPLETE",
        `${failures.length} piece(s) could not be applied; the manifest stays at ${partialPath}`,
        {
          details:
            failures.map((f) => `piece ${f.piece} at ${f.provider}: ${f.reason}`).join("; ") +
            ". Run --resume again, or store the files again (strata withdraw recovers escrow)",
        },
      );
    }
    await saveManifest(finalPath, entry.manifest);
    await rm(partialPath, { force: true });
    await rm(piecesDirFor(finalPath), { recursive: true, force: true });
    catalog.markStored(entry.manifest, finalPath);
    ctx.result(
      { manifest: finalPath, fileId: id, resumed: true, piecesApplied: pending.length, escrowAdded },
      () => [
        `resumed ${id}: ${pending.length} piece(s) paid and applied, escrow +${units.format(escrowAdded)}`,
        `manifest: ${finalPath}`,
      ],
    );
  } finally {
    interrupt.release();
    catalog.close();
  }
}

function summary(result: StoreResult) {
  const { manifest } = result;
  return {
    manifest: result.manifestPath,
    fileId: manifest.fileId,
    fileName: manifest.fileName,
    fileSize: manifest.fileSize,
    public: manifest.public === true,
    k: manifest.coding.k,
    m: manifest.coding.m,
    pieceSize: manifest.coding.shardSize,
    escrowAdded: result.escrowAdded,
    files: filesOf(manifest),
    pieces: result.placed.map((p) => ({
      piece: p.piece,
      provider: p.provider,
      endpoint: p.endpoint,
      dataSetId: p.dataSetId,
      created: p.created,
      offset: p.offset,
      version: p.state.version,
      pricePerTiBMonth: p.pricePerTiBMonth,
      topUp: p.topUp,
    })),
    funding: result.funding,
  };
}

function humanLines(result: StoreResult, units: TokenUnits): string[] {
  const { manifest } = result;
  const files = filesOf(manifest);
  return [
    manifest.public === true
      ? `stored ${files.length} public file(s), ${formatBytes(manifest.fileSize)}, as ${manifest.pieces.length} full replicas: any one provider serves every file at /v1/files/<cid> (strata get <cid>)`
      : `stored ${files.length} file(s), ${formatBytes(manifest.fileSize)}, as ${manifest.pieces.length} pieces of ${formatBytes(manifest.coding.shardSize)}; any ${manifest.coding.k} rebuild them`,
    ...files.slice(0, 20).map((f) => `  ${f.name} (${formatBytes(f.size)}) ${f.id}`),
    ...(files.length > 20 ? [`  … and ${files.length - 20} more (strata ls)`] : []),
    ...result.placed.map(
      (p) =>
        `  piece ${p.piece}: data set #${p.dataSetId}${p.created ? " (new)" : ""} with ${p.provider} at leaf ${p.offset}, ` +
        `${units.format(p.pricePerTiBMonth)} per TiB-month, escrow +${units.format(p.topUp)}`,
    ),
    `manifest: ${result.manifestPath} (keep it safe: it holds the wrapped key and where the pieces are)`,
  ];
}

function printEstimate(
  ctx: CliContext,
  bundles: readonly Bundle[],
  estimates: readonly StoreEstimate[],
  units: TokenUnits,
): void {
  const total = (pick: (e: StoreEstimate) => bigint) => estimates.reduce((sum, e) => sum + pick(e), 0n);
  ctx.result(
    {
      dryRun: true,
      payloads: estimates.map((e, i) => ({
        manifest: bundles[i]?.manifestPath,
        files: bundles[i]?.files.length,
        bytes: bundles[i]?.bytes,
        ...e,
      })),
      perMonth: total((e) => e.perMonth),
      periodCost: total((e) => e.periodCost),
      escrow: total((e) => e.escrow),
      collateral: total((e) => e.collateral),
    },
    () => [
      ...estimates.flatMap((e, i) => [
        `payload ${i + 1}: ${bundles[i]?.files.length ?? 0} file(s), ${formatBytes(bundles[i]?.bytes ?? 0)} -> ${e.providers.length} pieces of ${formatBytes(e.pieceSize)} (billed ${formatBytes(e.billedBytes)} each)`,
        ...e.providers.map(
          (p) =>
            `  piece ${p.piece}: ${p.address} ${units.format(p.pricePerTiBMonth)} per TiB-month, collateral ${units.format(p.collateral)}, ` +
            `${units.format(p.periodCost)} for ${e.periods} periods`,
        ),
      ]),
      `cost: ${units.format(total((e) => e.perMonth))} per month, ${units.format(total((e) => e.periodCost))} for the paid periods`,
      `escrow a store would add: ${units.format(total((e) => e.escrow))} (periods plus each data set's notice); providers lock ${units.format(total((e) => e.collateral))} of collateral`,
      "dry run: nothing was uploaded or paid",
    ],
  );
}
