/**
 * JSON forms of proposals and deal terms (bigints as decimal strings), shared by the HTTP API and the
 * database. Parsing is strict: every field present, well-formed and within its Solidity type's range.
 */
import { getAddress, isAddress, isHexString } from "ethers";
import type { DealExtension } from "../sdk/deals/eip712.js";
import type { DealProposal, DealTerms } from "../sdk/deals/terms.js";

export interface DealProposalJson {
  client: string;
  provider: string;
  root: string;
  size: string;
  duration: string;
  pricePerSecond: string;
  collateral: string;
  startDeadline: string;
  nonce: string;
}

export interface DealTermsJson {
  id: string;
  client: string;
  provider: string;
  root: string;
  size: string;
  startPeriod: string;
  endPeriod: string;
  pricePerSecond: string;
  collateral: string;
}

export interface DealExtensionJson {
  dealId: string;
  newEndPeriod: string;
  nonce: string;
  deadline: string;
}

/** A field that failed to parse, with the reason. */
export class CodecError extends Error {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = "CodecError";
  }
}

const U32 = (1n << 32n) - 1n;
const U64 = (1n << 64n) - 1n;
const U128 = (1n << 128n) - 1n;

export function proposalToJson(p: DealProposal): DealProposalJson {
  return {
    client: p.client,
    provider: p.provider,
    root: p.root,
    size: p.size.toString(),
    duration: p.duration.toString(),
    pricePerSecond: p.pricePerSecond.toString(),
    collateral: p.collateral.toString(),
    startDeadline: p.startDeadline.toString(),
    nonce: p.nonce.toString(),
  };
}

/** Parse a proposal from JSON (numbers may be decimal strings or safe integers). Throws CodecError. */
export function parseProposal(input: unknown): DealProposal {
  const obj = record(input, "proposal");
  return {
    client: address(obj, "client"),
    provider: address(obj, "provider"),
    root: bytes32(obj, "root"),
    size: uint(obj, "size", U64),
    duration: uint(obj, "duration", U64),
    pricePerSecond: uint(obj, "pricePerSecond", U128),
    collateral: uint(obj, "collateral", U128),
    startDeadline: uint(obj, "startDeadline", U64),
    nonce: uint(obj, "nonce", U64),
  };
}

export function termsToJson(d: DealTerms): DealTermsJson {
  return {
    id: d.id.toString(),
    client: d.client,
    provider: d.provider,
    root: d.root,
    size: d.size.toString(),
    startPeriod: d.startPeriod.toString(),
    endPeriod: d.endPeriod.toString(),
    pricePerSecond: d.pricePerSecond.toString(),
    collateral: d.collateral.toString(),
  };
}

/** Parse deal terms from JSON. Throws CodecError. */
export function parseTerms(input: unknown): DealTerms {
  const obj = record(input, "terms");
  return {
    id: uint(obj, "id", U64),
    client: address(obj, "client"),
    provider: address(obj, "provider"),
    root: bytes32(obj, "root"),
    size: uint(obj, "size", U64),
    startPeriod: uint(obj, "startPeriod", U32),
    endPeriod: uint(obj, "endPeriod", U32),
    pricePerSecond: uint(obj, "pricePerSecond", U128),
    collateral: uint(obj, "collateral", U128),
  };
}

export function extensionToJson(e: DealExtension): DealExtensionJson {
  return {
    dealId: e.dealId.toString(),
    newEndPeriod: e.newEndPeriod.toString(),
    nonce: e.nonce.toString(),
    deadline: e.deadline.toString(),
  };
}

/** Parse a deal extension from JSON (uint64 / uint32 ranges as in IStorageMarket.DealExtension). Throws CodecError. */
export function parseExtension(input: unknown): DealExtension {
  const obj = record(input, "extension");
  return {
    dealId: uint(obj, "dealId", U64),
    newEndPeriod: uint(obj, "newEndPeriod", U32),
    nonce: uint(obj, "nonce", U64),
    deadline: uint(obj, "deadline", U64),
  };
}

/** A 0x-hex signature of 65 bytes (ECDSA) or any non-empty length (ERC-1271). Throws CodecError. */
export function parseSignature(input: unknown): string {
  if (typeof input !== "string" || !isHexString(input) || input.length < 4 || input.length % 2 !== 0) {
    throw new CodecError("signature", "must be 0x-hex bytes");
  }
  return input.toLowerCase();
}

function record(input: unknown, field: string): Record<string, unknown> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new CodecError(field, "must be an object");
  }
  return input as Record<string, unknown>;
}

function address(obj: Record<string, unknown>, field: string): string {
  const value = obj[field];
  if (typeof value !== "string" || !isAddress(value)) throw new CodecError(field, "must be a 0x address");
  return getAddress(value);
}

function bytes32(obj: Record<string, unknown>, field: string): string {
  const value = obj[field];
  if (typeof value !== "string" || !isHexString(value, 32))
    throw new CodecError(field, "must be 32 bytes of 0x-hex");
  return value.toLowerCase();
}

function uint(obj: Record<string, unknown>, field: string, max: bigint): bigint {
  const value = obj[field];
  let parsed: bigint | undefined;
  if (typeof value === "string" && /^(0|[1-9][0-9]*)$/.test(value)) parsed = BigInt(value);
  else if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) parsed = BigInt(value);
  if (parsed === undefined) throw new CodecError(field, "must be a non-negative decimal integer string");
  if (parsed > max) throw new CodecError(field, `must be at most ${max}`);
  return parsed;
}
