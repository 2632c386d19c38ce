/**
 * `strata lease ...`: rent compute. A tenant posts an order for a workload (`order`), looks at the bids
 * (`bids`), accepts one (`accept`: the workload description goes to the winning provider's agent first), then
 * follows and funds the lease (`status`, `topup`) and ends it (`close`). Anyone may report missed heartbeats
 * (`report`) or close an overdrawn or finished lease (`close --reason`).
 *
 * Prices are typed and shown in tokens per hour; on chain they are base units per second (a typed price is
 * rounded down to whole base units per second, so the cap is never above what was typed).
 * The workload description is kept under `.strata/workloads/<hash>.json` (in the current folder) between
 * `lease order` and `lease accept`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { getAddress, ZeroAddress } from "ethers";
import type { IComputeMarket } from "../../../typechain-types/index.js";
import { agentLeaseView, sendWorkload, type AgentLeaseView } from "../../sdk/compute/agentApi.js";
import {
  activeBids,
  computeMarketOf,
  ensureComputeFunding,
  leaseStatus,
  marketEntries,
  orderView,
  type LiveBid,
  type MarketEntry,
  type LeaseStatus,
} from "../../sdk/compute/market.js";
import {
  closeReasonIndex,
  CLOSE_REASONS,
  findPostedOrder,
  requestToChain,
  type CloseReason,
  type OrderRequest,
} from "../../sdk/compute/orders.js";
import { perHourToPerSecond, perSecondToPerHour } from "../../sdk/compute/pricing.js";
import {
  canonicalJson,
  readWorkloadFile,
  workloadHash,
  type WorkloadDescription,
} from "../../sdk/compute/workload.js";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext, TokenUnits } from "../context.js";
import { address, decimalAmount, nonNegativeInt, positiveInt } from "../parse.js";
import type { Runner } from "../program.js";

/** Where `lease order` keeps workload descriptions for `lease accept` (relative to the current folder). */
export const WORKLOADS_DIR = join(".strata", "workloads");
const WORKLOADS_DIR_FLAG = "--workloads-dir <dir>";
const WORKLOADS_DIR_HELP = "where `lease order` keeps workload descriptions for `lease accept`";

interface OrderOptions {
  workload: string;
  cpu?: number;
  memory?: number;
  storage: number;
  gpus: number;
  gpuModel: string;
  region: string;
  maxPrice: string;
  deposit: string;
  duration: number;
  expires: number;
  minCollateral: string;
  minNotice: number;
  workloadsDir: string;
}

interface AcceptOptions {
  cheapest?: boolean;
  workload?: string;
  upload: boolean;
  workloadsDir: string;
}

interface UploadOptions {
  workload?: string;
  workloadsDir: string;
}

interface StatusOptions {
  agent: boolean;
}

interface CloseOptions {
  reason?: CloseReason;
}

interface ListOptions {
  mine?: boolean;
  fromBlock: number;
}

function leaseId(value: string): bigint {
  if (!/^[0-9]{1,20}$/.test(value) || BigInt(value) === 0n)
    throw new InvalidArgumentError("expected an id (1, 2, ...)");
  return BigInt(value);
}

