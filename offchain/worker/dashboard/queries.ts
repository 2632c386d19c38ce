/**
 * Read-only queries over the worker's index for the dashboard. Every list is bounded (`ROW_LIMIT` rows, newest
 * first) and token amounts are summed exactly as bigints in JavaScript (they are stored as decimal text, and
 * SQLite's SUM would overflow or round them). Nothing here writes.
 */
import { getAddress, ZeroAddress } from "ethers";
import type { WorkerDb } from "../db/index.js";
import { big, num, optStr, str } from "../../runtime/sqlite/columns.js";
import { Sql, type Param, type Row } from "../../runtime/sqlite/sql.js";
import {
  at,
  LEAF_BYTES,
  ROW_LIMIT,
  whereEqual,
  type AmountRow,
  type ChallengeRow,
  type DataSetRow,
  type FaultRow,
  type LeaseEventRow,
  type LeaseRow,
  type MoneyFlows,
  type NetworkTotals,
  type PeriodActivity,
  type ProofRow,
  type ProviderRow,
  type SlashRow,
  type UpdateRow,
  type WatcherAction,
  type WatcherRow,
} from "./queryRows.js";
import { watcherActions, watchers } from "./watcherQueries.js";

export type * from "./queryRows.js";
export { ROW_LIMIT } from "./queryRows.js";

/** The dashboard's read-only view of a worker index. */
export class DashboardQueries {
  private readonly sql: Sql;
  /** Network-wide aggregates of the index as of `key` (cursor and rollbacks): they change only when it moves. */
  private cached: { key: string; values: Map<string, unknown> } = { key: "", values: new Map() };

  constructor(private readonly db: WorkerDb) {
    this.sql = new Sql(db.handle);
  }

  /**
   * `compute()` once per index position: the totals and money flows scan whole tables (sums of every
   * settlement), so a page reloaded while the index stands still does not scan them again.
   */
  private memo<T>(name: string, compute: () => T): T {
    const key = `${this.db.cursor() ?? "none"}:${this.db.rollbackCount()}`;
    if (this.cached.key !== key) this.cached = { key, values: new Map() };
    if (!this.cached.values.has(name)) this.cached.values.set(name, compute());
    return this.cached.values.get(name) as T;
  }

  /** Σ of a decimal-text column over the rows of `query` (exact). */
  private sum(query: string, ...params: Param[]): bigint {
    let total = 0n;
    for (const row of this.sql.db.prepare(query).iterate(...params)) total += big(row, "v");
    return total;
  }

  /** The index's cursor (last indexed block) or null. */
  indexedBlock(): number | null {
    return this.db.cursor();
  }

  totals(): NetworkTotals {
    return this.memo("totals", () => this.computeTotals());
  }

  private computeTotals(): NetworkTotals {
    const n = (q: string, ...p: Param[]): number => this.sql.count(q, ...p);
    const total = n("SELECT COUNT(*) AS n FROM data_sets");
    const finalized = n("SELECT COUNT(*) AS n FROM data_sets_ended");
    const ending = n(
      `SELECT COUNT(DISTINCT t.data_set_id) AS n FROM data_set_terminations t
       WHERE NOT EXISTS (SELECT 1 FROM data_sets_ended e WHERE e.data_set_id = t.data_set_id)`,
    );
    const spans = this.sql.one(
      `SELECT COALESCE(SUM(u.span), 0) AS n FROM data_sets s JOIN data_set_updates u ON u.rowid =
         (SELECT x.rowid FROM data_set_updates x WHERE x.data_set_id = s.data_set_id
          ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1)
       WHERE NOT EXISTS (SELECT 1 FROM data_sets_ended e WHERE e.data_set_id = s.data_set_id)`,
    );
    return {
      providersRegistered: this.providerStates().filter((p) => p.kind !== "deregistered").length,
      dataSets: { total, live: total - finalized - ending, ending, finalized },
      bytesStored: (spans === undefined ? 0n : big(spans, "n")) * LEAF_BYTES,
      proofs: n("SELECT COUNT(*) AS n FROM proofs"),
      missedPeriods: big(
        this.sql.one("SELECT COALESCE(SUM(count), 0) AS n FROM missed_reports") ?? { n: 0 },
        "n",
      ),
      declaredFaults: n("SELECT COUNT(*) AS n FROM faults_declared"),
      slashes: n("SELECT COUNT(*) AS n FROM slashes") + n("SELECT COUNT(*) AS n FROM lease_slashes"),
      leases: {
        total: n("SELECT COUNT(*) AS n FROM leases_started"),
        open: this.db.openLeaseCount(),
      },
      orders: n("SELECT COUNT(*) AS n FROM compute_orders"),
    };
  }

