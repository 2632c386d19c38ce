/**
 * Retrieval responder duty: answer on-chain retrieval challenges against this provider before their deadline.
 *
 * 1. New RetrievalChallengeOpened events for this provider are recorded (the log scan resumes from a cursor in
 *    the database, re-reading a few blocks to survive short reorgs; it starts at the agent's first upload).
 * 2. For each challenge not yet settled locally, the contract's view decides: answered, failed or voided
 *    challenges are recorded as such; an open one is answered before its deadline with the leaf and its path
 *    against the root the challenge names (the data set's root when it was opened), from the layout the agent
 *    holds for that root and the pieces on disk (padding and gap leaves open as zeros).
 * 3. The bonds credited for answers are withdrawn.
 * A piece that is missing or corrupt cannot be answered: that is logged once (the data set will be ended and slashed
 * when anyone enforces the challenge) and the challenge is retried only if the piece file comes back in time.
 */
import type { IRetrievalChallenges } from "../../../typechain-types/index.js";
import { ChallengeStatus } from "../../sdk/chain/enums.js";
import { StrataError } from "../../sdk/errors.js";
import { decodeRevert } from "../chain.js";
import type { AgentContext } from "../context.js";
import { pieceReader, stateTree } from "../datasets/openings.js";
import type { RetrievalChallengeRecord, RetrievalStatus, StateRecord } from "../db.js";
import type { Logger } from "../../runtime/logger.js";
import { ZERO_LEAF, type LeafWords } from "../../sdk/datasets/proofAnswer.js";
import { FIRST_DATA_SET_BLOCK_KEY } from "../datasets/store.js";

/** IRetrievalChallenges.Status */
const ChainStatus = ChallengeStatus.value;

/** Database key of the last block scanned for RetrievalChallengeOpened events. */
export const RETRIEVAL_CURSOR_KEY = "retrieval.scannedBlock";
/** Blocks re-read on every scan, so a challenge in a block replaced by a short reorg is still seen. */
const REORG_MARGIN = 12;
/** Blocks per log query (public RPCs cap the range of eth_getLogs). */
const SCAN_STEP = 5_000;
/** Log queries per tick at most: a far-behind cursor catches up over a few ticks, without stalling them. */
const SCAN_QUERIES_PER_TICK = 20;
/**
 * The cursor is written to the database when it moved this many blocks (or a challenge was found), not on every
 * tick: each write is a synchronous, fsynced commit on the agent's only thread, which stalls the uploads it is
 * receiving. After a restart the scan repeats at most these blocks (recording a challenge twice is a no-op).
 */
const CURSOR_SAVE_BLOCKS = 256;

/** Local statuses still needing attention each tick. */
const PENDING: readonly RetrievalStatus[] = ["open", "sending", "sent", "unanswerable"];

export interface RetrievalResponderState {
  /** The missing-contract warning is logged once per process. */
  warnedNoContract: boolean;
  /** The last block scanned, when newer than the database's cursor (see CURSOR_SAVE_BLOCKS). */
  scannedBlock?: number;
}

export interface RetrievalResult {
  /** False when the deployment has no retrieval-challenge contract (nothing to do). */
  enabled: boolean;
  discovered: bigint[];
  answered: bigint[];
  /** Challenges that cannot be answered because the piece is missing or corrupt. */
  unanswerable: bigint[];
  /** Challenges whose deadline passed unanswered. */
  missed: bigint[];
  /** Bonds withdrawn to the provider's wallet. */
  withdrawn: bigint;
}

type Contract = IRetrievalChallenges;

