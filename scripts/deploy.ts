/**
 * Deploy the Strata suite to a network with the network's parameter file, or rehearse it without sending anything:
 *
 *   npm run deploy -- --network <name> [--parameters <file>] [--dry-run] [--json]
 *
 *  1. loads the parameter file (deploy/parameters/<network>.json by default) and checks it statically;
 *  2. contacts the target (chain id, deployer, balance, gas price, the token's code) unless --offline;
 *  3. rehearses the deployment: the same Ignition module with the same parameters on an in-process chain, so the
 *     contracts themselves validate every value against their hard bounds;
 *  4. prints the plan: contracts, parameters, who ends up holding every role, gas and its estimated cost;
 *  5. without --dry-run: runs `hardhat ignition deploy <module> --network <name> --parameters <file>` (in this
 *     process), then checks on chain that every parameter is the file's and every role sits with the timelock
 *     and none with the deployer, and prints where the addresses were written
 *     (deploy/deployments/chain-<id>/deployed_addresses.json, where the CLI, agents and worker look).
 *
 * Exit codes as the CLI's: 0 ok, 1 bad usage or parameters, 2 chain trouble or a deployment that failed checks.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import type { DeploymentResult, SuccessfulDeploymentResult } from "@nomicfoundation/ignition-core";
import { DeploymentResultType } from "@nomicfoundation/ignition-core";
import { formatEther, formatUnits, getAddress, type Provider } from "ethers";
import { createHardhatRuntimeEnvironment, importUserConfig } from "hardhat/hre";
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import {
  checkAgainstNetwork,
  loadParameterFile,
  SCALAR_PARAMETER_NAMES,
  STRUCT_PARAMETER_NAMES,
  type ParameterFile,
} from "../deploy/lib/parameters.js";
import { rehearseDeployment, type Rehearsal } from "../deploy/lib/rehearsal.js";
import {
  checkHandover,
  diffParameters,
  readSuiteParameters,
  suiteAddresses,
  type HandoverCheck,
  type SuiteAddresses,
} from "../deploy/lib/suiteOnChain.js";
import { formatFailure, toFailure } from "../offchain/cli/errors.js";
import { StrataError } from "../offchain/sdk/errors.js";
import { TestStablecoin__factory } from "../typechain-types/index.js";
import { ROOT } from "./lib/localChain.js";

const HELP = `usage: npm run deploy -- --network <name> [options]
       npm run deploy:dry-run -- --network <name> [options]

Deploys the Strata suite (registry, storage market, retrieval challenges, compute market, timelock) with the
network's parameter file, after rehearsing the same deployment on an in-process chain so that the contracts
themselves check every value against their bounds. Then checks on chain that every parameter is the file's and
that every role sits with the timelock and none with the deployer. See docs/DEPLOYING.md.

  --network <name>         a network of hardhat.config.ts (localhost, sepolia, baseSepolia, testnetRehearsal)
  --parameters <file>      parameter file (default: deploy/parameters/<network>.json; localhost: local.json)
  --dry-run                rehearse and print the plan (contracts, parameters, roles, gas); send nothing
  --offline                with --dry-run: do not contact the network (no balance, gas price or token checks)
  --yes                    do not ask for confirmation before deploying to a chain other than 31337
  --deployment-id <id>     Ignition deployment id (default: chain-<chainId>, where the CLI looks)
  --build-profile <name>   Hardhat build profile used to compile (default: production, as Ignition's)
  --json                   print the result as JSON on stdout (progress on stderr)
  --help                   this text

Exit codes: 0 ok, 1 bad usage or parameters, 2 chain trouble or a deployment that failed its checks.`;

const DEFAULT_PARAMETER_FILES: Readonly<Record<string, string>> = {
  localhost: "local.json",
  sepolia: "sepolia.json",
  baseSepolia: "base-sepolia.json",
};

interface Options {
  network: string;
  parameters: string;
  dryRun: boolean;
  offline: boolean;
  yes: boolean;
  json: boolean;
  deploymentId: string | undefined;
  buildProfile: string | undefined;
}

function parseOptions(argv: string[]): Options | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      network: { type: "string" },
      parameters: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      offline: { type: "boolean", default: false },
      yes: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      "deployment-id": { type: "string" },
      "build-profile": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return "help";
  const network = values.network;
  if (network === undefined)
    throw new StrataError("INVALID_ARGUMENT", "--network is required", {
      details: "run with --help for usage",
    });
  if (values.offline && !values["dry-run"])
    throw new StrataError(
      "INVALID_ARGUMENT",
      "--offline only goes with --dry-run (a deployment needs the network)",
    );
  const kebab = network.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return {
    network,
    parameters: path.resolve(
      values.parameters ??
        path.join(ROOT, "deploy", "parameters", DEFAULT_PARAMETER_FILES[network] ?? `${kebab}.json`),
    ),
    dryRun: values["dry-run"],
    offline: values.offline,
    yes: values.yes,
    json: values.json,
    deploymentId: values["deployment-id"],
    buildProfile: values["build-profile"],
  };
}

/** What the target network says before anything is sent. */
interface Target {
  chainId: bigint;
  deployer: string;
  balance: bigint;
  nonce: number;
  gasPrice: bigint | undefined;
  token: { symbol: string; decimals: number } | undefined;
  provider: Provider;
}

