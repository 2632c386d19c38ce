/**
 * The provider agent's data-set routes (docs/SPEC.md, "Data sets"): one request and one response schema per
 * route, shared by the agent's fastify routes (fastify-type-provider-zod) and the SDK client. Amounts are decimal
 * strings of token base units on the wire, bigints in code; leaf offsets and heights are JSON integers.
 */
import { z } from "zod";
import type { CreateDataSet, DataSetState } from "../datasets/eip712.js";
import { MAX_DATA_SET_HEIGHT } from "../datasets/placement.js";
import {
  addressCodec,
  bytes32Codec,
  clientSignatureCodec,
  hexCodec,
  U128_MAX,
  U32_MAX,
  U64_MAX,
  uint256Codec,
  uintCodec,
} from "../schemas/codecs.js";

const u32 = uintCodec(U32_MAX);
const u64 = uintCodec(U64_MAX);
const u128 = uintCodec(U128_MAX);
const txHash = bytes32Codec;
/** A leaf index or offset: exact as a JSON number (spans stay below 2^47 leaves). */
const leafIndex = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const height = z.int().min(0).max(MAX_DATA_SET_HEIGHT);

// ------------------------------------------------------------------ signed messages

/** IStorageMarket.CreateDataSet. */
export const createDataSetSchema = z.object({
  client: addressCodec,
  provider: addressCodec,
  pricePerTiBMonth: u128,
  collateralPerTiB: u128,
  noticePeriods: u32,
  nonce: u64,
  deadline: u64,
}) satisfies z.ZodType<CreateDataSet>;
export type CreateDataSetJson = z.input<typeof createDataSetSchema>;

/** IStorageMarket.DataSetState. */
export const dataSetStateSchema = z.object({
  dataSetId: u64,
  version: u64,
  root: bytes32Codec,
  span: u64,
}) satisfies z.ZodType<DataSetState>;
export type DataSetStateJson = z.input<typeof dataSetStateSchema>;

/** A piece placed in a data set: its root, size in bytes, first leaf and tree height (sdk/datasets placement). */
export const placedPieceSchema = z
  .object({
    root: bytes32Codec,
    size: leafIndex.min(1),
    offset: leafIndex,
    height,
  })
  .refine((piece) => piece.offset % 2 ** piece.height === 0, "offset must be a multiple of 2^height");
export type PlacedPieceJson = z.input<typeof placedPieceSchema>;
export type SizedPlacedPiece = z.output<typeof placedPieceSchema>;

// ------------------------------------------------------------------ GET /v1/terms

export const dataSetTermsResponse = z.object({
  provider: addressCodec,
  chainId: uint256Codec,
  market: addressCodec,
  /** Token base units per TiB per 30 days. */
  pricePerTiBMonth: u128,
  /** Token base units of collateral per TiB of class capacity. */
  collateralPerTiB: u128,
  noticePeriods: u32,
  /** Largest piece the agent accepts, in bytes. */
  maxPieceBytes: uint256Codec,
  provingPeriod: uint256Codec,
  /** Where the agent serves (as configured; empty when unknown). */
  endpoint: z.string().default(""),
});
export type DataSetTermsResponse = z.output<typeof dataSetTermsResponse>;

// ------------------------------------------------------------------ POST /v1/datasets

export const createDataSetRequest = z.object({ terms: createDataSetSchema, signature: clientSignatureCodec });
export type CreateDataSetRequest = z.output<typeof createDataSetRequest>;

/** 201 (submitted now) or 200 (the same client and nonce were submitted before). */
export const createDataSetResponse = z.object({ dataSetId: u64, txHash });
export type CreateDataSetResponse = z.output<typeof createDataSetResponse>;

// ------------------------------------------------------------------ GET /v1/datasets/:id

export const dataSetParams = z.object({ id: u64 });

export const dataSetResponse = z.object({
  dataSetId: u64,
  client: addressCodec,
  /** The agent's layout of its newest accepted state. */
  layout: z.array(placedPieceSchema),
  version: u64,
  root: bytes32Codec,
  span: u64,
  /** What the chain holds now. */
  onChain: z.object({ version: u64, root: bytes32Codec, span: u64 }),
});
export type DataSetResponse = z.output<typeof dataSetResponse>;

