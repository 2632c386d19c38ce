/**
 * The agent's durable state in SQLite (node:sqlite, WAL): uploads, deals, pieces, proofs, retrieval
 * challenges, compute orders, leases and workloads (`compute`, see compute/store.ts) and a key-value table. Every state change runs in one transaction, so a crash leaves either the old or the new state and a
 * restarted agent carries on from there. Schema changes are numbered migrations (PRAGMA user_version).
 */
import type { DatabaseSync } from "node:sqlite";
import { str } from "../runtime/sqlite/columns.js";
import { openDatabase } from "../runtime/sqlite/database.js";
import type { Sql } from "../runtime/sqlite/sql.js";
import type { DealTerms } from "../sdk/deals/terms.js";
import { StrataError } from "../sdk/errors.js";
import { proposalToJson, termsToJson } from "./codec.js";
import { ComputeStore } from "./compute/store.js";
import { MIGRATIONS } from "./db/migrations.js";
import {
  toDeal,
  toPiece,
  toProof,
  toRetrievalChallenge,
  toUpload,
  type DealRecord,
  type PieceProblem,
  type PieceRecord,
  type ProofRecord,
  type RetrievalChallengeRecord,
  type RetrievalStatus,
  type Row,
  type UploadRecord,
  type UploadState,
} from "./db/records.js";

export type {
  ComputeBidTerms,
  ComputeOrderRecord,
  ComputeOrderState,
  LeaseRecord,
  LeaseRunState,
  LeaseState,
  WorkloadRecord,
  DealRecord,
  DealState,
  PieceProblem,
  PieceRecord,
  ProofRecord,
  ProofStatus,
  RetrievalChallengeRecord,
  RetrievalStatus,
  UploadRecord,
  UploadState,
} from "./db/records.js";

export class AgentDb {
  private readonly sql: Sql;
  private readonly db: DatabaseSync;
  private readonly now: () => number;
  /** Compute orders, leases and workload descriptions. */
  readonly compute: ComputeStore;

  private constructor(sql: Sql, now: () => number) {
    this.sql = sql;
    this.db = sql.db;
    this.now = now;
    this.compute = new ComputeStore(sql, now);
  }

