/**
 * The agent's public index in SQLite (docs/SPEC-DATA.md §10): for each public piece of each data set, the files it
 * holds, written only after the index was checked against the piece's bytes (http/files.ts). A file is servable
 * while its data set is live and the piece is in the data set's newest state the chain applied: an index sent with
 * a piece the client never paid for serves nothing.
 */
import { z } from "zod";
import { num, str } from "../../runtime/sqlite/columns.js";
import type { Row, Sql } from "../../runtime/sqlite/sql.js";
import type { PublicIndexEntry } from "../../sdk/api/publicFiles.js";
import { placedPieceSchema } from "../../sdk/api/datasets.js";

/** Where a servable public file sits: its piece and its bytes in it. */
export interface PublicFileLocation {
  cid: string;
  root: string;
  offset: number;
  size: number;
  contentType: string;
  dataSetId: bigint;
  path: string;
}

const layoutSchema = z.array(placedPieceSchema);

export class PublicFileStore {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {}

  /** Replace the index of piece `root` in data set `dataSetId` (one transaction). */
  putIndex(dataSetId: bigint, root: string, entries: readonly PublicIndexEntry[]): void {
    this.sql.tx(() => {
      this.sql.run(
        "DELETE FROM public_files WHERE data_set_id = ? AND root = ?",
        dataSetId.toString(),
        root.toLowerCase(),
      );
      for (const entry of entries) {
        this.sql.run(
          `INSERT INTO public_files (data_set_id, root, path, cid, offset, size, content_type, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          dataSetId.toString(),
          root.toLowerCase(),
          entry.path,
          entry.cid,
          entry.offset,
          entry.size,
          entry.contentType,
          this.now(),
        );
      }
    });
  }

  /** Files indexed for piece `root` in data set `dataSetId`, in piece order (servable or not). */
  indexOf(dataSetId: bigint, root: string): PublicFileLocation[] {
    return this.sql
      .all(
        "SELECT * FROM public_files WHERE data_set_id = ? AND root = ? ORDER BY offset, path",
        dataSetId.toString(),
        root.toLowerCase(),
      )
      .map(toLocation);
  }

  /**
   * The file `cid` where it can be served: a live data set whose newest applied state places the piece, and a
   * piece the agent holds in good health. Undefined when no copy qualifies.
   */
  servable(cid: string): PublicFileLocation | undefined {
    const rows = this.sql.all(
      `SELECT f.* FROM public_files f
         JOIN data_sets d ON d.id = f.data_set_id
         JOIN pieces p ON p.root = f.root
       WHERE f.cid = ? AND d.status = 'live' AND p.ok = 1
       ORDER BY CAST(f.data_set_id AS INTEGER), f.offset`,
      cid,
    );
    for (const row of rows) {
      const location = toLocation(row);
      if (this.appliedLayoutHas(location.dataSetId, location.root)) return location;
    }
    return undefined;
  }

  private appliedLayoutHas(dataSetId: bigint, root: string): boolean {
    const row = this.sql.one(
      `SELECT layout FROM data_set_states WHERE data_set_id = ? AND status = 'applied'
       ORDER BY version DESC LIMIT 1`,
      dataSetId.toString(),
    );
    if (row === undefined) return false;
    const layout = layoutSchema.parse(JSON.parse(str(row, "layout")));
    return layout.some((piece) => piece.root.toLowerCase() === root);
  }
}

function toLocation(r: Row): PublicFileLocation {
  return {
    cid: str(r, "cid"),
    root: str(r, "root"),
    offset: num(r, "offset"),
    size: num(r, "size"),
    contentType: str(r, "content_type"),
    dataSetId: BigInt(str(r, "data_set_id")),
    path: str(r, "path"),
  };
}
