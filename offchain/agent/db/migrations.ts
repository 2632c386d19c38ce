/** Schema of the agent database: migration i brings PRAGMA user_version from i to i + 1. Append only. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE uploads (
     id TEXT PRIMARY KEY,
     client TEXT NOT NULL,
     nonce TEXT NOT NULL,
     proposal TEXT NOT NULL,
     signature TEXT NOT NULL,
     size INTEGER NOT NULL,
     root TEXT NOT NULL,
     state TEXT NOT NULL,
     deal_id TEXT,
     tx_hash TEXT,
     reason TEXT,
     attempts INTEGER NOT NULL DEFAULT 0,
     created_block INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     UNIQUE (client, nonce)
   );
   CREATE INDEX uploads_state ON uploads (state);
   CREATE TABLE deals (
     id TEXT PRIMARY KEY,
     terms TEXT NOT NULL,
     root TEXT NOT NULL,
     upload_id TEXT,
     state TEXT NOT NULL,
     last_settled_at INTEGER,
     end_reason TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX deals_state ON deals (state);
   CREATE TABLE pieces (
     root TEXT PRIMARY KEY,
     size INTEGER NOT NULL,
     path TEXT NOT NULL,
     verified_at INTEGER,
     ok INTEGER NOT NULL,
     problem TEXT,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE proofs (
     period INTEGER PRIMARY KEY,
     tx_hash TEXT,
     status TEXT NOT NULL,
     declared TEXT NOT NULL,
     at INTEGER NOT NULL,
     error TEXT
   );
   CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];
