/** Records of the agent database and their decoding from SQLite rows. */
import type { SQLOutputValue } from "node:sqlite";
import {
  requestFromJson,
  type ComputeResources,
  type OrderRequest,
  type OrderRequestJson,
} from "../../sdk/compute/orders.js";
import type { DealProposal, DealTerms } from "../../sdk/deals/terms.js";
import { StrataError } from "../../sdk/errors.js";
import { parseProposal, parseTerms } from "../codec.js";

export type Row = Record<string, SQLOutputValue>;

/**
 * awaiting-data -> accepted (bytes stored and verified) -> publishing (transaction sent) ->
 * published | skipped (DealSkipped) | failed (expired, rejected on simulation, too many attempts).
 */
export type UploadState = "awaiting-data" | "accepted" | "publishing" | "published" | "skipped" | "failed";
export type DealState = "active" | "ended";
export type PieceProblem = "missing" | "corrupt";
export type ProofStatus = "sending" | "pending" | "confirmed" | "failed";
/**
 * open (to answer) -> sending (answer being sent) -> sent (hash known) -> answered; or unanswerable (piece
 * missing or corrupt: retried only once the piece file is back), skipped (deal unknown or ended), missed
 * (deadline passed unanswered), failed / voided (enforced on chain), dropped (gone from the chain: reorg).
 */
export type RetrievalStatus =
  | "open"
  | "sending"
  | "sent"
  | "answered"
  | "unanswerable"
  | "skipped"
  | "missed"
  | "failed"
  | "voided"
  | "dropped";

export interface UploadRecord {
  id: string;
  client: string;
  nonce: bigint;
  proposal: DealProposal;
  signature: string;
  size: bigint;
  root: string;
  state: UploadState;
  dealId: bigint | null;
  txHash: string | null;
  reason: string | null;
  attempts: number;
  createdBlock: number;
  createdAt: number;
  updatedAt: number;
}

export interface DealRecord {
  id: bigint;
  terms: DealTerms;
  uploadId: string | null;
  state: DealState;
  /** Period in which the deal was last settled (null: never). */
  lastSettledAt: bigint | null;
  endReason: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface PieceRecord {
  root: string;
  size: bigint;
  path: string;
  verifiedAt: number | null;
  ok: boolean;
  problem: PieceProblem | null;
  createdAt: number;
}

export interface ProofRecord {
  period: bigint;
  txHash: string | null;
  status: ProofStatus;
  /** Deals declared faulty for the following period in the same transaction. */
  declared: bigint[];
  at: number;
  error: string | null;
}

export interface RetrievalChallengeRecord {
  id: bigint;
  dealId: bigint;
  leafIndex: number;
  /** Last timestamp (chain time) at which an answer is accepted. */
  deadline: bigint;
  bond: bigint;
  challenger: string;
  openedBlock: number;
  status: RetrievalStatus;
  txHash: string | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== "string") throw new StrataError("AGENT_DB_ERROR", `column ${column} is not text`);
  return value;
}

function optText(row: Row, column: string): string | null {
  const value = row[column];
  return value === null || value === undefined ? null : text(row, column);
}

function int(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  throw new StrataError("AGENT_DB_ERROR", `column ${column} is not an integer`);
}

function optInt(row: Row, column: string): number | null {
  const value = row[column];
  return value === null || value === undefined ? null : int(row, column);
}

export function toUpload(row: Row): UploadRecord {
  const dealId = optText(row, "deal_id");
  return {
    id: text(row, "id"),
    client: text(row, "client"),
    nonce: BigInt(text(row, "nonce")),
    proposal: parseProposal(JSON.parse(text(row, "proposal"))),
    signature: text(row, "signature"),
    size: BigInt(int(row, "size")),
    root: text(row, "root"),
    state: text(row, "state") as UploadState,
    dealId: dealId === null ? null : BigInt(dealId),
    txHash: optText(row, "tx_hash"),
    reason: optText(row, "reason"),
    attempts: int(row, "attempts"),
    createdBlock: int(row, "created_block"),
    createdAt: int(row, "created_at"),
    updatedAt: int(row, "updated_at"),
  };
}

export function toDeal(row: Row): DealRecord {
  const settled = optInt(row, "last_settled_at");
  return {
    id: BigInt(text(row, "id")),
    terms: parseTerms(JSON.parse(text(row, "terms"))),
    uploadId: optText(row, "upload_id"),
    state: text(row, "state") as DealState,
    lastSettledAt: settled === null ? null : BigInt(settled),
    endReason: optText(row, "end_reason"),
    createdAt: int(row, "created_at"),
    updatedAt: int(row, "updated_at"),
  };
}

export function toPiece(row: Row): PieceRecord {
  return {
    root: text(row, "root"),
    size: BigInt(int(row, "size")),
    path: text(row, "path"),
    verifiedAt: optInt(row, "verified_at"),
    ok: int(row, "ok") === 1,
    problem: optText(row, "problem") as PieceProblem | null,
    createdAt: int(row, "created_at"),
  };
}

export function toProof(row: Row): ProofRecord {
  const declared = JSON.parse(text(row, "declared")) as string[];
  return {
    period: BigInt(int(row, "period")),
    txHash: optText(row, "tx_hash"),
    status: text(row, "status") as ProofStatus,
    declared: declared.map((id) => BigInt(id)),
    at: int(row, "at"),
    error: optText(row, "error"),
  };
}

