import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { agentComputeRuntime } from "../../sdk/compute/agentApi.js";
import { DEFAULT_CONFIG_FILE, defaultConfig, loadConfig, type AgentConfigFile } from "../../agent/config.js";
import { StrataError } from "../../sdk/errors.js";
import { writeFileAtomic } from "../../sdk/client/files.js";
import type { CliContext } from "../context.js";
import { formatBytes } from "../format/units.js";
import { address, byteSize, decimalAmount, nonNegativeInt } from "../parse.js";
import type { Runner } from "../runner.js";

interface InitOptions {
  config: string;
  endpoint: string;
  listen?: string;
  dataDir: string;
  price?: string;
  collateral?: string;
  notice?: number;
  force?: boolean;
}

interface RegisterOptions {
  config?: string;
  endpoint?: string;
  capacity: bigint;
  price?: string;
  payee?: string;
}

export function registerProviderCommands(program: Command, run: Runner): void {
  const provider = program
    .command("provider")
    .description("set up and inspect a storage provider (configuration, registration, stake)");

  provider
    .command("init")
    .summary("write a provider agent configuration")
    .description(
      "write a provider agent configuration for this chain's deployment (then: provider register, provider stake, agent start)",
    )
    .option("--config <file>", "configuration file to write", DEFAULT_CONFIG_FILE)
    .option("--endpoint <url>", "public URL clients use to reach the agent", "http://127.0.0.1:7001")
    .option(
      "--listen <host:port>",
      "address the agent listens on (default: the endpoint's port on 127.0.0.1)",
    )
    .option(
      "--data-dir <dir>",
      "where the agent keeps pieces and its database (relative to the config file)",
      "./strata-agent",
    )
    .option("--price <amount>", "asking price in tokens per TiB per 30 days", decimalAmount)
    .option(
      "--collateral <amount>",
      "collateral in tokens the provider locks per TiB of a data set's size class",
      decimalAmount,
    )
    .option("--notice <periods>", "proving periods of notice before a data set ends", nonNegativeInt)
    .option("--force", "overwrite an existing configuration file")
    .action((opts: InitOptions, command: Command) => run(command, (ctx) => init(ctx, opts)));

  provider
    .command("register")
    .description("register this account as a provider on chain (or update its profile if registered)")
    .option("--config <file>", "read the endpoint and price from this agent configuration")
    .option("--endpoint <url>", "public URL of the agent's HTTP API")
    .option("--capacity <size>", "capacity offered (informational), e.g. 1TiB", byteSize, 1n << 40n)
    .option("--price <amount>", "asking price in tokens per TiB per 30 days", decimalAmount)
    .option("--payee <address>", "address that receives payouts (default: this account)", address)
    .action((opts: RegisterOptions, command: Command) => run(command, (ctx) => register(ctx, opts)));

  provider
    .command("stake")
    .description("add <amount> tokens to this provider's stake (collateral is locked from it per data set)")
    .argument("<amount>", "tokens to stake, e.g. 1000", decimalAmount)
    .action((amount: string, _opts: unknown, command: Command) => run(command, (ctx) => stake(ctx, amount)));

  provider
    .command("status")
    .description("show a provider's registration, stake, balance, proving state and agent status")
    .argument("[address]", "provider address (default: the signing account)", address)
    .action((who: string | undefined, _opts: unknown, command: Command) =>
      run(command, (ctx) => status(ctx, who)),
    );
}

