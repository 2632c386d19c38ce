/**
 * Writing the chain index: one batch of decoded events (INSERT OR IGNORE: re-applying after a crash changes
 * nothing), and rolling back above a common ancestor after a reorg.
 */
import { CHAIN_TABLES } from "./migrations.js";
import { isComputeEvent, type IndexedEvent } from "./events.js";
import { insertComputeEvent } from "./leaseWrites.js";
import type { Sql } from "../../runtime/sqlite/sql.js";

/** Hashes kept for reorg detection. */
export const KEPT_BLOCK_HASHES = 1024;

/** Insert one event into its table; returns the number of new rows (0: already indexed or not stored). */
export function insertEvent(sql: Sql, e: IndexedEvent): number {
  if (isComputeEvent(e)) return insertComputeEvent(sql, e);
  const at = [e.blockNumber, e.logIndex, e.txHash.toLowerCase()] as const;
  switch (e.kind) {
    case "DataSetCreated":
      return sql.run(
        `INSERT OR IGNORE INTO data_sets (data_set_id, client, provider, price, collateral_per_tib, notice_periods,
           nonce, block_number, log_index, tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        e.dataSetId,
        e.client,
        e.provider,
        e.pricePerTiBMonth.toString(),
        e.collateralPerTiB.toString(),
        e.noticePeriods,
        e.nonce.toString(),
        ...at,
      );
    case "DataSetUpdated":
      // The provider is the creation's (always indexed first: a data set is created before it is updated).
      return sql.run(
        `INSERT OR IGNORE INTO data_set_updates (data_set_id, provider, version, root, span, effective_period,
           block_number, log_index, tx_hash)
         SELECT ?, provider, ?, ?, ?, ?, ?, ?, ? FROM data_sets WHERE data_set_id = ?`,
        e.dataSetId,
        e.version,
        e.root.toLowerCase(),
        e.span,
        e.effectivePeriod,
        ...at,
        e.dataSetId,
      );
    case "DataSetToppedUp":
      return sql.run(
        `INSERT OR IGNORE INTO data_set_topups (data_set_id, payer, amount, block_number, log_index, tx_hash)
         VALUES (?, ?, ?, ?, ?, ?)`,
        e.dataSetId,
        e.from,
        e.amount.toString(),
        ...at,
      );
    case "DataSetSettled":
      return sql.run(
        `INSERT OR IGNORE INTO data_set_settlements (data_set_id, amount, leaf_seconds, block_number, log_index,
           tx_hash) VALUES (?, ?, ?, ?, ?, ?)`,
        e.dataSetId,
        e.amount.toString(),
        e.leafSeconds.toString(),
        ...at,
      );
    case "DataSetTerminated":
      return sql.run(
        `INSERT OR IGNORE INTO data_set_terminations (data_set_id, terminated_by, reason, end_period, block_number,
           log_index, tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        e.dataSetId,
        e.by,
        e.reason,
        e.endPeriod,
        ...at,
      );
    case "DataSetEnded":
      return sql.run(
        `INSERT OR IGNORE INTO data_sets_ended (data_set_id, reason, paid, refund, to_client, released, block_number,
           log_index, tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        e.dataSetId,
        e.reason,
        e.paidToProvider.toString(),
        e.refundedToClient.toString(),
        e.compensationToClient.toString(),
        e.collateralReleased.toString(),
        ...at,
      );
    case "Slashed":
      return sql.run(
        `INSERT OR IGNORE INTO slashes (provider, data_set_id, to_client, to_reporter, to_treasury, block_number,
           log_index, tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        e.provider,
        e.dataSetId,
        e.toHarmed.toString(),
        e.toReporter.toString(),
        e.toTreasury.toString(),
        ...at,
      );
    case "ProofSubmitted":
      return sql.run(
        `INSERT OR IGNORE INTO proofs (provider, period, next_seed_block, block_number, log_index, tx_hash)
         VALUES (?, ?, ?, ?, ?, ?)`,
        e.provider,
        e.period,
        e.nextSeedBlock,
        ...at,
      );
    case "ChallengeSeedScheduled":
      return sql.run(
        `INSERT OR IGNORE INTO seeds (provider, period, seed_block, block_number, log_index, tx_hash)
         VALUES (?, ?, ?, ?, ?, ?)`,
        e.provider,
        e.period,
        e.seedBlock,
        ...at,
      );
    case "FaultDeclared":
      return sql.run(
        `INSERT OR IGNORE INTO faults_declared (provider, period, data_set_id, block_number, log_index, tx_hash)
         VALUES (?, ?, ?, ?, ?, ?)`,
        e.provider,
        e.period,
        e.dataSetId,
        ...at,
      );
    case "MissedProofsReported":
      return sql.run(
        `INSERT OR IGNORE INTO missed_reports (provider, from_period, count, reporter, bounty, next_seed_block,
           block_number, log_index, tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        e.provider,
        e.fromPeriod,
        e.count,
        e.reporter,
        e.bounty.toString(),
        e.nextSeedBlock,
        ...at,
      );
    case "ParametersSet":
      return sql.run(
        `INSERT OR IGNORE INTO market_parameters (contract, json, block_number, log_index, tx_hash) VALUES (?, ?, ?, ?, ?)`,
        e.contract,
        JSON.stringify(e.params, (_key, value: unknown) =>
          typeof value === "bigint" ? value.toString() : value,
        ),
        ...at,
      );
    case "ProviderRegistered":
    case "ProviderUpdated":
      return sql.run(
        `INSERT OR IGNORE INTO providers (provider, endpoint, payee, kind, block_number, log_index, tx_hash)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        e.provider,
        e.endpoint,
        e.payee,
        e.kind === "ProviderRegistered" ? "registered" : "updated",
        ...at,
      );
    case "ProviderDeregistered":
      return sql.run(
        `INSERT OR IGNORE INTO providers (provider, endpoint, payee, kind, block_number, log_index, tx_hash)
         VALUES (?, NULL, NULL, 'deregistered', ?, ?, ?)`,
        e.provider,
        ...at,
      );
    case "RetrievalChallengeOpened":
      return sql.run(
        `INSERT OR IGNORE INTO retrieval_challenges (challenge_id, kind, data_set_id, provider, challenger, leaf_index,
           deadline, bond, enforcer, block_number, log_index, tx_hash) VALUES (?, 'opened', ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
        e.challengeId,
        e.dataSetId,
        e.provider,
        e.challenger,
        e.leafIndex,
        e.deadline,
        e.bond.toString(),
        ...at,
      );
    case "RetrievalChallengeAnswered":
    case "RetrievalChallengeFailed":
    case "RetrievalChallengeVoided":
      return sql.run(
        `INSERT OR IGNORE INTO retrieval_challenges (challenge_id, kind, data_set_id, provider, enforcer, block_number,
           log_index, tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        e.challengeId,
        e.kind === "RetrievalChallengeAnswered"
          ? "answered"
          : e.kind === "RetrievalChallengeFailed"
            ? "failed"
            : "voided",
        e.dataSetId,
        "provider" in e ? e.provider : null,
        e.kind === "RetrievalChallengeFailed" ? e.enforcer : null,
        ...at,
      );
  }
}

/** Record block hashes and prune all but the newest KEPT_BLOCK_HASHES. */
export function recordBlocks(sql: Sql, blocks: readonly { number: number; hash: string }[]): void {
  for (const block of blocks) {
    sql.run(
      "INSERT INTO blocks (number, hash) VALUES (?, ?) ON CONFLICT (number) DO UPDATE SET hash = excluded.hash",
      block.number,
      block.hash.toLowerCase(),
    );
  }
  sql.run(
    `DELETE FROM blocks WHERE number < (SELECT MIN(number) FROM
       (SELECT number FROM blocks ORDER BY number DESC LIMIT ?))`,
    KEPT_BLOCK_HASHES,
  );
}

/** Delete every chain-derived row above `block` (all tables, proof checks and block hashes). */
export function deleteAbove(sql: Sql, block: number): number {
  let deleted = 0;
  for (const table of CHAIN_TABLES) deleted += sql.run(`DELETE FROM ${table} WHERE block_number > ?`, block);
  sql.run("DELETE FROM blocks WHERE number > ?", block);
  return deleted;
}

/** Replay checkpoints kept per provider (older ones are pruned; a reorg deletes those above the ancestor). */
export const KEPT_REPLAY_CHECKPOINTS = 4;

/** Store `provider`'s replay snapshot taken after every event before `at`, and prune its older checkpoints. */
export function putReplayCheckpoint(
  sql: Sql,
  provider: string,
  at: { blockNumber: number; logIndex: number },
  snapshot: string,
): void {
  sql.run(
    `INSERT INTO replay_checkpoints (provider, block_number, log_index, snapshot) VALUES (?, ?, ?, ?)
     ON CONFLICT (provider, block_number, log_index) DO UPDATE SET snapshot = excluded.snapshot`,
    provider,
    at.blockNumber,
    at.logIndex,
    snapshot,
  );
  sql.run(
    `DELETE FROM replay_checkpoints WHERE provider = ? AND rowid NOT IN (SELECT rowid FROM replay_checkpoints
       WHERE provider = ? ORDER BY block_number DESC, log_index DESC LIMIT ?)`,
    provider,
    provider,
    KEPT_REPLAY_CHECKPOINTS,
  );
}
