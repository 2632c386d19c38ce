/**
 * Schema of the worker database: migration i brings PRAGMA user_version from i to i + 1. Append only.
 *
 * Chain-derived tables carry (block_number, log_index), UNIQUE so that re-applying a batch after a crash
 * inserts nothing twice; a reorg deletes their rows above the common ancestor. Worker-local tables (actions,
 * samples, alerts) record what this worker did and are never rolled back; proof_checks describe chain events
 * and roll back with them. Addresses are stored checksummed, amounts as decimal TEXT, ids/periods/blocks as
 * INTEGER.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);

   CREATE TABLE deals_published (
     deal_id INTEGER PRIMARY KEY,
     client TEXT NOT NULL,
     provider TEXT NOT NULL,
     root TEXT NOT NULL,
     size TEXT NOT NULL,
     start_period INTEGER NOT NULL,
     end_period INTEGER NOT NULL,
     price TEXT NOT NULL,
     collateral TEXT NOT NULL,
     nonce TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX deals_published_provider ON deals_published (provider, block_number, log_index);

   CREATE TABLE deals_extended (
     deal_id INTEGER NOT NULL,
     new_end_period INTEGER NOT NULL,
     amount TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX deals_extended_deal ON deals_extended (deal_id);

   CREATE TABLE deals_ended (
     deal_id INTEGER PRIMARY KEY,
     reason INTEGER NOT NULL,
     paid TEXT NOT NULL,
     refund TEXT NOT NULL,
     to_client TEXT NOT NULL,
     released TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );

   CREATE TABLE deals_settled (
     deal_id INTEGER NOT NULL,
     amount TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX deals_settled_deal ON deals_settled (deal_id, block_number);

   CREATE TABLE proofs (
     provider TEXT NOT NULL,
     period INTEGER NOT NULL,
     next_seed_block INTEGER NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX proofs_provider ON proofs (provider, period);
   CREATE INDEX proofs_tx ON proofs (tx_hash);

   CREATE TABLE seeds (
     provider TEXT NOT NULL,
     period INTEGER NOT NULL,
     seed_block INTEGER NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX seeds_provider ON seeds (provider, period);

   CREATE TABLE faults_declared (
     provider TEXT NOT NULL,
     period INTEGER NOT NULL,
     deal_id INTEGER NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX faults_declared_provider ON faults_declared (provider, period);
   CREATE INDEX faults_declared_deal ON faults_declared (deal_id);

   CREATE TABLE missed_reports (
     provider TEXT NOT NULL,
     from_period INTEGER NOT NULL,
     count INTEGER NOT NULL,
     reporter TEXT NOT NULL,
     bounty TEXT NOT NULL,
     next_seed_block INTEGER NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX missed_reports_provider ON missed_reports (provider, from_period);

   CREATE TABLE slashes (
     provider TEXT NOT NULL,
     deal_id INTEGER NOT NULL,
     to_client TEXT NOT NULL,
     to_reporter TEXT NOT NULL,
     to_treasury TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX slashes_provider ON slashes (provider);
   CREATE INDEX slashes_tx ON slashes (tx_hash);

   CREATE TABLE providers (
     provider TEXT NOT NULL,
     endpoint TEXT,
     payee TEXT,
     kind TEXT NOT NULL CHECK (kind IN ('registered', 'updated', 'deregistered')),
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX providers_provider ON providers (provider, block_number, log_index);

   CREATE TABLE retrieval_challenges (
     challenge_id INTEGER NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('opened', 'answered', 'failed', 'voided')),
     deal_id INTEGER NOT NULL,
     provider TEXT,
     challenger TEXT,
     leaf_index INTEGER,
     deadline INTEGER,
     bond TEXT,
     enforcer TEXT,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX retrieval_challenges_id ON retrieval_challenges (challenge_id);
   CREATE INDEX retrieval_challenges_deal ON retrieval_challenges (deal_id);

   CREATE TABLE market_parameters (
     contract TEXT NOT NULL CHECK (contract IN ('market', 'retrieval')),
     json TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );

   CREATE TABLE proof_checks (
     provider TEXT NOT NULL,
     period INTEGER NOT NULL,
     tx_hash TEXT NOT NULL UNIQUE,
     block_number INTEGER NOT NULL,
     verdict TEXT NOT NULL CHECK (verdict IN ('ok', 'mismatch', 'error')),
     detail TEXT,
     checked_at INTEGER NOT NULL
   );
   CREATE INDEX proof_checks_block ON proof_checks (block_number);

   CREATE TABLE actions (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     kind TEXT NOT NULL,
     subject TEXT NOT NULL,
     key TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'confirmed', 'reverted', 'lost-race', 'skipped')),
     tx_hash TEXT,
     nonce INTEGER,
     gas_used TEXT,
     reward TEXT,
     error TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     UNIQUE (kind, subject, key)
   );
   CREATE INDEX actions_status ON actions (status, kind);

   CREATE TABLE samples (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     deal_id INTEGER NOT NULL,
     provider TEXT NOT NULL,
     leaf_index INTEGER NOT NULL,
     ok INTEGER NOT NULL,
     error_code TEXT,
     latency_ms INTEGER NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX samples_deal ON samples (deal_id, id);

   CREATE TABLE alerts (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     kind TEXT NOT NULL,
     subject TEXT NOT NULL,
     detail TEXT NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX alerts_kind ON alerts (kind, subject);`,
];

/** Chain-derived tables: rolled back above the common ancestor on a reorg (with `blocks` and proof_checks). */
export const CHAIN_TABLES = [
  "deals_published",
  "deals_extended",
  "deals_ended",
  "deals_settled",
  "proofs",
  "seeds",
  "faults_declared",
  "missed_reports",
  "slashes",
  "providers",
  "retrieval_challenges",
  "market_parameters",
  "proof_checks",
] as const;
