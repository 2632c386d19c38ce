/**
 * The compute market as indexed: orders with their bids, and leases with their position rebuilt from events
 * (escrow, paid and missed time, first unresolved heartbeat period, end). The rebuilt position never runs
 * ahead of the chain (the index trails the head), which is what lets the lease keeper skip reading leases the
 * index already clears.
 */
import { getAddress } from "ethers";
import type { ComputeEvent } from "./events.js";
import { big, num, optBig, optNum, optStr, str } from "../../runtime/sqlite/columns.js";
import type { Param, Row, Sql } from "../../runtime/sqlite/sql.js";

/** How a lease closed (LeaseClosed). */
export interface LeaseCloseRecord {
  /** IComputeMarket.CloseReason (0 Tenant … 5 Expired). */
  reason: number;
  closer: string;
  paidToProvider: bigint;
  refundedToTenant: bigint;
  bountyToCloser: bigint;
  compensationToTenant: bigint;
  collateralReleased: bigint;
  blockNumber: number;
  logIndex: number;
  txHash: string;
}

/** A lease as indexed: its LeaseStarted terms and its position after every later event in the index. */
export interface IndexedLease {
  id: bigint;
  tenant: string;
  provider: string;
  pricePerSecond: bigint;
  /** Collateral locked at the start (missed-heartbeat bounties reduce it on chain). */
  collateral: bigint;
  noticeWindow: bigint;
  closeBounty: bigint;
  startedAt: bigint;
  /** End of paid time: the duration's end or an earlier notice's; 0 while open-ended. */
  endsAt: bigint;
  noticeGiven: boolean;
  heartbeatPeriod: bigint;
  maxMissedHeartbeats: bigint;
  /** Escrow after the latest start, top-up or settlement. */
  escrow: bigint;
  /** Seconds paid by the latest settlement (0 before the first). */
  paidSeconds: bigint;
  /** Seconds of reported missed periods. */
  missedSeconds: bigint;
  /** Missed periods reported. */
  missedHeartbeats: bigint;
  /** First period neither heartbeated nor reported missed. */
  nextPeriod: bigint;
  startedBlock: number;
  startedTx: string;
  /** Null while the index has not seen it close. */
  closed: LeaseCloseRecord | null;
}

/** One MissedHeartbeatsReported event. */
export interface LeaseMissedReportRecord {
  leaseId: bigint;
  reporter: string;
  fromPeriod: bigint;
  count: bigint;
  /** Escrow no longer payable to the provider (price × missed seconds). */
  refunded: bigint;
  bounty: bigint;
  blockNumber: number;
  logIndex: number;
  txHash: string;
}

export type ComputeOrderStatus = "open" | "filled" | "cancelled" | "expired";

/** An order as indexed, with its status per the index ("open" includes open orders past their expiry). */
export type IndexedOrder = Omit<Extract<ComputeEvent, { kind: "OrderCreated" }>, "kind" | "orderId"> & {
  id: bigint;
  status: ComputeOrderStatus;
  blockNumber: number;
  txHash: string;
};

/** A provider's bid on an order: its latest event ("created" = active unless the order was filled by it). */
export interface IndexedBid {
  orderId: bigint;
  provider: string;
  status: "created" | "withdrawn" | "rejected";
  pricePerSecond: bigint;
  collateral: bigint;
  noticeWindow: bigint;
  blockNumber: number;
}

const LEASE_SELECT = `SELECT s.*,
    (SELECT MIN(n.ends_at) FROM lease_notices n WHERE n.lease_id = s.lease_id) AS notice_ends_at,
    (SELECT MAX(h.period) + 1 FROM lease_heartbeats h WHERE h.lease_id = s.lease_id) AS heartbeat_next,
    (SELECT MAX(m.from_period + m.count) FROM lease_missed_reports m WHERE m.lease_id = s.lease_id) AS reported_next,
    (SELECT SUM(m.count) FROM lease_missed_reports m WHERE m.lease_id = s.lease_id) AS missed_count,
    (SELECT group_concat(m.refunded) FROM lease_missed_reports m WHERE m.lease_id = s.lease_id) AS refunds,
    (SELECT printf('%015d%08d:', e.block_number, e.log_index) || e.escrow AS at_escrow FROM lease_topups e
       WHERE e.lease_id = s.lease_id
     UNION ALL
     SELECT printf('%015d%08d:', e.block_number, e.log_index) || e.escrow FROM lease_settlements e
       WHERE e.lease_id = s.lease_id
     ORDER BY 1 DESC LIMIT 1) AS last_escrow,
    (SELECT e.paid_seconds FROM lease_settlements e WHERE e.lease_id = s.lease_id
     ORDER BY e.block_number DESC, e.log_index DESC LIMIT 1) AS paid_seconds,
    c.reason AS closed_reason, c.closer AS closed_closer, c.paid AS closed_paid, c.refund AS closed_refund,
    c.bounty AS closed_bounty, c.to_tenant AS closed_to_tenant, c.released AS closed_released,
    c.block_number AS closed_block, c.log_index AS closed_log_index, c.tx_hash AS closed_tx
  FROM leases_started s LEFT JOIN leases_closed c ON c.lease_id = s.lease_id`;

