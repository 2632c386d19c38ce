import type { DealStatus } from "../../sdk/client/deals.js";
import type { TokenUnits } from "../context.js";

/** A deal's state for --json output (bigints are printed as decimal strings). */
export function dealStatusJson(status: DealStatus): Record<string, unknown> {
  return {
    id: status.record.terms.id,
    phase: status.phase,
    terms: status.record.terms,
    nonce: status.record.nonce,
    publishTx: status.record.publishTx,
    currentPeriod: status.currentPeriod,
    paidSeconds: status.paidSeconds,
    missedPeriods: status.missedPeriods,
    declaredFaults: status.declaredFaults,
    settleable: status.settleable,
    ended: status.record.ended,
  };
}

/** One indented line per deal for `deals list` and `status`. */
export function dealStatusLine(status: DealStatus, units: TokenUnits): string {
  const t = status.record.terms;
  const faults =
    status.missedPeriods + status.declaredFaults > 0n
      ? `, faults ${status.missedPeriods} missed / ${status.declaredFaults} declared`
      : "";
  const ended = status.record.ended ? ` (${status.record.ended.reason})` : "";
  return (
    `  #${t.id} ${status.phase}${ended}: provider ${t.provider}, periods ${t.startPeriod}..${t.endPeriod - 1n} ` +
    `(now ${status.currentPeriod}), ${units.format(t.pricePerSecond)}/s, collateral ${units.format(t.collateral)}, ` +
    `settleable ${units.format(status.settleable)}${faults}`
  );
}
