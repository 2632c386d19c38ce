/**
 * Schema of the worker database: migration i brings PRAGMA user_version from i to i + 1. Append only.
 *
 * Chain-derived tables carry (block_number, log_index), UNIQUE so that re-applying a batch after a crash
 * inserts nothing twice; a reorg deletes their rows above the common ancestor. Worker-local tables (actions,
 * samples, alerts) record what this worker did and are never rolled back; proof_checks describe chain events
 * and roll back with them. Migration 2 adds the compute market's tables (orders, bids, leases and their
 * events); migration 4 only adds indexes for the dashboard's lookups. lease_heartbeats is pruned to each lease's newest row below the reorg window (see chainWrites). Addresses are stored checksummed, amounts as decimal TEXT, ids/periods/blocks as
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

  // 2: the compute market (orders, bids, leases, heartbeats) and its ParametersSet in market_parameters.
  `CREATE TABLE compute_orders (
     order_id INTEGER PRIMARY KEY,
     tenant TEXT NOT NULL,
     cpu_millicores INTEGER NOT NULL,
     memory_mib INTEGER NOT NULL,
     storage_gib INTEGER NOT NULL,
     gpu_count INTEGER NOT NULL,
     gpu_model TEXT NOT NULL,
     region TEXT NOT NULL,
     workload_hash TEXT NOT NULL,
     max_price TEXT NOT NULL,
     deposit TEXT NOT NULL,
     duration INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     min_collateral TEXT NOT NULL,
     min_notice_window INTEGER NOT NULL,
     close_bounty TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX compute_orders_tenant ON compute_orders (tenant);

   CREATE TABLE compute_orders_ended (
     order_id INTEGER PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('cancelled', 'expired')),
     refund TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );

   CREATE TABLE compute_bids (
     order_id INTEGER NOT NULL,
     provider TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('created', 'withdrawn', 'rejected')),
     price TEXT,
     collateral TEXT,
     notice_window INTEGER,
     released TEXT,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX compute_bids_order ON compute_bids (order_id, provider, block_number, log_index);

   CREATE TABLE leases_started (
     lease_id INTEGER PRIMARY KEY,
     tenant TEXT NOT NULL,
     provider TEXT NOT NULL,
     price TEXT NOT NULL,
     collateral TEXT NOT NULL,
     notice_window INTEGER NOT NULL,
     escrow TEXT NOT NULL,
     close_bounty TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     ends_at INTEGER NOT NULL,
     heartbeat_period INTEGER NOT NULL,
     max_missed INTEGER NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX leases_started_provider ON leases_started (provider);

   CREATE TABLE lease_topups (
     lease_id INTEGER NOT NULL,
     payer TEXT NOT NULL,
     amount TEXT NOT NULL,
     escrow TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX lease_topups_lease ON lease_topups (lease_id, block_number, log_index);

   CREATE TABLE lease_settlements (
     lease_id INTEGER NOT NULL,
     amount TEXT NOT NULL,
     paid_seconds INTEGER NOT NULL,
     escrow TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX lease_settlements_lease ON lease_settlements (lease_id, block_number, log_index);

   CREATE TABLE lease_heartbeats (
     lease_id INTEGER NOT NULL,
     period INTEGER NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX lease_heartbeats_lease ON lease_heartbeats (lease_id, period);
   CREATE INDEX lease_heartbeats_block ON lease_heartbeats (block_number);

   CREATE TABLE lease_missed_reports (
     lease_id INTEGER NOT NULL,
     reporter TEXT NOT NULL,
     from_period INTEGER NOT NULL,
     count INTEGER NOT NULL,
     refunded TEXT NOT NULL,
     bounty TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX lease_missed_reports_lease ON lease_missed_reports (lease_id, from_period);

   CREATE TABLE lease_notices (
     lease_id INTEGER NOT NULL,
     ends_at INTEGER NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX lease_notices_lease ON lease_notices (lease_id);

   CREATE TABLE leases_closed (
     lease_id INTEGER PRIMARY KEY,
     reason INTEGER NOT NULL,
     closer TEXT NOT NULL,
     paid TEXT NOT NULL,
     refund TEXT NOT NULL,
     bounty TEXT NOT NULL,
     to_tenant TEXT NOT NULL,
     released TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );

   CREATE TABLE lease_slashes (
     provider TEXT NOT NULL,
     lease_id INTEGER NOT NULL,
     to_tenant TEXT NOT NULL,
     to_reporter TEXT NOT NULL,
     to_treasury TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX lease_slashes_lease ON lease_slashes (lease_id);

   CREATE TABLE market_parameters_v2 (
     contract TEXT NOT NULL CHECK (contract IN ('market', 'retrieval', 'compute')),
     json TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   INSERT INTO market_parameters_v2 (contract, json, block_number, log_index, tx_hash)
     SELECT contract, json, block_number, log_index, tx_hash FROM market_parameters;
   DROP TABLE market_parameters;
   ALTER TABLE market_parameters_v2 RENAME TO market_parameters;`,

  // 3: data sets replace deals (issue 11). The deal tables go; faults, slashes, retrieval challenges and samples
  // are keyed by data set; replay_checkpoints holds each provider's DataSetReplay at an indexed position (chain-
  // derived: a reorg deletes the checkpoints above the common ancestor and the replay restarts from an older one).
  `DROP TABLE deals_published;
   DROP TABLE deals_extended;
   DROP TABLE deals_ended;
   DROP TABLE deals_settled;
   DROP TABLE faults_declared;
   DROP TABLE slashes;
   DROP TABLE retrieval_challenges;
   DROP TABLE samples;

   CREATE TABLE data_sets (
     data_set_id INTEGER PRIMARY KEY,
     client TEXT NOT NULL,
     provider TEXT NOT NULL,
     price TEXT NOT NULL,
     collateral_per_tib TEXT NOT NULL,
     notice_periods INTEGER NOT NULL,
     nonce TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX data_sets_provider ON data_sets (provider, data_set_id);

   CREATE TABLE data_set_updates (
     data_set_id INTEGER NOT NULL,
     provider TEXT NOT NULL,
     version INTEGER NOT NULL,
     root TEXT NOT NULL,
     span INTEGER NOT NULL,
     effective_period INTEGER NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX data_set_updates_set ON data_set_updates (data_set_id, block_number, log_index);
   CREATE INDEX data_set_updates_provider ON data_set_updates (provider, block_number, log_index);

   CREATE TABLE data_set_topups (
     data_set_id INTEGER NOT NULL,
     payer TEXT NOT NULL,
     amount TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX data_set_topups_set ON data_set_topups (data_set_id);

   CREATE TABLE data_set_settlements (
     data_set_id INTEGER NOT NULL,
     amount TEXT NOT NULL,
     leaf_seconds TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX data_set_settlements_set ON data_set_settlements (data_set_id, block_number);

   CREATE TABLE data_set_terminations (
     data_set_id INTEGER NOT NULL,
     terminated_by TEXT NOT NULL,
     reason INTEGER NOT NULL,
     end_period INTEGER NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX data_set_terminations_set ON data_set_terminations (data_set_id);

   CREATE TABLE data_sets_ended (
     data_set_id INTEGER PRIMARY KEY,
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

   CREATE TABLE faults_declared (
     provider TEXT NOT NULL,
     period INTEGER NOT NULL,
     data_set_id INTEGER NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     tx_hash TEXT NOT NULL,
     UNIQUE (block_number, log_index)
   );
   CREATE INDEX faults_declared_provider ON faults_declared (provider, period);
   CREATE INDEX faults_declared_set ON faults_declared (data_set_id);

   CREATE TABLE slashes (
     provider TEXT NOT NULL,
     data_set_id INTEGER NOT NULL,
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

   CREATE TABLE retrieval_challenges (
     challenge_id INTEGER NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('opened', 'answered', 'failed', 'voided')),
     data_set_id INTEGER NOT NULL,
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
   CREATE INDEX retrieval_challenges_set ON retrieval_challenges (data_set_id);

   CREATE TABLE replay_checkpoints (
     provider TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     log_index INTEGER NOT NULL,
     snapshot TEXT NOT NULL,
     UNIQUE (provider, block_number, log_index)
   );
   CREATE INDEX replay_checkpoints_block ON replay_checkpoints (block_number);

   CREATE TABLE samples (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     data_set_id INTEGER NOT NULL,
     provider TEXT NOT NULL,
     leaf_index INTEGER NOT NULL,
     ok INTEGER NOT NULL,
     error_code TEXT,
     latency_ms INTEGER NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX samples_set ON samples (data_set_id, id);`,

  // 4: lookups of the dashboard (offchain/worker/dashboard): a watcher's reports, closes and challenges, a client's
  // data sets, a data set's and a provider's lease slashes, and proofs and declared faults per period network-wide.
  `CREATE INDEX missed_reports_reporter ON missed_reports (reporter);
   CREATE INDEX lease_missed_reports_reporter ON lease_missed_reports (reporter);
   CREATE INDEX leases_closed_closer ON leases_closed (closer);
   CREATE INDEX retrieval_challenges_challenger ON retrieval_challenges (challenger);
   CREATE INDEX retrieval_challenges_enforcer ON retrieval_challenges (enforcer);
   CREATE INDEX data_sets_client ON data_sets (client, data_set_id);
   CREATE INDEX slashes_set ON slashes (data_set_id);
   CREATE INDEX lease_slashes_provider ON lease_slashes (provider);
   CREATE INDEX proofs_period ON proofs (period);
   CREATE INDEX faults_declared_period ON faults_declared (period);`,

  // 5: the repair duty (docs/SPEC.md §16.1): mandates learned from the factory's MandateOpened events, the briefs that
  // let the worker repair them, and each repair's progress (a restart resumes from the recorded stage).
  `CREATE TABLE repair_mandates (
     mandate TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     pieces_root TEXT NOT NULL,
     piece_count INTEGER NOT NULL,
     block_number INTEGER NOT NULL,
     brief TEXT,
     brief_error TEXT,
     checked_at INTEGER
   );
   CREATE TABLE repairs (
     mandate TEXT NOT NULL,
     piece_index INTEGER NOT NULL,
     repair_id TEXT NOT NULL,
     stage TEXT NOT NULL,
     provider TEXT NOT NULL,
     endpoint TEXT NOT NULL,
     data_set_id TEXT,
     error TEXT,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (mandate, piece_index, repair_id)
   );
   CREATE INDEX repairs_open ON repairs (mandate, piece_index, stage);`,
];

/** Chain-derived tables: rolled back above the common ancestor on a reorg (with `blocks` and proof_checks). */
export const CHAIN_TABLES = [
  "data_sets",
  "data_set_updates",
  "data_set_topups",
  "data_set_settlements",
  "data_set_terminations",
  "data_sets_ended",
  "replay_checkpoints",
  "proofs",
  "seeds",
  "faults_declared",
  "missed_reports",
  "slashes",
  "providers",
  "retrieval_challenges",
  "market_parameters",
  "proof_checks",
  "compute_orders",
  "compute_orders_ended",
  "compute_bids",
  "leases_started",
  "lease_topups",
  "lease_settlements",
  "lease_heartbeats",
  "lease_missed_reports",
  "lease_notices",
  "leases_closed",
  "lease_slashes",
] as const;
