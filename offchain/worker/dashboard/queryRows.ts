/**
 * What the dashboard's index queries return (rows of its tables and charts), and the small helpers the query
 * modules share.
 */
import { num, str } from "../../runtime/sqlite/columns.js";
import type { Param, Row } from "../../runtime/sqlite/sql.js";

/** Most rows any table of a page shows. */
export const ROW_LIMIT = 100;

/** Bytes per leaf (a data set's span counts 64-byte leaves). */
export const LEAF_BYTES = 64n;

/** Where a row comes from on chain. */
export interface At {
  blockNumber: number;
  txHash: string;
}

export interface NetworkTotals {
  providersRegistered: number;
  dataSets: { total: number; live: number; ending: number; finalized: number };
  /** Bytes held by data sets not finalized (their newest span). */
  bytesStored: bigint;
  proofs: number;
  missedPeriods: bigint;
  declaredFaults: number;
  slashes: number;
  leases: { total: number; open: number };
  orders: number;
}

export interface ProviderRow {
  provider: string;
  status: "registered" | "updated" | "deregistered";
  endpoint: string | null;
  dataSets: number;
  liveDataSets: number;
  bytesStored: bigint;
  proofs: number;
  missedPeriods: bigint;
  leases: number;
}

export interface DataSetRow {
  id: bigint;
  client: string;
  provider: string;
  status: "live" | "ending" | "finalized";
  span: bigint;
  bytes: bigint;
  pricePerTiBMonth: bigint;
  createdBlock: number;
}

export interface LeaseRow {
  id: bigint;
  tenant: string;
  provider: string;
  pricePerSecond: bigint;
  startedAt: bigint;
  /** null while open. */
  closedReason: number | null;
}

export interface PeriodActivity {
  period: bigint;
  proofs: number;
  declaredFaults: number;
  missed: number;
}

/** Token totals of the market's money flows (base units). */
export interface MoneyFlows {
  storage: {
    deposited: bigint;
    settledToProviders: bigint;
    paidAtEnd: bigint;
    refundedToClients: bigint;
    slashedToClients: bigint;
    slashedToReporters: bigint;
    slashedToTreasury: bigint;
    missedProofBounties: bigint;
  };
  compute: {
    escrowAtStart: bigint;
    toppedUp: bigint;
    settledToProviders: bigint;
    paidAtClose: bigint;
    refundedToTenants: bigint;
    closeBounties: bigint;
    heartbeatBounties: bigint;
    slashedToTenants: bigint;
    slashedToTreasury: bigint;
  };
}

export type WatcherActionKind =
  | "missed-proofs-report"
  | "missed-heartbeats-report"
  | "lease-close"
  | "challenge-opened"
  | "challenge-enforced";

export interface WatcherAction extends At {
  kind: WatcherActionKind;
  /** What it was about: a provider, a lease or a data set, as a path of this dashboard. */
  subject: { label: string; href: string };
  /** Tokens it earned (0 when none, e.g. opening a challenge). */
  bounty: bigint;
  detail: string;
}

export interface WatcherRow {
  address: string;
  actions: number;
  bounties: bigint;
}

export interface AmountRow extends At {
  amount: bigint;
  label: string;
}

export interface ProofRow extends At {
  period: bigint;
  verdict: string | null;
}

export interface FaultRow extends At {
  kind: "declared" | "missed";
  period: bigint;
  count: bigint;
  dataSetId: bigint | null;
  reporter: string | null;
  bounty: bigint;
}

export interface SlashRow extends At {
  provider: string;
  subject: { label: string; href: string };
  toHarmed: bigint;
  toReporter: bigint;
  toTreasury: bigint;
}

export interface UpdateRow extends At {
  version: bigint;
  span: bigint;
  effectivePeriod: bigint;
  root: string;
}

export interface ChallengeRow extends At {
  id: bigint;
  kind: string;
  challenger: string | null;
  leafIndex: bigint | null;
}

export interface LeaseEventRow extends At {
  kind: string;
  detail: string;
  amount: bigint;
}

/**
 * `WHERE col = ? AND …` over the filters that are set ("" when none), with their parameters. Equality only,
 * so SQLite can use the indexes on those columns (an `?1 IS NULL OR col = ?1` form would defeat them).
 */
export function whereEqual(
  filters: readonly (readonly [string, Param | undefined])[],
  extra: readonly string[] = [],
): {
  where: string;
  params: Param[];
} {
  const set = filters.filter((f): f is readonly [string, Param] => f[1] !== undefined);
  const clauses = [...set.map(([column]) => `${column} = ?`), ...extra];
  return {
    where: clauses.length === 0 ? "" : `WHERE ${clauses.join(" AND ")}`,
    params: set.map((f) => f[1]),
  };
}

export function at(row: Row): At {
  return { blockNumber: num(row, "block_number"), txHash: str(row, "tx_hash") };
}
