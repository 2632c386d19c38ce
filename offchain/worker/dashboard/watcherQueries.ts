/**
 * What watchers did, from the index: missed-proof and missed-heartbeat reports, bounty-paying lease closes, and
 * retrieval challenges opened and enforced, with the bounties each earned. A provider whose own transaction
 * recorded its missed periods (reporter = provider, no bounty) is not a watcher.
 */
import { getAddress, ZeroAddress } from "ethers";
import { str } from "../../runtime/sqlite/columns.js";
import type { Sql } from "../../runtime/sqlite/sql.js";
import { at, ROW_LIMIT, type WatcherAction, type WatcherActionKind, type WatcherRow } from "./queryRows.js";

/** Everything `address` did as a watcher (not missed periods recorded by the provider itself), newest first. */
export function watcherActions(sql: Sql, address: string): WatcherAction[] {
  const who = getAddress(address);
  const rows = sql.all(
    `SELECT * FROM (
       SELECT 'missed-proofs-report' AS kind, provider AS subject, bounty, from_period AS a, count AS b,
         block_number, log_index, tx_hash FROM missed_reports WHERE reporter = ?1 AND reporter <> provider
       UNION ALL SELECT 'missed-heartbeats-report', lease_id, bounty, from_period, count, block_number, log_index,
         tx_hash FROM lease_missed_reports WHERE reporter = ?1
       UNION ALL SELECT 'lease-close', lease_id, bounty, reason, NULL, block_number, log_index, tx_hash
         FROM leases_closed WHERE closer = ?1 AND bounty <> '0'
       UNION ALL SELECT 'challenge-opened', data_set_id, '0', challenge_id, leaf_index, block_number, log_index,
         tx_hash FROM retrieval_challenges WHERE kind = 'opened' AND challenger = ?1
       UNION ALL SELECT 'challenge-enforced', r.data_set_id,
         COALESCE((SELECT group_concat(x.to_reporter) FROM slashes x WHERE x.tx_hash = r.tx_hash
           AND x.data_set_id = r.data_set_id), '0'), r.challenge_id, NULL, r.block_number, r.log_index, r.tx_hash
         FROM retrieval_challenges r WHERE r.kind = 'failed' AND r.enforcer = ?1
     ) ORDER BY block_number DESC, log_index DESC LIMIT ?2`,
    who,
    ROW_LIMIT,
  );
  return rows.map((row): WatcherAction => {
    const kind = str(row, "kind") as WatcherActionKind;
    const subject = String(row.subject);
    // group_concat of several slashes in one tx: add them up.
    const bounty = String(row.bounty)
      .split(",")
      .reduce((sum, part) => sum + BigInt(part), 0n);
    const a = row.a === null ? "" : String(row.a);
    const b = row.b === null ? "" : String(row.b);
    switch (kind) {
      case "missed-proofs-report":
        return {
          ...at(row),
          kind,
          bounty,
          subject: { label: subject, href: `/providers/${subject}` },
          detail: `${b} period(s) from period ${a}`,
        };
      case "missed-heartbeats-report":
        return {
          ...at(row),
          kind,
          bounty,
          subject: { label: `lease ${subject}`, href: `/leases/${subject}` },
          detail: `${b} period(s) from heartbeat period ${a}`,
        };
      case "lease-close":
        return {
          ...at(row),
          kind,
          bounty,
          subject: { label: `lease ${subject}`, href: `/leases/${subject}` },
          detail: `close reason ${a}`,
        };
      case "challenge-opened":
        return {
          ...at(row),
          kind,
          bounty,
          subject: { label: `data set ${subject}`, href: `/data-sets/${subject}` },
          detail: `challenge ${a}, leaf ${b}`,
        };
      case "challenge-enforced":
        return {
          ...at(row),
          kind,
          bounty,
          subject: { label: `data set ${subject}`, href: `/data-sets/${subject}` },
          detail: `challenge ${a} unanswered`,
        };
    }
  });
}

/**
 * Addresses that reported, closed or challenged (a provider whose own transaction recorded its missed periods
 * is not a watcher), with their action count and bounties (most bounties first).
 */
export function watchers(sql: Sql): WatcherRow[] {
  const addresses = sql
    .all(
      `SELECT reporter AS who FROM missed_reports WHERE reporter <> ?1 AND reporter <> provider
       UNION SELECT reporter FROM lease_missed_reports
       UNION SELECT closer FROM leases_closed WHERE bounty <> '0'
       UNION SELECT challenger FROM retrieval_challenges WHERE kind = 'opened'
       UNION SELECT enforcer FROM retrieval_challenges WHERE kind = 'failed'
       LIMIT ?2`,
      ZeroAddress,
      ROW_LIMIT,
    )
    .map((row) => str(row, "who"));
  return addresses
    .map((address) => {
      const actions = watcherActions(sql, address);
      return { address, actions: actions.length, bounties: actions.reduce((s, a) => s + a.bounty, 0n) };
    })
    .filter((w) => w.actions > 0)
    .sort((a, b) => (b.bounties > a.bounties ? 1 : b.bounties < a.bounties ? -1 : b.actions - a.actions));
}
