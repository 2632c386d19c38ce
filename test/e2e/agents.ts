/**
 * Real provider agents and the `strata` CLI against a LocalChain, for end-to-end tests and the demo: each agent
 * is a `strata agent start` process with its own config, data directory and loopback port, registered and
 * staked on chain before `startAgents` returns.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { devAccountWallet } from "../../offchain/sdk/chain/connect.js";
import { freePort, NODE, ROOT, run, type LocalChain } from "./harness.js";

export const CLI = path.join(ROOT, "offchain", "cli", "strata.mjs");

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
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}

/** The address of development account `index` (the node's mnemonic). */
export function devAddress(index: number): string {
  return devAccountWallet(index).address;
}

/** Run `strata --json <args>` as development account `account`; resolves to the parsed JSON output. */
export function strataCli(chain: LocalChain) {
  return async (args: string[], account: number): Promise<Record<string, unknown>> => {
    const result = await run(
      [
        CLI,
        "--rpc",
        chain.rpcUrl,
        "--deployment",
        chain.deploymentFile,
        "--account",
        String(account),
        "--json",
        ...args,
      ],
      { timeoutMs: 300_000 },
    );
    if (result.code !== 0)
      throw new Error(`strata ${args.join(" ")} failed (${result.code}): ${result.stdout}${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
}

/** Start one agent process per development account, each registered and staked; waits until all are. */
export async function startAgents(chain: LocalChain, accounts: number[]): Promise<RunningAgent[]> {
  const strata = strataCli(chain);
  const agents: RunningAgent[] = [];
  for (const account of accounts) {
    const address = devAddress(account);
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const configFile = path.join(chain.workDir, `provider-${account}.json`);
    await strata(
      ["provider", "init", "--config", configFile, "--endpoint", endpoint, "--data-dir", `./p${account}`],
      account,
    );
    const config = JSON.parse(readFileSync(configFile, "utf8")) as Record<string, unknown>;
    config.key = { account };
    config.tickMs = 300;
    config.settleEveryPeriods = 1;
    config.integrityScanMs = 1_000;
    config.autoRegister = { capacityBytes: String(1n << 40n), stake: String(5_000_000_000n) };
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    await strata(["dev", "mint", "5000", "--to", address], 0);
    const agent: RunningAgent = {
      account,
      address,
      endpoint,
      dataDir: path.join(chain.workDir, `p${account}`),
      configFile,
      process: spawnAgent(chain, configFile),
      log: [],
    };
    captureOutput(agent.process, agent.log);
    agents.push(agent);
  }
  for (const agent of agents) {
    await until(`agent ${agent.account} to answer /health and register`, async () => {
      try {
        const health = await fetch(`${agent.endpoint}/health`);
        if (!health.ok) return undefined;
        const status = await strata(["provider", "status", agent.address], 0);
        return JSON.stringify(status).includes('"registered":true') ? true : undefined;
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

/** Keep the last lines a child prints (for failure messages). */
export function captureOutput(child: ChildProcess, lines: string[], max = 500): void {
  const keep = (d: Buffer) => {
    lines.push(d.toString());
    if (lines.length > max) lines.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
}
