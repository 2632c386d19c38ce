/** Records of the agent database and their decoding from SQLite rows. */
import type { SQLOutputValue } from "node:sqlite";
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
