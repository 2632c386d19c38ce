/**
 * The agent's durable state in SQLite (node:sqlite, WAL): data sets and their signed states, pieces, proofs, retrieval
 * challenges, compute orders, leases and workloads (`compute`, see compute/store.ts) and a key-value table. Every state change runs in one transaction, so a crash leaves either the old or the new state and a
 * restarted agent carries on from there. Schema changes are numbered migrations (PRAGMA user_version).
 */
import type { DatabaseSync } from "node:sqlite";
import { str } from "../runtime/sqlite/columns.js";
import { openDatabase } from "../runtime/sqlite/database.js";
import type { Sql } from "../runtime/sqlite/sql.js";
import { StrataError } from "../sdk/errors.js";
import { ComputeStore } from "./compute/store.js";
import { DataSetStore } from "./datasets/store.js";
import { PublicFileStore } from "./files/publicFileStore.js";
import { MIGRATIONS } from "./db/migrations.js";
import { PermanentStore } from "./permanent/store.js";
import {
  toPiece,
  toProof,
  toRetrievalChallenge,
  type PieceProblem,
  type PieceRecord,
  type ProofRecord,
  type RetrievalChallengeRecord,
  type RetrievalStatus,
  type Row,
} from "./db/records.js";

export type { DataSetRecord, DataSetStatus, StateRecord, StateStatus } from "./datasets/store.js";
export type {
  ComputeBidTerms,
  ComputeOrderRecord,
  ComputeOrderState,
  LeaseRecord,
  LeaseRunState,
  LeaseState,
  WorkloadRecord,
  PieceProblem,
  PieceRecord,
  ProofRecord,
  ProofStatus,
  RetrievalChallengeRecord,
  RetrievalStatus,
} from "./db/records.js";

export class AgentDb {
  private readonly sql: Sql;
  private readonly db: DatabaseSync;
  private readonly now: () => number;
  /** Compute orders, leases and workload descriptions. */
  readonly compute: ComputeStore;
  /** Data sets and their signed states. */
  readonly dataSets: DataSetStore;
  /** The verified indexes of public pieces. */
  readonly publicFiles: PublicFileStore;

  /** Permanent files: staged pieces and this provider's slots. */
  readonly permanent: PermanentStore;

  private constructor(sql: Sql, now: () => number) {
    this.sql = sql;
    this.db = sql.db;
    this.now = now;
    this.compute = new ComputeStore(sql, now);
    this.dataSets = new DataSetStore(sql, now);
    this.publicFiles = new PublicFileStore(sql, now);

    this.permanent = new PermanentStore(sql, now);
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

  /** Forget a piece, and the public index of its files (a piece stored again needs its index sent again). */
  deletePiece(root: string): void {
    this.tx(() => {
      this.run("DELETE FROM pieces WHERE root = ?", root.toLowerCase());
      this.run("DELETE FROM public_files WHERE root = ?", root.toLowerCase());
    });
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
           (id, data_set_id, leaf_index, deadline, bond, challenger, opened_block, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
        c.id.toString(),
        c.dataSetId.toString(),
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

  counts(): { pieces: number; bytesStored: bigint } {
    const n = (sql: string): number => Number(this.one(sql)?.n ?? 0);
    return {
      pieces: n("SELECT COUNT(*) AS n FROM pieces"),
      bytesStored: BigInt(n("SELECT COALESCE(SUM(size), 0) AS n FROM pieces")),
    };
  }
}
