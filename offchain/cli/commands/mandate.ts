import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { RepairMandateFactory__factory } from "../../../typechain-types/index.js";
import { StrataError } from "../../sdk/errors.js";
import { loadManifest } from "../../sdk/manifest/manifest.js";
import { encodeRepairBrief } from "../../sdk/repair/brief.js";
import { defaultBriefPath, mandateFactoryAddress, openMandateForFile } from "../../sdk/repair/forFile.js";
import type { CliContext } from "../context.js";
import { address, decimalAmount, list, nonNegativeInt } from "../parse.js";
import type { Runner } from "../runner.js";
import { checkManifestChain } from "../targets.js";
import { confirmTransaction } from "../../sdk/chain/confirm.js";

interface MandateOptions {
  budget: string;
  reward: string;
  maxPrice?: string;
  minCollateral?: string;
  prepaidPeriods: number;
  exclude?: string[];
  factory?: string;
  brief?: string;
  share?: string;
}

export function registerMandateCommand(program: Command, run: Runner): void {
  program
    .command("mandate")
    .summary("let anyone repair a stored file without you online (sign + fund a repair mandate)")
    .description(
      "open a repair mandate for a stored file (docs/SPEC.md §16.1): sign its terms (price ceiling, collateral " +
        "floor, excluded providers, reward per repair, budget) over the file's piece list and move the budget into " +
        "the mandate's wallet. When a piece is lost, any repairer (a watcher's worker, or you with strata repair) " +
        "rebuilds it onto a new provider within these terms and is paid the reward from the budget. Writes the " +
        "file's repair brief (piece list and coding, nothing secret) for the repairers: hand it to a watcher " +
        "(--share <its repair.briefsDir>).",
    )
    .argument("<manifest>", "the manifest written by strata store")
    .requiredOption(
      "--budget <tokens>",
      "tokens moved into the mandate (repair escrows and rewards)",
      decimalAmount,
    )
    .option("--reward <tokens>", "reward per repair (capped on chain)", decimalAmount, "1")
    .option(
      "--max-price <tokens>",
      "highest price per TiB-month of a repair data set (default: the highest of the file's data sets)",
      decimalAmount,
    )
    .option(
      "--min-collateral <tokens>",
      "lowest collateral per TiB of a repair data set (default: the lowest of the file's data sets)",
      decimalAmount,
    )
    .option(
      "--prepaid-periods <n>",
      "proving periods paid into a repair data set beyond its lockup",
      nonNegativeInt,
      24,
    )
    .option("--exclude <addresses>", "providers never chosen for a repair (comma-separated, at most 8)", list)
    .option("--factory <address>", "the RepairMandateFactory (default: the deployment's)", address)
    .option("--brief <file>", "where to write the repair brief (default: <manifest>.repair.json)")
    .option("--share <dir>", "also write the brief as <dir>/<mandate>.json (a worker's repair.briefsDir)")
    .action((manifestPath: string, opts: MandateOptions, command: Command) =>
      run(command, (ctx) => openMandate(ctx, manifestPath, opts)),
    );
}

async function openMandate(ctx: CliContext, manifestPath: string, opts: MandateOptions): Promise<void> {
  const manifest = await loadManifest(manifestPath);
  const { chain, signer, token } = await ctx.signed();
  checkManifestChain(manifest, chain);
  const units = await ctx.tokenUnits();
  const factoryAddress = opts.factory ?? (await mandateFactoryAddress(chain.deployment));
  if (factoryAddress === null) {
    throw new StrataError("DEPLOYMENT_NOT_FOUND", "this deployment has no RepairMandateFactory", {
      details: "pass --factory <address>",
    });
  }
  const factory = RepairMandateFactory__factory.connect(factoryAddress, signer);
  const views = await Promise.all(
    [...new Set(manifest.pieces.map((p) => p.dataSetId))].map((id) => chain.market.dataSet(id)),
  );
  const first = views[0];
  if (first === undefined) throw new StrataError("BAD_MANIFEST", "the manifest lists no pieces");
  const prices = views.map((v) => v.pricePerTiBMonth);
  const collaterals = views.map((v) => v.collateralPerTiB);
  const exclude = opts.exclude ?? [];
  if (exclude.length > 8) throw new StrataError("INVALID_ARGUMENT", "--exclude lists more than 8 providers");
  const budget = units.parse(opts.budget);
  const balance = await chain.token.balanceOf(await signer.getAddress());
  if (balance < budget) {
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the wallet holds ${units.format(balance)}, less than the budget ${units.format(budget)}`,
    );
  }
  const block = await chain.provider.getBlock("latest");
  ctx.note(`opening a repair mandate for ${manifest.fileName} (${manifest.pieces.length} pieces)…`);
  const opened = await openMandateForFile({
    manifest,
    owner: signer,
    factory,
    approve: async (spender, amount) => {
      await confirmTransaction(await token.approve(spender, amount));
    },
    terms: {
      priceCeiling:
        opts.maxPrice === undefined ? prices.reduce((a, b) => (a > b ? a : b)) : units.parse(opts.maxPrice),
      collateralFloor:
        opts.minCollateral === undefined
          ? collaterals.reduce((a, b) => (a < b ? a : b))
          : units.parse(opts.minCollateral),
      noticePeriods: first.noticePeriods,
      prepaidPeriods: BigInt(opts.prepaidPeriods),
      repairReward: units.parse(opts.reward),
      budget,
      excluded: exclude,
    },
    now: BigInt(block?.timestamp ?? Math.floor(Date.now() / 1000)),
  });
  const briefPath = resolve(opts.brief ?? defaultBriefPath(manifestPath));
  const text = `${JSON.stringify(encodeRepairBrief(opened.brief), null, 2)}\n`;
  await mkdir(dirname(briefPath), { recursive: true });
  await writeFile(briefPath, text);
  let shared: string | null = null;
  if (opts.share !== undefined) {
    shared = join(resolve(opts.share), `${opened.mandate}.json`);
    await mkdir(dirname(shared), { recursive: true });
    await writeFile(shared, text);
  }
  const t = opened.terms;
  ctx.result(
    {
      mandate: opened.mandate,
      factory: factoryAddress,
      owner: t.owner,
      piecesRoot: t.piecesRoot,
      pieceCount: t.pieceCount,
      priceCeiling: t.priceCeiling,
      collateralFloor: t.collateralFloor,
      noticePeriods: t.noticePeriods,
      prepaidPeriods: t.prepaidPeriods,
      repairReward: t.repairReward,
      budget: t.budget,
      excluded: t.excluded,
      brief: briefPath,
      shared,
      txHash: opened.txHash,
    },
    () => [
      `repair mandate ${opened.mandate} opened for ${manifest.fileName} with a budget of ${units.format(t.budget)}`,
      `  repairs at most ${units.format(t.priceCeiling)} per TiB-month, at least ${units.format(t.collateralFloor)} ` +
        `collateral per TiB, reward ${units.format(t.repairReward)} per repair (capped on chain)`,
      `  repair brief: ${briefPath}${shared === null ? "" : ` (shared as ${shared})`}`,
    ],
  );
}
