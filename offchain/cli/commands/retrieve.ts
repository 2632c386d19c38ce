import { resolve } from "node:path";
import type { Command } from "commander";
import { loadSigner } from "../../runtime/keys.js";
import type { StrataChain } from "../../sdk/chain/connect.js";
import { StrataError } from "../../sdk/errors.js";
import { retrieveFile, type RetrieveEvent } from "../../sdk/client/retrieve.js";
import { loadManifest } from "../../sdk/manifest/manifest.js";
import type { CliContext } from "../context.js";
import { formatBytes } from "../format/units.js";
import type { Runner } from "../runner.js";
import { pieceBars } from "../progress.js";
import { checkManifestChain } from "../targets.js";
import { checkOutputPath, openOutput, STDOUT } from "../files/outputs.js";
import { readStoredFile } from "../../sdk/client/readStoredFile.js";

interface RetrieveOptions {
  force?: boolean;
  offline?: boolean;
  range?: string;
}

/** `a-b` (inclusive, as HTTP ranges), `a-` (to the end) or `-n` (the last n bytes) of a file of `size` bytes. */
export function parseByteRange(text: string, size: number): { start: number; end: number } {
  const match = /^(\d*)-(\d*)$/.exec(text.trim());
  const bad = () =>
    new StrataError("INVALID_ARGUMENT", `--range ${text} is not a byte range of the ${size}-byte file`, {
      details: "use a-b (bytes a to b, inclusive), a- (from a to the end) or -n (the last n bytes)",
    });
  if (!match) throw bad();
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") throw bad();
  if (first === "") {
    const n = Number(last);
    if (!Number.isSafeInteger(n) || n === 0) throw bad();
    return { start: Math.max(0, size - n), end: size };
  }
  const start = Number(first);
  const end = last === "" ? size : Number(last) + 1;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start >= size || end <= start)
    throw bad();
  return { start, end: Math.min(end, size) };
}

export function registerRetrieveCommand(program: Command, run: Runner): void {
  program
    .command("retrieve")
    .summary("rebuild a stored file from any k of its pieces")
    .description(
      "rebuild a stored file, or a byte range of it (--range): fetch byte ranges of its data pieces from their " +
        "providers segment by segment (a missing piece, or one whose bytes fail authentication, is replaced by " +
        "parity), decrypt chunk by chunk with the wallet that stored it, check the file hash (whole files), and " +
        "write it to <out>",
    )
    .argument("<manifest>", "the manifest written by strata store")
    .argument("<out>", "where to write the file (- for stdout); written atomically")
    .option("--force", "replace <out> if it is a regular file (nothing else is ever replaced)")
    .option("--offline", "do not contact the chain (no lookup of providers' moved endpoints)")
    .option("--range <a-b>", "only bytes a..b of the file (inclusive; a- to the end, -n the last n bytes)")
    .action((manifestPath: string, out: string, opts: RetrieveOptions, command: Command) =>
      run(command, (ctx) => retrieve(ctx, manifestPath, out, opts)),
    );
}

async function retrieve(
  ctx: CliContext,
  manifestPath: string,
  out: string,
  opts: RetrieveOptions,
): Promise<void> {
  const manifest = await loadManifest(manifestPath);
  // Before any download: a folder that is missing or read-only, or a target that is not a regular file, fails now.
  await checkOutputPath(out === STDOUT ? STDOUT : resolve(out), opts.force === true);
  // The chain is only needed to find providers that moved; the pieces and the key need none, so a chain
  // that cannot be reached (or is not the manifest's) only costs that fallback.
  let chain: StrataChain | null = null;
  if (opts.offline !== true) {
    try {
      chain = await ctx.chain();
      checkManifestChain(manifest, chain);
    } catch (error) {
      if (!(error instanceof StrataError)) throw error;
      ctx.note(`without the chain (${error.message}): using the manifest's endpoints only`);
      chain = null;
    }
  }
  // A public payload is read in the clear: no wallet needed.
  const signer =
    manifest.public === true
      ? undefined
      : loadSigner(ctx.keySource(), {
          chainId: manifest.chainId,
          allowDevKeys: ctx.options.allowDevKeys,
          env: ctx.io.env,
        });
  const keys = signer === undefined ? {} : { signer };
  if (out === STDOUT) {
    const whole = { name: manifest.fileName, offset: 0, size: manifest.fileSize, sha256: manifest.fileHash };
    // Streamed to standard output as it is decrypted: memory stays bounded whatever the file size.
    await readStoredFile(
      manifest,
      whole,
      { ...keys, agentFor: (endpoint) => ctx.agent(endpoint) },
      undefined,
      await openOutput(STDOUT, false),
    );
    return;
  }
  const bars = pieceBars(ctx.showProgress);
  const onProgress = (event: RetrieveEvent): void => {
    switch (event.type) {
      case "download":
        bars.update(event.piece, event.received, event.total, `piece ${event.piece}`, "downloading");
        break;
      case "piece":
        if (event.ok) bars.status(event.piece, "verified");
        else {
          bars.status(event.piece, "failed");
          bars.log(`piece ${event.piece}: ${event.reason ?? "failed"}; using parity instead`);
        }
        break;
      case "restored":
        break;
    }
  };
  let result;
  try {
    result = await retrieveFile(
      {
        manifest,
        outPath: resolve(out),
        overwrite: opts.force === true,
        onProgress,
        ...(opts.range === undefined ? {} : { range: parseByteRange(opts.range, manifest.fileSize) }),
      },
      {
        ...keys,
        agentFor: (endpoint) => ctx.agent(endpoint),
        ...(chain ? { registry: chain.registry } : {}),
      },
    );
  } finally {
    bars.stop();
  }
  ctx.result({ ...result, fileName: manifest.fileName, fileHash: manifest.fileHash }, () => [
    opts.range === undefined
      ? `retrieved ${manifest.fileName} (${formatBytes(result.bytes)}) to ${result.outPath} from pieces ${result.used.join(", ")}; hash verified`
      : `retrieved bytes ${result.range.start}-${result.range.end - 1} of ${manifest.fileName} (${formatBytes(result.bytes)}) to ${result.outPath}; every chunk authenticated`,
    ...result.failures.map((f) => `  piece ${f.piece} (${f.provider}) skipped: ${f.reason}`),
  ]);
}
