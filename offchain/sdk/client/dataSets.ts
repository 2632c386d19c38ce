// A client's data sets as the chain tells them (docs/SPEC.md, "Data sets"): found from DataSetCreated events by
// client and provider, read with the market's views. The chain is the truth; the agent and the local record are
// only hints that are checked against it.
import type { StorageMarket } from "../../../typechain-types/index.js";
import { DealEndReason, kebabName, type DealEndReasonName, type Kebab } from "../chain/enums.js";
import { MONTH_SECONDS, TIB_BYTES, LEAF_BYTES } from "../datasets/money.js";
import { StrataError } from "../errors.js";

/** IStorageMarket.Status by index. */
export const DATA_SET_STATUSES = ["none", "live", "ending", "finalized"] as const;
export type DataSetStatusName = (typeof DATA_SET_STATUSES)[number];

/** How a data set ended: `expired`, `client-terminated`, ..., `unfunded` (the table is chain/enums.ts). */
export type EndReason = Kebab<DealEndReasonName>;

export type DataSetReader = Pick<
  StorageMarket,
  | "filters"
  | "queryFilter"
  | "dataSet"
  | "settleableAmount"
  | "withdrawableEscrow"
  | "lockupFor"
  | "currentPeriod"
  | "proofState"
  | "provingPeriod"
>;

/** One data set: its terms and state as the market's `dataSet` view returns them. */
export interface DataSetInfo {
  id: bigint;
  client: string;
  provider: string;
  pricePerTiBMonth: bigint;
  collateralPerTiB: bigint;
  noticePeriods: bigint;
  /** First period not paid once the data set is ending (0 while live). */
  endPeriod: bigint;
  status: DataSetStatusName;
  version: bigint;
  root: string;
  span: bigint;
  escrow: bigint;
  paid: bigint;
  missedFaults: bigint;
  declaredFaults: bigint;
}

export interface DataSetFilter {
  client?: string;
  provider?: string;
  fromBlock?: number;
}

/** The data set `id`; DATA_SET_NOT_FOUND when the market has none. */
export async function readDataSet(market: Pick<DataSetReader, "dataSet">, id: bigint): Promise<DataSetInfo> {
  const view = await market.dataSet(id);
  const status = DATA_SET_STATUSES[Number(view.status)] ?? "none";
  if (status === "none") {
    throw new StrataError("DATA_SET_NOT_FOUND", `data set ${id} does not exist on this market`, {
      details: "check the data set id and the --rpc / --deployment",
    });
  }
  return {
    id,
    client: view.client,
    provider: view.provider,
    pricePerTiBMonth: view.pricePerTiBMonth,
    collateralPerTiB: view.collateralPerTiB,
    noticePeriods: view.noticePeriods,
    endPeriod: view.endPeriod,
    status,
    version: view.version,
    root: view.root,
    span: view.span,
    escrow: view.escrow,
    paid: view.paid,
    missedFaults: view.missedFaults,
    declaredFaults: view.declaredFaults,
  };
}

/** Ids of the data sets created for `client` and/or `provider` (DataSetCreated events), oldest first. */
export async function findDataSetIds(
  market: Pick<DataSetReader, "filters" | "queryFilter">,
  filter: DataSetFilter,
): Promise<bigint[]> {
  const events = await market.queryFilter(
    market.filters.DataSetCreated(undefined, filter.client, filter.provider),
    filter.fromBlock ?? 0,
  );
  return events.map((event) => event.args.id);
}

/** The data sets of a client and/or provider, oldest first. */
export async function findDataSets(market: DataSetReader, filter: DataSetFilter): Promise<DataSetInfo[]> {
  const ids = await findDataSetIds(market, filter);
  return Promise.all(ids.map((id) => readDataSet(market, id)));
}

/** The newest live data set of `client` with `provider`, or null. */
export async function findLiveDataSet(
  market: DataSetReader,
  client: string,
  provider: string,
): Promise<DataSetInfo | null> {
  const ids = await findDataSetIds(market, { client, provider });
  for (const id of ids.reverse()) {
    const info = await readDataSet(market, id);
    if (info.status === "live") return info;
  }
  return null;
}

/** The kebab-case name of an on-chain EndReason; "unknown" (never a guess) for a value the table lacks. */
export function endReason(value: bigint): EndReason | "unknown" {
  const name = DealEndReason.nameOf(value);
  return name === undefined ? "unknown" : kebabName(name);
}

/** Token base units a data set of `span` leaves costs for `seconds`, rounded up (what escrow must hold). */
export function costFor(pricePerTiBMonth: bigint, span: bigint, seconds: bigint): bigint {
  const numerator = pricePerTiBMonth * span * LEAF_BYTES * seconds;
  const denominator = TIB_BYTES * MONTH_SECONDS;
  return (numerator + denominator - 1n) / denominator;
}

/** Funding of a data set: what it holds beyond what it owes, and how long that pays the current span. */
export interface DataSetFunding {
  /** Escrow not owed for resolved time. */
  available: bigint;
  /** Escrow the client may withdraw now (above the lockup). */
  withdrawable: bigint;
  /** Escrow the current span must keep locked: (notice + 2) periods. */
  lockup: bigint;
  /** Seconds of storage the available escrow pays at the current span (null when the span is 0). */
  fundedSeconds: bigint | null;
}

export async function dataSetFunding(market: DataSetReader, info: DataSetInfo): Promise<DataSetFunding> {
  const [settleable, withdrawable, lockup] = await Promise.all([
    market.settleableAmount(info.id),
    market.withdrawableEscrow(info.id),
    market.lockupFor(info.id, info.span),
  ]);
  const available = info.escrow - settleable;
  const perMonth = info.pricePerTiBMonth * info.span * LEAF_BYTES;
  const fundedSeconds =
    info.span === 0n || perMonth === 0n ? null : (available * TIB_BYTES * MONTH_SECONDS) / perMonth;
  return { available, withdrawable, lockup, fundedSeconds };
}

/** A provider's proving: the first unresolved period against the current one. */
export interface ProvingHealth {
  currentPeriod: bigint;
  nextPeriod: bigint;
  missedPeriods: bigint;
  /** Periods that ended without a proof and are not yet recorded (current − next, at least 0). */
  behind: bigint;
}

export async function provingHealth(
  market: Pick<DataSetReader, "proofState" | "currentPeriod">,
  provider: string,
): Promise<ProvingHealth> {
  const [state, currentPeriod] = await Promise.all([market.proofState(provider), market.currentPeriod()]);
  const behind = currentPeriod > state.nextPeriod ? currentPeriod - state.nextPeriod : 0n;
  return { currentPeriod, nextPeriod: state.nextPeriod, missedPeriods: state.missedPeriods, behind };
}
