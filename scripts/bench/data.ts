/**
 * Data-path benchmark (README, "Benchmarks"): commitment, encryption and erasure-coding throughput on a random
 * buffer (the file size, at most 256 MiB), beside `openssl speed -evp sha256` measured in the same run; then for
 * each file size (1 GiB and 4 GiB by default) a random file on disk, the streaming pipeline alone (prepare: read,
 * hash, encrypt, code, commit, write the pieces; restore: read the data pieces, decrypt, write the file; and
 * restore with a data piece missing), and `strata store` / `strata retrieve` of the same file through three local
 * agent processes on a local `hardhat node` (storeRetrieve.ts) with the peak RSS of both clients and of the
 * agents. Prints a table and merges the figures into bench/data.json (top-level fields: the largest file; "runs":
 * one entry per size), keeping fields this run did not measure (the smallFiles* fields, null until measured).
 *
 *   npm run bench:data                                 # 1024 and 4096 MiB, writes bench/data.json
 *   npm run bench:data -- --quick                      # 4 MiB smoke run; bench/data.json is left alone
 *   STRATA_BENCH_DATA_MIB=64,256 npm run bench:data    # other sizes (writes bench/data.json)
 *   STRATA_BENCH_DATA_REPEATS=5 npm run bench:data     # medians of 5 measurements (default 3; --quick: 1)
 *
 * Every timed figure (prepare, restore, store, retrieve) is the median of its repeats: on a shared machine one
 * run of the same work varied by up to a third. The samples and the CPU seconds of each store and retrieve
 * (client; agents meanwhile) are kept in the JSON, so a slow figure can be told from a busy machine.
 */
import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes, randomFillSync } from "node:crypto";
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { bulkEnvironment } from "../../offchain/cli/launch.mjs";
import { commitPieces, commitPiecesSync, defaultCommitPool } from "../../offchain/sdk/commitment/parallel.js";
import {
  chunkCount,
  DEFAULT_CHUNK_SIZE,
  NONCE_PREFIX_BYTES,
  sealChunkInto,
} from "../../offchain/sdk/data/chunked.js";
import { TAG_BYTES } from "../../offchain/sdk/data/encryption.js";
import { computeParity, shardSizeFor } from "../../offchain/sdk/data/erasure.js";
import { preparePayload, readRange, type PreparedPayload } from "../../offchain/sdk/data/stream.js";
import type { PermanentPipelineRun } from "./permanentPipeline.js";
import { mergeSmallFiles, type SmallFilesBenchmark } from "./smallFiles.js";
import {
  median,
  storeRetrieveWithLocalAgents,
  type AgentStoreRetrieve,
  type BenchFile,
} from "./storeRetrieve.js";
import { StrataError } from "../../offchain/sdk/errors.js";

const OUT = "bench/data.json";
const QUICK_MIB = 4;
/** Measurements of each timed figure by default; the figure is their median. */
const DEFAULT_REPEATS = 3;
/** The CLI's default coding (`strata store --k 2 --m 1`). */
const DEFAULT_CODING = { k: 2, m: 1 } as const;

/**
 * One file size: the pipeline alone and through agents. The timed figures are medians of `repeats` measurements
 * (this machine is shared: single runs of the same work varied by a third); the *Samples fields hold every one.
 */
