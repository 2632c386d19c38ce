/**
 * The worker database (node:sqlite, WAL): the chain index (events of the market, the registry, the
 * retrieval-challenge contract and the compute market, with the cursor and recent block hashes) and the
 * worker's own records.
 * Each indexer step is applied in one transaction with the new cursor, so a process killed at any point
 * restarts from a consistent index; UNIQUE constraints everywhere make re-applying harmless.
 */
import type { DatabaseSync } from "node:sqlite";
import { getAddress } from "ethers";
import { StrataError } from "../../sdk/errors.js";
import * as chain from "./chainQueries.js";
import { deleteAbove, insertEvent, putReplayCheckpoint, recordBlocks } from "./chainWrites.js";
import type { IndexBatch, IndexedEvent } from "./events.js";
import * as leases from "./leaseQueries.js";
import { pruneHeartbeats } from "./leaseWrites.js";
import * as local from "./localTables.js";
import { CHAIN_TABLES, MIGRATIONS } from "./migrations.js";
import { RepairTables } from "./repairQueries.js";
import type {
  ActionRecord,
  ActionStatus,
  AlertRecord,
  IndexedDataSet,
  MissedReportRecord,
  ProofCheckRecord,
  ProofRecord,
  ProofVerdict,
  ProviderRecord,
  RetrievalChallengeRecord,
  SampleRecord,
  SeedRecord,
  SlashRecord,
} from "./records.js";
import { num, str } from "../../runtime/sqlite/columns.js";
import { openDatabase, schemaVersion } from "../../runtime/sqlite/database.js";
import type { Sql } from "../../runtime/sqlite/sql.js";

export type * from "./records.js";
export type { ChainPosition, ComputeEvent, IndexBatch, IndexedEvent, IndexedEventKind } from "./events.js";
export type {
  ComputeOrderStatus,
  IndexedBid,
  IndexedLease,
  IndexedOrder,
  LeaseCloseRecord,
  LeaseMissedReportRecord,
  OpenLeasesQuery,
} from "./leaseQueries.js";
export type { ActionUpdate } from "./localTables.js";
export type { Before, EventRange, OpenDataSetsQuery } from "./chainQueries.js";
export { dataSetStatus, TERMINAL_ACTION_STATUSES } from "./records.js";
export { KEPT_BLOCK_HASHES, KEPT_REPLAY_CHECKPOINTS } from "./chainWrites.js";
export { KEPT_SAMPLES_PER_DATA_SET } from "./localTables.js";

/** What a database is for: a worker refuses a database made for another chain or deployment. */
export interface DbIdentity {
  chainId: bigint;
  market: string;
  registry: string;
  retrievalChallenges: string | null;
  /**
   * The compute market whose events the index holds (null: none). Optional here: the indexer binds it itself
   * (`bindComputeMarket`) so that every way of opening an index checks it.
   */
  computeMarket?: string | null;
}

export interface IndexCounts {
  dataSets: number;
  openDataSets: number;
  providers: number;
  proofs: number;
  uncheckedProofs: number;
  proofMismatches: number;
  missedReports: number;
  openChallenges: number;
  openLeases: number;
  pendingActions: number;
  alerts: number;
}

export class WorkerDb {
  private readonly db: DatabaseSync;

  private constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {
    this.db = sql.db;
  }

  /** Open (creating folders and file if needed) and migrate the database at `path` (":memory:" for tests). */
  static open(path: string, now: () => number = Date.now): WorkerDb {
    const sql = openDatabase(path, {
      errorCode: "WORKER_DB_ERROR",
      owner: "worker",
      migrations: MIGRATIONS,
      createFolder: true,
      openDetails: "check that the folder is writable and that no other program holds the file",
      newerDetails: "run a newer worker, or point --db at a new file",
    });
    return new WorkerDb(sql, now);
  }

  /** The underlying handle, for queries a duty needs that are not methods here (read-only use, please). */
  get handle(): DatabaseSync {
    return this.db;
  }

