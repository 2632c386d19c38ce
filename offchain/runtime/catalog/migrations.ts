/** Schema of the client's catalog: migration i brings PRAGMA user_version from i to i + 1. Append only. */
export const CATALOG_MIGRATIONS: readonly string[] = [
  // One row per stored payload (its manifest), one per file packed in it, one per piece, and the data sets the
  // pieces sit in. A manifest's JSON is kept whole: the catalog can always write the recovery document again.
  `CREATE TABLE manifests (
     file_id TEXT PRIMARY KEY,
     status TEXT NOT NULL CHECK (status IN ('partial', 'stored', 'removed')),
     path TEXT,
     json TEXT NOT NULL,
     chain_id TEXT NOT NULL,
     market TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE files (
     manifest_id TEXT NOT NULL REFERENCES manifests (file_id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     offset INTEGER NOT NULL,
     size INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     content_id TEXT NOT NULL,
     public INTEGER NOT NULL,
     removed INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (manifest_id, name)
   );
   CREATE INDEX files_name ON files (name);
   CREATE INDEX files_content_id ON files (content_id);
   CREATE TABLE pieces (
     manifest_id TEXT NOT NULL REFERENCES manifests (file_id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     data_set_id TEXT NOT NULL,
     provider TEXT NOT NULL,
     placement TEXT,
     applied INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (manifest_id, idx)
   );
   CREATE TABLE data_sets (
     chain_id TEXT NOT NULL,
     market TEXT NOT NULL,
     id TEXT NOT NULL,
     provider TEXT NOT NULL,
     endpoint TEXT NOT NULL,
     price_per_tib_month TEXT,
     PRIMARY KEY (chain_id, market, id)
   );`,
];