  /** Every provider the registry ever announced, with its latest registry event. */
  private providerStates(): { provider: string; kind: ProviderRow["status"]; endpoint: string | null }[] {
    return this.sql
      .all(
        `SELECT p.provider, p.kind, p.endpoint FROM providers p WHERE p.rowid =
           (SELECT x.rowid FROM providers x WHERE x.provider = p.provider
            ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1)
         ORDER BY p.provider LIMIT ?`,
        ROW_LIMIT,
      )
      .map((row) => ({
        provider: str(row, "provider"),
        kind: str(row, "kind") as ProviderRow["status"],
        endpoint: optStr(row, "endpoint"),
      }));
  }

  providers(): ProviderRow[] {
    return this.providerStates().map((p) => this.providerRow(p.provider, p.kind, p.endpoint));
  }

  /** The provider's row, or undefined when the index never saw it register. */
  provider(address: string): ProviderRow | undefined {
    const who = getAddress(address);
    const row = this.sql.one(
      "SELECT kind, endpoint FROM providers WHERE provider = ? ORDER BY block_number DESC, log_index DESC LIMIT 1",
      who,
    );
    if (row === undefined) return undefined;
    return this.providerRow(who, str(row, "kind") as ProviderRow["status"], optStr(row, "endpoint"));
  }

  private providerRow(provider: string, status: ProviderRow["status"], endpoint: string | null): ProviderRow {
    const sets = this.dataSets({ provider });
    const open = sets.filter((s) => s.status !== "finalized");
    return {
      provider,
      status,
      endpoint,
      dataSets: this.sql.count("SELECT COUNT(*) AS n FROM data_sets WHERE provider = ?", provider),
      liveDataSets: sets.filter((s) => s.status === "live").length,
      bytesStored: open.reduce((sum, s) => sum + s.bytes, 0n),
      proofs: this.sql.count("SELECT COUNT(*) AS n FROM proofs WHERE provider = ?", provider),
      missedPeriods: big(
        this.sql.one(
          "SELECT COALESCE(SUM(count), 0) AS n FROM missed_reports WHERE provider = ?",
          provider,
        ) ?? {
          n: 0,
        },
        "n",
      ),
      leases: this.sql.count("SELECT COUNT(*) AS n FROM leases_started WHERE provider = ?", provider),
    };
  }

  /** Data sets, newest first (of one provider or client when given). */
  dataSets(filter: { provider?: string; client?: string } = {}): DataSetRow[] {
    const where: string[] = [];
    const params: Param[] = [];
    if (filter.provider !== undefined) {
      where.push("s.provider = ?");
      params.push(getAddress(filter.provider));
    }
    if (filter.client !== undefined) {
      where.push("s.client = ?");
      params.push(getAddress(filter.client));
    }
    params.push(ROW_LIMIT);
    return this.sql
      .all(
        `SELECT s.data_set_id, s.client, s.provider, s.price, s.block_number,
           (SELECT u.span FROM data_set_updates u WHERE u.data_set_id = s.data_set_id
            ORDER BY u.block_number DESC, u.log_index DESC LIMIT 1) AS span,
           EXISTS (SELECT 1 FROM data_set_terminations t WHERE t.data_set_id = s.data_set_id) AS ending,
           EXISTS (SELECT 1 FROM data_sets_ended e WHERE e.data_set_id = s.data_set_id) AS ended
         FROM data_sets s ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY s.data_set_id DESC LIMIT ?`,
        ...params,
      )
      .map((row) => {
        const span = row.span === null ? 0n : big(row, "span");
        return {
          id: big(row, "data_set_id"),
          client: str(row, "client"),
          provider: str(row, "provider"),
          status: num(row, "ended") === 1 ? "finalized" : num(row, "ending") === 1 ? "ending" : "live",
          span,
          bytes: span * LEAF_BYTES,
          pricePerTiBMonth: big(row, "price"),
          createdBlock: num(row, "block_number"),
        };
      });
  }

