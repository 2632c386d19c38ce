/**
 * The worker's own records: actions (decide once, durably), proof checks, retrieval samples, alerts.
 * Actions, samples and alerts survive reorgs; proof checks roll back with the proofs they describe.
 */
import { getAddress } from "ethers";
import {
  toAction,
  toAlert,
  toProofCheck,
  toSample,
  type ActionRecord,
  type ActionStatus,
  type AlertRecord,
  type ProofCheckRecord,
  type ProofVerdict,
  type SampleRecord,
} from "./records.js";
import type { Param, Sql } from "../../runtime/sqlite/sql.js";
import { StrataError } from "../../sdk/errors.js";

/** Samples kept per data set. */
export const KEPT_SAMPLES_PER_DATA_SET = 100;

/**
 * The action (kind, subject, key): the existing row, or a new `pending` one. The UNIQUE constraint makes the
 * decision durable: after a crash the same call returns the same row, never a second one.
 */
export function claimAction(sql: Sql, kind: string, subject: string, key: string, now: number): ActionRecord {
  return sql.tx(() => {
    sql.run(
      `INSERT OR IGNORE INTO actions (kind, subject, key, status, created_at, updated_at)
       VALUES (?, ?, ?, 'pending', ?, ?)`,
      kind,
      subject,
      key,
      now,
      now,
    );
    const row = sql.one(
      "SELECT * FROM actions WHERE kind = ? AND subject = ? AND key = ?",
      kind,
      subject,
      key,
    );
    if (!row) throw new StrataError("INTERNAL_INVARIANT", "the action just inserted cannot be read back");
    return toAction(row);
  });
}

export interface ActionUpdate {
  status?: ActionStatus;
  txHash?: string | null;
  nonce?: number | null;
  gasUsed?: bigint | null;
  reward?: bigint | null;
  error?: string | null;
}

/** Change fields of action `id` (others unchanged); returns the updated row. */
export function updateAction(
  sql: Sql,
  id: number,
  update: ActionUpdate,
  now: number,
): ActionRecord | undefined {
  const sets: string[] = ["updated_at = ?"];
  const params: Param[] = [now];
  const put = (column: string, value: Param | undefined): void => {
    if (value === undefined) return;
    sets.push(`${column} = ?`);
    params.push(value);
  };
  put("status", update.status);
  put("tx_hash", update.txHash);
  put("nonce", update.nonce);
  put("gas_used", update.gasUsed === undefined ? undefined : (update.gasUsed?.toString() ?? null));
  put("reward", update.reward === undefined ? undefined : (update.reward?.toString() ?? null));
  put("error", update.error);
  sql.run(`UPDATE actions SET ${sets.join(", ")} WHERE id = ?`, ...params, id);
  const row = sql.one("SELECT * FROM actions WHERE id = ?", id);
  return row && toAction(row);
}

export function actionOf(sql: Sql, kind: string, subject: string, key: string): ActionRecord | undefined {
  const row = sql.one("SELECT * FROM actions WHERE kind = ? AND subject = ? AND key = ?", kind, subject, key);
  return row && toAction(row);
}

/** Actions filtered by kind and/or statuses, oldest first. */
export function actions(
  sql: Sql,
  filter: { kind?: string; statuses?: readonly ActionStatus[]; subject?: string } = {},
): ActionRecord[] {
  const where: string[] = [];
  const params: Param[] = [];
  if (filter.kind !== undefined) {
    where.push("kind = ?");
    params.push(filter.kind);
  }
  if (filter.subject !== undefined) {
    where.push("subject = ?");
    params.push(filter.subject);
  }
  if (filter.statuses !== undefined) {
    if (filter.statuses.length === 0) return [];
    where.push(`status IN (${filter.statuses.map(() => "?").join(", ")})`);
    params.push(...filter.statuses);
  }
  const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
  return sql.all(`SELECT * FROM actions ${clause} ORDER BY id`, ...params).map(toAction);
}

/** Record (or replace) the verdict on the proof sent in `txHash`. */
export function putProofCheck(sql: Sql, check: Omit<ProofCheckRecord, "checkedAt">, now: number): void {
  sql.run(
    `INSERT INTO proof_checks (provider, period, tx_hash, block_number, verdict, detail, checked_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tx_hash) DO UPDATE SET verdict = excluded.verdict, detail = excluded.detail,
       checked_at = excluded.checked_at`,
    getAddress(check.provider),
    check.period,
    check.txHash.toLowerCase(),
    check.blockNumber,
    check.verdict,
    check.detail,
    now,
  );
}

export function proofCheck(sql: Sql, txHash: string): ProofCheckRecord | undefined {
  const row = sql.one("SELECT * FROM proof_checks WHERE tx_hash = ?", txHash.toLowerCase());
  return row && toProofCheck(row);
}

export function proofChecks(
  sql: Sql,
  filter: { provider?: string; verdict?: ProofVerdict } = {},
): ProofCheckRecord[] {
  const where: string[] = [];
  const params: Param[] = [];
  if (filter.provider !== undefined) {
    where.push("provider = ?");
    params.push(getAddress(filter.provider));
  }
  if (filter.verdict !== undefined) {
    where.push("verdict = ?");
    params.push(filter.verdict);
  }
  const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
  return sql
    .all(`SELECT * FROM proof_checks ${clause} ORDER BY block_number, tx_hash`, ...params)
    .map(toProofCheck);
}

/** Record a retrieval sample and keep only the newest KEPT_SAMPLES_PER_DATA_SET of its data set; returns its id. */
export function insertSample(sql: Sql, sample: Omit<SampleRecord, "id" | "at">, now: number): number {
  return sql.tx(() => {
    const id = sql.insert(
      `INSERT INTO samples (data_set_id, provider, leaf_index, ok, error_code, latency_ms, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      sample.dataSetId,
      getAddress(sample.provider),
      sample.leafIndex,
      sample.ok ? 1 : 0,
      sample.errorCode,
      Math.round(sample.latencyMs),
      now,
    );
    sql.run(
      `DELETE FROM samples WHERE data_set_id = ? AND id <= (SELECT id FROM samples WHERE data_set_id = ? ORDER BY id DESC
         LIMIT 1 OFFSET ?)`,
      sample.dataSetId,
      sample.dataSetId,
      KEPT_SAMPLES_PER_DATA_SET,
    );
    return id;
  });
}

/** The newest `limit` samples of a data set, newest first. */
export function recentSamples(
  sql: Sql,
  dataSetId: bigint,
  limit = KEPT_SAMPLES_PER_DATA_SET,
): SampleRecord[] {
  return sql
    .all("SELECT * FROM samples WHERE data_set_id = ? ORDER BY id DESC LIMIT ?", dataSetId, limit)
    .map(toSample);
}

export function insertAlert(sql: Sql, alert: Omit<AlertRecord, "id" | "at">, now: number): number {
  return sql.insert(
    "INSERT INTO alerts (kind, subject, detail, at) VALUES (?, ?, ?, ?)",
    alert.kind,
    alert.subject,
    alert.detail,
    now,
  );
}

/** Alerts, newest first (optionally of one kind). */
export function alerts(sql: Sql, filter: { kind?: string; limit?: number } = {}): AlertRecord[] {
  const limit = filter.limit ?? 100;
  return filter.kind === undefined
    ? sql.all("SELECT * FROM alerts ORDER BY id DESC LIMIT ?", limit).map(toAlert)
    : sql
        .all("SELECT * FROM alerts WHERE kind = ? ORDER BY id DESC LIMIT ?", filter.kind, limit)
        .map(toAlert);
}
