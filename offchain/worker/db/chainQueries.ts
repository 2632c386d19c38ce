/** Read queries over the chain index (what the duties and /health need). Addresses are checksummed. */
import { getAddress } from "ethers";
import type { IndexedEvent } from "./events.js";
import {
  toChallenge,
  toDataSet,
  toMissedReport,
  toProof,
  toSlash,
  type IndexedDataSet,
  type MissedReportRecord,
  type ProofRecord,
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

/** Data sets with their newest update, termination and end (one row each). */
const DATA_SET_SELECT = `SELECT s.*, u.version, u.root, u.span,
    t.terminated_by, t.reason AS terminated_reason, t.end_period,
    e.reason AS ended_reason, e.paid AS ended_paid, e.refund AS ended_refund, e.to_client AS ended_to_client,
    e.released AS ended_released, e.block_number AS ended_block, e.log_index AS ended_log_index, e.tx_hash AS ended_tx
  FROM data_sets s
  LEFT JOIN data_set_updates u ON u.rowid = (SELECT x.rowid FROM data_set_updates x WHERE x.data_set_id = s.data_set_id
    ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1)
  LEFT JOIN data_set_terminations t ON t.rowid = (SELECT y.rowid FROM data_set_terminations y
    WHERE y.data_set_id = s.data_set_id ORDER BY y.block_number DESC, y.log_index DESC LIMIT 1)
  LEFT JOIN data_sets_ended e ON e.data_set_id = s.data_set_id`;

export interface OpenDataSetsQuery {
  provider?: string;
  /** Only data sets with an id greater than this (paging). */
  afterId?: bigint;
  limit?: number;
  /** Only live ones (not terminated): what may be sampled, challenged, settled or ended as unfunded. */
  liveOnly?: boolean;
}

/** Data sets not finalized (live or ending), by id. */
export function openDataSets(sql: Sql, query: OpenDataSetsQuery = {}): IndexedDataSet[] {
  const where = ["e.data_set_id IS NULL"];
  const params: Param[] = [];
  if (query.liveOnly === true) where.push("t.data_set_id IS NULL");
  if (query.provider !== undefined) {
    where.push("s.provider = ?");
    params.push(getAddress(query.provider));
  }
  if (query.afterId !== undefined) {
    where.push("s.data_set_id > ?");
    params.push(query.afterId);
  }
  params.push(query.limit ?? -1);
  return sql
    .all(`${DATA_SET_SELECT} WHERE ${where.join(" AND ")} ORDER BY s.data_set_id LIMIT ?`, ...params)
    .map(toDataSet);
}

export function dataSetById(sql: Sql, id: bigint): IndexedDataSet | undefined {
  const row = sql.one(`${DATA_SET_SELECT} WHERE s.data_set_id = ?`, id);
  return row && toDataSet(row);
}

/** Data sets not finalized. */
export function openDataSetCount(sql: Sql): number {
  return sql.count(
    "SELECT COUNT(*) AS n FROM data_sets s WHERE NOT EXISTS (SELECT 1 FROM data_sets_ended e WHERE e.data_set_id = s.data_set_id)",
  );
}

/** Providers with at least one data set not finalized. */
export function providersWithOpenDataSets(sql: Sql): string[] {
  return sql
    .all(
      `SELECT DISTINCT s.provider FROM data_sets s
       WHERE NOT EXISTS (SELECT 1 FROM data_sets_ended e WHERE e.data_set_id = s.data_set_id) ORDER BY s.provider`,
    )
    .map((row) => str(row, "provider"));
}

/** A position strictly after `from` (or the start) and strictly before `to`. */
export interface EventRange {
  after?: Before;
  before: Before;
}

/**
 * The provider's events that change what it must prove (DataSetCreated, DataSetUpdated, ProofSubmitted,
 * MissedProofsReported, ChallengeSeedScheduled) in chain order within `range`: the input of its DataSetReplay.
 */
export function replayEvents(sql: Sql, provider: string, range: EventRange): IndexedEvent[] {
  const who = getAddress(provider);
  const after = range.after ?? { blockNumber: -1, logIndex: 0 };
  const rows = sql.all(
    `SELECT * FROM (
       SELECT 'created' AS kind, data_set_id AS a, NULL AS b, NULL AS c, NULL AS d, NULL AS e, block_number, log_index,
         tx_hash FROM data_sets WHERE provider = ?
       UNION ALL
       SELECT 'updated', data_set_id, version, root, span, effective_period, block_number, log_index, tx_hash
         FROM data_set_updates WHERE provider = ?
       UNION ALL
       SELECT 'proof', period, next_seed_block, NULL, NULL, NULL, block_number, log_index, tx_hash
         FROM proofs WHERE provider = ?
       UNION ALL
       SELECT 'missed', from_period, count, next_seed_block, NULL, NULL, block_number, log_index, tx_hash
         FROM missed_reports WHERE provider = ?
       UNION ALL
       SELECT 'seed', period, seed_block, NULL, NULL, NULL, block_number, log_index, tx_hash
         FROM seeds WHERE provider = ?
     ) WHERE (block_number > ? OR (block_number = ? AND log_index > ?))
       AND (block_number < ? OR (block_number = ? AND log_index < ?))
     ORDER BY block_number, log_index`,
    who,
    who,
    who,
    who,
    who,
    after.blockNumber,
    after.blockNumber,
    after.logIndex,
    range.before.blockNumber,
    range.before.blockNumber,
    range.before.logIndex,
  );
  return rows.map((row): IndexedEvent => {
    const at = {
      blockNumber: num(row, "block_number"),
      logIndex: num(row, "log_index"),
      txHash: str(row, "tx_hash"),
    };
    const kind = str(row, "kind");
    switch (kind) {
      case "created":
        return {
          ...at,
          kind: "DataSetCreated",
          dataSetId: big(row, "a"),
          provider: who,
          // The replay needs only the id and the provider.
          client: who,
          pricePerTiBMonth: 0n,
          collateralPerTiB: 0n,
          noticePeriods: 0n,
          nonce: 0n,
        };
      case "updated":
        return {
          ...at,
          kind: "DataSetUpdated",
          dataSetId: big(row, "a"),
          version: big(row, "b"),
          root: str(row, "c"),
          span: big(row, "d"),
          effectivePeriod: big(row, "e"),
        };
      case "proof":
        return {
          ...at,
          kind: "ProofSubmitted",
          provider: who,
          period: big(row, "a"),
          nextSeedBlock: big(row, "b"),
        };
      case "missed":
        return {
          ...at,
          kind: "MissedProofsReported",
          provider: who,
          fromPeriod: big(row, "a"),
          count: big(row, "b"),
          reporter: who,
          bounty: 0n,
          nextSeedBlock: big(row, "c"),
        };
      default:
        return {
          ...at,
          kind: "ChallengeSeedScheduled",
          provider: who,
          period: big(row, "a"),
          seedBlock: big(row, "b"),
        };
    }
  });
}

/** The newest replay checkpoint of `provider` strictly before `before` (its position and JSON snapshot). */
export function replayCheckpoint(
  sql: Sql,
  provider: string,
  before: Before,
): { at: Before; snapshot: string } | undefined {
  const row = sql.one(
    `SELECT * FROM replay_checkpoints WHERE provider = ? AND (block_number < ? OR (block_number = ? AND log_index < ?))
     ORDER BY block_number DESC, log_index DESC LIMIT 1`,
    getAddress(provider),
    before.blockNumber,
    before.blockNumber,
    before.logIndex,
  );
  if (!row) return undefined;
  return {
    at: { blockNumber: num(row, "block_number"), logIndex: num(row, "log_index") },
    snapshot: str(row, "snapshot"),
  };
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

/** Data sets the provider declared faulty for `period`. */
export function declaredFaults(sql: Sql, provider: string, period: bigint, before?: Before): bigint[] {
  const limit = before ?? { blockNumber: Number.MAX_SAFE_INTEGER, logIndex: 0 };
  return sql
    .all(
      `SELECT data_set_id FROM faults_declared WHERE provider = ? AND period = ?
         AND (block_number < ? OR (block_number = ? AND log_index < ?)) ORDER BY block_number, log_index`,
      getAddress(provider),
      period,
      limit.blockNumber,
      limit.blockNumber,
      limit.logIndex,
    )
    .map((row) => big(row, "data_set_id"));
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

/** Retrieval challenges opened and not yet answered, failed or voided (optionally of one data set / challenger). */
export function openChallenges(
  sql: Sql,
  filter: { dataSetId?: bigint; challenger?: string } = {},
): RetrievalChallengeRecord[] {
  const where: string[] = ["r.challenge_id IS NULL"];
  const params: Param[] = [];
  if (filter.dataSetId !== undefined) {
    where.push("o.data_set_id = ?");
    params.push(filter.dataSetId);
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
