/**
 * Read queries the duties need beyond WorkerDb's methods, on the database's own handle (read-only use):
 * proving-state events with their chain positions, terms as of a point in the chain, retrieval-sample runs
 * and keeper candidates.
 */
import type { DatabaseSync } from "node:sqlite";
import { getAddress } from "ethers";
import type { DealTerms } from "../../sdk/deals/terms.js";
import type { WorkerDb } from "../db/index.js";
import { big, num, str } from "../../runtime/sqlite/columns.js";
import { Sql, type Param } from "../../runtime/sqlite/sql.js";
import type { ChainPosition, ProvingEvent, SeedSource } from "../verify/activeList.js";

/** Only rows strictly before this position count (`block_number < b OR (block_number = b AND log_index < l)`). */
const BEFORE = "(block_number < ? OR (block_number = ? AND log_index < ?))";

const handles = new WeakMap<DatabaseSync, DutyQueries>();

/** The queries over `db` (one instance per database handle: prepared statements are cached). */
export function dutyQueries(db: WorkerDb): DutyQueries {
  const handle = db.handle;
  let queries = handles.get(handle);
  if (queries === undefined) {
    queries = new DutyQueries(handle);
    handles.set(handle, queries);
  }
  return queries;
}

export class DutyQueries {
  private readonly sql: Sql;

  constructor(handle: DatabaseSync) {
    this.sql = new Sql(handle);
  }

  /**
   * Everything that shapes `provider`'s active list and seed before `before`, in chain order: its deals
   * published and ended, and every event that scheduled a seed block (a proof, a missed-proof report, a
   * ChallengeSeedScheduled), whatever the period.
   */
  provingEvents(provider: string, before: ChainPosition): ProvingEvent[] {
    const who = getAddress(provider);
    const at = [before.blockNumber, before.blockNumber, before.logIndex] as const;
    const rows = this.sql.all(
      `SELECT * FROM (
         SELECT 'published' AS kind, deal_id, NULL AS period, NULL AS seed, block_number, log_index
           FROM deals_published WHERE provider = ?
         UNION ALL
         SELECT 'ended', e.deal_id, NULL, NULL, e.block_number, e.log_index FROM deals_ended e
           JOIN deals_published p ON p.deal_id = e.deal_id WHERE p.provider = ?
         UNION ALL
         SELECT 'proof', NULL, period + 1, next_seed_block, block_number, log_index FROM proofs WHERE provider = ?
         UNION ALL
         SELECT 'missed', NULL, from_period + count, next_seed_block, block_number, log_index
           FROM missed_reports WHERE provider = ?
         UNION ALL
         SELECT 'scheduled', NULL, period, seed_block, block_number, log_index FROM seeds WHERE provider = ?
       ) WHERE ${BEFORE} ORDER BY block_number, log_index`,
      who,
      who,
      who,
      who,
      who,
      ...at,
    );
    return rows.map((row): ProvingEvent => {
      const position = { blockNumber: num(row, "block_number"), logIndex: num(row, "log_index") };
      const kind = str(row, "kind");
      if (kind === "published") return { kind: "dealPublished", dealId: big(row, "deal_id"), at: position };
      if (kind === "ended") return { kind: "dealEnded", dealId: big(row, "deal_id"), at: position };
      return {
        kind: "seedScheduled",
        source: kind as SeedSource,
        period: big(row, "period"),
        seedBlock: big(row, "seed"),
        at: position,
      };
    });
  }

  /** Whether `provider` had any proving-related event in `blockNumber` before `logIndex` (list, seed, fault). */
  hadEventsInBlockBefore(provider: string, blockNumber: number, logIndex: number): boolean {
    const who = getAddress(provider);
    return (
      this.sql.count(
        `SELECT COUNT(*) AS n FROM (
           SELECT block_number, log_index FROM deals_published WHERE provider = ?
           UNION ALL SELECT e.block_number, e.log_index FROM deals_ended e
             JOIN deals_published p ON p.deal_id = e.deal_id WHERE p.provider = ?
           UNION ALL SELECT block_number, log_index FROM proofs WHERE provider = ?
           UNION ALL SELECT block_number, log_index FROM missed_reports WHERE provider = ?
           UNION ALL SELECT block_number, log_index FROM seeds WHERE provider = ?
           UNION ALL SELECT block_number, log_index FROM faults_declared WHERE provider = ?
           UNION ALL SELECT block_number, log_index FROM market_parameters WHERE contract = 'market'
         ) WHERE block_number = ? AND log_index < ?`,
        who,
        who,
        who,
        who,
        who,
        who,
        blockNumber,
        logIndex,
      ) > 0
    );
  }

