import { join } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import type { IComputeMarket } from "../../../../typechain-types/index.js";
import type { Signer } from "ethers";
import { computeMarketOf, leaseStatus } from "../../../sdk/compute/market.js";
import { findPostedOrder } from "../../../sdk/compute/orders.js";
import type { LeaseTarget } from "../../../sdk/compute/tenantAuth.js";
import { StrataError } from "../../../sdk/errors.js";
import type { CliContext } from "../../context.js";

/** Where `lease order` keeps workload descriptions for `lease accept` (relative to the current folder). */
export const WORKLOADS_DIR = join(".strata", "workloads");

/** `--workloads-dir`, shared by the subcommands that keep or read workload descriptions. */
export function workloadsDirOption(command: Command): Command {
  return command.option(
    "--workloads-dir <dir>",
    "where `lease order` keeps workload descriptions for `lease accept`",
    WORKLOADS_DIR,
  );
}

/** An order or lease id argument (a lease has the id of the order it filled). */
export function leaseId(value: string): bigint {
  if (!/^[0-9]{1,20}$/.test(value) || BigInt(value) === 0n)
    throw new InvalidArgumentError("expected an id (1, 2, ...)");
  return BigInt(value);
}

/** The compute market bound to the signer, and the signer's address. */
export async function signedMarket(ctx: CliContext): Promise<{ market: IComputeMarket; me: string }> {
  const { chain, signer } = await ctx.signed();
  return { market: computeMarketOf(chain.deployment, signer), me: await signer.getAddress() };
}

/** The compute market for reading only: no signing key needed (bids, status). */
export async function readMarket(ctx: CliContext): Promise<IComputeMarket> {
  const chain = await ctx.chain();
  return computeMarketOf(chain.deployment, chain.provider);
}

/** The latest block's timestamp: order expiry is judged by chain time, not the local clock. */
export async function chainNow(ctx: CliContext): Promise<bigint> {
  const { provider } = await ctx.chain();
  const block = await provider.getBlock("latest");
  return BigInt(block?.timestamp ?? Math.floor(Date.now() / 1000));
}

/** What a tenant needs to talk to its lease's agent: its signer, the lease target and the provider's endpoint. */
export async function tenantSession(
  ctx: CliContext,
  id: bigint,
): Promise<{
  signer: Signer;
  target: LeaseTarget;
  endpoint: string;
  provider: string;
  workloadHash: string;
}> {
  const { chain, signer } = await ctx.signed();
  const market = computeMarketOf(chain.deployment, signer);
  const lease = await leaseStatus(market, id);
  const me = await signer.getAddress();
  if (lease.tenant.toLowerCase() !== me.toLowerCase()) {
    throw new StrataError("INVALID_ARGUMENT", `lease ${id} belongs to ${lease.tenant}, not to ${me}`, {
      details: "only the lease's tenant can do this: use its key",
    });
  }
  const { endpoint } = await chain.registry.providerInfo(lease.provider);
  return {
    signer,
    target: { chainId: chain.chainId, market: await market.getAddress(), leaseId: id },
    endpoint,
    provider: lease.provider,
    workloadHash: (await findPostedOrder(market, id)).request.workloadHash,
  };
}