  /** Leases, newest first (of one provider when given). */
  leases(filter: { provider?: string } = {}): LeaseRow[] {
    const params: Param[] = [];
    if (filter.provider !== undefined) params.push(getAddress(filter.provider));
    params.push(ROW_LIMIT);
    return this.sql
      .all(
        `SELECT s.lease_id, s.tenant, s.provider, s.price, s.started_at, c.reason FROM leases_started s
         LEFT JOIN leases_closed c ON c.lease_id = s.lease_id
         ${filter.provider === undefined ? "" : "WHERE s.provider = ?"}
         ORDER BY s.lease_id DESC LIMIT ?`,
        ...params,
      )
      .map((row) => ({
        id: big(row, "lease_id"),
        tenant: str(row, "tenant"),
        provider: str(row, "provider"),
        pricePerSecond: big(row, "price"),
        startedAt: big(row, "started_at"),
        closedReason: row.reason === null ? null : num(row, "reason"),
      }));
  }

  /** The newest period with a proof or a fault (of one provider when given), or null. */
  lastActivePeriod(provider?: string): bigint | null {
    const { where, params } = whereEqual([
      ["provider", provider === undefined ? undefined : getAddress(provider)],
    ]);
    const row = this.sql.one(
      `SELECT MAX(p) AS n FROM (
         SELECT MAX(period) AS p FROM proofs ${where}
         UNION ALL SELECT MAX(period) FROM faults_declared ${where}
         UNION ALL SELECT MAX(from_period + count - 1) FROM missed_reports ${where})`,
      ...params,
      ...params,
      ...params,
    );
    return row === undefined || row.n === null ? null : big(row, "n");
  }

  /** Proofs, declared faults and missed periods per period in [from, to] (of one provider when given). */
  activity(from: bigint, to: bigint, provider?: string): PeriodActivity[] {
    const who = provider === undefined ? undefined : getAddress(provider);
    const byPeriod = new Map<bigint, PeriodActivity>();
    for (let p = from; p <= to; p++) byPeriod.set(p, { period: p, proofs: 0, declaredFaults: 0, missed: 0 });
    const inWindow = whereEqual([["provider", who]], ["period BETWEEN ? AND ?"]);
    const counts = (table: string): Row[] =>
      this.sql.all(
        `SELECT period, COUNT(*) AS n FROM ${table} ${inWindow.where} GROUP BY period`,
        ...inWindow.params,
        from,
        to,
      );
    for (const row of counts("proofs")) {
      const entry = byPeriod.get(big(row, "period"));
      if (entry) entry.proofs = num(row, "n");
    }
    for (const row of counts("faults_declared")) {
      const entry = byPeriod.get(big(row, "period"));
      if (entry) entry.declaredFaults = num(row, "n");
    }
    const overlapping = whereEqual([["provider", who]], ["from_period <= ?", "from_period + count > ?"]);
    const missed = this.sql.all(
      `SELECT from_period, count FROM missed_reports ${overlapping.where}`,
      ...overlapping.params,
      to,
      from,
    );
    for (const row of missed) {
      const start = big(row, "from_period");
      const end = start + big(row, "count");
      for (let p = start < from ? from : start; p < end && p <= to; p++) {
        const entry = byPeriod.get(p);
        if (entry) entry.missed++;
      }
    }
    return [...byPeriod.values()];
  }

  moneyFlows(): MoneyFlows {
    return this.memo("flows", () => this.computeMoneyFlows());
  }

