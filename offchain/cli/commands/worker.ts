import { resolve } from "node:path";
import type { Command } from "commander";
import { resolveEndpoint } from "../../runtime/rpc/endpoint.js";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import { nonNegativeInt, positiveInt } from "../parse.js";
import type { Runner } from "../runner.js";
// Types only: the worker itself (fastify, node:sqlite, prom-client) is loaded on demand by `start`.
import type { WorkerConfigOverrides } from "../../worker/config.js";
import type { HealthReport } from "../../worker/http/health.js";
import { runUntilSignal } from "../../runtime/lifecycle.js";

const DEFAULT_LISTEN = "127.0.0.1:9464";

interface StartOptions {
  config?: string;
  db?: string;
  confirmations?: number;
  startBlock?: number;
  listen?: string;
  readOnly?: boolean;
  samplingInterval?: number;
  sampling: boolean;
  reporting: boolean;
  challenges: boolean;
  leases: boolean;
}

interface StatusOptions {
  listen?: string;
  config?: string;
}

const START_HELP = `
The global options --rpc, --network, --deployment, --key-env <VAR>, --account <n> and --json apply (they may
follow "worker start"). Flags override $STRATA_RPC_URL, which overrides the configuration file, which overrides
the defaults (see
offchain/worker/README.md). Without a key (--key-env, --account or "key" in the file) the worker runs
read-only: it indexes, verifies, samples and alerts, but sends no transaction.

Examples:
  strata worker start                                   # local chain, read-only, defaults
  strata worker start --key-env WATCHER_KEY --db ./watcher.db
  strata --rpc https://rpc.example --deployment deployed_addresses.json worker start --config worker.json`;

export function registerWorkerCommands(program: Command, run: Runner): void {
  const worker = program.command("worker").description("run the proof-verifier worker (watcher)");
  worker
    .command("start")
    .summary("run the proof-verifier worker (until Ctrl-C)")
    .description(
      "follow the chain into a local index, check every provider's proofs and retrievability, report missed " +
        "proofs and enforce challenges for bounties; serves /health and /metrics. Stops cleanly on Ctrl-C",
    )
    .option("--config <file>", "worker configuration JSON (optional)")
    .option("--db <path>", "SQLite database (default .strata/worker/<chainId>/worker.db)")
    .option(
      "--confirmations <n>",
      "blocks behind the head to index (default 1 locally, 12 elsewhere)",
      nonNegativeInt,
    )
    .option(
      "--start-block <n>",
      "first block of a fresh index (default: the market's deployment block)",
      nonNegativeInt,
    )
    .option(
      "--listen <host:port>",
      `address of /health and /metrics (default ${DEFAULT_LISTEN}; port 0: any)`,
    )
    .option("--read-only", "never send transactions, even with a key configured")
    .option("--sampling-interval <ms>", "time between retrieval sampling rounds", positiveInt)
    .option("--no-sampling", "do not sample retrievals from providers")
    .option("--no-reporting", "do not report missed proofs")
    .option("--no-challenges", "do not open or enforce retrieval challenges")
    .option("--no-leases", "do not report missed lease heartbeats or close overdrawn leases")
    .addHelpText("after", START_HELP)
    .action((opts: StartOptions, command: Command) => run(command, (ctx) => start(ctx, command, opts)));
  worker
    .command("status")
    .summary("print a running worker's /health")
    .description(
      "query a running worker's GET /health and print it (exit code 2 when degraded or unreachable)",
    )
    .option(
      "--listen <host:port>",
      `the worker's /health address (default: the config's, else ${DEFAULT_LISTEN})`,
    )
    .option("--config <file>", "read the address from this worker configuration")
    .action((opts: StatusOptions, command: Command) => run(command, (ctx) => status(ctx, opts)));
}

