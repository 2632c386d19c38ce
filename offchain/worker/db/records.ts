/** Records the worker database returns, and their decoding from rows. */
import type { DealTerms } from "../../sdk/deals/terms.js";
import { big, num, optBig, optNum, optStr, str } from "../../runtime/sqlite/columns.js";
import type { Row } from "../../runtime/sqlite/sql.js";

/** A published deal as indexed: its terms with the latest end period (after extensions). */
export interface IndexedDeal extends DealTerms {
  nonce: bigint;
  /** End period in the DealPublished event (before any extension). */
  originalEndPeriod: bigint;
  publishedBlock: number;
  publishedLogIndex: number;
  publishedTx: string;
  /** Null while the deal has not ended (it may still be past its end period, awaiting finalization). */
  ended: DealEndRecord | null;
}

export interface DealEndRecord {
  /** IStorageMarket.EndReason value (names: DealEndReason in offchain/sdk/chain/enums.ts). */
  reason: number;
  paidToProvider: bigint;
  refundedToClient: bigint;
  compensationToClient: bigint;
  collateralReleased: bigint;
  blockNumber: number;
  logIndex: number;
  txHash: string;
}

export interface ProofRecord {
  provider: string;
  period: bigint;
  nextSeedBlock: number;
  blockNumber: number;
  logIndex: number;
  txHash: string;
}

/** Where a provider's challenge seed for a period was fixed. */
export interface SeedRecord {
  provider: string;
  period: bigint;
  seedBlock: number;
  /** Which event fixed it: a rescheduling, the previous period's proof, or a missed-proof report. */
  source: "scheduled" | "proof" | "missed-report";
  blockNumber: number;
  logIndex: number;
}

export interface MissedReportRecord {
  provider: string;
  fromPeriod: bigint;
  count: bigint;
  reporter: string;
  bounty: bigint;
  nextSeedBlock: number;
  blockNumber: number;
  logIndex: number;
  txHash: string;
}

export interface SlashRecord {
  provider: string;
  dealId: bigint;
  toHarmed: bigint;
  toReporter: bigint;
  toTreasury: bigint;
  blockNumber: number;
  logIndex: number;
  txHash: string;
}

/** A provider's registry state: the latest of its Registered / Updated / Deregistered events. */
export interface ProviderRecord {
  provider: string;
  endpoint: string | null;
  payee: string | null;
  kind: "registered" | "updated" | "deregistered";
  blockNumber: number;
}

/** One step of a provider's active-list history, in chain order. */
export interface ProviderDealEvent {
  kind: "published" | "ended";
  dealId: bigint;
  blockNumber: number;
  logIndex: number;
}

export interface RetrievalChallengeRecord {
  challengeId: bigint;
  dealId: bigint;
  provider: string;
  challenger: string;
  leafIndex: bigint;
  /** Last timestamp at which the provider may answer. */
  deadline: bigint;
  bond: bigint;
  status: "open" | "answered" | "failed" | "voided";
  openedBlock: number;
  openedTx: string;
  /** Block of the event that resolved it (null while open). */
  resolvedBlock: number | null;
  enforcer: string | null;
}

export type ActionKind =
  | "report-missed"
  | "open-challenge"
  | "enforce-challenge"
  | "terminate-faulty"
  | "settle"
  | "finalize"
  | "report-missed-heartbeats"
  | "close-lease";
export type ActionStatus = "pending" | "sent" | "confirmed" | "reverted" | "lost-race" | "skipped";
export const TERMINAL_ACTION_STATUSES: readonly ActionStatus[] = [
  "confirmed",
  "reverted",
  "lost-race",
  "skipped",
];

