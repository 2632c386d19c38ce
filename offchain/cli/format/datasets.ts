import type { DataSetFunding, DataSetInfo } from "../../sdk/client/dataSets.js";
import type { PieceStatus } from "../../sdk/client/fileStatus.js";
import type { TokenUnits } from "../context.js";
import {
  amountsJson,
  formatBytes,
  formatDuration,
  isoTime,
  periodWhen,
  type AmountUnits,
  type PeriodClock,
} from "./units.js";

/**
 * A data set for --json output (bigints are printed as decimal strings). With the token's `units`, amounts are
 * in tokens under their names and in base units under `<name>Raw`; without, in base units (older callers).
 */
export function dataSetJson(
  info: DataSetInfo,
  funding: DataSetFunding | null,
  units?: AmountUnits,
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
  const funded =
    funding?.fundedSeconds === null || funding === null
      ? ""
      : `, funded for ${formatDuration(funding.fundedSeconds, provingPeriod)}`;
  return (
    `  data set #${info.id} ${info.status}${ending}: provider ${info.provider}, ${formatBytes(info.span * 64n)} ` +
    `(version ${info.version}), ${units.format(info.pricePerTiBMonth)} per TiB-month, ` +
    `escrow ${units.format(info.escrow)}, paid ${units.format(info.paid)}${funded}${faults}`
  );
}

/** One line per piece of a stored file for `status`. */
export function pieceStatusLine(p: PieceStatus, units: TokenUnits, provingPeriod: bigint): string {
  const paid = p.paidUntil === null ? "" : `, paid until ${isoTime(p.paidUntil)}`;
  const set =
    p.dataSet === null
      ? `data set #${p.dataSetId} missing`
      : `data set #${p.dataSetId} ${p.dataSet.status} at ${units.format(p.dataSet.pricePerTiBMonth)} per TiB-month`;
  const proving =
    p.proving.behind > 1n
      ? `provider ${p.proving.behind - 1n} period(s) behind`
      : `provider proving (period ${p.proving.currentPeriod})`;
  const why = p.reasons.length === 0 ? "" : ` — ${p.reasons.join("; ")}`;
  const funded =
    p.funding?.fundedSeconds === undefined || p.funding.fundedSeconds === null
      ? ""
      : ` (${formatDuration(p.funding.fundedSeconds, provingPeriod)})`;
  return `  piece ${p.piece} ${p.health.toUpperCase()}: ${set}, leaf ${p.offset}, ${proving}${paid}${funded}${why}`;
}
