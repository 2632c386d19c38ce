/**
 * The worker's Prometheus metrics (prom-client), one registry per worker so tests can run several. Names are
 * prefixed `strata_worker_`; duties update theirs through `ctx.metrics`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export type { RpcErrorKind } from "../runtime/rpc/retry.js";

export interface WorkerMetrics {
  readonly registry: Registry;
  /** Head - confirmations - indexed block (0 when caught up). */
  readonly blocksBehind: Gauge;
  readonly indexedBlock: Gauge;
  readonly headBlock: Gauge;
  /** Data sets created and not finalized in the index. */
  readonly dataSetsTracked: Gauge;
  readonly indexedEvents: Counter;
  readonly reorgs: Counter;
  /** Blocks rolled back by the last reorg. */
  readonly reorgDepth: Gauge;
  readonly reportsSent: Counter;
  readonly reportsWon: Counter;
  readonly reportsLost: Counter;
  /** Bounties credited to this worker, in token base units. */
  readonly bountyEarned: Counter;
  readonly rpcErrors: Counter<"kind">;
  readonly proofChecks: Counter<"verdict">;
  readonly retrievalSamples: Counter<"result">;
  readonly challenges: Counter<"outcome">;
  readonly alerts: Counter<"kind">;
  readonly dutyFailures: Counter<"duty">;
  /** Leases started and not closed, per the index. */
  readonly leasesTracked: Gauge;
  /** Missed-heartbeat reports confirmed with this worker as reporter. */
  readonly leaseReports: Counter;
  /** Leases this worker closed (its missed-heartbeat report reaching the limit counts as MissedHeartbeats). */
  readonly leasesClosed: Counter<"reason">;
  /** Lease actions another account carried out first (report-missed-heartbeats, close-lease). */
  readonly leaseRacesLost: Counter<"action">;
  readonly tickSeconds: Histogram;
}

/** A fresh registry with every worker metric (and the process's default metrics unless `defaults` is false). */
export function createMetrics(options: { defaults?: boolean } = {}): WorkerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const p = "strata_worker_";
  if (options.defaults !== false) collectDefaultMetrics({ register: registry, prefix: p });
  const gauge = (name: string, help: string) => new Gauge({ name: p + name, help, registers });
  const counter = <L extends string = never>(name: string, help: string, labelNames: L[] = []) =>
    new Counter<L>({ name: p + name, help, labelNames, registers });
  return {
    registry,
    blocksBehind: gauge("blocks_behind", "Confirmed blocks not yet indexed (head - confirmations - indexed)"),
    indexedBlock: gauge("indexed_block", "Last block whose events are in the index"),
    headBlock: gauge("head_block", "Latest block number reported by the RPC"),
    dataSetsTracked: gauge("data_sets_tracked", "Data sets created and not finalized, per the index"),
    indexedEvents: counter("indexed_events_total", "Contract events written to the index"),
    reorgs: counter("reorgs_total", "Chain reorganisations detected and rolled back"),
    reorgDepth: gauge("reorg_depth", "Blocks rolled back by the last reorganisation"),
    reportsSent: counter("reports_sent_total", "Missed-proof reports sent"),
    reportsWon: counter("reports_won_total", "Missed-proof reports confirmed with this worker as reporter"),
    reportsLost: counter("reports_lost_total", "Missed-proof reports another watcher made first"),
    bountyEarned: counter("bounty_earned", "Bounties credited to this worker (token base units)"),
    rpcErrors: counter("rpc_errors_total", "Failed RPC calls by kind", ["kind"]),
    proofChecks: counter("proof_checks_total", "Proofs checked off-chain by verdict", ["verdict"]),
    retrievalSamples: counter("retrieval_samples_total", "Retrieval samples by result", ["result"]),
    challenges: counter("challenges_total", "Retrieval challenges by outcome", ["outcome"]),
    alerts: counter("alerts_total", "Disagreements between off-chain checks and the chain", ["kind"]),
    dutyFailures: counter("duty_failures_total", "Duty runs that threw (retried next tick)", ["duty"]),
    leasesTracked: gauge("leases_tracked", "Compute leases started and not closed, per the index"),
    leaseReports: counter(
      "lease_reports_total",
      "Missed-heartbeat reports confirmed with this worker as reporter",
    ),
    leasesClosed: counter("leases_closed_total", "Compute leases this worker closed, by close reason", [
      "reason",
    ]),
    leaseRacesLost: counter("lease_races_lost_total", "Lease actions another account carried out first", [
      "action",
    ]),
    tickSeconds: new Histogram({
      name: p + "tick_duration_seconds",
      help: "Duration of one tick (index catch-up plus duties)",
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    }),
  };
}
