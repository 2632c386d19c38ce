import type { Provider, Signer } from "ethers";
import type { StorageMarket } from "../../../typechain-types/index.js";
import { marketDomain, signProposal } from "../deals/eip712.js";
import type { DealProposal, DealTerms } from "../deals/terms.js";
import { StrataError } from "../errors.js";
import type { AgentClient, ProgressCallback } from "./agentClient.js";
import type { Sleep } from "./concurrency.js";
import { termsFromPublished } from "./deals.js";
import type { ProviderOffer } from "./selectProviders.js";

/** One try to place a piece with one provider: the signed proposal and what became of it. */
export interface PlacementAttempt {
  piece: number;
  provider: string;
  endpoint: string;
  proposal: DealProposal;
  /** The agent received the proposal (it could publish it): its nonce must be cancelled if abandoned. */
  delivered: boolean;
  deal: DealTerms | null;
  error: string | null;
}

export interface PlaceContext {
  signer: Signer;
  client: string;
  chainId: bigint;
  market: Pick<StorageMarket, "filters" | "queryFilter" | "getAddress">;
  provider: Pick<Provider, "getBlock">;
  agentFor: (endpoint: string) => Pick<AgentClient, "proposeDeal" | "upload" | "uploadStatus">;
  sleep: Sleep;
  /** Wall clock in ms, for the publication timeout. */
  now: () => number;
  periods: bigint;
  provingPeriod: bigint;
  /** Seconds from now (chain time) until the proposal's start deadline. */
  startDeadlineSeconds: number;
  publishTimeoutMs: number;
  pollMs: number;
  /** First block to search for DealPublished events. */
  fromBlock: number;
}

/**
 * Sign a proposal for `piece` with `offer`'s provider, send it, upload the bytes and wait until the agent
 * reports the deal published; the deal's terms are then read from the DealPublished event (the chain, not
 * the agent, is trusted). Never throws: a failure is recorded in the attempt.
 */
export async function placePiece(
  piece: { index: number; root: string; size: number; data: Uint8Array },
  offer: ProviderOffer,
  nonce: bigint,
  ctx: PlaceContext,
  onUpload?: ProgressCallback,
): Promise<PlacementAttempt> {
  const latest = await ctx.provider.getBlock("latest");
  const chainNow = BigInt(latest?.timestamp ?? Math.floor(ctx.now() / 1000));
  const proposal: DealProposal = {
    client: ctx.client,
    provider: offer.address,
    root: piece.root,
    size: BigInt(piece.size),
    duration: ctx.periods * ctx.provingPeriod,
    pricePerSecond: offer.pricePerSecond,
    collateral: offer.collateral,
    startDeadline: chainNow + BigInt(ctx.startDeadlineSeconds),
    nonce,
  };
  const attempt: PlacementAttempt = {
    piece: piece.index,
    provider: offer.address,
    endpoint: offer.endpoint,
    proposal,
    delivered: false,
    deal: null,
    error: null,
  };
  try {
    const domain = marketDomain(ctx.chainId, await ctx.market.getAddress());
    const signature = await signProposal(ctx.signer, domain, proposal);
    const agent = ctx.agentFor(offer.endpoint);
    // From here the provider holds a valid signed proposal, whatever the answer says.
    attempt.delivered = true;
    const upload = await agent.proposeDeal({ proposal, signature });
    await agent.upload(upload, piece.data, onUpload);
    const dealId = await awaitPublication(agent, upload.uploadId, ctx);
    attempt.deal = await publishedTerms(ctx, proposal, dealId);
  } catch (error) {
    attempt.error = error instanceof Error ? error.message : String(error);
  }
  return attempt;
}

async function awaitPublication(
  agent: Pick<AgentClient, "uploadStatus">,
  uploadId: string,
  ctx: PlaceContext,
): Promise<bigint> {
  const deadline = ctx.now() + ctx.publishTimeoutMs;
  for (;;) {
    const status = await agent.uploadStatus(uploadId);
    switch (status.state) {
      case "published":
        if (status.dealId === null)
          throw new StrataError("PROVIDER_BAD_DATA", "published upload without a deal id");
        return status.dealId;
      case "skipped":
      case "failed":
        throw new StrataError(
          "PROVIDER_REJECTED",
          `the provider did not publish the deal: ${status.reason ?? status.state}`,
        );
      case "awaiting-data":
      case "accepted":
        break;
    }
    if (ctx.now() >= deadline) {
      throw new StrataError(
        "PUBLISH_TIMEOUT",
        `the provider did not publish within ${ctx.publishTimeoutMs / 1000}s`,
      );
    }
    await ctx.sleep(ctx.pollMs);
  }
}

/** Terms of the deal the market published for `proposal` (found by client, provider and nonce). */
export async function publishedTerms(
  ctx: Pick<PlaceContext, "market" | "fromBlock" | "periods">,
  proposal: DealProposal,
  expectedId: bigint | null,
): Promise<DealTerms> {
  const events = await ctx.market.queryFilter(
    ctx.market.filters.DealPublished(expectedId ?? undefined, proposal.client, proposal.provider),
    ctx.fromBlock,
  );
  const event = events.find((e) => e.args.nonce === proposal.nonce);
  if (event === undefined) {
    throw new StrataError(
      "PROVIDER_BAD_DATA",
      `no DealPublished event for nonce ${proposal.nonce}${expectedId === null ? "" : ` (agent said deal ${expectedId})`}`,
    );
  }
  const terms = termsFromPublished(event.args);
  const matches =
    terms.root.toLowerCase() === proposal.root.toLowerCase() &&
    terms.size === proposal.size &&
    terms.pricePerSecond === proposal.pricePerSecond &&
    terms.collateral === proposal.collateral &&
    terms.endPeriod - terms.startPeriod === ctx.periods;
  if (!matches)
    throw new StrataError("PROVIDER_BAD_DATA", `deal ${terms.id} does not carry the proposal's terms`);
  return terms;
}
