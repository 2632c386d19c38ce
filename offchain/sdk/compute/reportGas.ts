/**
 * Sending `reportMissedHeartbeats` with room for the close it may cause. A gas estimate is made against the
 * chain as it is when asked; the report lands in a later block, where more heartbeat periods may have closed
 * (a node mining several blocks a second, such as Anvil with a short block time, moves its clock ahead fast).
 * With one more period the report can reach the lease's `maxMissedHeartbeats` and close it, which costs the
 * close's settlement, refunds, penalty split and collateral release on top: sent with the bare estimate it runs
 * out of gas and reverts, and every later attempt would be estimated the same way. Unused gas is not paid.
 */
import type { ContractTransactionResponse } from "ethers";

/** Gas a report that closes its lease may need beyond one that does not (measured: about 90k; bench/gas.json). */
export const REPORT_CLOSE_GAS_HEADROOM = 150_000n;

/** The gas limit for a report estimated at `estimate`: room for the close it may reach by the time it lands. */
export function missedHeartbeatsReportGasLimit(estimate: bigint): bigint {
  return estimate + (estimate > REPORT_CLOSE_GAS_HEADROOM ? estimate : REPORT_CLOSE_GAS_HEADROOM);
}

/** The report function of a compute market contract (typechain's shape: an estimate and a send). */
export interface ReportMissedHeartbeats {
  estimateGas(leaseId: bigint): Promise<bigint>;
  (leaseId: bigint, overrides: { gasLimit: bigint }): Promise<ContractTransactionResponse>;
}

/** Estimate, then send the report of `leaseId` with the headroom of `missedHeartbeatsReportGasLimit`. */
export async function sendMissedHeartbeatsReport(
  market: { reportMissedHeartbeats: ReportMissedHeartbeats },
  leaseId: bigint,
): Promise<ContractTransactionResponse> {
  const estimate = await market.reportMissedHeartbeats.estimateGas(leaseId);
  return market.reportMissedHeartbeats(leaseId, { gasLimit: missedHeartbeatsReportGasLimit(estimate) });
}