// ------------------------------------------------------------------ PUT /v1/datasets/:id/pieces/:pieceRoot

export const dataSetPieceParams = z.object({ id: u64, pieceRoot: bytes32Codec });

/** 201 (stored now) or 200 (already held). */
export const pieceUploadResponse = z.object({ root: bytes32Codec, size: uint256Codec });
export type PieceUploadResponse = z.output<typeof pieceUploadResponse>;

/**
 * Resumable uploads. A PUT may carry `x-piece-size` (the whole piece, bytes) and `x-upload-offset` (the first byte
 * of the piece this body holds; default 0); Content-Length is then the body's length and must equal
 * size − offset. A dropped upload keeps the bytes received; GET .../pieces/:pieceRoot/upload?size=N says how many
 * (`received`), and the client sends the rest from that offset. A wrong offset is 409 UPLOAD_OFFSET_MISMATCH
 * with the agent's `received` in the message.
 */
export const PIECE_SIZE_HEADER = "x-piece-size";
export const UPLOAD_OFFSET_HEADER = "x-upload-offset";

// ------------------------------------------------------------------ GET /v1/datasets/:id/pieces/:pieceRoot/upload

export const pieceUploadStatusQuery = z.object({
  size: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});
export const pieceUploadStatusResponse = z.object({
  root: bytes32Codec,
  size: leafIndex,
  /** Bytes held: `size` once the piece is stored whole, 0 when nothing arrived. */
  received: leafIndex,
});
export type PieceUploadStatusResponse = z.output<typeof pieceUploadStatusResponse>;

// ------------------------------------------------------------------ PUT /v1/datasets/:id/uploads/:uploadId

/**
 * A piece uploaded under a client-chosen upload id (32 random bytes, 0x-hex) instead of its root: the client
 * streams a piece while it is still producing it, before it knows the root. Same headers and resume rules as a
 * PUT by root; the agent computes the root from the bytes, stores the piece under it and answers
 * `{root, size}` (201), which the client compares with its own root.
 */
export const dataSetUploadParams = z.object({ id: u64, uploadId: bytes32Codec });

// ------------------------------------------------------------------ GET /v1/datasets/:id/uploads/:uploadId

export const uploadStatusQuery = pieceUploadStatusQuery;
export const uploadStatusResponse = z.object({
  uploadId: bytes32Codec,
  size: leafIndex,
  /** Bytes held: `size` once the upload completed (recently, on this agent run), 0 when nothing arrived. */
  received: leafIndex,
  /** The piece's root once the upload completed. */
  root: bytes32Codec.optional(),
});
export type UploadStatusResponse = z.output<typeof uploadStatusResponse>;

// ------------------------------------------------------------------ POST /v1/datasets/:id/state

export const dataSetStateRequest = z.object({
  state: dataSetStateSchema,
  signature: clientSignatureCodec,
  /** The signer when it is a session key (default: the data set's client). */
  signer: addressCodec.optional(),
  add: z.array(placedPieceSchema).default([]),
  /** Offsets of pieces removed from the layout. */
  remove: z.array(leafIndex).default([]),
});
export type DataSetStateRequest = z.output<typeof dataSetStateRequest>;

export const dataSetStateResponse = z.object({ accepted: z.literal(true), version: u64 });
export type DataSetStateResponse = z.output<typeof dataSetStateResponse>;

// ------------------------------------------------------------------ GET /v1/datasets/:id/leaves/:leaf

export const dataSetLeafParams = z.object({ id: u64, leaf: u64 });

export const dataSetLeafResponse = z.object({
  /** The 64-byte leaf (zero past a piece's end and in gaps). */
  leaf: hexCodec(64),
  /** Sibling hashes, bottom up. */
  path: z.array(bytes32Codec),
  root: bytes32Codec,
  span: u64,
  depth: z.int().min(0).max(MAX_DATA_SET_HEIGHT),
});
export type DataSetLeafResponse = z.output<typeof dataSetLeafResponse>;

// ------------------------------------------------------------------ GET /v1/pieces/:root (Range)

export const pieceParams = z.object({ root: bytes32Codec });