export function registerLeaseCommands(program: Command, run: Runner): void {
  const lease = program
    .command("lease")
    .description(
      "rent compute: post an order for a workload, accept a provider's bid, follow, fund and close the lease " +
        "(prices in tokens per hour)",
    );

  lease
    .command("order")
    .summary("post an order for a workload (pays the deposit)")
    .description(
      "post a compute order: resources, the workload's hash, the highest price per hour, a deposit and an expiry. " +
        "The deposit is taken from your compute market balance if it covers it, else pulled from your wallet " +
        "(one approve). Part of it (the close bounty) is set aside when the lease starts. --cpu and --memory " +
        "default to the workload's limits. The description is kept under .strata/workloads/ for `lease accept`",
    )
    .requiredOption("--workload <file>", "workload description (JSON; a node workload may give scriptFile)")
    .option("--cpu <millicores>", "CPU in thousandths of a core (default: the workload's limit)", positiveInt)
    .option("--memory <MiB>", "memory in MiB (default: the workload's limit)", positiveInt)
    .option("--storage <GiB>", "ephemeral storage in GiB", nonNegativeInt, 0)
    .option("--gpus <n>", "number of GPUs", nonNegativeInt, 0)
    .option("--gpu-model <model>", 'GPU model, e.g. "a100-80gb" (default: any)', "")
    .option("--region <region>", 'region label, e.g. "eu-west" (default: any)', "")
    .requiredOption("--max-price <tokens/hour>", "highest price accepted, in tokens per hour", decimalAmount)
    .requiredOption("--deposit <tokens>", "tokens escrowed now (lease escrow + close bounty)", decimalAmount)
    .option(
      "--duration <seconds>",
      "lease length from acceptance (0: open-ended, runs while funded)",
      nonNegativeInt,
      0,
    )
    .option("--expires <seconds>", "how long the order stays open for bids", positiveInt, 3600)
    .option("--min-collateral <tokens>", "least collateral a bid must lock", decimalAmount, "0")
    .option("--min-notice <seconds>", "shortest notice window a bid may offer", nonNegativeInt, 0)
    .option(WORKLOADS_DIR_FLAG, WORKLOADS_DIR_HELP, WORKLOADS_DIR)
    .action((opts: OrderOptions, command: Command) => run(command, (ctx) => order(ctx, opts)));

  lease
    .command("bids")
    .description("list the active bids on an order, cheapest first")
    .argument("<orderId>", "the order", leaseId)
    .action((orderId: bigint, _opts: unknown, command: Command) => run(command, (ctx) => bids(ctx, orderId)));

  lease
    .command("accept")
    .summary("accept a bid: the lease starts and the workload goes to the provider")
    .description(
      "accept a bid on your order. The workload description is sent to the provider's agent first " +
        "(PUT /v1/workloads/<hash>): if the agent refuses or cannot be reached nothing is accepted (choose " +
        "another bid, or --no-upload and `strata lease upload` later). Then acceptBid starts the lease",
    )
    .argument("<orderId>", "the order", leaseId)
    .argument("[provider]", "the bidder to accept (an address)", address)
    .option("--cheapest", "accept the cheapest bid")
    .option("--workload <file>", "the workload description (default: the one `lease order` kept)")
    .option("--no-upload", "accept without sending the workload first")
    .option(WORKLOADS_DIR_FLAG, WORKLOADS_DIR_HELP, WORKLOADS_DIR)
    .action((orderId: bigint, provider: string | undefined, opts: AcceptOptions, command: Command) =>
      run(command, (ctx) => accept(ctx, orderId, provider, opts)),
    );

  lease
    .command("upload")
    .description("send a lease's workload description to its provider's agent (again)")
    .argument("<leaseId>", "the lease (the id of the order it filled)", leaseId)
    .option("--workload <file>", "the workload description (default: the one `lease order` kept)")
    .option(WORKLOADS_DIR_FLAG, WORKLOADS_DIR_HELP, WORKLOADS_DIR)
    .action((id: bigint, opts: UploadOptions, command: Command) =>
      run(command, (ctx) => upload(ctx, id, opts)),
    );

  lease
    .command("status")
    .description(
      "a lease's state: heartbeats, escrow and how long it lasts, and what its provider's agent reports",
    )
    .argument("<leaseId>", "the lease", leaseId)
    .option("--no-agent", "do not ask the provider's agent about the workload")
    .action((id: bigint, opts: StatusOptions, command: Command) =>
      run(command, (ctx) => status(ctx, id, opts)),
    );

  lease
    .command("topup")
    .description("add tokens to a lease's escrow (anyone may pay for a tenant)")
    .argument("<leaseId>", "the lease", leaseId)
    .argument("<amount>", "tokens to add", decimalAmount)
    .action((id: bigint, amount: string, _opts: unknown, command: Command) =>
      run(command, (ctx) => topUp(ctx, id, amount)),
    );

  lease
    .command("close")
    .summary("close a lease")
    .description(
      "close a lease. The tenant closes for Tenant (unstreamed escrow comes back). Anyone may close an overdrawn " +
        "lease (InsufficientFunds: the closer earns the close bounty), one whose duration is over (Expired) or " +
        "whose provider's notice ran out (ProviderWithNotice). Without --reason the reason that applies is used",
    )
    .argument("<leaseId>", "the lease", leaseId)
    .addOption(
      new Option("--reason <reason>", "close reason").choices(
        CLOSE_REASONS.filter((r) => r !== "MissedHeartbeats" && r !== "ProviderWithoutNotice"),
      ),
    )
    .action((id: bigint, opts: CloseOptions, command: Command) =>
      run(command, (ctx) => close(ctx, id, opts)),
    );

  lease
    .command("cancel")
    .description("cancel your open order: the deposit returns to your compute market balance")
    .argument("<orderId>", "the order", leaseId)
    .action((orderId: bigint, _opts: unknown, command: Command) =>
      run(command, (ctx) => cancel(ctx, orderId)),
    );

  lease
    .command("report")
    .description("report a lease's missed heartbeat periods (anyone; earns the missed-heartbeat bounty)")
    .argument("<leaseId>", "the lease", leaseId)
    .action((id: bigint, _opts: unknown, command: Command) => run(command, (ctx) => report(ctx, id)));

  lease
    .command("list")
    .description(
      "open orders and live leases on the market; with --mine, every order and lease you are part of",
    )
    .option("--mine", "only orders and leases where you are the tenant or the provider (closed ones too)")
    .option("--from-block <n>", "scan events from this block", nonNegativeInt, 0)
    .action((opts: ListOptions, command: Command) => run(command, (ctx) => list(ctx, opts)));

  lease
    .command("withdraw")
    .description("move tokens from your compute market balance (refunds, earnings, bounties) to your wallet")
    .argument("[amount]", "tokens to withdraw (default: everything)", decimalAmount)
    .action((amount: string | undefined, _opts: unknown, command: Command) =>
      run(command, (ctx) => withdraw(ctx, amount)),
    );
}

