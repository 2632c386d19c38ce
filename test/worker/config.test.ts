import { expect } from "chai";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { startOverrides } from "../../offchain/cli/commands/worker.js";
import { CliContext, type CliIo, type GlobalOptions } from "../../offchain/cli/context.js";
import { buildProgram, runCli } from "../../offchain/cli/program.js";
import type { WorkerConfigOverrides } from "../../offchain/worker/config.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import {
  defaultWorkerConfig,
  deploymentBlock,
  loadWorkerConfig,
  parseWorkerConfig,
  resolveWorkerConfig,
  workerConfigToJson,
} from "../../offchain/worker/config.js";
import { removeTempDirs, tempDir } from "./helpers.js";

const ADDRESSES = {
  market: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  registry: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  token: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
};

function failure(fn: () => unknown): StrataError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StrataError) return error;
    throw error;
  }
  throw new Error("expected a StrataError");
}

async function rejection(promise: Promise<unknown>): Promise<StrataError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StrataError) return error;
    throw error;
  }
  throw new Error("expected a StrataError");
}

/** A deployment folder like Ignition's: deployed_addresses.json (+ journal.jsonl if `marketBlock`). */
async function ignitionFolder(marketBlock?: number): Promise<string> {
  const dir = join(await tempDir(), "chain-31337");
  await mkdir(dir, { recursive: true });
  const file = join(dir, "deployed_addresses.json");
  await writeFile(
    file,
    JSON.stringify({
      "StrataLocal#TestStablecoin": ADDRESSES.token,
      "StrataLocal#ProviderRegistry": ADDRESSES.registry,
      "StrataLocal#StorageMarket": ADDRESSES.market,
    }),
  );
  if (marketBlock !== undefined) {
    const lines = [
      { futureId: "StrataLocal#TestStablecoin", type: "TRANSACTION_CONFIRM", receipt: { blockNumber: 1 } },
      { futureId: "StrataLocal#StorageMarket", type: "TRANSACTION_SEND", nonce: 7 },
      {
        futureId: "StrataLocal#StorageMarket",
        type: "TRANSACTION_CONFIRM",
        receipt: { blockHash: "0x01", blockNumber: marketBlock, status: "SUCCESS", logs: [] },
      },
    ];
    // A torn last line, as an interrupted deployment leaves it, must not break the parser.
    await writeFile(
      join(dir, "journal.jsonl"),
      lines.map((l) => JSON.stringify(l)).join("\n") + '\n{"futureId":',
    );
  }
  return file;
}

function fakeIo(fetchFn: typeof fetch = globalThis.fetch): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    interactive: false,
    env: {},
    fetch: fetchFn,
  };
}

