/**
 * Store and retrieve through real processes, for the data benchmark (scripts/bench/data.ts): a `hardhat node`
 * with the suite deployed by Ignition (test/e2e/harness.ts), three `strata agent start` processes set up as in
 * the end-to-end test, and the `strata` CLI. Times `strata store <file> --k 2 --m 1` (read, encrypt, code,
 * commit, fund, upload to the three agents and wait for their publications) and `strata retrieve` as a user
 * runs them (wall time of the whole command, Node start-up included), checks the retrieved file against the
 * original, and reports the peak RSS of both client processes and of the agents; its progress lines also give the
 * CPU seconds of each client command and of the agents meanwhile (on a loaded machine those compare, wall times
 * do not). Everything it starts or creates is stopped and removed afterwards, also on failure or Ctrl-C.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  freePort,
  NODE,
  ROOT,
  run,
  startLocalChainOrCleanUp,
  stopProcess,
  type LocalChain,
} from "../lib/localChain.js";
import { StrataError } from "../../offchain/sdk/errors.js";

const CLI = path.join(ROOT, "offchain", "cli", "strata.mjs");
/** Hardhat's default dev accounts 1-3 run the agents, 4 stores; 0 (the token owner) mints. */
const PROVIDER_ACCOUNTS = [1, 2, 3] as const;
const CLIENT_ACCOUNT = 4;
const TIME = "/usr/bin/time";
/** GNU time's report: peak RSS (kB), user and system CPU seconds. */
const TIME_FORMAT = "%M %U %S";
const CLIENT_TIMEOUT_MS = 30 * 60_000;

/** A file on disk to store and retrieve, with its size and sha256 (hex). */
export interface BenchFile {
  path: string;
  size: number;
  sha256: string;
}

export interface AgentStoreRetrieve {
  fileBytes: number;
  /** Median of the repeats (storeSamples, retrieveSamples: every repeat, in order). */
  storeSeconds: number;
  retrieveSeconds: number;
  storeSamples: number[];
  retrieveSamples: number[];
  /** Median CPU seconds of a store and of a retrieve: the client command's, and the three agents' meanwhile. */
  storeCpuSeconds: { client: number | null; agents: number | null };
  retrieveCpuSeconds: { client: number | null; agents: number | null };
  storeClientPeakRssMB: number | null;
  retrieveClientPeakRssMB: number | null;
  /** Highest peak RSS of the three agents over this file's store and retrieve (VmHWM, reset before each file). */
  agentPeakRssMB: number | null;
}

/** Reset a process's VmHWM to its current RSS (Linux: write 5 to /proc/<pid>/clear_refs); false when unsupported. */
export async function resetPeakRss(pid: number): Promise<boolean> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

export interface AgentStoreRetrieveOptions {
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Use GNU time when present (default); false forces the /proc VmHWM sampling fallback. */
  useTimeBinary?: boolean;
  /** Stores and retrieves of each file (default 1); the figures are their medians, the samples are all kept. */
  repeats?: number;
}

/** Median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

/** Median of the known values, null when any is unknown. */
function medianOrNull(values: readonly (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null);
  return known.length === values.length && known.length > 0 ? Math.round(median(known) * 100) / 100 : null;
}

interface Measured {
  seconds: number;
  peakRssMB: number | null;
  /** User + system CPU seconds of the command (GNU time's %U + %S), null without GNU time. */
  cpuSeconds: number | null;
  code: number;
  stdout: string;
  stderr: string;
}

interface Agent {
  account: number;
  endpoint: string;
  process: ChildProcess;
  log: string[];
}

/** GNU time (or a compatible one) that understands `-f %M -o <file>`, else null. */
export function timeBinary(): string | null {
  const probe = spawnSync(TIME, ["-f", TIME_FORMAT, "-o", "/dev/null", "true"], { stdio: "ignore" });
  return probe.error === undefined && probe.status === 0 ? TIME : null;
}

/** VmHWM (peak resident set) of a live process in MB, or null where /proc has none (not Linux, exited). */
export async function vmHwmMB(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kB = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    return kB === undefined ? null : Math.round(Number(kB) / 1024);
  } catch {
    return null;
  }
}

const mbOf = (kB: number): number => Math.round(kB / 1024);