export async function runRetrievalResponder(
  ctx: AgentContext,
  state: RetrievalResponderState,
): Promise<RetrievalResult> {
  const log = ctx.logger.child({ duty: "retrieval" });
  const result: RetrievalResult = {
    enabled: false,
    discovered: [],
    answered: [],
    unanswerable: [],
    missed: [],
    withdrawn: 0n,
  };
  const contract = ctx.chain.retrievalChallenges;
  if (!contract) {
    if (!state.warnedNoContract) {
      log.warn(
        "the deployment has no retrieval-challenge contract (deployment.retrievalChallenges): " +
          "retrieval challenges are not watched",
      );
      state.warnedNoContract = true;
    }
    return result;
  }
  result.enabled = true;
  result.discovered = await discover(ctx, contract, state, log);
  for (const record of ctx.db.retrievalChallenges(PENDING)) {
    const outcome = await handle(ctx, contract, record, log);
    if (outcome === "answered") result.answered.push(record.id);
    else if (outcome === "unanswerable") result.unanswerable.push(record.id);
    else if (outcome === "missed") result.missed.push(record.id);
  }
  if (result.answered.length > 0) result.withdrawn = await withdrawBonds(ctx, contract, log);
  return result;
}

/** Record RetrievalChallengeOpened events for this provider since the cursor. */
async function discover(
  ctx: AgentContext,
  contract: Contract,
  state: RetrievalResponderState,
  log: Logger,
): Promise<bigint[]> {
  const { chain, db } = ctx;
  const latest = await chain.blockNumber();
  const stored = db.getKv(RETRIEVAL_CURSOR_KEY);
  // Nothing about this provider's data sets can predate its first one.
  const first = db.getKv(FIRST_DATA_SET_BLOCK_KEY);
  const saved = stored === undefined ? (first === undefined ? latest : Number(first)) - 1 : Number(stored);
  const scanned = Math.max(saved, state.scannedBlock ?? saved);
  let from = Math.max(0, scanned + 1 - REORG_MARGIN);
  const found: bigint[] = [];
  const filter = contract.filters.RetrievalChallengeOpened(undefined, undefined, chain.me);
  for (let query = 0; query < SCAN_QUERIES_PER_TICK && from <= latest; query++) {
    const to = Math.min(latest, from + SCAN_STEP - 1);
    for (const event of await contract.queryFilter(filter, from, to)) {
      const { challengeId, dataSetId, challenger, leafIndex, deadline, bond } = event.args;
      const inserted = db.insertRetrievalChallenge({
        id: challengeId,
        dataSetId,
        leafIndex: Number(leafIndex),
        deadline,
        bond,
        challenger,
        openedBlock: event.blockNumber,
      });
      if (inserted) {
        found.push(challengeId);
        log.warn(
          { challengeId, dataSetId, leafIndex, deadline, bond, challenger, txHash: event.transactionHash },
          "retrieval challenge opened against this provider",
        );
      }
    }
    state.scannedBlock = to;
    if (found.length > 0 || stored === undefined || to - saved >= CURSOR_SAVE_BLOCKS)
      db.setKv(RETRIEVAL_CURSOR_KEY, String(to));
    from = to + 1;
  }
  return found;
}

type Outcome = "answered" | "unanswerable" | "missed" | "settled" | "waiting";