  /** The terms of deal `id` as they stood before `before` (extensions after it not applied). */
  termsBefore(id: bigint, before: ChainPosition): DealTerms | undefined {
    const row = this.sql.one(
      `SELECT p.*, COALESCE((SELECT MAX(x.new_end_period) FROM deals_extended x WHERE x.deal_id = p.deal_id
           AND (x.block_number < ? OR (x.block_number = ? AND x.log_index < ?))), p.end_period) AS current_end
       FROM deals_published p WHERE p.deal_id = ?`,
      before.blockNumber,
      before.blockNumber,
      before.logIndex,
      id,
    );
    if (!row) return undefined;
    return {
      id: big(row, "deal_id"),
      client: str(row, "client"),
      provider: str(row, "provider"),
      root: str(row, "root"),
      size: big(row, "size"),
      startPeriod: big(row, "start_period"),
      endPeriod: big(row, "current_end"),
      pricePerSecond: big(row, "price"),
      collateral: big(row, "collateral"),
    };
  }

  /** The market's `challengeCount` in force before `before` (latest ParametersSet), if one was indexed. */
  challengeCountBefore(before: ChainPosition): number | undefined {
    const row = this.sql.one(
      `SELECT json FROM market_parameters WHERE contract = 'market' AND ${BEFORE}
       ORDER BY block_number DESC, log_index DESC LIMIT 1`,
      before.blockNumber,
      before.blockNumber,
      before.logIndex,
    );
    if (!row) return undefined;
    const params = JSON.parse(str(row, "json")) as Record<string, unknown>;
    const count = params.challengeCount;
    return typeof count === "string" || typeof count === "number" ? Number(count) : undefined;
  }

  /** Id of the `offset`-th active deal in id order (uniform picks for sampling). */
  activeDealIdAt(offset: number): bigint | undefined {
    const row = this.sql.one(
      `SELECT deal_id FROM deals_published p
       WHERE NOT EXISTS (SELECT 1 FROM deals_ended d WHERE d.deal_id = p.deal_id)
       ORDER BY deal_id LIMIT 1 OFFSET ?`,
      offset,
    );
    return row && big(row, "deal_id");
  }

  /** Active deals whose newest sample failed (candidates for a retrieval challenge), by deal id. */
  dealsWithFailingSample(): bigint[] {
    return this.sql
      .all(
        `SELECT s.deal_id FROM samples s
           JOIN (SELECT deal_id, MAX(id) AS last FROM samples GROUP BY deal_id) m ON m.last = s.id
         WHERE s.ok = 0 AND NOT EXISTS (SELECT 1 FROM deals_ended d WHERE d.deal_id = s.deal_id)
         ORDER BY s.deal_id`,
      )
      .map((row) => big(row, "deal_id"));
  }

  /**
   * Active deals that may have reached `maxFaults`: an upper bound on their faults from the index (periods
   * reported missed within the deal plus declared faults) is at least `maxFaults`. Paged by id.
   */
  faultyDealCandidates(maxFaults: number, afterId: bigint, limit: number): bigint[] {
    return this.sql
      .all(
        `WITH live AS (
           SELECT p.deal_id, p.provider, p.start_period, COALESCE((SELECT MAX(x.new_end_period)
             FROM deals_extended x WHERE x.deal_id = p.deal_id), p.end_period) AS current_end
           FROM deals_published p
           WHERE p.deal_id > ? AND NOT EXISTS (SELECT 1 FROM deals_ended d WHERE d.deal_id = p.deal_id)
             AND (EXISTS (SELECT 1 FROM missed_reports m WHERE m.provider = p.provider)
               OR EXISTS (SELECT 1 FROM faults_declared f WHERE f.deal_id = p.deal_id))
         ), scored AS (
           SELECT l.deal_id,
             (SELECT COALESCE(SUM(MAX(0, MIN(m.from_period + m.count, l.current_end)
                - MAX(m.from_period, l.start_period))), 0)
              FROM missed_reports m WHERE m.provider = l.provider) AS missed,
             (SELECT COUNT(*) FROM faults_declared f WHERE f.deal_id = l.deal_id) AS declared
           FROM live l
         )
         SELECT deal_id FROM scored WHERE missed + declared >= ? ORDER BY deal_id LIMIT ?`,
        afterId,
        maxFaults,
        limit,
      )
      .map((row) => big(row, "deal_id"));
  }