/** A failure of Hardhat's (config variable not set, node unreachable, wrong chain) as a StrataError. */
function fromHardhatError(error: unknown, network: string): unknown {
  if (!(error instanceof Error) || typeof (error as { number?: unknown }).number !== "number") return error;
  const number = (error as unknown as { number: number }).number;
  if (number === 7) {
    const name = /Configuration Variable "([^"]+)"/.exec(error.message)?.[1] ?? "?";
    return new StrataError("KEY_MISSING", `the configuration variable ${name} is not set`, {
      details: `store it with "npx hardhat keystore set ${name}" (or export ${name}=...); see docs/DEPLOYING.md`,
      cause: error,
    });
  }
  if (number === 703 || number === 704)
    return new StrataError("RPC_UNREACHABLE", `cannot reach the network "${network}"`, { cause: error });
  if (number === 708)
    return new StrataError("WRONG_NETWORK", error.message.split("\n")[0] ?? "", { cause: error });
  return error;
}

/** Read what the plan needs from the target network; the connection stays open for the deployment's checks. */
async function contactTarget(
  hre: HardhatRuntimeEnvironment,
  options: Options,
  file: ParameterFile,
): Promise<{ target: Target; close: () => Promise<void> }> {
  const connection = await hre.network.create(options.network);
  try {
    const provider = connection.ethers.provider;
    const { chainId } = await provider.getNetwork();
    const accounts = (await connection.provider.request({ method: "eth_accounts" })) as string[];
    if (accounts[0] === undefined)
      throw new StrataError("KEY_MISSING", `the network "${options.network}" has no deployer account`);
    const deployer = getAddress(accounts[0]);
    await checkAgainstNetwork(file, { chainId, getCode: (a) => provider.getCode(a) });
    let token: Target["token"];
    if (file.governance !== undefined) {
      // Symbol and decimals are for the plan only: any ERC-20 will do, so a token without them is fine.
      const erc20 = TestStablecoin__factory.connect(file.governance.token, provider);
      try {
        token = { symbol: await erc20.symbol(), decimals: Number(await erc20.decimals()) };
      } catch {
        token = undefined;
      }
    }
    const target: Target = {
      chainId,
      deployer,
      balance: await provider.getBalance(deployer),
      nonce: await provider.getTransactionCount(deployer),
      gasPrice: (await provider.getFeeData()).gasPrice ?? undefined,
      token,
      provider,
    };
    return { target, close: () => connection.close() };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

// ------------------------------------------------------------------ output

type Write = (line: string) => void;

const GAS = new Intl.NumberFormat("en-US");

function duration(seconds: bigint): string {
  const units: [bigint, string][] = [
    [86_400n, "day"],
    [3_600n, "hour"],
    [60n, "minute"],
  ];
  for (const [size, name] of units)
    if (seconds >= size && seconds % size === 0n)
      return `${seconds / size} ${name}${seconds === size ? "" : "s"}`;
  return `${seconds} s`;
}

/** A parameter value with its unit, read from its name (seconds, basis points, token amounts, bytes). */
function describeValue(name: string, value: bigint, decimals: number | undefined, symbol: string): string {
  if (name.endsWith("Bps")) return `${value} bps (${Number(value) / 100}%)`;
  if (/(Delay|Period|Window|Lifetime|Duration)$/.test(name)) return `${value} (${duration(value)})`;
  if (/(bounty|bond)$/i.test(name))
    return decimals === undefined
      ? `${value} base units`
      : `${value} (${formatUnits(value, decimals)} ${symbol})`;
  if (name === "maxDataSetSize") return `${value} (${Number(value) / 2 ** 40} TiB)`;
  if (name === "challengeFinality") return `${value} blocks`;
  return String(value);
}

function printPlan(
  write: Write,
  options: Options,
  file: ParameterFile,
  rehearsal: Rehearsal,
  target: Target | undefined,
  chainType: string,
): void {
  write(`Strata deployment plan${options.dryRun ? " (dry run: nothing is sent)" : ""}`);
  write(
    `  network      ${options.network} (${chainType})${target ? `, chain ${target.chainId}` : ", not contacted"}`,
  );
  write(`  module       deploy/modules/${file.module}.ts`);
  write(`  parameters   ${path.relative(ROOT, file.source)}`);
  if (target !== undefined) {
    write(
      `  deployer     ${target.deployer} (balance ${formatEther(target.balance)} ETH, nonce ${target.nonce})`,
    );
  }
  const g = file.governance;
  const decimals = file.module === "StrataLocal" ? 6 : target?.token?.decimals;
  const symbol = file.module === "StrataLocal" ? "tUSD" : (target?.token?.symbol ?? "tokens");
  if (g !== undefined) {
    write(
      `  token        ${g.token}${target?.token ? ` (${target.token.symbol}, ${target.token.decimals} decimals)` : ""}`,
    );
    write(`  proposers    ${g.proposers.join(", ")}`);
    write(`  executors    ${g.executors.join(", ")}`);
    write(`  treasury     ${g.treasury}`);
  } else {
    write("  token        a new TestStablecoin (the deployer mints); the deployer proposes and executes");
  }
  write("");
  write("Parameters (each accepted by the contracts in the rehearsal):");
  for (const name of SCALAR_PARAMETER_NAMES)
    write(`  ${name.padEnd(40)} ${describeValue(name, file.values[name], decimals, symbol)}`);
  for (const name of STRUCT_PARAMETER_NAMES)
    for (const [field, value] of Object.entries(file.values[name]))
      write(`  ${`${name}.${field}`.padEnd(40)} ${describeValue(field, value, decimals, symbol)}`);
  write("");
  write(`Transactions (${rehearsal.transactions.length}, gas measured in the rehearsal):`);
  for (const tx of rehearsal.transactions)
    write(
      `  ${tx.kind === "deploy" ? "deploy " : "call   "} ${tx.label.padEnd(72)} ${GAS.format(tx.gasUsed).padStart(10)}`,
    );
  write(`  total gas ${GAS.format(rehearsal.totalGas)}`);
  if (target?.gasPrice !== undefined) {
    const cost = rehearsal.totalGas * target.gasPrice;
    write(
      `  at the current gas price (${formatUnits(target.gasPrice, "gwei")} gwei): about ${formatEther(cost)} ETH` +
        (chainType === "op" ? " plus the L1 data fee" : ""),
    );
  }
  write("");
  write("Roles after the deployment (rehearsal; the deployer keeps none on the suite's contracts):");
  for (const r of rehearsal.roles)
    write(`  ${r.contract.padEnd(20)} ${r.role.padEnd(19)} ${r.holders.join(", ") || "(nobody)"}`);
  for (const warning of file.warnings) write(`warning: ${warning}`);
}

function printDeployment(
  write: Write,
  addresses: SuiteAddresses,
  addressesFile: string,
  checks: HandoverCheck[],
  diff: string[],
): void {
  write("");
  write("Deployed:");
  for (const [name, address] of Object.entries(addresses) as [string, string][])
    write(`  ${name.padEnd(20)} ${address}`);
  write(`Addresses written to ${path.relative(ROOT, addressesFile)}`);
  write("");
  write("Checked on chain:");
  write(diff.length === 0 ? "  ok  every parameter is the file's" : diff.map((d) => `  BAD ${d}`).join("\n"));
  const failed = checks.filter((c) => !c.ok);
  if (failed.length === 0) {
    write(
      `  ok  ${checks.length} role checks: the timelock holds every admin, parameter and pauser role, the`,
    );
    write(
      "      deployer none; the markets hold their wiring roles; treasury, token and timelock roles as planned",
    );
  }
  for (const c of failed) write(`  BAD not true: ${c.what}`);
}

function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

// ------------------------------------------------------------------ main

async function deploy(options: Options, write: Write): Promise<Record<string, unknown>> {
  const configPath = path.join(ROOT, "hardhat.config.ts");
  const hre = await createHardhatRuntimeEnvironment(
    await importUserConfig(configPath),
    {
      config: configPath,
      network: options.network,
      ...(options.buildProfile === undefined ? {} : { buildProfile: options.buildProfile }),
    },
    ROOT,
  );
  const networkConfig = hre.config.networks[options.network];
  if (networkConfig === undefined) {
    throw new StrataError("INVALID_ARGUMENT", `unknown network "${options.network}"`, {
      details: `networks in hardhat.config.ts: ${Object.keys(hre.config.networks).join(", ")}`,
    });
  }
  const chainType = networkConfig.chainType ?? "l1";
  const file = await loadParameterFile(options.parameters);

  let target: Target | undefined;
  let close = (): Promise<void> => Promise.resolve();
  try {
    if (!options.offline) {
      write(`contacting ${options.network} ...`);
      const contacted = await contactTarget(hre, options, file);
      target = contacted.target;
      close = contacted.close;
    }
    write("compiling (no-op when the artifacts are current) ...");
    await hre.tasks.getTask("build").run({ quiet: true, noTests: true, defaultBuildProfile: "production" });
    write("rehearsing the deployment on an in-process chain ...");
    const rehearsal = await rehearseDeployment(hre, file, { chainType });
    write("");
    printPlan(write, options, file, rehearsal, target, chainType);
    const report: Record<string, unknown> = {
      ok: true,
      dryRun: options.dryRun,
      network: { name: options.network, chainType, ...(target ? { chainId: target.chainId } : {}) },
      ...(target
        ? {
            deployer: { address: target.deployer, balance: target.balance, nonce: target.nonce },
            ...(target.gasPrice === undefined
              ? {}
              : { estimatedCost: { gasPrice: target.gasPrice, wei: rehearsal.totalGas * target.gasPrice } }),
          }
        : {}),
      module: file.module,
      parameterFile: file.source,
      parameters: file.values,
      ...(file.governance ? { governance: file.governance } : {}),
      warnings: file.warnings,
      rehearsal,
    };
    if (options.dryRun || target === undefined) return report;

    if (target.gasPrice !== undefined && target.balance < rehearsal.totalGas * target.gasPrice) {
      throw new StrataError(
        "INSUFFICIENT_FUNDS",
        `the deployer ${target.deployer} cannot pay for the deployment`,
        {
          details: `balance ${formatEther(target.balance)} ETH, estimated cost ${formatEther(rehearsal.totalGas * target.gasPrice)} ETH`,
        },
      );
    }
    if (target.chainId !== 31337n) {
      if (options.yes) process.env.HARDHAT_IGNITION_CONFIRM_DEPLOYMENT = "true";
      else if (options.json || !process.stdin.isTTY)
        throw new StrataError(
          "DEPLOY_CANCELLED",
          `not confirmed: deploying to chain ${target.chainId} needs --yes`,
          {
            details: "review the plan (--dry-run), then run again with --yes",
          },
        );
    }
    write("");
    write(`deploying with Ignition (hardhat ignition deploy deploy/modules/${file.module}.ts) ...`);
    const result = await runIgnitionDeploy(hre, options, file);
    const deploymentId = options.deploymentId ?? `chain-${target.chainId}`;
    const addressesFile = path.join(
      hre.config.paths.ignition,
      "deployments",
      deploymentId,
      "deployed_addresses.json",
    );
    const addresses = suiteAddresses(file.module, result.contracts);
    const diff = diffParameters(file.values, await readSuiteParameters(target.provider, addresses));
    const checks = await checkHandover(target.provider, addresses, target.deployer, file.governance);
    printDeployment(write, addresses, addressesFile, checks, diff);
    const failed = [...diff, ...checks.filter((c) => !c.ok).map((c) => `not true: ${c.what}`)];
    if (failed.length > 0) {
      throw new StrataError(
        "DEPLOY_UNVERIFIED",
        "the deployment does not match its parameter file or role plan",
        {
          details: `${failed.join("\n")}\naddresses in ${addressesFile}`,
        },
      );
    }
    return { ...report, deployment: { deploymentId, addressesFile, addresses, checks } };
  } catch (error) {
    throw fromHardhatError(error, options.network);
  } finally {
    await close();
  }
}

/** `hardhat ignition deploy <module> --parameters <file>` in this process (same HRE, same keystore unlock). */
async function runIgnitionDeploy(
  hre: HardhatRuntimeEnvironment,
  options: Options,
  file: ParameterFile,
): Promise<SuccessfulDeploymentResult> {
  // Ignition's progress display writes to stdout; with --json stdout carries only the result, so the display
  // goes to stderr for the time of the deployment (console.log writes through process.stdout.write too).
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  if (options.json) process.stdout.write = process.stderr.write.bind(process.stderr);
  let result: DeploymentResult | null;
  try {
    result = (await hre.tasks.getTask(["ignition", "deploy"]).run({
      modulePath: path.join(ROOT, "deploy", "modules", `${file.module}.ts`),
      parameters: file.source,
      ...(options.deploymentId === undefined ? {} : { deploymentId: options.deploymentId }),
    })) as DeploymentResult | null;
  } finally {
    process.stdout.write = stdoutWrite;
  }
  if (result === null) throw new StrataError("DEPLOY_CANCELLED", "the deployment was not confirmed");
  if (result.type !== DeploymentResultType.SUCCESSFUL_DEPLOYMENT) {
    const { errorDeploymentResultToExceptionMessage } =
      await import("@nomicfoundation/hardhat-ignition/helpers");
    throw new StrataError("DEPLOY_FAILED", `Ignition could not complete the deployment (${result.type})`, {
      details: `${errorDeploymentResultToExceptionMessage(result)}\nfix the cause and run the same command again: Ignition resumes from its journal`,
    });
  }
  return result;
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const write: Write = json
    ? (line) => {
        process.stderr.write(`${line}\n`);
      }
    : (line) => {
        console.log(line);
      };
  try {
    const options = parseOptions(argv);
    if (options === "help") {
      console.log(HELP);
      return 0;
    }
    const report = await deploy(options, write);
    if (json) console.log(toJson(report));
    return 0;
  } catch (error) {
    // node:util parseArgs reports bad usage as a TypeError with an ERR_PARSE_ARGS_* code.
    const usage =
      error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS");
    const failure = toFailure(
      usage
        ? new StrataError("INVALID_ARGUMENT", error.message, { details: "run with --help for usage" })
        : error,
    );
    if (json) {
      console.log(
        toJson({ error: { code: failure.code, message: failure.message, details: failure.details } }),
      );
    } else {
      process.stderr.write(`${formatFailure(failure)}\n`);
      const more = failure.details?.split("\n").slice(1) ?? [];
      for (const line of more) process.stderr.write(`  ${line}\n`);
    }
    return failure.exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
