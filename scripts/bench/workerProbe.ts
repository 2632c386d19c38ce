/**
 * Worker memory probe: starts a local node, opens PROBE_DATA_SETS data sets (default 2,500), then runs a fresh
 * read-only `strata worker start` once per entry of PROBE_RUNS ("|"-separated NODE_OPTIONS strings; default one
 * run with none), printing each run's catch-up time and peak RSS (VmHWM). With PROBE_HOLD=1 the node stays up
 * afterwards (its RPC URL and deployment file are printed) until the probe is interrupted, so a worker can be
 * run against it by hand, e.g. under --heap-prof or --cpu-prof.
 *
 *   PROBE_DATA_SETS=10000 PROBE_RUNS="|--max-old-space-size=200" npx tsx scripts/bench/workerProbe.ts
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, NODE, ROOT, startLocalChainOrCleanUp, stopProcess } from "../lib/localChain.js";
import { vmHwmMB } from "./storeRetrieve.js";
import { createParties, openDataSets } from "./workerPopulate.js";

function log(line: string): void {
  console.error(`[probe] ${line}`);
}

const chain = await startLocalChainOrCleanUp();
try {
  const options = { provider: chain.provider, addresses: chain.addresses, log };
  const pop = await createParties(options, 50, 10);
  await openDataSets(options, pop, Number(process.env.PROBE_DATA_SETS ?? "2500"));
  for (const nodeOptions of (process.env.PROBE_RUNS ?? "").split("|")) {
    const head = await chain.provider.getBlockNumber();
    const port = await freePort();
    const dbDir = mkdtempSync(path.join(tmpdir(), "strata-probe-"));
    const child = spawn(
      NODE,
      [
        "offchain/cli/strata.mjs",
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
        "--read-only",
      ],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: nodeOptions, STRATA_LOG_LEVEL: process.env.PROBE_LOG ?? "warn" },
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
    const started = performance.now();
    let peak = 0;
    const sample = async (): Promise<void> => {
      if (child.pid !== undefined) peak = Math.max(peak, (await vmHwmMB(child.pid)) ?? 0);
    };
    let caughtUp: number | null = null;
    for (;;) {
      await sample();
      if (exited()) break; // an out-of-memory abort ends it with a signal, not an exit code
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        const h = (await res.json()) as { indexedBlock: number | null };
        if ((h.indexedBlock ?? 0) >= head - 1) {
          caughtUp = performance.now() - started;
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // Duties run right after the catch-up: give them time, then read the high-water mark.
    if (!exited()) await new Promise((r) => setTimeout(r, Number(process.env.PROBE_SETTLE_MS ?? "5000")));
    await sample();
    const exit = child.exitCode ?? child.signalCode;
    await stopProcess(child);
    rmSync(dbDir, { recursive: true, force: true });
    console.log(
      `NODE_OPTIONS="${nodeOptions}" dataSets=${pop.dataSets} blocks=${head + 1} ` +
        (caughtUp === null
          ? `did not catch up (exit ${String(exit)})`
          : `caught up in ${caughtUp.toFixed(0)} ms`) +
        ` peak RSS ${peak} MB`,
    );
  }
  if (process.env.PROBE_HOLD === "1") {
    console.log(`holding: --rpc ${chain.rpcUrl} --deployment ${chain.deploymentFile}`);
    await Promise.race([once(process, "SIGINT"), once(process, "SIGTERM")]);
  }
} finally {
  await chain.stop();
}
