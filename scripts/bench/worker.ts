/**
 * Worker benchmark: how fast a fresh proof-verifier worker catches up with a market of many active data sets,
 * how much CPU it uses once caught up, and how much memory it needs as data sets grow.
 *
 * Starts a `hardhat node`, deploys the suite with the Ignition module, opens data sets in two steps (a quarter,
 * then the rest), and after each step runs a fresh `strata worker start` process on an empty database, timing
 * its catch-up from the deployment block to the head and sampling its peak RSS. Then, with every data set active,
 * it moves the chain past a proving period (every provider misses its proof, so the worker has real reports
 * to send) and measures the worker's CPU over a steady-state interval.
 *
 *   npm run bench:worker                     # 10,000 data sets, 50 providers; writes bench/worker.json
 *   npm run bench:worker -- --data-sets 2000 # smaller run (bench/worker.json left unchanged unless --write)
 *   BENCH_WORKER_DATA_SETS=2000 npm run bench:worker   # the same count from the environment
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  freePort,
  NODE,
  ROOT,
  startLocalChainOrCleanUp,
  stopProcess,
  type LocalChain,
} from "../lib/localChain.js";
import { devAccountWallet } from "../../offchain/sdk/chain/connect.js";
import { captureOutput } from "../lib/localProcesses.js";
import { vmHwmMB } from "./storeRetrieve.js";
import { createParties, openDataSets, type PopulateOptions } from "./workerPopulate.js";
import { StrataError } from "../../offchain/sdk/errors.js";

const OUT = "bench/worker.json";
const CLI = path.join(ROOT, "offchain", "cli", "strata.mjs");

interface CatchUp {
  dataSets: number;
  blocks: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  blocksPerSecond: number;
  peakRssMB: number | null;
}

interface Health {
  status: string;
  indexedBlock: number | null;
  head: number | null;
  blocksBehind: number | null;
  dataSetsTracked?: number;
}

function log(line: string): void {
  console.error(`[bench] ${line}`);
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function health(url: string): Promise<Health | undefined> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    return (await res.json()) as Health;
  } catch {
    return undefined;
  }
}

/** Sum of user + system CPU seconds of a live process (Linux /proc), or null. */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100;
  } catch {
    return null;
  }
}

interface RunningWorker {
  child: ChildProcess;
  url: string;
  output: string[];
  peak: () => number | null;
  stop: () => Promise<void>;
}

