/**
 * One file as a permanent file, in a process of its own so that its peak RSS is the pipeline's alone (run by
 * scripts/bench/data.ts): code it into k = 2 of n = 3 piece files (`encodePermanentFile`, as `strata store
 * --permanent` does before paying), then read it back with `retrievePermanent` from holders serving those files
 * (as `strata get --permanent` does: pieces fetched to disk and checked, then decoded into the output), with every
 * piece and again with data piece 0 unavailable. Checks the output's SHA-256 each time. Prints one JSON line.
 *
 *   tsx scripts/bench/permanentPipeline.ts <file> <sha256 hex> <scratch dir> [--decode]
 */
import { createHash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { BatchedFileWriter } from "../../offchain/sdk/data/writeAll.js";
import {
  encodePermanentFile,
  fileSource,
  retrievePermanent,
} from "../../offchain/sdk/durability/permanent.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { permanentWorld } from "./permanentWorld.js";

/**
 * This process's own peak RSS in MB: VmHWM, the high-water mark of its memory since it started. Not
 * resourceUsage().maxRSS: Linux carries over into a spawned process the RSS its parent had when it forked, so
 * that figure was the benchmark's own peak whenever it was larger. maxRSS only where /proc is missing.
 */
function ownPeakRssMB(): number {
  try {
    const kB = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (kB !== undefined) return Math.round(Number(kB) / 1024);
  } catch {
    // Not Linux: fall through.
  }
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** What one run measured (seconds; peak RSS of this process in MB). */
export interface PermanentPipelineRun {
  permanentCodeSeconds: number;
  permanentReadSeconds: number;
  permanentReadDecodeSeconds: number | null;
  permanentPeakRssMB: number;
}

const K = 2;
const N = 3;

function seconds(since: number): number {
  return Math.round(performance.now() - since) / 1000;
}

async function main(): Promise<void> {
  const [file, sha256, scratch, flag] = process.argv.slice(2);
  if (file === undefined || sha256 === undefined || scratch === undefined)
    throw new StrataError(
      "INVALID_ARGUMENT",
      "usage: permanentPipeline.ts <file> <sha256> <scratch dir> [--decode]",
    );
  const pieces = join(scratch, "permanent-pieces");
  await mkdir(pieces, { recursive: true });
  try {
    const source = await fileSource(file);
    const start = performance.now();
    const encoded = await encodePermanentFile(source, K, N, pieces).finally(() => source.close());
    const permanentCodeSeconds = seconds(start);
    // The pieces are scratch files the product never syncs; synced here, untimed, so that the read-back is not
    // charged for the coding's writes still on their way to the disk.
    for (const piece of encoded.files) {
      const handle = await open(piece, "r+");
      await handle.datasync();
      await handle.close();
    }

    const readBack = async (missing: number | null): Promise<number> => {
      const deps = {
        ...permanentWorld({ k: K, n: N, pieceSpan: encoded.pieceSpan, roots: encoded.roots }, (index) =>
          index === missing
            ? createReadStream(file, { end: 0 })
            : createReadStream(encoded.files[index] ?? ""),
        ),
        scratchDir: scratch,
      };
      const out = join(scratch, "permanent-out");
      const handle = await open(out, "w");
      const writer = new BatchedFileWriter(handle, 8 << 20);
      const hash = createHash("sha256");
      const begin = performance.now();
      try {
        await retrievePermanent(1n, deps, {
          write: async (bytes) => {
            hash.update(bytes);
            await writer.write(bytes);
          },
        });
        await writer.flush();
        await handle.sync();
      } finally {
        await handle.close();
        await rm(out, { force: true });
      }
      if (hash.digest("hex") !== sha256)
        throw new StrataError("BENCH_RESULT_INVALID", "the permanent file read back differs");
      return seconds(begin);
    };
    const permanentReadSeconds = await readBack(null);
    const permanentReadDecodeSeconds = flag === "--decode" ? await readBack(0) : null;
    const run: PermanentPipelineRun = {
      permanentCodeSeconds,
      permanentReadSeconds,
      permanentReadDecodeSeconds,
      permanentPeakRssMB: ownPeakRssMB(),
    };
    console.log(JSON.stringify(run));
  } finally {
    await rm(pieces, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