  private computeMoneyFlows(): MoneyFlows {
    const s = (q: string): bigint => this.sum(q);
    return {
      storage: {
        deposited: s("SELECT amount AS v FROM data_set_topups"),
        settledToProviders: s("SELECT amount AS v FROM data_set_settlements"),
        paidAtEnd: s("SELECT paid AS v FROM data_sets_ended"),
        refundedToClients: s("SELECT refund AS v FROM data_sets_ended"),
        slashedToClients: s("SELECT to_client AS v FROM slashes"),
        slashedToReporters: s("SELECT to_reporter AS v FROM slashes"),
        slashedToTreasury: s("SELECT to_treasury AS v FROM slashes"),
        missedProofBounties: s("SELECT bounty AS v FROM missed_reports"),
      },
      compute: {
        escrowAtStart: s("SELECT escrow AS v FROM leases_started"),
        toppedUp: s("SELECT amount AS v FROM lease_topups"),
        settledToProviders: s("SELECT amount AS v FROM lease_settlements"),
        paidAtClose: s("SELECT paid AS v FROM leases_closed"),
        refundedToTenants: s("SELECT refund AS v FROM leases_closed"),
        closeBounties: s("SELECT bounty AS v FROM leases_closed"),
        heartbeatBounties: s("SELECT bounty AS v FROM lease_missed_reports"),
        slashedToTenants: s("SELECT to_tenant AS v FROM lease_slashes"),
        slashedToTreasury: s("SELECT to_treasury AS v FROM lease_slashes"),
      },
    };
  }

  /** What provider `address` earned: data-set settlements and end payments, lease settlements and close payments. */
  earnings(address: string): { storage: bigint; compute: bigint; slashed: bigint } {
    const who = getAddress(address);
    const storage =
      this.sum(
        `SELECT t.amount AS v FROM data_set_settlements t JOIN data_sets s ON s.data_set_id = t.data_set_id
         WHERE s.provider = ?`,
        who,
      ) +
      this.sum(
        "SELECT e.paid AS v FROM data_sets_ended e JOIN data_sets s ON s.data_set_id = e.data_set_id WHERE s.provider = ?",
        who,
      );
    const compute =
      this.sum(
        `SELECT t.amount AS v FROM lease_settlements t JOIN leases_started s ON s.lease_id = t.lease_id
         WHERE s.provider = ?`,
        who,
      ) +
      this.sum(
        "SELECT c.paid AS v FROM leases_closed c JOIN leases_started s ON s.lease_id = c.lease_id WHERE s.provider = ?",
        who,
      );
    const slashed =
      this.sum("SELECT to_client AS v FROM slashes WHERE provider = ?", who) +
      this.sum("SELECT to_reporter AS v FROM slashes WHERE provider = ?", who) +
      this.sum("SELECT to_treasury AS v FROM slashes WHERE provider = ?", who) +
      this.sum("SELECT to_tenant AS v FROM lease_slashes WHERE provider = ?", who) +
      this.sum("SELECT to_reporter AS v FROM lease_slashes WHERE provider = ?", who) +
      this.sum("SELECT to_treasury AS v FROM lease_slashes WHERE provider = ?", who);
    return { storage, compute, slashed };
  }

  /** The provider's proofs, newest first, with this worker's off-chain check verdict. */
  proofs(provider: string): ProofRow[] {
    return this.sql
      .all(
        `SELECT p.period, p.block_number, p.tx_hash, c.verdict FROM proofs p
         LEFT JOIN proof_checks c ON c.tx_hash = p.tx_hash
         WHERE p.provider = ? ORDER BY p.block_number DESC, p.log_index DESC LIMIT ?`,
        getAddress(provider),
        ROW_LIMIT,
      )
      .map((row) => ({ ...at(row), period: big(row, "period"), verdict: optStr(row, "verdict") }));
  }