/** Clock ticks per second of /proc/<pid>/stat's CPU times (getconf CLK_TCK; 100 on Linux unless told otherwise). */
const clockTicks = ((): number => {
  const probe = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const ticks = Number(probe.stdout);
  return probe.status === 0 && Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

/** User + system CPU seconds a live process has used so far (Linux /proc), or null where there is none. */
export async function cpuSecondsOf(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The fields after the command name (which may hold spaces) start at field 3: utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / clockTicks : null;
  } catch {
    return null;
  }
}

/**
 * Run `node <args>` to completion, timing it and taking its peak RSS: from GNU time's %M when `time` is given
 * (exact, from the kernel at exit), else by polling /proc/<pid>/status VmHWM every 50 ms (a lower bound: growth
 * in the last interval before exit is missed).
 */
export async function runMeasured(
  args: string[],
  options: { time: string | null; workDir: string; signal?: AbortSignal; timeoutMs?: number },
): Promise<Measured> {
  const rssFile = path.join(options.workDir, `rss-${process.pid}-${Date.now()}.txt`);
  const [command, commandArgs] =
    options.time === null ? [NODE, args] : [options.time, ["-f", TIME_FORMAT, "-o", rssFile, NODE, ...args]];
  const start = performance.now();
  // Its own process group, so that stopping it also stops node when `time` wraps it (time does not forward
  // signals); a terminal's Ctrl-C reaches it through the abort signal instead.
  const child = spawn(command, commandArgs, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const kill = (): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  options.signal?.addEventListener("abort", kill, { once: true });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  let polled: number | null = null;
  const poll = async (): Promise<void> => {
    if (child.pid === undefined || child.exitCode !== null) return;
    const mb = await vmHwmMB(child.pid);
    if (mb !== null) polled = Math.max(polled ?? 0, mb);
  };
  const sampler = options.time === null ? setInterval(() => void poll(), 50) : undefined;
  const timer = setTimeout(kill, options.timeoutMs ?? CLIENT_TIMEOUT_MS);
  const code = await new Promise<number>((resolve) => {
    child.on("error", () => {
      resolve(-1);
    });
    child.on("close", (exitCode) => {
      resolve(exitCode ?? -1);
    });
  });
  const seconds = (performance.now() - start) / 1000;
  clearTimeout(timer);
  clearInterval(sampler);
  options.signal?.removeEventListener("abort", kill);
  let peakRssMB: number | null = polled;
  let cpuSeconds: number | null = null;
  if (options.time !== null) {
    // GNU time writes "Command exited with non-zero status n" first when the command fails: take the last line.
    const lines = (await readFile(rssFile, "utf8").catch(() => "")).trim().split("\n");
    const [kB, user, system] = (lines[lines.length - 1] ?? "").split(" ").map(Number);
    peakRssMB = kB !== undefined && Number.isFinite(kB) && kB > 0 ? mbOf(kB) : null;
    const cpu = (user ?? Number.NaN) + (system ?? Number.NaN);
    cpuSeconds = Number.isFinite(cpu) ? Math.round(cpu * 100) / 100 : null;
    await rm(rssFile, { force: true });
  }
  return { seconds, peakRssMB, cpuSeconds, code, stdout, stderr };
}

async function sha256File(file: string): Promise<{ hash: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 22 })) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    size += bytes.length;
  }
  return { hash: hash.digest("hex"), size };
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

function tail(lines: string[], max = 4000): string {
  const text = lines.join("");
  return text.length > max ? `...${text.slice(-max)}` : text;
}

/**
 * Stores each of `files` across three local agents and retrieves it, one after the other with the same chain and
 * agents (the agents' peak RSS is reset between files); see the module comment. Each file is deleted by
 * `afterEach` once measured (disk: a file, its staged pieces, the agents' copies and the retrieved copy exist at
 * the same time).
 */
