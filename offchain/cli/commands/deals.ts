import type { Command } from "commander";
import { ProviderRejectedError } from "../../sdk/client/agentClient.js";
import { toJsonValue } from "../../sdk/client/agentJson.js";
import type { DealExtension } from "../../sdk/deals/eip712.js";
import {
  dealStatus,
  findDeals,
  signDealExtension,
  terminateDeal,
  type DealStatus,
} from "../../sdk/client/deals.js";
import { ensureEscrowFunding } from "../../sdk/client/funding.js";
import { NonceSequence } from "../../sdk/client/nonces.js";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import { address, nonNegativeInt, positiveInt } from "../parse.js";
import type { Runner } from "../runner.js";
import { resolveTargets } from "../targets.js";
import { dealStatusJson, dealStatusLine } from "../format/deals.js";

interface ListOptions {
  client?: string | true;
  provider?: string | true;
  fromBlock?: number;
}

interface RenewResult {
  dealId: bigint;
  provider: string;
  newEndPeriod: bigint;
  cost: bigint;
  extension: DealExtension;
  signature: string;
  sent: boolean;
  state: string | null;
  txHash: string | null;
  error: string | null;
}

interface TerminateResult {
  dealId: bigint;
  provider: string;
  action: "terminated" | "none";
  reason: string | null;
  txHash: string | null;
  refundedToClient: bigint | null;
}

interface RenewOptions {
  periods: number;
  deadline: number;
  print?: boolean;
}

export function registerDealCommands(program: Command, run: Runner): void {
  program
    .command("deals")
    .description("deals on the market")
    .command("list")
    .summary("list deals of a client or provider")
    .description(
      "list deals of a client (default: the signing account) or of a provider, with their live state",
    )
    .option("--client [address]", "deals paid by this client (default: the signing account)", address)
    .option(
      "--provider [address]",
      "deals stored by this provider (no address: the signing account)",
      address,
    )
    .option("--from-block <n>", "scan events from this block (default 0)", nonNegativeInt)
    .action((opts: ListOptions, command: Command) => run(command, (ctx) => list(ctx, opts)));

  const deal = program.command("deal").description("act on one deal, or on every deal of a stored file");
  deal
    .command("renew")
    .summary("extend deals (client-signed extension, submitted by the provider)")
    .description(
      "extend deals by --periods proving periods. The client signs a DealExtension; only the provider can submit " +
        "it (extendDeal), so it is sent to the provider's agent (POST /v1/extensions), or printed with --print to hand over. " +
        "The client pays price x added time when the provider submits it",
    )
    .argument("<target>", "a deal id, or a manifest (all of the file's deals)")
    .requiredOption("--periods <n>", "proving periods to add", positiveInt)
    .option("--deadline <seconds>", "how long the provider has to submit the extension", positiveInt, 86_400)
    .option("--print", "only print the signed extensions; do not contact the providers")
    .action((target: string, opts: RenewOptions, command: Command) =>
      run(command, (ctx) => renew(ctx, target, opts)),
    );
  deal
    .command("terminate")
    .summary("end deals early; unstreamed escrow comes back")
    .description(
      "end deals now as their client: the unstreamed escrow returns to your market balance (withdrawable). " +
        "With a manifest, every live deal of the file ends: the file will no longer be stored",
    )
    .argument("<target>", "a deal id, or a manifest (all of the file's deals)")
    .action((target: string, _opts: unknown, command: Command) =>
      run(command, (ctx) => terminate(ctx, target)),
    );
}

async function list(ctx: CliContext, opts: ListOptions): Promise<void> {
  const chain = await ctx.chain();
  const self = async () => (await ctx.signer()).getAddress();
  let provider = opts.provider === true ? await self() : opts.provider;
  let client = opts.client === true ? await self() : opts.client;
  if (client === undefined && provider === undefined) client = await self();
  provider ??= undefined;
  const records = await findDeals(chain.market, {
    ...(client === undefined ? {} : { client }),
    ...(provider === undefined ? {} : { provider }),
    ...(opts.fromBlock === undefined ? {} : { fromBlock: opts.fromBlock }),
  });
  const statuses = await Promise.all(records.map((record) => dealStatus(chain.market, record)));
  const units = await ctx.tokenUnits();
  ctx.result(
    { client: client ?? null, provider: provider ?? null, deals: statuses.map(dealStatusJson) },
    () =>
      statuses.length === 0
        ? "no deals"
        : [`${statuses.length} deal(s)`, ...statuses.map((s) => dealStatusLine(s, units))],
  );
}

