/**
 * Real provider agents and the `strata` CLI against a LocalChain, for end-to-end tests and the demo: each agent
 * is a `strata agent start` process with its own config, data directory and loopback port, registered and
 * staked on chain before `startAgents` returns.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { devAccountWallet } from "../../offchain/sdk/chain/connect.js";
import { freePort, NODE, ROOT, run, type LocalChain } from "./localChain.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { ProviderRegistry__factory, TestStablecoin__factory } from "../../typechain-types/index.js";
import { parseUnits } from "ethers";

export const CLI = path.join(ROOT, "offchain", "cli", "strata.mjs");

/** The arguments to `node` that run `strata … args` against `chain`, as development account `account`. */
export function strataArgv(chain: LocalChain, account: number, args: readonly string[]): string[] {
  return [
    CLI,
    "--rpc",
    chain.rpcUrl,
    "--deployment",
    chain.deploymentFile,
    "--account",
    String(account),
    ...args,
  ];
}

export interface RunningAgent {
  account: number;
  address: string;
  endpoint: string;
  dataDir: string;
  configFile: string;
  process: ChildProcess;
  log: string[];
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Poll `check` until it returns a value (not undefined); throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new StrataError("LOCAL_PROCESS_TIMEOUT", `timed out waiting for ${what}`, {
        details: `nothing after ${timeoutMs} ms`,
      });
    await sleep(300);
  }
}

/** The address of development account `index` (the node's mnemonic). */
export function devAddress(index: number): string {
  return devAccountWallet(index).address;
}

/** The CLI catalog of the processes run against `chain` (in its work folder). */
export function catalogPathFor(chain: Pick<LocalChain, "workDir">): string {
  return path.join(chain.workDir, "catalog.sqlite");
}