// ------------------------------------------------------------------ helpers

async function market(ctx: CliContext): Promise<{ market: IComputeMarket; me: string }> {
  const { chain, signer } = await ctx.signed();
  return { market: computeMarketOf(chain.deployment, signer), me: await signer.getAddress() };
}

async function chainNow(ctx: CliContext): Promise<bigint> {
  const { provider } = await ctx.chain();
  const block = await provider.getBlock("latest");
  return BigInt(block?.timestamp ?? Math.floor(Date.now() / 1000));
}

function perHour(units: TokenUnits, perSecond: bigint): string {
  return `${units.format(perSecondToPerHour(perSecond))}/h`;
}

function workloadPath(dir: string, hash: string): string {
  return resolve(dir, `${hash.toLowerCase()}.json`);
}

/** The description for an order: `--workload` or the kept copy; WORKLOAD_MISMATCH when it is not the order's. */
async function workloadFor(
  expectedHash: string,
  opts: { workload?: string; workloadsDir: string },
): Promise<WorkloadDescription> {
  const file = opts.workload;
  const path = file ?? workloadPath(opts.workloadsDir, expectedHash);
  let workload: WorkloadDescription;
  try {
    workload = await readWorkloadFile(path);
  } catch (error) {
    if (file === undefined && error instanceof StrataError && error.code === "FILE_NOT_FOUND") {
      throw new StrataError("FILE_NOT_FOUND", `no kept workload description for ${expectedHash}`, {
        details: "pass --workload <file> (the description the order was posted with)",
        cause: error,
      });
    }
    throw error;
  }
  const hash = workloadHash(workload);
  if (hash !== expectedHash.toLowerCase()) {
    throw new StrataError(
      "WORKLOAD_MISMATCH",
      `${path} hashes to ${hash}, the order commits to ${expectedHash}`,
      {
        details: "pass the workload description the order was posted with",
      },
    );
  }
  return workload;
}

// ------------------------------------------------------------------ commands