export interface DataRun {
  fileMiB: number;
  repeats: number;
  /** preparePayload from the file on disk to piece files (hash, encrypt, code, commit, write). */
  prepareSeconds: number;
  /** readRange of the whole file from the local data pieces to a file (decrypt, hash, write). */
  restoreSeconds: number;
  prepareSamples: number[];
  restoreSamples: number[];
  storeSamples: number[] | null;
  retrieveSamples: number[] | null;
  /** Median CPU seconds of a store and of a retrieve: the client command's, and the three agents' meanwhile. */
  storeCpuSeconds: { client: number | null; agents: number | null } | null;
  retrieveCpuSeconds: { client: number | null; agents: number | null } | null;
  /** Same with data piece 0 missing (rebuilt from parity stripe by stripe); measured up to 1 GiB, else null. */
  restoreDecodeSeconds: number | null;
  /**
   * Median CPU seconds of the prepare and of the restore (this process, all its threads): what the store and the
   * retrieve, whose CPU is in storeCpuSeconds and retrieveCpuSeconds, are compared against.
   */
  prepareCpuSeconds: number;
  restoreCpuSeconds: number;
  /** Peak RSS of this process over its prepare and restore (bounded by segments, not the file). */
  pipelinePeakRssMB: number | null;
  storeSeconds: number | null;
  retrieveSeconds: number | null;
  storeClientPeakRssMB: number | null;
  retrieveClientPeakRssMB: number | null;
  agentPeakRssMB: number | null;
  /** Store speed as a share of prepare speed, retrieve of restore (goals: >= 50 and >= 70). */
  storeVsPreparePercent: number | null;
  retrieveVsRestorePercent: number | null;
  /**
   * The same file as a permanent file (k = 2 of n = 3), in a process of its own (permanentPipeline.ts): coded to
   * piece files, read back through holders serving them (pieces fetched to disk and checked, then decoded), and
   * read back with data piece 0 unavailable (up to 1 GiB, else null); the process's peak RSS.
   */
  permanentCodeSeconds: number | null;
  permanentReadSeconds: number | null;
  permanentReadDecodeSeconds: number | null;
  permanentPeakRssMB: number | null;
}

export interface DataBenchmark {
  /** The largest file measured; the per-run fields below are that file's. */
  fileMiB: number;
  /** Size of the in-memory buffer of the throughput figures. */
  throughputMiB: number;
  /** Piece-commitment throughput (bytes of the default coding's k + m pieces per second), worker pool. */
  commitMBps: number;
  /** Same, on the calling thread only. */
  commitSingleThreadMBps: number;
  /** `openssl speed -evp sha256 -seconds 2`, 16384-byte blocks, one core; null when openssl is missing. */
  opensslSha256MBps: number | null;
  /** commitMBps / opensslSha256MBps in percent (the budget is >= 50). */
  commitVsOpensslPercent: number | null;
  /**
   * Single-threaded commitment per CPU-second consumed: what one core does when it is not shared. openssl speed
   * also divides by CPU (user) time, so this ratio is immune to other load on the machine.
   */
  commitPerCoreMBps: number;
  /** commitPerCoreMBps x threads / opensslSha256MBps in percent: the ratio on an otherwise idle machine. */
  commitIdleProjectionPercent: number | null;
  /** CPU seconds per wall second of the parallel commitment (how many cores it really got). */
  commitCoresUsed: number;
  /** AES-256-GCM as the pipeline encrypts: 256 KiB chunks, each sealed into the payload (chunked.ts). */
  encryptMBps: number;
  /** Parity computation for the default coding (k=2, m=1), bytes of payload per second. */
  erasureMBps: number;
  /** Same for k=4, m=2. */
  erasureK4M2MBps: number;
  /** The streaming pipeline alone, default coding (see DataRun). */
  prepareSeconds: number;
  restoreSeconds: number;
  restoreDecodeSeconds: number | null;
  /**
   * Store / retrieve through real agents (wall time of the `strata store` / `strata retrieve` commands, Node
   * start-up included); null unless a hook measured them.
   */
  storeSeconds: number | null;
  retrieveSeconds: number | null;
  /** Peak RSS of a client: the larger of the store and retrieve processes' peaks; null when not measured. */
  peakRssMB: number | null;
  storeClientPeakRssMB: number | null;
  retrieveClientPeakRssMB: number | null;
  /** Highest peak RSS among the three agents over the store and the retrieve. */
  agentPeakRssMB: number | null;
  storeVsPreparePercent: number | null;
  retrieveVsRestorePercent: number | null;
  /** This benchmark process's own peak RSS over the in-process phases (throughputs, prepare, restore). */
  benchPeakRssMB: number;
  /** 10,000 small files stored in one command: measured by the packing benchmark, null until then. */
  smallFiles: number | null;
  smallFilesStoreSeconds: number | null;
  smallFilesGasPerFile: number | null;
  runs: DataRun[];
  threads: number;
  loadAverage: number;
  measuredAt: string;
}

export interface DataBenchmarkOptions {
  /** File sizes in MiB (default 1024 and 4096). */
  sizesMiB?: readonly number[];
  /** Measurements of each timed figure, reported as their median (default 3). */
  repeats?: number;
  /** Stores and retrieves the files through running agents (storeRetrieve.ts). */
  measureStoreRetrieve?: (
    files: readonly BenchFile[],
    afterEach: (file: BenchFile) => Promise<void>,
    repeats: number,
  ) => Promise<AgentStoreRetrieve[]>;
  log?: (line: string) => void;
}