/** Run `strata --json <args>` as development account `account`; resolves to the parsed JSON output. */
export function strataCli(chain: LocalChain, options: { timeoutMs?: number } = {}) {
  // `okCodes`: exit codes that still carry the JSON answer (`lease status` of a closed lease exits 2).
  return async (
    args: string[],
    account: number,
    okCodes: readonly number[] = [0],
  ): Promise<Record<string, unknown>> => {
    const result = await run(
      strataArgv(chain, account, ["--json", ...args]),
      // Each local chain gets its own catalog: nothing is written to the user's data folder.
      { timeoutMs: options.timeoutMs ?? 300_000, env: { STRATA_CATALOG: catalogPathFor(chain) } },
    );
    if (!okCodes.includes(result.code))
      throw new StrataError(
        "LOCAL_PROCESS_FAILED",
        `strata ${args.join(" ")} failed (${result.code}): ${cliFailure(result.stdout, result.stderr)}`,
        { details: `${result.stdout}${result.stderr}` },
      );
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
}

/** What a failed `strata --json` run said: its JSON error, else the end of what it printed. */
function cliFailure(stdout: string, stderr: string): string {
  try {
    const parsed = JSON.parse(stdout) as { error?: { code?: string; message?: string } };
    if (parsed.error) return `${parsed.error.code ?? "?"}: ${parsed.error.message ?? ""}`;
  } catch {
    // not JSON: fall through to the raw output
  }
  return `${stdout}${stderr}`.trim().slice(-600);
}

export interface ProcessOptions {
  /** Also append each process's output to `<logDir>/<name>.log`. */
  logDir?: string;
  /** Change an agent's configuration (the `provider init` JSON) before it starts; `index` counts agents. */
  configure?: (config: Record<string, unknown>, index: number) => void;
}

/** Start one agent process per development account, each registered and staked; waits until all are. */
export async function startAgents(
  chain: LocalChain,
  accounts: number[],
  options: ProcessOptions = {},
): Promise<RunningAgent[]> {
  const strata = strataCli(chain);
  // Each agent's configuration by `strata provider init` (all at once), its tokens minted here (one minter: one
  // transaction after the other), then each agent started; the agents register and stake themselves.
  const configured = await Promise.all(
    accounts.map(async (account) => {
      const endpoint = `http://127.0.0.1:${await freePort()}`;
      const configFile = path.join(chain.workDir, `provider-${account}.json`);
      await strata(
        ["provider", "init", "--config", configFile, "--endpoint", endpoint, "--data-dir", `./p${account}`],
        account,
      );
      return { account, endpoint, configFile };
    }),
  );
  const token = TestStablecoin__factory.connect(
    chain.addresses.token,
    devAccountWallet(0).connect(chain.provider),
  );
  const stake = parseUnits("5000", await token.decimals());
  for (const { account } of configured) await (await token.mint(devAddress(account), stake)).wait();
  const registry = ProviderRegistry__factory.connect(chain.addresses.registry, chain.provider);
  const agents: RunningAgent[] = [];
  for (const [index, { account, endpoint, configFile }] of configured.entries()) {
    const config = JSON.parse(readFileSync(configFile, "utf8")) as Record<string, unknown>;
    config.key = { account };
    config.tickMs = 300;
    config.settleEveryPeriods = 1;
    config.integrityScanMs = 1_000;
    config.autoRegister = { capacityBytes: String(1n << 40n), stake: "5000" };
    options.configure?.(config, index);
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const agent: RunningAgent = {
      account,
      address: devAddress(account),
      endpoint,
      dataDir: path.join(chain.workDir, `p${account}`),
      configFile,
      process: spawnAgent(chain, configFile),
      log: [],
    };
    captureOutput(agent.process, agent.log);
    if (options.logDir !== undefined) logToFile(agent.process, options.logDir, `agent-${account}`);
    agents.push(agent);
    // One at a time: the agents register themselves in the order given, which is the registry's order that
    // clients enumerate (a public file is asked of providers in that order).
    await until(`agent ${agent.account} to answer /health and register`, async () => {
      try {
        const health = await fetch(`${agent.endpoint}/health`);
        if (!health.ok) return undefined;
        return (await registry.isRegistered(agent.address)) ? true : undefined;
      } catch {
        return undefined;
      }
    });
  }
  return agents;
}

function spawnAgent(chain: LocalChain, configFile: string): ChildProcess {
  return spawn(
    NODE,
    [
      CLI,
      "--rpc",
      chain.rpcUrl,
      "--deployment",
      chain.deploymentFile,
      "agent",
      "start",
      "--config",
      configFile,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
}

/**
 * The last warnings and errors each agent logged (its JSON log lines of level warn or above), one line each: what a
 * timeout waiting on the agents should say, since a CI log keeps only the end of a run.
 */
export function agentComplaints(agents: readonly RunningAgent[], perAgent = 3): string {
  const said: string[] = [];
  for (const agent of agents) {
    const lines = agent.log
      .join("")
      .split("\n")
      .flatMap((line) => {
        try {
          const entry = JSON.parse(line) as {
            level?: number;
            msg?: string;
            err?: { message?: string };
            revert?: string;
          };
          if ((entry.level ?? 0) < 40) return [];
          const why = [entry.revert, entry.err?.message].filter((x) => x !== undefined).join(": ");
          return [
            `agent ${agent.account}: ${entry.msg ?? "?"}${why === "" ? "" : ` (${why.slice(0, 240)})`}`,
          ];
        } catch {
          return []; // not a log line
        }
      });
    said.push(...lines.slice(-perAgent));
  }
  return said.length === 0 ? "no agent logged a warning" : said.join("; ");
}

/** Keep the last lines a child prints (for failure messages). */
export function captureOutput(child: ChildProcess, lines: string[], max = 500): void {
  const keep = (d: Buffer) => {
    lines.push(d.toString());
    if (lines.length > max) lines.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
}

/** Append a child's stdout and stderr to `<dir>/<name>.log`; returns the file's path. */
export function logToFile(child: ChildProcess, dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.log`);
  const out = createWriteStream(file, { flags: "a" });
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  child.once("exit", () => out.end());
  return file;
}

export interface RunningWorker {
  account: number;
  address: string;
  url: string;
  dbPath: string;
  process: ChildProcess;
  log: string[];
}

/** Worker settings for a short local story: fast ticks and sampling, challenges after 2 failed samples. */
export const LOCAL_STORY_WORKER_CONFIG = {
  pollIntervalMs: 300,
  sampling: { enabled: true, intervalMs: 500, perTick: 4, timeoutMs: 2000, failuresBeforeChallenge: 2 },
  challenges: { enabled: true, maxOpen: 4 },
  keeper: { terminateFaulty: true, finalizeExpired: true, settleAfterSeconds: 0 },
};

/**
 * Start `strata worker start` as development account `account` (minted 1,000 tokens for challenge bonds)
 * with `config` written to a file; resolves once its /health answers with an index.
 */
export async function startWorker(
  chain: LocalChain,
  account: number,
  config: Record<string, unknown> = LOCAL_STORY_WORKER_CONFIG,
  options: ProcessOptions = {},
): Promise<RunningWorker> {
  const strata = strataCli(chain);
  const address = devAddress(account);
  await strata(["dev", "mint", "1000", "--to", address], 0);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dbPath = path.join(chain.workDir, "worker", "worker.db");
  const configFile = path.join(chain.workDir, "worker.json");
  writeFileSync(configFile, JSON.stringify({ dbPath, listen: `127.0.0.1:${port}`, ...config }, null, 2));
  const child = spawn(NODE, strataArgv(chain, account, ["worker", "start", "--config", configFile]), {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const worker: RunningWorker = { account, address, url, dbPath, process: child, log: [] };
  captureOutput(child, worker.log);
  if (options.logDir !== undefined) logToFile(child, options.logDir, "worker");
  await until("the worker to serve /health", async () => {
    if (child.exitCode !== null)
      throw new StrataError("LOCAL_PROCESS_FAILED", `the worker exited with ${child.exitCode}`, {
        details: worker.log.join(""),
      });
    try {
      const body = (await (await fetch(`${url}/health`)).json()) as { indexedBlock: number | null };
      return body.indexedBlock !== null ? true : undefined;
    } catch {
      return undefined;
    }
  });
  return worker;
}

/** The value of a Prometheus sample `name{labels}` in a /metrics text (0 when absent). */
export function metricValue(text: string, name: string, labels = ""): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}
