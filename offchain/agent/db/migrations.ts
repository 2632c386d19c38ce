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
  // Retrieval challenges against this provider (RetrievalChallengeOpened events) and what became of them.
  `CREATE TABLE retrieval_challenges (
     id TEXT PRIMARY KEY,
     deal_id TEXT NOT NULL,
     leaf_index INTEGER NOT NULL,
     deadline INTEGER NOT NULL,
     bond TEXT NOT NULL,
     challenger TEXT NOT NULL,
     opened_block INTEGER NOT NULL,
     status TEXT NOT NULL,
     tx_hash TEXT,
     error TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX retrieval_challenges_status ON retrieval_challenges (status);`,
  // Compute leases: orders seen (OrderCreated) with this provider's bid on each, leases won (LeaseStarted)
  // with their workload's run state, and workload descriptions received from tenants (by hash).
  `CREATE TABLE compute_orders (
     id TEXT PRIMARY KEY,
     tenant TEXT NOT NULL,
     request TEXT NOT NULL,
     workload_hash TEXT NOT NULL,
     close_bounty TEXT NOT NULL,
     created_block INTEGER NOT NULL,
     state TEXT NOT NULL,
     reason TEXT,
     price TEXT,
     collateral TEXT,
     notice_window INTEGER,
     gpu_model TEXT,
     tx_hash TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX compute_orders_state ON compute_orders (state);
   CREATE INDEX compute_orders_workload ON compute_orders (workload_hash);
   CREATE TABLE compute_leases (
     id TEXT PRIMARY KEY,
     tenant TEXT NOT NULL,
     workload_hash TEXT NOT NULL,
     resources TEXT NOT NULL,
     gpu_model TEXT,
     price TEXT NOT NULL,
     collateral TEXT NOT NULL,
     notice_window INTEGER NOT NULL,
     started_at INTEGER NOT NULL,
     ends_at INTEGER NOT NULL,
     heartbeat_period INTEGER NOT NULL,
     started_block INTEGER NOT NULL,
     state TEXT NOT NULL,
     close_reason TEXT,
     notice_given INTEGER NOT NULL DEFAULT 0,
     last_heartbeat_period INTEGER,
     last_settled_at INTEGER,
     run_state TEXT NOT NULL,
     run_exit TEXT,
     runs INTEGER NOT NULL DEFAULT 0,
     pid INTEGER,
     pid_start INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX compute_leases_state ON compute_leases (state);
   CREATE INDEX compute_leases_workload ON compute_leases (workload_hash);
   CREATE TABLE compute_workloads (
     hash TEXT PRIMARY KEY,
     description TEXT NOT NULL,
     received_at INTEGER NOT NULL
   );`,
  // Data sets replace deals: each data set this provider opened, and every signed state it accepted (newest
  // wins; older ones are kept as evidence and to rebuild the layout frozen for a past period).
  `DROP TABLE uploads;
   DROP TABLE deals;
   ALTER TABLE retrieval_challenges RENAME COLUMN deal_id TO data_set_id;
   CREATE TABLE data_sets (
     id TEXT PRIMARY KEY,
     client TEXT NOT NULL,
     nonce TEXT NOT NULL,
     terms TEXT NOT NULL,
     signature TEXT NOT NULL,
     tx_hash TEXT NOT NULL,
     status TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     UNIQUE (client, nonce)
   );
   CREATE INDEX data_sets_status ON data_sets (status);
   CREATE TABLE data_set_states (
     data_set_id TEXT NOT NULL REFERENCES data_sets (id),
     version INTEGER NOT NULL,
     root TEXT NOT NULL,
     span INTEGER NOT NULL,
     signer TEXT NOT NULL,
     signature TEXT NOT NULL,
     layout TEXT NOT NULL,
     status TEXT NOT NULL,
     tx_hash TEXT,
     effective_period INTEGER,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (data_set_id, version)
   );
   CREATE INDEX data_set_states_status ON data_set_states (status);`,
  // Public files: the verified index of each public piece in each data set (agent/files/publicFileStore.ts).
  `CREATE TABLE public_files (
     data_set_id TEXT NOT NULL REFERENCES data_sets (id),
     root TEXT NOT NULL,
     path TEXT NOT NULL,
     cid TEXT NOT NULL,
     offset INTEGER NOT NULL,
     size INTEGER NOT NULL,
     content_type TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (data_set_id, root, path)
   );
   CREATE INDEX public_files_cid ON public_files (cid);`,

  // Permanent files (offchain/agent/permanent): pieces staged here by uploaders (kept while their file is in
  // business, served to the slot's winner), and this provider's part in each file: at most one slot per file.
  `CREATE TABLE permanent_staged (
     file_id TEXT NOT NULL,
     idx INTEGER NOT NULL,
     root TEXT NOT NULL,
     size INTEGER NOT NULL,
     proof TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (file_id, idx)
   );
   CREATE TABLE permanent_slots (
     file_id TEXT NOT NULL,
     idx INTEGER NOT NULL,
     state TEXT NOT NULL,
     price TEXT NOT NULL,
     data_set_id TEXT,
     piece_root TEXT,
     note TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (file_id, idx)
   );
   CREATE INDEX permanent_slots_state ON permanent_slots (state);`,
];
