/**
 * Leaf openings of a data set: the 64-byte leaf and its path, from the pieces on disk and the layout of a stored
 * state. Padding leaves past a piece's data and leaves in gaps open as zeros (the market challenges them too).
 */
import { concat } from "ethers";
import type { DataSetLeafResponse } from "../../sdk/api/datasets.js";
import type { LeafWords, PieceReader } from "../../sdk/datasets/proofAnswer.js";
import { ZERO_LEAF } from "../../sdk/datasets/proofAnswer.js";
import type { PlacedPiece } from "../../sdk/datasets/placement.js";
import { DataSetTree } from "../../sdk/datasets/tree.js";
import { StrataError } from "../../sdk/errors.js";
import type { PieceStore } from "../pieceStore.js";
import type { AgentContext } from "../context.js";
import type { StateRecord } from "./store.js";

/** Reads piece-internal paths and leaves of the pieces of `state` (sizes from its layout). */
export function pieceReader(pieces: PieceStore, state: StateRecord): PieceReader {
  const sizeOf = (piece: PlacedPiece): bigint => {
    const placed = state.layout.find((p) => p.offset === piece.offset && p.root === piece.root);
    if (!placed) throw new StrataError("PIECE_NOT_FOUND", `piece ${piece.root} is not in the layout`);
    return BigInt(placed.size);
  };
  // Read from disk one 64 KiB block at a time (leafProofs.ts): no piece is ever loaded whole.
  return {
    siblings: async (_index, leafInPiece, piece) =>
      (await pieces.openPadded(piece.root, sizeOf(piece), leafInPiece)).path,
    leaf: async (_index, leafInPiece, piece): Promise<LeafWords> =>
      (await pieces.openPadded(piece.root, sizeOf(piece), leafInPiece)).leaf,
  };
}

/** The tree of a stored state's layout. */
export function stateTree(state: StateRecord): DataSetTree {
  return DataSetTree.build({ pieces: state.layout });
}

/** Open leaf `leaf` of data set `id` against the root the chain holds now. Throws LEAF_OUT_OF_RANGE. */
export async function openDataSetLeaf(
  ctx: AgentContext,
  id: bigint,
  leaf: bigint,
): Promise<DataSetLeafResponse> {
  const view = await ctx.chain.market.dataSet(id);
  if (leaf >= view.span) {
    throw new StrataError("LEAF_OUT_OF_RANGE", `leaf ${leaf} is outside the on-chain span ${view.span}`);
  }
  const state = ctx.db.dataSets.state(id, view.version);
  if (state?.state.root !== view.root.toLowerCase()) {
    throw new StrataError(
      "PIECE_NOT_FOUND",
      `the agent holds no layout for data set ${id} at version ${view.version}`,
    );
  }
  const tree = stateTree(state);
  const reader = pieceReader(ctx.pieces, state);
  const opened = await tree.leafPath(Number(leaf), reader.siblings);
  const piece = tree.layout.pieces[opened.pieceIndex];
  const words =
    piece === undefined ? ZERO_LEAF : await reader.leaf(opened.pieceIndex, opened.leafInPiece, piece);
  return {
    leaf: concat([...words]).toLowerCase(),
    path: [...opened.path],
    root: tree.root,
    span: BigInt(tree.span),
    depth: tree.depth,
  };
}
