/** What a compute market transaction did, read from the events in its receipt. */
import type { IComputeMarket } from "../../../typechain-types/index.js";
import { StrataError } from "../errors.js";

type Parser = Pick<IComputeMarket, "interface">;

/** A transaction receipt (null when the node returned none): only its logs are read. */
export type ReceiptLogs = { logs: readonly { topics: readonly string[]; data: string }[] } | null;

function events(market: Parser, receipt: ReceiptLogs, name: string) {
  return (receipt?.logs ?? [])
    .map((log) => market.interface.parseLog(log))
    .filter((parsed) => parsed?.name === name)
    .map((parsed) => parsed?.args);
}

/** The id of the order a createOrder transaction posted; CHAIN_REVERT when it emitted no OrderCreated. */
export function postedOrderId(market: Parser, receipt: ReceiptLogs, txHash: string): bigint {
  const [args] = events(market, receipt, "OrderCreated").slice(-1);
  if (args === undefined)
    throw new StrataError("CHAIN_REVERT", `order transaction ${txHash} emitted no OrderCreated`);
  return args.getValue("orderId") as bigint;
}

/** The deposit a cancelOrder transaction returned to the tenant's compute balance (0 when none). */
export function cancelRefund(market: Parser, receipt: ReceiptLogs): bigint {
  const [args] = events(market, receipt, "OrderCancelled").slice(-1);
  return args === undefined ? 0n : (args.getValue("refund") as bigint);
}

export interface MissedHeartbeatsReport {
  /** Periods reported. */
  count: bigint;
  /** Escrow no longer payable to the provider. */
  refunded: bigint;
  /** Paid to the reporter. */
  bounty: bigint;
  /** Slashed collateral credited to the tenant's ledger balance by the report (not by a close it caused). */
  compensation: bigint;
}

/** What a reportMissedHeartbeats transaction reported (zeros when it emitted no report). */
export function missedHeartbeatsReport(market: Parser, receipt: ReceiptLogs): MissedHeartbeatsReport {
  const parsed = (receipt?.logs ?? []).map((log) => market.interface.parseLog(log));
  const at = parsed.findIndex((log) => log?.name === "MissedHeartbeatsReported");
  const args = parsed[at]?.args;
  if (args === undefined) return { count: 0n, refunded: 0n, bounty: 0n, compensation: 0n };
  // The report's own slash follows its report event; a close the report caused emits a second one after it.
  const slash = parsed[at + 1];
  return {
    count: args.getValue("count") as bigint,
    refunded: args.getValue("refunded") as bigint,
    bounty: args.getValue("bounty") as bigint,
    compensation: slash?.name === "LeaseSlashed" ? (slash.args.getValue("toTenant") as bigint) : 0n,
  };
}