async function renew(ctx: CliContext, target: string, opts: RenewOptions): Promise<void> {
  const { chain, signer, token } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const { deals } = await resolveTargets(chain, target);
  const live = (await Promise.all(deals.map((d) => dealStatus(chain.market, d.record)))).filter(
    (s) => s.phase === "pending" || s.phase === "active",
  );
  if (live.length === 0) {
    throw new StrataError("DEAL_NOT_FOUND", `no live deal to renew in ${target}`, {
      details: "an ended deal cannot be extended: store the file again",
    });
  }
  const me = (await signer.getAddress()).toLowerCase();
  const foreign = live.find((s) => s.record.terms.client.toLowerCase() !== me);
  if (foreign) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `deal ${foreign.record.terms.id} belongs to client ${foreign.record.terms.client}`,
      {
        details: "sign with the client's key (--key-env / --account)",
      },
    );
  }
  const [provingPeriod, latest] = await Promise.all([
    chain.market.provingPeriod(),
    chain.provider.getBlock("latest"),
  ]);
  const deadline = BigInt(latest?.timestamp ?? Math.floor(Date.now() / 1000)) + BigInt(opts.deadline);
  const nonces = new NonceSequence();
  const signed: { status: DealStatus; ext: Awaited<ReturnType<typeof signDealExtension>> }[] = [];
  for (const status of live) {
    signed.push({
      status,
      ext: await signDealExtension(signer, status.record.terms, {
        periods: BigInt(opts.periods),
        chainId: chain.chainId,
        market: chain.deployment.market,
        provingPeriod,
        deadline,
        nonce: nonces.next(),
      }),
    });
  }
  const totalCost = signed.reduce((sum, s) => sum + s.ext.cost, 0n);
  const funding =
    opts.print === true
      ? null
      : await ensureEscrowFunding(totalCost, { market: chain.market, token, signer });
  const results: RenewResult[] = [];
  for (const { status, ext } of signed) {
    const terms = status.record.terms;
    let delivery: { sent: boolean; state: string | null; txHash: string | null; error: string | null } = {
      sent: false,
      state: null,
      txHash: null,
      error: null,
    };
    if (opts.print !== true) {
      const info = await chain.registry.providerInfo(terms.provider);
      try {
        const receipt = await ctx.agent(info.endpoint).submitExtension(ext.request);
        delivery = { sent: true, state: receipt.state, txHash: receipt.txHash, error: null };
      } catch (error) {
        // 404 without UNKNOWN_DEAL: an agent without the route (UNKNOWN_DEAL: it does not hold this deal).
        const notSupported =
          error instanceof ProviderRejectedError &&
          error.status === 404 &&
          error.agentCode !== "UNKNOWN_DEAL";
        delivery.error = notSupported
          ? "the provider's agent does not accept extensions over HTTP: hand it the signed extension"
          : error instanceof Error
            ? error.message
            : String(error);
      }
    }
    results.push({
      dealId: terms.id,
      provider: terms.provider,
      newEndPeriod: ext.request.extension.newEndPeriod,
      cost: ext.cost,
      extension: ext.request.extension,
      signature: ext.request.signature,
      ...delivery,
    });
  }
  ctx.result({ periods: opts.periods, totalCost, funding, extensions: results }, () => [
    `signed ${results.length} extension(s) of ${opts.periods} period(s), total cost ${units.format(totalCost)} (paid when the provider submits)`,
    ...results.map((r) =>
      r.sent
        ? `  #${r.dealId}: sent to ${r.provider} (${r.state ?? "accepted"}${r.txHash === null ? "" : `, tx ${r.txHash}`}), new end period ${r.newEndPeriod}`
        : `  #${r.dealId}: ${r.error ?? "not sent"}; signed extension for ${r.provider}:\n    ${JSON.stringify(toJsonValue({ dealId: r.dealId, extension: r.extension, signature: r.signature }))}`,
    ),
  ]);
  // Extensions that could not be delivered were printed for a manual hand-over; the run still failed.
  if (
    results.some((r) => !r.sent && r.error !== null && !r.error.startsWith("the provider's agent does not"))
  ) {
    ctx.exitCode = 2;
  }
}

async function terminate(ctx: CliContext, target: string): Promise<void> {
  const { chain, signer, market } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const { deals } = await resolveTargets(chain, target);
  const me = (await signer.getAddress()).toLowerCase();
  const results: TerminateResult[] = [];
  for (const { record } of deals) {
    const status = await dealStatus(chain.market, record);
    const base = { dealId: record.terms.id, provider: record.terms.provider };
    if (status.phase === "ended") {
      results.push({
        ...base,
        action: "none",
        reason: "already ended",
        txHash: null,
        refundedToClient: null,
      });
      continue;
    }
    if (status.phase === "awaiting-finalization") {
      results.push({
        ...base,
        action: "none",
        reason: "its periods are over: anyone may finalize it",
        txHash: null,
        refundedToClient: null,
      });
      continue;
    }
    if (record.terms.client.toLowerCase() !== me) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `deal ${record.terms.id} belongs to client ${record.terms.client}`,
        {
          details: "sign with the client's key (--key-env / --account)",
        },
      );
    }
    const ended = await terminateDeal(market, record.terms);
    results.push({
      ...base,
      action: "terminated",
      reason: null,
      txHash: ended.txHash,
      refundedToClient: ended.refundedToClient,
    });
  }
  ctx.result({ deals: results }, () =>
    results.map((r) =>
      r.action === "terminated"
        ? `#${r.dealId}: terminated, ${units.format(r.refundedToClient ?? 0n)} back to your market balance (tx ${r.txHash ?? ""})`
        : `#${r.dealId}: not terminated (${r.reason ?? ""})`,
    ),
  );
}
