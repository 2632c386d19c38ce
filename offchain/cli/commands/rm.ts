import type { Command } from "commander";
import { filesOf } from "../../runtime/catalog/catalog.js";
import { removeStoredPieces, type PieceRemoval } from "../../sdk/client/removeStored.js";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import { catalogOption, openCatalog, type CatalogOption } from "../files/catalogOption.js";
import { resolveFiles } from "../files/resolveFile.js";
import type { Runner } from "../runner.js";
import { checkManifestChain } from "../targets.js";

interface RemovalResult {
  payload: string;
  files: string[];
  filesLeft: number;
  totalFiles: number;
  pieces: PieceRemoval[];
  failures: { piece: number; reason: string }[];
  refunded: bigint;
}

interface RmOptions extends CatalogOption {
  applyTimeout: number;
}

export function registerRemoveCommand(program: Command, run: Runner): void {
  catalogOption(
    program
      .command("rm")
      .summary("remove a stored file: its pieces leave their data sets, unstreamed escrow comes back")
      .description(
        "remove stored files by name, content id or payload id. When no file of a payload is left, each of its " +
          "pieces is taken out of its data set with a signed state (it is no longer billed or proven), and the " +
          "escrow of a data set left empty, beyond its notice lockup, moves back to your market balance (strata " +
          "withdraw sends it to the wallet). Files packed with others keep their shared pieces until the last one " +
          "is removed. Exits with 2 when a piece could not be removed",
      )
      .argument("<file>", "a name, path in a bundle, content id or payload id")
      .option(
        "--apply-timeout <seconds>",
        "how long to wait for a provider to apply the removal",
        Number,
        300,
      ),
  ).action((ref: string, opts: RmOptions, command: Command) => run(command, (ctx) => remove(ctx, ref, opts)));
}

async function remove(ctx: CliContext, ref: string, opts: RmOptions): Promise<void> {
  const catalog = openCatalog(ctx, opts);
  try {
    const found = await resolveFiles(catalog, ref);
    if (found.some((f) => f.catalog === null)) {
      throw new StrataError("CATALOG_NOT_FOUND", `${ref} is not in the catalog`, {
        details: "add it first with strata import <manifest>",
      });
    }
    const byPayload = new Map<string, typeof found>();
    for (const f of found) byPayload.set(f.manifest.fileId, [...(byPayload.get(f.manifest.fileId) ?? []), f]);
    const units = await ctx.tokenUnits();
    const results: RemovalResult[] = [];
    for (const [payload, files] of byPayload) {
      const { manifest, status } = catalog.manifest(payload);
      const left = catalog
        .files()
        .filter((f) => f.manifestId === payload && !files.some((r) => r.file.name === f.name));
      let removal = null;
      if (left.length === 0 && status !== "removed") {
        const { chain, signer, market } = await ctx.signed();
        checkManifestChain(manifest, chain);
        removal = await removeStoredPieces(manifest, {
          signer,
          chainId: chain.chainId,
          market,
          agentFor: (endpoint) => ctx.agent(endpoint),
          sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
          now: Date.now,
          timeoutMs: opts.applyTimeout * 1000,
          pollMs: 1000,
        });
        if (removal.failures.length > 0) ctx.exitCode = 2;
      }
      // The catalog follows the chain: a payload whose pieces could not all be removed stays listed.
      if (removal === null || removal.failures.length === 0) {
        catalog.markRemoved(
          payload,
          files.map((f) => f.file.name),
        );
      }
      results.push({
        payload,
        files: files.map((f) => f.file.name),
        filesLeft: left.length,
        totalFiles: filesOf(manifest).length,
        pieces: removal?.removed ?? [],
        failures: removal?.failures ?? [],
        refunded: (removal?.removed ?? []).reduce((sum, p) => sum + p.refunded, 0n),
      });
    }
    ctx.result({ removed: results }, () =>
      results.flatMap((r) => [
        r.filesLeft > 0
          ? `removed ${r.files.join(", ")} from the catalog; payload ${r.payload} keeps its pieces for its other ${r.filesLeft} file(s)`
          : r.failures.length > 0
            ? `could not remove every piece of payload ${r.payload}: the files stay listed (run strata rm again)`
            : `removed ${r.files.join(", ")}: ${r.pieces.filter((p) => p.skipped === null).length} piece(s) taken out of their data sets, ${units.format(r.refunded)} back to your market balance`,
        ...r.pieces.filter((p) => p.skipped !== null).map((p) => `  piece ${p.piece}: ${p.skipped ?? ""}`),
        ...r.failures.map((f) => `  piece ${f.piece}: ${f.reason}`),
      ]),
    );
  } finally {
    catalog.close();
  }
}