  /** Declared faults and missed-proof reports (of a provider, or touching a data set), newest first. */
  faults(filter: { provider?: string; dataSetId?: bigint }): FaultRow[] {
    const rows: FaultRow[] = [];
    if (filter.provider !== undefined || filter.dataSetId !== undefined) {
      const { where, params } = whereEqual([
        ["provider", filter.provider === undefined ? undefined : getAddress(filter.provider)],
        ["data_set_id", filter.dataSetId],
      ]);
      const declared = this.sql.all(
        `SELECT period, data_set_id, block_number, tx_hash FROM faults_declared ${where}
         ORDER BY block_number DESC, log_index DESC LIMIT ?`,
        ...params,
        ROW_LIMIT,
      );
      for (const row of declared) {
        rows.push({
          ...at(row),
          kind: "declared",
          period: big(row, "period"),
          count: 1n,
          dataSetId: big(row, "data_set_id"),
          reporter: null,
          bounty: 0n,
        });
      }
    }
    if (filter.provider !== undefined) {
      const missed = this.sql.all(
        `SELECT from_period, count, reporter, bounty, block_number, tx_hash FROM missed_reports WHERE provider = ?
         ORDER BY block_number DESC, log_index DESC LIMIT ?`,
        getAddress(filter.provider),
        ROW_LIMIT,
      );
      for (const row of missed) {
        const reporter = str(row, "reporter");
        rows.push({
          ...at(row),
          kind: "missed",
          period: big(row, "from_period"),
          count: big(row, "count"),
          dataSetId: null,
          reporter: reporter === ZeroAddress ? null : reporter,
          bounty: big(row, "bounty"),
        });
      }
    }
    return rows.sort((a, b) => b.blockNumber - a.blockNumber).slice(0, ROW_LIMIT);
  }

  /** Slashes of data sets and leases (of a provider, or of one data set / lease), newest first. */
  slashes(filter: { provider?: string; dataSetId?: bigint; leaseId?: bigint }): SlashRow[] {
    const who = filter.provider === undefined ? undefined : getAddress(filter.provider);
    const rows: SlashRow[] = [];
    if (filter.leaseId === undefined) {
      const { where, params } = whereEqual([
        ["provider", who],
        ["data_set_id", filter.dataSetId],
      ]);
      for (const row of this.sql.all(
        `SELECT * FROM slashes ${where} ORDER BY block_number DESC, log_index DESC LIMIT ?`,
        ...params,
        ROW_LIMIT,
      )) {
        const id = big(row, "data_set_id");
        rows.push({
          ...at(row),
          provider: str(row, "provider"),
          subject: { label: `data set ${id}`, href: `/data-sets/${id}` },
          toHarmed: big(row, "to_client"),
          toReporter: big(row, "to_reporter"),
          toTreasury: big(row, "to_treasury"),
        });
      }
    }
    if (filter.dataSetId === undefined) {
      const { where, params } = whereEqual([
        ["provider", who],
        ["lease_id", filter.leaseId],
      ]);
      for (const row of this.sql.all(
        `SELECT * FROM lease_slashes ${where} ORDER BY block_number DESC, log_index DESC LIMIT ?`,
        ...params,
        ROW_LIMIT,
      )) {
        const id = big(row, "lease_id");
        rows.push({
          ...at(row),
          provider: str(row, "provider"),
          subject: { label: `lease ${id}`, href: `/leases/${id}` },
          toHarmed: big(row, "to_tenant"),
          toReporter: big(row, "to_reporter"),
          toTreasury: big(row, "to_treasury"),
        });
      }
    }
    return rows.sort((a, b) => b.blockNumber - a.blockNumber).slice(0, ROW_LIMIT);
  }

  /** A data set's applied states, oldest first. */
  dataSetUpdates(id: bigint): UpdateRow[] {
    return this.sql
      .all(
        `SELECT * FROM (SELECT * FROM data_set_updates WHERE data_set_id = ?
           ORDER BY block_number DESC, log_index DESC LIMIT ?) ORDER BY block_number, log_index`,
        id,
        ROW_LIMIT,
      )
      .map((row) => ({
        ...at(row),
        version: big(row, "version"),
        span: big(row, "span"),
        effectivePeriod: big(row, "effective_period"),
        root: str(row, "root"),
      }));
  }

