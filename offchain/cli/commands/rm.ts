import type { Command } from "commander";
import { filesOf } from "../../runtime/catalog/catalog.js";
import { awaitVersion } from "../../sdk/client/store.js";
import { removeFile, type DataSetRemoval } from "../../sdk/client/terminate.js";
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
  dataSets: DataSetRemoval[];
  failure: string | null;
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
        "remove stored files by name, content id or payload id. When no file of a payload is left, its pieces are " +
          "taken out of their data sets with a signed state (no longer billed or proven); a data set left with " +
          "nothing else is terminated instead, and its unstreamed escrow comes back once it ends (strata withdraw). " +
          "Files packed with others keep their shared pieces until the last one is removed. Exits with 2 when the " +
          "pieces could not be removed",
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
    const results: RemovalResult[] = [];
    for (const [payload, files] of byPayload) {
      const { manifest, status } = catalog.manifest(payload);
      const left = catalog
        .files()
        .filter((f) => f.manifestId === payload && !files.some((r) => r.file.name === f.name));
      let dataSets: DataSetRemoval[] = [];
      let failure: string | null = null;
      if (left.length === 0 && status !== "removed") {
        const { chain, signer, market } = await ctx.signed();
        checkManifestChain(manifest, chain);
        try {
          dataSets = await removeFile(manifest, {
            signer,
            chainId: chain.chainId,
            market,
            agentFor: (endpoint) => ctx.agent(endpoint),
          });
          for (const removal of dataSets) {
            if (removal.action !== "pieces-removed") continue;
            await awaitVersion(market, removal.dataSetId, removal.version, {
              sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
              now: Date.now,
              timeoutMs: opts.applyTimeout * 1000,
              pollMs: 1000,
            });
          }
        } catch (error) {
          failure = error instanceof Error ? error.message : String(error);
          ctx.exitCode = 2;
        }
      }
      // The catalog follows the chain: a payload whose pieces could not all be removed stays listed.
      if (failure === null) {
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
        dataSets,
        failure,
      });
    }
    ctx.result({ removed: results }, () =>
      results.flatMap((r) => [
        r.filesLeft > 0
          ? `removed ${r.files.join(", ")} from the catalog; payload ${r.payload} keeps its pieces for its other ${r.filesLeft} file(s)`
          : r.failure !== null
            ? `could not remove payload ${r.payload} (${r.failure}): its files stay listed (run strata rm again)`
            : `removed ${r.files.join(", ")}`,
        ...r.dataSets.map((d) =>
          d.action === "pieces-removed"
            ? `  data set #${d.dataSetId}: pieces removed (version ${d.version}); they are no longer billed`
            : d.action === "terminated"
              ? `  data set #${d.dataSetId}: nothing else in it, terminated; its unstreamed escrow returns once it ends (strata withdraw)`
              : `  data set #${d.dataSetId}: had already ended`,
        ),
      ]),
    );
  } finally {
    catalog.close();
  }
}
