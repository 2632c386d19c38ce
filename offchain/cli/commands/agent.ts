import { resolve } from "node:path";
import type { Command } from "commander";
import type { CliContext } from "../context.js";
import type { Runner } from "../runner.js";
import { DEFAULT_CONFIG_FILE } from "../../agent/config.js";
import { runUntilSignal } from "../../runtime/lifecycle.js";
import { resolveEndpoint } from "../../runtime/rpc/endpoint.js";

interface StartOptions {
  config: string;
}

export function registerAgentCommands(program: Command, run: Runner): void {
  const agent = program.command("agent").description("run the provider agent");
  agent
    .command("start")
    .summary("run the provider agent (until Ctrl-C)")
    .description(
      "run the provider agent in this process: HTTP data plane + chain duties (publish, prove, settle); " +
        "stops cleanly on Ctrl-C / SIGTERM. Its settings (RPC, deployment, key) come from the configuration file; --rpc, --network or " +
        "$STRATA_RPC_URL override its rpcUrl",
    )
    .option("--config <file>", "agent configuration (see strata provider init)", DEFAULT_CONFIG_FILE)
    .action((opts: StartOptions, command: Command) => run(command, (ctx) => start(ctx, opts)));
}

async function start(ctx: CliContext, opts: StartOptions): Promise<void> {
  const path = resolve(opts.config);
  // Loaded on demand: the agent pulls in fastify and node:sqlite, which other commands do not need.
  const { startAgentFromConfigFile } = await import("../../agent/main.js");
  // --rpc / --network override the file's rpcUrl; $STRATA_RPC_URL is applied by the agent itself.
  const overrides =
    ctx.options.rpc !== undefined || ctx.options.network !== undefined
      ? {
          rpcUrl: resolveEndpoint({
            rpc: ctx.options.rpc,
            network: ctx.options.network,
            env: ctx.io.env,
            clientConfig: ctx.clientConfig(),
          }).rpcUrl,
        }
      : {};
  const running = await startAgentFromConfigFile(path, { env: { ...ctx.io.env }, overrides });
  ctx.result({ state: "started", config: path }, () => `agent started with ${path} (Ctrl-C to stop)`);
  await runUntilSignal(
    "agent",
    () => running.stop(),
    (line) => {
      ctx.note(line);
    },
  );
  ctx.result({ state: "stopped" }, () => "agent stopped");
}
