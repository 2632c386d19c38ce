/**
 * Compute orders, bids and leases as the SDK, the agent and the CLI see them: plain records decoded from the
 * ComputeMarket's events and views, the market's enums by name, and the ASCII labels (GPU model, region)
 * stored on chain as right-padded bytes16.
 */
import { hexlify, toUtf8Bytes, toUtf8String, zeroPadBytes } from "ethers";
import type { IComputeMarket } from "../../../typechain-types/index.js";
import {
  BidStatus as BidStatusEnum,
  kebabName,
  LeaseCloseReason,
  OrderStatus as OrderStatusEnum,
  type BidStatusName,
  type Kebab,
  type LeaseCloseReasonName,
  type OrderStatusName,
} from "../chain/enums.js";
import { StrataError } from "../errors.js";

/** IComputeMarket.OrderStatus by index, in kebab case (the table is chain/enums.ts). */
export const ORDER_STATUSES = OrderStatusEnum.names.map(kebabName);
export type OrderStatus = Kebab<OrderStatusName>;

/** IComputeMarket.BidStatus by index, in kebab case. */
export const BID_STATUSES = BidStatusEnum.names.map(kebabName);
export type BidStatus = Kebab<BidStatusName>;

/** IComputeMarket.CloseReason by index (stable numbers). */
export const CLOSE_REASONS = LeaseCloseReason.names;
export type CloseReason = LeaseCloseReasonName;

export function closeReasonIndex(reason: CloseReason): number {
  return LeaseCloseReason.indexOf(reason);
}

export function closeReasonName(index: bigint | number): CloseReason | "unknown" {
  return LeaseCloseReason.nameOf(index) ?? "unknown";
}

export function orderStatusName(index: bigint | number): OrderStatus {
  return ORDER_STATUSES[Number(index)] ?? "none";
}

export function bidStatusName(index: bigint | number): BidStatus {
  return BID_STATUSES[Number(index)] ?? "none";
}

/** Resources of an order (IComputeMarket.ResourceSpec) with the labels decoded ("" = any). */
export interface ComputeResources {
  cpuMillicores: number;
  memoryMiB: number;
  storageGiB: number;
  gpuCount: number;
  gpuModel: string;
  region: string;
}

/** What a tenant posted (OrderCreated). */
export interface OrderRequest {
  resources: ComputeResources;
  workloadHash: string;
  maxPricePerSecond: bigint;
  deposit: bigint;
  /** Lease length in seconds (0: open-ended). */
  duration: bigint;
  expiresAt: bigint;
  minCollateral: bigint;
  minNoticeWindow: bigint;
}

/** An order as its OrderCreated event told it. */
export interface PostedOrder {
  id: bigint;
  tenant: string;
  request: OrderRequest;
  closeBounty: bigint;
  blockNumber: number;
  txHash: string;
}

const LABEL_BYTES = 16;

/** An ASCII label ("a100-80gb", "eu-west") as right-padded bytes16; "" is zero (any). */
export function encodeLabel(label: string, field = "label"): string {
  if (!/^[\x20-\x7e]*$/.test(label)) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `${field} must be printable ASCII (got ${JSON.stringify(label)})`,
    );
  }
  const bytes = toUtf8Bytes(label);
  if (bytes.length > LABEL_BYTES) {
    throw new StrataError("INVALID_ARGUMENT", `${field} must be at most ${LABEL_BYTES} characters`);
  }
  return zeroPadBytes(hexlify(bytes), LABEL_BYTES);
}

/** A bytes16 label back to text (trailing zero bytes dropped). */
export function decodeLabel(value: string): string {
  const hex = value.replace(/^0x/, "").replace(/(00)+$/, "");
  return hex === "" ? "" : toUtf8String(`0x${hex}`);
}

export function resourcesFromChain(spec: IComputeMarket.ResourceSpecStructOutput): ComputeResources {
  return {
    cpuMillicores: Number(spec.cpuMillicores),
    memoryMiB: Number(spec.memoryMiB),
    storageGiB: Number(spec.storageGiB),
    gpuCount: Number(spec.gpuCount),
    gpuModel: decodeLabel(spec.gpuModel),
    region: decodeLabel(spec.region),
  };
}

export function resourcesToChain(resources: ComputeResources): IComputeMarket.ResourceSpecStruct {
  return {
    cpuMillicores: resources.cpuMillicores,
    memoryMiB: resources.memoryMiB,
    storageGiB: resources.storageGiB,
    gpuCount: resources.gpuCount,
    gpuModel: encodeLabel(resources.gpuModel, "gpu model"),
    region: encodeLabel(resources.region, "region"),
  };
}

export function requestFromChain(request: IComputeMarket.OrderRequestStructOutput): OrderRequest {
  return {
    resources: resourcesFromChain(request.spec),
    workloadHash: request.workloadHash,
    maxPricePerSecond: request.maxPricePerSecond,
    deposit: request.deposit,
    duration: request.duration,
    expiresAt: request.expiresAt,
    minCollateral: request.minCollateral,
    minNoticeWindow: request.minNoticeWindow,
  };
}

export function requestToChain(request: OrderRequest): IComputeMarket.OrderRequestStruct {
  return {
    spec: resourcesToChain(request.resources),
    workloadHash: request.workloadHash,
    maxPricePerSecond: request.maxPricePerSecond,
    deposit: request.deposit,
    duration: request.duration,
    expiresAt: request.expiresAt,
    minCollateral: request.minCollateral,
    minNoticeWindow: request.minNoticeWindow,
  };
}

/** JSON form of an order request (bigints as decimal strings), as the agent stores it. */
export interface OrderRequestJson {
  resources: ComputeResources;
  workloadHash: string;
  maxPricePerSecond: string;
  deposit: string;
  duration: string;
  expiresAt: string;
  minCollateral: string;
  minNoticeWindow: string;
}

export function requestToJson(r: OrderRequest): OrderRequestJson {
  return {
    resources: { ...r.resources },
    workloadHash: r.workloadHash,
    maxPricePerSecond: r.maxPricePerSecond.toString(),
    deposit: r.deposit.toString(),
    duration: r.duration.toString(),
    expiresAt: r.expiresAt.toString(),
    minCollateral: r.minCollateral.toString(),
    minNoticeWindow: r.minNoticeWindow.toString(),
  };
}

export function requestFromJson(j: OrderRequestJson): OrderRequest {
  return {
    resources: { ...j.resources },
    workloadHash: j.workloadHash,
    maxPricePerSecond: BigInt(j.maxPricePerSecond),
    deposit: BigInt(j.deposit),
    duration: BigInt(j.duration),
    expiresAt: BigInt(j.expiresAt),
    minCollateral: BigInt(j.minCollateral),
    minNoticeWindow: BigInt(j.minNoticeWindow),
  };
}

/** The OrderCreated event of `orderId` (ORDER_NOT_FOUND when there is none). */
export async function findPostedOrder(
  market: Pick<IComputeMarket, "queryFilter" | "filters">,
  orderId: bigint,
  fromBlock = 0,
): Promise<PostedOrder> {
  const [event] = await market.queryFilter(market.filters.OrderCreated(orderId), fromBlock);
  if (!event) throw new StrataError("ORDER_NOT_FOUND", `order ${orderId} does not exist`);
  return {
    id: event.args.orderId,
    tenant: event.args.tenant,
    request: requestFromChain(event.args.request),
    closeBounty: event.args.closeBounty,
    blockNumber: event.blockNumber,
    txHash: event.transactionHash,
  };
}
