/**
 * The sites this agent serves, in SQLite: the signed versions it accepted (the newest is served, with the manifest
 * it was checked against, so a request needs no read of the manifest; the last KEPT_VERSIONS records stay as
 * the site's history).
 */
import { num, str } from "../../runtime/sqlite/columns.js";
import type { Row, Sql } from "../../runtime/sqlite/sql.js";
import { siteRecordSchema } from "../../sdk/api/sites.js";
import { siteManifestSchema, type SiteManifest } from "../../sdk/sites/manifest.js";
import type { SiteRecord } from "../../sdk/sites/record.js";

/** Records kept per site (the newest ones). */
export const KEPT_VERSIONS = 16;

export interface SiteVersionRecord {
  record: SiteRecord;
  signature: string;
  /** The version's manifest; null for a tombstone and for every version but the newest. */
  manifest: SiteManifest | null;
  receivedAt: number;
}

function toSiteVersion(row: Row): SiteVersionRecord {
  const manifest = str(row, "manifest");
  return {
    record: siteRecordSchema.parse(JSON.parse(str(row, "record"))),
    signature: str(row, "signature"),
    manifest: manifest === "" ? null : siteManifestSchema.parse(JSON.parse(manifest)),
    receivedAt: num(row, "received_at"),
  };
}

export class SiteStore {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {}

  /** The newest version held of `siteId` (lower-case hex). */
  current(siteId: string): SiteVersionRecord | undefined {
    const row = this.sql.one(
      "SELECT * FROM site_versions WHERE site_id = ? ORDER BY version DESC LIMIT 1",
      siteId.toLowerCase(),
    );
    return row && toSiteVersion(row);
  }

  /** Every version held of `siteId`, oldest first. */
  versions(siteId: string): SiteVersionRecord[] {
    return this.sql
      .all("SELECT * FROM site_versions WHERE site_id = ? ORDER BY version", siteId.toLowerCase())
      .map(toSiteVersion);
  }

  /**
   * Keep a verified version. Returns false (and keeps nothing) when a version as high is already held: two
   * concurrent posts cannot both win.
   */
  put(record: SiteRecord, signature: string, manifest: SiteManifest | null): boolean {
    const siteId = record.siteId.toLowerCase();
    return this.sql.tx(() => {
      const newest = this.sql.one("SELECT MAX(version) AS v FROM site_versions WHERE site_id = ?", siteId)?.v;
      if (typeof newest === "number" && BigInt(newest) >= record.version) return false;
      this.sql.run(
        `INSERT INTO site_versions (site_id, version, owner, name, record, signature, manifest, removed, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        siteId,
        Number(record.version),
        record.owner.toLowerCase(),
        record.name,
        JSON.stringify(siteRecordSchema.encode(record)),
        signature,
        manifest === null ? "" : JSON.stringify(manifest),
        record.removed ? 1 : 0,
        this.now(),
      );
      // Bounded history: a signature costs its owner nothing, so versions posted in a loop must not grow the
      // database. Only the newest version keeps its manifest; at most KEPT_VERSIONS records are kept.
      this.sql.run(
        "UPDATE site_versions SET manifest = '' WHERE site_id = ? AND version < ?",
        siteId,
        Number(record.version),
      );
      this.sql.run(
        `DELETE FROM site_versions WHERE site_id = ? AND version NOT IN
           (SELECT version FROM site_versions WHERE site_id = ? ORDER BY version DESC LIMIT ?)`,
        siteId,
        siteId,
        KEPT_VERSIONS,
      );
      return true;
    });
  }
}
