/**
 * The agent's permanent-storage state in SQLite: pieces staged here by uploaders, and this provider's part in
 * each permanent file (one slot per file at a time, the contract refusing a second), so that a restarted agent
 * resumes each slot where it stood (docs/SPEC.md §16.2).
 */
import { z } from "zod";
import { num, optStr, str } from "../../runtime/sqlite/columns.js";
import type { Row, Sql } from "../../runtime/sqlite/sql.js";

/** A piece an uploader staged here: its commitment, size and proof in the file's piece list. */
export interface StagedPiece {
  fileId: bigint;
  index: number;
  root: string;
  size: number;
  proof: string[];
}

/**
 * This provider's slot of a permanent file:
 * offered (best offer, window open) -> awarded (the contract approved its data set) -> created (data set open)
 * -> placed (piece bound and funded; state queued) -> live (confirmed); outbid (a cheaper offer took the slot),
 * lapsed / lost (the slot reopened without us), failed (gave up: see `note`).
 */
export type PermanentSlotState =
  "offered" | "outbid" | "awarded" | "created" | "placed" | "live" | "lapsed" | "lost" | "failed";

export interface PermanentSlotRecord {
  fileId: bigint;
  index: number;
  state: PermanentSlotState;
  price: bigint;
  dataSetId: bigint | null;
  pieceRoot: string | null;
  note: string | null;
}

/** States in which the slot is this provider's business (at most one per file). */
export const ACTIVE_SLOT_STATES: readonly PermanentSlotState[] = [
  "offered",
  "awarded",
  "created",
  "placed",
  "live",
];

const proofSchema = z.array(z.string());

function toStaged(row: Row): StagedPiece {
  return {
    fileId: BigInt(str(row, "file_id")),
    index: num(row, "idx"),
    root: str(row, "root"),
    size: num(row, "size"),
    proof: proofSchema.parse(JSON.parse(str(row, "proof"))),
  };
}

function toSlot(row: Row): PermanentSlotRecord {
  const dataSetId = optStr(row, "data_set_id");
  return {
    fileId: BigInt(str(row, "file_id")),
    index: num(row, "idx"),
    state: str(row, "state") as PermanentSlotState,
    price: BigInt(str(row, "price")),
    dataSetId: dataSetId === null ? null : BigInt(dataSetId),
    pieceRoot: optStr(row, "piece_root"),
    note: optStr(row, "note"),
  };
}

export class PermanentStore {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {}

  putStaged(piece: StagedPiece): void {
    this.sql.run(
      `INSERT OR REPLACE INTO permanent_staged (file_id, idx, root, size, proof, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
      piece.fileId.toString(),
      piece.index,
      piece.root.toLowerCase(),
      piece.size,
      JSON.stringify(piece.proof),
      this.now(),
    );
  }

  staged(fileId: bigint, index: number): StagedPiece | undefined {
    const row = this.sql.one(
      "SELECT * FROM permanent_staged WHERE file_id = ? AND idx = ?",
      fileId.toString(),
      index,
    );
    return row && toStaged(row);
  }

  /** Every staged piece (few: one per piece an uploader handed here). */
  allStaged(): StagedPiece[] {
    return this.sql.all("SELECT * FROM permanent_staged ORDER BY file_id, idx").map(toStaged);
  }

  /** Roots of staged pieces (kept on disk even when no data set holds them). */
  stagedRoots(): Set<string> {
    return new Set(this.sql.all("SELECT root FROM permanent_staged").map((row) => str(row, "root")));
  }

  dropStaged(fileId: bigint): number {
    return this.sql.run("DELETE FROM permanent_staged WHERE file_id = ?", fileId.toString());
  }

  /** Record (or move) this provider's slot. */
  putSlot(record: PermanentSlotRecord): void {
    const at = this.now();
    this.sql.run(
      `INSERT INTO permanent_slots (file_id, idx, state, price, data_set_id, piece_root, note, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (file_id, idx) DO UPDATE SET state = excluded.state, price = excluded.price,
         data_set_id = excluded.data_set_id, piece_root = excluded.piece_root, note = excluded.note,
         updated_at = excluded.updated_at`,
      record.fileId.toString(),
      record.index,
      record.state,
      record.price.toString(),
      record.dataSetId?.toString() ?? null,
      record.pieceRoot,
      record.note,
      at,
      at,
    );
  }

  slot(fileId: bigint, index: number): PermanentSlotRecord | undefined {
    const row = this.sql.one(
      "SELECT * FROM permanent_slots WHERE file_id = ? AND idx = ?",
      fileId.toString(),
      index,
    );
    return row && toSlot(row);
  }

  /** Every slot of `fileId` this provider took part in. */
  slotsOf(fileId: bigint): PermanentSlotRecord[] {
    return this.sql
      .all("SELECT * FROM permanent_slots WHERE file_id = ? ORDER BY idx", fileId.toString())
      .map(toSlot);
  }

  /** The slot of `fileId` that is this provider's business, if any. */
  activeSlot(fileId: bigint): PermanentSlotRecord | undefined {
    return this.slotsOf(fileId).find((s) => ACTIVE_SLOT_STATES.includes(s.state));
  }

  /** Every slot in one of `states`. */
  slotsIn(states: readonly PermanentSlotState[]): PermanentSlotRecord[] {
    return this.sql
      .all(
        `SELECT * FROM permanent_slots WHERE state IN (${states.map(() => "?").join(", ")}) ORDER BY file_id, idx`,
        ...states,
      )
      .map(toSlot);
  }
}
