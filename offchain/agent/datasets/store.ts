/**
 * The provider's data sets in SQLite: the signed creation terms of each data set it opened, and every signed
 * state it accepted with the layout (placed pieces) behind it. The newest state wins; older ones stay so that the
 * layout frozen for a past period can be rebuilt (the prover answers from it) and as evidence of what the client
 * signed.
 */
import { z } from "zod";
import { num, optNum, optStr, str } from "../../runtime/sqlite/columns.js";
import type { Row, Sql } from "../../runtime/sqlite/sql.js";
import { createDataSetSchema, placedPieceSchema, type SizedPlacedPiece } from "../../sdk/api/datasets.js";
import type { CreateDataSet, DataSetState } from "../../sdk/datasets/eip712.js";

/** Database key (kv) of the block of the provider's first data set (event scans start there). */
export const FIRST_DATA_SET_BLOCK_KEY = "dataSets.firstBlock";

export type DataSetStatus = "live" | "ending" | "finalized";
/** queued (accepted, not yet sent) -> submitted (in an updateDataSets transaction) -> applied | skipped | superseded. */
export type StateStatus = "queued" | "submitted" | "applied" | "skipped" | "superseded";

export interface DataSetRecord {
  id: bigint;
  client: string;
  nonce: bigint;
  terms: CreateDataSet;
  signature: string;
  txHash: string;
  status: DataSetStatus;
}

export interface StateRecord {
  state: DataSetState;
  signer: string;
  signature: string;
  layout: SizedPlacedPiece[];
  status: StateStatus;
  txHash: string | null;
  /** The first provider period challenged and paid at this state (DataSetUpdated.effectivePeriod). */
  effectivePeriod: bigint | null;
}

const layoutSchema = z.array(placedPieceSchema);

function toDataSet(row: Row): DataSetRecord {
  return {
    id: BigInt(str(row, "id")),
    client: str(row, "client"),
    nonce: BigInt(str(row, "nonce")),
    terms: createDataSetSchema.parse(JSON.parse(str(row, "terms"))),
    signature: str(row, "signature"),
    txHash: str(row, "tx_hash"),
    status: str(row, "status") as DataSetStatus,
  };
}

function toState(row: Row): StateRecord {
  const effective = optNum(row, "effective_period");
  return {
    state: {
      dataSetId: BigInt(str(row, "data_set_id")),
      version: BigInt(num(row, "version")),
      root: str(row, "root"),
      span: BigInt(num(row, "span")),
    },
    signer: str(row, "signer"),
    signature: str(row, "signature"),
    layout: layoutSchema.parse(JSON.parse(str(row, "layout"))),
    status: str(row, "status") as StateStatus,
    txHash: optStr(row, "tx_hash"),
    effectivePeriod: effective === null ? null : BigInt(effective),
  };
}

export class DataSetStore {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {}

  /** Record a data set created on chain (idempotent on its id). */
  insertDataSet(record: Omit<DataSetRecord, "status">): void {
    const at = this.now();
    this.sql.run(
      `INSERT OR IGNORE INTO data_sets (id, client, nonce, terms, signature, tx_hash, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'live', ?, ?)`,
      record.id.toString(),
      record.client.toLowerCase(),
      record.nonce.toString(),
      JSON.stringify(createDataSetSchema.encode(record.terms)),
      record.signature,
      record.txHash,
      at,
      at,
    );
  }

  dataSet(id: bigint): DataSetRecord | undefined {
    const row = this.sql.one("SELECT * FROM data_sets WHERE id = ?", id.toString());
    return row && toDataSet(row);
  }

  byClientNonce(client: string, nonce: bigint): DataSetRecord | undefined {
    const row = this.sql.one(
      "SELECT * FROM data_sets WHERE client = ? AND nonce = ?",
      client.toLowerCase(),
      nonce.toString(),
    );
    return row && toDataSet(row);
  }

  /** Data sets in any of `statuses`, by id. */
  dataSets(statuses: readonly DataSetStatus[] = ["live", "ending"]): DataSetRecord[] {
    if (statuses.length === 0) return [];
    return this.sql
      .all(
        `SELECT * FROM data_sets WHERE status IN (${statuses.map(() => "?").join(", ")}) ORDER BY CAST(id AS INTEGER)`,
        ...statuses,
      )
      .map(toDataSet);
  }

  setStatus(id: bigint, status: DataSetStatus): void {
    this.sql.run(
      "UPDATE data_sets SET status = ?, updated_at = ? WHERE id = ?",
      status,
      this.now(),
      id.toString(),
    );
  }

