import { Command, CommanderError } from "commander";
import { registerAgentCommands } from "./commands/agent.js";
import { registerBalanceCommands } from "./commands/balance.js";
import { registerDataSetCommands } from "./commands/datasets.js";
import { registerDevCommands } from "./commands/dev.js";
import { registerLeaseCommands } from "./commands/lease/index.js";
import { registerProviderCommands } from "./commands/provider.js";
import { registerRetrieveCommand } from "./commands/retrieve.js";
import { registerStatusCommand } from "./commands/status.js";
import { registerStoreCommand } from "./commands/store.js";
import { registerWorkerCommands } from "./commands/worker.js";
import { registerGetCommands } from "./commands/get.js";
import { registerImportCommand } from "./commands/import.js";
import { registerListCommands } from "./commands/ls.js";
import { registerRemoveCommand } from "./commands/rm.js";

import { registerConfigCommands } from "./commands/config.js";
import { registerEstimateCommand } from "./commands/estimate.js";
import { formatBytes } from "./format/units.js";

import { registerMandateCommand } from "./commands/mandate.js";
import { registerRepairCommand } from "./commands/repair.js";
import { CliContext, DEFAULTS, processIo, type CliIo, type GlobalOptions } from "./context.js";
import { formatFailure, toFailure, type CliFailure } from "./errors.js";
import { nonNegativeInt } from "./parse.js";
import type { Runner } from "./runner.js";

const DESCRIPTION = [
  "Strata: store files on a decentralized storage market, rent compute (strata lease), or run a provider.",
  "",
  "A file is encrypted and erasure-coded into k data + m parity pieces; each piece goes to a different " +
    "provider, into the data set the client holds with it (one agreement per client and provider, any number " +
    "of pieces), backed by the provider's collateral and proven every proving period.",
  "",
  `Keys: the signing key is read from $${DEFAULTS.keyEnv} (or --key-env <VAR>); on a local Hardhat chain ` +
    "--account <n> uses Hardhat's public development accounts instead.",
  "",
  "Chain: --rpc <url>, else --network <name>, else $STRATA_RPC_URL, else the configuration file " +
    "(strata config set rpc <url>; kept in ~/.config/strata/config.json, or $STRATA_CONFIG), else " +
    `${DEFAULTS.rpc}.`,
  "",
  "Amounts are in tokens with their symbol; --raw adds base units. Durations are clock time next to periods.",
  "",
  "Exit codes: 0 ok, 1 bad usage or input, 2 chain or provider trouble (or what was asked is not true: a " +
    "file at risk, a lease closed), 3 data integrity.",
].join("\n");

export function buildProgram(io: CliIo, run: Runner): Command {
  const program = new Command("strata")
    .description(DESCRIPTION)
    .version("0.1.0", "-V, --version")
    .option(
      "--rpc <url>",
      `JSON-RPC endpoint of the chain (default: $STRATA_RPC_URL, the config file, ${DEFAULTS.rpc})`,
    )
    .option(
      "--network <name>",
      "a named chain: from the config file (strata config set networks.<name>.rpc <url>), localhost, or $<NAME>_RPC_URL",
    )
    .option(
      "--deployment <file>",
      "Ignition deployed_addresses.json of the suite (default: deploy/deployments/chain-<chainId>/deployed_addresses.json)",
    )
    .option(
      "--key-env <VAR>",
      `environment variable holding the signing private key (default: the config file's keyEnv, else ${DEFAULTS.keyEnv})`,
    )
    .option("--account <n>", "use Hardhat dev account <n> (local chain 31337 only)", nonNegativeInt)
    .option("--allow-dev-keys", "allow --account on chains other than 31337 (their keys are public!)")
    .option("--json", "print machine-readable JSON (errors as {error: {code, message}})")
    .option("--raw", "also print amounts in the token's base units")
    .configureOutput({
      writeOut: (text) => {
        io.stdout(text);
      },
      writeErr: (text) => {
        io.stderr(text);
      },
      // Usage errors are printed by runCli in the CLI's own format.
      outputError: () => undefined,
    })
    .exitOverride();

  registerProviderCommands(program, run);
  registerAgentCommands(program, run);
  registerStoreCommand(program, run);
  registerStatusCommand(program, run);
  registerRetrieveCommand(program, run);
  registerDataSetCommands(program, run);
  registerBalanceCommands(program, run);
  registerLeaseCommands(program, run);
  registerDevCommands(program, run);
  registerWorkerCommands(program, run);
  registerListCommands(program, run);
  registerGetCommands(program, run);
  registerRemoveCommand(program, run);
  registerImportCommand(program, run);

  registerMandateCommand(program, run);
  registerRepairCommand(program, run);

  registerConfigCommands(program, run);
  registerEstimateCommand(program, run);

  for (const command of [program, ...allCommands(program)]) {
    command.exitOverride().configureOutput(program.configureOutput());
    describeDefaults(command);
  }
  return program;
}

/**
 * Help prints an option's default with JSON.stringify, which throws on a bigint (a size or an amount): give
 * every such default a description ("1 TiB") instead, so that `--help` works for every command.
 */
function describeDefaults(command: Command): void {
  for (const option of command.options) {
    const value: unknown = option.defaultValue;
    if (typeof value === "bigint" && option.defaultValueDescription === undefined) {
      option.defaultValueDescription = describeBigint(option.long ?? "", value);
    }
  }
}

function describeBigint(flag: string, value: bigint): string {
  const bytes = /size|capacity|bytes/i.test(flag);
  return bytes ? formatBytes(value) : value.toString();
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}

/** Parse `argv` (without node and script), run the command, print errors; returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const wantsJson = argv.includes("--json");
  let exitCode = 0;
  const report = (failure: CliFailure, json: boolean) => {
    if (json) io.stdout(`${JSON.stringify({ error: errorBody(failure) }, null, 2)}\n`);
    else io.stderr(`${formatFailure(failure)}\n`);
    exitCode = failure.exitCode;
  };

  const run: Runner = async (command, action) => {
    const options = command.optsWithGlobals<GlobalOptions>();
    const ctx = new CliContext(options, io);
    try {
      await action(ctx);
      exitCode = ctx.exitCode;
    } catch (error) {
      report(toFailure(error), options.json === true);
    } finally {
      await ctx.close();
    }
  };

  const program = buildProgram(io, run);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, --version
      if (error.code === "commander.help") return 1; // a command group without its subcommand: help shown
      const message = error.message.replace(/^error:\s*/, "");
      report(
        { code: "INVALID_ARGUMENT", message, details: "run with --help for usage", exitCode: 1 },
        wantsJson,
      );
      return exitCode;
    }
    report(toFailure(error), wantsJson);
  }
  return exitCode;
}

function errorBody(failure: CliFailure): {
  code: string;
  message: string;
  details?: string;
  data?: Readonly<Record<string, string>>;
} {
  return {
    code: failure.code,
    message: failure.message,
    ...(failure.details === undefined ? {} : { details: failure.details }),
    ...(failure.data === undefined ? {} : { data: failure.data }),
  };
}