async function init(ctx: CliContext, opts: InitOptions): Promise<void> {
  const path = resolve(opts.config);
  if (existsSync(path) && opts.force !== true) {
    throw new StrataError("OUTPUT_EXISTS", `${opts.config} already exists`, {
      details: "pass --force to overwrite it, or --config <another file>",
    });
  }
  const endpoint = new URL(opts.endpoint);
  const [host, port] = parseListen(opts.listen ?? `127.0.0.1:${endpoint.port || "80"}`);
  const chain = await ctx.chain();
  const units = await ctx.tokenUnits();
  const base = defaultConfig();
  const key: AgentConfigFile["key"] =
    ctx.options.account === undefined ? { env: ctx.options.keyEnv } : { account: ctx.options.account };
  const config: AgentConfigFile = {
    ...base,
    rpcUrl: chain.rpcUrl,
    chainId: chain.chainId.toString(),
    deployment: {
      market: chain.deployment.market,
      registry: chain.deployment.registry,
      token: chain.deployment.token,
      retrievalChallenges: chain.deployment.retrievalChallenges ?? null,
      computeMarket: chain.deployment.computeMarket ?? null,
    },
    key,
    dataDir: opts.dataDir,
    listen: { host, port },
    publicEndpoint: opts.endpoint.replace(/\/+$/, ""),
    policy: {
      ...base.policy,
      ...(opts.price === undefined ? {} : { pricePerTiBMonth: units.parse(opts.price).toString() }),
      ...(opts.collateral === undefined ? {} : { collateralPerTiB: units.parse(opts.collateral).toString() }),
      ...(opts.notice === undefined ? {} : { noticePeriods: opts.notice }),
    },
  };
  await writeFileAtomic(path, `${JSON.stringify(config, null, 2)}\n`);
  ctx.result({ config: path, ...config }, () => [
    `wrote ${path}`,
    `  chain ${chain.chainId}, market ${chain.deployment.market}`,
    `  endpoint ${config.publicEndpoint} (listening on ${host}:${port}), data in ${opts.dataDir}`,
    `next: strata provider register --config ${opts.config}; strata provider stake <amount>; strata agent start --config ${opts.config}`,
  ]);
}

