/**
 * The repair duty's tables (docs/SPEC.md §16.1): mandates learned from the RepairMandateFactory's events with the
 * brief (piece list and coding) that lets the worker repair them, and every repair it drives with its stage.
 * Worker-local: a mandate's event is re-read from its block after a reorg (INSERT OR IGNORE keeps it once).
 */
import { getAddress } from "ethers";
import type { RepairRecord, RepairStage } from "../../sdk/repair/driver.js";
import { num, optStr, str } from "../../runtime/sqlite/columns.js";
import type { Row, Sql } from "../../runtime/sqlite/sql.js";

/** A mandate as the worker knows it. */
export interface MandateRow {
  mandate: string;
  owner: string;
  piecesRoot: string;
  pieceCount: number;
  blockNumber: number;
  /** The brief's JSON once one was found for it (checked against `piecesRoot`), else null. */
  brief: string | null;
  /** Why the last brief found for it was refused. */
  briefError: string | null;
}

const OPEN_STAGES: readonly RepairStage[] = ["opened", "created", "bound", "uploaded"];

function toMandate(row: Row): MandateRow {
  return {
    mandate: str(row, "mandate"),
    owner: str(row, "owner"),
    piecesRoot: str(row, "pieces_root"),
    pieceCount: num(row, "piece_count"),
    blockNumber: num(row, "block_number"),
    brief: optStr(row, "brief"),
    briefError: optStr(row, "brief_error"),
  };
}

function toRepair(row: Row): RepairRecord {
  const dataSetId = optStr(row, "data_set_id");
  return {
    mandate: str(row, "mandate"),
    index: num(row, "piece_index"),
    repairId: BigInt(str(row, "repair_id")),
    stage: str(row, "stage") as RepairStage,
    provider: str(row, "provider"),
    endpoint: str(row, "endpoint"),
    dataSetId: dataSetId === null ? null : BigInt(dataSetId),
  };
}

/** Queries over the repair tables, bound to one database. */
export class RepairTables {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {}

  /** Record a mandate seen in a MandateOpened event (once). */
  addMandate(m: Omit<MandateRow, "brief" | "briefError">): void {
    this.sql.run(
      `INSERT OR IGNORE INTO repair_mandates (mandate, owner, pieces_root, piece_count, block_number)
       VALUES (?, ?, ?, ?, ?)`,
      getAddress(m.mandate),
      getAddress(m.owner),
      m.piecesRoot.toLowerCase(),
      m.pieceCount,
      m.blockNumber,
    );
  }

  mandates(): MandateRow[] {
    return this.sql.all("SELECT * FROM repair_mandates ORDER BY block_number, mandate").map(toMandate);
  }

  mandate(address: string): MandateRow | undefined {
    const row = this.sql.one("SELECT * FROM repair_mandates WHERE mandate = ?", getAddress(address));
    return row === undefined ? undefined : toMandate(row);
  }

  /** Store the checked brief of a mandate, or why the one found was refused. */
  setBrief(address: string, brief: string | null, error: string | null): void {
    this.sql.run(
      "UPDATE repair_mandates SET brief = ?, brief_error = ?, checked_at = ? WHERE mandate = ?",
      brief,
      error,
      this.now(),
      getAddress(address),
    );
  }

  /** The unfinished repair of a piece (not claimed, not cancelled), if any. */
  openRepair(mandate: string, index: number): RepairRecord | null {
    const row = this.sql.one(
      `SELECT * FROM repairs WHERE mandate = ? AND piece_index = ? AND stage IN (${OPEN_STAGES.map(() => "?").join(", ")})
       ORDER BY updated_at DESC LIMIT 1`,
      getAddress(mandate),
      index,
      ...OPEN_STAGES,
    );
    return row === undefined ? null : toRepair(row);
  }

  /** Insert or move a repair to its new stage. */
  saveRepair(record: RepairRecord, error: string | null = null): void {
    this.sql.run(
      `INSERT INTO repairs (mandate, piece_index, repair_id, stage, provider, endpoint, data_set_id, error, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (mandate, piece_index, repair_id) DO UPDATE SET stage = excluded.stage,
         data_set_id = excluded.data_set_id, error = excluded.error, updated_at = excluded.updated_at`,
      getAddress(record.mandate),
      record.index,
      record.repairId.toString(),
      record.stage,
      getAddress(record.provider),
      record.endpoint,
      record.dataSetId === null ? null : record.dataSetId.toString(),
      error,
      this.now(),
    );
  }

  /** Every repair recorded, newest first (at most `limit`). */
  repairs(limit = 100): RepairRecord[] {
    return this.sql.all("SELECT * FROM repairs ORDER BY updated_at DESC LIMIT ?", limit).map(toRepair);
  }
}
