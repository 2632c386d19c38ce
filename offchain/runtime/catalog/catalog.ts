/**
 * The client's local catalog (SQLite, WAL, synchronous FULL): every payload it stored (the manifest, whole), the
 * files packed in each, their pieces with the signed data-set states not yet applied, and the data sets they sit
 * in. It answers `strata ls`, `info`, `get`, `cat` and `rm` by name or content id, and holds what a `store`
 * needs to resume: a store writes the catalog entry (and a `.partial` manifest) before any token moves, in one
 * committed transaction, so a crash or a Ctrl-C never leaves money paid for a file whose key exists nowhere.
 * The manifest stays the portable recovery document: `importManifest` rebuilds an entry from one.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { StrataError } from "../../sdk/errors.js";
import { fromJson, toJson, type Manifest, type ManifestFile } from "../../sdk/manifest/manifest.js";
import { big, num, optStr, str } from "../sqlite/columns.js";
import { openDatabase } from "../sqlite/database.js";
import type { Row, Sql } from "../sqlite/sql.js";
import { CATALOG_MIGRATIONS } from "./migrations.js";

export const CATALOG_ENV = "STRATA_CATALOG";

export type CatalogStatus = "partial" | "stored" | "removed";

/** Where the catalog lives: $STRATA_CATALOG, else the user's data folder ($XDG_DATA_HOME or ~/.local/share). */
export function defaultCatalogPath(env: Readonly<Record<string, string | undefined>>): string {
  const explicit = env[CATALOG_ENV];
  if (explicit !== undefined && explicit !== "") return explicit;
  const data = env.XDG_DATA_HOME;
  const base = data !== undefined && data !== "" ? data : join(env.HOME ?? homedir(), ".local", "share");
  return join(base, "strata", "catalog.sqlite");
}

/** One file the catalog knows, with the payload that holds it. */
export interface CatalogFile {
  manifestId: string;
  status: CatalogStatus;
  manifestPath: string | null;
  name: string;
  offset: number;
  size: number;
  sha256: string;
  contentId: string;
  public: boolean;
  removed: boolean;
}

/** A piece's signed placement (JSON of the store's PiecePlaced, bigints as strings), kept until applied. */
export interface CatalogPiece {
  piece: number;
  dataSetId: bigint;
  provider: string;
  placement: string | null;
  applied: boolean;
}

/** The files of a manifest: its `files` section, or the whole payload as one file for a manifest without one. */
export function filesOf(manifest: Manifest): ManifestFile[] {
  return (
    manifest.files ?? [
      {
        name: manifest.fileName,
        offset: 0,
        size: manifest.fileSize,
        sha256: manifest.fileHash,
        id: manifest.fileId,
        public: false,
      },
    ]
  );
}

export class Catalog {
  private constructor(
    private readonly sql: Sql,
    readonly path: string,
  ) {}

  /** Open (creating the folder and file if needed) and migrate the catalog at `path` (":memory:" in tests). */
  static open(path: string): Catalog {
    const sql = openDatabase(path, {
      errorCode: "CATALOG_DB_ERROR",
      owner: "catalog",
      migrations: CATALOG_MIGRATIONS,
      foreignKeys: true,
      createFolder: true,
      openDetails: `choose another file with --catalog <path> or $${CATALOG_ENV}`,
      newerDetails: "this catalog was written by a newer strata: upgrade",
    });
    return new Catalog(sql, path);
  }

  close(): void {
    this.sql.db.close();
  }

  /**
   * Record a payload whose pieces are placed and signed but not yet paid for, with each piece's placement. The
   * transaction commits (and, with synchronous FULL, reaches the disk) before this returns.
   */
  recordPartial(manifest: Manifest, path: string | null, placements: ReadonlyMap<number, string>): void {
    this.sql.tx(() => {
      this.upsertManifest(manifest, "partial", path);
      for (const piece of manifest.pieces) {
        this.sql.run(
          `INSERT INTO pieces (manifest_id, idx, data_set_id, provider, placement, applied) VALUES (?, ?, ?, ?, ?, 0)
           ON CONFLICT (manifest_id, idx) DO UPDATE SET data_set_id = excluded.data_set_id,
             provider = excluded.provider, placement = excluded.placement`,
          manifest.fileId,
          piece.index,
          piece.dataSetId.toString(),
          piece.provider,
          placements.get(piece.index) ?? null,
        );
      }
    });
  }

