/**
 * End-to-end harness: a real `hardhat node` (or Anvil: `node: "anvil"`, $STRATA_NODE=anvil) process on a free loopback port, the suite deployed to it with
 * the real Ignition module (under its own deployment id, so it never touches a developer's local
 * deployment), and helpers to run the real CLI and agent processes against it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { releaseMountsUnderSync } from "../../offchain/agent/compute/volumes.js";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { JsonRpcProvider } from "ethers";
import { StrataError } from "../../offchain/sdk/errors.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const NODE = path.join(ROOT, "node_modules", ".bin", "node");
const HARDHAT = path.join(ROOT, "node_modules", "hardhat", "dist", "src", "cli.js");

/** The local node programs the harness can run: Hardhat's node, or Anvil (Foundry's, from npm). */
export type LocalNodeKind = "hardhat" | "anvil";

/**
 * The Anvil binary: $STRATA_ANVIL, else the one `npm install` puts in node_modules (@foundry-rs/anvil's
 * platform package). LOCAL_CHAIN_FAILED when there is none.
 */
export function anvilBinary(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.STRATA_ANVIL;
  if (explicit !== undefined && explicit !== "") return explicit;
  const installed = path.join(ROOT, "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil");
  if (existsSync(installed)) return installed;
  throw new StrataError("LOCAL_CHAIN_FAILED", "no Anvil binary found", {
    details: `looked for ${installed}; run npm install (it brings @foundry-rs/anvil) or set STRATA_ANVIL=<path>`,
  });
}

/** The node kind named by $STRATA_NODE ("hardhat" when unset). */
export function nodeKindFromEnv(env: NodeJS.ProcessEnv = process.env): LocalNodeKind {
  const value = env.STRATA_NODE ?? "hardhat";
  if (value !== "hardhat" && value !== "anvil")
    throw new StrataError("INVALID_ARGUMENT", `STRATA_NODE must be hardhat or anvil, got "${value}"`);
  return value;
}

/**
 * Start a node of `kind` on `port` (loopback), blocks mined every 250 ms besides on each transaction. With a
 * `stateFile` (Anvil), the chain is loaded from it if it exists and written to it on exit; `noMining` starts
 * Anvil without timed blocks (a restart sets the clock first).
 */
export function spawnNode(
  kind: LocalNodeKind,
  port: number,
  options: { stateFile?: string; noMining?: boolean } = {},
): ChildProcess {
  if (kind === "anvil") {
    // The same accounts as Hardhat's node (same mnemonic, 20 of them), chain id 31337, a block every 250 ms.
    return spawn(
      anvilBinary(),
      [
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--accounts",
        "20",
        ...(options.noMining === true ? ["--no-mining"] : ["--block-time", "0.25"]),
        ...(options.stateFile === undefined ? [] : ["--state", options.stateFile]),
        "--silent",
      ],
      { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
    );
  }
  return spawn(NODE, [HARDHAT, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
  });
}

/** Stop a child process: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string")
    throw new StrataError("NO_FREE_PORT", "the system gave no TCP port on 127.0.0.1");
  return address.port;
}

export interface LocalChain {
  rpcUrl: string;
  provider: JsonRpcProvider;
  /** The node process, or null when attached to a node someone else runs. */
  process: ChildProcess | null;
  deploymentFile: string;
  deploymentId: string;
  workDir: string;
  /** Which node program answers (an attached node counts as "hardhat" unless told). */
  node: LocalNodeKind;
  addresses: {
    token: string;
    registry: string;
    market: string;
    timelock: string;
    /** Absent in deployments made before the contract existed. */
    retrievalChallenges?: string;
    computeMarket?: string;
  };
  /** Advance chain time by `seconds` and mine one block. */
  advance(seconds: number): Promise<void>;
  /** Mine `blocks` blocks. */
  mine(blocks: number): Promise<void>;
  /**
   * Kill the node (SIGTERM) and start it again on the same port after `downMs`, with its chain intact (Anvil
   * started with `persistState` only: it dumps its state on exit and loads it on start). The clock resumes
   * from the last block's time; blocks then come every second.
   */
  restartNode(downMs: number): Promise<void>;
  /**
   * Hold the chain still: no block is mined (transactions wait in the pool) until `resumeMining`. For reading a
   * consistent state while the agents and the worker keep sending transactions.
   */
  pauseMining(): Promise<void>;
  /** Mine again as the node did before `pauseMining` (Anvil: a block every second, its finest interval). */
  resumeMining(): Promise<void>;
  stop(): Promise<void>;
}

async function waitForRpc(
  provider: JsonRpcProvider,
  child: ChildProcess | null,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child !== null && child.exitCode !== null)
      throw new StrataError("LOCAL_CHAIN_FAILED", `the local node exited with ${String(child.exitCode)}`);
    try {
      await provider.send("eth_chainId", []);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new StrataError("LOCAL_CHAIN_FAILED", "the local node did not answer in time", {
    details: `no eth_chainId answer within ${timeoutMs} ms`,
  });
}