async function order(ctx: CliContext, opts: OrderOptions): Promise<void> {
  const workload = await readWorkloadFile(opts.workload);
  const hash = workloadHash(workload);
  const cpu = opts.cpu ?? workload.limits.cpuMillicores;
  const memory = opts.memory ?? workload.limits.memoryMiB;
  if (cpu < workload.limits.cpuMillicores || memory < workload.limits.memoryMiB) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `the order (${cpu} millicores, ${memory} MiB) is smaller than the workload's limits (${workload.limits.cpuMillicores} millicores, ${workload.limits.memoryMiB} MiB)`,
      { details: "raise --cpu / --memory or lower the workload's limits" },
    );
  }
  if (opts.gpus === 0 && opts.gpuModel !== "") {
    throw new StrataError("INVALID_ARGUMENT", "--gpu-model needs --gpus <n>");
  }
  const { chain, signer, token } = await ctx.signed();
  const compute = computeMarketOf(chain.deployment, signer);
  const units = await ctx.tokenUnits();
  const maxPricePerSecond = perHourToPerSecond(units.parse(opts.maxPrice));
  if (maxPricePerSecond === 0n) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `--max-price ${opts.maxPrice} is less than one base unit per second`,
      {
        details: `the smallest price is ${units.format(3600n)} per hour`,
      },
    );
  }
  const deposit = units.parse(opts.deposit);
  const params = await compute.parameters();
  if (deposit <= params.closeBounty) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `the deposit must exceed the close bounty of ${units.format(params.closeBounty)} set aside at lease start`,
    );
  }
  const request: OrderRequest = {
    resources: {
      cpuMillicores: cpu,
      memoryMiB: memory,
      storageGiB: opts.storage,
      gpuCount: opts.gpus,
      gpuModel: opts.gpuModel,
      region: opts.region,
    },
    workloadHash: hash,
    maxPricePerSecond,
    deposit,
    duration: BigInt(opts.duration),
    expiresAt: (await chainNow(ctx)) + BigInt(opts.expires),
    minCollateral: units.parse(opts.minCollateral),
    minNoticeWindow: BigInt(opts.minNotice),
  };
  const chainRequest = requestToChain(request); // validates the labels before any transaction
  const funding = await ensureComputeFunding(deposit, { market: compute, token, signer });
  const tx = await compute.createOrder(chainRequest);
  const receipt = await tx.wait();
  let orderId: bigint | undefined;
  for (const log of receipt?.logs ?? []) {
    const parsed = compute.interface.parseLog(log);
    if (parsed?.name === "OrderCreated") orderId = parsed.args.getValue("orderId") as bigint;
  }
  if (orderId === undefined)
    throw new StrataError("CHAIN_REVERT", `order transaction ${tx.hash} emitted no OrderCreated`);
  const kept = workloadPath(opts.workloadsDir, hash);
  await mkdir(resolve(opts.workloadsDir), { recursive: true });
  await writeFile(kept, `${canonicalJson(workload)}\n`);
  const escrow = deposit - params.closeBounty;
  ctx.result(
    {
      orderId,
      workloadHash: hash,
      workloadFile: kept,
      request,
      closeBounty: params.closeBounty,
      escrow,
      fundedSecondsAtMax: escrow / maxPricePerSecond,
      funding,
      txHash: tx.hash,
    },
    () => [
      `order ${orderId} posted: ${cpu} millicores, ${memory} MiB${opts.gpus > 0 ? `, ${opts.gpus} GPU ${opts.gpuModel || "(any)"}` : ""}` +
        `${opts.region === "" ? "" : `, region ${opts.region}`}, up to ${perHour(units, maxPricePerSecond)} ` +
        `(${maxPricePerSecond} units/s)`,
      `  deposit ${units.format(deposit)} (escrow ${units.format(escrow)}: ${escrow / maxPricePerSecond} s at the maximum price; ` +
        `close bounty ${units.format(params.closeBounty)}), open for bids until ${new Date(Number(request.expiresAt) * 1000).toISOString()}`,
      `  workload ${hash} (kept in ${kept})`,
      `next: strata lease bids ${orderId}, then strata lease accept ${orderId} --cheapest`,
    ],
  );
}

function bidLine(bid: LiveBid, units: TokenUnits): string {
  return (
    `  ${bid.provider}  ${perHour(units, bid.pricePerSecond)} (${bid.pricePerSecond}/s)  collateral ${units.format(bid.collateral)}` +
    `  notice ${bid.noticeWindow}s  ${bid.endpoint}`
  );
}

async function bids(ctx: CliContext, orderId: bigint): Promise<void> {
  const { market: compute } = await market(ctx);
  const { registry } = await ctx.chain();
  const units = await ctx.tokenUnits();
  const view = await orderView(compute, orderId, await chainNow(ctx));
  const live = await activeBids(compute, registry, orderId, view.order.blockNumber);
  ctx.result(
    {
      orderId,
      status: view.status,
      expired: view.expired,
      maxPricePerSecond: view.order.request.maxPricePerSecond,
      bids: live,
    },
    () => [
      `order ${orderId} (${view.expired ? "expired" : view.status}), max ${perHour(units, view.order.request.maxPricePerSecond)}: ` +
        `${live.length} active bid(s), cheapest first`,
      ...live.map((b) => bidLine(b, units)),
    ],
  );
}