export async function storeRetrieveWithLocalAgents(
  files: readonly BenchFile[],
  options: AgentStoreRetrieveOptions & { afterEach?: (file: BenchFile) => Promise<void> } = {},
): Promise<AgentStoreRetrieve[]> {
  const log = options.log ?? (() => undefined);
  const time = options.useTimeBinary === false ? null : timeBinary();
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++interrupts > 1) process.exit(130);
    log(`${signal}: stopping and cleaning up (again to exit at once)`);
    abort.abort(new StrataError("BENCH_PROCESS_FAILED", `interrupted by ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const checkAborted = (): void => {
    if (abort.signal.aborted) throw abort.signal.reason;
  };

  let chain: LocalChain | undefined;
  const agents: Agent[] = [];
  try {
    log("starting hardhat node and deploying (Ignition)...");
    chain = await startLocalChainOrCleanUp();
    checkAborted();
    const { rpcUrl, deploymentFile, workDir } = chain;
    // The CLI processes (which inherit this environment) keep their catalog in the run's folder.
    process.env.STRATA_CATALOG = path.join(workDir, "catalog.sqlite");
    const global = ["--rpc", rpcUrl, "--deployment", deploymentFile, "--json"];
    const strata = async (args: string[], account: number): Promise<Record<string, unknown>> => {
      checkAborted();
      const result = await run([CLI, ...global, "--account", String(account), ...args], {
        timeoutMs: 120_000,
      });
      if (result.code !== 0)
        throw new StrataError(
          "BENCH_PROCESS_FAILED",
          `strata ${args.join(" ")} failed (${result.code}): ${result.stdout}${result.stderr}`,
        );
      return JSON.parse(result.stdout) as Record<string, unknown>;
    };
    const addressOf = async (account: number): Promise<string> => {
      const signer = await chain?.provider.getSigner(account);
      if (signer === undefined) throw new StrataError("BENCH_SETUP_FAILED", "no chain");
      return signer.getAddress();
    };

    for (const account of PROVIDER_ACCOUNTS) {
      const endpoint = `http://127.0.0.1:${await freePort()}`;
      const configFile = path.join(workDir, `provider-${account}.json`);
      await strata(
        ["provider", "init", "--config", configFile, "--endpoint", endpoint, "--data-dir", `./p${account}`],
        account,
      );
      const config = JSON.parse(await readFile(configFile, "utf8")) as Record<string, unknown>;
      config.key = { account };
      // The default tick (2 s): a posted state wakes the agent's duties at once, so a shorter tick would only add
      // the duties' chain reads to the CPU the store and the retrieve compete for.
      // Pieces of the GiB-sized benchmark files (k = 2: half the file each) exceed the 1 GiB default.
      (config.policy as Record<string, unknown>).maxPieceSize = String(1n << 35n);
      config.autoRegister = { capacityBytes: String(1n << 40n), stake: "5000" };
      await writeFile(configFile, JSON.stringify(config, null, 2));
      await strata(["dev", "mint", "5000", "--to", await addressOf(account)], 0);
      const child = spawn(
        NODE,
        [CLI, "--rpc", rpcUrl, "--deployment", deploymentFile, "agent", "start", "--config", configFile],
        { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
      );
      const agentLog: string[] = [];
      child.stdout.on("data", (d: Buffer) => agentLog.push(d.toString()));
      child.stderr.on("data", (d: Buffer) => agentLog.push(d.toString()));
      agents.push({ account, endpoint, process: child, log: agentLog });
    }
    for (const agent of agents) {
      const address = await addressOf(agent.account);
      const deadline = Date.now() + 120_000;
      for (;;) {
        checkAborted();
        if (agent.process.exitCode !== null)
          throw new StrataError(
            "BENCH_PROCESS_FAILED",
            `agent ${agent.account} exited (${agent.process.exitCode}):\n${tail(agent.log)}`,
          );
        const healthy = await fetch(`${agent.endpoint}/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (
          healthy &&
          JSON.stringify(await strata(["provider", "status", address], 0)).includes('"registered":true')
        )
          break;
        if (Date.now() > deadline)
          throw new StrataError(
            "BENCH_PROCESS_FAILED",
            `agent ${agent.account} did not come up and register:\n${tail(agent.log)}`,
          );
        await sleep(300);
      }
    }
    log(`3 agents registered (${agents.map((a) => a.endpoint).join(", ")})`);
    await strata(["dev", "mint", "1000", "--to", await addressOf(CLIENT_ACCOUNT)], 0);

    const measure = async (args: string[]): Promise<Measured> => {
      checkAborted();
      const cli = [CLI, ...global, "--account", String(CLIENT_ACCOUNT), ...args];
      const result = await runMeasured(cli, { time, workDir, signal: abort.signal });
      checkAborted();
      if (result.code !== 0) {
        const agentLogs = agents.map((a) => `agent ${a.account}:\n${tail(a.log, 1500)}`).join("\n");
        throw new StrataError(
          "BENCH_PROCESS_FAILED",
          `strata ${args[0] ?? ""} failed (${result.code}): ${result.stdout}${result.stderr}\n${agentLogs}`,
        );
      }
      return result;
    };

    const results: AgentStoreRetrieve[] = [];
    for (const [n, file] of files.entries()) {
      await Promise.all(
        agents.map(async (a) => (a.process.pid === undefined ? false : resetPeakRss(a.process.pid))),
      );
      const agentsCpu = async (): Promise<number | null> => {
        const each = await Promise.all(
          agents.map(async (a) => (a.process.pid === undefined ? null : cpuSecondsOf(a.process.pid))),
        );
        return each.some((x) => x === null) ? null : each.reduce((sum: number, x) => sum + (x ?? 0), 0);
      };
      const spent = (before: number | null, after: number | null): number | null =>
        before === null || after === null ? null : Math.round((after - before) * 100) / 100;
      const cpuNote = (client: number | null, agentsSpent: number | null): string =>
        `CPU: client ${client === null ? "?" : client.toFixed(2)} s, agents ` +
        `${agentsSpent === null ? "?" : agentsSpent.toFixed(2)} s`;
      const repeats = options.repeats ?? 1;
      const samples: {
        store: Measured;
        retrieve: Measured;
        storeAgents: number | null;
        retrieveAgents: number | null;
      }[] = [];
      for (let repeat = 1; repeat <= repeats; repeat++) {
        // Each repeat stores the file anew (new data sets); the agents keep every copy until the run ends.
        const manifestPath = path.join(workDir, `bench-${n}-${repeat}.strata.json`);
        const of = repeats > 1 ? ` ${repeat}/${repeats}` : "";
        log(`strata store${of} (${(file.size / 2 ** 20).toFixed(0)} MiB, k=2 m=1)...`);
        const agentsBeforeStore = await agentsCpu();
        const stored = await measure(["store", file.path, "--k", "2", "--m", "1", "--out", manifestPath]);
        const agentsAfterStore = await agentsCpu();
        const pieces = (
          JSON.parse(stored.stdout) as { pieces?: { provider: string; dataSetId: string | null }[] }
        ).pieces;
        const providers = new Set(pieces?.map((p) => p.provider.toLowerCase()));
        if (pieces?.length !== 3 || providers.size !== 3 || pieces.some((p) => p.dataSetId === null))
          throw new StrataError(
            "BENCH_RESULT_INVALID",
            `store did not place 3 pieces in data sets with 3 providers: ${stored.stdout}`,
          );
        const storeAgents = spent(agentsBeforeStore, agentsAfterStore);
        log(
          `stored in ${stored.seconds.toFixed(2)} s (${cpuNote(stored.cpuSeconds, storeAgents)}); ` +
            "strata retrieve...",
        );

        const output = path.join(workDir, `bench-${n}.out`);
        const retrieved = await measure(["retrieve", manifestPath, output]);
        const retrieveAgents = spent(agentsAfterStore, await agentsCpu());
        const actual = await sha256File(output);
        await rm(output, { force: true });
        if (actual.size !== file.size || actual.hash !== file.sha256)
          throw new StrataError(
            "BENCH_RESULT_INVALID",
            `RETRIEVED FILE DIFFERS from the original: ${actual.size} bytes sha256 ${actual.hash}, ` +
              `expected ${file.size} bytes sha256 ${file.sha256}`,
          );
        log(
          `retrieved in ${retrieved.seconds.toFixed(2)} s (${cpuNote(retrieved.cpuSeconds, retrieveAgents)}); ` +
            `file matches (sha256 ${actual.hash.slice(0, 16)}...)`,
        );
        log(
          `peak RSS: clients ${String(stored.peakRssMB)} / ${String(retrieved.peakRssMB)} MB ` +
            (time === null ? "(polled /proc VmHWM: a lower bound)" : `(${time} -f %M)`),
        );
        samples.push({ store: stored, retrieve: retrieved, storeAgents, retrieveAgents });
      }
      const agentPeaks = await Promise.all(
        agents.map(async (a) => (a.process.pid === undefined ? null : vmHwmMB(a.process.pid))),
      );
      const knownPeaks = agentPeaks.filter((mb): mb is number => mb !== null);
      const round2 = (value: number): number => Math.round(value * 100) / 100;
      const storeSamples = samples.map((sample) => round2(sample.store.seconds));
      const retrieveSamples = samples.map((sample) => round2(sample.retrieve.seconds));
      // Peak RSS: the highest of the repeats (a bound holds for every run, not for the median one).
      const peak = (values: (number | null)[]): number | null =>
        values.some((value) => value === null) ? null : Math.max(...values.map((value) => value ?? 0));
      results.push({
        fileBytes: file.size,
        storeSeconds: round2(median(storeSamples)),
        retrieveSeconds: round2(median(retrieveSamples)),
        storeSamples,
        retrieveSamples,
        storeCpuSeconds: {
          client: medianOrNull(samples.map((sample) => sample.store.cpuSeconds)),
          agents: medianOrNull(samples.map((sample) => sample.storeAgents)),
        },
        retrieveCpuSeconds: {
          client: medianOrNull(samples.map((sample) => sample.retrieve.cpuSeconds)),
          agents: medianOrNull(samples.map((sample) => sample.retrieveAgents)),
        },
        storeClientPeakRssMB: peak(samples.map((sample) => sample.store.peakRssMB)),
        retrieveClientPeakRssMB: peak(samples.map((sample) => sample.retrieve.peakRssMB)),
        agentPeakRssMB: knownPeaks.length === agentPeaks.length ? Math.max(...knownPeaks) : null,
      });
      await options.afterEach?.(file);
    }
    return results;
  } finally {
    // Stop everything even when a step failed; a cleanup failure must not hide the original error.
    await Promise.all(agents.map((a) => stopProcess(a.process).catch(() => undefined)));
    await chain?.stop().catch((error: unknown) => {
      console.error("cleanup:", error);
    });
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
