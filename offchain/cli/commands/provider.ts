import { permanentStorageAddress } from "../../sdk/durability/permanent.js";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { agentComputeRuntime } from "../../sdk/compute/agentApi.js";
import { DEFAULT_CONFIG_FILE, defaultConfig, loadConfig, type AgentConfigFile } from "../../agent/config.js";
import { formatTokens } from "../../agent/configSchema.js";
import { StrataError } from "../../sdk/errors.js";
import { writeFileAtomic } from "../../sdk/client/files.js";
import type { CliContext } from "../context.js";
import { amountsJson, formatBytes, formatSpan, isoTime, timeFromNow, tokenJson } from "../format/units.js";
import type { ProviderRegistry } from "../../../typechain-types/index.js";
import { address, byteSize, decimalAmount, nonNegativeInt } from "../parse.js";
import type { Runner } from "../runner.js";
import { confirmTransaction } from "../../sdk/chain/confirm.js";

interface InitOptions {
  config: string;
  endpoint: string;
  listen?: string;
  dataDir: string;
  price?: string;
  collateral?: string;
  notice?: number;
  force?: boolean;
  compute?: boolean;
  region?: string;
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
    .option(
      "--compute",
      "also rent out compute: bid on lease orders and run workloads (needs a compute market)",
    )
    .option("--region <label>", "with --compute: the region this provider bids in")
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

  provider
    .command("unbond")
    .description(
      "start taking free stake out: it moves to unbonding (still slashable) and can be withdrawn after the " +
        "registry's unbonding delay (the delay restarts for the whole unbonding balance)",
    )
    .argument("[amount]", "tokens to unbond, e.g. 100", decimalAmount)
    .option("--all", "unbond all free stake")
    .action((amount: string | undefined, opts: { all?: boolean }, command: Command) =>
      run(command, (ctx) => unbond(ctx, amount, opts.all === true)),
    );

  provider
    .command("cancel-unbond")
    .description("move unbonding stake back to free stake (without an amount: all of it)")
    .argument("[amount]", "tokens to move back, e.g. 100", decimalAmount)
    .action((amount: string | undefined, _opts: unknown, command: Command) =>
      run(command, (ctx) => cancelUnbond(ctx, amount)),
    );

  provider
    .command("withdraw")
    .description("pay the unbonded stake to the provider's payee once the unbonding delay has passed")
    .action((_opts: unknown, command: Command) => run(command, (ctx) => withdrawUnbonded(ctx)));

