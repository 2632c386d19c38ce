import type { DataSetFunding, DataSetInfo } from "../../sdk/client/dataSets.js";
import type { PieceStatus } from "../../sdk/client/fileStatus.js";
import { periodAt, periodStart } from "../../sdk/chain/clock.js";
import type { TokenUnits } from "../context.js";
import {
  amountsJson,
  formatBytes,
  formatDuration,
  isoTime,
  periodWhen,
  formatSpan,
  type AmountUnits,
  type PeriodClock,
} from "./units.js";

/**
 * The one end of a data set's funding that `status`, `datasets list` and `datasets renew` show (and their JSON
 * names): `lastPaidPeriod`, the last proving period the escrow pays in full at the current size, and
 * `paidUntil`, the Unix time that period ends (the start of the first unpaid one).
 */
export interface PaidThrough {
  lastPaidPeriod: bigint;
  paidUntil: bigint;
}

/** The paid-through end of `fundedSeconds` of storage from `clock.now`; null when nothing is billed. */
export function paidThrough(
  fundedSeconds: bigint | null | undefined,
  clock: PeriodClock,
): PaidThrough | null {
  if (fundedSeconds === null || fundedSeconds === undefined || clock.provingPeriod === 0n) return null;
  const firstUnpaid = periodAt(clock.genesis, clock.provingPeriod, clock.now + fundedSeconds);
  return {
    lastPaidPeriod: firstUnpaid - 1n,
    paidUntil: periodStart(clock.genesis, clock.provingPeriod, firstUnpaid),
  };
}

/** "paid through period 26 (until 2026-12-05T03:00:00.000Z, in 3h 0m)". */
export function paidThroughText(paid: PaidThrough, clock: PeriodClock): string {
  const delta = paid.paidUntil - clock.now;
  const when = delta < 0n ? `${formatSpan(-delta)} ago` : delta === 0n ? "now" : `in ${formatSpan(delta)}`;
  return paid.lastPaidPeriod < 0n
    ? `paid for no full period (runs out ${isoTime(paid.paidUntil)}, ${when})`
    : `paid through period ${paid.lastPaidPeriod} (until ${isoTime(paid.paidUntil)}, ${when})`;
}

/**
 * A data set for --json output (bigints are printed as decimal strings). With the token's `units`, amounts are
 * in tokens under their names and in base units under `<name>Raw`; without, in base units (older callers).
 */
export function dataSetJson(
  info: DataSetInfo,
  funding: DataSetFunding | null,
  units?: AmountUnits,
  clock?: PeriodClock,
): Record<string, unknown> {
  if (units !== undefined) {
    return {
      id: info.id,
      client: info.client,
      provider: info.provider,
      status: info.status,
      ...amountsJson(
        { pricePerTiBMonth: info.pricePerTiBMonth, collateralPerTiB: info.collateralPerTiB },
        units,
      ),
      noticePeriods: info.noticePeriods,
      endPeriod: info.status === "live" ? null : info.endPeriod,
      version: info.version,
      root: info.root,
      span: info.span,
      bytes: info.span * 64n,
      ...amountsJson({ escrow: info.escrow, paid: info.paid }, units),
      missedFaults: info.missedFaults,
      declaredFaults: info.declaredFaults,
      funding:
        funding === null
          ? null
          : {
              ...amountsJson(
                { available: funding.available, withdrawable: funding.withdrawable, lockup: funding.lockup },
                units,
              ),
              fundedSeconds: funding.fundedSeconds,
              ...paidThroughJson(clock === undefined ? null : paidThrough(funding.fundedSeconds, clock)),
            },
    };
  }
  return {
    id: info.id,
    client: info.client,
    provider: info.provider,
    status: info.status,
    pricePerTiBMonth: info.pricePerTiBMonth,
    collateralPerTiB: info.collateralPerTiB,
    noticePeriods: info.noticePeriods,
    endPeriod: info.status === "live" ? null : info.endPeriod,
    version: info.version,
    root: info.root,
    span: info.span,
    bytes: info.span * 64n,
    escrow: info.escrow,
    paid: info.paid,
    missedFaults: info.missedFaults,
    declaredFaults: info.declaredFaults,
    funding,
  };
}

/** `{lastPaidPeriod, paidUntil}` for --json (both null when nothing is billed). */
export function paidThroughJson(paid: PaidThrough | null): {
  lastPaidPeriod: bigint | null;
  paidUntil: bigint | null;
} {
  return { lastPaidPeriod: paid?.lastPaidPeriod ?? null, paidUntil: paid?.paidUntil ?? null };
}

/** One indented line per data set for `datasets list` and `status`. */
export function dataSetLine(
  info: DataSetInfo,
  funding: DataSetFunding | null,
  units: TokenUnits,
  provingPeriod: bigint,
  clock?: PeriodClock,
): string {
  const faults =
    info.missedFaults + info.declaredFaults > 0n
      ? `, faults ${info.missedFaults} missed / ${info.declaredFaults} declared`
      : "";
  const ending =
    info.status === "live"
      ? ""
      : ` (ends at ${clock === undefined ? `period ${info.endPeriod}` : periodWhen(info.endPeriod, clock)})`;
  const paid = clock === undefined || funding === null ? null : paidThrough(funding.fundedSeconds, clock);
  const funded =
    paid !== null && clock !== undefined
      ? `, ${paidThroughText(paid, clock)}`
      : funding?.fundedSeconds === null || funding === null
        ? ""
        : `, funded for ${formatDuration(funding.fundedSeconds, provingPeriod)}`;
  return (
    `  data set #${info.id} ${info.status}${ending}: provider ${info.provider}, ${formatBytes(info.span * 64n)} ` +
    `(version ${info.version}), ${units.format(info.pricePerTiBMonth)} per TiB-month, ` +
    `escrow ${units.format(info.escrow)}, paid ${units.format(info.paid)}${funded}${faults}`
  );
}

/** One line per piece of a stored file for `status`. */
export function pieceStatusLine(
  p: PieceStatus,
  units: TokenUnits,
  provingPeriod: bigint,
  clock?: PeriodClock,
): string {
  const through = clock === undefined ? null : paidThrough(p.funding?.fundedSeconds, clock);
  if (through !== null && clock !== undefined) {
    return pieceLine(p, units, `, ${paidThroughText(through, clock)}`, "");
  }
  const paid = p.paidUntil === null ? "" : `, paid until ${isoTime(p.paidUntil)}`;
  const funded =
    p.funding?.fundedSeconds === undefined || p.funding.fundedSeconds === null
      ? ""
      : ` (${formatDuration(p.funding.fundedSeconds, provingPeriod)})`;
  return pieceLine(p, units, paid, funded);
}

function pieceLine(p: PieceStatus, units: TokenUnits, paid: string, funded: string): string {
  const set =
    p.dataSet === null
      ? `data set #${p.dataSetId} missing`
      : `data set #${p.dataSetId} ${p.dataSet.status} at ${units.format(p.dataSet.pricePerTiBMonth)} per TiB-month`;
  const proving =
    p.proving.behind > 1n
      ? `provider ${p.proving.behind - 1n} period(s) behind`
      : `provider proving (period ${p.proving.currentPeriod})`;
  const why = p.reasons.length === 0 ? "" : ` — ${p.reasons.join("; ")}`;
  return `  piece ${p.piece} ${p.health.toUpperCase()}: ${set}, leaf ${p.offset}, ${proving}${paid}${funded}${why}`;
}