  /** A piece's state is on chain. */
  markApplied(manifestId: string, piece: number): void {
    this.sql.run("UPDATE pieces SET applied = 1 WHERE manifest_id = ? AND idx = ?", manifestId, piece);
  }

  /** Every piece is on chain and the final manifest is written at `path`. */
  markStored(manifest: Manifest, path: string | null): void {
    this.sql.tx(() => {
      this.upsertManifest(manifest, "stored", path);
      this.sql.run("UPDATE pieces SET applied = 1 WHERE manifest_id = ?", manifest.fileId);
    });
  }

  /** Rebuild (or refresh) an entry from a manifest: a stored payload whose pieces are taken as applied. */
  importManifest(manifest: Manifest, path: string | null): void {
    this.sql.tx(() => {
      const existing = this.sql.one("SELECT status FROM manifests WHERE file_id = ?", manifest.fileId);
      const status = existing === undefined ? "stored" : (str(existing, "status") as CatalogStatus);
      this.upsertManifest(manifest, status === "removed" ? "removed" : "stored", path);
      for (const piece of manifest.pieces) {
        this.sql.run(
          `INSERT INTO pieces (manifest_id, idx, data_set_id, provider, placement, applied) VALUES (?, ?, ?, ?, NULL, 1)
           ON CONFLICT (manifest_id, idx) DO NOTHING`,
          manifest.fileId,
          piece.index,
          piece.dataSetId.toString(),
          piece.provider,
        );
      }
    });
  }

  /** Mark files of a payload removed; when none is left, the payload is removed. */
  markRemoved(manifestId: string, names: readonly string[]): void {
    this.sql.tx(() => {
      for (const name of names) {
        this.sql.run("UPDATE files SET removed = 1 WHERE manifest_id = ? AND name = ?", manifestId, name);
      }
      const left = this.sql.count(
        "SELECT COUNT(*) AS n FROM files WHERE manifest_id = ? AND removed = 0",
        manifestId,
      );
      if (left === 0) {
        this.sql.run(
          "UPDATE manifests SET status = 'removed', updated_at = ? WHERE file_id = ?",
          new Date().toISOString(),
          manifestId,
        );
      }
    });
  }

  /** Every file, newest payload first (removed ones only when asked). */
  files(options: { includeRemoved?: boolean } = {}): CatalogFile[] {
    const rows = this.sql.all(
      `SELECT f.*, m.status, m.path FROM files f JOIN manifests m ON m.file_id = f.manifest_id
       ${options.includeRemoved === true ? "" : "WHERE f.removed = 0"}
       ORDER BY m.created_at DESC, f.offset, f.name`,
    );
    return rows.map(toFile);
  }

  /**
   * The files `ref` names: a content id, a payload's file id (all its files), a path in a bundle, or a base name.
   * Removed files are not matched.
   */
  find(ref: string): CatalogFile[] {
    const rows = this.sql.all(
      `SELECT f.*, m.status, m.path FROM files f JOIN manifests m ON m.file_id = f.manifest_id
       WHERE f.removed = 0 AND (f.content_id = ? OR f.manifest_id = lower(?) OR f.name = ?)
       ORDER BY m.created_at DESC`,
      ref,
      ref,
      ref,
    );
    if (rows.length > 0) return rows.map(toFile);
    return this.files().filter((file) => file.name.split("/").at(-1) === ref);
  }