/** Which program a node is, from its web3_clientVersion ("anvil/v1.7.1", "HardhatNetwork/3..."). */
export async function detectNode(provider: JsonRpcProvider): Promise<LocalNodeKind> {
  try {
    const version: unknown = await provider.send("web3_clientVersion", []);
    return typeof version === "string" && /^anvil/i.test(version) ? "anvil" : "hardhat";
  } catch {
    return "hardhat";
  }
}

/** Run a command to completion, returning stdout; rejects with stderr on a non-zero exit. */
export async function run(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  const child = spawn(NODE, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { stdout, stderr, code: code ?? -1 };
}

/** Hold a local node's chain still: no block is mined (transactions wait in the pool) until resumeMining. */
export async function pauseMining(provider: JsonRpcProvider): Promise<void> {
  await provider.send("evm_setIntervalMining", [0]);
  await provider.send("evm_setAutomine", [false]);
}

/** Mine again as the local node did: on every transaction and every 250 ms (Hardhat), or every second (Anvil). */
export async function resumeMining(provider: JsonRpcProvider, node: LocalNodeKind): Promise<void> {
  if (node === "hardhat") {
    await provider.send("evm_setAutomine", [true]);
    await provider.send("evm_setIntervalMining", [250]);
  } else {
    await provider.send("evm_setIntervalMining", [1]);
  }
}

/** Start a node, deploy the suite with the StrataLocal Ignition module, and return handles to both. */
export async function startLocalChain(options: ChainOptions = {}): Promise<LocalChain> {
  return launchLocalChain(false, options);
}

/**
 * startLocalChain for callers that are not torn down by a test runner (benchmarks, scripts): if the node does
 * not come up or the deployment fails, it stops the node and removes the partial deployment before rethrowing.
 */
export async function startLocalChainOrCleanUp(options: ChainOptions = {}): Promise<LocalChain> {
  return launchLocalChain(true, options);
}

export interface ChainOptions {
  /** Directory for the run's files (configs, agents' data, worker database); kept after `stop()`. Default: a
   *  fresh temporary directory, removed by `stop()`. */
  workDir?: string;
  /** The node program to start (default: $STRATA_NODE, else hardhat). */
  node?: LocalNodeKind;
  /** Port of the node (default: a free one). */
  port?: number;
  /** Anvil only: keep the chain in a state file so that `restartNode` can kill and restart the node. */
  persistState?: boolean;
}

async function launchLocalChain(cleanUpOnFailure: boolean, options: ChainOptions = {}): Promise<LocalChain> {
  const port = options.port ?? (await freePort());
  const rpcUrl = `http://127.0.0.1:${port}`;
  const node = options.node ?? nodeKindFromEnv();
  if (options.persistState === true && node !== "anvil")
    throw new StrataError(
      "INVALID_ARGUMENT",
      "persistState needs an Anvil node (Hardhat's node keeps no state)",
    );
  const stateFile =
    options.persistState === true
      ? path.join(mkdtempSync(path.join(tmpdir(), "strata-anvil-")), "state.json")
      : undefined;
  const child = spawnNode(node, port, stateFile === undefined ? {} : { stateFile });
  const provider = new JsonRpcProvider(rpcUrl, 31337, {
    cacheTimeout: -1,
    staticNetwork: true,
    pollingInterval: 250,
  });
  let deploymentId: string | undefined;
  try {
    return await deployToNode(rpcUrl, port, child, provider, (id) => (deploymentId = id), "e2e", {
      ...options,
      node,
      ...(stateFile === undefined ? {} : { stateFile }),
    });
  } catch (error) {
    if (cleanUpOnFailure) {
      provider.destroy();
      await stopProcess(child);
      if (deploymentId !== undefined)
        rmSync(path.join(ROOT, "deploy", "deployments", deploymentId), { recursive: true, force: true });
    }
    throw error;
  }
}

/** Whether a chain with id 31337 answers at `rpcUrl` within a second. */
export async function localNodeAnswers(rpcUrl: string): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(1000),
    });
    const body = (await res.json()) as { result?: string };
    return body.result !== undefined && BigInt(body.result) === 31337n;
  } catch {
    return false;
  }
}

/**
 * Deploy a fresh suite (own deployment id) onto a node that is already running at `rpcUrl`. `stop()` leaves
 * the node and the deployment in place, so the CLI can keep using them.
 */
export async function attachLocalChain(
  rpcUrl: string,
  idPrefix = "demo",
  options: ChainOptions = {},
): Promise<LocalChain> {
  const provider = new JsonRpcProvider(rpcUrl, 31337, {
    cacheTimeout: -1,
    staticNetwork: true,
    pollingInterval: 250,
  });
  const port = Number(new URL(rpcUrl).port || "8545");
  try {
    return await deployToNode(rpcUrl, port, null, provider, () => undefined, idPrefix, options);
  } catch (error) {
    provider.destroy();
    throw error;
  }
}