  /** Active deals whose end period is at or before `lastEnded`, by id (finalization candidates). */
  endedDealCandidates(lastEnded: bigint, afterId: bigint, limit: number): bigint[] {
    return this.sql
      .all(
        `SELECT deal_id FROM (
           SELECT p.deal_id, COALESCE((SELECT MAX(x.new_end_period) FROM deals_extended x
             WHERE x.deal_id = p.deal_id), p.end_period) AS current_end
           FROM deals_published p
           WHERE p.deal_id > ? AND NOT EXISTS (SELECT 1 FROM deals_ended d WHERE d.deal_id = p.deal_id)
         ) WHERE current_end <= ? ORDER BY deal_id LIMIT ?`,
        afterId,
        lastEnded,
        limit,
      )
      .map((row) => big(row, "deal_id"));
  }

  /**
   * Active deals started by `startedBy`, least recently settled first, with the block of their last
   * settlement (or of their publication when never settled).
   */
  settleCandidates(startedBy: bigint, limit: number): { dealId: bigint; lastBlock: number }[] {
    return this.sql
      .all(
        `SELECT p.deal_id, COALESCE((SELECT MAX(s.block_number) FROM deals_settled s WHERE s.deal_id = p.deal_id),
           p.block_number) AS last_block
         FROM deals_published p
         WHERE p.start_period <= ? AND NOT EXISTS (SELECT 1 FROM deals_ended d WHERE d.deal_id = p.deal_id)
         ORDER BY last_block, p.deal_id LIMIT ?`,
        startedBy,
        limit,
      )
      .map((row) => ({ dealId: big(row, "deal_id"), lastBlock: num(row, "last_block") }));
  }

  /**
   * Resolutions (answered / failed / voided) of challenges opened by `challenger`, indexed in blocks after
   * `afterBlock`.
   */
  resolvedChallengesOf(
    challenger: string,
    afterBlock: number,
  ): { challengeId: bigint; kind: "answered" | "failed" | "voided"; blockNumber: number }[] {
    const params: Param[] = [getAddress(challenger), afterBlock];
    return this.sql
      .all(
        `SELECT r.challenge_id, r.kind, r.block_number FROM retrieval_challenges r
           JOIN retrieval_challenges o ON o.challenge_id = r.challenge_id AND o.kind = 'opened'
         WHERE o.challenger = ? AND r.kind <> 'opened' AND r.block_number > ?
         ORDER BY r.block_number, r.log_index`,
        ...params,
      )
      .map((row) => ({
        challengeId: big(row, "challenge_id"),
        kind: str(row, "kind") as "answered" | "failed" | "voided",
        blockNumber: num(row, "block_number"),
      }));
  }

  /**
   * The provider's first unresolved period as far as the index knows (the latest proof + 1, missed-report
   * run end or seed scheduling), or undefined when the index holds none. The index only lags the chain, so
   * the chain's value is never lower: an indexed value at or past the current period proves nothing is missed.
   */
  indexedNextPeriod(provider: string): bigint | undefined {
    const row = this.sql.one(
      `SELECT MAX(next) AS next FROM (
         SELECT MAX(period) + 1 AS next FROM proofs WHERE provider = ?
         UNION ALL SELECT MAX(from_period + count) FROM missed_reports WHERE provider = ?
         UNION ALL SELECT MAX(period) FROM seeds WHERE provider = ?
       )`,
      getAddress(provider),
      getAddress(provider),
      getAddress(provider),
    );
    return row?.next === null || row?.next === undefined ? undefined : big(row, "next");
  }

  /** The MissedProofsReported run starting at `fromPeriod` for `provider`, if indexed. */
  missedReportFrom(
    provider: string,
    fromPeriod: bigint,
  ): { reporter: string; bounty: bigint; txHash: string } | undefined {
    const row = this.sql.one(
      "SELECT reporter, bounty, tx_hash FROM missed_reports WHERE provider = ? AND from_period = ? LIMIT 1",
      getAddress(provider),
      fromPeriod,
    );
    return row && { reporter: str(row, "reporter"), bounty: big(row, "bounty"), txHash: str(row, "tx_hash") };
  }
}
