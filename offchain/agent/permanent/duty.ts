/**
 * The permanent-storage duty (docs/SPEC.md §16.2): the provider's side of the open, cheapest-first placement of
 * permanent files' pieces. Each tick it
 *  1. moves every slot it is part of one step on, journalled in SQLite so that a restart resumes where it stood:
 *     offered -> (window closed) award -> fetch the piece (staged here, or from the agent staging it, checked
 *     against the file's piece list on chain; else rebuilt from k holders with the commitments on chain) -> create the data set the contract approved -> place (the contract
 *     checks the piece and funds the escrow) -> queue the approved state (the state submitter applies it) ->
 *     (after a proven period) confirm -> live: renew when half the prepaid storage is used;
 *     a cheaper offer (outbid), a lapsed offer or a lost slot ends its part in the file;
 *  2. scans `filesPerTick` files (a cursor that wraps): takes the permissionless steps other providers' slots wait
 *     for (award a closed offer, report a lost piece: both reopen slots it may win), and offers its price for one
 *     open slot of each file it has no part in, when the price is within the file's ceiling and below the best
 *     offer, and the piece fits.
 * A provider takes at most one piece of a file (the contract refuses a second).
 */
import { getAddress, type ContractTransactionReceipt } from "ethers";
import { createReadStream } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import type { IPermanentStorage, PermanentStorage } from "../../../typechain-types/index.js";
import { createAgentClient, type AgentClient } from "../../sdk/client/agentClient.js";
import { MarketDataSetStatus, PermanentFileStatus, PermanentSlotStage } from "../../sdk/chain/enums.js";
import { EMPTY_LAYOUT, layoutSpan, pieceHeight, placePiece } from "../../sdk/datasets/placement.js";
import { dataSetRoot } from "../../sdk/datasets/tree.js";
import { rebuildPermanentPiece } from "../../sdk/durability/permanent.js";
import {
  createPermanentAgentClient,
  type PermanentAgentClient,
} from "../../sdk/durability/permanentAgent.js";
import { StrataError } from "../../sdk/errors.js";
import { fetchPieceFile, withScratch } from "../../sdk/repair/pieceFiles.js";
import { pieceLeaf, verifyPieceProof } from "../../sdk/repair/pieceList.js";
import { decodeRevert } from "../chain.js";
import type { AgentContext } from "../context.js";
import { applyStateChange } from "../datasets/stateChange.js";
import { FIRST_DATA_SET_BLOCK_KEY } from "../datasets/store.js";
import { permanentContract } from "./contract.js";
import { ACTIVE_SLOT_STATES, type PermanentSlotRecord, type StagedPiece } from "./store.js";

/** Database key (kv) of the last file id the offer scan looked at. */
export const SCAN_CURSOR_KEY = "permanent.scanCursor";
/** Database key (kv) of the block from which SlotAwarded events are searched (the block of the first offer). */
export const FIRST_OFFER_BLOCK_KEY = "permanent.firstOfferBlock";

/** Seconds after an offer window closes before this agent awards another provider's winning offer. */
export const AWARD_GRACE_SECONDS = 300n;

const STAGE = PermanentSlotStage.value;
const IN_BUSINESS = [PermanentFileStatus.value.Pending, PermanentFileStatus.value.Active];
const ZERO = "0x0000000000000000000000000000000000000000";
const ZERO_ROOT = `0x${"0".repeat(64)}`;

/** How the duty reaches other agents (tests pass in-process clients). */
export interface PermanentDeps {
  stagingClient?: (endpoint: string) => Pick<PermanentAgentClient, "stagedPiece">;
  pieceClient?: (endpoint: string) => Pick<AgentClient, "pieceBody">;
}

