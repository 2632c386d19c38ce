import type { Command } from "commander";
import { Catalog, CATALOG_ENV, defaultCatalogPath } from "../../runtime/catalog/catalog.js";
import type { CliContext } from "../context.js";

export interface CatalogOption {
  catalog?: string;
}

/** Adds `--catalog <path>` to a command. */
export function catalogOption(command: Command): Command {
  return command.option(
    "--catalog <path>",
    `the local catalog of your files (default: $${CATALOG_ENV}, else <data folder>/strata/catalog.sqlite)`,
  );
}

export function openCatalog(ctx: CliContext, opts: CatalogOption): Catalog {
  return Catalog.open(opts.catalog ?? defaultCatalogPath(ctx.io.env));
}

/** Progress events as JSON lines on stderr (with --json; stdout keeps the one result document). */
export function jsonEvents(ctx: CliContext): (event: object) => void {
  return (event) => {
    if (!ctx.json) return;
    ctx.io.stderr(
      `${JSON.stringify(event, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value))}\n`,
    );
  };
}