describe("worker configuration", function () {
  after(removeTempDirs);

  it("test_parse_defaults: an empty object is a complete read-only configuration", function () {
    const settings = parseWorkerConfig({});
    expect(settings.rpcUrl).to.equal("http://127.0.0.1:8545");
    expect(settings.key).to.equal(null);
    expect(settings.listen).to.deep.equal({ host: "127.0.0.1", port: 9464 });
    expect(settings.maxBlockRange).to.equal(2000);
    expect(settings.deployment).to.deep.equal({ file: null });
    expect(settings.confirmations).to.equal(null);
    expect(settings.startBlock).to.equal(null);
    expect(settings.sampling).to.deep.equal(defaultWorkerConfig().sampling);
    expect(settings.keeper.settleAfterSeconds).to.equal(0);
  });

  it("test_resolve_localDefaults: chain 31337 gets 1 confirmation, 1 s polling, a per-chain database path", async function () {
    const dataDir = await tempDir();
    const config = await resolveWorkerConfig(parseWorkerConfig({ deployment: ADDRESSES }), {
      chainId: 31337n,
      dataDir,
    });
    expect(config.confirmations).to.equal(1);
    expect(config.pollIntervalMs).to.equal(1000);
    expect(config.dbPath).to.equal(join(dataDir, ".strata", "worker", "31337", "worker.db"));
    expect(config.startBlock).to.equal(0);
    expect(config.deployment.market).to.equal("0x5FbDB2315678afecb367f032d93F642f64180aa3");
    expect(config.deployment.retrievalChallenges).to.equal(null);
    expect(config.deployment.source).to.equal(null);
  });

  it("test_resolve_remoteDefaults: other chains wait 12 confirmations", async function () {
    const config = await resolveWorkerConfig(parseWorkerConfig({ deployment: ADDRESSES }), {
      chainId: 11155111n,
      dataDir: await tempDir(),
    });
    expect(config.confirmations).to.equal(12);
    expect(config.pollIntervalMs).to.equal(4000);
  });

  it("test_resolve_startBlock: the market's deployment block comes from Ignition's journal", async function () {
    const file = await ignitionFolder(42);
    const config = await resolveWorkerConfig(parseWorkerConfig({ deployment: file }), { chainId: 31337n });
    expect(config.startBlock).to.equal(42);
    expect(config.deployment.source).to.equal(file);
    expect(config.deployment.module).to.equal("StrataLocal");
    expect(await deploymentBlock(file, "StrataNetwork")).to.equal(undefined);
  });

  it("test_resolve_startBlockWithoutJournal: falls back to block 0; an explicit startBlock wins", async function () {
    const file = await ignitionFolder();
    const settings = parseWorkerConfig({ deployment: file });
    expect((await resolveWorkerConfig(settings, { chainId: 31337n })).startBlock).to.equal(0);
    const explicit = parseWorkerConfig({ deployment: await ignitionFolder(42), startBlock: 7 });
    expect((await resolveWorkerConfig(explicit, { chainId: 31337n })).startBlock).to.equal(7);
  });

  it("test_resolve_missingDeployment: DEPLOYMENT_NOT_FOUND", async function () {
    const settings = parseWorkerConfig({ deployment: join(await tempDir(), "nope.json") });
    const error = await rejection(resolveWorkerConfig(settings, { chainId: 31337n }));
    expect(error.code).to.equal("DEPLOYMENT_NOT_FOUND");
  });

  it("test_load_relativePaths: dbPath and deployment resolve against the file's folder; overrides win", async function () {
    const dir = await tempDir();
    const path = join(dir, "worker.json");
    await writeFile(
      path,
      JSON.stringify({
        dbPath: "data/w.db",
        deployment: "deployed.json",
        sampling: { perTick: 9 },
        key: { account: 3 },
      }),
    );
    const settings = await loadWorkerConfig(path, {
      sampling: { enabled: false },
      key: { env: "WATCHER_KEY" },
      listen: "[::1]:0",
    });
    expect(settings.dbPath).to.equal(join(dir, "data", "w.db"));
    expect(settings.deployment).to.deep.equal({ file: join(dir, "deployed.json") });
    expect(settings.sampling.perTick).to.equal(9);
    expect(settings.sampling.enabled).to.equal(false);
    expect(settings.key).to.deep.equal({ env: "WATCHER_KEY" });
    expect(settings.listen).to.deep.equal({ host: "::1", port: 0 });
  });

  it("test_load_missingOrBroken: CONFIG_NOT_FOUND and CONFIG_PARSE_ERROR", async function () {
    const dir = await tempDir();
    expect((await rejection(loadWorkerConfig(join(dir, "absent.json")))).code).to.equal("CONFIG_NOT_FOUND");
    await writeFile(join(dir, "bad.json"), "{ not json");
    expect((await rejection(loadWorkerConfig(join(dir, "bad.json")))).code).to.equal("CONFIG_PARSE_ERROR");
  });

  it("test_parse_invalid: every problem is reported under CONFIG_INVALID, naming each field", function () {
    const error = failure(() =>
      parseWorkerConfig({
        rpcUrl: "ftp://x",
        confirmations: -1,
        maxBlockRange: 0,
        listen: "nowhere",
        key: { env: "1BAD" },
        logLevel: "loud",
        sampling: { intervalMs: "soon", perTik: 3 },
        deployment: { market: "0x1234" },
        pollInterval: 5,
      }),
    );
    expect(error.code).to.equal("CONFIG_INVALID");
    const fields = [
      "rpcUrl",
      "confirmations",
      "maxBlockRange",
      "listen",
      "key",
      "logLevel",
      "sampling.intervalMs",
      "sampling.perTik",
      "deployment.market",
      "deployment.registry",
      "deployment.token",
      "pollInterval",
    ];
    const lines = (error.details ?? "").split("\n");
    for (const field of fields)
      expect(
        lines.some((l) => l.startsWith(field)),
        field,
      ).to.equal(true);
    expect(lines).to.have.length(fields.length);
  });

  it("test_parse_notAnObject: CONFIG_INVALID", function () {
    expect(failure(() => parseWorkerConfig([])).code).to.equal("CONFIG_INVALID");
    expect(failure(() => parseWorkerConfig({ rpc: { baseMs: 5000, maxMs: 100 } })).code).to.equal(
      "CONFIG_INVALID",
    );
  });

  it("test_toJson: the resolved configuration prints as JSON", async function () {
    const config = await resolveWorkerConfig(
      parseWorkerConfig({ deployment: ADDRESSES, listen: "[::1]:9" }),
      {
        chainId: 31337n,
        dataDir: await tempDir(),
      },
    );
    const json = JSON.parse(JSON.stringify(workerConfigToJson(config))) as Record<string, unknown>;
    expect(json.chainId).to.equal("31337");
    expect(json.listen).to.equal("[::1]:9");
  });
});

