/**
 * Typed client of an agent's permanent-storage routes (offchain/sdk/api/permanent.ts): its permanent offer, and
 * staging a piece of a paid permanent file (streamed from its file) / asking which piece it stages. The piece bytes
 * themselves are read with the agent's ordinary piece route (`AgentClient.pieceBody`).
 */
import type { z } from "zod";
import {
  PIECE_PROOF_HEADER,
  PIECE_ROOT_HEADER,
  permanentTermsResponse,
  stagedPieceResponse,
  type PermanentTermsResponse,
  type StagedPieceResponse,
} from "../api/permanent.js";
import { apiErrorSchema } from "../api/routes.js";
import { decodeAnswer } from "../client/agentJson.js";
import { createReadStream } from "node:fs";
import { httpPut, ProviderRejectedError, type PutTransport } from "../client/agentClient.js";
import { StrataError } from "../errors.js";

export interface PermanentAgentClient {
  readonly endpoint: string;
  /** GET /v1/permanent */
  terms(): Promise<PermanentTermsResponse>;
  /**
   * PUT /v1/permanent/:fileId/pieces/:index, streaming the piece from its file: the agent checks the bytes and the
   * proof against the chain.
   */
  stagePiece(
    fileId: bigint,
    index: number,
    piece: { root: string; proof: readonly string[]; file: { path: string; size: number } },
  ): Promise<StagedPieceResponse>;
  /** GET /v1/permanent/:fileId/pieces/:index: the piece the agent stages (404 UNKNOWN_PIECE: none). */
  stagedPiece(fileId: bigint, index: number): Promise<StagedPieceResponse>;
}

export function createPermanentAgentClient(
  endpoint: string,
  options: { timeoutMs?: number; minBytesPerSecond?: number; put?: PutTransport } = {},
): PermanentAgentClient {
  const base = endpoint.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 30_000;
  // A piece upload gets the time its size needs at the slowest rate accepted, as the agent client's uploads do.
  const minRate = options.minBytesPerSecond ?? 256 * 1024;
  const put = options.put ?? httpPut;

  async function call<S extends z.ZodType>(
    path: string,
    send: (where: string) => Promise<Response>,
    ok: readonly number[],
    schema: S,
  ): Promise<z.output<S>> {
    const where = `${base}${path}`;
    let response: Response;
    try {
      response = await send(where);
    } catch (cause) {
      throw new StrataError("PROVIDER_UNREACHABLE", `cannot reach ${where}`, { cause });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!ok.includes(response.status)) {
      const parsed = apiErrorSchema.safeParse(json);
      throw new ProviderRejectedError(
        base,
        response.status,
        parsed.success ? parsed.data.error.code : `HTTP_${response.status}`,
        parsed.success ? (parsed.data.error.message ?? response.statusText) : response.statusText,
      );
    }
    return decodeAnswer(schema, where, json);
  }

  const get = (where: string) => fetch(where, { method: "GET", signal: AbortSignal.timeout(timeoutMs) });

  return {
    endpoint: base,
    terms: () => call("/v1/permanent", get, [200], permanentTermsResponse),
    stagePiece: (fileId, index, piece) =>
      call(
        `/v1/permanent/${fileId}/pieces/${index}`,
        (where) =>
          put(
            where,
            {
              "content-type": "application/octet-stream",
              "content-length": String(piece.file.size),
              [PIECE_ROOT_HEADER]: piece.root,
              [PIECE_PROOF_HEADER]: piece.proof.join(","),
            },
            createReadStream(piece.file.path, { start: 0, end: piece.file.size - 1, highWaterMark: 1 << 20 }),
            timeoutMs + Math.ceil((piece.file.size / minRate) * 1000),
          ),
        [200, 201],
        stagedPieceResponse,
      ),
    stagedPiece: (fileId, index) =>
      call(`/v1/permanent/${fileId}/pieces/${index}`, get, [200], stagedPieceResponse),
  };
}
