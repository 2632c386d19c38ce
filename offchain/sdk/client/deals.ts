import type { Signer } from "ethers";
import type { StorageMarket } from "../../../typechain-types/index.js";
import type { DealPublishedEvent } from "../../../typechain-types/storage/StorageMarket.js";
import { marketDomain, signExtension, type DealExtension } from "../deals/eip712.js";
import { withEndPeriod, type DealTerms } from "../deals/terms.js";
import { DealEndReason, kebabName, type DealEndReasonName, type Kebab } from "../chain/enums.js";
import { StrataError } from "../errors.js";
import type { ExtensionRequest } from "./agentClient.js";
import { randomNonceBase } from "./nonces.js";

/** IStorageMarket.EndReason by index, in kebab case (the table is chain/enums.ts). */
export const END_REASONS = DealEndReason.names.map(kebabName);
/** How a deal ended: `expired`, `client-terminated`, ..., `retrieval-failed`. */
export type EndReason = Kebab<DealEndReasonName>;

/** A deal as the chain's events tell it: current terms (after extensions) and how it ended, if it did. */
export interface DealRecord {
  terms: DealTerms;
  nonce: bigint;
  publishedBlock: number;
  publishTx: string;
  ended: DealEnding | null;
}

export interface DealEnding {
  reason: EndReason | "unknown";
  paidToProvider: bigint;
  refundedToClient: bigint;
  compensationToClient: bigint;
  collateralReleased: bigint;
  txHash: string;
}

/**
 * - pending: published, its first period has not started;
 * - active: inside its periods;
 * - awaiting-finalization: its periods are over, anyone may finalize it;
 * - ended: finalized or terminated (the chain holds nothing more for it).
 */
export type DealPhase = "pending" | "active" | "awaiting-finalization" | "ended";

export interface DealStatus {
  record: DealRecord;
  phase: DealPhase;
  currentPeriod: bigint;
  paidSeconds: bigint;
  missedPeriods: bigint;
  declaredFaults: bigint;
  /** Tokens `settleDeal` would credit the provider now. */
  settleable: bigint;
}

export type MarketReader = Pick<
  StorageMarket,
  "filters" | "queryFilter" | "dealState" | "dealFaults" | "settleableAmount" | "currentPeriod"
>;

export interface DealFilter {
  client?: string;
  provider?: string;
  dealId?: bigint;
  fromBlock?: number;
}

/** Deals from `DealPublished` events (by client, provider or id), with extensions and endings applied. */
export async function findDeals(market: MarketReader, filter: DealFilter = {}): Promise<DealRecord[]> {
  const from = filter.fromBlock ?? 0;
  const published = await market.queryFilter(
    market.filters.DealPublished(filter.dealId, filter.client, filter.provider),
    from,
  );
  if (published.length === 0) return [];
  const ids = filter.dealId;
  const [extended, ended] = await Promise.all([
    market.queryFilter(market.filters.DealExtended(ids), from),
    market.queryFilter(market.filters.DealEnded(ids), from),
  ]);
  const newEnd = new Map<bigint, bigint>();
  for (const event of extended) newEnd.set(event.args.id, event.args.newEndPeriod);
  const endings = new Map<bigint, DealEnding>();
  for (const event of ended) {
    endings.set(event.args.id, {
      reason: endReason(event.args.reason),
      paidToProvider: event.args.paidToProvider,
      refundedToClient: event.args.refundedToClient,
      compensationToClient: event.args.compensationToClient,
      collateralReleased: event.args.collateralReleased,
      txHash: event.transactionHash,
    });
  }
  return published.map((event) => {
    const terms = termsFromPublished(event.args);
    const end = newEnd.get(terms.id);
    return {
      terms: end === undefined ? terms : withEndPeriod(terms, end),
      nonce: event.args.nonce,
      publishedBlock: event.blockNumber,
      publishTx: event.transactionHash,
      ended: endings.get(terms.id) ?? null,
    };
  });
}

/** The kebab-case name of an on-chain EndReason; "unknown" (never a guess) for a value the table lacks. */
export function endReason(value: bigint): EndReason | "unknown" {
  const name = DealEndReason.nameOf(value);
  return name === undefined ? "unknown" : kebabName(name);
}

