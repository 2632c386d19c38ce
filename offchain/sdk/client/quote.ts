/**
 * What storing a file costs, before anything is sent (lotus query-ask): the pieces the file becomes, and for
 * each chosen provider the escrow its data set must hold — the lockup that pays the notice (notice + 2 proving
 * periods, the market's `lockupFor`) plus the periods paid ahead — at the provider's price, exact to the base
 * unit and rounded up as the market rounds. `storeFile`'s funds check and `strata store --dry-run` /
 * `strata estimate` use this one function.
 *
 * The quote counts each piece alone in its data set (the most it can cost); a piece added to a data set that
 * already holds others grows that data set's span by less, never more.
 */
import { TAG_BYTES } from "../data/encryption.js";
import { checkCoding, shardSizeFor } from "../data/erasure.js";
import { LEAF_BYTES } from "../datasets/money.js";
import { pieceHeight } from "../datasets/placement.js";
import { StrataError } from "../errors.js";
import { costFor } from "./dataSets.js";

/** A provider's offer, as far as the price goes. */
export interface QuoteOffer {
  provider: string;
  pricePerTiBMonth: bigint;
  noticePeriods: bigint;
  /** Collateral the provider locks for a data set holding only this piece (informational). */
  collateral?: bigint;
}

export interface QuoteRequest {
  /** Size of the file in bytes (before encryption). */
  fileSize: number;
  k: number;
  m: number;
  /** Proving periods paid ahead (at least 1). */
  periods: bigint;
  /** The market's proving period, in seconds. */
  provingPeriod: bigint;
  /** One offer per piece, k + m of them (the chosen providers, in piece order). */
  offers: readonly QuoteOffer[];
}

export interface PieceQuote {
  piece: number;
  provider: string;
  pricePerTiBMonth: bigint;
  /** Escrow that stays locked while the data set lives (pays the notice): (notice + 2) periods. */
  lockup: bigint;
  /** The periods paid ahead. */
  prepaid: bigint;
  /** lockup + prepaid: what the data set's escrow must hold for this piece. */
  total: bigint;
  /** What this piece costs per proving period. */
  perPeriod: bigint;
}

export interface StorageQuote {
  fileSize: number;
  k: number;
  m: number;
  /** Bytes of each piece (after encryption, coding and alignment). */
  pieceSize: number;
  /** Leaves (64-byte units) each piece occupies in its data set: its size class. */
  pieceLeaves: bigint;
  /** Bytes the providers hold in all: (k + m) × pieceLeaves × 64. */
  storedBytes: bigint;
  periods: bigint;
  provingPeriod: bigint;
  /** Seconds the prepaid periods last. */
  prepaidSeconds: bigint;
  pieces: PieceQuote[];
  lockup: bigint;
  prepaid: bigint;
  /** What the wallet must hold (or the escrows already have) before storing. */
  total: bigint;
  perPeriod: bigint;
}

/** The pieces a file of `fileSize` bytes becomes with k + m coding: their size and size class. */
export function pieceLayout(
  fileSize: number,
  k: number,
  m: number,
): { pieceSize: number; pieceLeaves: bigint } {
  checkCoding(k, m);
  const pieceSize = shardSizeFor(fileSize + TAG_BYTES, k);
  return { pieceSize, pieceLeaves: 2n ** BigInt(pieceHeight(pieceSize)) };
}

/** The cost of storing a file with the given providers (see the module comment). */
export function quoteStorage(request: QuoteRequest): StorageQuote {
  if (!Number.isSafeInteger(request.fileSize) || request.fileSize < 0) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `a file size must be a non-negative integer, got ${request.fileSize}`,
    );
  }
  if (request.periods < 1n) {
    throw new StrataError("INVALID_ARGUMENT", "the duration must be at least 1 proving period");
  }
  if (request.provingPeriod <= 0n) {
    throw new StrataError("INVALID_ARGUMENT", "the proving period must be positive");
  }
  const { pieceSize, pieceLeaves } = pieceLayout(request.fileSize, request.k, request.m);
  const count = request.k + request.m;
  if (request.offers.length !== count) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `a quote needs one offer per piece: ${count} (k + m), got ${request.offers.length}`,
    );
  }
  const pieces = request.offers.map((offer, piece): PieceQuote => {
    const lockupSeconds = (offer.noticePeriods + 2n) * request.provingPeriod;
    const total = costFor(
      offer.pricePerTiBMonth,
      pieceLeaves,
      (offer.noticePeriods + 2n + request.periods) * request.provingPeriod,
    );
    const lockup = costFor(offer.pricePerTiBMonth, pieceLeaves, lockupSeconds);
    return {
      piece,
      provider: offer.provider,
      pricePerTiBMonth: offer.pricePerTiBMonth,
      lockup,
      prepaid: total - lockup,
      total,
      perPeriod: costFor(offer.pricePerTiBMonth, pieceLeaves, request.provingPeriod),
    };
  });
  const sum = (pick: (p: PieceQuote) => bigint): bigint => pieces.reduce((s, p) => s + pick(p), 0n);
  return {
    fileSize: request.fileSize,
    k: request.k,
    m: request.m,
    pieceSize,
    pieceLeaves,
    storedBytes: BigInt(count) * pieceLeaves * LEAF_BYTES,
    periods: request.periods,
    provingPeriod: request.provingPeriod,
    prepaidSeconds: request.periods * request.provingPeriod,
    pieces,
    lockup: sum((p) => p.lockup),
    prepaid: sum((p) => p.prepaid),
    total: sum((p) => p.total),
    perPeriod: sum((p) => p.perPeriod),
  };
}