const MB = 1e6;

/** CPU seconds (user + system, every thread of this process) since `before`, to 0.01 s. */
function cpuSecondsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return Math.round((used.user + used.system) / 10_000) / 100;
}

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

/** Parse `openssl speed -evp sha256` output: the sha256 row's 16384-byte column, in MB/s. */
export function parseOpensslSpeed(output: string): number | null {
  const header = output.split("\n").find((line) => line.startsWith("type"));
  const row = output.split("\n").find((line) => /^sha256\s/.test(line));
  if (header === undefined || row === undefined) return null;
  const blockSizes: string[] = header.match(/\d+ bytes/g) ?? [];
  const column = blockSizes.indexOf("16384 bytes");
  const cells = row.trim().split(/\s+/);
  // cells[0] is the algorithm name, then one cell per block size.
  const cell = column < 0 ? undefined : cells[column + 1];
  if (cell?.endsWith("k") !== true) return null;
  return (Number(cell.slice(0, -1)) * 1000) / MB;
}

async function opensslSha256(): Promise<number | null> {
  try {
    const { stdout } = await promisify(execFile)("openssl", ["speed", "-evp", "sha256", "-seconds", "2"]);
    return parseOpensslSpeed(stdout);
  } catch {
    return null;
  }
}

/** k equal data shards holding `file` (shared memory, zero padding), for the coding and commitment throughputs. */
function dataShards(file: Uint8Array, k: number): Uint8Array[] {
  const shardSize = shardSizeFor(file.length + TAG_BYTES, k);
  const payload = new Uint8Array(new SharedArrayBuffer(k * shardSize));
  payload.set(file);
  return Array.from({ length: k }, (_, i) => payload.subarray(i * shardSize, (i + 1) * shardSize));
}

/** Drop the previous phase's buffers when node runs with --expose-gc (npm run bench:data does). */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function erasureMBps(file: Uint8Array, k: number, m: number): Promise<number> {
  const data = dataShards(file, k);
  const start = performance.now();
  await computeParity(data, m);
  return file.length / MB / seconds(start);
}