/** Deal terms from the typed arguments of a `DealPublished` event. */
export function termsFromPublished(args: DealPublishedEvent.OutputObject): DealTerms {
  return {
    id: args.id,
    client: args.client,
    provider: args.provider,
    root: args.root,
    size: args.size,
    startPeriod: args.startPeriod,
    endPeriod: args.endPeriod,
    pricePerSecond: args.pricePerSecond,
    collateral: args.collateral,
  };
}

/** One deal by id; DEAL_NOT_FOUND when no `DealPublished` event has it. */
export async function getDeal(market: MarketReader, dealId: bigint, fromBlock?: number): Promise<DealRecord> {
  const [record] = await findDeals(market, { dealId, ...(fromBlock === undefined ? {} : { fromBlock }) });
  if (record === undefined) {
    throw new StrataError("DEAL_NOT_FOUND", `deal ${dealId} was never published on this market`, {
      details: "check the deal id and the --rpc / --deployment",
    });
  }
  return record;
}

/** Live state of a deal: phase, payments and faults. */
export async function dealStatus(market: MarketReader, record: DealRecord): Promise<DealStatus> {
  const [state, currentPeriod] = await Promise.all([
    market.dealState(record.terms.id),
    market.currentPeriod(),
  ]);
  const live = state.termsHash !== 0n;
  if (!live) {
    return {
      record,
      phase: "ended",
      currentPeriod,
      paidSeconds: 0n,
      missedPeriods: 0n,
      declaredFaults: 0n,
      settleable: 0n,
    };
  }
  const [faults, settleable] = await Promise.all([
    market.dealFaults(record.terms),
    market.settleableAmount(record.terms),
  ]);
  const phase: DealPhase =
    currentPeriod < record.terms.startPeriod
      ? "pending"
      : currentPeriod < record.terms.endPeriod
        ? "active"
        : "awaiting-finalization";
  return {
    record,
    phase,
    currentPeriod,
    paidSeconds: state.paidSeconds,
    missedPeriods: faults.missed,
    declaredFaults: faults.declared,
    settleable,
  };
}

export interface ExtensionOptions {
  /** Periods to add to the deal's end. */
  periods: bigint;
  chainId: bigint;
  market: string;
  provingPeriod: bigint;
  /** Latest use of the signed extension, unix seconds (default: chain time + 1 day). */
  deadline: bigint;
  nonce?: bigint;
}

/** A client-signed extension, ready for the provider (only the provider may call extendDeal). */
export interface SignedExtension {
  request: ExtensionRequest;
  /** Tokens the client pays when the provider submits it: price per second * added periods * P. */
  cost: bigint;
}

/**
 * Sign a `DealExtension` adding `periods` to a live deal. The provider submits it with `extendDeal`; the
 * client's ledger balance or allowance must cover `cost` at that moment.
 */
export async function signDealExtension(
  client: Signer,
  terms: DealTerms,
  options: ExtensionOptions,
): Promise<SignedExtension> {
  if (options.periods <= 0n) throw new StrataError("INVALID_ARGUMENT", "--periods must be at least 1");
  const extension: DealExtension = {
    dealId: terms.id,
    newEndPeriod: terms.endPeriod + options.periods,
    nonce: options.nonce ?? randomNonceBase(),
    deadline: options.deadline,
  };
  const signature = await signExtension(client, marketDomain(options.chainId, options.market), extension);
  return {
    request: { dealId: terms.id, extension, signature },
    cost: terms.pricePerSecond * options.periods * options.provingPeriod,
  };
}

/** End a live deal as its client: unstreamed escrow comes back to the client's market balance. */
export async function terminateDeal(
  market: Pick<StorageMarket, "terminateDeal" | "interface">,
  terms: DealTerms,
): Promise<{ txHash: string; refundedToClient: bigint | null; compensationToClient: bigint | null }> {
  const tx = await market.terminateDeal(terms);
  const receipt = await tx.wait();
  let refundedToClient: bigint | null = null;
  let compensationToClient: bigint | null = null;
  for (const log of receipt?.logs ?? []) {
    const parsed = market.interface.parseLog(log);
    if (parsed?.name === "DealEnded") {
      refundedToClient = parsed.args.refundedToClient as bigint;
      compensationToClient = parsed.args.compensationToClient as bigint;
    }
  }
  return { txHash: tx.hash, refundedToClient, compensationToClient };
}