/** What one tick did (file id, slot index). */
export interface PermanentResult {
  offered: { fileId: bigint; index: number; price: bigint }[];
  awarded: { fileId: bigint; index: number }[];
  fetched: { fileId: bigint; index: number; from: string }[];
  created: { fileId: bigint; index: number; dataSetId: bigint }[];
  placed: { fileId: bigint; index: number; dataSetId: bigint }[];
  confirmed: { fileId: bigint; index: number }[];
  renewed: { fileId: bigint; index: number }[];
  /** Empty data sets this agent created for a slot it then lost before placing: terminated (no fee on no bytes). */
  released: { fileId: bigint; index: number; dataSetId: bigint }[];
  /** Slots whose part ended: outbid, lapsed, lost, failed. */
  ended: { fileId: bigint; index: number; state: PermanentSlotRecord["state"] }[];
  /** Files looked at by the offer scan. */
  scanned: bigint[];
  /** Permissionless steps taken for other providers' slots (they reopen slots). */
  kept: { fileId: bigint; index: number; action: "award" | "reportLost" }[];
}

type Config = IPermanentStorage.ConfigStructOutput;
type Slot = IPermanentStorage.SlotStructOutput;

interface TickView {
  perm: PermanentStorage;
  config: Config;
  now: bigint;
  ceiling: bigint;
  result: PermanentResult;
}

const configs = new WeakMap<AgentContext, Config>();

/** Run the duty once; does nothing unless `permanent.enabled` and the deployment has a PermanentStorage. */
export async function runPermanent(ctx: AgentContext, deps: PermanentDeps = {}): Promise<PermanentResult> {
  const result: PermanentResult = {
    offered: [],
    awarded: [],
    fetched: [],
    created: [],
    placed: [],
    confirmed: [],
    renewed: [],
    released: [],
    ended: [],
    scanned: [],
    kept: [],
  };
  const perm = permanentContract(ctx);
  if (!ctx.config.permanent.enabled || perm === undefined) return result;
  let config = configs.get(ctx);
  if (config === undefined) {
    config = await perm.config(); // immutable
    configs.set(ctx, config);
  }
  const [now, reference] = await Promise.all([ctx.chain.now(), perm.referencePrice()]);
  const view: TickView = {
    perm,
    config,
    now,
    ceiling: (reference * config.maxPriceBps) / 10_000n,
    result,
  };
  for (const record of ctx.db.permanent.slotsIn(ACTIVE_SLOT_STATES)) {
    try {
      await advanceSlot(ctx, view, record, deps);
    } catch (error) {
      ctx.logger.error(
        { err: error, revert: decodeRevert(error)?.name, fileId: record.fileId, index: record.index },
        "permanent slot step failed; retrying next tick",
      );
    }
  }
  await scanForOffers(ctx, view);
  return result;
}

// ------------------------------------------------------------------ one slot

function end(
  ctx: AgentContext,
  view: TickView,
  record: PermanentSlotRecord,
  state: "outbid" | "lapsed" | "lost" | "failed",
  note: string,
) {
  ctx.db.permanent.putSlot({ ...record, state, note });
  view.result.ended.push({ fileId: record.fileId, index: record.index, state });
  ctx.logger.info({ fileId: record.fileId, index: record.index, state, note }, "permanent slot ended");
}

/**
 * A slot lost after its data set was created but before the piece was placed (the award ran out, or the file ended)
 * leaves an empty data set that would keep counting against this provider's proof bond: terminate it (the fee is a
 * share of the collateral of no bytes: nothing) so the settler finalizes it after its notice. A failure throws, and
 * the slot's record stays as it is until a later tick succeeds.
 */
async function releaseEmptyDataSet(
  ctx: AgentContext,
  view: TickView,
  record: PermanentSlotRecord,
): Promise<void> {
  if (record.state !== "created" || record.dataSetId === null) return;
  const id = record.dataSetId;
  const onChain = await ctx.chain.market.dataSet(id);
  if (onChain.status !== MarketDataSetStatus.value.Live || onChain.span !== 0n) return;
  if (ctx.db.dataSets.newestState(id) !== undefined) return; // a state with the piece exists: not empty for long
  await ctx.chain.execute(
    () => ctx.chain.market.terminateDataSet.staticCall(id),
    () => ctx.chain.market.terminateDataSet(id),
  );
  view.result.released.push({ fileId: record.fileId, index: record.index, dataSetId: id });
  ctx.logger.info(
    { fileId: record.fileId, index: record.index, dataSetId: id },
    "empty data set of a lost permanent slot terminated",
  );
}

