/**
 * Read queries the duties need beyond WorkerDb's methods, on the database's own handle (read-only use):
 * what happened in a proof's block, parameters as of a point in the chain, sampling picks, retrieval-sample runs and
 * keeper candidates.
 */
import type { DatabaseSync } from "node:sqlite";
import { getAddress } from "ethers";
import type { WorkerDb } from "../db/index.js";
import { big, num, str } from "../../runtime/sqlite/columns.js";
import { Sql, type Param } from "../../runtime/sqlite/sql.js";
import type { Before as ChainPosition } from "../db/index.js";

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

  /** Whether `provider` had any proving-related event in `blockNumber` before `logIndex` (data sets, seed, fault). */
  hadEventsInBlockBefore(provider: string, blockNumber: number, logIndex: number): boolean {
    const who = getAddress(provider);
    return (
      this.sql.count(
        `SELECT COUNT(*) AS n FROM (
           SELECT block_number, log_index FROM data_sets WHERE provider = ?
           UNION ALL SELECT block_number, log_index FROM data_set_updates WHERE provider = ?
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

  /** Live data sets (not terminated) holding bytes, by the newest indexed state. */
  private static readonly LIVE_FILLED = `SELECT s.data_set_id, s.provider, u.root, u.span FROM data_sets s
     JOIN data_set_updates u ON u.rowid = (SELECT x.rowid FROM data_set_updates x WHERE x.data_set_id = s.data_set_id
       ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1)
     WHERE u.span > 0 AND NOT EXISTS (SELECT 1 FROM data_set_terminations t WHERE t.data_set_id = s.data_set_id)
       AND NOT EXISTS (SELECT 1 FROM data_sets_ended e WHERE e.data_set_id = s.data_set_id)`;

  /** How many live data sets hold bytes (what sampling picks from). */
  liveFilledCount(): number {
    return this.sql.count(`SELECT COUNT(*) AS n FROM (${DutyQueries.LIVE_FILLED})`);
  }

  /** The `offset`-th live data set holding bytes, in id order (uniform picks for sampling). */
  liveFilledAt(
    offset: number,
  ): { dataSetId: bigint; provider: string; root: string; span: bigint } | undefined {
    const row = this.sql.one(`${DutyQueries.LIVE_FILLED} ORDER BY s.data_set_id LIMIT 1 OFFSET ?`, offset);
    return (
      row && {
        dataSetId: big(row, "data_set_id"),
        provider: str(row, "provider"),
        root: str(row, "root"),
        span: big(row, "span"),
      }
    );
  }

  /** Live data sets whose newest sample failed (candidates for a retrieval challenge), by id. */
  dataSetsWithFailingSample(): bigint[] {
    return this.sql
      .all(
        `SELECT s.data_set_id FROM samples s
           JOIN (SELECT data_set_id, MAX(id) AS last FROM samples GROUP BY data_set_id) m ON m.last = s.id
         WHERE s.ok = 0 AND NOT EXISTS (SELECT 1 FROM data_sets_ended d WHERE d.data_set_id = s.data_set_id)
         ORDER BY s.data_set_id`,
      )
      .map((row) => big(row, "data_set_id"));
  }

  /**
   * Data sets not finalized that may have reached `maxFaults`: an upper bound on their faults from the index (every
   * period reported missed for their provider since their creation, plus their declared faults) is at least
   * `maxFaults`. The market's own count decides (the keeper simulates first). Paged by id.
   */
  faultyCandidates(maxFaults: number, afterId: bigint, limit: number): bigint[] {
    return this.sql
      .all(
        `WITH open AS (
           SELECT s.data_set_id, s.provider, s.block_number FROM data_sets s
           WHERE s.data_set_id > ? AND NOT EXISTS (SELECT 1 FROM data_sets_ended e WHERE e.data_set_id = s.data_set_id)
         ), scored AS (
           SELECT o.data_set_id,
             (SELECT COALESCE(SUM(m.count), 0) FROM missed_reports m
               WHERE m.provider = o.provider AND m.block_number >= o.block_number) AS missed,
             (SELECT COUNT(*) FROM faults_declared f WHERE f.data_set_id = o.data_set_id) AS declared
           FROM open o
         )
         SELECT data_set_id FROM scored WHERE missed + declared >= ? ORDER BY data_set_id LIMIT ?`,
        afterId,
        maxFaults,
        limit,
      )
      .map((row) => big(row, "data_set_id"));
  }

  /**
   * Ending data sets (terminated, not finalized) whose end period is at most `currentPeriod` + 1, by id: a finalize
   * (which first records the provider's missed periods) removes them from their class or closes them; the keeper
   * simulates first.
   */
  finalizeCandidates(currentPeriod: bigint, afterId: bigint, limit: number): bigint[] {
    return this.sql
      .all(
        `SELECT DISTINCT s.data_set_id FROM data_sets s
           JOIN data_set_terminations t ON t.data_set_id = s.data_set_id
         WHERE s.data_set_id > ? AND NOT EXISTS (SELECT 1 FROM data_sets_ended e WHERE e.data_set_id = s.data_set_id)
           AND t.end_period <= ?
         ORDER BY s.data_set_id LIMIT ?`,
        afterId,
        currentPeriod + 1n,
        limit,
      )
      .map((row) => big(row, "data_set_id"));
  }

  /** Live data sets (not terminated, not finalized) after `afterId`, by id (unfunded checks page through them). */
  liveIds(afterId: bigint, limit: number): bigint[] {
    return this.sql
      .all(
        `SELECT data_set_id FROM data_sets s WHERE s.data_set_id > ?
           AND NOT EXISTS (SELECT 1 FROM data_set_terminations t WHERE t.data_set_id = s.data_set_id)
           AND NOT EXISTS (SELECT 1 FROM data_sets_ended e WHERE e.data_set_id = s.data_set_id)
         ORDER BY data_set_id LIMIT ?`,
        afterId,
        limit,
      )
      .map((row) => big(row, "data_set_id"));
  }

  /**
   * Data sets not finalized that held bytes, least recently settled first, with the block of their last
   * settlement (or of their creation when never settled).
   */
  settleCandidates(limit: number): { dataSetId: bigint; lastBlock: number }[] {
    return this.sql
      .all(
        `SELECT s.data_set_id, COALESCE((SELECT MAX(x.block_number) FROM data_set_settlements x
             WHERE x.data_set_id = s.data_set_id), s.block_number) AS last_block
         FROM data_sets s
         WHERE EXISTS (SELECT 1 FROM data_set_updates u WHERE u.data_set_id = s.data_set_id AND u.span > 0)
           AND NOT EXISTS (SELECT 1 FROM data_sets_ended e WHERE e.data_set_id = s.data_set_id)
         ORDER BY last_block, s.data_set_id LIMIT ?`,
        limit,
      )
      .map((row) => ({ dataSetId: big(row, "data_set_id"), lastBlock: num(row, "last_block") }));
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