async function accept(
  ctx: CliContext,
  orderId: bigint,
  providerArg: string | undefined,
  opts: AcceptOptions,
): Promise<void> {
  if ((providerArg === undefined) === (opts.cheapest !== true)) {
    throw new StrataError("INVALID_ARGUMENT", "give either a provider address or --cheapest");
  }
  const { market: compute, me } = await market(ctx);
  const { registry } = await ctx.chain();
  const units = await ctx.tokenUnits();
  const view = await orderView(compute, orderId, await chainNow(ctx));
  if (view.order.tenant.toLowerCase() !== me.toLowerCase()) {
    throw new StrataError("INVALID_ARGUMENT", `order ${orderId} belongs to ${view.order.tenant}`, {
      details: "sign with the tenant's key (--key-env / --account)",
    });
  }
  if (view.status !== "open" || view.expired) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `order ${orderId} is ${view.expired ? "expired" : view.status}, not open`,
    );
  }
  const live = await activeBids(compute, registry, orderId, view.order.blockNumber);
  const chosen =
    providerArg === undefined ? live[0] : live.find((b) => b.provider === getAddress(providerArg));
  if (!chosen) {
    throw new StrataError(
      "BID_NOT_FOUND",
      providerArg === undefined
        ? `order ${orderId} has no active bid`
        : `${providerArg} has no active bid on order ${orderId}`,
      { details: `see strata lease bids ${orderId}` },
    );
  }
  const workload = opts.upload ? await workloadFor(view.order.request.workloadHash, opts) : null;
  if (workload) await sendWorkload(chosen.endpoint, workload, { fetch: ctx.io.fetch });
  const tx = await compute.acceptBid(orderId, chosen.provider);
  await tx.wait();
  const status = await leaseStatus(compute, orderId);
  ctx.result(
    {
      leaseId: orderId,
      provider: chosen.provider,
      pricePerSecond: chosen.pricePerSecond,
      workloadSent: workload !== null,
      lease: status,
      txHash: tx.hash,
    },
    () => [
      `lease ${orderId} started with ${chosen.provider} at ${perHour(units, chosen.pricePerSecond)}` +
        (workload ? `; workload sent to ${chosen.endpoint}` : "; workload not sent (strata lease upload)"),
      `  escrow ${units.format(status.live?.escrow ?? 0n)}, funded until ${new Date(Number(status.live?.fundedUntil ?? 0n) * 1000).toISOString()}`,
    ],
  );
}

async function upload(ctx: CliContext, id: bigint, opts: UploadOptions): Promise<void> {
  const { market: compute } = await market(ctx);
  const { registry } = await ctx.chain();
  const status = await leaseStatus(compute, id);
  const posted = await findPostedOrder(compute, id);
  const workload = await workloadFor(posted.request.workloadHash, opts);
  const { endpoint } = await registry.providerInfo(status.provider);
  const receipt = await sendWorkload(endpoint, workload, { fetch: ctx.io.fetch });
  ctx.result(
    { leaseId: id, provider: status.provider, endpoint, ...receipt },
    () =>
      `workload ${receipt.hash} ${receipt.state === "stored" ? "sent to" : "already held by"} ${status.provider} (${endpoint})`,
  );
}

async function status(ctx: CliContext, id: bigint, opts: StatusOptions): Promise<void> {
  const { market: compute } = await market(ctx);
  const { registry } = await ctx.chain();
  const units = await ctx.tokenUnits();
  const lease = await leaseStatus(compute, id);
  let agent: AgentLeaseView | null = null;
  let agentError: string | null = null;
  if (opts.agent) {
    try {
      const { endpoint } = await registry.providerInfo(lease.provider);
      agent = await agentLeaseView(endpoint, id, { fetch: ctx.io.fetch, timeoutMs: 3_000 });
    } catch (error) {
      agentError = error instanceof Error ? error.message : String(error);
    }
  }
  ctx.result({ lease, agent, agentError }, () => statusLines(lease, agent, agentError, units));
}

