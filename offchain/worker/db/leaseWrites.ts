/**
 * Writing the compute market's events into the chain index (INSERT OR IGNORE, like every chain table), and
 * pruning old heartbeats: a lease heartbeats once per period (a minute at the shortest), so only each lease's
 * newest heartbeat is kept once it is older than the kept block hashes (the deepest a reorg can roll back).
 */
import type { ChainPosition, ComputeEvent } from "./events.js";
import type { Sql } from "../../runtime/sqlite/sql.js";

/** Insert one compute-market event into its table; returns the number of new rows. */
export function insertComputeEvent(sql: Sql, e: ChainPosition & ComputeEvent): number {
  const at = [e.blockNumber, e.logIndex, e.txHash.toLowerCase()] as const;
  switch (e.kind) {
    case "OrderCreated":
      return sql.run(
        `INSERT OR IGNORE INTO compute_orders (order_id, tenant, cpu_millicores, memory_mib, storage_gib, gpu_count,
           gpu_model, region, workload_hash, max_price, deposit, duration, expires_at, min_collateral,
           min_notice_window, close_bounty, block_number, log_index, tx_hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        e.orderId,
        e.tenant,
        e.cpuMillicores,
        e.memoryMiB,
        e.storageGiB,
        e.gpuCount,
        e.gpuModel.toLowerCase(),
        e.region.toLowerCase(),
        e.workloadHash.toLowerCase(),
        e.maxPricePerSecond.toString(),
        e.deposit.toString(),
        e.duration,
        e.expiresAt,
        e.minCollateral.toString(),
        e.minNoticeWindow,
        e.closeBounty.toString(),
        ...at,
      );
    case "OrderCancelled":
    case "OrderExpired":
      return sql.run(
        `INSERT OR IGNORE INTO compute_orders_ended (order_id, kind, refund, block_number, log_index, tx_hash)
         VALUES (?, ?, ?, ?, ?, ?)`,
        e.orderId,
        e.kind === "OrderCancelled" ? "cancelled" : "expired",
        e.refund.toString(),
        ...at,
      );
    case "BidCreated":
      return sql.run(
        `INSERT OR IGNORE INTO compute_bids (order_id, provider, kind, price, collateral, notice_window, released,
           block_number, log_index, tx_hash) VALUES (?, ?, 'created', ?, ?, ?, NULL, ?, ?, ?)`,
        e.orderId,
        e.provider,
        e.pricePerSecond.toString(),
        e.collateral.toString(),
        e.noticeWindow,
        ...at,
      );
    case "BidWithdrawn":
    case "BidRejected":
      return sql.run(
        `INSERT OR IGNORE INTO compute_bids (order_id, provider, kind, price, collateral, notice_window, released,
           block_number, log_index, tx_hash) VALUES (?, ?, ?, NULL, NULL, NULL, ?, ?, ?, ?)`,
        e.orderId,
        e.provider,
        e.kind === "BidWithdrawn" ? "withdrawn" : "rejected",
        e.collateralReleased.toString(),
        ...at,
      );
    case "LeaseStarted":
      return sql.run(
        `INSERT OR IGNORE INTO leases_started (lease_id, tenant, provider, price, collateral, notice_window, escrow,
           close_bounty, started_at, ends_at, heartbeat_period, max_missed, block_number, log_index, tx_hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        e.leaseId,
        e.tenant,
        e.provider,
        e.pricePerSecond.toString(),
        e.collateral.toString(),
        e.noticeWindow,
        e.escrow.toString(),
        e.closeBounty.toString(),
        e.startedAt,
        e.endsAt,
        e.heartbeatPeriod,
        e.maxMissedHeartbeats,
        ...at,
      );
    case "LeaseToppedUp":
      return sql.run(
        `INSERT OR IGNORE INTO lease_topups (lease_id, payer, amount, escrow, block_number, log_index, tx_hash)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        e.leaseId,
        e.payer,
        e.amount.toString(),
        e.escrow.toString(),
        ...at,
      );
    case "LeaseSettled":
      return sql.run(
        `INSERT OR IGNORE INTO lease_settlements (lease_id, amount, paid_seconds, escrow, block_number, log_index,
           tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        e.leaseId,
        e.amount.toString(),
        e.paidSeconds,
        e.escrow.toString(),
        ...at,
      );
    case "HeartbeatPosted":
      return sql.run(
        `INSERT OR IGNORE INTO lease_heartbeats (lease_id, period, block_number, log_index, tx_hash)
         VALUES (?, ?, ?, ?, ?)`,
        e.leaseId,
        e.period,
        ...at,
      );
    case "MissedHeartbeatsReported":
      return sql.run(
        `INSERT OR IGNORE INTO lease_missed_reports (lease_id, reporter, from_period, count, refunded, bounty,
           block_number, log_index, tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        e.leaseId,
        e.reporter,
        e.fromPeriod,
        e.count,
        e.refunded.toString(),
        e.bounty.toString(),
        ...at,
      );
    case "LeaseNoticeGiven":
      return sql.run(
        `INSERT OR IGNORE INTO lease_notices (lease_id, ends_at, block_number, log_index, tx_hash)
         VALUES (?, ?, ?, ?, ?)`,
        e.leaseId,
        e.endsAt,
        ...at,
      );
    case "LeaseClosed":
      return sql.run(
        `INSERT OR IGNORE INTO leases_closed (lease_id, reason, closer, paid, refund, bounty, to_tenant, released,
           block_number, log_index, tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        e.leaseId,
        e.reason,
        e.closer,
        e.paidToProvider.toString(),
        e.refundedToTenant.toString(),
        e.bountyToCloser.toString(),
        e.compensationToTenant.toString(),
        e.collateralReleased.toString(),
        ...at,
      );
    case "LeaseSlashed":
      return sql.run(
        `INSERT OR IGNORE INTO lease_slashes (provider, lease_id, to_tenant, to_reporter, to_treasury, block_number,
           log_index, tx_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        e.provider,
        e.leaseId,
        e.toTenant.toString(),
        e.toReporter.toString(),
        e.toTreasury.toString(),
        ...at,
      );
  }
}

/**
 * Drop heartbeats that no longer matter once they are older than every kept block hash (a reorg rolls back to
 * a kept block at the deepest, or indexes everything again): each lease's older heartbeats (its newest is
 * kept; the periods in between were resolved by heartbeats or by missed-heartbeat reports, which are kept) and
 * every heartbeat of a lease that closed before that block. Returns the rows deleted.
 */
export function pruneHeartbeats(sql: Sql): number {
  const oldest = sql.one("SELECT MIN(number) AS n FROM blocks")?.n;
  if (typeof oldest !== "number" && typeof oldest !== "bigint") return 0;
  return sql.run(
    `DELETE FROM lease_heartbeats WHERE block_number < ?1 AND (
       EXISTS (SELECT 1 FROM lease_heartbeats n WHERE n.lease_id = lease_heartbeats.lease_id
                 AND n.period > lease_heartbeats.period)
       OR EXISTS (SELECT 1 FROM leases_closed c WHERE c.lease_id = lease_heartbeats.lease_id
                    AND c.block_number < ?1))`,
    oldest,
  );
}
