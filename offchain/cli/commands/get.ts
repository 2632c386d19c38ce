import { basename, resolve } from "node:path";
import type { Command } from "commander";
import { loadSigner } from "../../runtime/keys.js";
import { readStoredFile } from "../../sdk/client/readStoredFile.js";
import { parseRange } from "../../sdk/files/bundle.js";
import type { CliContext } from "../context.js";
import { catalogOption, openCatalog, type CatalogOption } from "../files/catalogOption.js";
import { checkOutputPath, STDOUT, writeOutput } from "../files/outputs.js";
import { resolveOneFile } from "../files/resolveFile.js";
import { formatBytes } from "../format/units.js";
import type { Runner } from "../runner.js";
import { getPermanent } from "../files/permanent.js";

interface GetOptions extends CatalogOption {
  out?: string;
  range?: string;
  force?: boolean;
}

export function registerGetCommands(program: Command, run: Runner): void {
  catalogOption(
    program
      .command("get")
      .summary("fetch one stored file (or a byte range of it) by name or content id")
      .description(
        "fetch one stored file by its name, path, content id or payload id (from the catalog, or a manifest file): " +
          "k pieces are fetched and checked against their commitments, the payload is decrypted with the wallet " +
          "that stored it, and the file's SHA-256 is checked. The output is written atomically (temporary file in " +
          "the same folder, then renamed) and only ever replaces a regular file (with --force); - writes to stdout",
      )
      .argument("<file>", "a name, path in a bundle, content id, payload id or manifest")
      .argument("[out]", "where to write (default: the file's base name here; - for stdout)")
      .option("--out <path>", "where to write (same as [out])")
      .option("--range <a-b>", "only bytes a..b (inclusive, as HTTP ranges: a-b, a-, -n)")
      .option("--force", "replace <out> if it is a regular file")
      .option("--permanent", "<file> is a permanent file id: any k of its pieces, from their holders"),
  ).action(
    (ref: string, out: string | undefined, opts: GetOptions & { permanent?: boolean }, command: Command) =>
      run(command, (ctx) =>
        opts.permanent === true
          ? getPermanent(ctx, ref, resolve(opts.out ?? out ?? `permanent-${ref}`), opts.force === true)
          : get(ctx, ref, opts.out ?? out, opts),
      ),
  );
  catalogOption(
    program
      .command("cat")
      .summary("write one stored file to stdout")
      .description("write one stored file (checked as by strata get) to standard output")
      .argument("<file>", "a name, path in a bundle, content id, payload id or manifest")
      .option("--range <a-b>", "only bytes a..b (inclusive)"),
  ).action((ref: string, opts: GetOptions, command: Command) =>
    run(command, (ctx) => get(ctx, ref, STDOUT, opts)),
  );
}

async function get(ctx: CliContext, ref: string, out: string | undefined, opts: GetOptions): Promise<void> {
  const catalog = openCatalog(ctx, opts);
  let found;
  try {
    found = await resolveOneFile(catalog, ref);
  } finally {
    catalog.close();
  }
  const { manifest, file } = found;
  const target = out === undefined ? resolve(basename(file.name)) : out === STDOUT ? STDOUT : resolve(out);
  const range = opts.range === undefined ? undefined : parseRange(opts.range, file.size);
  // Checked before the download: an output that cannot be written costs nothing.
  await checkOutputPath(target, opts.force === true);
  const signer = loadSigner(ctx.keySource(), {
    chainId: manifest.chainId,
    allowDevKeys: ctx.options.allowDevKeys,
    env: ctx.io.env,
  });
  const read = await readStoredFile(manifest, file, { signer, agentFor: (e) => ctx.agent(e) }, range);
  await writeOutput(target, read.bytes, opts.force === true);
  if (target === STDOUT) return;
  ctx.result(
    {
      name: file.name,
      id: file.id,
      out: target,
      bytes: read.bytes.length,
      range: range ?? null,
      sha256: file.sha256,
      used: read.used,
      failures: read.failures,
    },
    () => [
      `got ${file.name} (${formatBytes(read.bytes.length)}${range === undefined ? "" : ` of ${formatBytes(file.size)}, bytes ${range.start}-${range.end - 1}`}) to ${target}; hash verified`,
      ...read.failures.map((f) => `  piece ${f.piece} (${f.provider}) skipped: ${f.reason}`),
    ],
  );
}
