/**
 * Small-files benchmark: many files of 10 KiB to 1 MiB stored with one `strata store` command (packed into
 * payloads, k = 2, m = 1) through three local agent processes on a local `hardhat node`, timed until every piece
 * is on chain, with the gas of every transaction the store caused (the client's approve and top-ups, the agents'
 * createDataSet and updateDataSets) divided by the number of files. Prints a table and writes
 * bench/small-files.json; `mergeSmallFiles` puts the figures into the data benchmark's bench/data.json.
 *
 *   npm run bench:small-files                                     # 10,000 files of 10 KiB - 1 MiB
 *   STRATA_BENCH_SMALL_FILES=1000 STRATA_BENCH_SMALL_MAX_KIB=100 npm run bench:small-files
 */
import { randomFillSync } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { StorageMarket__factory } from "../../typechain-types/index.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { startLocalChainOrCleanUp, stopProcess } from "../lib/localChain.js";
import { devAddress, startAgents, strataCli, type RunningAgent } from "../lib/localProcesses.js";
import { configureStorageOffer } from "../demo/storageStory.js";
import { ROOT } from "./files.js";

export const SMALL_FILES_JSON = path.join(ROOT, "bench", "small-files.json");

export interface SmallFilesBenchmark {
  /** Files stored by the one command. */
  smallFiles: number;
  smallFilesMiB: number;
  /** Wall time of `strata store <folder>` until every piece is on chain. */
  smallFilesStoreSeconds: number;
  /** Gas of every transaction the store caused, per file (the budget is < 20,000: one storage word). */
  smallFilesGasPerFile: number;
  smallFilesTransactions: number;
  smallFilesPayloads: number;
}

export interface SmallFilesOptions {
  count: number;
  minBytes: number;
  maxBytes: number;
  /** `strata store --bundle-size` (bytes); default the CLI's. */
  bundleBytes?: number;
  log?: (line: string) => void;
}

const CLIENT = 4;
const GAS_CALLS = new Set(["createDataSet", "updateDataSets", "topUp"]);

/** A deterministic size in [min, max] for file `i` (xorshift: the same set of sizes every run). */
function sizeOf(i: number, min: number, max: number): number {
  let x = (i + 1) * 0x9e3779b1;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return min + ((x >>> 0) % (max - min + 1));
}

export async function measureSmallFiles(options: SmallFilesOptions): Promise<SmallFilesBenchmark> {
  const log = options.log ?? (() => undefined);
  const chain = await startLocalChainOrCleanUp();
  const agents: RunningAgent[] = [];
  try {
    agents.push(...(await startAgents(chain, [1, 2, 3], { configure: configureStorageOffer })));
    // Gigabytes in one command: minutes on a loaded machine.
    const strata = strataCli(chain, { timeoutMs: 3_600_000 });
    await strata(["dev", "mint", "1000000", "--to", devAddress(CLIENT)], 0);
    const folder = path.join(chain.workDir, "small");
    mkdirSync(folder, { recursive: true });
    let bytes = 0;
    const buffer = Buffer.alloc(options.maxBytes);
    for (let i = 0; i < options.count; i++) {
      const size = sizeOf(i, options.minBytes, options.maxBytes);
      randomFillSync(buffer, 0, size);
      writeFileSync(path.join(folder, `f${String(i).padStart(6, "0")}.bin`), buffer.subarray(0, size));
      bytes += size;
    }
    log(`${options.count} files, ${(bytes / 2 ** 20).toFixed(1)} MiB; storing with one command...`);
    const startBlock = await chain.provider.getBlockNumber();
    const started = performance.now();
    const stored = await strata(
      [
        "store",
        folder,
        "--k",
        "2",
        "--m",
        "1",
        "--duration",
        "12",
        "--out",
        path.join(chain.workDir, "small.strata.json"),
        ...(options.bundleBytes === undefined ? [] : ["--bundle-size", String(options.bundleBytes)]),
      ],
      CLIENT,
    );
    const seconds = (performance.now() - started) / 1000;
    const endBlock = await chain.provider.getBlockNumber();
    const payloads = Array.isArray(stored.payloads) ? stored.payloads.length : 0;
    const market = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
    const client = devAddress(CLIENT).toLowerCase();
    let gas = 0n;
    let transactions = 0;
    for (let number = startBlock + 1; number <= endBlock; number++) {
      const block = await chain.provider.getBlock(number, true);
      for (const tx of block?.prefetchedTransactions ?? []) {
        const toMarket = tx.to?.toLowerCase() === chain.addresses.market.toLowerCase();
        const name = toMarket ? market.interface.parseTransaction(tx)?.name : undefined;
        const counted = tx.from.toLowerCase() === client || (name !== undefined && GAS_CALLS.has(name));
        if (!counted) continue;
        const receipt = await chain.provider.getTransactionReceipt(tx.hash);
        gas += receipt?.gasUsed ?? 0n;
        transactions++;
      }
    }
    return {
      smallFiles: options.count,
      smallFilesMiB: Math.round((bytes / 2 ** 20) * 10) / 10,
      smallFilesStoreSeconds: Math.round(seconds * 100) / 100,
      smallFilesGasPerFile: Math.round(Number(gas) / options.count),
      smallFilesTransactions: transactions,
      smallFilesPayloads: payloads,
    };
  } finally {
    for (const agent of agents) await stopProcess(agent.process);
    await chain.stop();
  }
}

/** The data benchmark's JSON with the small-files figures set (the function bench:data calls to merge them). */
export function mergeSmallFiles(
  data: Record<string, unknown>,
  small: SmallFilesBenchmark,
): Record<string, unknown> {
  return {
    ...data,
    smallFiles: small.smallFiles,
    smallFilesMiB: small.smallFilesMiB,
    smallFilesStoreSeconds: small.smallFilesStoreSeconds,
    smallFilesGasPerFile: small.smallFilesGasPerFile,
  };
}

function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new StrataError("BENCH_SETUP_FAILED", `${name} must be a positive integer`);
  return value;
}

async function main(): Promise<void> {
  const count = envInt("STRATA_BENCH_SMALL_FILES", 10_000);
  const minBytes = envInt("STRATA_BENCH_SMALL_MIN_KIB", 10) * 1024;
  const maxBytes = envInt("STRATA_BENCH_SMALL_MAX_KIB", 1024) * 1024;
  const bundleMiB = process.env.STRATA_BENCH_SMALL_BUNDLE_MIB;
  const result = await measureSmallFiles({
    count,
    minBytes,
    maxBytes,
    ...(bundleMiB === undefined ? {} : { bundleBytes: Number(bundleMiB) * 2 ** 20 }),
    log: (line) => {
      console.log(line);
    },
  });
  console.table({
    files: result.smallFiles,
    "MiB stored": result.smallFilesMiB,
    payloads: result.smallFilesPayloads,
    "store seconds": result.smallFilesStoreSeconds,
    transactions: result.smallFilesTransactions,
    "gas per file (budget < 20,000)": result.smallFilesGasPerFile,
  });
  await writeFile(SMALL_FILES_JSON, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${path.relative(ROOT, SMALL_FILES_JSON)}`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  await main();
}
