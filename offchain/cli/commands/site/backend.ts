/**
 * A site's backend: a compute lease running the workload, reached by the site's pages through its provider's
 * ingress (`<endpoint>/v1/leases/<id>/<service>/`). The deploy posts the order, waits for bids, accepts the
 * cheapest (the workload description goes to that provider first), then waits until the ingress answers.
 */
import { sendWorkload } from "../../../sdk/compute/agentApi.js";
import { activeBids, computeMarketOf, ensureComputeFunding, orderView } from "../../../sdk/compute/market.js";
import { requestToChain, type OrderRequest } from "../../../sdk/compute/orders.js";
import { postedOrderId } from "../../../sdk/compute/receipts.js";
import {
  checkOrderDeposit,
  checkOrderResources,
  chooseBid,
  pricePerSecondFromHourly,
} from "../../../sdk/compute/tenantRules.js";
import {
  readWorkloadFile,
  totalResources,
  workloadHash,
  type WorkloadDescription,
} from "../../../sdk/compute/workload.js";
import { StrataError } from "../../../sdk/errors.js";
import type { CliContext } from "../../context.js";
import { confirmTransaction } from "../../../sdk/chain/confirm.js";

export interface BackendOptions {
  maxPrice?: string;
  deposit?: string;
  /** Seconds to wait for a bid, then for the workload to answer. */
  timeout: number;
}

export interface StartedBackend {
  leaseId: bigint;
  provider: string;
  endpoint: string;
  service: string;
  url: string;
}

/** The first service of the workload that exposes a port: the one the pages call. */
export function exposedService(workload: WorkloadDescription): string {
  for (const [name, service] of Object.entries(workload.services)) {
    if ((service.expose ?? []).length > 0) return name;
  }
  throw new StrataError(
    "WORKLOAD_INVALID",
    "the backend workload exposes no port: a site's pages could not reach it",
    {
      details: 'give a service "expose": [<port>]',
    },
  );
}

/** The latest block's timestamp: an order's expiry is judged by chain time. */
async function chainNow(ctx: CliContext): Promise<bigint> {
  const { provider } = await ctx.chain();
  const block = await provider.getBlock("latest");
  return BigInt(block?.timestamp ?? Math.floor(Date.now() / 1000));
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new StrataError(
        "PUBLISH_TIMEOUT",
        `gave up waiting for ${what} after ${Math.round(timeoutMs / 1000)} s`,
      );
    }
    await sleep(1000);
  }
}

/** Order, accept the cheapest bid, and wait for the workload to answer through the ingress. */
export async function startBackend(
  ctx: CliContext,
  file: string,
  opts: BackendOptions,
): Promise<StartedBackend> {
  const workload = await readWorkloadFile(file);
  const service = exposedService(workload);
  const needed = totalResources(workload);
  const resources = {
    cpuMillicores: needed.cpuMillicores,
    memoryMiB: needed.memoryMiB,
    storageGiB: Math.ceil(needed.diskMiB / 1024),
    gpuCount: 0,
    gpuModel: "",
    region: "",
  };
  checkOrderResources(resources, needed);
  const { chain, signer, token } = await ctx.signed();
  const compute = computeMarketOf(chain.deployment, signer);
  const units = await ctx.tokenUnits();
  const maxPrice = opts.maxPrice ?? workload.pricing?.maxPricePerHour;
  const depositText = opts.deposit ?? workload.pricing?.deposit;
  if (maxPrice === undefined || depositText === undefined) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      "give --backend-max-price and --backend-deposit, or pricing in the workload",
    );
  }
  const maxPricePerSecond = pricePerSecondFromHourly(units.parse(maxPrice), {
    label: `--backend-max-price ${maxPrice}`,
    format: units.format,
  });
  const deposit = units.parse(depositText);
  const params = await compute.parameters();
  checkOrderDeposit(deposit, params.closeBounty, units.format);
  const request: OrderRequest = {
    resources,
    workloadHash: workloadHash(workload),
    maxPricePerSecond,
    deposit,
    duration: 0n,
    expiresAt: (await chainNow(ctx)) + 3600n,
    minCollateral: 0n,
    minNoticeWindow: 0n,
  };
  const chainRequest = requestToChain(request);
  await ensureComputeFunding(deposit, { market: compute, token, signer });
  const tx = await compute.createOrder(chainRequest);
  const orderId = postedOrderId(compute, await confirmTransaction(tx), tx.hash);
  ctx.note(`backend: order ${orderId} posted (up to ${maxPrice} tokens per hour); waiting for bids…`);
  const view = await orderView(compute, orderId, await chainNow(ctx));
  const timeoutMs = opts.timeout * 1000;
  await until(`a bid on order ${orderId}`, timeoutMs, async () => {
    const bids = await activeBids(compute, chain.registry, orderId, view.order.blockNumber);
    return bids.length > 0 ? bids : undefined;
  });
  // Give the other agents a moment to bid too, then take the cheapest.
  await sleep(2000);
  const bids = await activeBids(compute, chain.registry, orderId, view.order.blockNumber);
  const chosen = chooseBid(bids, orderId, undefined);
  await sendWorkload(chosen.endpoint, workload, { fetch: ctx.io.fetch });
  await confirmTransaction(await compute.acceptBid(orderId, chosen.provider));
  const url = `${chosen.endpoint.replace(/\/+$/, "")}/v1/leases/${orderId}/${service}/`;
  ctx.note(`backend: lease ${orderId} with ${chosen.provider}; waiting for ${url} to answer…`);
  await until(`the backend at ${url}`, timeoutMs, async () => {
    const answer = await ctx.io.fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    if (answer === undefined) return undefined;
    await answer.body?.cancel();
    return answer.status < 500 ? true : undefined;
  });
  return { leaseId: orderId, provider: chosen.provider, endpoint: chosen.endpoint, service, url };
}
