/**
 * Accepting a client's signed state: the agent folds the announced additions and removals into its newest layout,
 * and keeps the state only when that layout hashes to the signed root and span, every added piece is on disk, and
 * the signer is the client or one of its session keys in scope. The state then waits for the next updateDataSets
 * batch (newest wins).
 */
import type { DataSetStateRequest, SizedPlacedPiece } from "../../sdk/api/datasets.js";
import { DATA_SET_STATE_TYPES } from "../../sdk/datasets/eip712.js";
import { pieceHeight, validateLayout, type DataSetLayout } from "../../sdk/datasets/placement.js";
import { checkSessionKeyScope } from "../../sdk/datasets/sessionKeys.js";
import { DataSetTree } from "../../sdk/datasets/tree.js";
import { StrataError } from "../../sdk/errors.js";
import type { AgentContext } from "../context.js";
import { signedBy } from "./signatures.js";
import type { DataSetRecord, StateRecord } from "./store.js";

export type StateRefusalCode =
  | "DATA_SET_NOT_LIVE"
  | "STALE_VERSION"
  | "BAD_LAYOUT"
  | "LAYOUT_MISMATCH"
  | "PIECE_NOT_STORED"
  | "BAD_SIGNATURE"
  | "SESSION_KEY_REFUSED";

/** Why a signed state was refused (an HTTP status and a stable code). */
export class StateRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: StateRefusalCode,
    message: string,
  ) {
    super(message);
    this.name = "StateRefusal";
  }
}

/** Check `request` against data set `record` and keep it as the newest state. Throws StateRefusal. */
export async function applyStateChange(
  ctx: AgentContext,
  record: DataSetRecord,
  request: DataSetStateRequest,
): Promise<StateRecord> {
  const { state, signature } = request;
  if (record.status !== "live") {
    throw new StateRefusal(409, "DATA_SET_NOT_LIVE", `data set ${record.id} is ${record.status}`);
  }
  if (state.dataSetId !== record.id) {
    throw new StateRefusal(
      400,
      "BAD_LAYOUT",
      `the state is for data set ${state.dataSetId}, not ${record.id}`,
    );
  }
  const newest = ctx.db.dataSets.newestState(record.id);
  const view = await ctx.chain.market.dataSet(record.id);
  const floor =
    newest !== undefined && newest.state.version > view.version ? newest.state.version : view.version;
  if (state.version <= floor) {
    throw new StateRefusal(409, "STALE_VERSION", `version ${state.version} is not above ${floor}`);
  }

  const layout = nextLayout(newest?.layout ?? [], request.add, request.remove);
  let tree: DataSetTree;
  try {
    tree = DataSetTree.build(validateLayout({ pieces: layout } satisfies DataSetLayout));
  } catch (error) {
    if (error instanceof StrataError) throw new StateRefusal(400, "BAD_LAYOUT", error.message);
    throw error;
  }
  if (tree.root !== state.root.toLowerCase() || BigInt(tree.span) !== state.span) {
    throw new StateRefusal(
      422,
      "LAYOUT_MISMATCH",
      `the layout has root ${tree.root} and span ${tree.span}; the state signs ${state.root} and ${state.span}`,
    );
  }
  for (const piece of request.add) {
    const stored = ctx.db.piece(piece.root);
    if (stored?.ok !== true || stored.size !== BigInt(piece.size)) {
      throw new StateRefusal(
        409,
        "PIECE_NOT_STORED",
        `piece ${piece.root} of ${piece.size} bytes is not stored here`,
      );
    }
  }

  const signer = request.signer ?? record.client;
  if (!(await signedBy(ctx, signer, DATA_SET_STATE_TYPES, { ...state }, signature))) {
    throw new StateRefusal(400, "BAD_SIGNATURE", `the state is not signed by ${signer}`);
  }
  if (signer.toLowerCase() !== record.client.toLowerCase()) {
    const scope = await ctx.chain.market.sessionKey(record.client, signer);
    const check = checkSessionKeyScope(
      {
        client: record.client,
        key: signer,
        provider: scope.provider,
        maxSpan: scope.maxSpan,
        expiry: scope.expiry,
      },
      {
        client: record.client,
        provider: ctx.chain.me,
        span: state.span,
        // An unknown or revoked key reads as an empty scope on chain (expiry 0: refused as EXPIRED).
        now: await ctx.chain.now(),
      },
    );
    if (!check.allowed) {
      throw new StateRefusal(403, "SESSION_KEY_REFUSED", `session key ${signer}: ${check.refusal}`);
    }
  }

  ctx.db.dataSets.putState({ state, signer, signature, layout });
  ctx.logger.info(
    {
      dataSetId: record.id,
      version: state.version,
      span: state.span,
      added: request.add.length,
      removed: request.remove.length,
    },
    "signed state accepted",
  );
  const kept = ctx.db.dataSets.state(record.id, state.version);
  if (!kept) throw new StrataError("AGENT_DB_ERROR", `state ${record.id}@${state.version} was not stored`);
  return kept;
}

/** `base` without the pieces at `remove`, plus `add`, sorted by offset. Throws StateRefusal on a bad change. */
export function nextLayout(
  base: readonly SizedPlacedPiece[],
  add: readonly SizedPlacedPiece[],
  remove: readonly number[],
): SizedPlacedPiece[] {
  const byOffset = new Map(base.map((piece) => [piece.offset, piece]));
  for (const offset of remove) {
    if (!byOffset.delete(offset)) {
      throw new StateRefusal(400, "BAD_LAYOUT", `no piece at offset ${offset} to remove`);
    }
  }
  for (const piece of add) {
    if (piece.height !== pieceHeight(piece.size)) {
      throw new StateRefusal(
        400,
        "BAD_LAYOUT",
        `piece ${piece.root} of ${piece.size} bytes has height ${pieceHeight(piece.size)}, not ${piece.height}`,
      );
    }
    if (byOffset.has(piece.offset)) {
      throw new StateRefusal(400, "BAD_LAYOUT", `offset ${piece.offset} is already taken`);
    }
    byOffset.set(piece.offset, piece);
  }
  return [...byOffset.values()].sort((a, b) => a.offset - b.offset);
}