  provider
    .command("deregister")
    .description(
      "stop being a provider: needs no collateral locked in data sets or leases; all free stake starts " +
        "unbonding (then: strata provider withdraw after the delay)",
    )
    .action((_opts: unknown, command: Command) => run(command, (ctx) => deregister(ctx)));
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
    ctx.options.account === undefined ? { env: ctx.keyEnv } : { account: ctx.options.account };
  // Amounts in the file are tokens of the token's decimals, recorded so the agent can check them at start.
  const tokens = (amount: string) => formatTokens(units.parse(amount), units.decimals);
  const config: AgentConfigFile = {
    ...base,
    tokenDecimals: units.decimals,
    rpcUrl: chain.rpcUrl,
    chainId: chain.chainId.toString(),
    deployment: {
      market: chain.deployment.market,
      registry: chain.deployment.registry,
      token: chain.deployment.token,
      retrievalChallenges: chain.deployment.retrievalChallenges ?? null,
      computeMarket: chain.deployment.computeMarket ?? null,
      permanentStorage: await permanentStorageAddress(chain.deployment),
    },
    key,
    dataDir: opts.dataDir,
    listen: { host, port },
    publicEndpoint: opts.endpoint.replace(/\/+$/, ""),
    policy: {
      ...base.policy,
      ...(opts.price === undefined ? {} : { pricePerTiBMonth: tokens(opts.price) }),
      ...(opts.collateral === undefined ? {} : { collateralPerTiB: tokens(opts.collateral) }),
      ...(opts.notice === undefined ? {} : { noticePeriods: opts.notice }),
    },
    compute: {
      ...base.compute,
      ...(opts.compute === true ? { enabled: true } : {}),
      ...(opts.region === undefined ? {} : { region: opts.region }),
    },
  };
  if (opts.region !== undefined && opts.compute !== true) {
    throw new StrataError("INVALID_ARGUMENT", "--region goes with --compute");
  }
  if (opts.compute === true && chain.deployment.computeMarket === undefined) {
    throw new StrataError("DEPLOYMENT_NOT_FOUND", `${chain.deployment.source} has no compute market`, {
      details: "leave out --compute, or pass a --deployment that has a compute market",
    });
  }
  await writeFileAtomic(path, `${JSON.stringify(config, null, 2)}\n`);
  ctx.result({ config: path, ...config }, () => [
    `wrote ${path}`,
    `  chain ${chain.chainId}, market ${chain.deployment.market}`,
    `  endpoint ${config.publicEndpoint} (listening on ${host}:${port}), data in ${opts.dataDir}`,
    `  compute leases: ${config.compute.enabled ? `on${config.compute.region === "" ? "" : ` (region ${config.compute.region})`}` : "off (--compute switches them on)"}`,
    `next: ${ctx.commandLine(`provider register --config ${opts.config}`)}; ${ctx.commandLine("provider stake <amount>")}; ` +
      ctx.commandLine(`agent start --config ${opts.config}`),
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
    // A file that does not state its decimals is read in the token's own.
    const config = await loadConfig(opts.config, {}, { tokenDecimals: units.decimals });
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
  await confirmTransaction(tx);
  const action = registered ? "updated" : "registered";
  ctx.result(
    {
      provider: me,
      action,
      payee,
      endpoint,
      capacityBytes: opts.capacity,
      token: tokenJson(units),
      ...amountsJson({ pricePerTiBMonth: price }, units),
      txHash: tx.hash,
    },
    () =>
      `${action} provider ${me}: ${endpoint}, ${formatBytes(opts.capacity)}, ${units.format(price)} per TiB-month (tx ${tx.hash})`,
  );
}

async function stake(ctx: CliContext, amountText: string): Promise<void> {
  const { signer, registry, token } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const amount = units.parsePositive(amountText, "the stake");
  const me = await signer.getAddress();
  await requireRegistered(ctx, registry, me);
  const registryAddress = await registry.getAddress();
  const [balance, allowance] = await Promise.all([token.balanceOf(me), token.allowance(me, registryAddress)]);
  if (balance < amount) {
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the wallet holds ${units.format(balance)}, less than ${units.format(amount)}`,
      {
        details: `send tokens to ${me} first (local chain, as the token owner: ${ctx.commandLine(`dev mint <amount> --to ${me}`, { account: 0 })})`,
      },
    );
  }
  let approveTx: string | null = null;
  if (allowance < amount) {
    const approval = await token.approve(registryAddress, amount);
    await confirmTransaction(approval);
    approveTx = approval.hash;
  }
  const tx = await registry.stake(me, amount);
  await confirmTransaction(tx);
  const info = await registry.stakeInfo(me);
  ctx.result(
    {
      provider: me,
      token: tokenJson(units),
      ...amountsJson({ staked: amount, free: info.free, locked: info.locked }, units),
      approveTx,
      txHash: tx.hash,
    },
    () =>
      `staked ${units.format(amount)}: free ${units.format(info.free)}, locked ${units.format(info.locked)}`,
  );
}

async function status(ctx: CliContext, who: string | undefined): Promise<void> {
  const chain = await ctx.chain();
  const me = who ?? (await (await ctx.signer()).getAddress());
  const units = await ctx.tokenUnits();
  const [info, stakeInfo, [proofBond], ledger, proof, currentPeriod, weight, provingPeriod, latest] =
    await Promise.all([
      chain.registry.providerInfo(me),
      chain.registry.stakeInfo(me),
      chain.market.proofBond(me),
      chain.market.balanceOf(me),
      chain.market.proofState(me),
      chain.market.currentPeriod(),
      chain.market.weight(me),
      chain.market.provingPeriod(),
      chain.provider.getBlock("latest"),
    ]);
  const now = BigInt(latest?.timestamp ?? Math.floor(Date.now() / 1000));
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
    token: tokenJson(units),
    ...amountsJson({ pricePerTiBMonth: info.pricePerTiBMonth }, units),
    stake: {
      ...amountsJson(
        { free: stakeInfo.free, locked: stakeInfo.locked, unbonding: stakeInfo.unbonding, proofBond },
        units,
      ),
      unbondingReleaseAt: stakeInfo.unbondingReleaseAt,
    },
    ...amountsJson({ marketBalance: ledger }, units),
    proof: {
      provingPeriodSeconds: provingPeriod,
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
    `  stake: free ${units.format(stakeInfo.free)}, locked ${units.format(stakeInfo.locked)}, unbonding ${units.format(stakeInfo.unbonding)}` +
      (stakeInfo.unbonding > 0n
        ? ` (withdrawable ${stakeInfo.unbondingReleaseAt <= now ? "now" : `from ${timeFromNow(stakeInfo.unbondingReleaseAt, now)}`})`
        : ""),
    `  proof bond (held by the market until the last data set closes): ${units.format(proofBond)}`,
    `  market balance (withdrawable): ${units.format(ledger)}`,
    `  proving: ${formatBytes(weight.current * 64n)} of draw-class capacity, next period ${proof.nextPeriod} (current ${currentPeriod}; periods of ${formatSpan(provingPeriod)}), ${proof.missedPeriods} missed`,
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

async function requireRegistered(ctx: CliContext, registry: ProviderRegistry, me: string): Promise<void> {
  if (!(await registry.isRegistered(me))) {
    throw new StrataError("INVALID_ARGUMENT", `${me} is not a registered provider`, {
      details: `run ${ctx.commandLine("provider register --endpoint <url> --price <tokens>")} first`,
    });
  }
}

async function unbond(ctx: CliContext, amountText: string | undefined, all: boolean): Promise<void> {
  if ((amountText === undefined) === !all) {
    throw new StrataError("INVALID_ARGUMENT", "pass an amount or --all (not both)");
  }
  const { signer, registry } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const me = await signer.getAddress();
  const before = await registry.stakeInfo(me);
  const amount =
    amountText === undefined ? before.free : units.parsePositive(amountText, "the amount to unbond");
  if (amount === 0n) throw new StrataError("AMOUNT_OUT_OF_RANGE", `${me} has no free stake to unbond`);
  if (amount > before.free) {
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the free stake is ${units.format(before.free)}, less than ${units.format(amount)}`,
      { details: `locked collateral (${units.format(before.locked)}) is freed as data sets and leases end` },
    );
  }
  const tx = await registry.requestUnbond(amount);
  await confirmTransaction(tx);
  const [after, delay] = await Promise.all([registry.stakeInfo(me), registry.unbondingDelay()]);
  ctx.result(
    {
      provider: me,
      token: tokenJson(units),
      ...amountsJson({ unbonded: amount, free: after.free, unbonding: after.unbonding }, units),
      unbondingDelaySeconds: delay,
      unbondingReleaseAt: after.unbondingReleaseAt,
      txHash: tx.hash,
    },
    () => [
      `unbonding ${units.format(amount)}: ${units.format(after.unbonding)} unbonding in all, free ${units.format(after.free)}`,
      `  withdrawable from ${isoTime(after.unbondingReleaseAt)} (delay ${formatSpan(delay)}): ${ctx.commandLine("provider withdraw")}`,
    ],
  );
}

async function cancelUnbond(ctx: CliContext, amountText: string | undefined): Promise<void> {
  const { signer, registry } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const me = await signer.getAddress();
  const before = await registry.stakeInfo(me);
  const amount =
    amountText === undefined ? before.unbonding : units.parsePositive(amountText, "the amount to move back");
  if (amount === 0n) throw new StrataError("AMOUNT_OUT_OF_RANGE", `${me} has no stake unbonding`);
  if (amount > before.unbonding) {
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the unbonding stake is ${units.format(before.unbonding)}, less than ${units.format(amount)}`,
    );
  }
  const tx = await registry.cancelUnbond(amount);
  await confirmTransaction(tx);
  const after = await registry.stakeInfo(me);
  ctx.result(
    {
      provider: me,
      token: tokenJson(units),
      ...amountsJson({ movedBack: amount, free: after.free, unbonding: after.unbonding }, units),
      txHash: tx.hash,
    },
    () =>
      `moved ${units.format(amount)} back to free stake: free ${units.format(after.free)}, unbonding ${units.format(after.unbonding)}`,
  );
}

async function withdrawUnbonded(ctx: CliContext): Promise<void> {
  const { chain, signer, registry } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const me = await signer.getAddress();
  const [info, latest] = await Promise.all([registry.stakeInfo(me), chain.provider.getBlock("latest")]);
  const now = BigInt(latest?.timestamp ?? Math.floor(Date.now() / 1000));
  if (info.unbonding === 0n) {
    throw new StrataError("AMOUNT_OUT_OF_RANGE", `${me} has no unbonded stake to withdraw`, {
      details: `unbond first: ${ctx.commandLine("provider unbond <amount>")}`,
    });
  }
  if (info.unbondingReleaseAt > now) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `${units.format(info.unbonding)} is still unbonding until ${timeFromNow(info.unbondingReleaseAt, now)}`,
      { details: "withdraw after that time" },
    );
  }
  const payee = await registry.payeeOf(me);
  const tx = await registry.withdrawUnbonded();
  await confirmTransaction(tx);
  ctx.result(
    {
      provider: me,
      payee,
      token: tokenJson(units),
      ...amountsJson({ withdrawn: info.unbonding }, units),
      txHash: tx.hash,
    },
    () => `withdrew ${units.format(info.unbonding)} of unbonded stake to the payee ${payee}`,
  );
}

async function deregister(ctx: CliContext): Promise<void> {
  const { signer, registry } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const me = await signer.getAddress();
  await requireRegistered(ctx, registry, me);
  const before = await registry.stakeInfo(me);
  if (before.locked > 0n) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `${me} still has ${units.format(before.locked)} of collateral locked in data sets or leases`,
      {
        details:
          "terminate or let its data sets and leases end first (strata provider status shows the stake)",
      },
    );
  }
  const tx = await registry.deregister();
  await confirmTransaction(tx);
  const after = await registry.stakeInfo(me);
  ctx.result(
    {
      provider: me,
      token: tokenJson(units),
      ...amountsJson({ unbonding: after.unbonding }, units),
      unbondingReleaseAt: after.unbondingReleaseAt,
      txHash: tx.hash,
    },
    () => [
      `deregistered ${me}: ${units.format(after.unbonding)} unbonding, withdrawable from ${isoTime(after.unbondingReleaseAt)}`,
      `  then: ${ctx.commandLine("provider withdraw")}`,
    ],
  );
}
