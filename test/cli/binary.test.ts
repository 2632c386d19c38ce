/**
 * The real `strata` binary (offchain/cli/strata.mjs) against a real local node with the suite deployed: every
 * command's --help, and every error path users hit (no gas money, amounts out of range, `dev mint 0`, an
 * endpoint from $STRATA_RPC_URL / the configuration file / --network, hints that repeat the user's flags,
 * read-only commands without a key), each asserted by code, message shape and exit code. The node is Hardhat's
 * unless STRATA_NODE=anvil.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { buildProgram, runCli } from "../../offchain/cli/program.js";
import { devAccountWallet } from "../../offchain/sdk/chain/connect.js";
import { repoRoot } from "../../offchain/sdk/chain/deployment.js";
import { startLocalChain, type LocalChain } from "../../scripts/lib/localChain.js";
import { startFakeRpc, startServer, type TestServer } from "./helpers/httpServer.js";

const ROOT = repoRoot();
const NODE = join(ROOT, "node_modules", ".bin", "node");
const STRATA = join(ROOT, "offchain", "cli", "strata.mjs");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface ErrorBody {
  code: string;
  message: string;
  details?: string;
}

let home = "";

/** Run the binary with a clean environment: its own HOME and configuration file, no key, no endpoint. */
function strata(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [STRATA, ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: home,
        STRATA_CONFIG: join(home, "strata.json"),
        ...env,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

/** The JSON error of a --json run, checked for its shape: {error: {code, message, details?}} and nothing else. */
function jsonError(run: Run): ErrorBody {
  const parsed = JSON.parse(run.stdout) as { error?: ErrorBody };
  expect(Object.keys(parsed), run.stdout).to.deep.equal(["error"]);
  const error = parsed.error;
  if (error === undefined) throw new Error(`no error in ${run.stdout}`);
  expect(error.code).to.match(/^[A-Z][A-Z_]+$/);
  expect(error.message).to.be.a("string").and.not.equal("");
  expect(error.message).to.not.match(/BigInt|could not coalesce|out-of-bounds/);
  return error;
}

/** A human error: exactly one line on stderr, `strata: <message>[ — <what to do>] (CODE)`, nothing on stdout. */
function humanError(run: Run, code: string): string {
  expect(run.stdout).to.equal("");
  expect(run.stderr.endsWith("\n")).to.equal(true);
  expect(run.stderr.trimEnd().split("\n"), run.stderr).to.have.length(1);
  expect(run.stderr).to.match(new RegExp(`^strata: .+ \\(${code}\\)\\n$`));
  return run.stderr;
}

function json(run: Run): Record<string, unknown> {
  expect(run.code, `${run.stdout}${run.stderr}`).to.equal(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

/** Every command path of the program ("provider register", "lease bids", ...), groups included. */
function commandPaths(): string[][] {
  const program = buildProgram(
    {
      stdout: () => undefined,
      stderr: () => undefined,
      interactive: false,
      env: {},
      fetch: globalThis.fetch,
    },
    () => Promise.resolve(),
  );
  const walk = (command: Command, prefix: string[]): string[][] =>
    command.commands.flatMap((sub) => {
      const path = [...prefix, sub.name()];
      return [path, ...walk(sub, path)];
    });
  return walk(program, []);
}

/** `strata <path> --help` through runCli in this process: its exit code and what it wrote. */
async function helpInProcess(path: readonly string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await runCli([...path, "--help"], {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    interactive: false,
    env: {},
    fetch: globalThis.fetch,
  });
  return { code, stdout, stderr };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

describe("strata binary: --help and the error paths of issue 16", function () {
  this.timeout(300_000);
  let chain: LocalChain;
  let at: string[];
  const servers: TestServer[] = [];

  before(async function () {
    home = await mkdtemp(join(tmpdir(), "strata-home-"));
    chain = await startLocalChain();
    at = ["--rpc", chain.rpcUrl, "--deployment", chain.deploymentFile];
  });

  after(async function () {
    await Promise.all(servers.map((s) => s.close()));
    await chain.stop();
    await rm(home, { recursive: true, force: true });
  });

  it("prints --help for every command and group with exit 0 (no BigInt crash)", async function () {
    const paths = [[], ...commandPaths()];
    expect(paths.length).to.be.greaterThan(40);
    for (const needed of [
      ["provider", "unbond"],
      ["provider", "cancel-unbond"],
      ["provider", "withdraw"],
      ["provider", "deregister"],
      ["config", "set"],
      ["estimate"],
      ["lease", "logs"],
      ["lease", "events"],
    ]) {
      expect(paths.map((p) => p.join(" "))).to.include(needed.join(" "));
    }
    // The binary (its launcher and start-up) for the root and a command of each depth; every command's help through
    // the same entry point (runCli) in this process, which is what the binary runs after start-up.
    const viaBinary = new Set(["", "store", "provider register"]);
    const runs = await mapLimit(paths, 2, (path) =>
      viaBinary.has(path.join(" ")) ? strata([...path, "--help"]) : helpInProcess(path),
    );
    expect(runs.filter((_, i) => viaBinary.has((paths[i] ?? []).join(" ")))).to.have.length(viaBinary.size);
    runs.forEach((run, i) => {
      const name = ["strata", ...(paths[i] ?? [])].join(" ");
      expect(run.code, `${name}: ${run.stderr}`).to.equal(0);
      expect(run.stderr, name).to.equal("");
      expect(run.stdout, name).to.match(/^Usage: strata/);
    });
    const register = runs[paths.findIndex((p) => p.join(" ") === "provider register")];
    expect(register?.stdout.replace(/\s+/g, " ")).to.contain("(default: 1.00 TiB)");
    const root = runs[0]?.stdout ?? "";
    expect(root).to.contain("--network <name>");
    expect(root).to.contain("STRATA_RPC_URL");
  });

  it("a signer without ETH for gas gets GAS_FUNDS_MISSING (exit 2) saying what to do", async function () {
    const env = { POOR_KEY: `0x${"ab".repeat(32)}` };
    const run = await strata(
      [
        ...at,
        "--key-env",
        "POOR_KEY",
        "--json",
        "provider",
        "register",
        "--endpoint",
        "http://127.0.0.1:9",
        "--price",
        "1",
      ],
      env,
    );
    expect(run.code).to.equal(2);
    const error = jsonError(run);
    expect(error.code).to.equal("GAS_FUNDS_MISSING");
    expect(error.details).to.match(/send ETH/);
    const human = await strata(
      [
        ...at,
        "--key-env",
        "POOR_KEY",
        "provider",
        "register",
        "--endpoint",
        "http://127.0.0.1:9",
        "--price",
        "1",
      ],
      env,
    );
    expect(human.code).to.equal(2);
    expect(humanError(human, "GAS_FUNDS_MISSING")).to.match(/ETH/);
  });

  it("refuses amounts the contracts cannot hold and zero amounts (AMOUNT_OUT_OF_RANGE, exit 1)", async function () {
    const huge = "1" + "0".repeat(40);
    for (const args of [
      ["dev", "mint", huge],
      ["dev", "mint", "0"],
      ["provider", "stake", huge],
      ["dev", "mint", "0.0"],
    ]) {
      const run = await strata([...at, "--account", "0", "--json", ...args]);
      expect(run.code, args.join(" ")).to.equal(1);
      expect(jsonError(run).code, args.join(" ")).to.equal("AMOUNT_OUT_OF_RANGE");
      const human = await strata([...at, "--account", "0", ...args]);
      expect(human.code).to.equal(1);
      humanError(human, "AMOUNT_OUT_OF_RANGE");
    }
    // Too many decimals is a usage error of its own.
    const decimals = await strata([...at, "--account", "0", "--json", "dev", "mint", "1.0000001"]);
    expect(decimals.code).to.equal(1);
    expect(jsonError(decimals).code).to.equal("INVALID_ARGUMENT");
  });

  it("shows amounts in tokens with the symbol; base units only under --raw and in *Raw JSON fields", async function () {
    const to = devAccountWallet(11).address;
    const human = await strata([...at, "--account", "0", "dev", "mint", "12.5", "--to", to]);
    expect(human.code).to.equal(0);
    expect(human.stdout).to.match(/^minted 12\.5 tUSD to 0x[0-9a-fA-F]{40}: balance 12\.5 tUSD\n$/);
    const raw = await strata([...at, "--account", "0", "--raw", "dev", "mint", "1", "--to", to]);
    expect(raw.stdout).to.contain("1 tUSD (1000000 base units)");
    const out = json(await strata([...at, "--account", "0", "--json", "dev", "mint", "1", "--to", to]));
    expect(out).to.include({ minted: "1", mintedRaw: "1000000", balance: "14.5", balanceRaw: "14500000" });
    expect(out.token).to.deep.equal({ symbol: "tUSD", decimals: 6 });
  });

  it("takes the endpoint from $STRATA_RPC_URL, and repeats where it came from in the hint", async function () {
    const who = devAccountWallet(1).address;
    const env = { STRATA_RPC_URL: chain.rpcUrl };
    const ok = await strata(["--deployment", chain.deploymentFile, "--json", "provider", "status", who], env);
    expect((json(ok) as { provider: string }).provider).to.equal(who);
    const closed = await startServer(() => undefined);
    await closed.close();
    const down = await strata(["--json", "provider", "status", who], { STRATA_RPC_URL: closed.url });
    expect(down.code).to.equal(2);
    const error = jsonError(down);
    expect(error.code).to.equal("RPC_UNREACHABLE");
    expect(error.message).to.contain(closed.url);
    expect(error.details).to.contain("$STRATA_RPC_URL");
  });

  it("a wrong network's hint repeats the user's endpoint (STRATA_RPC_URL=<url> npm run deploy:local)", async function () {
    const empty = await startFakeRpc({ chainId: 31337n, code: "0x" });
    servers.push(empty);
    const run = await strata([
      "--rpc",
      empty.url,
      "--deployment",
      chain.deploymentFile,
      "--json",
      "provider",
      "status",
      devAccountWallet(1).address,
    ]);
    expect(run.code).to.equal(2);
    const error = jsonError(run);
    expect(error.code).to.equal("WRONG_NETWORK");
    expect(error.details).to.contain(`STRATA_RPC_URL=${empty.url} npm run deploy:local`);
    expect(error.details).to.contain("--rpc");
  });

  it("config set|get|list|unset: the chain is set once; flag > env > file > default", async function () {
    const config = join(home, "strata.json");
    expect(
      (json(await strata(["--json", "config", "set", "rpc", chain.rpcUrl])) as { value: string }).value,
    ).to.equal(chain.rpcUrl);
    await strata(["config", "set", "deployment", chain.deploymentFile]);
    expect(existsSync(config)).to.equal(true);
    expect(JSON.parse(readFileSync(config, "utf8"))).to.deep.equal({
      rpc: chain.rpcUrl,
      deployment: chain.deploymentFile,
    });
    const get = await strata(["config", "get", "rpc"]);
    expect(get.stdout).to.equal(`${chain.rpcUrl}\n`);
    // No --rpc, no --deployment: the file's.
    const who = devAccountWallet(1).address;
    expect(
      (json(await strata(["--json", "provider", "status", who])) as { provider: string }).provider,
    ).to.equal(who);
    const list = json(await strata(["--json", "config", "list"])) as {
      effective: { rpcUrl: string; from: string };
    };
    expect(list.effective.rpcUrl).to.equal(chain.rpcUrl);
    expect(list.effective.from).to.contain(config);
    // The environment wins over the file, the flag over both.
    const closed = await startServer(() => undefined);
    await closed.close();
    const envWins = await strata(["--json", "provider", "status", who], { STRATA_RPC_URL: closed.url });
    expect(jsonError(envWins).code).to.equal("RPC_UNREACHABLE");
    const flagWins = await strata(["--rpc", chain.rpcUrl, "--json", "provider", "status", who], {
      STRATA_RPC_URL: closed.url,
    });
    expect(flagWins.code).to.equal(0);
    // A configured endpoint that is down says so, and how to change it.
    await strata(["config", "set", "rpc", closed.url]);
    const fromFile = await strata(["--json", "provider", "status", who]);
    expect(fromFile.code).to.equal(2);
    expect(jsonError(fromFile).details).to.contain("strata config set rpc <url>");
    // Named networks.
    await strata(["config", "set", "networks.e2e.rpc", chain.rpcUrl]);
    const named = await strata(["--network", "e2e", "--json", "provider", "status", who]);
    expect(named.code, named.stdout).to.equal(0);
    const unknown = await strata(["--network", "nowhere", "--json", "provider", "status", who]);
    expect(unknown.code).to.equal(1);
    expect(jsonError(unknown)).to.include({ code: "INVALID_ARGUMENT" });
    expect(jsonError(unknown).details).to.contain("NOWHERE_RPC_URL");
    const both = await strata([
      "--network",
      "e2e",
      "--rpc",
      chain.rpcUrl,
      "--json",
      "provider",
      "status",
      who,
    ]);
    expect(both.code).to.equal(1);
    expect(jsonError(both).code).to.equal("INVALID_ARGUMENT");
    // get of an unset key exits 1; unset removes; a bad key or value is refused.
    const unset = await strata(["config", "unset", "rpc"]);
    expect(unset.code).to.equal(0);
    const missing = await strata(["--json", "config", "get", "rpc"]);
    expect(missing.code).to.equal(1);
    expect(jsonError(missing).code).to.equal("INVALID_ARGUMENT");
    const badKey = await strata(["--json", "config", "set", "colour", "blue"]);
    expect(jsonError(badKey).code).to.equal("INVALID_ARGUMENT");
    const badUrl = await strata(["--json", "config", "set", "rpc", "not a url"]);
    expect(badUrl.code).to.equal(1);
    expect(jsonError(badUrl).code).to.equal("CONFIG_INVALID");
    await rm(config);
  });

  it("reads without a key: lease bids and lease status never ask for one", async function () {
    for (const args of [
      ["lease", "bids", "1"],
      ["lease", "status", "1"],
    ]) {
      const run = await strata([...at, "--key-env", "NO_SUCH_KEY", "--json", ...args]);
      const error = jsonError(run);
      expect(error.code, args.join(" ")).to.not.equal("KEY_MISSING");
      expect(["ORDER_NOT_FOUND", "LEASE_NOT_FOUND"]).to.include(error.code);
      expect(run.code).to.equal(1);
    }
  });

  it("provider stake, unbond, cancel-unbond, withdraw and deregister, with their refusals", async function () {
    const me = ["--account", "12"];
    const address = devAccountWallet(12).address;
    const notRegistered = await strata([...at, ...me, "--json", "provider", "deregister"]);
    expect(notRegistered.code).to.equal(1);
    expect(jsonError(notRegistered).details).to.contain(`--account 12 provider register`);
    await strata([...at, "--account", "0", "dev", "mint", "500", "--to", address]);
    expect(
      (
        await strata([
          ...at,
          ...me,
          "provider",
          "register",
          "--endpoint",
          "http://127.0.0.1:9",
          "--price",
          "2.5",
        ])
      ).code,
    ).to.equal(0);
    const staked = json(await strata([...at, ...me, "--json", "provider", "stake", "100"])) as Record<
      string,
      string
    >;
    expect(staked).to.include({ staked: "100", free: "100", freeRaw: "100000000" });
    const unbondNothing = await strata([...at, ...me, "--json", "provider", "unbond"]);
    expect(jsonError(unbondNothing).code).to.equal("INVALID_ARGUMENT");
    const tooMuch = await strata([...at, ...me, "--json", "provider", "unbond", "101"]);
    expect(tooMuch.code).to.equal(2);
    expect(jsonError(tooMuch).code).to.equal("INSUFFICIENT_FUNDS");
    const unbond = json(await strata([...at, ...me, "--json", "provider", "unbond", "30"])) as Record<
      string,
      string
    >;
    expect(unbond).to.include({ unbonded: "30", free: "70", unbonding: "30" });
    const back = json(await strata([...at, ...me, "--json", "provider", "cancel-unbond", "10"])) as Record<
      string,
      string
    >;
    expect(back).to.include({ movedBack: "10", free: "80", unbonding: "20" });
    const early = await strata([...at, ...me, "--json", "provider", "withdraw"]);
    expect(early.code).to.equal(1);
    expect(jsonError(early).message).to.match(/still unbonding until \d{4}-\d\d-\d\dT/);
    const deregistered = json(await strata([...at, ...me, "--json", "provider", "deregister"])) as Record<
      string,
      string
    >;
    expect(deregistered).to.include({ unbonding: "100" });
    const status = await strata([...at, "provider", "status", address]);
    expect(status.stdout).to.match(/unbonding 100 tUSD \(withdrawable from .* \(in \d+/);
    await chain.advance(7 * 24 * 3600);
    const withdrawn = json(await strata([...at, ...me, "--json", "provider", "withdraw"])) as Record<
      string,
      string
    >;
    expect(withdrawn).to.include({ withdrawn: "100", payee: address });
    const balance = json(await strata([...at, ...me, "--json", "balance"])) as Record<string, string>;
    expect(balance).to.include({ wallet: "500", stakeUnbonding: "0", locked: "0" });
  });

  it("provider init switches compute on with --compute; estimate needs providers", async function () {
    const file = join(home, "agent.json");
    const init = await strata([
      ...at,
      "--account",
      "13",
      "--json",
      "provider",
      "init",
      "--config",
      file,
      "--compute",
      "--region",
      "eu",
    ]);
    expect(init.code, init.stdout + init.stderr).to.equal(0);
    const written = JSON.parse(readFileSync(file, "utf8")) as {
      tokenDecimals: number;
      policy: { pricePerTiBMonth: string; collateralPerTiB: string };
      compute: { enabled: boolean; region: string; collateralPerLease: string };
    };
    expect(written.compute).to.include({ enabled: true, region: "eu", collateralPerLease: "10" });
    // Amounts in tokens, with the token's decimals recorded for the agent's check at start.
    expect(written.tokenDecimals).to.equal(6);
    expect(written.policy).to.include({ pricePerTiBMonth: "2.5", collateralPerTiB: "50" });
    const region = await strata([
      ...at,
      "--json",
      "provider",
      "init",
      "--config",
      join(home, "b.json"),
      "--region",
      "eu",
    ]);
    expect(region.code).to.equal(1);
    expect(jsonError(region).code).to.equal("INVALID_ARGUMENT");
    // Provider 12 above left; no agent answers for the others registered here: nobody to quote.
    const estimate = await strata([...at, "--json", "estimate", "1MiB", "--k", "1", "--m", "0"]);
    expect(estimate.code).to.equal(2);
    expect(jsonError(estimate).code).to.equal("NOT_ENOUGH_PROVIDERS");
    const neither = await strata([...at, "--json", "estimate", "no-such-file.bin"]);
    expect(neither.code).to.equal(1);
    expect(jsonError(neither).code).to.equal("FILE_NOT_FOUND");
    // The agent refuses a configuration whose amounts are written for other decimals than the token's.
    const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    const other = join(home, "other-decimals.json");
    writeFileSync(other, JSON.stringify({ ...config, key: { account: 13 }, tokenDecimals: 18 }));
    const refused = await strata([...at, "--json", "agent", "start", "--config", other]);
    expect(refused.code).to.equal(1);
    const error = jsonError(refused);
    expect(error.code).to.equal("CONFIG_TOKEN_DECIMALS");
    expect(error.details).to.contain('"tokenDecimals": 6');
  });

  it("lease commands' JSON: amounts in tokens with <name>Raw, prices per second and per hour", async function () {
    const tenant = ["--account", "14"];
    await strata([...at, "--account", "0", "dev", "mint", "50", "--to", devAccountWallet(14).address]);
    const workload = join(home, "workload.json");
    writeFileSync(
      workload,
      JSON.stringify({
        version: 2,
        services: {
          main: {
            run: { kind: "node", script: "setInterval(() => {}, 1000);" },
            resources: { cpuMillicores: 250, memoryMiB: 128 },
            restart: "on-failure",
          },
        },
      }),
    );
    const posted = json(
      await strata([
        ...at,
        ...tenant,
        "--json",
        "lease",
        "order",
        "--workload",
        workload,
        "--max-price",
        "0.036",
        "--deposit",
        "5",
        "--workloads-dir",
        join(home, "kept"),
      ]),
    ) as {
      orderId: string;
      request: Record<string, unknown>;
      escrow: string;
      escrowRaw: string;
      token: unknown;
    };
    expect(posted.request).to.include({
      maxPricePerSecond: "0.00001",
      maxPricePerSecondRaw: "10",
      maxPricePerHour: "0.036",
      maxPricePerHourRaw: "36000",
      deposit: "5",
      depositRaw: "5000000",
    });
    expect(BigInt(posted.escrowRaw)).to.be.greaterThan(0n);
    expect(posted.token).to.deep.equal({ symbol: "tUSD", decimals: 6 });
    const bids = json(await strata([...at, "--json", "lease", "bids", posted.orderId]));
    expect(bids).to.include({ maxPricePerHour: "0.036", maxPricePerHourRaw: "36000" });
    expect(bids.bids).to.deep.equal([]);
    const human = await strata([...at, "lease", "bids", posted.orderId]);
    expect(human.stdout).to.contain("max 0.036 tUSD/h");
    const cancelled = json(await strata([...at, ...tenant, "--json", "lease", "cancel", posted.orderId]));
    expect(cancelled).to.include({ refund: "5", refundRaw: "5000000" });
    const withdrawn = json(await strata([...at, ...tenant, "--json", "lease", "withdraw"]));
    expect(withdrawn).to.include({
      withdrawn: "5",
      withdrawnRaw: "5000000",
      remaining: "0",
      remainingRaw: "0",
    });
  });
});