export function toRetrievalChallenge(row: Row): RetrievalChallengeRecord {
  return {
    id: BigInt(text(row, "id")),
    dealId: BigInt(text(row, "deal_id")),
    leafIndex: int(row, "leaf_index"),
    deadline: BigInt(int(row, "deadline")),
    bond: BigInt(text(row, "bond")),
    challenger: text(row, "challenger"),
    openedBlock: int(row, "opened_block"),
    status: text(row, "status") as RetrievalStatus,
    txHash: optText(row, "tx_hash"),
    error: optText(row, "error"),
    createdAt: int(row, "created_at"),
    updatedAt: int(row, "updated_at"),
  };
}

// ------------------------------------------------------------------ compute leases

/**
 * This provider's stance on one order. waiting (a retryable skip: capacity or concurrency) -> bidding
 * (createBid being sent) -> bid (active on chain) -> won (our lease) | released (lost, cancelled or expired:
 * collateral taken back) | rejected (the tenant rejected it). Final without a bid: skipped (policy said no),
 * failed (createBid reverted), closed (the order ended while waiting).
 */
export type ComputeOrderState =
  "waiting" | "bidding" | "bid" | "won" | "released" | "rejected" | "skipped" | "failed" | "closed";

export interface ComputeBidTerms {
  pricePerSecond: bigint;
  collateral: bigint;
  noticeWindow: number;
  gpuModel: string | null;
}

export interface ComputeOrderRecord {
  id: bigint;
  tenant: string;
  request: OrderRequest;
  closeBounty: bigint;
  createdBlock: number;
  state: ComputeOrderState;
  /** Why skipped, waiting or failed. */
  reason: string | null;
  /** The bid sent or decided (null when none). */
  bid: ComputeBidTerms | null;
  txHash: string | null;
  createdAt: number;
  updatedAt: number;
}

export type LeaseState = "active" | "closed";
/**
 * awaiting-workload (the tenant has not sent the description yet) -> running -> exited (by itself or a
 * limit: never restarted) | stopped (by the agent: lease over, or agent shutdown; resumed after a restart if
 * the lease is still live); unrunnable: the description cannot be run here (kind not supported).
 */
export type LeaseRunState = "awaiting-workload" | "running" | "exited" | "stopped" | "unrunnable";

export interface LeaseRecord {
  id: bigint;
  tenant: string;
  workloadHash: string;
  resources: ComputeResources;
  gpuModel: string | null;
  pricePerSecond: bigint;
  collateral: bigint;
  noticeWindow: number;
  /** Chain timestamps. endsAt 0: open-ended. */
  startedAt: bigint;
  endsAt: bigint;
  heartbeatPeriod: bigint;
  startedBlock: number;
  state: LeaseState;
  closeReason: string | null;
  noticeGiven: boolean;
  lastHeartbeatPeriod: bigint | null;
  /** Chain timestamp of the last settlement (null: never). */
  lastSettledAt: bigint | null;
  runState: LeaseRunState;
  /** JSON of the last run's exit (compute/runner.ts WorkloadExit). */
  runExit: string | null;
  runs: number;
  pid: number | null;
  pidStart: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface WorkloadRecord {
  hash: string;
  /** Canonical JSON of the description. */
  description: string;
  receivedAt: number;
}

function optBigint(row: Row, column: string): bigint | null {
  const value = optText(row, column);
  return value === null ? null : BigInt(value);
}

export function toComputeOrder(row: Row): ComputeOrderRecord {
  const price = optBigint(row, "price");
  const collateral = optBigint(row, "collateral");
  const notice = optInt(row, "notice_window");
  return {
    id: BigInt(text(row, "id")),
    tenant: text(row, "tenant"),
    request: requestFromJson(JSON.parse(text(row, "request")) as OrderRequestJson),
    closeBounty: BigInt(text(row, "close_bounty")),
    createdBlock: int(row, "created_block"),
    state: text(row, "state") as ComputeOrderState,
    reason: optText(row, "reason"),
    bid:
      price === null || collateral === null || notice === null
        ? null
        : { pricePerSecond: price, collateral, noticeWindow: notice, gpuModel: optText(row, "gpu_model") },
    txHash: optText(row, "tx_hash"),
    createdAt: int(row, "created_at"),
    updatedAt: int(row, "updated_at"),
  };
}

export function toLease(row: Row): LeaseRecord {
  const heartbeat = optInt(row, "last_heartbeat_period");
  const settled = optInt(row, "last_settled_at");
  return {
    id: BigInt(text(row, "id")),
    tenant: text(row, "tenant"),
    workloadHash: text(row, "workload_hash"),
    resources: JSON.parse(text(row, "resources")) as ComputeResources,
    gpuModel: optText(row, "gpu_model"),
    pricePerSecond: BigInt(text(row, "price")),
    collateral: BigInt(text(row, "collateral")),
    noticeWindow: int(row, "notice_window"),
    startedAt: BigInt(int(row, "started_at")),
    endsAt: BigInt(int(row, "ends_at")),
    heartbeatPeriod: BigInt(int(row, "heartbeat_period")),
    startedBlock: int(row, "started_block"),
    state: text(row, "state") as LeaseState,
    closeReason: optText(row, "close_reason"),
    noticeGiven: int(row, "notice_given") === 1,
    lastHeartbeatPeriod: heartbeat === null ? null : BigInt(heartbeat),
    lastSettledAt: settled === null ? null : BigInt(settled),
    runState: text(row, "run_state") as LeaseRunState,
    runExit: optText(row, "run_exit"),
    runs: int(row, "runs"),
    pid: optInt(row, "pid"),
    pidStart: optInt(row, "pid_start"),
    createdAt: int(row, "created_at"),
    updatedAt: int(row, "updated_at"),
  };
}

export function toWorkload(row: Row): WorkloadRecord {
  return {
    hash: text(row, "hash"),
    description: text(row, "description"),
    receivedAt: int(row, "received_at"),
  };
}
