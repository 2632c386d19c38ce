/**
 * The provider agent's site routes (docs/SPEC.md, "Sites"): the signed record a client posts and the record an
 * agent answers with, shared by the agent's routes and the SDK client.
 */
import { z } from "zod";
import { addressCodec, bytes32Codec, hexCodec, U64_MAX, uint256Codec, uintCodec } from "../schemas/codecs.js";
import type { SiteRecord } from "../sites/record.js";

const u64 = uintCodec(U64_MAX);

export const siteBackendSchema = z.strictObject({
  leaseId: uint256Codec,
  url: z.string().max(2048),
});

export const siteRecordSchema = z.strictObject({
  siteId: bytes32Codec,
  owner: addressCodec,
  name: z.string().max(64),
  version: u64,
  rootCid: z.string().max(200),
  backend: siteBackendSchema.nullable(),
  createdAt: u64,
  removed: z.boolean(),
  /** Absent in records that name no permanent file (and in every record signed before the field existed). */
  permanentFileId: uint256Codec.optional(),
}) satisfies z.ZodType<SiteRecord>;
export type SiteRecordJson = z.input<typeof siteRecordSchema>;

/** An ECDSA signature: 65 bytes. */
const signatureCodec = hexCodec(65);

/** POST /v1/sites. */
export const postSiteRequest = z.object({ record: siteRecordSchema, signature: signatureCodec });
export type PostSiteRequest = z.output<typeof postSiteRequest>;

export const postSiteResponse = z.object({ siteId: bytes32Codec, version: u64, accepted: z.boolean() });
export type PostSiteResponse = z.output<typeof postSiteResponse>;

/** GET /v1/sites/:id — the record the agent serves the site by. */
export const siteResponse = z.object({
  record: siteRecordSchema,
  signature: signatureCodec,
  /** Files in the version's manifest (0 for a tombstone). */
  files: z.int().min(0),
  /** Unix ms when the agent accepted the record. */
  receivedAt: z.int().min(0),
});
export type SiteResponse = z.output<typeof siteResponse>;

export const siteParams = z.object({ id: z.string() });
