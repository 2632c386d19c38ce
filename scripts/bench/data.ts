/**
 * Data-path benchmark (README, "Benchmarks"): commitment, encryption and erasure-coding throughput on a random
 * file (256 MiB by default), beside `openssl speed -evp sha256` measured in the same run, plus a full local
 * prepare/restore, then `strata store` / `strata retrieve` of the same file through three local agent processes
 * on a local `hardhat node` (storeRetrieve.ts, through the `measureStoreRetrieve` hook of runDataBenchmark)
 * with the client processes' and agents' peak RSS. Prints a table and merges the figures into bench/data.json,
 * keeping fields this run did not measure.
 *
 *   npm run bench:data                            # 256 MiB, writes bench/data.json
 *   npm run bench:data -- --quick                 # 4 MiB smoke run; bench/data.json is left alone
 *   STRATA_BENCH_DATA_MIB=64 npm run bench:data   # another size (writes bench/data.json)
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes, randomFillSync } from "node:crypto";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { Wallet } from "ethers";
import { commitPieces, commitPiecesSync, defaultCommitPool } from "../../offchain/sdk/commitment/parallel.js";
import { encrypt, TAG_BYTES } from "../../offchain/sdk/data/encryption.js";
import { computeParity, shardSizeFor } from "../../offchain/sdk/data/erasure.js";
import { prepareFile } from "../../offchain/sdk/data/prepare.js";
import { restoreFile } from "../../offchain/sdk/data/restore.js";
import { storeRetrieveWithLocalAgents } from "./storeRetrieve.js";
import { StrataError } from "../../offchain/sdk/errors.js";

const OUT = "bench/data.json";
const QUICK_MIB = 4;
/** The CLI's default coding (`strata store --k 2 --m 1`). */
const DEFAULT_CODING = { k: 2, m: 1 } as const;

export interface StoreRetrieveTiming {
  storeSeconds: number;
  retrieveSeconds: number;
  /** Peak RSS of the `strata store` / `strata retrieve` processes; null when it could not be taken. */
  storeClientPeakRssMB: number | null;
  retrieveClientPeakRssMB: number | null;
  /** Highest peak RSS among the agents. */
  agentPeakRssMB: number | null;
}

export interface DataBenchmark {
  fileMiB: number;
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
  encryptMBps: number;
  /** Parity computation for the default coding (k=2, m=1), bytes of payload per second. */
  erasureMBps: number;
  /** Same for k=4, m=2. */
  erasureK4M2MBps: number;
  /** Whole prepareFile (hash, key, encrypt, code, commit) with the default coding. */
  prepareSeconds: number;
  /** Whole restoreFile from one data and one parity piece (decoding needed), default coding. */
  restoreSeconds: number;
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
  /** This benchmark process's own peak RSS over the in-process phases (throughputs, prepare, restore). */
  benchPeakRssMB: number;
  threads: number;
  loadAverage: number;
  measuredAt: string;
}

export interface DataBenchmarkOptions {
  fileMiB?: number;
  /** Stores and retrieves `file` through running agents (wired by the end-to-end harness). */
  measureStoreRetrieve?: (file: Uint8Array) => Promise<StoreRetrieveTiming>;
}

const MB = 1e6;

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