/** Bring one pending challenge forward; returns what happened to it this tick. */
async function handle(
  ctx: AgentContext,
  contract: Contract,
  record: RetrievalChallengeRecord,
  log: Logger,
): Promise<Outcome> {
  const { db, chain } = ctx;
  const id = record.id;
  const onChain = await contract.challengeOf(id);
  const now = await chain.now();
  switch (onChain.status) {
    case ChainStatus.Answered:
      // Our answer landed after the tick that sent it ended (a crash, or a receipt wait that timed out).
      db.setRetrievalStatus(id, "answered", { error: null });
      log.info({ challengeId: id, txHash: record.txHash }, "retrieval challenge answered");
      return "settled";
    case ChainStatus.Failed:
      db.setRetrievalStatus(id, "failed");
      log.error(
        { challengeId: id, dataSetId: record.dataSetId },
        "retrieval challenge enforced: the data set was ended and its collateral slashed",
      );
      return "settled";
    case ChainStatus.Voided:
      db.setRetrievalStatus(id, "voided");
      log.info(
        { challengeId: id, dataSetId: record.dataSetId },
        "retrieval challenge voided (the data set had ended)",
      );
      return "settled";
    case ChainStatus.None:
      // Seen in a log that a reorg removed: wait for it to reappear until its deadline.
      if (now > record.deadline) db.setRetrievalStatus(id, "dropped");
      return "waiting";
    case ChainStatus.Open:
      break;
    default:
      throw new StrataError("CHAIN_REVERT", `retrieval challenge ${id} has unknown status ${onChain.status}`);
  }
  if (onChain.provider.toLowerCase() !== chain.me.toLowerCase() || onChain.dataSetId !== record.dataSetId) {
    db.setRetrievalStatus(id, "dropped", { error: "the chain's challenge differs from the event seen" });
    return "settled";
  }
  if (now >= onChain.deadline) {
    if (record.status !== "unanswerable") {
      log.error(
        { challengeId: id, dataSetId: record.dataSetId, deadline: onChain.deadline },
        "retrieval challenge deadline passed unanswered; the data set will be slashed when it is enforced",
      );
    }
    db.setRetrievalStatus(id, "missed");
    return "missed";
  }
  if (await answerInFlight(ctx, record, log)) return "waiting";
  return answer(
    ctx,
    contract,
    record,
    { leaf: onChain.leafIndex, root: onChain.root, depth: Number(onChain.depth) },
    log,
  );
}

/** True while an answer sent earlier may still land (never send a second one meanwhile). */
async function answerInFlight(
  ctx: AgentContext,
  record: RetrievalChallengeRecord,
  log: Logger,
): Promise<boolean> {
  const { provider, me } = ctx.chain;
  if (record.status === "sent" && record.txHash !== null) {
    if (await provider.getTransactionReceipt(record.txHash)) return false; // mined, and the challenge is open
    if (await provider.getTransaction(record.txHash)) {
      log.info({ challengeId: record.id, txHash: record.txHash }, "answer transaction still pending");
      return true;
    }
    return false;
  }
  if (record.status !== "sending") return false;
  // Recorded as being sent but no hash: a crash mid-send. Wait while our transactions are pending.
  const [latest, pending] = await Promise.all([
    provider.getTransactionCount(me, "latest"),
    provider.getTransactionCount(me, "pending"),
  ]);
  return pending > latest;
}

/** What the challenge asks: a leaf of the data set under `root` (its root when the challenge opened). */
interface Asked {
  leaf: bigint;
  root: string;
  depth: number;
}

async function answer(
  ctx: AgentContext,
  contract: Contract,
  record: RetrievalChallengeRecord,
  asked: Asked,
  log: Logger,
): Promise<Outcome> {
  const { db, chain } = ctx;
  const id = record.id;
  const held = stateWithRoot(ctx, record.dataSetId, asked.root);
  if (held === undefined) {
    db.setRetrievalStatus(id, "skipped", { error: "no layout with the challenged root" });
    log.error(
      { challengeId: id, dataSetId: record.dataSetId, root: asked.root },
      "retrieval challenge against a root this agent holds no layout for; it cannot be answered",
    );
    return "settled";
  }
  if (record.status === "unanswerable" && !(await piecesBack(ctx, record, held))) return "waiting";
  let opened: { leaf: LeafWords; path: readonly string[] };
  try {
    opened = await openLeaf(ctx, held, asked);
  } catch (error) {
    if (!(error instanceof StrataError)) throw error;
    if (error.code !== "PIECE_NOT_FOUND" && error.code !== "PIECE_CORRUPT") throw error;
    const problem = error.code === "PIECE_NOT_FOUND" ? "missing" : "corrupt";
    if (record.status !== "unanswerable" || record.error !== problem) {
      log.error(
        { challengeId: id, dataSetId: record.dataSetId, problem, deadline: record.deadline },
        "cannot answer a retrieval challenge: a piece is lost; the data set will be slashed when the challenge is enforced",
      );
    }
    db.setRetrievalStatus(id, "unanswerable", { error: problem });
    return "unanswerable";
  }

  const leaf: [string, string] = [opened.leaf[0], opened.leaf[1]];
  const path = [...opened.path];
  db.setRetrievalStatus(id, "sending", { txHash: null, error: null });
  try {
    const receipt = await chain.execute(
      () => contract.answerChallenge.staticCall(id, leaf, path),
      () => contract.answerChallenge(id, leaf, path),
      (hash) => {
        db.setRetrievalStatus(id, "sent", { txHash: hash });
      },
    );
    db.setRetrievalStatus(id, "answered", { txHash: receipt.hash });
    log.info(
      {
        challengeId: id,
        dataSetId: record.dataSetId,
        leaf: asked.leaf,
        bond: record.bond,
        txHash: receipt.hash,
        gasUsed: receipt.gasUsed,
      },
      "retrieval challenge answered",
    );
    return "answered";
  } catch (error) {
    const revert = decodeRevert(error)?.name;
    db.setRetrievalStatus(id, "open", { txHash: null, error: revert ?? String(error) });
    log.error(
      { err: error, challengeId: id, dataSetId: record.dataSetId, revert },
      "answering a retrieval challenge failed",
    );
    return "waiting";
  }
}