/** A random file of `bytes` on disk, written 4 MiB at a time; returns its sha256. */
async function randomFile(path: string, bytes: number): Promise<string> {
  const hash = createHash("sha256");
  const handle = await open(path, "w");
  try {
    const block = Buffer.allocUnsafe(4 << 20);
    for (let at = 0; at < bytes; at += block.length) {
      const part = block.subarray(0, Math.min(block.length, bytes - at));
      randomFillSync(part);
      hash.update(part);
      await handle.write(part, 0, part.length, at);
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

/** Prepare and restore `file` with the streaming pipeline, on disk; the pieces are removed after. */
async function pipelineRun(
  file: BenchFile,
  dir: string,
): Promise<
  Omit<
    DataRun,
    | "fileMiB"
    | "repeats"
    | "prepareSamples"
    | "restoreSamples"
    | "storeSamples"
    | "retrieveSamples"
    | "storeCpuSeconds"
    | "retrieveCpuSeconds"
    | "storeSeconds"
    | "retrieveSeconds"
    | "storeClientPeakRssMB"
    | "retrieveClientPeakRssMB"
    | "agentPeakRssMB"
    | "storeVsPreparePercent"
    | "retrieveVsRestorePercent"
    | keyof PermanentPipelineRun
  >
> {
  const key = randomBytes(32);
  const piecesDir = join(dir, "pieces");
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const prepared: PreparedPayload = await preparePayload({
    source: file.path,
    size: file.size,
    ...DEFAULT_CODING,
    key,
    output: { dir: piecesDir },
  });
  const prepareSeconds = seconds(start);
  const prepareCpuSeconds = cpuSecondsSince(cpuBefore);
  if (prepared.fileHash !== `0x${file.sha256}`)
    throw new StrataError("BENCH_RESULT_INVALID", "prepare hashed the file differently");
  const restore = async (missing: number[]): Promise<number> => {
    const out = join(dir, "restored.bin");
    const handles = await Promise.all(prepared.pieces.map(async (p) => open(p.path ?? "", "r")));
    const target = await open(out, "w");
    const begin = performance.now();
    try {
      let written = 0;
      const read = await readRange(
        prepared,
        key,
        0,
        file.size,
        async (index, from, to) => {
          if (missing.includes(index)) throw new StrataError("PIECES_UNAVAILABLE", `piece ${index} left out`);
          const buffer = Buffer.allocUnsafe(to - from);
          const handle = handles[index];
          if (handle === undefined) throw new StrataError("BENCH_SETUP_FAILED", `no piece ${index}`);
          let done = 0;
          while (done < buffer.length) {
            const { bytesRead } = await handle.read(buffer, done, buffer.length - done, from + done);
            if (bytesRead === 0) throw new StrataError("BENCH_RESULT_INVALID", "piece file too short");
            done += bytesRead;
          }
          return buffer;
        },
        {
          write: async (bytes) => {
            await target.write(bytes, 0, bytes.length, written);
            written += bytes.length;
          },
        },
      );
      await target.sync();
      if (read.sha256 !== `0x${file.sha256}`)
        throw new StrataError("BENCH_RESULT_INVALID", "restored file differs");
      return seconds(begin);
    } finally {
      await target.close();
      await Promise.all(handles.map(async (h) => h.close()));
      await rm(out, { force: true });
    }
  };
  const restoreCpuBefore = process.cpuUsage();
  const restoreSeconds = await restore([]);
  const restoreCpuSeconds = cpuSecondsSince(restoreCpuBefore);
  // Decoding is measured up to 1 GiB (it costs a third pass over the file).
  const restoreDecodeSeconds = file.size <= 2 ** 30 ? await restore([0]) : null;
  await rm(piecesDir, { recursive: true, force: true });
  const round3 = (value: number): number => Math.round(value * 1000) / 1000;
  return {
    prepareSeconds: round3(prepareSeconds),
    restoreSeconds: round3(restoreSeconds),
    restoreDecodeSeconds: restoreDecodeSeconds === null ? null : round3(restoreDecodeSeconds),
    prepareCpuSeconds,
    restoreCpuSeconds,
    pipelinePeakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** The file as a permanent file, measured by scripts/bench/permanentPipeline.ts in a process of its own. */
async function permanentRun(file: BenchFile, dir: string): Promise<PermanentPipelineRun> {
  const script = join(dirname(fileURLToPath(import.meta.url)), "permanentPipeline.ts");
  const args = ["--import", "tsx", script, file.path, file.sha256, dir];
  if (file.size <= 2 ** 30) args.push("--decode");
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 1 << 20 });
  const last = stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as PermanentPipelineRun;
}

export async function runDataBenchmark(options: DataBenchmarkOptions = {}): Promise<DataBenchmark> {
  const sizesMiB = [...(options.sizesMiB ?? [1024, 4096])].sort((a, b) => a - b);
  const repeats = options.repeats ?? DEFAULT_REPEATS;
  if (!Number.isSafeInteger(repeats) || repeats < 1)
    throw new StrataError("INVALID_ARGUMENT", `repeats must be a positive whole number, got ${repeats}`);
  const log = options.log ?? (() => undefined);
  const largest = sizesMiB[sizesMiB.length - 1] ?? 1;
  const throughputMiB = Math.min(largest, 256);
  const loadAverage = loadavg()[0] ?? 0;
  const opensslSha256MBps = await opensslSha256();

  let file: Uint8Array | undefined = new Uint8Array(throughputMiB << 20);
  randomFillSync(file);
  const fileBytes = file.length;

  // Encryption as the pipeline does it (chunked.ts): chunk by chunk, each sealed into a segment buffer that is
  // used again for the next segment (32 chunks, 8 MiB), as preparePayload reuses its segments.
  const SEGMENT_CHUNKS = 32;
  const sealedBytes = DEFAULT_CHUNK_SIZE + TAG_BYTES;
  const segment = Buffer.alloc(SEGMENT_CHUNKS * sealedBytes);
  const sealKey = randomBytes(32);
  const noncePrefix = randomBytes(NONCE_PREFIX_BYTES);
  const chunks = chunkCount(fileBytes, DEFAULT_CHUNK_SIZE);
  let start = performance.now();
  for (let i = 0; i < chunks; i++) {
    const plain = file.subarray(i * DEFAULT_CHUNK_SIZE, Math.min(fileBytes, (i + 1) * DEFAULT_CHUNK_SIZE));
    sealChunkInto(
      sealKey,
      noncePrefix,
      i,
      i === chunks - 1,
      plain,
      segment,
      (i % SEGMENT_CHUNKS) * sealedBytes,
    );
  }
  const encryptMBps = fileBytes / MB / seconds(start);
  collectGarbage();

  const erasureK4M2MBps = await erasureMBps(file, 4, 2);
  collectGarbage();
  let pieces: Uint8Array[] = dataShards(file, DEFAULT_CODING.k);
  start = performance.now();
  pieces.push(...(await computeParity(pieces, DEFAULT_CODING.m)));
  const erasureDefault = fileBytes / MB / seconds(start);

  const pieceBytes = pieces.reduce((sum, piece) => sum + piece.length, 0);
  // Steady state: the shared pool's one-time start-up (~0.1 s per process) is not part of the throughput.
  await defaultCommitPool().commit([new Uint8Array(64)]);
  start = performance.now();
  const cpu = process.cpuUsage();
  const parallelRoots = await commitPieces(pieces);
  const commitSeconds = seconds(start);
  const cpuUsed = process.cpuUsage(cpu);
  start = performance.now();
  const singleCpu = process.cpuUsage();
  const singleRoots = commitPiecesSync(pieces);
  const commitSingleThreadMBps = pieceBytes / MB / seconds(start);
  const singleCpuUsed = process.cpuUsage(singleCpu);
  const commitPerCoreMBps = pieceBytes / MB / ((singleCpuUsed.user + singleCpuUsed.system) / 1e6);
  if (parallelRoots.join() !== singleRoots.join())
    throw new StrataError("BENCH_RESULT_INVALID", "parallel and single-threaded roots differ");
  const commitMBps = pieceBytes / MB / commitSeconds;
  pieces = [];
  file = undefined;
  collectGarbage();
  const benchPeakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);

  // The files live on disk; the pipeline never holds one in memory.
  const dir = await mkdtemp(join(tmpdir(), "strata-bench-data-"));
  const runs: DataRun[] = [];
  try {
    const files: BenchFile[] = [];
    for (const mib of sizesMiB) {
      const path = join(dir, `bench-${mib}.bin`);
      log(`writing a random ${mib} MiB file...`);
      // Not `mib << 20`: 4096 << 20 overflows 32 bits.
      const sha256 = await randomFile(path, mib * 2 ** 20);
      const benchFile = { path, size: mib * 2 ** 20, sha256 };
      const measured: Awaited<ReturnType<typeof pipelineRun>>[] = [];
      for (let repeat = 1; repeat <= repeats; repeat++) {
        log(
          `prepare / restore (streaming pipeline, ${mib} MiB${repeats > 1 ? `, ${repeat}/${repeats}` : ""})...`,
        );
        const one = await pipelineRun(benchFile, dir);
        log(
          `prepare ${one.prepareSeconds} s (CPU ${one.prepareCpuSeconds} s), restore ${one.restoreSeconds} s ` +
            `(CPU ${one.restoreCpuSeconds} s; decoding: ${String(one.restoreDecodeSeconds ?? "not measured")} s)`,
        );
        measured.push(one);
      }
      const prepareSamples = measured.map((one) => one.prepareSeconds);
      const restoreSamples = measured.map((one) => one.restoreSeconds);
      const decodes = measured.map((one) => one.restoreDecodeSeconds);
      const pipeline = {
        prepareSeconds: median(prepareSamples),
        restoreSeconds: median(restoreSamples),
        restoreDecodeSeconds: decodes.some((value) => value === null)
          ? null
          : median(decodes.map((value) => value ?? 0)),
        prepareCpuSeconds: median(measured.map((one) => one.prepareCpuSeconds)),
        restoreCpuSeconds: median(measured.map((one) => one.restoreCpuSeconds)),
        pipelinePeakRssMB: Math.max(...measured.map((one) => one.pipelinePeakRssMB ?? 0)),
      };
      log(`permanent file: code / read back (${mib} MiB, own process)...`);
      const permanent = await permanentRun(benchFile, dir);
      log(
        `code ${permanent.permanentCodeSeconds} s, read ${permanent.permanentReadSeconds} s, peak RSS ${permanent.permanentPeakRssMB} MB`,
      );
      files.push(benchFile);
      runs.push({
        fileMiB: mib,
        repeats,
        ...pipeline,
        prepareSamples,
        restoreSamples,
        storeSamples: null,
        retrieveSamples: null,
        storeCpuSeconds: null,
        retrieveCpuSeconds: null,
        ...permanent,
        storeSeconds: null,
        retrieveSeconds: null,
        storeClientPeakRssMB: null,
        retrieveClientPeakRssMB: null,
        agentPeakRssMB: null,
        storeVsPreparePercent: null,
        retrieveVsRestorePercent: null,
      });
    }
    if (options.measureStoreRetrieve !== undefined) {
      const timings = await options.measureStoreRetrieve(
        files,
        async (done) => rm(done.path, { force: true }),
        repeats,
      );
      timings.forEach((timing, index) => {
        const run = runs[index];
        if (run === undefined) return;
        Object.assign(run, {
          storeSeconds: timing.storeSeconds,
          retrieveSeconds: timing.retrieveSeconds,
          storeSamples: timing.storeSamples,
          retrieveSamples: timing.retrieveSamples,
          storeCpuSeconds: timing.storeCpuSeconds,
          retrieveCpuSeconds: timing.retrieveCpuSeconds,
          storeClientPeakRssMB: timing.storeClientPeakRssMB,
          retrieveClientPeakRssMB: timing.retrieveClientPeakRssMB,
          agentPeakRssMB: timing.agentPeakRssMB,
          storeVsPreparePercent: Math.round((100 * run.prepareSeconds) / timing.storeSeconds),
          retrieveVsRestorePercent: Math.round((100 * run.restoreSeconds) / timing.retrieveSeconds),
        });
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const top = runs[runs.length - 1];
  if (top === undefined) throw new StrataError("INVALID_ARGUMENT", "no file size to measure");
  const round = (value: number): number => Math.round(value * 10) / 10;
  return {
    fileMiB: top.fileMiB,
    throughputMiB,
    commitMBps: round(commitMBps),
    commitSingleThreadMBps: round(commitSingleThreadMBps),
    opensslSha256MBps: opensslSha256MBps === null ? null : round(opensslSha256MBps),
    commitVsOpensslPercent: opensslSha256MBps === null ? null : round((100 * commitMBps) / opensslSha256MBps),
    commitPerCoreMBps: round(commitPerCoreMBps),
    commitIdleProjectionPercent:
      opensslSha256MBps === null
        ? null
        : round((100 * commitPerCoreMBps * availableParallelism()) / opensslSha256MBps),
    commitCoresUsed: Math.round(((cpuUsed.user + cpuUsed.system) / 1e6 / commitSeconds) * 100) / 100,
    encryptMBps: round(encryptMBps),
    erasureMBps: round(erasureDefault),
    erasureK4M2MBps: round(erasureK4M2MBps),
    prepareSeconds: top.prepareSeconds,
    restoreSeconds: top.restoreSeconds,
    restoreDecodeSeconds: top.restoreDecodeSeconds,
    storeSeconds: top.storeSeconds,
    retrieveSeconds: top.retrieveSeconds,
    peakRssMB: clientPeak(top),
    storeClientPeakRssMB: top.storeClientPeakRssMB,
    retrieveClientPeakRssMB: top.retrieveClientPeakRssMB,
    agentPeakRssMB: top.agentPeakRssMB,
    storeVsPreparePercent: top.storeVsPreparePercent,
    retrieveVsRestorePercent: top.retrieveVsRestorePercent,
    benchPeakRssMB,
    smallFiles: null,
    smallFilesStoreSeconds: null,
    smallFilesGasPerFile: null,
    runs,
    threads: availableParallelism(),
    loadAverage: Math.round(loadAverage * 100) / 100,
    measuredAt: new Date().toISOString(),
  };
}

/** bench/small-files.json when it exists and holds the three figures; null otherwise. */
async function readSmallFiles(path: string): Promise<SmallFilesBenchmark | null> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch {
    return null;
  }
  const figures = parsed as Partial<Record<keyof SmallFilesBenchmark, unknown>>;
  return typeof figures.smallFiles === "number" &&
    typeof figures.smallFilesStoreSeconds === "number" &&
    typeof figures.smallFilesGasPerFile === "number"
    ? (parsed as SmallFilesBenchmark)
    : null;
}

function clientPeak(run: DataRun): number | null {
  const { storeClientPeakRssMB: store, retrieveClientPeakRssMB: retrieve } = run;
  return store === null || retrieve === null ? null : Math.max(store, retrieve);
}

/** Merge into bench/data.json: measured (non-null) fields replace old ones, everything else is kept. */
export async function mergeResults(path: string, result: DataBenchmark): Promise<Record<string, unknown>> {
  let existing: Record<string, unknown> = {};
  try {
    existing = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
  } catch {
    // No previous results.
  }
  // This run's fields first, in its order; a null (not measured) keeps the previous value; other keys follow.
  const merged: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(result)) {
    merged[key] = value === null && existing[key] !== undefined ? existing[key] : value;
  }
  for (const [key, value] of Object.entries(existing)) {
    if (!(key in merged)) merged[key] = value;
  }
  // Runs of sizes this run did not measure are kept (a 4 GiB run may be measured on its own).
  const previousRuns = Array.isArray(existing.runs) ? (existing.runs as { fileMiB?: unknown }[]) : [];
  const measured = new Set(result.runs.map((run) => run.fileMiB));
  merged.runs = [...previousRuns.filter((run) => !measured.has(Number(run.fileMiB))), ...result.runs].sort(
    (a, b) => Number(a.fileMiB) - Number(b.fileMiB),
  );
  if (merged.storeSeconds === null || merged.retrieveSeconds === null) {
    merged.note =
      "storeSeconds/retrieveSeconds/peakRssMB need running provider agents: measured by `npm run bench:data` " +
      "(runDataBenchmark({ measureStoreRetrieve })), null until then.";
  } else {
    delete merged.note;
  }
  // The small-files figures come from bench:small-files (bench/small-files.json next to data.json).
  const small = await readSmallFiles(join(dirname(path), "small-files.json"));
  const withSmall = small === null ? merged : mergeSmallFiles(merged, small);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(withSmall, null, 2) + "\n");
  return withSmall;
}

function printTable(result: DataBenchmark): void {
  const mbps = (value: number | null): string => (value === null ? "n/a" : `${value.toFixed(1)} MB/s`);
  const mb = (value: number | null): string => (value === null ? "n/a" : `${value} MB`);
  const samples = (values: readonly number[] | null): string =>
    values === null ? "n/a" : values.map((value) => `${value} s`).join(", ");
  const cpu = (figure: { client: number | null; agents: number | null } | null): string =>
    figure === null ? "n/a" : `${figure.client ?? "?"} s / ${figure.agents ?? "?"} s`;
  const rows: [string, string][] = [
    [
      `throughput buffer`,
      `${result.throughputMiB} MiB (pieces: k=${DEFAULT_CODING.k}, m=${DEFAULT_CODING.m})`,
    ],
    [`commitment, ${result.threads} worker threads`, mbps(result.commitMBps)],
    [`commitment, one thread`, mbps(result.commitSingleThreadMBps)],
    [`openssl speed -evp sha256 (16 KiB, one core)`, mbps(result.opensslSha256MBps)],
    [
      `commitment / openssl (budget >= 50%)`,
      result.commitVsOpensslPercent === null ? "n/a (openssl missing)" : `${result.commitVsOpensslPercent}%`,
    ],
    [`cores the parallel commitment got`, `${result.commitCoresUsed} (load average ${result.loadAverage})`],
    [`commitment per CPU-second (one core)`, mbps(result.commitPerCoreMBps)],
    [
      `  x ${result.threads} cores / openssl (idle machine)`,
      result.commitIdleProjectionPercent === null ? "n/a" : `${result.commitIdleProjectionPercent}%`,
    ],
    [`encryption AES-256-GCM (256 KiB chunks)`, mbps(result.encryptMBps)],
    [`erasure coding k=2 m=1 (default)`, mbps(result.erasureMBps)],
    [`erasure coding k=4 m=2`, mbps(result.erasureK4M2MBps)],
    [`peak RSS, this process (throughput phase)`, mb(result.benchPeakRssMB)],
  ];
  for (const run of result.runs) {
    const pct = (value: number | null): string => (value === null ? "n/a" : `${value}%`);
    rows.push(
      [`${run.fileMiB} MiB file`, ""],
      [
        `  prepare / restore / restore with decoding`,
        `${run.prepareSeconds} s / ${run.restoreSeconds} s / ${run.restoreDecodeSeconds === null ? "n/a" : `${run.restoreDecodeSeconds} s`}`,
      ],
      [`  medians of`, `${run.repeats} run(s) each`],
      [
        `  prepare samples / restore samples`,
        `${samples(run.prepareSamples)} / ${samples(run.restoreSamples)}`,
      ],
      [
        `  store / retrieve via 3 agents`,
        run.storeSeconds === null
          ? "not measured here"
          : `${run.storeSeconds} s / ${String(run.retrieveSeconds)} s`,
      ],
      [
        `  store samples / retrieve samples`,
        `${samples(run.storeSamples)} / ${samples(run.retrieveSamples)}`,
      ],
      [
        `  CPU per prepare / restore (this process)`,
        `${run.prepareCpuSeconds} s / ${run.restoreCpuSeconds} s`,
      ],
      [`  CPU per store: client / agents`, cpu(run.storeCpuSeconds)],
      [`  CPU per retrieve: client / agents`, cpu(run.retrieveCpuSeconds)],
      [
        `  store vs prepare (>= 50%), retrieve vs restore (>= 70%)`,
        `${pct(run.storeVsPreparePercent)}, ${pct(run.retrieveVsRestorePercent)}`,
      ],
      [
        `  peak RSS: store / retrieve client / agent (<= 512)`,
        `${mb(run.storeClientPeakRssMB)} / ${mb(run.retrieveClientPeakRssMB)} / ${mb(run.agentPeakRssMB)}`,
      ],
      [`  peak RSS, pipeline in this process`, mb(run.pipelinePeakRssMB)],
      [
        `  permanent: code / read back / read back decoding`,
        `${String(run.permanentCodeSeconds)} s / ${String(run.permanentReadSeconds)} s / ${run.permanentReadDecodeSeconds === null ? "n/a" : `${run.permanentReadDecodeSeconds} s`}`,
      ],
      [`  peak RSS, permanent file (own process)`, mb(run.permanentPeakRssMB)],
    );
  }
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
}

/**
 * Run this benchmark in a child started with the bulk-data commands' malloc settings (offchain/cli/launch.mjs), so
 * that the in-process prepare and restore it compares the CLI against run under the same allocator as the CLI.
 * Returns false when this process already has them.
 */
function relaunchWithBulkEnvironment(): boolean {
  const env = bulkEnvironment(process.env);
  if (env === null) return false;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env,
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal !== null) {
      // Die of the same signal: without our forwarding handlers, which would otherwise catch it.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exitCode = code ?? 1;
  });
  return true;
}

async function main(): Promise<void> {
  if (relaunchWithBulkEnvironment()) return;
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
  const sizesMiB = values.quick
    ? [QUICK_MIB]
    : (process.env.STRATA_BENCH_DATA_MIB ?? "1024,4096").split(",").map((text) => Number(text.trim()));
  if (sizesMiB.some((mib) => !Number.isInteger(mib) || mib <= 0))
    throw new StrataError(
      "INVALID_ARGUMENT",
      `STRATA_BENCH_DATA_MIB must be positive whole numbers of MiB, comma-separated`,
    );
  const repeats = values.quick ? 1 : Number(process.env.STRATA_BENCH_DATA_REPEATS ?? DEFAULT_REPEATS);
  if (!Number.isSafeInteger(repeats) || repeats < 1)
    throw new StrataError("INVALID_ARGUMENT", "STRATA_BENCH_DATA_REPEATS must be a positive whole number");
  const log = (line: string): void => {
    console.error(`[bench] ${line}`);
  };
  const result = await runDataBenchmark({
    sizesMiB,
    log,
    repeats,
    measureStoreRetrieve: (files, afterEach, times) =>
      storeRetrieveWithLocalAgents(files, { log, afterEach, repeats: times }),
  });
  printTable(result);
  if (values.quick) {
    console.log(`\nquick run: ${OUT} left unchanged`);
    return;
  }
  await mergeResults(OUT, result);
  console.log(`\nwrote ${OUT}`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