function toLease(row: Row): IndexedLease {
  const price = big(row, "price");
  const startEnd = big(row, "ends_at");
  const noticeEnd = optBig(row, "notice_ends_at");
  const endsAt =
    noticeEnd === null ? startEnd : startEnd === 0n || noticeEnd < startEnd ? noticeEnd : startEnd;
  const refunded = (optStr(row, "refunds") ?? "")
    .split(",")
    .filter((part) => part !== "")
    .reduce((sum, part) => sum + BigInt(part), 0n);
  const heartbeatNext = optBig(row, "heartbeat_next") ?? 0n;
  const reportedNext = optBig(row, "reported_next") ?? 0n;
  const closedBlock = optNum(row, "closed_block");
  // "<block, 15 digits><log index, 8 digits>:<escrow>" of the latest top-up or settlement (their escrow after).
  const lastEscrow = optStr(row, "last_escrow");
  return {
    id: big(row, "lease_id"),
    tenant: str(row, "tenant"),
    provider: str(row, "provider"),
    pricePerSecond: price,
    collateral: big(row, "collateral"),
    noticeWindow: big(row, "notice_window"),
    closeBounty: big(row, "close_bounty"),
    startedAt: big(row, "started_at"),
    endsAt,
    noticeGiven: noticeEnd !== null,
    heartbeatPeriod: big(row, "heartbeat_period"),
    maxMissedHeartbeats: big(row, "max_missed"),
    // A missed-heartbeat report's compensation is credited to the tenant's ledger balance, not to the escrow.
    escrow: lastEscrow === null ? big(row, "escrow") : BigInt(lastEscrow.slice(lastEscrow.indexOf(":") + 1)),
    paidSeconds: optBig(row, "paid_seconds") ?? 0n,
    missedSeconds: price === 0n ? 0n : refunded / price,
    missedHeartbeats: optBig(row, "missed_count") ?? 0n,
    nextPeriod: heartbeatNext > reportedNext ? heartbeatNext : reportedNext,
    startedBlock: num(row, "block_number"),
    startedTx: str(row, "tx_hash"),
    closed:
      closedBlock === null
        ? null
        : {
            reason: num(row, "closed_reason"),
            closer: str(row, "closed_closer"),
            paidToProvider: big(row, "closed_paid"),
            refundedToTenant: big(row, "closed_refund"),
            bountyToCloser: big(row, "closed_bounty"),
            compensationToTenant: big(row, "closed_to_tenant"),
            collateralReleased: big(row, "closed_released"),
            blockNumber: closedBlock,
            logIndex: num(row, "closed_log_index"),
            txHash: str(row, "closed_tx"),
          },
  };
}

export interface OpenLeasesQuery {
  provider?: string;
  /** Only leases with an id greater than this (paging). */
  afterId?: bigint;
  limit?: number;
}

/** Leases started and not closed per the index, by id. */
export function openLeases(sql: Sql, query: OpenLeasesQuery = {}): IndexedLease[] {
  const where = ["c.lease_id IS NULL"];
  const params: Param[] = [];
  if (query.provider !== undefined) {
    where.push("s.provider = ?");
    params.push(getAddress(query.provider));
  }
  if (query.afterId !== undefined) {
    where.push("s.lease_id > ?");
    params.push(query.afterId);
  }
  params.push(query.limit ?? -1);
  return sql
    .all(`${LEASE_SELECT} WHERE ${where.join(" AND ")} ORDER BY s.lease_id LIMIT ?`, ...params)
    .map(toLease);
}

export function leaseById(sql: Sql, id: bigint): IndexedLease | undefined {
  const row = sql.one(`${LEASE_SELECT} WHERE s.lease_id = ?`, id);
  return row && toLease(row);
}

/** The leases with the given ids (open or closed; unknown ids are left out), by id. */
export function leasesByIds(sql: Sql, ids: readonly bigint[]): IndexedLease[] {
  const out: IndexedLease[] = [];
  const sorted = [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 0; i < sorted.length; i += ID_CHUNK) {
    const chunk: Param[] = sorted.slice(i, i + ID_CHUNK);
    // Padded to a power of two (with id 0, which no lease has): a handful of distinct cached statements.
    let size = 1;
    while (size < chunk.length) size *= 2;
    while (chunk.length < size) chunk.push(0);
    const marks = chunk.map(() => "?").join(", ");
    out.push(
      ...sql.all(`${LEASE_SELECT} WHERE s.lease_id IN (${marks}) ORDER BY s.lease_id`, ...chunk).map(toLease),
    );
  }
  return out;
}

