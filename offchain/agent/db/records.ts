/** Records of the agent database and their decoding from SQLite rows. */
import {
  requestFromJson,
  type ComputeResources,
  type OrderRequest,
  type OrderRequestJson,
} from "../../sdk/compute/orders.js";
import { num, optNum, optStr, str } from "../../runtime/sqlite/columns.js";
import type { Row } from "../../runtime/sqlite/sql.js";

export type { Row } from "../../runtime/sqlite/sql.js";

export type PieceProblem = "missing" | "corrupt";
export type ProofStatus = "sending" | "pending" | "confirmed" | "failed";
/**
 * open (to answer) -> sending (answer being sent) -> sent (hash known) -> answered; or unanswerable (piece
 * missing or corrupt: retried only once the piece file is back), skipped (data set unknown or ended), missed
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
  /** Data sets declared faulty for the following period in the same transaction. */
  declared: bigint[];
  at: number;
  error: string | null;
}

export interface RetrievalChallengeRecord {
  id: bigint;
  dataSetId: bigint;
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

export function toPiece(row: Row): PieceRecord {
  return {
    root: str(row, "root"),
    size: BigInt(num(row, "size")),
    path: str(row, "path"),
    verifiedAt: optNum(row, "verified_at"),
    ok: num(row, "ok") === 1,
    problem: optStr(row, "problem") as PieceProblem | null,
    createdAt: num(row, "created_at"),
  };
}

export function toProof(row: Row): ProofRecord {
  const declared = JSON.parse(str(row, "declared")) as string[];
  return {
    period: BigInt(num(row, "period")),
    txHash: optStr(row, "tx_hash"),
    status: str(row, "status") as ProofStatus,
    declared: declared.map((id) => BigInt(id)),
    at: num(row, "at"),
    error: optStr(row, "error"),
  };
}

export function toRetrievalChallenge(row: Row): RetrievalChallengeRecord {
  return {
    id: BigInt(str(row, "id")),
    dataSetId: BigInt(str(row, "data_set_id")),
    leafIndex: num(row, "leaf_index"),
    deadline: BigInt(num(row, "deadline")),
    bond: BigInt(str(row, "bond")),
    challenger: str(row, "challenger"),
    openedBlock: num(row, "opened_block"),
    status: str(row, "status") as RetrievalStatus,
    txHash: optStr(row, "tx_hash"),
    error: optStr(row, "error"),
    createdAt: num(row, "created_at"),
    updatedAt: num(row, "updated_at"),
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
  const value = optStr(row, column);
  return value === null ? null : BigInt(value);
}

export function toComputeOrder(row: Row): ComputeOrderRecord {
  const price = optBigint(row, "price");
  const collateral = optBigint(row, "collateral");
  const notice = optNum(row, "notice_window");
  return {
    id: BigInt(str(row, "id")),
    tenant: str(row, "tenant"),
    request: requestFromJson(JSON.parse(str(row, "request")) as OrderRequestJson),
    closeBounty: BigInt(str(row, "close_bounty")),
    createdBlock: num(row, "created_block"),
    state: str(row, "state") as ComputeOrderState,
    reason: optStr(row, "reason"),
    bid:
      price === null || collateral === null || notice === null
        ? null
        : { pricePerSecond: price, collateral, noticeWindow: notice, gpuModel: optStr(row, "gpu_model") },
    txHash: optStr(row, "tx_hash"),
    createdAt: num(row, "created_at"),
    updatedAt: num(row, "updated_at"),
  };
}

export function toLease(row: Row): LeaseRecord {
  const heartbeat = optNum(row, "last_heartbeat_period");
  const settled = optNum(row, "last_settled_at");
  return {
    id: BigInt(str(row, "id")),
    tenant: str(row, "tenant"),
    workloadHash: str(row, "workload_hash"),
    resources: JSON.parse(str(row, "resources")) as ComputeResources,
    gpuModel: optStr(row, "gpu_model"),
    pricePerSecond: BigInt(str(row, "price")),
    collateral: BigInt(str(row, "collateral")),
    noticeWindow: num(row, "notice_window"),
    startedAt: BigInt(num(row, "started_at")),
    endsAt: BigInt(num(row, "ends_at")),
    heartbeatPeriod: BigInt(num(row, "heartbeat_period")),
    startedBlock: num(row, "started_block"),
    state: str(row, "state") as LeaseState,
    closeReason: optStr(row, "close_reason"),
    noticeGiven: num(row, "notice_given") === 1,
    lastHeartbeatPeriod: heartbeat === null ? null : BigInt(heartbeat),
    lastSettledAt: settled === null ? null : BigInt(settled),
    runState: str(row, "run_state") as LeaseRunState,
    runExit: optStr(row, "run_exit"),
    runs: num(row, "runs"),
    pid: optNum(row, "pid"),
    pidStart: optNum(row, "pid_start"),
    createdAt: num(row, "created_at"),
    updatedAt: num(row, "updated_at"),
  };
}

export function toWorkload(row: Row): WorkloadRecord {
  return {
    hash: str(row, "hash"),
    description: str(row, "description"),
    receivedAt: num(row, "received_at"),
  };
}