function isMe(ctx: AgentContext, address: string): boolean {
  return address.toLowerCase() === ctx.chain.me.toLowerCase();
}

async function advanceSlot(
  ctx: AgentContext,
  view: TickView,
  start: PermanentSlotRecord,
  deps: PermanentDeps,
): Promise<void> {
  const { perm } = view;
  const { fileId, index } = start;
  let record = start;
  const [file, read] = await Promise.all([perm.file(fileId), perm.slot(fileId, index)]);
  let slot = read;
  if (!IN_BUSINESS.includes(file.status)) {
    await releaseEmptyDataSet(ctx, view, record);
    ctx.db.permanent.dropStaged(fileId);
    end(ctx, view, record, "lost", `the file is ${PermanentFileStatus.nameOf(file.status) ?? file.status}`);
    return;
  }
  const mine = isMe(ctx, slot.provider);

  if (record.state === "offered") {
    if (slot.stage === STAGE.Open && mine) {
      if (view.now <= slot.deadline) return; // offers still open
      const receipt = await send(
        ctx,
        () => perm.award.staticCall(fileId, index),
        () => perm.award(fileId, index),
      );
      if (emitted(perm, receipt, "OfferLapsed")) {
        end(ctx, view, record, "lapsed", "won another piece of the file");
        return;
      }
      record = { ...record, state: "awarded" };
      ctx.db.permanent.putSlot(record);
      view.result.awarded.push({ fileId, index });
      slot = await perm.slot(fileId, index);
    } else if (slot.stage === STAGE.Awarded && mine) {
      record = { ...record, state: "awarded" };
      ctx.db.permanent.putSlot(record);
      view.result.awarded.push({ fileId, index });
    } else if (!mine) {
      end(ctx, view, record, "outbid", `best offer ${slot.price} by ${slot.provider}`);
      return;
    } else {
      return; // placed or live for us without our record: the next steps pick it up
    }
  }

  if (!mine) {
    await releaseEmptyDataSet(ctx, view, record);
    end(
      ctx,
      view,
      record,
      "lost",
      `the slot is ${PermanentSlotStage.nameOf(slot.stage) ?? String(slot.stage)} without us`,
    );
    return;
  }

  if (record.state === "awarded") {
    if (slot.stage !== STAGE.Awarded) {
      end(ctx, view, record, "lost", "the award was not followed by a data set in time");
      return;
    }
    const piece = await ensurePiece(ctx, view, fileId, index, file.piecesRoot, file.pieceSpan, deps);
    const terms = await awardedTerms(ctx, perm, fileId, index);
    const receipt = await send(
      ctx,
      () => ctx.chain.market.createDataSet.staticCall(terms, "0x"),
      () => ctx.chain.market.createDataSet(terms, "0x"),
    );
    const dataSetId = createdId(ctx, receipt);
    ctx.db.dataSets.insertDataSet({
      id: dataSetId,
      client: terms.client,
      nonce: terms.nonce,
      terms,
      signature: "0x",
      txHash: receipt.hash,
    });
    if (ctx.db.getKv(FIRST_DATA_SET_BLOCK_KEY) === undefined) {
      ctx.db.setKv(FIRST_DATA_SET_BLOCK_KEY, String(receipt.blockNumber));
    }
    record = { ...record, state: "created", dataSetId, pieceRoot: piece.root };
    ctx.db.permanent.putSlot(record);
    view.result.created.push({ fileId, index, dataSetId });
  }

  if (record.state === "created") {
    const dataSetId = need(record.dataSetId);
    const piece = ctx.db.permanent.staged(fileId, index);
    if (piece === undefined)
      throw new StrataError("INTERNAL_INVARIANT", `piece ${index} of file ${fileId} is gone`);
    if (slot.stage === STAGE.Awarded) {
      await send(
        ctx,
        () => perm.place.staticCall(fileId, index, piece.root, piece.proof, dataSetId),
        () => perm.place(fileId, index, piece.root, piece.proof, dataSetId),
      );
    }
    if (ctx.db.dataSets.newestState(dataSetId) === undefined) {
      const { layout, piece: placed } = placePiece(EMPTY_LAYOUT, piece.root, pieceHeight(piece.size));
      const dataSet = ctx.db.dataSets.dataSet(dataSetId);
      if (dataSet === undefined)
        throw new StrataError("INTERNAL_INVARIANT", `data set ${dataSetId} is not recorded`);
      // The contract approved exactly this state when the piece was placed: an empty signature is its ERC-1271 one.
      await applyStateChange(ctx, dataSet, {
        state: { dataSetId, version: 1n, root: dataSetRoot(layout), span: BigInt(layoutSpan(layout)) },
        signature: "0x",
        add: [{ root: placed.root, size: piece.size, offset: placed.offset, height: placed.height }],
        remove: [],
      });
    }
    record = { ...record, state: "placed" };
    ctx.db.permanent.putSlot(record);
    view.result.placed.push({ fileId, index, dataSetId });
    return; // the state goes on chain with the next updateDataSets, then a period must be proven
  }

  if (record.state === "placed") {
    if (slot.stage === STAGE.Placed) {
      const proven = await perm.confirm.staticCall(fileId, index).then(
        () => true,
        () => false,
      );
      if (!proven) return;
      await send(
        ctx,
        () => perm.confirm.staticCall(fileId, index),
        () => perm.confirm(fileId, index),
      );
    }
    record = { ...record, state: "live" };
    ctx.db.permanent.putSlot(record);
    view.result.confirmed.push({ fileId, index });
    ctx.logger.info({ fileId, index, dataSetId: record.dataSetId }, "permanent piece live");
    return;
  }

  if (record.state === "live") {
    if (slot.stage !== STAGE.Live) {
      end(ctx, view, record, "lost", "the slot is no longer live");
      return;
    }
    const due = await perm.renew.staticCall(fileId, index).then(
      () => true,
      () => false,
    );
    if (!due) return;
    await send(
      ctx,
      () => perm.renew.staticCall(fileId, index),
      () => perm.renew(fileId, index),
    );
    view.result.renewed.push({ fileId, index });
  }
}

