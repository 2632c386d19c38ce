/**
 * The provider agent's HTTP API: one request and one response schema per route. The agent's fastify routes
 * validate requests and encode answers with them (fastify-type-provider-zod); the SDK client decodes the
 * answers with the same schemas. Types are inferred from the schemas: `z.output` is the typed form (bigints),
 * `z.input` the JSON on the wire.
 */
import { z } from "zod";
import {
  addressCodec,
  bytes32Codec,
  signatureCodec,
  uint256Codec,
  uint64Codec,
  uintCodec,
} from "../schemas/codecs.js";
import { dealExtensionSchema, dealProposalSchema } from "./deals.js";

const count = z.int().min(0);
const txHash = bytes32Codec;

// ------------------------------------------------------------------ errors

/** The JSON body of every error answer: `{ error: { code, message, ... } }`. */
export const apiErrorSchema = z.object({
  error: z.object({
    code: z.string().min(1),
    message: z.string().optional(),
    /** The upload of a DUPLICATE proposal (same client, nonce and signature). */
    uploadId: z.string().optional(),
    /** The custom error name of a CHAIN_REVERT. */
    revert: z.string().optional(),
  }),
});
export type ApiErrorBody = z.output<typeof apiErrorSchema>;

// ------------------------------------------------------------------ GET /health

export const healthResponse = z.object({
  ok: z.boolean(),
  provider: addressCodec,
  chainId: uint256Codec,
  market: addressCodec,
  version: z.string().default(""),
});
export type HealthResponse = z.output<typeof healthResponse>;

// ------------------------------------------------------------------ GET /v1/status

export const statusResponse = z.object({
  provider: addressCodec,
  chainId: uint256Codec,
  market: addressCodec,
  deals: z.object({ active: count, published: count, pending: count }),
  pieces: count,
  bytesStored: uint256Codec,
  proof: z.object({
    nextPeriod: uint256Codec,
    lastProvenPeriod: uint256Codec.nullable(),
    lastProofTx: txHash.nullable(),
  }),
  balance: z.object({ ledger: uint256Codec, freeStake: uint256Codec, lockedStake: uint256Codec }),
});
export type StatusResponse = z.output<typeof statusResponse>;

// ------------------------------------------------------------------ GET /v1/terms

export const termsResponse = z.object({
  provider: addressCodec,
  // The agent always sends chainId, market, minDurationPeriods and minStartDeadlineSeconds; clients only
  // rely on the rest, so agents that predate those fields still read.
  chainId: uint256Codec.optional(),
  market: addressCodec.optional(),
  pricePerTiBMonth: uint256Codec,
  /** Optional policy floor: the provider rejects a pricePerSecond below ceil(this * size / MiB). */
  minPricePerSecondPerMiB: uint256Codec.nullable().default(null),
  maxPieceSize: uint256Codec,
  minDurationPeriods: uint256Codec.optional(),
  maxDurationPeriods: uint256Codec,
  /** Collateral the provider locks per GiB of piece. */
  collateralPerGiB: uint256Codec,
  minStartDeadlineSeconds: count.optional(),
  provingPeriod: uint256Codec,
});
export type TermsResponse = z.output<typeof termsResponse>;

// ------------------------------------------------------------------ POST /v1/deals

export const createDealRequest = z.object({ proposal: dealProposalSchema, signature: signatureCodec });
export type CreateDealRequest = z.output<typeof createDealRequest>;

/** Upload ids are URL-safe (they end up in a path). */
export const uploadId = z
  .string()
  .regex(/^[A-Za-z0-9._~-]{1,128}$/, "must be a URL-safe id of 1-128 characters");

export const createDealResponse = z.object({
  uploadId,
  /** Where to PUT the bytes (absolute, or a path on the agent; default /v1/uploads/<uploadId>). */
  uploadUrl: z.string().min(1).optional(),
});
export type CreateDealResponse = z.output<typeof createDealResponse>;

// ------------------------------------------------------------------ PUT / GET /v1/uploads/:id

