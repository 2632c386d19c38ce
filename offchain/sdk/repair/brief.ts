// A repair brief (docs/SPEC.md §16.1): what a repairer needs besides the chain to repair a mandated file — the
// mandate's address, the erasure coding and the full piece list. The chain holds only the list's root, so the brief
// is checked against it before it is trusted: a brief whose pieces do not make the mandate's `piecesRoot` is
// refused. It holds no key and nothing secret (pieces are ciphertext), so an owner may hand it to any watcher.
import { z } from "zod";
import { StrataError } from "../errors.js";
import { addressCodec, bytes32Codec, U32_MAX, U64_MAX, uintCodec } from "../schemas/codecs.js";
import { PieceList, type ListedPiece } from "./pieceList.js";

const u64 = uintCodec(U64_MAX);

export const repairBriefSchema = z.object({
  version: z.literal(1),
  chainId: u64,
  mandate: addressCodec,
  /** Data pieces. */
  k: z.int().min(1).max(255),
  /** Parity pieces. */
  m: z.int().min(1).max(255),
  /** Size of every piece in bytes. */
  pieceSize: z
    .int()
    .min(64)
    .max(2 ** 40),
  pieces: z
    .array(
      z.object({
        index: z.int().min(0).max(Number(U32_MAX)),
        pieceRoot: bytes32Codec,
        span: u64,
        dataSetId: u64,
      }),
    )
    .min(2),
});
export type RepairBrief = z.output<typeof repairBriefSchema>;
export type RepairBriefJson = z.input<typeof repairBriefSchema>;

/** Parse a brief (REPAIR_BRIEF_INVALID on any wrong field, or a piece count other than k + m). */
export function parseRepairBrief(input: unknown): RepairBrief {
  const parsed = repairBriefSchema.safeParse(input);
  if (!parsed.success) {
    throw new StrataError("REPAIR_BRIEF_INVALID", "the repair brief is not valid", {
      details: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    });
  }
  const brief = parsed.data;
  if (brief.pieces.length !== brief.k + brief.m) {
    throw new StrataError(
      "REPAIR_BRIEF_INVALID",
      `the brief lists ${brief.pieces.length} pieces for a ${brief.k}+${brief.m} coding`,
    );
  }
  return brief;
}

/** The brief's piece list (throws REPAIR_BRIEF_INVALID when its pieces are out of order). */
export function briefPieceList(brief: RepairBrief): PieceList {
  try {
    return new PieceList(brief.pieces satisfies readonly ListedPiece[]);
  } catch (error) {
    throw new StrataError("REPAIR_BRIEF_INVALID", `the brief's piece list is not valid: ${String(error)}`);
  }
}

/** The brief in its wire form (JSON-safe: bigints as decimal strings). */
export function encodeRepairBrief(brief: RepairBrief): RepairBriefJson {
  return {
    ...brief,
    chainId: brief.chainId.toString(),
    pieces: brief.pieces.map((p) => ({ ...p, span: p.span.toString(), dataSetId: p.dataSetId.toString() })),
  };
}

/**
 * Check a brief against the mandate's on-chain terms: same chain, and its piece list makes the signed
 * `piecesRoot` with the signed `pieceCount` (REPAIR_BRIEF_MISMATCH otherwise). Returns the checked piece list.
 */
export function checkRepairBrief(
  brief: RepairBrief,
  onChain: { chainId: bigint; piecesRoot: string; pieceCount: bigint | number },
): PieceList {
  if (brief.chainId !== onChain.chainId) {
    throw new StrataError(
      "REPAIR_BRIEF_MISMATCH",
      `the brief is for chain ${brief.chainId}, the mandate is on chain ${onChain.chainId}`,
    );
  }
  const list = briefPieceList(brief);
  if (
    list.root.toLowerCase() !== onChain.piecesRoot.toLowerCase() ||
    BigInt(brief.pieces.length) !== BigInt(onChain.pieceCount)
  ) {
    throw new StrataError(
      "REPAIR_BRIEF_MISMATCH",
      `the brief's piece list does not make mandate ${brief.mandate}'s piece-list root`,
    );
  }
  return list;
}
