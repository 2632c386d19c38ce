import type { Command } from "commander";
import { computeMarketOf, ensureComputeFunding } from "../../../sdk/compute/market.js";
import { keepWorkload } from "../../../sdk/compute/keptWorkloads.js";
import { requestToChain, type OrderRequest } from "../../../sdk/compute/orders.js";
import { postedOrderId } from "../../../sdk/compute/receipts.js";
import {
  checkOrderDeposit,
  checkOrderResources,
  pricePerSecondFromHourly,
} from "../../../sdk/compute/tenantRules.js";
import { readWorkloadFile, totalResources, workloadHash } from "../../../sdk/compute/workload.js";
import { StrataError } from "../../../sdk/errors.js";
import type { CliContext } from "../../context.js";
import { fundingJson, perHour, requestJson } from "../../format/lease.js";
import { amountsJson, formatSpan, isoTime, tokenJson } from "../../format/units.js";
import { decimalAmount, nonNegativeInt, positiveInt } from "../../parse.js";
import type { Runner } from "../../runner.js";
import { chainNow, workloadsDirOption } from "./shared.js";
import { confirmTransaction } from "../../../sdk/chain/confirm.js";

interface OrderOptions {
  workload: string;
  cpu?: number;
  memory?: number;
  storage?: number;
  gpus: number;
  gpuModel: string;
  region: string;
  maxPrice?: string;
  deposit?: string;
  duration: number;
  expires: number;
  minCollateral: string;
  minNotice: number;
  workloadsDir: string;
}

export function registerLeaseOrder(lease: Command, run: Runner): void {
  workloadsDirOption(
    lease
      .command("order")
      .summary("post an order for a workload (pays the deposit)")
      .description(
        "post a compute order: resources, the workload's hash, the highest price per hour, a deposit and an expiry. " +
          "The deposit is taken from your compute market balance if it covers it, else pulled from your wallet " +
          "(one approve). Part of it (the close bounty) is set aside when the lease starts. --cpu and --memory " +
          "default to the workload's limits. The description is kept under .strata/workloads/ for `lease accept`",
      )
      .requiredOption(
        "--workload <file>",
        "workload manifest (JSON, version 2; a node service may give run.scriptFile)",
      )
      .option(
        "--cpu <millicores>",
        "CPU in thousandths of a core (default: the workload's limit)",
        positiveInt,
      )
      .option("--memory <MiB>", "memory in MiB (default: the workload's limit)", positiveInt)
      .option(
        "--storage <GiB>",
        "storage in GiB (default: the manifest's volumes, rounded up)",
        nonNegativeInt,
      )
      .option("--gpus <n>", "number of GPUs", nonNegativeInt, 0)
      .option("--gpu-model <model>", 'GPU model, e.g. "a100-80gb" (default: any)', "")
      .option("--region <region>", 'region label, e.g. "eu-west" (default: any)', "")
      .option(
        "--max-price <tokens/hour>",
        "highest price accepted, in tokens per hour (default: the manifest's pricing.maxPricePerHour)",
        decimalAmount,
      )
      .option(
        "--deposit <tokens>",
        "tokens escrowed now: lease escrow + close bounty (default: the manifest's pricing.deposit)",
        decimalAmount,
      )
      .option(
        "--duration <seconds>",
        "lease length from acceptance (0: open-ended, runs while funded)",
        nonNegativeInt,
        0,
      )
      .option("--expires <seconds>", "how long the order stays open for bids", positiveInt, 3600)
      .option("--min-collateral <tokens>", "least collateral a bid must lock", decimalAmount, "0")
      .option("--min-notice <seconds>", "shortest notice window a bid may offer", nonNegativeInt, 0),
  ).action((opts: OrderOptions, command: Command) => run(command, (ctx) => order(ctx, opts)));
}

async function order(ctx: CliContext, opts: OrderOptions): Promise<void> {
  const workload = await readWorkloadFile(opts.workload);
  const hash = workloadHash(workload);
  const needed = totalResources(workload);
  const resources = {
    cpuMillicores: opts.cpu ?? needed.cpuMillicores,
    memoryMiB: opts.memory ?? needed.memoryMiB,
    storageGiB: opts.storage ?? Math.ceil(needed.diskMiB / 1024),
    gpuCount: opts.gpus,
    gpuModel: opts.gpuModel,
    region: opts.region,
  };
  checkOrderResources(resources, needed);
  const { chain, signer, token } = await ctx.signed();
  const compute = computeMarketOf(chain.deployment, signer);
  const units = await ctx.tokenUnits();
  const maxPrice = opts.maxPrice ?? workload.pricing?.maxPricePerHour;
  const depositText = opts.deposit ?? workload.pricing?.deposit;
  if (maxPrice === undefined || depositText === undefined) {
    throw new StrataError("INVALID_ARGUMENT", "give --max-price and --deposit, or pricing in the manifest");
  }
  const maxPricePerSecond = pricePerSecondFromHourly(units.parse(maxPrice), {
    label: `--max-price ${maxPrice}`,
    format: units.format,
  });
  const deposit = units.parse(depositText);
  const params = await compute.parameters();
  checkOrderDeposit(deposit, params.closeBounty, units.format);
  const request: OrderRequest = {
    resources,
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
  const orderId = postedOrderId(compute, await confirmTransaction(tx), tx.hash);
  const kept = await keepWorkload(opts.workloadsDir, workload);
  const escrow = deposit - params.closeBounty;
  const { cpuMillicores: cpu, memoryMiB: memory } = resources;
  ctx.result(
    {
      orderId,
      workloadHash: hash,
      workloadFile: kept,
      request: requestJson(request, units),
      ...amountsJson({ closeBounty: params.closeBounty, escrow }, units),
      fundedSecondsAtMax: escrow / maxPricePerSecond,
      funding: fundingJson(funding, units),
      token: tokenJson(units),
      txHash: tx.hash,
    },
    () => [
      `order ${orderId} posted: ${cpu} millicores, ${memory} MiB${opts.gpus > 0 ? `, ${opts.gpus} GPU ${opts.gpuModel || "(any)"}` : ""}` +
        `${opts.region === "" ? "" : `, region ${opts.region}`}, up to ${perHour(units, maxPricePerSecond)}`,
      `  deposit ${units.format(deposit)} (escrow ${units.format(escrow)}: ${formatSpan(escrow / maxPricePerSecond)} at the maximum price; ` +
        `close bounty ${units.format(params.closeBounty)}), open for bids until ${isoTime(request.expiresAt)}`,
      `  workload ${hash} (kept in ${kept})`,
      `next: strata lease bids ${orderId}, then strata lease accept ${orderId} --cheapest`,
    ],
  );
}