/** Upload states as clients see them ("publishing" is internal and shows as "accepted"). */
export const UPLOAD_STATES = ["awaiting-data", "accepted", "published", "skipped", "failed"] as const;
export const uploadState = z.enum(UPLOAD_STATES);
export type UploadState = z.output<typeof uploadState>;

export const uploadParams = z.object({ id: z.string() });

export const uploadPutResponse = z.object({ state: uploadState });
export type UploadPutResponse = z.output<typeof uploadPutResponse>;

export const uploadStatusResponse = z.object({
  id: z.string(),
  state: uploadState,
  dealId: uint64Codec.nullable().default(null),
  txHash: z.string().nullable().default(null),
  reason: z.string().nullable().default(null),
});
export type UploadStatusResponse = z.output<typeof uploadStatusResponse>;

// ------------------------------------------------------------------ GET /v1/pieces/:root/proof

export const pieceParams = z.object({ root: z.string() });

export const leafProofQuery = z.object({ leaf: z.string().optional() });

export const leafProofResponse = z.object({
  root: bytes32Codec,
  /** Piece size in bytes. */
  size: uint64Codec,
  leafIndex: count,
  /** The 64-byte leaf (zero-padded past the end of the piece) as two 32-byte words. */
  leaf: z.tuple([bytes32Codec, bytes32Codec]),
  /** Sibling hashes, bottom up. */
  path: z.array(bytes32Codec),
});
export type LeafProofResponse = z.output<typeof leafProofResponse>;

// ------------------------------------------------------------------ POST /v1/extensions

export const extensionRequest = z.object({
  /** Optional copy of extension.dealId (checked against it). */
  dealId: uint64Codec.optional(),
  extension: dealExtensionSchema,
  signature: signatureCodec,
});
export type ExtensionRequest = z.output<typeof extensionRequest>;

/** 200 (mined) or 202 (sent; not mined within the reply budget, applied by the agent once it is). */
export const EXTENSION_STATES = ["extended", "submitted"] as const;
export const extensionResponse = z.object({
  /** The agent sends one of EXTENSION_STATES; a client reads any state and shows it. */
  state: z.string().default("accepted"),
  txHash: z.string().nullable().default(null),
  newEndPeriod: uint64Codec.optional(),
});
export type ExtensionResponse = z.output<typeof extensionResponse>;

// ------------------------------------------------------------------ compute: PUT /v1/workloads/:hash

export const workloadParams = z.object({ hash: z.string() });

/** 201 (stored now) or 200 (already stored). */
export const workloadResponse = z.object({
  hash: bytes32Codec,
  state: z.enum(["stored", "already-stored"]),
  /** This provider's leases running (or about to run) it. */
  leases: z.array(uint64Codec).default([]),
  /** Orders with this workload this provider bid on. */
  orders: z.array(uint64Codec).default([]),
});
export type WorkloadResponse = z.output<typeof workloadResponse>;

// ------------------------------------------------------------------ compute: GET /v1/leases/:id

export const leaseParams = z.object({ id: z.string() });

export const workloadUsageSchema = z.object({
  cpuMillicores: z.number().nullable(),
  rssBytes: z.number(),
  processes: z.number(),
});

export const leaseStatusResponse = z.object({
  id: uint64Codec,
  state: z.enum(["active", "closed"]),
  closeReason: z.string().nullable(),
  workloadHash: bytes32Codec,
  workloadReceived: z.boolean(),
  /** awaiting-workload | running | exited | stopped | unrunnable */
  runState: z.string(),
  runs: count,
  lastExit: z.unknown(),
  usage: workloadUsageSchema.nullable(),
  lastHeartbeatPeriod: uintCodec().nullable(),
  noticeGiven: z.boolean(),
  endsAt: uint256Codec,
  /** The runtime the workload runs in ("isolated", or "process" where the sandbox cannot run). */
  runtime: z.string().optional(),
  /** The manifest version running (1: the order's; higher: a signed update). */
  manifestVersion: count.optional(),
  /** Each service's health by its checks: a service failing them is "unhealthy" (the lease shows it). */
  health: z.record(z.string(), z.enum(["healthy", "unhealthy"])).optional(),
});
export type LeaseStatusResponse = z.output<typeof leaseStatusResponse>;