/** Overrides from the flags (and $STRATA_RPC_URL); a global flag counts only when given. */
export function startOverrides(
  ctx: CliContext,
  _command: Command,
  opts: StartOptions,
): WorkerConfigOverrides {
  const overrides: WorkerConfigOverrides = {};
  // --rpc, --network and $STRATA_RPC_URL override the file's rpcUrl (flag > environment > file > default).
  const endpoint = resolveEndpoint({
    rpc: ctx.options.rpc,
    network: ctx.options.network,
    deployment: ctx.options.deployment,
    env: ctx.io.env,
    // The worker's own file decides when nothing above is given; the client's file does not apply.
    clientConfig: { config: {}, path: "" },
  });
  if (endpoint.source.kind !== "default") overrides.rpcUrl = endpoint.rpcUrl;
  if (endpoint.deployment !== undefined) overrides.deployment = resolve(endpoint.deployment);
  if (opts.db !== undefined) overrides.dbPath = resolve(opts.db);
  if (opts.confirmations !== undefined) overrides.confirmations = opts.confirmations;
  if (opts.startBlock !== undefined) overrides.startBlock = opts.startBlock;
  if (opts.listen !== undefined) overrides.listen = opts.listen;
  const keyFlags = [ctx.options.keyEnv !== undefined, ctx.options.account !== undefined].filter(
    Boolean,
  ).length;
  if (opts.readOnly === true && keyFlags > 0) {
    throw new StrataError("INVALID_ARGUMENT", "--read-only cannot be combined with --key-env or --account");
  }
  if (ctx.options.account !== undefined && ctx.options.keyEnv !== undefined) {
    throw new StrataError("INVALID_ARGUMENT", "pass either --key-env or --account, not both");
  }
  if (opts.readOnly === true) overrides.key = null;
  else if (ctx.options.account !== undefined) overrides.key = { account: ctx.options.account };
  else if (ctx.options.keyEnv !== undefined) overrides.key = { env: ctx.options.keyEnv };
  const sampling: NonNullable<WorkerConfigOverrides["sampling"]> = {};
  if (opts.samplingInterval !== undefined) sampling.intervalMs = opts.samplingInterval;
  if (!opts.sampling) sampling.enabled = false;
  if (Object.keys(sampling).length > 0) overrides.sampling = sampling;
  if (!opts.reporting) overrides.reporting = { enabled: false };
  if (!opts.challenges) overrides.challenges = { enabled: false };
  if (!opts.leases) overrides.leases = { enabled: false };
  return overrides;
}

async function start(ctx: CliContext, command: Command, opts: StartOptions): Promise<void> {
  const overrides = startOverrides(ctx, command, opts);
  const configPath = opts.config === undefined ? undefined : resolve(opts.config);
  const { startWorkerFromConfig } = await import("../../worker/main.js");
  const { workerConfigToJson } = await import("../../worker/config.js");
  const running = await startWorkerFromConfig({
    env: { ...ctx.io.env },
    overrides,
    fetch: ctx.io.fetch,
    ...(configPath === undefined ? {} : { configPath }),
    ...(ctx.options.allowDevKeys === true ? { allowDevKeys: true } : {}),
    // With --json, stdout carries only the JSON results: the logs go to stderr.
    ...(ctx.json ? { logDestination: process.stderr } : {}),
  });
  const { config, worker } = running;
  ctx.result(
    {
      state: "started",
      url: worker.address(),
      worker: worker.context.chain.me,
      config: workerConfigToJson(config),
    },
    () => [
      `worker started on chain ${config.chainId}: /health and /metrics at ${worker.address() ?? "?"}`,
      `  ${worker.context.chain.me === null ? "read-only (no key configured)" : `acting as ${worker.context.chain.me}`}`,
      `  database ${config.dbPath}, from block ${config.startBlock}, ${config.confirmations} confirmation(s)`,
      "  Ctrl-C to stop",
    ],
  );
  await runUntilSignal(
    "worker",
    () => running.stop(),
    (line) => {
      ctx.note(line);
    },
  );
  ctx.result({ state: "stopped" }, () => "worker stopped");
}

async function status(ctx: CliContext, opts: StatusOptions): Promise<void> {
  let listen = opts.listen;
  if (listen === undefined && opts.config !== undefined) {
    const { loadWorkerConfig } = await import("../../worker/config.js");
    const settings = await loadWorkerConfig(resolve(opts.config));
    const host = settings.listen.host.includes(":") ? `[${settings.listen.host}]` : settings.listen.host;
    listen = `${host}:${settings.listen.port}`;
  }
  const url = `http://${listen ?? DEFAULT_LISTEN}/health`;
  let report: HealthReport;
  try {
    const response = await ctx.io.fetch(url, { signal: AbortSignal.timeout(5000) });
    report = (await response.json()) as HealthReport;
  } catch (cause) {
    throw new StrataError("WORKER_UNREACHABLE", `no worker answers at ${url}`, {
      details: "is it running? Start one with: strata worker start (or pass --listen <host:port>)",
      cause,
    });
  }
  if (report.status !== "ok") ctx.exitCode = 2;
  ctx.result(report, () => {
    const rows: [string, string][] = [
      ["status", `${report.status} since ${report.since}`],
      ["chain", report.chainId],
      ["worker", report.worker ?? "read-only"],
      ["indexed block", String(report.indexedBlock ?? "-")],
      ["head", String(report.head ?? "-")],
      ["blocks behind", String(report.blocksBehind ?? "-")],
      ["data sets tracked", String(report.dataSetsTracked)],
      [
        "last error",
        report.lastError === null ? "-" : `${report.lastError.code}: ${report.lastError.message}`,
      ],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
  });
}
