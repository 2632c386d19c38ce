/**
 * Public files (docs/SPEC-DATA.md §10): the index a client sends with each public piece, and the agent's answer.
 * The agent checks every entry against the bytes it holds before keeping the index (agent/files).
 */
import { z } from "zod";
import { bytes32Codec } from "../schemas/codecs.js";

/** Most files one public piece may index (a 1 GiB bundle of 10 KiB files holds about 100,000). */
export const MAX_PUBLIC_INDEX_ENTRIES = 200_000;
/** Largest index body the agent reads (JSON), bytes. */
export const MAX_PUBLIC_INDEX_BYTES = 64 << 20;

const byteCount = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

/** One file of a public piece: its UnixFS CIDv1, path in the bundle, size, first byte in the piece, media type. */
export const publicIndexEntrySchema = z.object({
  cid: z.string().min(1).max(256),
  path: z.string().min(1).max(4096),
  size: byteCount,
  offset: byteCount,
  contentType: z.string().min(1).max(255),
});
export type PublicIndexEntry = z.output<typeof publicIndexEntrySchema>;

// ------------------------------------------------------------------ PUT /v1/datasets/:id/pieces/:root/public-index

export const publicIndexRequest = z.object({
  entries: z.array(publicIndexEntrySchema).min(1).max(MAX_PUBLIC_INDEX_ENTRIES),
});
export type PublicIndexRequest = z.output<typeof publicIndexRequest>;

export const publicIndexResponse = z.object({ root: bytes32Codec, files: z.int().min(0) });
export type PublicIndexResponse = z.output<typeof publicIndexResponse>;
