import { basename, resolve } from "node:path";
import type { Command } from "commander";
import { loadSigner } from "../../runtime/keys.js";
import { fetchPublicFile } from "../../sdk/client/publicFiles.js";
import { readStoredFile } from "../../sdk/client/readStoredFile.js";
import { StrataError } from "../../sdk/errors.js";
import { canonicalCid } from "../../sdk/files/cid.js";
import { parseRange } from "../../sdk/files/bundle.js";
import type { CliContext } from "../context.js";
import { catalogOption, openCatalog, type CatalogOption } from "../files/catalogOption.js";
import { checkedStdout, checkOutputPath, openOutput, STDOUT } from "../files/outputs.js";
import { resolveOneFile, type ResolvedFile } from "../files/resolveFile.js";
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
          "that stored it, and the file's SHA-256 is checked. A public file's CID works without a manifest or a " +
          "wallet: the providers of your catalog are asked first, then every registered provider (HEAD " +
          "/v1/files/<cid>), and the bytes are checked to hash to the CID before they are written (a provider " +
          "serving other bytes is skipped). A --range of a file fetched by CID cannot be checked (a CID covers the " +
          "whole file): it is written unverified (JSON verified: false). The output is written atomically " +
          "(temporary file in the same folder, then renamed) and only ever replaces a regular file (with --force); " +
          "- writes to stdout",
      )
      .argument("<file>", "a name, path in a bundle, content id, payload id or manifest")
      .argument("[out]", "where to write (default: the file's base name here; - for stdout)")
      .option("--out <path>", "where to write (same as [out])")
      .option(
        "--range <a-b>",
        "only bytes a..b (inclusive, as HTTP ranges: a-b, a-, -n); by CID without a manifest, unverified",
      )
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
  let found: ResolvedFile | undefined;
  let endpoints: string[] = [];
  try {
    found = await resolveOneFile(catalog, ref).catch((error: unknown) => {
      // A CID the catalog does not know may still be a public file any provider serves.
      if (
        error instanceof StrataError &&
        error.code === "CATALOG_NOT_FOUND" &&
        canonicalCid(ref) !== undefined
      ) {
        return undefined;
      }
      throw error;
    });
    if (found === undefined) endpoints = catalog.endpoints();
  } finally {
    catalog.close();
  }
  if (found === undefined) {
    await getByCid(ctx, ref, out, opts, endpoints);
    return;
  }
  const { manifest, file } = found;
  const target = out === undefined ? resolve(basename(file.name)) : out === STDOUT ? STDOUT : resolve(out);
  const range = opts.range === undefined ? undefined : parseRange(opts.range, file.size);
  // Checked before the download: an output that cannot be written costs nothing.
  await checkOutputPath(target, opts.force === true);
  // A public payload is read in the clear: no wallet needed.
  const signer =
    manifest.public === true
      ? undefined
      : loadSigner(ctx.keySource(), {
          chainId: manifest.chainId,
          allowDevKeys: ctx.options.allowDevKeys,
          env: ctx.io.env,
        });
  // Streamed into the output as it is decrypted (memory bounded whatever the file size); a file is renamed into
  // place only once the whole read succeeded.
  const output = await openOutput(target, opts.force === true);
  let read;
  try {
    read = await readStoredFile(
      manifest,
      file,
      { ...(signer === undefined ? {} : { signer }), agentFor: (e) => ctx.agent(e) },
      range,
      output,
    );
    await output.commit();
  } catch (error) {
    await output.abort();
    throw error;
  }
  if (target === STDOUT) return;
  ctx.result(
    {
      name: file.name,
      id: file.id,
      out: target,
      bytes: read.length,
      range: range ?? null,
      sha256: file.sha256,
      used: read.used,
      failures: read.failures,
    },
    () => [
      `got ${file.name} (${formatBytes(read.length)}${range === undefined ? "" : ` of ${formatBytes(file.size)}, bytes ${range.start}-${range.end - 1}`}) to ${target}; hash verified`,
      ...read.failures.map((f) => `  piece ${f.piece} (${f.provider}) skipped: ${f.reason}`),
    ],
  );
}

/** `get <cid>` without a manifest: the first provider serving the public file, its bytes checked against the CID. */
async function getByCid(
  ctx: CliContext,
  ref: string,
  out: string | undefined,
  opts: GetOptions,
  endpoints: readonly string[],
): Promise<void> {
  const cid = canonicalCid(ref) ?? ref;
  const target = out === undefined ? resolve(cid) : out === STDOUT ? STDOUT : resolve(out);
  await checkOutputPath(target, opts.force === true);
  const rangeText = opts.range;
  const result = await fetchPublicFile(
    {
      cid,
      endpoints,
      moreEndpoints: async () => registeredEndpoints(await ctx.chain()),
      ...(rangeText === undefined ? {} : { range: (size: number) => parseRange(rangeText, size) }),
      open: async () => (target === STDOUT ? checkedStdout() : openOutput(target, opts.force === true)),
    },
    { fetch: ctx.io.fetch },
  );
  if (target === STDOUT) return;
  ctx.result(
    {
      name: null,
      id: result.cid,
      out: target,
      bytes: result.bytes,
      size: result.size,
      range: result.range,
      verified: result.verified,
      endpoint: result.endpoint,
      asked: result.asked,
    },
    () => [
      `got ${result.cid} (${formatBytes(result.bytes)}${result.range === null ? "" : ` of ${formatBytes(result.size)}, bytes ${result.range.start}-${result.range.end - 1}`}) from ${result.endpoint} to ${target}; ` +
        (result.verified
          ? "its bytes hash to the CID"
          : "a range cannot be checked against the CID: unverified"),
      ...result.asked
        .filter((a) => a.outcome !== "served")
        .map((a) => `  ${a.endpoint}: ${a.outcome}${a.reason === null ? "" : ` (${a.reason})`}`),
    ],
  );
}

/** Every registered provider's endpoint (the registry), in registration order. */
async function registeredEndpoints(chain: Awaited<ReturnType<CliContext["chain"]>>): Promise<string[]> {
  const count = await chain.registry.providerCount();
  const endpoints: string[] = [];
  for (let i = 0n; i < count; i++) {
    const info = await chain.registry.providerInfo(await chain.registry.providerAt(i));
    if (info.registered && info.endpoint !== "") endpoints.push(info.endpoint);
  }
  return endpoints;
}
