/** Names of on-chain enum values as the pages show them (from the SDK's single enum table). */
import { DealEndReason, LeaseCloseReason } from "../../../sdk/chain/enums.js";

const STATUS = ["none", "live", "ending", "finalized"] as const;

export function dataSetStatusName(status: number): string {
  return STATUS[status] ?? `status ${status}`;
}

export function endReasonName(reason: number): string {
  return DealEndReason.nameOf(reason) ?? `reason ${reason}`;
}

export function closeReasonName(reason: number): string {
  return LeaseCloseReason.nameOf(reason) ?? `reason ${reason}`;
}