async function deployToNode(
  rpcUrl: string,
  port: number,
  started: ChildProcess | null,
  provider: JsonRpcProvider,
  onDeploymentId: (id: string) => void,
  idPrefix = "e2e",
  options: ChainOptions & { stateFile?: string } = {},
): Promise<LocalChain> {
  let child = started;
  await waitForRpc(provider, child, 60_000);
  const node = options.node ?? (await detectNode(provider));
  // Blocks also come on a timer, as on a real chain: Ignition waits for confirmations and agents wait for
  // challenge seed blocks, neither of which would arrive on an idle automine-only node. (Anvil is started with
  // --block-time 0.25; its evm_setIntervalMining counts seconds, Hardhat's milliseconds.)
  if (node === "hardhat") await provider.send("evm_setIntervalMining", [250]);
  const deploymentId = `${idPrefix}-${port}-${Date.now()}`;
  onDeploymentId(deploymentId);
  const deployed = await run(
    [
      HARDHAT,
      // The default profile's artifacts are the ones `npm install` built (same compiler settings as
      // production): the deployment then starts at once instead of compiling everything a second time.
      "--build-profile",
      "default",
      "ignition",
      "deploy",
      "deploy/modules/StrataLocal.ts",
      "--network",
      "localhost",
      "--deployment-id",
      deploymentId,
    ],
    { env: { STRATA_RPC_URL: rpcUrl, STRATA_CONFIRMATIONS: "1", STRATA_BLOCK_POLL_MS: "100" } },
  );
  if (deployed.code !== 0)
    throw new StrataError("DEPLOY_FAILED", "the local deployment failed", {
      details: `${deployed.stdout}\n${deployed.stderr}`,
    });
  const deploymentDir = path.join(ROOT, "deploy", "deployments", deploymentId);
  const deploymentFile = path.join(deploymentDir, "deployed_addresses.json");
  const raw = JSON.parse(readFileSync(deploymentFile, "utf8")) as Record<string, string>;
  const pick = (key: string): string => {
    const value = raw[`StrataLocal#${key}`];
    if (!value) throw new StrataError("DEPLOYMENT_NOT_FOUND", `${deploymentFile} has no ${key}`);
    return value;
  };
  const workDir = options.workDir ?? mkdtempSync(path.join(tmpdir(), "strata-e2e-"));
  if (options.workDir !== undefined) mkdirSync(workDir, { recursive: true });
  const chain: LocalChain = {
    rpcUrl,
    provider,
    process: child,
    deploymentFile,
    deploymentId,
    workDir,
    node,
    addresses: {
      token: pick("TestStablecoin"),
      registry: pick("ProviderRegistry"),
      market: pick("StorageMarket"),
      timelock: pick("StrataTimelock"),
      ...(raw["StrataLocal#RetrievalChallenges"] === undefined
        ? {}
        : { retrievalChallenges: raw["StrataLocal#RetrievalChallenges"] }),
      ...(raw["StrataLocal#ComputeMarket"] === undefined
        ? {}
        : { computeMarket: raw["StrataLocal#ComputeMarket"] }),
    },
    async advance(seconds: number) {
      await provider.send("evm_increaseTime", [seconds]);
      await provider.send("evm_mine", []);
    },
    async mine(blocks: number) {
      // Anvil answers hardhat_mine too, but anvil_mine is its own name.
      await provider.send(node === "anvil" ? "anvil_mine" : "hardhat_mine", ["0x" + blocks.toString(16)]);
    },
    pauseMining: () => pauseMining(provider),
    resumeMining: () => resumeMining(provider, node),
    async restartNode(downMs: number) {
      if (child === null || node !== "anvil" || options.stateFile === undefined)
        throw new StrataError(
          "LOCAL_CHAIN_FAILED",
          "only an Anvil node started with persistState can restart",
        );
      // Stop mining first, so that the state Anvil writes on exit holds every block a client has seen (a block
      // mined while it exits can be missing from the file: to the clients that would be a reorganisation).
      await chain.pauseMining();
      const last = await provider.getBlock("latest");
      await stopProcess(child);
      await new Promise((r) => setTimeout(r, downMs));
      child = spawnNode("anvil", port, { stateFile: options.stateFile, noMining: true });
      chain.process = child;
      await waitForRpc(provider, child, 60_000);
      const restored = await provider.getBlockNumber();
      if (restored < (last?.number ?? 0))
        throw new StrataError(
          "LOCAL_CHAIN_FAILED",
          `the restarted node lost blocks ${restored + 1}..${last?.number ?? 0}`,
        );
      // Anvil restores the chain but not its clock offset: resume from the last block's time, then mine on a timer
      // (Anvil's interval is in whole seconds).
      await provider.send("evm_setNextBlockTimestamp", [(last?.timestamp ?? 0) + 1]);
      await provider.send("evm_mine", []);
      await provider.send("evm_setIntervalMining", [1]);
    },
    async stop() {
      provider.destroy();
      if (child === null) return;
      await stopProcess(child);
      if (options.stateFile !== undefined)
        rmSync(path.dirname(options.stateFile), { recursive: true, force: true });
      rmSync(deploymentDir, { recursive: true, force: true });
      // A killed agent leaves its leases' volumes mounted: unmount them before removing the directory.
      releaseMountsUnderSync(workDir);
      if (options.workDir === undefined) rmSync(workDir, { recursive: true, force: true });
    },
  };
  return chain;
}