async function startWorker(chain: LocalChain, dbDir: string, extra: string[] = []): Promise<RunningWorker> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    NODE,
    [
      CLI,
      "--rpc",
      chain.rpcUrl,
      "--deployment",
      chain.deploymentFile,
      "worker",
      "start",
      "--db",
      path.join(dbDir, "worker.db"),
      "--listen",
      `127.0.0.1:${port}`,
      "--confirmations",
      "1",
      "--no-sampling",
      "--no-challenges",
      "--key-env",
      "STRATA_WORKER_KEY",
      ...extra,
    ],
    {
      cwd: ROOT,
      // A funded development account that the population never uses.
      env: { ...process.env, STRATA_WORKER_KEY: devAccountWallet(19).privateKey, STRATA_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const output: string[] = [];
  captureOutput(child, output, 200);
  let peak: number | null = null;
  const sampler = setInterval(() => {
    if (child.pid === undefined) return;
    void vmHwmMB(child.pid).then((mb) => {
      if (mb !== null) peak = Math.max(peak ?? 0, mb);
    });
  }, 100);
  return {
    child,
    url,
    output,
    peak: () => peak,
    async stop() {
      clearInterval(sampler);
      if (child.pid !== undefined) {
        const last = await vmHwmMB(child.pid);
        if (last !== null) peak = Math.max(peak ?? 0, last);
      }
      await stopProcess(child);
    },
  };
}

async function countEvents(
  chain: LocalChain,
  from: number,
  to: number,
  addresses: string[],
): Promise<number> {
  let total = 0;
  for (let start = from; start <= to; start += 5000) {
    const logs = await chain.provider.getLogs({
      address: addresses,
      fromBlock: start,
      toBlock: Math.min(to, start + 4999),
    });
    total += logs.length;
  }
  return total;
}

async function measureCatchUp(chain: LocalChain, dataSets: number, addresses: string[]): Promise<CatchUp> {
  const dbDir = mkdtempSync(path.join(tmpdir(), "strata-bench-worker-"));
  // Stop the clock: the target is the head when the worker starts, so blocks mined meanwhile do not count.
  const head = await chain.provider.getBlockNumber();
  const events = await countEvents(chain, 0, head, addresses);
  const started = performance.now();
  const worker = await startWorker(chain, dbDir);
  try {
    let last = 0;
    for (;;) {
      if (worker.child.exitCode !== null)
        throw new StrataError(
          "BENCH_PROCESS_FAILED",
          `worker exited with ${String(worker.child.exitCode)}:\n${worker.output.join("")}`,
        );
      const h = await health(worker.url);
      const indexed = h?.indexedBlock ?? 0;
      if (indexed >= head - 1) break;
      if (performance.now() - last > 5000) {
        last = performance.now();
        log(`catch-up: block ${indexed}/${head}`);
      }
      if (performance.now() - started > 30 * 60_000)
        throw new StrataError("BENCH_PROCESS_FAILED", "worker did not catch up in 30 minutes");
      await sleep(50);
    }
    const seconds = (performance.now() - started) / 1000;
    await worker.stop();
    return {
      dataSets,
      blocks: head + 1,
      events,
      seconds: Math.round(seconds * 100) / 100,
      eventsPerSecond: Math.round(events / seconds),
      blocksPerSecond: Math.round((head + 1) / seconds),
      peakRssMB: worker.peak(),
    };
  } finally {
    await worker.stop();
    rmSync(dbDir, { recursive: true, force: true });
  }
}

interface SteadyState {
  seconds: number;
  cpuPercent: number | null;
  peakRssMB: number | null;
  reportsSent: number | null;
}

function metricValue(text: string, name: string): number | null {
  const line = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{"));
  if (line === undefined) return null;
  const value = Number(line.slice(line.lastIndexOf(" ") + 1));
  return Number.isFinite(value) ? value : null;
}

async function measureSteadyState(chain: LocalChain, seconds: number): Promise<SteadyState> {
  const dbDir = mkdtempSync(path.join(tmpdir(), "strata-bench-worker-"));
  const worker = await startWorker(chain, dbDir);
  try {
    const head = await chain.provider.getBlockNumber();
    for (;;) {
      const h = await health(worker.url);
      if ((h?.indexedBlock ?? 0) >= head - 1) break;
      if (worker.child.exitCode !== null)
        throw new StrataError("BENCH_PROCESS_FAILED", `worker exited:\n${worker.output.join("")}`);
      await sleep(100);
    }
    // Every provider misses the next period: move past its end so the worker has reports to send.
    const market = (await import("../../typechain-types/index.js")).StorageMarket__factory.connect(
      chain.addresses.market,
      chain.provider,
    );
    await chain.advance(Number(await market.provingPeriod()) * 2);
    const pid = worker.child.pid ?? 0;
    const cpuStart = cpuSeconds(pid);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const cpuEnd = cpuSeconds(pid);
    const wall = (performance.now() - t0) / 1000;
    const metrics = await fetch(`${worker.url}/metrics`).then((r) => r.text());
    await worker.stop();
    return {
      seconds: Math.round(wall),
      cpuPercent:
        cpuStart === null || cpuEnd === null ? null : Math.round(((cpuEnd - cpuStart) / wall) * 1000) / 10,
      peakRssMB: worker.peak(),
      reportsSent: metricValue(metrics, "strata_worker_reports_sent_total"),
    };
  } finally {
    await worker.stop();
    rmSync(dbDir, { recursive: true, force: true });
  }
}

function printTable(runs: CatchUp[], steady: SteadyState): void {
  const header = ["data sets", "blocks", "events", "catch-up s", "events/s", "blocks/s", "peak RSS MB"];
  const rows = runs.map((r) => [
    r.dataSets.toLocaleString("en-US"),
    r.blocks.toLocaleString("en-US"),
    r.events.toLocaleString("en-US"),
    r.seconds.toFixed(1),
    r.eventsPerSecond.toLocaleString("en-US"),
    r.blocksPerSecond.toLocaleString("en-US"),
    String(r.peakRssMB ?? "n/a"),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
  console.log(
    `\nsteady state with every data set active, every provider missing a period: ` +
      `${steady.cpuPercent ?? "n/a"}% of one core over ${steady.seconds} s, ` +
      `peak RSS ${steady.peakRssMB ?? "n/a"} MB, missed-proof reports sent ${steady.reportsSent ?? "n/a"}`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "data-sets": { type: "string", default: process.env.BENCH_WORKER_DATA_SETS ?? "10000" },
      providers: { type: "string", default: "50" },
      "steady-seconds": { type: "string", default: "30" },
      write: { type: "boolean", default: false },
    },
  });
  const dataSets = Number(values["data-sets"]);
  const providerCount = Number(values.providers);
  if (!Number.isInteger(dataSets) || dataSets < 100)
    throw new StrataError("INVALID_ARGUMENT", "--data-sets must be a whole number >= 100");
  if (!Number.isInteger(providerCount) || providerCount < 1 || providerCount > dataSets)
    throw new StrataError("INVALID_ARGUMENT", "--providers must be a whole number between 1 and --data-sets");
  log("starting a local node and deploying the suite");
  const chain = await startLocalChainOrCleanUp();
  try {
    const addresses = [chain.addresses.market, chain.addresses.registry];
    const raw = JSON.parse(readFileSync(chain.deploymentFile, "utf8")) as Record<string, string>;
    const retrieval = raw["StrataLocal#RetrievalChallenges"];
    if (retrieval !== undefined) addresses.push(retrieval);
    const options: PopulateOptions = { provider: chain.provider, addresses: chain.addresses, log };
    const pop = await createParties(options, providerCount, Math.max(10, Math.ceil(providerCount / 5)));
    const first = Math.floor(dataSets / 4);
    await openDataSets(options, pop, first);
    const runs = [await measureCatchUp(chain, pop.dataSets, addresses)];
    log(`fresh worker caught up with ${pop.dataSets} data sets in ${String(runs[0]?.seconds)} s`);
    await openDataSets(options, pop, dataSets - first);
    runs.push(await measureCatchUp(chain, pop.dataSets, addresses));
    log(`fresh worker caught up with ${pop.dataSets} data sets in ${String(runs[1]?.seconds)} s`);
    const steady = await measureSteadyState(chain, Number(values["steady-seconds"]));
    printTable(runs, steady);
    const full = runs[runs.length - 1];
    if (full === undefined) throw new StrataError("BENCH_SETUP_FAILED", "no runs");
    const result = {
      dataSets: full.dataSets,
      providers: providerCount,
      catchUpEventsPerSecond: full.eventsPerSecond,
      catchUpBlocksPerSecond: full.blocksPerSecond,
      catchUpSeconds: full.seconds,
      peakRssMB: Math.max(...runs.map((r) => r.peakRssMB ?? 0), steady.peakRssMB ?? 0),
      steadyStateCpuPercent: steady.cpuPercent,
      steadyStatePeakRssMB: steady.peakRssMB,
      steadyStateReportsSent: steady.reportsSent,
      runs,
      measuredAt: new Date().toISOString(),
    };
    if (dataSets === 10_000 || values.write) {
      mkdirSync(path.dirname(OUT), { recursive: true });
      writeFileSync(OUT, JSON.stringify(result, null, 2) + "\n");
      console.log(`\nwrote ${OUT}`);
    } else {
      console.log(`\n${OUT} left unchanged (pass --write to replace it)`);
    }
  } finally {
    await chain.stop();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    const short = (error as { shortMessage?: string }).shortMessage;
    console.error(
      `worker benchmark failed: ${short ?? (error instanceof Error ? error.message : String(error))}`,
    );
    process.exitCode = 1;
  });
}