  get isOpen(): boolean {
    return this.db.isOpen;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /** Run `fn` in one transaction (nested calls join the outer one). */
  tx<T>(fn: () => T): T {
    return this.sql.tx(fn);
  }

  /** Schema version (PRAGMA user_version). */
  schemaVersion(): number {
    return schemaVersion(this.sql);
  }

  // ------------------------------------------------------------------ meta

  getMeta(key: string): string | undefined {
    const row = this.sql.one("SELECT value FROM meta WHERE key = ?", key);
    return row === undefined ? undefined : str(row, "value");
  }

  setMeta(key: string, value: string): void {
    this.sql.run(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  /**
   * Bind a fresh database to `identity`, or check that an existing one was made for it: another chain, market,
   * registry or retrieval-challenge contract throws WORKER_DB_MISMATCH (its index would be wrong here).
   */
  bindIdentity(identity: DbIdentity): void {
    const wanted: Record<string, string> = {
      chain_id: identity.chainId.toString(),
      market: getAddress(identity.market),
      registry: getAddress(identity.registry),
      retrieval_challenges:
        identity.retrievalChallenges === null ? "none" : getAddress(identity.retrievalChallenges),
    };
    this.sql.tx(() => {
      const mismatches: string[] = [];
      for (const [key, value] of Object.entries(wanted)) {
        const stored = this.getMeta(key);
        if (stored === undefined) this.setMeta(key, value);
        else if (stored !== value) mismatches.push(`${key}: database ${stored}, configuration ${value}`);
      }
      if (identity.computeMarket !== undefined) {
        const problem = this.computeMarketMismatch(identity.computeMarket);
        if (problem !== null) mismatches.push(problem);
      }
      if (mismatches.length > 0) {
        throw new StrataError(
          "WORKER_DB_MISMATCH",
          `the worker database was made for another chain or deployment (${mismatches[0] ?? ""})`,
          {
            details: `${mismatches.join("\n")}\npoint --db at another file, or delete this one to index again`,
          },
        );
      }
    });
  }

  /**
   * Bind the index to the compute market it follows (null: none), or check it: an index built without the
   * compute market (including one made before this worker indexed it) lacks its history, and one built for
   * another compute market holds the wrong one; both throw WORKER_DB_MISMATCH.
   */
  bindComputeMarket(computeMarket: string | null): void {
    this.sql.tx(() => {
      const problem = this.computeMarketMismatch(computeMarket);
      if (problem === null) return;
      throw new StrataError(
        "WORKER_DB_MISMATCH",
        `the worker database was made for another compute market (${problem})`,
        {
          details: `${problem}\npoint --db at another file, or delete this one to index again`,
        },
      );
    });
  }

  /** Null when the index matches `computeMarket` (binding a fresh index to it), else what differs. */
  private computeMarketMismatch(computeMarket: string | null): string | null {
    const wanted = computeMarket === null ? "none" : getAddress(computeMarket);
    let stored = this.getMeta("compute_market");
    if (stored === undefined) {
      // An index with a cursor but no binding was built before compute events were indexed: without them.
      stored = this.cursor() === null ? wanted : "none";
      this.setMeta("compute_market", stored);
    }
    return stored === wanted ? null : `compute_market: database ${stored}, configuration ${wanted}`;
  }

  // ------------------------------------------------------------------ cursor and blocks

  /** The last block whose events are in the index; null for a fresh database. */
  cursor(): number | null {
    const value = this.getMeta("indexed_block");
    return value === undefined ? null : Number(value);
  }

  /** Start a fresh index so that the first batch begins at `startBlock` (no-op once a cursor exists). */
  initCursor(startBlock: number): void {
    this.sql.tx(() => {
      if (this.cursor() !== null) return;
      this.setMeta("start_block", String(startBlock));
      this.setMeta("indexed_block", String(startBlock - 1));
    });
  }

  /** The first block of this index (the cursor never rolls back below startBlock - 1). */
  startBlock(): number | null {
    const value = this.getMeta("start_block");
    return value === undefined ? null : Number(value);
  }

  /** Stored hash of block `n`, if kept. */
  blockHash(n: number): string | undefined {
    const row = this.sql.one("SELECT hash FROM blocks WHERE number = ?", n);
    return row === undefined ? undefined : str(row, "hash");
  }

  /** Stored block hashes, newest first (at most KEPT_BLOCK_HASHES). */
  recentBlocks(limit = 1024): { number: number; hash: string }[] {
    return this.sql
      .all("SELECT number, hash FROM blocks ORDER BY number DESC LIMIT ?", limit)
      .map((row) => ({ number: num(row, "number"), hash: str(row, "hash") }));
  }

  /**
   * Write one indexer step in ONE transaction: its events, block hashes and the new cursor (`batch.to`).
   * The batch must start right after the cursor (WORKER_DB_ERROR otherwise). Returns the rows inserted.
   */
  applyBatch(batch: IndexBatch): number {
    return this.sql.tx(() => {
      const cursor = this.cursor();
      if (cursor !== null && batch.from !== cursor + 1) {
        throw new StrataError(
          "WORKER_DB_ERROR",
          `batch ${batch.from}..${batch.to} does not follow the indexed block ${cursor}`,
        );
      }
      if (batch.to < batch.from) {
        throw new StrataError("WORKER_DB_ERROR", `empty batch range ${batch.from}..${batch.to}`);
      }
      let inserted = 0;
      for (const event of batch.events) inserted += insertEvent(this.sql, event);
      recordBlocks(this.sql, batch.blocks);
      if (batch.events.some((e) => e.kind === "HeartbeatPosted")) pruneHeartbeats(this.sql);
      if (this.startBlock() === null) this.setMeta("start_block", String(batch.from));
      this.setMeta("indexed_block", String(batch.to));
      return inserted;
    });
  }

  /**
   * Undo everything indexed above `block` (a reorg's common ancestor) in ONE transaction: chain-derived rows
   * of every table (proof checks included), block hashes, and the cursor. Returns the rows deleted.
   */
  rollbackTo(block: number): number {
    return this.sql.tx(() => {
      const deleted = deleteAbove(this.sql, block);
      const cursor = this.cursor();
      if (cursor !== null && cursor > block) this.setMeta("indexed_block", String(block));
      this.setMeta("rollbacks", String(this.rollbackCount() + 1));
      return deleted;
    });
  }

  /** Rollbacks this index went through (caches of index data start over when it changes). */
  rollbackCount(): number {
    return Number(this.getMeta("rollbacks") ?? "0");
  }

  // ------------------------------------------------------------------ chain index queries

  openDataSets(query: chain.OpenDataSetsQuery = {}): IndexedDataSet[] {
    return chain.openDataSets(this.sql, query);
  }

  /** Ids of live data sets (neither terminated nor finalized). */
  liveDataSetIds(): bigint[] {
    return chain.openDataSets(this.sql, { liveOnly: true }).map((set) => set.dataSetId);
  }

  dataSetById(id: bigint): IndexedDataSet | undefined {
    return chain.dataSetById(this.sql, id);
  }

  providersWithOpenDataSets(): string[] {
    return chain.providersWithOpenDataSets(this.sql);
  }

  /** The provider's replay events in `range` (chain order). */
  replayEvents(provider: string, range: chain.EventRange): IndexedEvent[] {
    return chain.replayEvents(this.sql, provider, range);
  }

  replayCheckpoint(
    provider: string,
    before: chain.Before,
  ): { at: chain.Before; snapshot: string } | undefined {
    return chain.replayCheckpoint(this.sql, provider, before);
  }

  /** Store a replay checkpoint (chain-derived: rolled back with a reorg). */
  putReplayCheckpoint(provider: string, at: chain.Before, snapshot: string): void {
    putReplayCheckpoint(this.sql, getAddress(provider), at, snapshot);
  }

  providerRecord(provider: string): ProviderRecord | undefined {
    return chain.providerRecord(this.sql, provider);
  }

  providerEndpoint(provider: string): string | null {
    return chain.providerEndpoint(this.sql, provider);
  }

  proofsSince(fromBlock: number, limit?: number): ProofRecord[] {
    return chain.proofsSince(this.sql, fromBlock, limit);
  }

  uncheckedProofs(limit?: number): ProofRecord[] {
    return chain.uncheckedProofs(this.sql, limit);
  }

  proofFor(provider: string, period: bigint): ProofRecord | undefined {
    return chain.proofFor(this.sql, provider, period);
  }

  seedFor(provider: string, period: bigint, before?: chain.Before): SeedRecord | undefined {
    return chain.seedFor(this.sql, provider, period, before);
  }

  declaredFaults(provider: string, period: bigint, before?: chain.Before): bigint[] {
    return chain.declaredFaults(this.sql, provider, period, before);
  }

  missedReports(provider: string): MissedReportRecord[] {
    return chain.missedReports(this.sql, provider);
  }

  providersWithMissedReports(): string[] {
    return chain.providersWithMissedReports(this.sql);
  }

  slashesInTx(txHash: string): SlashRecord[] {
    return chain.slashesInTx(this.sql, txHash);
  }

  openChallenges(filter?: { dataSetId?: bigint; challenger?: string }): RetrievalChallengeRecord[] {
    return chain.openChallenges(this.sql, filter);
  }

  challengeById(challengeId: bigint): RetrievalChallengeRecord | undefined {
    return chain.challengeById(this.sql, challengeId);
  }

  parametersAt(
    blockNumber: number,
    contract?: "market" | "retrieval" | "compute",
  ): Record<string, bigint> | undefined {
    return chain.parametersAt(this.sql, blockNumber, contract);
  }

  // ------------------------------------------------------------------ compute market index queries

  /** Leases started and not closed per the index, with their rebuilt position. */
  openLeases(query: leases.OpenLeasesQuery = {}): leases.IndexedLease[] {
    return leases.openLeases(this.sql, query);
  }

  leaseById(id: bigint): leases.IndexedLease | undefined {
    return leases.leaseById(this.sql, id);
  }

  /** The leases with the given ids (open or closed; unknown ids are left out), by id. */
  leasesByIds(ids: readonly bigint[]): leases.IndexedLease[] {
    return leases.leasesByIds(this.sql, ids);
  }

  /** Leases with an event in a block above `block` (their position may have changed since). */
  leaseIdsChangedSince(block: number): bigint[] {
    return leases.leaseIdsChangedSince(this.sql, block);
  }

  openLeaseCount(): number {
    return leases.openLeaseCount(this.sql);
  }

  leaseMissedReports(leaseId: bigint): leases.LeaseMissedReportRecord[] {
    return leases.leaseMissedReports(this.sql, leaseId);
  }

  orderById(id: bigint): leases.IndexedOrder | undefined {
    return leases.orderById(this.sql, id);
  }

  bidsOn(orderId: bigint): leases.IndexedBid[] {
    return leases.bidsOn(this.sql, orderId);
  }

  openDataSetCount(): number {
    return chain.openDataSetCount(this.sql);
  }

  /** Row counts for /health, metrics and tests. */
  counts(): IndexCounts {
    const n = (query: string): number => this.sql.count(query);
    return {
      dataSets: n("SELECT COUNT(*) AS n FROM data_sets"),
      openDataSets: this.openDataSetCount(),
      providers: n("SELECT COUNT(DISTINCT provider) AS n FROM providers"),
      proofs: n("SELECT COUNT(*) AS n FROM proofs"),
      uncheckedProofs: n(
        "SELECT COUNT(*) AS n FROM proofs p WHERE NOT EXISTS (SELECT 1 FROM proof_checks c WHERE c.tx_hash = p.tx_hash)",
      ),
      proofMismatches: n("SELECT COUNT(*) AS n FROM proof_checks WHERE verdict = 'mismatch'"),
      missedReports: n("SELECT COUNT(*) AS n FROM missed_reports"),
      openChallenges: n(
        `SELECT COUNT(*) AS n FROM retrieval_challenges o WHERE o.kind = 'opened' AND NOT EXISTS
           (SELECT 1 FROM retrieval_challenges r WHERE r.challenge_id = o.challenge_id AND r.kind <> 'opened')`,
      ),
      openLeases: this.openLeaseCount(),
      pendingActions: n("SELECT COUNT(*) AS n FROM actions WHERE status IN ('pending', 'sent')"),
      alerts: n("SELECT COUNT(*) AS n FROM alerts"),
    };
  }

  /**
   * Every chain-derived row as sorted JSON lines per table (tests compare two indexes with it). Not for
   * production use on big databases.
   */
  dumpChainTables(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const table of CHAIN_TABLES) {
      const rows = this.sql.all(`SELECT * FROM ${table}`);
      out[table] = rows
        .map((row) => {
          const copy: Record<string, unknown> = { ...row };
          if (table === "proof_checks") delete copy.checked_at;
          return JSON.stringify(copy);
        })
        .sort();
    }
    return out;
  }

  // ------------------------------------------------------------------ worker-local records

  /** The action (kind, subject, key): the existing row or a new `pending` one (durable "decide once"). */
  claimAction(kind: string, subject: string, key: string): ActionRecord {
    return local.claimAction(this.sql, kind, subject, key, this.now());
  }

  updateAction(id: number, update: local.ActionUpdate): ActionRecord | undefined {
    return local.updateAction(this.sql, id, update, this.now());
  }

  action(kind: string, subject: string, key: string): ActionRecord | undefined {
    return local.actionOf(this.sql, kind, subject, key);
  }

  actions(filter?: { kind?: string; statuses?: readonly ActionStatus[]; subject?: string }): ActionRecord[] {
    return local.actions(this.sql, filter);
  }

  putProofCheck(check: Omit<ProofCheckRecord, "checkedAt">): void {
    local.putProofCheck(this.sql, check, this.now());
  }

  proofCheck(txHash: string): ProofCheckRecord | undefined {
    return local.proofCheck(this.sql, txHash);
  }

  proofChecks(filter?: { provider?: string; verdict?: ProofVerdict }): ProofCheckRecord[] {
    return local.proofChecks(this.sql, filter);
  }

  insertSample(sample: Omit<SampleRecord, "id" | "at">): number {
    return local.insertSample(this.sql, sample, this.now());
  }

  recentSamples(dataSetId: bigint, limit?: number): SampleRecord[] {
    return local.recentSamples(this.sql, dataSetId, limit);
  }

  insertAlert(alert: Omit<AlertRecord, "id" | "at">): number {
    return local.insertAlert(this.sql, alert, this.now());
  }

  alerts(filter?: { kind?: string; limit?: number }): AlertRecord[] {
    return local.alerts(this.sql, filter);
  }

  /** The repair duty's mandates and repairs. */
  get repairs(): RepairTables {
    return new RepairTables(this.sql, this.now);
  }
}
