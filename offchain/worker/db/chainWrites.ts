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
    case "DealPublished":
      return sql.run(
        `INSERT OR IGNORE INTO deals_published (deal_id, client, provider, root, size, start_period, end_period,
           price, collateral, nonce, block_number, log_index, tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        e.dealId,
        e.client,
        e.provider,
        e.root.toLowerCase(),
        e.size.toString(),
        e.startPeriod,
        e.endPeriod,
        e.pricePerSecond.toString(),
        e.collateral.toString(),
        e.nonce.toString(),
        ...at,
      );
    case "DealExtended":
      return sql.run(
        `INSERT OR IGNORE INTO deals_extended (deal_id, new_end_period, amount, block_number, log_index, tx_hash)
         VALUES (?, ?, ?, ?, ?, ?)`,
        e.dealId,
        e.newEndPeriod,
        e.amount.toString(),
        ...at,
      );
    case "DealEnded":
      return sql.run(
        `INSERT OR IGNORE INTO deals_ended (deal_id, reason, paid, refund, to_client, released, block_number,
           log_index, tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        e.dealId,
        e.reason,
        e.paidToProvider.toString(),
        e.refundedToClient.toString(),
        e.compensationToClient.toString(),
        e.collateralReleased.toString(),
        ...at,
      );
    case "DealSettled":
      return sql.run(
        `INSERT OR IGNORE INTO deals_settled (deal_id, amount, block_number, log_index, tx_hash) VALUES (?, ?, ?, ?, ?)`,
        e.dealId,
        e.amount.toString(),
        ...at,
      );
    case "Slashed":
      return sql.run(
        `INSERT OR IGNORE INTO slashes (provider, deal_id, to_client, to_reporter, to_treasury, block_number,
           log_index, tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        e.provider,
        e.dealId,
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
        `INSERT OR IGNORE INTO faults_declared (provider, period, deal_id, block_number, log_index, tx_hash)
         VALUES (?, ?, ?, ?, ?, ?)`,
        e.provider,
        e.period,
        e.dealId,
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
        `INSERT OR IGNORE INTO retrieval_challenges (challenge_id, kind, deal_id, provider, challenger, leaf_index,
           deadline, bond, enforcer, block_number, log_index, tx_hash) VALUES (?, 'opened', ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
        e.challengeId,
        e.dealId,
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
        `INSERT OR IGNORE INTO retrieval_challenges (challenge_id, kind, deal_id, provider, enforcer, block_number,
           log_index, tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        e.challengeId,
        e.kind === "RetrievalChallengeAnswered"
          ? "answered"
          : e.kind === "RetrievalChallengeFailed"
            ? "failed"
            : "voided",
        e.dealId,
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
