/**
 * The provider agent's permanent-storage routes (docs/SPEC.md §16.2, "Placement off chain"): the agent's
 * permanent offer, and staging — an uploader hands each piece of a paid permanent file to one agent once, with the
 * piece's proof in the file's piece list, so that whichever provider wins the piece's slot can fetch it and check
 * it against the list root on chain while the uploader is offline. One schema per route, shared by the agent's
 * fastify routes and the SDK client.
 */
import { z } from "zod";
import { addressCodec, bytes32Codec, U128_MAX, U64_MAX, uintCodec } from "../schemas/codecs.js";

/** Header of a staged piece upload: its commitment (the bytes are checked against it as they arrive). */
export const PIECE_ROOT_HEADER = "x-strata-piece-root";
/** Header of a staged piece upload: its proof in the file's piece list, comma-separated 32-byte words. */
export const PIECE_PROOF_HEADER = "x-strata-piece-proof";
/** Most pieces of a permanent file (`PermanentStorage` bounds n to 64). */
export const MAX_PERMANENT_PIECES = 64;

/** GET /v1/permanent: whether the agent takes permanent pieces, at what price and size. */
export const permanentTermsResponse = z.object({
  enabled: z.boolean(),
  provider: addressCodec,
  /** The PermanentStorage contract the agent serves (null when the deployment has none). */
  contract: addressCodec.nullable(),
  pricePerTiBMonth: uintCodec(U128_MAX),
  maxPieceBytes: uintCodec(U64_MAX),
});
export type PermanentTermsResponse = z.output<typeof permanentTermsResponse>;

/** `:fileId/pieces/:index` */
export const permanentPieceParams = z.object({
  fileId: uintCodec(U64_MAX),
  index: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_PERMANENT_PIECES - 1),
});

/** A piece staged with an agent: its commitment, size and list proof (the bytes: GET /v1/pieces/:root). */
export const stagedPieceResponse = z.object({
  fileId: uintCodec(U64_MAX),
  index: z
    .int()
    .min(0)
    .max(MAX_PERMANENT_PIECES - 1),
  root: bytes32Codec,
  size: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  proof: z.array(bytes32Codec).max(16),
});
export type StagedPieceResponse = z.output<typeof stagedPieceResponse>;
