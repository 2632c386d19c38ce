/** Read queries over the chain index (what the duties and /health need). Addresses are checksummed. */
import { getAddress } from "ethers";
import {
  toChallenge,
  toDeal,
  toMissedReport,
  toProof,
  toSlash,
  type IndexedDeal,
  type MissedReportRecord,
  type ProofRecord,
  type ProviderDealEvent,
  type ProviderRecord,
  type RetrievalChallengeRecord,
  type SeedRecord,
  type SlashRecord,
} from "./records.js";
import { big, num, optStr, str } from "../../runtime/sqlite/columns.js";
import type { Param, Sql } from "../../runtime/sqlite/sql.js";

/** A position in the chain: only events strictly before it are considered. */
export interface Before {
  blockNumber: number;
  logIndex: number;
}

const DEAL_SELECT = `SELECT p.*,
    COALESCE((SELECT MAX(x.new_end_period) FROM deals_extended x WHERE x.deal_id = p.deal_id), p.end_period) AS current_end,
    d.reason AS ended_reason, d.paid AS ended_paid, d.refund AS ended_refund, d.to_client AS ended_to_client,
    d.released AS ended_released, d.block_number AS ended_block, d.log_index AS ended_log_index, d.tx_hash AS ended_tx
  FROM deals_published p LEFT JOIN deals_ended d ON d.deal_id = p.deal_id`;

export interface ActiveDealsQuery {
  provider?: string;
  /** Only deals with an id greater than this (paging). */
  afterId?: bigint;
  limit?: number;
}

/** Deals published and not ended (extensions applied), by id. */
export function activeDeals(sql: Sql, query: ActiveDealsQuery = {}): IndexedDeal[] {
  const where = ["d.deal_id IS NULL"];
  const params: Param[] = [];
  if (query.provider !== undefined) {
    where.push("p.provider = ?");
    params.push(getAddress(query.provider));
  }
  if (query.afterId !== undefined) {
    where.push("p.deal_id > ?");
    params.push(query.afterId);
  }
  params.push(query.limit ?? -1);
  return sql
    .all(`${DEAL_SELECT} WHERE ${where.join(" AND ")} ORDER BY p.deal_id LIMIT ?`, ...params)
    .map(toDeal);
}

export function dealById(sql: Sql, id: bigint): IndexedDeal | undefined {
  const row = sql.one(`${DEAL_SELECT} WHERE p.deal_id = ?`, id);
  return row && toDeal(row);
}

export function activeDealCount(sql: Sql): number {
  return sql.count(
    "SELECT COUNT(*) AS n FROM deals_published p WHERE NOT EXISTS (SELECT 1 FROM deals_ended d WHERE d.deal_id = p.deal_id)",
  );
}

/** Providers with at least one deal published and not ended. */
export function providersWithActiveDeals(sql: Sql): string[] {
  return sql
    .all(
      `SELECT DISTINCT p.provider FROM deals_published p
       WHERE NOT EXISTS (SELECT 1 FROM deals_ended d WHERE d.deal_id = p.deal_id) ORDER BY p.provider`,
    )
    .map((row) => str(row, "provider"));
}

/** The provider's registry state (latest event), or undefined if it never registered. */
export function providerRecord(sql: Sql, provider: string): ProviderRecord | undefined {
  const row = sql.one(
    "SELECT * FROM providers WHERE provider = ? ORDER BY block_number DESC, log_index DESC LIMIT 1",
    getAddress(provider),
  );
  if (!row) return undefined;
  return {
    provider: str(row, "provider"),
    endpoint: optStr(row, "endpoint"),
    payee: optStr(row, "payee"),
    kind: str(row, "kind") as ProviderRecord["kind"],
    blockNumber: num(row, "block_number"),
  };
}

/** The provider's registered endpoint, or null (never registered, or deregistered). */
export function providerEndpoint(sql: Sql, provider: string): string | null {
  return providerRecord(sql, provider)?.endpoint ?? null;
}