  /** Open (creating if needed) and migrate the database at `path` (":memory:" for tests). */
  static open(path: string, now: () => number = Date.now): AgentDb {
    const sql = openDatabase(path, {
      errorCode: "AGENT_DB_ERROR",
      owner: "agent",
      migrations: MIGRATIONS,
      foreignKeys: true,
    });
    return new AgentDb(sql, now);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  get isOpen(): boolean {
    return this.db.isOpen;
  }

  /** Run `fn` in one transaction (nested calls join the outer one). */
  tx<T>(fn: () => T): T {
    return this.sql.tx(fn);
  }

  private one(sql: string, ...params: (string | number | null)[]): Row | undefined {
    return this.sql.one(sql, ...params);
  }

  private all(sql: string, ...params: (string | number | null)[]): Row[] {
    return this.sql.all(sql, ...params);
  }

  private run(sql: string, ...params: (string | number | null)[]): number {
    return this.sql.run(sql, ...params);
  }

  // ------------------------------------------------------------------ uploads

  /** Insert a new upload; returns false (and changes nothing) when (client, nonce) is already known. */
  insertUpload(
    u: Omit<UploadRecord, "state" | "dealId" | "txHash" | "reason" | "attempts" | "createdAt" | "updatedAt">,
  ): boolean {
    const at = this.now();
    return this.tx(() => {
      if (this.uploadByClientNonce(u.client, u.nonce)) return false;
      this.run(
        `INSERT INTO uploads (id, client, nonce, proposal, signature, size, root, state, created_block, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'awaiting-data', ?, ?, ?)`,
        u.id,
        u.client.toLowerCase(),
        u.nonce.toString(),
        JSON.stringify(proposalToJson(u.proposal)),
        u.signature,
        Number(u.size),
        u.root,
        u.createdBlock,
        at,
        at,
      );
      return true;
    });
  }

  upload(id: string): UploadRecord | undefined {
    const row = this.one("SELECT * FROM uploads WHERE id = ?", id);
    return row && toUpload(row);
  }

  uploadByClientNonce(client: string, nonce: bigint): UploadRecord | undefined {
    const row = this.one(
      "SELECT * FROM uploads WHERE client = ? AND nonce = ?",
      client.toLowerCase(),
      nonce.toString(),
    );
    return row && toUpload(row);
  }

  /** Block at which the earliest upload was proposed (nothing about this provider's deals happened before). */
  earliestUploadBlock(): number | undefined {
    const row = this.one("SELECT MIN(created_block) AS n FROM uploads");
    const value = row?.n;
    return value === null || value === undefined ? undefined : Number(value);
  }

  uploadsInState(state: UploadState, limit = 1000): UploadRecord[] {
    return this.all(
      "SELECT * FROM uploads WHERE state = ? ORDER BY created_at, id LIMIT ?",
      state,
      limit,
    ).map(toUpload);
  }

  /** Move an upload to `state`, optionally setting txHash / reason / dealId; counts attempts on demand. */
  setUploadState(
    id: string,
    state: UploadState,
    fields: {
      txHash?: string | null;
      reason?: string | null;
      dealId?: bigint | null;
      attempt?: boolean;
    } = {},
  ): void {
    const current = this.upload(id);
    if (!current) throw new StrataError("AGENT_DB_ERROR", `unknown upload ${id}`);
    this.run(
      "UPDATE uploads SET state = ?, tx_hash = ?, reason = ?, deal_id = ?, attempts = ?, updated_at = ? WHERE id = ?",
      state,
      fields.txHash === undefined ? current.txHash : fields.txHash,
      fields.reason === undefined ? current.reason : fields.reason,
      fields.dealId === undefined
        ? (current.dealId?.toString() ?? null)
        : (fields.dealId?.toString() ?? null),
      current.attempts + (fields.attempt === true ? 1 : 0),
      this.now(),
      id,
    );
  }

  /** The upload's bytes are stored and verified: record the piece and accept the upload, atomically. */
  acceptUpload(id: string, piece: { root: string; size: bigint; path: string }): void {
    this.tx(() => {
      this.putPiece({ ...piece, ok: true, problem: null, verifiedAt: this.now() });
      this.setUploadState(id, "accepted", { reason: null });
    });
  }

  /** A DealPublished event for this upload: record the deal and the published upload, atomically. */
  recordPublished(uploadId: string, terms: DealTerms, txHash: string): void {
    this.tx(() => {
      if (!this.deal(terms.id)) {
        const at = this.now();
        this.run(
          `INSERT INTO deals (id, terms, root, upload_id, state, last_settled_at, end_reason, created_at, updated_at)
           VALUES (?, ?, ?, ?, 'active', NULL, NULL, ?, ?)`,
          terms.id.toString(),
          JSON.stringify(termsToJson(terms)),
          terms.root.toLowerCase(),
          uploadId,
          at,
          at,
        );
      }
      this.setUploadState(uploadId, "published", { txHash, dealId: terms.id, reason: null });
    });
  }

  // ------------------------------------------------------------------ deals

  deal(id: bigint): DealRecord | undefined {
    const row = this.one("SELECT * FROM deals WHERE id = ?", id.toString());
    return row && toDeal(row);
  }

  activeDeals(): DealRecord[] {
    return this.all("SELECT * FROM deals WHERE state = 'active' ORDER BY CAST(id AS INTEGER)").map(toDeal);
  }

  endDeal(id: bigint, reason: string): void {
    this.run(
      "UPDATE deals SET state = 'ended', end_reason = ?, updated_at = ? WHERE id = ?",
      reason,
      this.now(),
      id.toString(),
    );
  }

  setDealSettled(id: bigint, period: bigint): void {
    this.run(
      "UPDATE deals SET last_settled_at = ?, updated_at = ? WHERE id = ?",
      Number(period),
      this.now(),
      id.toString(),
    );
  }

  /** New terms after an extension (the end period changed). */
  updateDealTerms(terms: DealTerms): void {
    this.run(
      "UPDATE deals SET terms = ?, updated_at = ? WHERE id = ?",
      JSON.stringify(termsToJson(terms)),
      this.now(),
      terms.id.toString(),
    );
  }

  // ------------------------------------------------------------------ pieces

  putPiece(p: Omit<PieceRecord, "createdAt">): void {
    this.run(
      `INSERT INTO pieces (root, size, path, verified_at, ok, problem, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (root) DO UPDATE SET size = excluded.size, path = excluded.path, verified_at = excluded.verified_at,
         ok = excluded.ok, problem = excluded.problem`,
      p.root.toLowerCase(),
      Number(p.size),
      p.path,
      p.verifiedAt,
      p.ok ? 1 : 0,
      p.problem,
      this.now(),
    );
  }

  piece(root: string): PieceRecord | undefined {
    const row = this.one("SELECT * FROM pieces WHERE root = ?", root.toLowerCase());
    return row && toPiece(row);
  }

  pieces(): PieceRecord[] {
    return this.all("SELECT * FROM pieces ORDER BY root").map(toPiece);
  }

  setPieceHealth(root: string, ok: boolean, problem: PieceProblem | null, verified: boolean): void {
    this.run(
      "UPDATE pieces SET ok = ?, problem = ?, verified_at = CASE WHEN ? THEN ? ELSE verified_at END WHERE root = ?",
      ok ? 1 : 0,
      problem,
      verified ? 1 : 0,
      this.now(),
      root.toLowerCase(),
    );
  }

  deletePiece(root: string): void {
    this.run("DELETE FROM pieces WHERE root = ?", root.toLowerCase());
  }

  /** Whether an active deal or an unfinished upload still needs the piece `root`. */
  pieceNeeded(root: string): boolean {
    const r = root.toLowerCase();
    const deal = this.one("SELECT 1 AS x FROM deals WHERE root = ? AND state = 'active' LIMIT 1", r);
    const upload = this.one(
      "SELECT 1 AS x FROM uploads WHERE root = ? AND state IN ('awaiting-data', 'accepted', 'publishing') LIMIT 1",
      r,
    );
    return deal !== undefined || upload !== undefined;
  }

  // ------------------------------------------------------------------ proofs

  proof(period: bigint): ProofRecord | undefined {
    const row = this.one("SELECT * FROM proofs WHERE period = ?", Number(period));
    return row && toProof(row);
  }

  putProof(p: Omit<ProofRecord, "at">): void {
    this.run(
      `INSERT INTO proofs (period, tx_hash, status, declared, at, error) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (period) DO UPDATE SET tx_hash = excluded.tx_hash, status = excluded.status,
         declared = excluded.declared, at = excluded.at, error = excluded.error`,
      Number(p.period),
      p.txHash,
      p.status,
      JSON.stringify(p.declared.map(String)),
      this.now(),
      p.error,
    );
  }

  lastConfirmedProof(): ProofRecord | undefined {
    const row = this.one("SELECT * FROM proofs WHERE status = 'confirmed' ORDER BY period DESC LIMIT 1");
    return row && toProof(row);
  }

  // ------------------------------------------------------------------ retrieval challenges

  /** Record a newly seen challenge (status open); false when it is already known. */
  insertRetrievalChallenge(
    c: Omit<RetrievalChallengeRecord, "status" | "txHash" | "error" | "createdAt" | "updatedAt">,
  ): boolean {
    const at = this.now();
    return (
      this.run(
        `INSERT OR IGNORE INTO retrieval_challenges
           (id, deal_id, leaf_index, deadline, bond, challenger, opened_block, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
        c.id.toString(),
        c.dealId.toString(),
        c.leafIndex,
        Number(c.deadline),
        c.bond.toString(),
        c.challenger.toLowerCase(),
        c.openedBlock,
        at,
        at,
      ) === 1
    );
  }

  retrievalChallenge(id: bigint): RetrievalChallengeRecord | undefined {
    const row = this.one("SELECT * FROM retrieval_challenges WHERE id = ?", id.toString());
    return row && toRetrievalChallenge(row);
  }

  /** Challenges in any of `statuses`, earliest deadline first. */
  retrievalChallenges(statuses: readonly RetrievalStatus[]): RetrievalChallengeRecord[] {
    if (statuses.length === 0) return [];
    return this.all(
      `SELECT * FROM retrieval_challenges WHERE status IN (${statuses.map(() => "?").join(", ")})
       ORDER BY deadline, CAST(id AS INTEGER)`,
      ...statuses,
    ).map(toRetrievalChallenge);
  }

  /** Move a challenge to `status`, optionally setting its transaction hash and error. */
  setRetrievalStatus(
    id: bigint,
    status: RetrievalStatus,
    fields: { txHash?: string | null; error?: string | null } = {},
  ): void {
    const current = this.retrievalChallenge(id);
    if (!current) throw new StrataError("AGENT_DB_ERROR", `unknown retrieval challenge ${id}`);
    this.run(
      "UPDATE retrieval_challenges SET status = ?, tx_hash = ?, error = ?, updated_at = ? WHERE id = ?",
      status,
      fields.txHash === undefined ? current.txHash : fields.txHash,
      fields.error === undefined ? current.error : fields.error,
      this.now(),
      id.toString(),
    );
  }

  // ------------------------------------------------------------------ kv and counts

  getKv(key: string): string | undefined {
    const row = this.one("SELECT value FROM kv WHERE key = ?", key);
    return row === undefined ? undefined : str(row, "value");
  }

  setKv(key: string, value: string): void {
    this.run(
      "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  counts(): {
    activeDeals: number;
    publishedDeals: number;
    pendingUploads: number;
    pieces: number;
    bytesStored: bigint;
  } {
    const n = (sql: string): number => Number(this.one(sql)?.n ?? 0);
    return {
      activeDeals: n("SELECT COUNT(*) AS n FROM deals WHERE state = 'active'"),
      publishedDeals: n("SELECT COUNT(*) AS n FROM deals"),
      pendingUploads: n(
        "SELECT COUNT(*) AS n FROM uploads WHERE state IN ('awaiting-data', 'accepted', 'publishing')",
      ),
      pieces: n("SELECT COUNT(*) AS n FROM pieces"),
      bytesStored: BigInt(n("SELECT COALESCE(SUM(size), 0) AS n FROM pieces")),
    };
  }
}