/** The overrides `strata <argv>` would start the worker with (nothing is started). */
async function overridesFor(argv: string[]): Promise<WorkerConfigOverrides> {
  let captured: WorkerConfigOverrides | undefined;
  const io = fakeIo();
  const program = buildProgram(io, (command: Command) => {
    const ctx = new CliContext(command.optsWithGlobals<GlobalOptions>(), io);
    captured = startOverrides(ctx, command, command.opts());
    return Promise.resolve();
  });
  await program.parseAsync(argv, { from: "user" });
  if (captured === undefined) throw new Error("the start action did not run");
  return captured;
}

describe("strata worker (CLI)", function () {
  it("test_start_flags: flags become overrides; global defaults do not override the file", async function () {
    expect(await overridesFor(["worker", "start"])).to.deep.equal({});
    const all = await overridesFor([
      "--rpc",
      "http://10.0.0.1:8545",
      "--deployment",
      "d.json",
      "worker",
      "start",
      "--db",
      "w.db",
      "--confirmations",
      "0",
      "--start-block",
      "17",
      "--listen",
      "0.0.0.0:9000",
      "--key-env",
      "WATCHER_KEY",
      "--sampling-interval",
      "5000",
      "--no-sampling",
      "--no-reporting",
      "--no-challenges",
    ]);
    expect(all).to.deep.equal({
      rpcUrl: "http://10.0.0.1:8545",
      deployment: join(process.cwd(), "d.json"),
      dbPath: join(process.cwd(), "w.db"),
      confirmations: 0,
      startBlock: 17,
      listen: "0.0.0.0:9000",
      key: { env: "WATCHER_KEY" },
      sampling: { intervalMs: 5000, enabled: false },
      reporting: { enabled: false },
      challenges: { enabled: false },
    });
    expect(await overridesFor(["worker", "start", "--account", "9"])).to.deep.equal({ key: { account: 9 } });
    expect(await overridesFor(["worker", "start", "--read-only"])).to.deep.equal({ key: null });
    // The settings the worker would run with: flags over the file.
    const settings = parseWorkerConfig(
      { key: { env: "FILE_KEY" }, sampling: { perTick: 2 } },
      { overrides: all },
    );
    expect(settings.key).to.deep.equal({ env: "WATCHER_KEY" });
    expect(settings.sampling).to.include({ perTick: 2, enabled: false, intervalMs: 5000 });
  });

  it("test_start_readOnlyWithKey: --read-only with --key-env is INVALID_ARGUMENT (exit 1)", async function () {
    const io = fakeIo();
    const code = await runCli(["worker", "start", "--read-only", "--key-env", "K", "--json"], io);
    expect(code).to.equal(1);
    const body = JSON.parse(io.out.join("")) as { error: { code: string } };
    expect(body.error.code).to.equal("INVALID_ARGUMENT");
  });

  it("test_start_badConfig: a broken configuration file fails with CONFIG_INVALID before connecting", async function () {
    const dir = await tempDir();
    await writeFile(join(dir, "w.json"), JSON.stringify({ maxBlockRange: -5 }));
    const io = fakeIo(() => Promise.reject(new Error("must not connect")));
    const code = await runCli(["worker", "start", "--config", join(dir, "w.json"), "--json"], io);
    expect(code).to.equal(1);
    expect((JSON.parse(io.out.join("")) as { error: { code: string } }).error.code).to.equal(
      "CONFIG_INVALID",
    );
  });

  it("test_status_prints: the worker's /health as JSON; degraded exits 2", async function () {
    const report = {
      status: "degraded",
      chainId: "31337",
      worker: null,
      readOnly: true,
      indexedBlock: 10,
      head: 12,
      blocksBehind: 2,
      dealsTracked: 3,
      lastError: { code: "RPC_FAILED", message: "down", at: new Date(0).toISOString() },
      since: new Date(0).toISOString(),
      version: "0.1.0",
    };
    let asked = "";
    const io = fakeIo((input) => {
      asked = input instanceof Request ? input.url : input.toString();
      return Promise.resolve(new Response(JSON.stringify(report), { status: 503 }));
    });
    const code = await runCli(["worker", "status", "--listen", "127.0.0.1:9999", "--json"], io);
    expect(asked).to.equal("http://127.0.0.1:9999/health");
    expect(code).to.equal(2);
    expect(JSON.parse(io.out.join(""))).to.deep.equal(report);
    const human = fakeIo(() => Promise.resolve(new Response(JSON.stringify({ ...report, status: "ok" }))));
    expect(await runCli(["worker", "status"], human)).to.equal(0);
    expect(human.out.join("")).to.contain("RPC_FAILED");
  });

  it("test_status_unreachable: WORKER_UNREACHABLE (exit 2)", async function () {
    const io = fakeIo(() => Promise.reject(new TypeError("fetch failed")));
    const code = await runCli(["worker", "status", "--json"], io);
    expect(code).to.equal(2);
    expect((JSON.parse(io.out.join("")) as { error: { code: string } }).error.code).to.equal(
      "WORKER_UNREACHABLE",
    );
  });
});