/** Proofs indexed in blocks >= `fromBlock`, in chain order. */
export function proofsSince(sql: Sql, fromBlock: number, limit = 1000): ProofRecord[] {
  return sql
    .all(
      "SELECT * FROM proofs WHERE block_number >= ? ORDER BY block_number, log_index LIMIT ?",
      fromBlock,
      limit,
    )
    .map(toProof);
}

/** Proofs without a proof_checks row, oldest first. */
export function uncheckedProofs(sql: Sql, limit = 100): ProofRecord[] {
  return sql
    .all(
      `SELECT p.* FROM proofs p WHERE NOT EXISTS (SELECT 1 FROM proof_checks c WHERE c.tx_hash = p.tx_hash)
       ORDER BY p.block_number, p.log_index LIMIT ?`,
      limit,
    )
    .map(toProof);
}

/** The proof of `provider` for `period`, if indexed. */
export function proofFor(sql: Sql, provider: string, period: bigint): ProofRecord | undefined {
  const row = sql.one(
    "SELECT * FROM proofs WHERE provider = ? AND period = ? ORDER BY block_number DESC, log_index DESC LIMIT 1",
    getAddress(provider),
    period,
  );
  return row && toProof(row);
}

/**
 * The block whose hash seeds `provider`'s challenges for `period`: the latest of a ChallengeSeedScheduled
 * for the period, the previous period's ProofSubmitted (nextSeedBlock) and a MissedProofsReported run ending
 * just before the period — considering only events before `before` (e.g. the proof being checked).
 */
export function seedFor(sql: Sql, provider: string, period: bigint, before?: Before): SeedRecord | undefined {
  const who = getAddress(provider);
  const limit = before ?? { blockNumber: Number.MAX_SAFE_INTEGER, logIndex: 0 };
  const row = sql.one(
    `SELECT * FROM (
       SELECT 'scheduled' AS source, seed_block AS seed, block_number, log_index FROM seeds
         WHERE provider = ? AND period = ?
       UNION ALL
       SELECT 'proof', next_seed_block, block_number, log_index FROM proofs WHERE provider = ? AND period = ?
       UNION ALL
       SELECT 'missed-report', next_seed_block, block_number, log_index FROM missed_reports
         WHERE provider = ? AND from_period + count = ?
     ) WHERE block_number < ? OR (block_number = ? AND log_index < ?)
     ORDER BY block_number DESC, log_index DESC LIMIT 1`,
    who,
    period,
    who,
    period - 1n,
    who,
    period,
    limit.blockNumber,
    limit.blockNumber,
    limit.logIndex,
  );
  if (!row) return undefined;
  return {
    provider: who,
    period,
    seedBlock: num(row, "seed"),
    source: str(row, "source") as SeedRecord["source"],
    blockNumber: num(row, "block_number"),
    logIndex: num(row, "log_index"),
  };
}

/**
 * The provider's DealPublished / DealEnded events in chain order (optionally only those before `before`):
 * replaying them with the market's swap-and-pop rule rebuilds its active list at any point.
 */
export function providerDealEvents(sql: Sql, provider: string, before?: Before): ProviderDealEvent[] {
  const who = getAddress(provider);
  const limit = before ?? { blockNumber: Number.MAX_SAFE_INTEGER, logIndex: 0 };
  return sql
    .all(
      `SELECT * FROM (
         SELECT 'published' AS kind, deal_id, block_number, log_index FROM deals_published WHERE provider = ?
         UNION ALL
         SELECT 'ended', d.deal_id, d.block_number, d.log_index FROM deals_ended d
           JOIN deals_published p ON p.deal_id = d.deal_id WHERE p.provider = ?
       ) WHERE block_number < ? OR (block_number = ? AND log_index < ?)
       ORDER BY block_number, log_index`,
      who,
      who,
      limit.blockNumber,
      limit.blockNumber,
      limit.logIndex,
    )
    .map((row) => ({
      kind: str(row, "kind") as ProviderDealEvent["kind"],
      dealId: big(row, "deal_id"),
      blockNumber: num(row, "block_number"),
      logIndex: num(row, "log_index"),
    }));
}

