/**
 * Retrieval responder duty: answer on-chain retrieval challenges against this provider before their deadline.
 *
 * 1. New RetrievalChallengeOpened events for this provider are recorded (the log scan resumes from a cursor in
 *    the database, re-reading a few blocks to survive short reorgs; it starts at the agent's first upload).
 * 2. For each challenge not yet settled locally, the contract's view decides: answered, failed or voided
 *    challenges are recorded as such; an open one is answered before its deadline with the leaf and its path
 *    read from the piece on disk, and the deal's current terms (after extensions).
 * 3. The bonds credited for answers are withdrawn.
 * A piece that is missing or corrupt cannot be answered: that is logged once (the deal will be slashed when
 * anyone enforces the challenge) and the challenge is retried only if the piece file comes back in time.
 */
import type { IRetrievalChallenges } from "../../../typechain-types/index.js";
import { ChallengeStatus } from "../../sdk/chain/enums.js";
import { StrataError } from "../../sdk/errors.js";
import { termsHash } from "../../sdk/deals/terms.js";
import { decodeRevert } from "../chain.js";
import type { AgentContext } from "../context.js";
import type { DealRecord, RetrievalChallengeRecord, RetrievalStatus } from "../db.js";
import type { LeafProof } from "../leafProofs.js";
import type { Logger } from "../../runtime/logger.js";
import { syncDeals } from "./dealSync.js";

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

/** Local statuses still needing attention each tick. */
const PENDING: readonly RetrievalStatus[] = ["open", "sending", "sent", "unanswerable"];

export interface RetrievalResponderState {
  /** The missing-contract warning is logged once per process. */
  warnedNoContract: boolean;
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
  result.discovered = await discover(ctx, contract, log);
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
async function discover(ctx: AgentContext, contract: Contract, log: Logger): Promise<bigint[]> {
  const { chain, db } = ctx;
  const latest = await chain.blockNumber();
  const stored = db.getKv(RETRIEVAL_CURSOR_KEY);
  // Nothing about this provider's deals can predate its first upload.
  const scanned = stored === undefined ? (db.earliestUploadBlock() ?? latest) - 1 : Number(stored);
  let from = Math.max(0, scanned + 1 - REORG_MARGIN);
  const found: bigint[] = [];
  const filter = contract.filters.RetrievalChallengeOpened(undefined, undefined, chain.me);
  for (let query = 0; query < SCAN_QUERIES_PER_TICK && from <= latest; query++) {
    const to = Math.min(latest, from + SCAN_STEP - 1);
    for (const event of await contract.queryFilter(filter, from, to)) {
      const { challengeId, dealId, challenger, leafIndex, deadline, bond } = event.args;
      const inserted = db.insertRetrievalChallenge({
        id: challengeId,
        dealId,
        leafIndex: Number(leafIndex),
        deadline,
        bond,
        challenger,
        openedBlock: event.blockNumber,
      });
      if (inserted) {
        found.push(challengeId);
        log.warn(
          { challengeId, dealId, leafIndex, deadline, bond, challenger, txHash: event.transactionHash },
          "retrieval challenge opened against this provider",
        );
      }
    }
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
        { challengeId: id, dealId: record.dealId },
        "retrieval challenge enforced: the deal was ended and its collateral slashed",
      );
      return "settled";
    case ChainStatus.Voided:
      db.setRetrievalStatus(id, "voided");
      log.info({ challengeId: id, dealId: record.dealId }, "retrieval challenge voided (the deal had ended)");
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
  if (onChain.provider.toLowerCase() !== chain.me.toLowerCase() || onChain.dealId !== record.dealId) {
    db.setRetrievalStatus(id, "dropped", { error: "the chain's challenge differs from the event seen" });
    return "settled";
  }
  if (now >= onChain.deadline) {
    if (record.status !== "unanswerable") {
      log.error(
        { challengeId: id, dealId: record.dealId, deadline: onChain.deadline },
        "retrieval challenge deadline passed unanswered; the deal will be slashed when it is enforced",
      );
    }
    db.setRetrievalStatus(id, "missed");
    return "missed";
  }
  if (await answerInFlight(ctx, record, log)) return "waiting";
  return answer(ctx, contract, record, Number(onChain.leafIndex), log);
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

async function answer(
  ctx: AgentContext,
  contract: Contract,
  record: RetrievalChallengeRecord,
  leafIndex: number,
  log: Logger,
): Promise<Outcome> {
  const { db, chain } = ctx;
  const id = record.id;
  const deal = await currentDeal(ctx, record.dealId);
  if (deal === undefined) {
    db.setRetrievalStatus(id, "skipped", { error: "deal unknown to this agent or ended" });
    log.error(
      { challengeId: id, dealId: record.dealId },
      "retrieval challenge on a deal this agent does not hold; it cannot be answered",
    );
    return "settled";
  }
  const { root, size } = deal.terms;
  if (record.status === "unanswerable" && !(await pieceBack(ctx, record, root, size))) return "waiting";
  let proof: LeafProof;
  try {
    proof = await ctx.pieces.leafProof(root, size, leafIndex);
  } catch (error) {
    if (!(error instanceof StrataError)) throw error;
    if (error.code !== "PIECE_NOT_FOUND" && error.code !== "PIECE_CORRUPT") throw error;
    const problem = error.code === "PIECE_NOT_FOUND" ? "missing" : "corrupt";
    db.setPieceHealth(root, false, problem, false);
    if (record.status !== "unanswerable" || record.error !== problem) {
      log.error(
        { challengeId: id, dealId: deal.id, root, problem, deadline: record.deadline },
        "cannot answer a retrieval challenge: the piece is lost; the deal will be slashed when the challenge is enforced",
      );
    }
    db.setRetrievalStatus(id, "unanswerable", { error: problem });
    return "unanswerable";
  }

  db.setRetrievalStatus(id, "sending", { txHash: null, error: null });
  try {
    const receipt = await chain.execute(
      () => contract.answerChallenge.staticCall(id, deal.terms, proof.leaf, proof.path),
      () => contract.answerChallenge(id, deal.terms, proof.leaf, proof.path),
      (hash) => {
        db.setRetrievalStatus(id, "sent", { txHash: hash });
      },
    );
    db.setRetrievalStatus(id, "answered", { txHash: receipt.hash });
    log.info(
      {
        challengeId: id,
        dealId: deal.id,
        leafIndex,
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
      { err: error, challengeId: id, dealId: deal.id, revert },
      "answering a retrieval challenge failed",
    );
    if (revert === "RetrievalDealMismatch") await syncDeals(ctx, [deal]);
    return "waiting";
  }
}

/**
 * Whether the piece of an unanswerable challenge may be back: a missing file is checked cheaply (present
 * with the right size); a corrupt one only once the piece health checks have re-hashed it as good.
 */
async function pieceBack(
  ctx: AgentContext,
  record: RetrievalChallengeRecord,
  root: string,
  size: bigint,
): Promise<boolean> {
  if (record.error === "corrupt") return ctx.db.piece(root)?.ok === true;
  return (await ctx.pieces.present(root, size)).ok;
}

/** The agent's record of `dealId` with the chain's current terms (synced after an extension), if active. */
async function currentDeal(ctx: AgentContext, dealId: bigint): Promise<DealRecord | undefined> {
  const deal = ctx.db.deal(dealId);
  if (deal?.state !== "active") return undefined;
  const [stored] = await ctx.chain.market.dealState(dealId);
  if (stored === termsHash(deal.terms)) return deal;
  await syncDeals(ctx, [deal]);
  const synced = ctx.db.deal(dealId);
  return synced?.state === "active" ? synced : undefined;
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
