/**
 * The provider agent's HTTP API: one request and one response schema per route. The agent's fastify routes
 * validate requests and encode answers with them (fastify-type-provider-zod); the SDK client decodes the
 * answers with the same schemas. Types are inferred from the schemas: `z.output` is the typed form (bigints),
 * `z.input` the JSON on the wire.
 */
import { z } from "zod";
import { addressCodec, bytes32Codec, uint256Codec, uint64Codec, uintCodec } from "../schemas/codecs.js";

export * from "./datasets.js";
export * from "./publicFiles.js";

const count = z.int().min(0);
const txHash = bytes32Codec;

// ------------------------------------------------------------------ errors

/** The JSON body of every error answer: `{ error: { code, message, ... } }`. */
export const apiErrorSchema = z.object({
  error: z.object({
    code: z.string().min(1),
    message: z.string().optional(),
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
  /** Data sets by status, and signed states accepted but not yet applied on chain. */
  dataSets: z.object({ live: count, ending: count, pendingStates: count }),
  pieces: count,
  bytesStored: uint256Codec,
  proof: z.object({
    nextPeriod: uint256Codec,
    lastProvenPeriod: uint256Codec.nullable(),
    lastProofTx: txHash.nullable(),
  }),
  /** `proofBond`: the provider's proof bond, held by the market outside its registry stake. */
  balance: z.object({
    ledger: uint256Codec,
    freeStake: uint256Codec,
    lockedStake: uint256Codec,
    proofBond: uint256Codec,
  }),
});
export type StatusResponse = z.output<typeof statusResponse>;

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