function statusLines(
  lease: LeaseStatus,
  agent: AgentLeaseView | null,
  agentError: string | null,
  units: TokenUnits,
): string[] {
  const head = `lease ${lease.id}: tenant ${lease.tenant}, provider ${lease.provider}, ${perHour(units, lease.pricePerSecond)}`;
  const lines = [head];
  if (lease.closed) {
    const c = lease.closed;
    lines.push(
      `  closed (${c.reason}) by ${c.closer}: paid to provider ${units.format(c.paidToProvider)}, refunded ${units.format(c.refundedToTenant)}` +
        `, bounty ${units.format(c.bountyToCloser)}, compensation ${units.format(c.compensationToTenant)}`,
    );
  } else if (lease.live) {
    const l = lease.live;
    const state = l.overdrawn
      ? "overdrawn"
      : l.ended
        ? "ended (closable)"
        : l.noticeGiven
          ? "notice given"
          : "live";
    lines.push(
      `  ${state}: heartbeat period ${l.currentPeriod} (${l.heartbeatPeriod}s periods, ${l.missedHeartbeats} missed, ` +
        `${l.reportablePeriods} reportable), escrow ${units.format(l.escrow)}, settleable ${units.format(l.settleable)}`,
      `  funded until ${new Date(Number(l.fundedUntil) * 1000).toISOString()}` +
        (l.endsAt === 0n ? ", open-ended" : `, ends ${new Date(Number(l.endsAt) * 1000).toISOString()}`),
    );
  }
  if (agent) {
    lines.push(
      `  agent: workload ${agent.workloadReceived ? agent.runState : "not received (strata lease upload)"}` +
        (agent.usage
          ? `, ${Math.round(agent.usage.rssBytes / 1048576)} MiB, ${agent.usage.cpuMillicores ?? "?"} millicores`
          : ""),
    );
  } else if (agentError !== null) {
    lines.push(`  agent: ${agentError}`);
  }
  return lines;
}

async function topUp(ctx: CliContext, id: bigint, amountText: string): Promise<void> {
  const { chain, signer, token } = await ctx.signed();
  const compute = computeMarketOf(chain.deployment, signer);
  const units = await ctx.tokenUnits();
  const amount = units.parse(amountText);
  if (amount === 0n) throw new StrataError("INVALID_ARGUMENT", "the top-up amount must be more than 0");
  const before = await leaseStatus(compute, id);
  if (!before.live) throw new StrataError("LEASE_NOT_FOUND", `lease ${id} has closed`);
  const funding = await ensureComputeFunding(amount, { market: compute, token, signer });
  const tx = await compute.topUp(id, amount);
  await tx.wait();
  const after = await leaseStatus(compute, id);
  ctx.result(
    {
      leaseId: id,
      amount,
      escrow: after.live?.escrow ?? 0n,
      fundedUntil: after.live?.fundedUntil ?? 0n,
      funding,
      txHash: tx.hash,
    },
    () =>
      `added ${units.format(amount)} to lease ${id}: escrow ${units.format(after.live?.escrow ?? 0n)}, funded until ` +
      new Date(Number(after.live?.fundedUntil ?? 0n) * 1000).toISOString(),
  );
}

async function close(ctx: CliContext, id: bigint, opts: CloseOptions): Promise<void> {
  const { market: compute, me } = await market(ctx);
  const units = await ctx.tokenUnits();
  const before = await leaseStatus(compute, id);
  if (!before.live)
    throw new StrataError(
      "LEASE_NOT_FOUND",
      `lease ${id} has already closed (${before.closed?.reason ?? "?"})`,
    );
  const isTenant = before.tenant.toLowerCase() === me.toLowerCase();
  const reason: CloseReason | undefined =
    opts.reason ??
    (isTenant
      ? "Tenant"
      : before.live.overdrawn
        ? "InsufficientFunds"
        : before.live.ended
          ? before.live.noticeGiven
            ? "ProviderWithNotice"
            : "Expired"
          : undefined);
  if (reason === undefined) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `lease ${id} is live and funded: only its tenant may close it now`,
      {
        details:
          "anyone may close a lease that is overdrawn, past its duration or past its provider's notice",
      },
    );
  }
  const tx = await compute.closeLease(id, closeReasonIndex(reason));
  await tx.wait();
  const after = await leaseStatus(compute, id);
  const c = after.closed;
  ctx.result(
    { leaseId: id, reason, closed: c, txHash: tx.hash },
    () =>
      `lease ${id} closed (${reason}): paid to provider ${units.format(c?.paidToProvider ?? 0n)}, refunded to tenant ` +
      `${units.format(c?.refundedToTenant ?? 0n)}, bounty ${units.format(c?.bountyToCloser ?? 0n)}` +
      (isTenant ? " (refunds are in your compute market balance: strata lease withdraw)" : ""),
  );
}