/** Deals the provider declared faulty for `period`. */
export function declaredFaults(sql: Sql, provider: string, period: bigint, before?: Before): bigint[] {
  const limit = before ?? { blockNumber: Number.MAX_SAFE_INTEGER, logIndex: 0 };
  return sql
    .all(
      `SELECT deal_id FROM faults_declared WHERE provider = ? AND period = ?
         AND (block_number < ? OR (block_number = ? AND log_index < ?)) ORDER BY block_number, log_index`,
      getAddress(provider),
      period,
      limit.blockNumber,
      limit.blockNumber,
      limit.logIndex,
    )
    .map((row) => big(row, "deal_id"));
}

/** Missed-proof reports against `provider`, in chain order. */
export function missedReports(sql: Sql, provider: string): MissedReportRecord[] {
  return sql
    .all(
      "SELECT * FROM missed_reports WHERE provider = ? ORDER BY block_number, log_index",
      getAddress(provider),
    )
    .map(toMissedReport);
}

/** Providers that have at least one missed-proof report. */
export function providersWithMissedReports(sql: Sql): string[] {
  return sql
    .all("SELECT DISTINCT provider FROM missed_reports ORDER BY provider")
    .map((row) => str(row, "provider"));
}

/** Slashes recorded in transaction `txHash` (e.g. to read the bounty of one's own report or enforcement). */
export function slashesInTx(sql: Sql, txHash: string): SlashRecord[] {
  return sql
    .all("SELECT * FROM slashes WHERE tx_hash = ? ORDER BY log_index", txHash.toLowerCase())
    .map(toSlash);
}

const CHALLENGE_SELECT = `SELECT o.*, r.kind AS resolved_kind, r.block_number AS resolved_block, r.enforcer AS resolved_enforcer
  FROM retrieval_challenges o
  LEFT JOIN retrieval_challenges r ON r.challenge_id = o.challenge_id AND r.kind <> 'opened'
  WHERE o.kind = 'opened'`;

/** Retrieval challenges opened and not yet answered, failed or voided (optionally of one deal / challenger). */
export function openChallenges(
  sql: Sql,
  filter: { dealId?: bigint; challenger?: string } = {},
): RetrievalChallengeRecord[] {
  const where: string[] = ["r.challenge_id IS NULL"];
  const params: Param[] = [];
  if (filter.dealId !== undefined) {
    where.push("o.deal_id = ?");
    params.push(filter.dealId);
  }
  if (filter.challenger !== undefined) {
    where.push("o.challenger = ?");
    params.push(getAddress(filter.challenger));
  }
  return sql
    .all(`${CHALLENGE_SELECT} AND ${where.join(" AND ")} ORDER BY o.challenge_id`, ...params)
    .map(toChallenge);
}

export function challengeById(sql: Sql, challengeId: bigint): RetrievalChallengeRecord | undefined {
  const row = sql.one(`${CHALLENGE_SELECT} AND o.challenge_id = ?`, challengeId);
  return row && toChallenge(row);
}

/**
 * The market's (or the retrieval contract's, or the compute market's) parameters in force at `blockNumber` (the latest ParametersSet
 * at or before it), as bigints by field name; undefined when none was indexed.
 */
export function parametersAt(
  sql: Sql,
  blockNumber: number,
  contract: "market" | "retrieval" | "compute" = "market",
): Record<string, bigint> | undefined {
  const row = sql.one(
    `SELECT json FROM market_parameters WHERE contract = ? AND block_number <= ?
     ORDER BY block_number DESC, log_index DESC LIMIT 1`,
    contract,
    blockNumber,
  );
  if (!row) return undefined;
  const raw = JSON.parse(str(row, "json")) as Record<string, string>;
  return Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, BigInt(value)]));
}