/** Something this worker decided to do on chain; UNIQUE(kind, subject, key) makes the decision durable. */
export interface ActionRecord {
  id: number;
  kind: string;
  subject: string;
  key: string;
  status: ActionStatus;
  txHash: string | null;
  nonce: number | null;
  gasUsed: bigint | null;
  reward: bigint | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

export type ProofVerdict = "ok" | "mismatch" | "error";

export interface ProofCheckRecord {
  provider: string;
  period: bigint;
  txHash: string;
  blockNumber: number;
  verdict: ProofVerdict;
  detail: string | null;
  checkedAt: number;
}

export interface SampleRecord {
  id: number;
  dealId: bigint;
  provider: string;
  leafIndex: number;
  ok: boolean;
  errorCode: string | null;
  latencyMs: number;
  at: number;
}

export interface AlertRecord {
  id: number;
  kind: string;
  subject: string;
  detail: string;
  at: number;
}

// ------------------------------------------------------------------ decoding

export function toDeal(row: Row): IndexedDeal {
  const endedBlock = optNum(row, "ended_block");
  return {
    id: big(row, "deal_id"),
    client: str(row, "client"),
    provider: str(row, "provider"),
    root: str(row, "root"),
    size: big(row, "size"),
    startPeriod: big(row, "start_period"),
    endPeriod: big(row, "current_end"),
    pricePerSecond: big(row, "price"),
    collateral: big(row, "collateral"),
    nonce: big(row, "nonce"),
    originalEndPeriod: big(row, "end_period"),
    publishedBlock: num(row, "block_number"),
    publishedLogIndex: num(row, "log_index"),
    publishedTx: str(row, "tx_hash"),
    ended:
      endedBlock === null
        ? null
        : {
            reason: num(row, "ended_reason"),
            paidToProvider: big(row, "ended_paid"),
            refundedToClient: big(row, "ended_refund"),
            compensationToClient: big(row, "ended_to_client"),
            collateralReleased: big(row, "ended_released"),
            blockNumber: endedBlock,
            logIndex: num(row, "ended_log_index"),
            txHash: str(row, "ended_tx"),
          },
  };
}

/** The terms of an indexed deal (what the market's calls take), without the index's bookkeeping. */
export function dealTerms(deal: IndexedDeal): DealTerms {
  return {
    id: deal.id,
    client: deal.client,
    provider: deal.provider,
    root: deal.root,
    size: deal.size,
    startPeriod: deal.startPeriod,
    endPeriod: deal.endPeriod,
    pricePerSecond: deal.pricePerSecond,
    collateral: deal.collateral,
  };
}

export function toProof(row: Row): ProofRecord {
  return {
    provider: str(row, "provider"),
    period: big(row, "period"),
    nextSeedBlock: num(row, "next_seed_block"),
    blockNumber: num(row, "block_number"),
    logIndex: num(row, "log_index"),
    txHash: str(row, "tx_hash"),
  };
}

export function toMissedReport(row: Row): MissedReportRecord {
  return {
    provider: str(row, "provider"),
    fromPeriod: big(row, "from_period"),
    count: big(row, "count"),
    reporter: str(row, "reporter"),
    bounty: big(row, "bounty"),
    nextSeedBlock: num(row, "next_seed_block"),
    blockNumber: num(row, "block_number"),
    logIndex: num(row, "log_index"),
    txHash: str(row, "tx_hash"),
  };
}

export function toSlash(row: Row): SlashRecord {
  return {
    provider: str(row, "provider"),
    dealId: big(row, "deal_id"),
    toHarmed: big(row, "to_client"),
    toReporter: big(row, "to_reporter"),
    toTreasury: big(row, "to_treasury"),
    blockNumber: num(row, "block_number"),
    logIndex: num(row, "log_index"),
    txHash: str(row, "tx_hash"),
  };
}

export function toChallenge(row: Row): RetrievalChallengeRecord {
  const resolved = optStr(row, "resolved_kind");
  return {
    challengeId: big(row, "challenge_id"),
    dealId: big(row, "deal_id"),
    provider: str(row, "provider"),
    challenger: str(row, "challenger"),
    leafIndex: big(row, "leaf_index"),
    deadline: big(row, "deadline"),
    bond: big(row, "bond"),
    status: resolved === null ? "open" : (resolved as RetrievalChallengeRecord["status"]),
    openedBlock: num(row, "block_number"),
    openedTx: str(row, "tx_hash"),
    resolvedBlock: optNum(row, "resolved_block"),
    enforcer: optStr(row, "resolved_enforcer"),
  };
}

export function toAction(row: Row): ActionRecord {
  return {
    id: num(row, "id"),
    kind: str(row, "kind"),
    subject: str(row, "subject"),
    key: str(row, "key"),
    status: str(row, "status") as ActionStatus,
    txHash: optStr(row, "tx_hash"),
    nonce: optNum(row, "nonce"),
    gasUsed: optBig(row, "gas_used"),
    reward: optBig(row, "reward"),
    error: optStr(row, "error"),
    createdAt: num(row, "created_at"),
    updatedAt: num(row, "updated_at"),
  };
}

export function toProofCheck(row: Row): ProofCheckRecord {
  return {
    provider: str(row, "provider"),
    period: big(row, "period"),
    txHash: str(row, "tx_hash"),
    blockNumber: num(row, "block_number"),
    verdict: str(row, "verdict") as ProofVerdict,
    detail: optStr(row, "detail"),
    checkedAt: num(row, "checked_at"),
  };
}

export function toSample(row: Row): SampleRecord {
  return {
    id: num(row, "id"),
    dealId: big(row, "deal_id"),
    provider: str(row, "provider"),
    leafIndex: num(row, "leaf_index"),
    ok: num(row, "ok") === 1,
    errorCode: optStr(row, "error_code"),
    latencyMs: num(row, "latency_ms"),
    at: num(row, "at"),
  };
}

export function toAlert(row: Row): AlertRecord {
  return {
    id: num(row, "id"),
    kind: str(row, "kind"),
    subject: str(row, "subject"),
    detail: str(row, "detail"),
    at: num(row, "at"),
  };
}