/** The creation terms the contract approved at award (from its SlotAwarded event). */
async function awardedTerms(ctx: AgentContext, perm: PermanentStorage, fileId: bigint, index: number) {
  const from = Number(ctx.db.getKv(FIRST_OFFER_BLOCK_KEY) ?? "0");
  const events = await perm.queryFilter(perm.filters.SlotAwarded(fileId, index), from);
  const last = events[events.length - 1];
  if (last === undefined)
    throw new StrataError("INTERNAL_INVARIANT", `no SlotAwarded for piece ${index} of ${fileId}`);
  const t = last.args.terms;
  return {
    client: getAddress(t.client),
    provider: getAddress(t.provider),
    pricePerTiBMonth: t.pricePerTiBMonth,
    collateralPerTiB: t.collateralPerTiB,
    noticePeriods: t.noticePeriods,
    nonce: t.nonce,
    deadline: t.deadline,
  };
}

/**
 * The piece of slot `index`: staged here, or fetched from a registered agent staging it. A fetched piece is
 * checked against its list proof and its commitment before it is kept (and staged here too, for the next winner).
 */
async function ensurePiece(
  ctx: AgentContext,
  view: TickView,
  fileId: bigint,
  index: number,
  piecesRoot: string,
  span: bigint,
  deps: PermanentDeps,
): Promise<StagedPiece> {
  const staged = ctx.db.permanent.staged(fileId, index);
  if (staged !== undefined && ctx.db.piece(staged.root)?.ok === true) return staged;
  const { registry } = ctx.chain;
  const count = await registry.providerCount();
  const stagingClient =
    deps.stagingClient ??
    ((endpoint: string) =>
      createPermanentAgentClient(endpoint, { timeoutMs: ctx.config.permanent.fetchTimeoutMs }));
  const pieceClient =
    deps.pieceClient ??
    ((endpoint: string) => createAgentClient(endpoint, { timeoutMs: ctx.config.permanent.fetchTimeoutMs }));
  const problems: string[] = [];
  for (let i = 0n; i < count; i++) {
    const provider = await registry.providerAt(i);
    if (isMe(ctx, provider)) continue;
    const info = await registry.providerInfo(provider);
    if (!info.registered || info.endpoint === "") continue;
    try {
      const offer = await stagingClient(info.endpoint).stagedPiece(fileId, index);
      const leaf = pieceLeaf({ index, pieceRoot: offer.root, span, dataSetId: 0n });
      if (
        1n << BigInt(pieceHeight(offer.size)) !== span ||
        !verifyPieceProof(leaf, offer.proof, piecesRoot)
      ) {
        problems.push(`${provider}: its piece is not piece ${index} of the file`);
        continue;
      }
      const piece: StagedPiece = { fileId, index, root: offer.root, size: offer.size, proof: offer.proof };
      // Streamed into the piece store, which checks the commitment as the bytes arrive: never held whole.
      const kept = await keepPiece(
        ctx,
        piece,
        Readable.from(pieceClient(info.endpoint).pieceBody(offer.root, offer.size)),
      );
      if (kept !== null) {
        problems.push(`${provider}: ${kept}`);
        continue;
      }
      view.result.fetched.push({ fileId, index, from: provider });
      ctx.logger.info({ fileId, index, from: provider, size: offer.size }, "permanent piece fetched");
      return piece;
    } catch (error) {
      problems.push(`${provider}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  // Nobody stages it (a re-placement long after upload, or a first placement once the uploader's stagings are
  // gone): rebuild it from k holders, checked against the commitments on chain and the file's piece list.
  try {
    const { perm, config } = view;
    const n = Number(config.totalShards);
    const slots = await Promise.all(Array.from({ length: n }, (_, i) => perm.slot(fileId, i)));
    const rebuilt = await withScratch(ctx.config.dataDir, async (dir) => {
      const out = path.join(dir, "rebuilt");
      const made = await rebuildPermanentPiece({
        index,
        k: Number(config.dataShards),
        n,
        pieceSpan: span,
        piecesRoot,
        slots: slots.map((s) => ({
          pieceRoot: s.pieceRoot === ZERO_ROOT ? null : s.pieceRoot,
          holder:
            (s.stage === STAGE.Live || s.stage === STAGE.Placed) && s.provider !== ZERO ? s.provider : null,
        })),
        download: async (holder, root, size, file) => {
          const info = await registry.providerInfo(holder);
          await fetchPieceFile(pieceClient(info.endpoint), root, size, file);
        },
        dir,
        out,
      });
      const piece: StagedPiece = { fileId, index, root: made.root, size: made.size, proof: made.proof };
      return { piece, kept: await keepPiece(ctx, piece, createReadStream(out)) };
    });
    const { piece, kept } = rebuilt;
    if (kept === null) {
      view.result.fetched.push({ fileId, index, from: "rebuilt" });
      ctx.logger.info({ fileId, index, size: piece.size }, "permanent piece rebuilt from its holders");
      return piece;
    }
    problems.push(`rebuilt: ${kept}`);
  } catch (error) {
    problems.push(`rebuild: ${error instanceof Error ? error.message : String(error)}`);
  }
  throw new StrataError("PIECES_UNAVAILABLE", `no agent stages piece ${index} of permanent file ${fileId}`, {
    details: problems.join("; "),
  });
}

/** Write a fetched or rebuilt piece (the store checks its commitment) and stage it here; the problem, or null. */
async function keepPiece(ctx: AgentContext, piece: StagedPiece, body: Readable): Promise<string | null> {
  // A fetch or rebuild that fails part-way is not an upload to resume: what arrived is dropped.
  const written = await ctx.pieces.write(piece.root, piece.size, body).catch(async (error: unknown) => {
    await ctx.pieces.dropUpload(piece.root, piece.size);
    throw error;
  });
  if (!written.ok) {
    await ctx.pieces.dropUpload(piece.root, piece.size);
    return written.reason;
  }
  ctx.db.tx(() => {
    ctx.db.putPiece({
      root: piece.root,
      size: BigInt(piece.size),
      path: written.path,
      ok: true,
      problem: null,
      verifiedAt: ctx.clock(),
    });
    ctx.db.permanent.putStaged(piece);
  });
  return null;
}

// ------------------------------------------------------------------ offers

async function scanForOffers(ctx: AgentContext, view: TickView): Promise<void> {
  const { perm, config } = view;
  const policy = ctx.config.permanent;
  const count = await perm.fileCount();
  if (count === 0n) return;
  if (policy.pricePerTiBMonth > view.ceiling) {
    ctx.logger.debug(
      { price: policy.pricePerTiBMonth, ceiling: view.ceiling },
      "permanent price above the ceiling",
    );
    return;
  }
  let cursor = BigInt(ctx.db.getKv(SCAN_CURSOR_KEY) ?? "0");
  const looks = Math.min(policy.filesPerTick, Number(count));
  for (let i = 0; i < looks; i++) {
    cursor = cursor >= count ? 1n : cursor + 1n;
    view.result.scanned.push(cursor);
    try {
      await considerFile(ctx, view, cursor, Number(config.totalShards));
    } catch (error) {
      ctx.logger.error(
        { err: error, revert: decodeRevert(error)?.name, fileId: cursor },
        "permanent offer failed",
      );
    }
  }
  ctx.db.setKv(SCAN_CURSOR_KEY, cursor.toString());
}

/** Offer for one open slot of `fileId` when this provider has no part in the file yet. */
async function considerFile(ctx: AgentContext, view: TickView, fileId: bigint, n: number): Promise<void> {
  const { perm } = view;
  const file = await perm.file(fileId);
  if (!IN_BUSINESS.includes(file.status)) return;
  const slots: Slot[] = await Promise.all(Array.from({ length: n }, (_, i) => perm.slot(fileId, i)));
  await keepSlotsMoving(ctx, view, fileId, slots);
  if (ctx.db.permanent.activeSlot(fileId) !== undefined) return;
  const price = ctx.config.permanent.pricePerTiBMonth;
  if (file.pieceSpan * 64n > ctx.config.permanent.maxPieceBytes) return;
  if (slots.some((s) => s.stage !== STAGE.Open && isMe(ctx, s.provider))) return; // holds one already
  const candidates = slots
    .map((slot, index) => ({ slot, index }))
    .filter(
      ({ slot }) =>
        slot.stage === STAGE.Open &&
        // The provider that lost a piece may offer again only after one offer window (others come first).
        !(isMe(ctx, slot.lastProvider) && view.now <= slot.barredUntil) &&
        !isMe(ctx, slot.provider) &&
        (slot.deadline === 0n || view.now < slot.deadline) &&
        (slot.price === 0n || price < slot.price),
    );
  if (candidates.length === 0) return;
  // A piece staged here first (no fetch), then a slot nobody offered for yet, then the dearest best offer.
  const rank = ({ slot, index }: { slot: Slot; index: number }) =>
    ctx.db.permanent.staged(fileId, index) !== undefined ? 0 : slot.provider === ZERO ? 1 : 2;
  candidates.sort(
    (a, b) => rank(a) - rank(b) || (a.slot.price > b.slot.price ? -1 : a.slot.price < b.slot.price ? 1 : 0),
  );
  const chosen = candidates[0];
  if (chosen === undefined) return;
  const receipt = await send(
    ctx,
    () => perm.offer.staticCall(fileId, chosen.index, price),
    () => perm.offer(fileId, chosen.index, price),
  );
  if (ctx.db.getKv(FIRST_OFFER_BLOCK_KEY) === undefined) {
    ctx.db.setKv(FIRST_OFFER_BLOCK_KEY, String(receipt.blockNumber));
  }
  ctx.db.permanent.putSlot({
    fileId,
    index: chosen.index,
    state: "offered",
    price,
    dataSetId: null,
    pieceRoot: null,
    note: null,
  });
  view.result.offered.push({ fileId, index: chosen.index, price });
  ctx.logger.info({ fileId, index: chosen.index, price }, "permanent offer made");
}

/**
 * The permissionless steps nobody else takes for other providers' slots, which reopen slots this provider may win:
 * award a closed offer whose provider does not (its award then times out), and report a piece lost (a holder whose
 * data set ended, an award not placed, a placement not proven in time). Each is simulated first: only what the
 * contract accepts is sent.
 */
async function keepSlotsMoving(
  ctx: AgentContext,
  view: TickView,
  fileId: bigint,
  slots: readonly Slot[],
): Promise<void> {
  const { perm } = view;
  for (const [index, slot] of slots.entries()) {
    if (isMe(ctx, slot.provider)) continue;
    if (slot.stage === STAGE.Open) {
      // The winner awards its own slot; a winner that has not done so a while after the window is absent.
      if (slot.price === 0n || view.now <= slot.deadline + AWARD_GRACE_SECONDS) continue;
      const ok = await perm.award.staticCall(fileId, index).then(
        () => true,
        () => false,
      );
      if (!ok) continue;
      await send(
        ctx,
        () => perm.award.staticCall(fileId, index),
        () => perm.award(fileId, index),
      );
      view.result.kept.push({ fileId, index, action: "award" });
      ctx.logger.info({ fileId, index, winner: slot.provider }, "permanent slot awarded for its winner");
    } else {
      const lost = await perm.reportLost.staticCall(fileId, index).then(
        () => true,
        () => false,
      );
      if (!lost) continue;
      await send(
        ctx,
        () => perm.reportLost.staticCall(fileId, index),
        () => perm.reportLost(fileId, index),
      );
      view.result.kept.push({ fileId, index, action: "reportLost" });
      ctx.logger.info(
        { fileId, index, provider: slot.provider },
        "permanent piece reported lost; the slot reopens",
      );
    }
  }
}

// ------------------------------------------------------------------ helpers

function send(
  ctx: AgentContext,
  simulate: () => Promise<unknown>,
  sendTx: () => ReturnType<PermanentStorage["offer"]>,
): Promise<ContractTransactionReceipt> {
  return ctx.chain.execute(simulate, sendTx);
}

function emitted(perm: PermanentStorage, receipt: ContractTransactionReceipt, name: string): boolean {
  return receipt.logs.some((log) => perm.interface.parseLog(log)?.name === name);
}

function createdId(ctx: AgentContext, receipt: ContractTransactionReceipt): bigint {
  for (const log of receipt.logs) {
    const parsed = ctx.chain.market.interface.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed?.name === "DataSetCreated") return parsed.args.getValue("id") as bigint;
  }
  throw new StrataError("CHAIN_REVERT", "createDataSet was mined without a DataSetCreated event");
}

function need(id: bigint | null): bigint {
  if (id === null) throw new StrataError("INTERNAL_INVARIANT", "a created permanent slot has no data set id");
  return id;
}
