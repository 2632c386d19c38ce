// The health line of a stored payload for `strata ls` and `strata info`: how many of its n pieces are live and
// healthy (k needed), until when the escrow pays, and what it costs per month. A payload whose data sets ended is
// "lost", never "at risk": the command then exits non-zero, because what was asked (the file is kept) is not true.
import { costFor } from "../../sdk/client/dataSets.js";
import { fileStatus, type FileStatus } from "../../sdk/client/fileStatus.js";
import { MONTH_SECONDS } from "../../sdk/datasets/money.js";
import { pieceHeight } from "../../sdk/datasets/placement.js";
import type { Manifest } from "../../sdk/manifest/manifest.js";
import type { CliContext } from "../context.js";

export type HealthName = "ok" | "at-risk" | "lost" | "pending" | "unknown";

export interface PayloadHealth {
  health: HealthName;
  /** Pieces live and healthy. */
  live: number;
  k: number;
  n: number;
  /** Unix seconds until which every healthy piece is paid (the earliest), null when unknown. */
  paidUntil: bigint | null;
  /** All pieces, per 30 days, in token base units (null when the chain was not read). */
  perMonth: bigint | null;
  status: FileStatus | null;
}

export async function payloadHealth(
  ctx: CliContext,
  manifest: Manifest,
  catalogStatus: string | null,
): Promise<PayloadHealth> {
  const base = { k: manifest.coding.k, n: manifest.pieces.length };
  if (catalogStatus === "partial") {
    return { ...base, health: "pending", live: 0, paidUntil: null, perMonth: null, status: null };
  }
  const chain = await ctx.chain();
  const latest = await chain.provider.getBlock("latest");
  const status = await fileStatus(manifest, {
    market: chain.market,
    agentFor: (endpoint) => ctx.agent(endpoint, { timeoutMs: 3000 }),
    now: BigInt(latest?.timestamp ?? Math.floor(Date.now() / 1000)),
  });
  const leaves = 2n ** BigInt(pieceHeight(manifest.coding.shardSize));
  const held = status.pieces.filter((p) => p.health !== "lost");
  const paid = held.map((p) => p.paidUntil).filter((t): t is bigint => t !== null);
  const perMonth = held.reduce(
    (sum, p) => sum + (p.dataSet === null ? 0n : costFor(p.dataSet.pricePerTiBMonth, leaves, MONTH_SECONDS)),
    0n,
  );
  const health: HealthName =
    held.length < base.k ? "lost" : status.atRisk || !status.retrievable ? "at-risk" : "ok";
  return {
    ...base,
    health,
    live: status.healthy,
    paidUntil: paid.length === 0 ? null : paid.reduce((a, b) => (b < a ? b : a)),
    perMonth,
    status,
  };
}

/** A file's share of its payload's monthly cost (by bytes). */
export function fileShare(perMonth: bigint | null, fileSize: number, payloadSize: number): bigint | null {
  if (perMonth === null) return null;
  if (payloadSize === 0) return perMonth;
  return (perMonth * BigInt(fileSize)) / BigInt(payloadSize);
}
