/** Records the worker database returns, and their decoding from rows. */
import { big, num, optBig, optNum, optStr, str } from "../../runtime/sqlite/columns.js";
import type { Row } from "../../runtime/sqlite/sql.js";

/**
 * A data set as indexed: its creation terms, its newest applied state (version 0, span 0 until the first update;
 * span 0 again once the market took it out of its class), its termination and its end.
 */
export interface IndexedDataSet {
  dataSetId: bigint;
  client: string;
  provider: string;
  pricePerTiBMonth: bigint;
  collateralPerTiB: bigint;
  noticePeriods: bigint;
  nonce: bigint;
  version: bigint;
  /** Newest root (0x-hex, bytes32(0) when empty). */
  root: string;
  /** Newest span in 64-byte leaves. */
  span: bigint;
  createdBlock: number;
  createdTx: string;
  /** Set by DataSetTerminated (the data set is ending: no new state, paid until endPeriod). */
  terminated: { by: string; reason: number; endPeriod: bigint } | null;
  /** Set by DataSetEnded (finalized: collateral released, escrow refunded). */
  ended: DataSetEndRecord | null;
}

export interface DataSetEndRecord {
  /** IStorageMarket.EndReason value (names in offchain/sdk/chain/enums.ts). */
  reason: number;
  paidToProvider: bigint;
  refundedToClient: bigint;
  compensationToClient: bigint;
  collateralReleased: bigint;
  blockNumber: number;
  logIndex: number;
  txHash: string;
}

/** A data set's status as the index sees it (IStorageMarket.Status without None). */
export function dataSetStatus(set: IndexedDataSet): "live" | "ending" | "finalized" {
  return set.ended !== null ? "finalized" : set.terminated !== null ? "ending" : "live";
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
  dataSetId: bigint;
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

export interface RetrievalChallengeRecord {
  challengeId: bigint;
  dataSetId: bigint;
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
  | "terminate-unfunded"
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
  dataSetId: bigint;
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

export function toDataSet(row: Row): IndexedDataSet {
  const endedBlock = optNum(row, "ended_block");
  const endPeriod = optNum(row, "end_period");
  return {
    dataSetId: big(row, "data_set_id"),
    client: str(row, "client"),
    provider: str(row, "provider"),
    pricePerTiBMonth: big(row, "price"),
    collateralPerTiB: big(row, "collateral_per_tib"),
    noticePeriods: big(row, "notice_periods"),
    nonce: big(row, "nonce"),
    version: optBig(row, "version") ?? 0n,
    root: optStr(row, "root") ?? ZERO_ROOT,
    span: optBig(row, "span") ?? 0n,
    createdBlock: num(row, "block_number"),
    createdTx: str(row, "tx_hash"),
    terminated:
      endPeriod === null
        ? null
        : {
            by: str(row, "terminated_by"),
            reason: num(row, "terminated_reason"),
            endPeriod: BigInt(endPeriod),
          },
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

const ZERO_ROOT = `0x${"00".repeat(32)}`;

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
    dataSetId: big(row, "data_set_id"),
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
    dataSetId: big(row, "data_set_id"),
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
    dataSetId: big(row, "data_set_id"),
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