  /** Keep a verified signed state (queued for submission); older queued states of the data set are superseded. */
  putState(record: Omit<StateRecord, "status" | "txHash" | "effectivePeriod">): void {
    const { state } = record;
    this.sql.tx(() => {
      this.sql.run(
        "UPDATE data_set_states SET status = 'superseded' WHERE data_set_id = ? AND status = 'queued'",
        state.dataSetId.toString(),
      );
      this.sql.run(
        `INSERT INTO data_set_states (data_set_id, version, root, span, signer, signature, layout, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?)`,
        state.dataSetId.toString(),
        Number(state.version),
        state.root.toLowerCase(),
        Number(state.span),
        record.signer.toLowerCase(),
        record.signature,
        JSON.stringify(layoutSchema.encode(record.layout)),
        this.now(),
      );
    });
  }

  /** The newest accepted state of data set `id` (any status), or undefined when none was signed yet. */
  newestState(id: bigint): StateRecord | undefined {
    const row = this.sql.one(
      "SELECT * FROM data_set_states WHERE data_set_id = ? ORDER BY version DESC LIMIT 1",
      id.toString(),
    );
    return row && toState(row);
  }

  state(id: bigint, version: bigint): StateRecord | undefined {
    const row = this.sql.one(
      "SELECT * FROM data_set_states WHERE data_set_id = ? AND version = ?",
      id.toString(),
      Number(version),
    );
    return row && toState(row);
  }

  /** The newest queued state of each data set, oldest data set first, at most `limit`. */
  queuedStates(limit: number): StateRecord[] {
    return this.sql
      .all(
        `SELECT * FROM data_set_states WHERE status = 'queued' ORDER BY CAST(data_set_id AS INTEGER) LIMIT ?`,
        limit,
      )
      .map(toState);
  }

  /** States sent and not yet resolved (applied or skipped). */
  submittedStates(): StateRecord[] {
    return this.sql.all("SELECT * FROM data_set_states WHERE status = 'submitted'").map(toState);
  }

  setStateStatus(
    id: bigint,
    version: bigint,
    status: StateStatus,
    fields: { txHash?: string; effectivePeriod?: bigint } = {},
  ): void {
    this.sql.run(
      `UPDATE data_set_states SET status = ?, tx_hash = COALESCE(?, tx_hash),
         effective_period = COALESCE(?, effective_period)
       WHERE data_set_id = ? AND version = ?`,
      status,
      fields.txHash ?? null,
      fields.effectivePeriod === undefined ? null : Number(fields.effectivePeriod),
      id.toString(),
      Number(version),
    );
  }

  /** The state frozen for the provider's `period`: the newest applied state effective at or before it. */
  frozenState(id: bigint, period: bigint): StateRecord | undefined {
    const row = this.sql.one(
      `SELECT * FROM data_set_states WHERE data_set_id = ? AND status = 'applied' AND effective_period <= ?
       ORDER BY version DESC LIMIT 1`,
      id.toString(),
      Number(period),
    );
    return row && toState(row);
  }

  /** The state the chain holds at `version` (applied), for openings against the current on-chain root. */
  appliedState(id: bigint, version: bigint): StateRecord | undefined {
    const record = this.state(id, version);
    return record?.status === "applied" ? record : undefined;
  }

  /**
   * Piece roots some state still needs: queued and submitted states, and for each data set not finalized every
   * applied state that is or may become frozen for a period from `fromPeriod` on (the newest one effective at
   * `fromPeriod` and all later ones). A removed piece thus stays on disk until its removal is frozen.
   */
  neededRoots(fromPeriod: bigint): Set<string> {
    const rows = this.sql.all(
      `SELECT s.* FROM data_set_states s JOIN data_sets d ON d.id = s.data_set_id
       WHERE d.status != 'finalized' AND s.status IN ('queued', 'submitted', 'applied')
       ORDER BY CAST(s.data_set_id AS INTEGER), s.version DESC`,
    );
    const roots = new Set<string>();
    let current: bigint | undefined;
    let reachedFrozen = false;
    for (const row of rows) {
      const record = toState(row);
      if (record.state.dataSetId !== current) {
        current = record.state.dataSetId;
        reachedFrozen = false;
      }
      if (record.status === "applied") {
        if (reachedFrozen) continue;
        if (record.effectivePeriod === null || record.effectivePeriod <= fromPeriod) reachedFrozen = true;
      }
      for (const piece of record.layout) roots.add(piece.root);
    }
    return roots;
  }

  counts(): { live: number; ending: number; pendingStates: number } {
    const n = (sql: string): number => Number(this.sql.one(sql)?.n ?? 0);
    return {
      live: n("SELECT COUNT(*) AS n FROM data_sets WHERE status = 'live'"),
      ending: n("SELECT COUNT(*) AS n FROM data_sets WHERE status = 'ending'"),
      pendingStates: n("SELECT COUNT(*) AS n FROM data_set_states WHERE status IN ('queued', 'submitted')"),
    };
  }
}