/** The newest stored state of data set `id` whose root is `root`. */
function stateWithRoot(ctx: AgentContext, id: bigint, root: string): StateRecord | undefined {
  const newest = ctx.db.dataSets.newestState(id);
  for (let version = newest?.state.version ?? 0n; version > 0n; version--) {
    const state = ctx.db.dataSets.state(id, version);
    if (state?.state.root === root.toLowerCase()) return state;
  }
  return undefined;
}

/** Leaf `asked.leaf` of `held` and its path (exactly `asked.depth` siblings). */
async function openLeaf(
  ctx: AgentContext,
  held: StateRecord,
  asked: Asked,
): Promise<{ leaf: LeafWords; path: readonly string[] }> {
  const tree = stateTree(held);
  if (tree.depth !== asked.depth) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `the layout has depth ${tree.depth}, the challenge ${asked.depth}`,
    );
  }
  const reader = pieceReader(ctx.pieces, held);
  const opened = await tree.leafPath(Number(asked.leaf), reader.siblings);
  const piece = tree.layout.pieces[opened.pieceIndex];
  const leaf =
    piece === undefined ? ZERO_LEAF : await reader.leaf(opened.pieceIndex, opened.leafInPiece, piece);
  return { leaf, path: opened.path };
}

/**
 * Whether the pieces of an unanswerable challenge may be back: a missing file is checked cheaply (present with
 * the right size); a corrupt one only once the piece health checks have re-hashed it as good.
 */
async function piecesBack(
  ctx: AgentContext,
  record: RetrievalChallengeRecord,
  held: StateRecord,
): Promise<boolean> {
  for (const piece of held.layout) {
    if (record.error === "corrupt") {
      if (ctx.db.piece(piece.root)?.ok !== true) return false;
    } else if (!(await ctx.pieces.present(piece.root, BigInt(piece.size))).ok) {
      return false;
    }
  }
  return true;
}

/** Withdraw the provider's balance in the retrieval contract's ledger (answered bonds). */
async function withdrawBonds(ctx: AgentContext, contract: Contract, log: Logger): Promise<bigint> {
  const balance = await contract.balanceOf(ctx.chain.me);
  if (balance === 0n) return 0n;
  try {
    const receipt = await ctx.chain.execute(
      () => contract.withdraw.staticCall(balance),
      () => contract.withdraw(balance),
    );
    log.info({ amount: balance, txHash: receipt.hash }, "retrieval bonds withdrawn");
    return balance;
  } catch (error) {
    log.error({ err: error, revert: decodeRevert(error)?.name }, "withdrawing retrieval bonds failed");
    return 0n;
  }
}