  /** The manifest of a payload, with its status and path; CATALOG_NOT_FOUND when unknown. */
  manifest(manifestId: string): { manifest: Manifest; status: CatalogStatus; path: string | null } {
    const row = this.sql.one("SELECT * FROM manifests WHERE file_id = ?", manifestId);
    if (row === undefined)
      throw new StrataError("CATALOG_NOT_FOUND", `no payload ${manifestId} in the catalog`);
    return {
      manifest: fromJson(str(row, "json")),
      status: str(row, "status") as CatalogStatus,
      path: optStr(row, "path"),
    };
  }

  /** Payloads whose store did not finish (partial), newest first. */
  partials(): { manifestId: string; path: string | null; createdAt: string }[] {
    return this.sql
      .all(
        "SELECT file_id, path, created_at FROM manifests WHERE status = 'partial' ORDER BY created_at DESC",
      )
      .map((row) => ({
        manifestId: str(row, "file_id"),
        path: optStr(row, "path"),
        createdAt: str(row, "created_at"),
      }));
  }

  pieces(manifestId: string): CatalogPiece[] {
    return this.sql.all("SELECT * FROM pieces WHERE manifest_id = ? ORDER BY idx", manifestId).map((row) => ({
      piece: num(row, "idx"),
      dataSetId: big(row, "data_set_id"),
      provider: str(row, "provider"),
      placement: optStr(row, "placement"),
      applied: num(row, "applied") === 1,
    }));
  }

  /** Endpoints of the providers of the catalog's data sets, most recently recorded first. */
  endpoints(): string[] {
    return this.sql
      .all("SELECT endpoint, MAX(rowid) AS last FROM data_sets GROUP BY endpoint ORDER BY last DESC")
      .map((row) => str(row, "endpoint"));
  }

  /** Remember a data set (its provider, endpoint and price) for listings. */
  recordDataSet(entry: {
    chainId: bigint;
    market: string;
    id: bigint;
    provider: string;
    endpoint: string;
    pricePerTiBMonth: bigint | null;
  }): void {
    this.sql.run(
      `INSERT INTO data_sets (chain_id, market, id, provider, endpoint, price_per_tib_month) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (chain_id, market, id) DO UPDATE SET endpoint = excluded.endpoint,
         price_per_tib_month = COALESCE(excluded.price_per_tib_month, data_sets.price_per_tib_month)`,
      entry.chainId.toString(),
      entry.market,
      entry.id.toString(),
      entry.provider,
      entry.endpoint,
      entry.pricePerTiBMonth?.toString() ?? null,
    );
  }

  private upsertManifest(manifest: Manifest, status: CatalogStatus, path: string | null): void {
    const now = new Date().toISOString();
    this.sql.run(
      `INSERT INTO manifests (file_id, status, path, json, chain_id, market, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (file_id) DO UPDATE SET status = excluded.status, path = COALESCE(excluded.path, manifests.path),
         json = excluded.json, updated_at = excluded.updated_at`,
      manifest.fileId,
      status,
      path,
      toJson(manifest),
      manifest.chainId.toString(),
      manifest.market,
      manifest.createdAt,
      now,
    );
    for (const file of filesOf(manifest)) {
      this.sql.run(
        `INSERT INTO files (manifest_id, name, offset, size, sha256, content_id, public) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (manifest_id, name) DO UPDATE SET offset = excluded.offset, size = excluded.size,
           sha256 = excluded.sha256, content_id = excluded.content_id, public = excluded.public`,
        manifest.fileId,
        file.name,
        file.offset,
        file.size,
        file.sha256,
        file.id,
        file.public ? 1 : 0,
      );
    }
  }
}

function toFile(row: Row): CatalogFile {
  return {
    manifestId: str(row, "manifest_id"),
    status: str(row, "status") as CatalogStatus,
    manifestPath: optStr(row, "path"),
    name: str(row, "name"),
    offset: num(row, "offset"),
    size: num(row, "size"),
    sha256: str(row, "sha256"),
    contentId: str(row, "content_id"),
    public: num(row, "public") === 1,
    removed: num(row, "removed") === 1,
  };
}
