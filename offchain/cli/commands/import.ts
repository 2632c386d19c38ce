import { resolve } from "node:path";
import type { Command } from "commander";
import { filesOf } from "../../runtime/catalog/catalog.js";
import { loadManifest } from "../../sdk/manifest/manifest.js";
import type { CliContext } from "../context.js";
import { catalogOption, openCatalog, type CatalogOption } from "../files/catalogOption.js";
import type { Runner } from "../runner.js";

export function registerImportCommand(program: Command, run: Runner): void {
  catalogOption(
    program
      .command("import")
      .summary("add a manifest's files to the local catalog")
      .description(
        "rebuild the catalog entry of a stored payload from its manifest (the portable recovery document): its " +
          "files, pieces and data sets; needs no chain",
      )
      .argument("<manifest>", "a manifest written by strata store"),
  ).action((path: string, opts: CatalogOption, command: Command) =>
    run(command, (ctx) => importManifest(ctx, path, opts)),
  );
}

async function importManifest(ctx: CliContext, path: string, opts: CatalogOption): Promise<void> {
  const manifest = await loadManifest(path);
  const catalog = openCatalog(ctx, opts);
  try {
    catalog.importManifest(manifest, resolve(path));
    for (const piece of manifest.pieces) {
      catalog.recordDataSet({
        chainId: manifest.chainId,
        market: manifest.market,
        id: piece.dataSetId,
        provider: piece.provider,
        endpoint: piece.endpoint,
        pricePerTiBMonth: null,
      });
    }
  } finally {
    catalog.close();
  }
  const files = filesOf(manifest);
  ctx.result({ payload: manifest.fileId, manifest: resolve(path), files }, () => [
    `imported ${files.length} file(s) of payload ${manifest.fileId} from ${path}`,
  ]);
}