/** Ids per `IN (...)` query (SQLite's default limit on parameters is far above; statements stay cacheable). */
const ID_CHUNK = 256;

/** Leases with an event of theirs in a block above `block`. */
export function leaseIdsChangedSince(sql: Sql, block: number): bigint[] {
  const tables = [
    "leases_started",
    "lease_topups",
    "lease_settlements",
    "lease_heartbeats",
    "lease_missed_reports",
    "lease_notices",
    "leases_closed",
  ];
  return sql
    .all(tables.map((t) => `SELECT lease_id FROM ${t} WHERE block_number > ?1`).join(" UNION "), block)
    .map((row) => big(row, "lease_id"));
}

export function openLeaseCount(sql: Sql): number {
  return sql.count(
    `SELECT COUNT(*) AS n FROM leases_started s
     WHERE NOT EXISTS (SELECT 1 FROM leases_closed c WHERE c.lease_id = s.lease_id)`,
  );
}

function toMissedHeartbeats(row: Row): LeaseMissedReportRecord {
  return {
    leaseId: big(row, "lease_id"),
    reporter: str(row, "reporter"),
    fromPeriod: big(row, "from_period"),
    count: big(row, "count"),
    refunded: big(row, "refunded"),
    bounty: big(row, "bounty"),
    blockNumber: num(row, "block_number"),
    logIndex: num(row, "log_index"),
    txHash: str(row, "tx_hash"),
  };
}

/** Missed-heartbeat reports of a lease, in chain order. */
export function leaseMissedReports(sql: Sql, leaseId: bigint): LeaseMissedReportRecord[] {
  return sql
    .all("SELECT * FROM lease_missed_reports WHERE lease_id = ? ORDER BY block_number, log_index", leaseId)
    .map(toMissedHeartbeats);
}

const ORDER_SELECT = `SELECT o.*, e.kind AS ended_kind, l.lease_id AS filled
  FROM compute_orders o
  LEFT JOIN compute_orders_ended e ON e.order_id = o.order_id
  LEFT JOIN leases_started l ON l.lease_id = o.order_id`;

function toOrder(row: Row): IndexedOrder {
  const ended = optStr(row, "ended_kind");
  return {
    id: big(row, "order_id"),
    tenant: str(row, "tenant"),
    cpuMillicores: big(row, "cpu_millicores"),
    memoryMiB: big(row, "memory_mib"),
    storageGiB: big(row, "storage_gib"),
    gpuCount: big(row, "gpu_count"),
    gpuModel: str(row, "gpu_model"),
    region: str(row, "region"),
    workloadHash: str(row, "workload_hash"),
    maxPricePerSecond: big(row, "max_price"),
    deposit: big(row, "deposit"),
    duration: big(row, "duration"),
    expiresAt: big(row, "expires_at"),
    minCollateral: big(row, "min_collateral"),
    minNoticeWindow: big(row, "min_notice_window"),
    closeBounty: big(row, "close_bounty"),
    status:
      optNum(row, "filled") !== null
        ? "filled"
        : ended === null
          ? "open"
          : (ended as "cancelled" | "expired"),
    blockNumber: num(row, "block_number"),
    txHash: str(row, "tx_hash"),
  };
}

export function orderById(sql: Sql, id: bigint): IndexedOrder | undefined {
  const row = sql.one(`${ORDER_SELECT} WHERE o.order_id = ?`, id);
  return row && toOrder(row);
}

/** Each provider's bid on `orderId` in its latest state (created / withdrawn / rejected), by latest bid. */
export function bidsOn(sql: Sql, orderId: bigint): IndexedBid[] {
  const latest = new Map<string, IndexedBid>();
  for (const row of sql.all(
    "SELECT * FROM compute_bids WHERE order_id = ? ORDER BY block_number, log_index",
    orderId,
  )) {
    const provider = str(row, "provider");
    const kind = str(row, "kind") as IndexedBid["status"];
    const previous = latest.get(provider);
    latest.delete(provider); // re-inserted last: the map ends in order of each provider's latest event
    latest.set(
      provider,
      kind === "created"
        ? {
            orderId,
            provider,
            status: kind,
            pricePerSecond: big(row, "price"),
            collateral: big(row, "collateral"),
            noticeWindow: big(row, "notice_window"),
            blockNumber: num(row, "block_number"),
          }
        : {
            orderId,
            provider,
            status: kind,
            pricePerSecond: previous?.pricePerSecond ?? 0n,
            collateral: previous?.collateral ?? 0n,
            noticeWindow: previous?.noticeWindow ?? 0n,
            blockNumber: num(row, "block_number"),
          },
    );
  }
  return [...latest.values()];
}