  /** A data set's payments: top-ups, settlements, and its end, newest first. */
  dataSetPayments(id: bigint): AmountRow[] {
    const rows = this.sql.all(
      `SELECT * FROM (
         SELECT 'top-up by ' || payer AS label, amount, block_number, log_index, tx_hash FROM data_set_topups
           WHERE data_set_id = ?1
         UNION ALL SELECT 'settled to the provider', amount, block_number, log_index, tx_hash
           FROM data_set_settlements WHERE data_set_id = ?1
         UNION ALL SELECT 'paid to the provider at the end', paid, block_number, log_index, tx_hash
           FROM data_sets_ended WHERE data_set_id = ?1
         UNION ALL SELECT 'refunded to the client at the end', refund, block_number, log_index, tx_hash
           FROM data_sets_ended WHERE data_set_id = ?1
       ) ORDER BY block_number DESC, log_index DESC LIMIT ?2`,
      id,
      ROW_LIMIT,
    );
    return rows.map((row) => ({ ...at(row), label: str(row, "label"), amount: big(row, "amount") }));
  }

  /** Retrieval-challenge events of a data set, newest first. */
  challenges(dataSetId: bigint): ChallengeRow[] {
    return this.sql
      .all(
        `SELECT * FROM retrieval_challenges WHERE data_set_id = ? ORDER BY block_number DESC, log_index DESC LIMIT ?`,
        dataSetId,
        ROW_LIMIT,
      )
      .map((row) => ({
        ...at(row),
        id: big(row, "challenge_id"),
        kind: str(row, "kind"),
        challenger: optStr(row, "challenger"),
        leafIndex: row.leaf_index === null ? null : big(row, "leaf_index"),
      }));
  }

  /** A lease's events (start, top-ups, settlements, missed-heartbeat reports, notices, close), newest first. */
  leaseEvents(id: bigint): LeaseEventRow[] {
    const rows = this.sql.all(
      `SELECT * FROM (
         SELECT 'started' AS kind, 'escrow deposited' AS detail, escrow AS amount, block_number, log_index, tx_hash
           FROM leases_started WHERE lease_id = ?1
         UNION ALL SELECT 'top-up', 'by ' || payer, amount, block_number, log_index, tx_hash
           FROM lease_topups WHERE lease_id = ?1
         UNION ALL SELECT 'settled', paid_seconds || ' s paid', amount, block_number, log_index, tx_hash
           FROM lease_settlements WHERE lease_id = ?1
         UNION ALL SELECT 'missed heartbeats', count || ' period(s) from ' || from_period || ' reported by ' || reporter,
           bounty, block_number, log_index, tx_hash FROM lease_missed_reports WHERE lease_id = ?1
         UNION ALL SELECT 'notice', 'ends at ' || ends_at, '0', block_number, log_index, tx_hash
           FROM lease_notices WHERE lease_id = ?1
         UNION ALL SELECT 'closed', 'by ' || closer, paid, block_number, log_index, tx_hash
           FROM leases_closed WHERE lease_id = ?1
       ) ORDER BY block_number DESC, log_index DESC LIMIT ?2`,
      id,
      ROW_LIMIT,
    );
    return rows.map((row) => ({
      ...at(row),
      kind: str(row, "kind"),
      detail: str(row, "detail"),
      amount: big(row, "amount"),
    }));
  }

  /** Periods of a lease reported missed (ranges [from, from + count)). */
  leaseMissedRanges(id: bigint): { from: bigint; count: bigint }[] {
    return this.db.leaseMissedReports(id).map((r) => ({ from: r.fromPeriod, count: r.count }));
  }

  /** Everything `address` did as a watcher (not missed periods recorded by the provider itself), newest first. */
  watcherActions(address: string): WatcherAction[] {
    return watcherActions(this.sql, address);
  }

  /** Addresses that reported, closed or challenged, with their action count and bounties (most bounties first). */
  watchers(): WatcherRow[] {
    return watchers(this.sql);
  }
}