async function cancel(ctx: CliContext, orderId: bigint): Promise<void> {
  const { market: compute } = await market(ctx);
  const units = await ctx.tokenUnits();
  const tx = await compute.cancelOrder(orderId);
  const receipt = await tx.wait();
  let refund = 0n;
  for (const log of receipt?.logs ?? []) {
    const parsed = compute.interface.parseLog(log);
    if (parsed?.name === "OrderCancelled") refund = parsed.args.getValue("refund") as bigint;
  }
  ctx.result(
    { orderId, refund, txHash: tx.hash },
    () =>
      `order ${orderId} cancelled: ${units.format(refund)} back to your compute market balance (strata lease withdraw)`,
  );
}

async function report(ctx: CliContext, id: bigint): Promise<void> {
  const { market: compute } = await market(ctx);
  const units = await ctx.tokenUnits();
  const before = await leaseStatus(compute, id);
  if (!before.live) throw new StrataError("LEASE_NOT_FOUND", `lease ${id} has closed`);
  if (before.live.reportablePeriods === 0n) {
    throw new StrataError("INVALID_ARGUMENT", `lease ${id} has no missed heartbeat period to report`);
  }
  const tx = await compute.reportMissedHeartbeats(id);
  const receipt = await tx.wait();
  let reported = { count: 0n, refunded: 0n, bounty: 0n };
  for (const log of receipt?.logs ?? []) {
    const parsed = compute.interface.parseLog(log);
    if (parsed?.name === "MissedHeartbeatsReported") {
      reported = {
        count: parsed.args.getValue("count") as bigint,
        refunded: parsed.args.getValue("refunded") as bigint,
        bounty: parsed.args.getValue("bounty") as bigint,
      };
    }
  }
  const after = await leaseStatus(compute, id);
  ctx.result(
    { leaseId: id, ...reported, closed: after.closed, txHash: tx.hash },
    () =>
      `reported ${reported.count} missed period(s) of lease ${id}: ${units.format(reported.refunded)} no longer payable to the provider, ` +
      `bounty ${units.format(reported.bounty)}` +
      (after.closed ? `; the lease closed (${after.closed.reason})` : ""),
  );
}

async function list(ctx: CliContext, opts: ListOptions): Promise<void> {
  const { market: compute, me } = await market(ctx);
  const units = await ctx.tokenUnits();
  const entries = await marketEntries(compute, { fromBlock: opts.fromBlock, now: await chainNow(ctx) });
  const mine = (x: MarketEntry) =>
    x.tenant.toLowerCase() === me.toLowerCase() ||
    (x.provider ?? ZeroAddress).toLowerCase() === me.toLowerCase();
  const shown = entries.filter((x) =>
    opts.mine === true ? mine(x) : x.status === "open" || x.status === "leased",
  );
  ctx.result({ account: me, mine: opts.mine === true, entries: shown }, () =>
    shown.length === 0
      ? opts.mine === true
        ? "no orders or leases of yours"
        : "no open orders or live leases"
      : shown.map(
          (x) =>
            `  #${x.orderId} ${x.status}${x.closeReason === null ? "" : ` (${x.closeReason})`}: ${x.request.resources.cpuMillicores} millicores, ` +
            `${x.request.resources.memoryMiB} MiB, tenant ${x.tenant}` +
            (x.provider === null
              ? `, max ${perHour(units, x.maxPricePerSecond)}`
              : `, provider ${x.provider} at ${perHour(units, x.pricePerSecond ?? 0n)}`),
        ),
  );
}

async function withdraw(ctx: CliContext, amountText: string | undefined): Promise<void> {
  const { market: compute, me } = await market(ctx);
  const units = await ctx.tokenUnits();
  const available = await compute.balanceOf(me);
  const amount = amountText === undefined ? available : units.parse(amountText);
  if (amount === 0n)
    throw new StrataError("INVALID_ARGUMENT", "nothing to withdraw: the compute market balance is 0");
  if (amount > available) {
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the compute market balance is ${units.format(available)}, less than ${units.format(amount)}`,
    );
  }
  const tx = await compute.withdraw(amount);
  await tx.wait();
  ctx.result(
    { account: me, withdrawn: amount, remaining: available - amount, txHash: tx.hash },
    () =>
      `withdrew ${units.format(amount)} from the compute market (remaining ${units.format(available - amount)})`,
  );
}