function parseListen(value: string): [string, number] {
  const match = /^(.+):([0-9]{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port > 65_535) {
    throw new StrataError("INVALID_ARGUMENT", `--listen must be host:port, got "${value}"`);
  }
  return [match[1], port];
}

async function register(ctx: CliContext, opts: RegisterOptions): Promise<void> {
  const { signer, registry } = await ctx.signed();
  const units = await ctx.tokenUnits();
  let endpoint = opts.endpoint;
  let price = opts.price === undefined ? undefined : units.parse(opts.price);
  if (opts.config !== undefined) {
    const config = await loadConfig(opts.config);
    endpoint ??= config.publicEndpoint;
    price ??= config.policy.pricePerTiBMonth;
  }
  if (endpoint === undefined) {
    throw new StrataError("INVALID_ARGUMENT", "the provider's endpoint is needed", {
      details: "pass --endpoint <url> or --config <agent configuration>",
    });
  }
  if (!/^https?:\/\//.test(endpoint))
    throw new StrataError("INVALID_ARGUMENT", "--endpoint must be an http(s) URL");
  if (price === undefined) {
    throw new StrataError("INVALID_ARGUMENT", "the asking price is needed", {
      details: "pass --price <tokens per TiB-month> or --config <agent configuration>",
    });
  }
  const me = await signer.getAddress();
  const payee = opts.payee ?? me;
  const registered = await registry.isRegistered(me);
  const tx = registered
    ? await registry.updateProvider(payee, endpoint, opts.capacity, price)
    : await registry.register(payee, endpoint, opts.capacity, price);
  await tx.wait();
  const action = registered ? "updated" : "registered";
  ctx.result(
    {
      provider: me,
      action,
      payee,
      endpoint,
      capacityBytes: opts.capacity,
      pricePerTiBMonth: price,
      txHash: tx.hash,
    },
    () =>
      `${action} provider ${me}: ${endpoint}, ${formatBytes(opts.capacity)}, ${units.format(price)} per TiB-month (tx ${tx.hash})`,
  );
}

async function stake(ctx: CliContext, amountText: string): Promise<void> {
  const { signer, registry, token } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const amount = units.parse(amountText);
  if (amount === 0n) throw new StrataError("INVALID_ARGUMENT", "the amount must be positive");
  const me = await signer.getAddress();
  if (!(await registry.isRegistered(me))) {
    throw new StrataError("INVALID_ARGUMENT", `${me} is not a registered provider`, {
      details: "run strata provider register first",
    });
  }
  const registryAddress = await registry.getAddress();
  const [balance, allowance] = await Promise.all([token.balanceOf(me), token.allowance(me, registryAddress)]);
  if (balance < amount) {
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the wallet holds ${units.format(balance)}, less than ${units.format(amount)}`,
      {
        details: "send tokens to the provider account first (local chain: strata dev mint)",
      },
    );
  }
  let approveTx: string | null = null;
  if (allowance < amount) {
    const approval = await token.approve(registryAddress, amount);
    await approval.wait();
    approveTx = approval.hash;
  }
  const tx = await registry.stake(me, amount);
  await tx.wait();
  const info = await registry.stakeInfo(me);
  ctx.result(
    { provider: me, staked: amount, free: info.free, locked: info.locked, approveTx, txHash: tx.hash },
    () =>
      `staked ${units.format(amount)}: free ${units.format(info.free)}, locked ${units.format(info.locked)}`,
  );
}

async function status(ctx: CliContext, who: string | undefined): Promise<void> {
  const chain = await ctx.chain();
  const me = who ?? (await (await ctx.signer()).getAddress());
  const units = await ctx.tokenUnits();
  const [info, stakeInfo, ledger, proof, currentPeriod, weight] = await Promise.all([
    chain.registry.providerInfo(me),
    chain.registry.stakeInfo(me),
    chain.market.balanceOf(me),
    chain.market.proofState(me),
    chain.market.currentPeriod(),
    chain.market.weight(me),
  ]);
  let agent: unknown = null;
  let agentError: string | null = null;
  if (info.registered && /^https?:\/\//.test(info.endpoint)) {
    try {
      agent = await ctx.agent(info.endpoint, { timeoutMs: 3000 }).status();
    } catch (error) {
      agentError = error instanceof Error ? error.message : String(error);
    }
  }
  const computeRuntime =
    agent === null ? null : await agentComputeRuntime(info.endpoint, { fetch: ctx.io.fetch });
  const result = {
    provider: me,
    registered: info.registered,
    payee: info.payee,
    endpoint: info.endpoint,
    capacityBytes: info.capacityBytes,
    pricePerTiBMonth: info.pricePerTiBMonth,
    stake: {
      free: stakeInfo.free,
      locked: stakeInfo.locked,
      unbonding: stakeInfo.unbonding,
      unbondingReleaseAt: stakeInfo.unbondingReleaseAt,
    },
    ledgerBalance: ledger,
    proof: {
      currentPeriod,
      nextPeriod: proof.nextPeriod,
      missedPeriods: proof.missedPeriods,
      frozenLeaves: weight.frozen,
      currentLeaves: weight.current,
    },
    agent,
    agentError,
    computeRuntime,
  };
  ctx.result(result, () => [
    `provider ${me}: ${info.registered ? "registered" : "not registered"}`,
    ...(info.registered
      ? [
          `  endpoint ${info.endpoint}, ${formatBytes(info.capacityBytes)}, ${units.format(info.pricePerTiBMonth)} per TiB-month`,
        ]
      : []),
    `  stake: free ${units.format(stakeInfo.free)}, locked ${units.format(stakeInfo.locked)}, unbonding ${units.format(stakeInfo.unbonding)}`,
    `  market balance (withdrawable): ${units.format(ledger)}`,
    `  proving: ${formatBytes(weight.current * 64n)} of size-class capacity, next period ${proof.nextPeriod} (current ${currentPeriod}), ${proof.missedPeriods} missed`,
    agentError === null ? (agent === null ? "  agent: -" : "  agent: reachable") : `  agent: ${agentError}`,
    ...(computeRuntime === null
      ? []
      : [
          computeRuntime.isolated
            ? "  compute runtime: isolated (bubblewrap namespaces, cgroup limits)"
            : `  compute runtime: ${computeRuntime.runtime} — NOT ISOLATED (${computeRuntime.fallbackReason ?? "no reason given"})`,
        ]),
  ]);
}