/** Data shards of `file` for coding k, as prepareFile lays them out (shared memory, zero padding). */
function dataShards(file: Uint8Array, k: number): Uint8Array[] {
  const shardSize = shardSizeFor(file.length + TAG_BYTES, k);
  const payload = new Uint8Array(new SharedArrayBuffer(k * shardSize));
  payload.set(file);
  return Array.from({ length: k }, (_, i) => payload.subarray(i * shardSize, (i + 1) * shardSize));
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
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

export async function runDataBenchmark(options: DataBenchmarkOptions = {}): Promise<DataBenchmark> {
  const fileMiB = options.fileMiB ?? 256;
  const loadAverage = loadavg()[0] ?? 0;
  const opensslSha256MBps = await opensslSha256();

  let file: Uint8Array | undefined = new Uint8Array(fileMiB << 20);
  randomFillSync(file);
  const fileBytes = file.length;
  const fileHash = sha256(file);

  let start = performance.now();
  encrypt(file, randomBytes(32));
  const encryptMBps = fileBytes / MB / seconds(start);
  collectGarbage();

  const erasureK4M2MBps = await erasureMBps(file, 4, 2);
  collectGarbage();
  let pieces: Uint8Array[] = dataShards(file, DEFAULT_CODING.k);
  start = performance.now();
  pieces.push(...(await computeParity(pieces, DEFAULT_CODING.m)));
  const erasureDefault = fileBytes / MB / seconds(start);

  const pieceBytes = pieces.reduce((sum, piece) => sum + piece.length, 0);
  // Steady state: the shared pool's one-time start-up (~0.1 s per process, overlapped with encryption inside
  // prepareFile) is not part of the throughput.
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
  collectGarbage();

  // A store and a retrieve as the CLI runs them, each holding only what it needs (RSS is the process peak).
  const signer = Wallet.createRandom();
  start = performance.now();
  const prepared = await prepareFile(file, { ...DEFAULT_CODING, signer, fileName: "bench.bin" });
  const prepareSeconds = seconds(start);
  const timingInput = options.measureStoreRetrieve === undefined ? undefined : file;
  file = undefined;
  collectGarbage();
  const given = new Map(prepared.pieces.slice(1).map((piece) => [piece.index, piece.data]));
  start = performance.now();
  const restored = await restoreFile(prepared.manifestDraft, given, signer);
  const restoreSeconds = seconds(start);
  if (sha256(restored.data) !== fileHash)
    throw new StrataError("BENCH_RESULT_INVALID", "restored file differs");
  const benchPeakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);

  const timing =
    options.measureStoreRetrieve === undefined || timingInput === undefined
      ? null
      : await options.measureStoreRetrieve(timingInput);
  const round = (value: number): number => Math.round(value * 10) / 10;
  return {
    fileMiB,
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
    prepareSeconds: Math.round(prepareSeconds * 1000) / 1000,
    restoreSeconds: Math.round(restoreSeconds * 1000) / 1000,
    storeSeconds: timing?.storeSeconds ?? null,
    retrieveSeconds: timing?.retrieveSeconds ?? null,
    peakRssMB: clientPeak(timing),
    storeClientPeakRssMB: timing?.storeClientPeakRssMB ?? null,
    retrieveClientPeakRssMB: timing?.retrieveClientPeakRssMB ?? null,
    agentPeakRssMB: timing?.agentPeakRssMB ?? null,
    benchPeakRssMB,
    threads: availableParallelism(),
    loadAverage: Math.round(loadAverage * 100) / 100,
    measuredAt: new Date().toISOString(),
  };
}

function clientPeak(timing: StoreRetrieveTiming | null): number | null {
  if (timing === null) return null;
  const { storeClientPeakRssMB: store, retrieveClientPeakRssMB: retrieve } = timing;
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
  if (merged.storeSeconds === null || merged.retrieveSeconds === null) {
    merged.note =
      "storeSeconds/retrieveSeconds/peakRssMB need running provider agents: measured by `npm run bench:data` " +
      "(runDataBenchmark({ measureStoreRetrieve })), null until then.";
  } else {
    delete merged.note;
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(merged, null, 2) + "\n");
  return merged;
}

function printTable(result: DataBenchmark): void {
  const mbps = (value: number | null): string => (value === null ? "n/a" : `${value.toFixed(1)} MB/s`);
  const mb = (value: number | null): string => (value === null ? "n/a" : `${value} MB`);
  const rows: [string, string][] = [
    [`file size`, `${result.fileMiB} MiB (pieces: k=${DEFAULT_CODING.k}, m=${DEFAULT_CODING.m})`],
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
    [`encryption AES-256-GCM`, mbps(result.encryptMBps)],
    [`erasure coding k=2 m=1 (default)`, mbps(result.erasureMBps)],
    [`erasure coding k=4 m=2`, mbps(result.erasureK4M2MBps)],
    [`prepareFile (hash+encrypt+code+commit)`, `${result.prepareSeconds} s`],
    [`restoreFile (verify+decode+decrypt+hash)`, `${result.restoreSeconds} s`],
    [
      `store / retrieve via agents`,
      result.storeSeconds === null
        ? "not measured here"
        : `${result.storeSeconds} s / ${String(result.retrieveSeconds)} s`,
    ],
    [
      `peak RSS, client (store / retrieve)`,
      result.peakRssMB === null
        ? "not measured here"
        : `${result.peakRssMB} MB (${mb(result.storeClientPeakRssMB)} / ${mb(result.retrieveClientPeakRssMB)})`,
    ],
    [`peak RSS, agents (highest of 3)`, mb(result.agentPeakRssMB)],
    [`peak RSS, this process (in-process phases)`, mb(result.benchPeakRssMB)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) console.log(`${name.padEnd(width)}  ${value}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
  const fileMiB = values.quick ? QUICK_MIB : Number(process.env.STRATA_BENCH_DATA_MIB ?? "256");
  if (!Number.isInteger(fileMiB) || fileMiB <= 0)
    throw new StrataError("INVALID_ARGUMENT", `STRATA_BENCH_DATA_MIB must be a positive whole number of MiB`);
  const result = await runDataBenchmark({
    fileMiB,
    measureStoreRetrieve: (file) =>
      storeRetrieveWithLocalAgents(file, {
        log: (line) => {
          console.error(`[bench] ${line}`);
        },
      }),
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
