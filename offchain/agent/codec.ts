/**
 * JSON forms of proposals, deal terms and extensions (bigints as decimal strings) as the agent's database
 * stores them. The schemas are the agent API's (offchain/sdk/api/deals.ts): one definition for the wire and
 * the database. A stored row that no longer parses is AGENT_DB_ERROR naming the field.
 */
import { z } from "zod";
import {
  dealExtensionSchema,
  dealProposalSchema,
  dealTermsSchema,
  type DealExtensionJson,
  type DealProposalJson,
  type DealTermsJson,
} from "../sdk/api/deals.js";
import type { DealExtension } from "../sdk/deals/eip712.js";
import type { DealProposal, DealTerms } from "../sdk/deals/terms.js";
import { parseOrThrow } from "../sdk/schemas/issues.js";

export type { DealExtensionJson, DealProposalJson, DealTermsJson };

/** The wire form always has decimal strings (the schema's input also takes safe integers). */
type Encoded<T> = { [K in keyof T]: T[K] extends bigint ? string : T[K] };

export function proposalToJson(p: DealProposal): Encoded<DealProposal> {
  return z.encode(dealProposalSchema, p) as Encoded<DealProposal>;
}

export function parseProposal(input: unknown): DealProposal {
  return parseOrThrow(dealProposalSchema, input, "AGENT_DB_ERROR", "stored proposal");
}

export function termsToJson(d: DealTerms): Encoded<DealTerms> {
  return z.encode(dealTermsSchema, d) as Encoded<DealTerms>;
}

export function parseTerms(input: unknown): DealTerms {
  return parseOrThrow(dealTermsSchema, input, "AGENT_DB_ERROR", "stored deal terms");
}

export function extensionToJson(e: DealExtension): Encoded<DealExtension> {
  return z.encode(dealExtensionSchema, e) as Encoded<DealExtension>;
}
