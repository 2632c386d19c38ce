/**
 * JSON forms of a deal proposal, deal terms and a deal extension (bigints as decimal strings), with the
 * ranges of their Solidity types. Used by the agent API (request bodies) and the agent's database.
 */
import { z } from "zod";
import type { DealExtension } from "../deals/eip712.js";
import type { DealProposal, DealTerms } from "../deals/terms.js";
import { addressCodec, bytes32Codec, U128_MAX, U32_MAX, U64_MAX, uintCodec } from "../schemas/codecs.js";

const u32 = uintCodec(U32_MAX);
const u64 = uintCodec(U64_MAX);
const u128 = uintCodec(U128_MAX);

/** IStorageMarket.DealProposal. */
export const dealProposalSchema = z.object({
  client: addressCodec,
  provider: addressCodec,
  root: bytes32Codec,
  size: u64,
  duration: u64,
  pricePerSecond: u128,
  collateral: u128,
  startDeadline: u64,
  nonce: u64,
}) satisfies z.ZodType<DealProposal>;
export type DealProposalJson = z.input<typeof dealProposalSchema>;

/** IStorageMarket.DealTerms (as the agent stores them). */
export const dealTermsSchema = z.object({
  id: u64,
  client: addressCodec,
  provider: addressCodec,
  root: bytes32Codec,
  size: u64,
  startPeriod: u32,
  endPeriod: u32,
  pricePerSecond: u128,
  collateral: u128,
}) satisfies z.ZodType<DealTerms>;
export type DealTermsJson = z.input<typeof dealTermsSchema>;

/** IStorageMarket.DealExtension. */
export const dealExtensionSchema = z.object({
  dealId: u64,
  newEndPeriod: u32,
  nonce: u64,
  deadline: u64,
}) satisfies z.ZodType<DealExtension>;
export type DealExtensionJson = z.input<typeof dealExtensionSchema>;
