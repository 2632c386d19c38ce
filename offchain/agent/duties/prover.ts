/**
 * Prover duty, in the order the protocol needs:
 * 1. own closed, unproven periods are reported (by the provider itself: the penalty comes from its proof bond and
 *    the reporter share comes back to it) so proving can resume;
 * 2. while the next period's seed block is not mined, data sets whose frozen layout holds a missing or corrupt
 *    piece are declared faulty (their answers are then left empty);
 * 3. inside the proof window, with the seed readable, the challenges are drawn by the SDK mirror over the layouts
 *    frozen for the period and cross-checked with the market's `challengesFor` view (a mismatch is logged loudly
 *    and the market's view wins); each is answered from the pieces on disk and `submitProof` is sent.
 * A period is never submitted twice: the attempt is recorded (proofs table) before the transaction is sent.
 */
import { getAddress } from "ethers";
import type { Logger } from "../../runtime/logger.js";
import type { IStorageMarket } from "../../../typechain-types/index.js";
import { drawChallenges, type DrawnChallenge, type FrozenDataSet } from "../../sdk/datasets/draw.js";
import { answerChallenge, ZERO_LEAF, type ChallengeTarget } from "../../sdk/datasets/proofAnswer.js";
import { MAX_DATA_SET_HEIGHT } from "../../sdk/datasets/placement.js";
import { StrataError } from "../../sdk/errors.js";
import { decodeRevert } from "../chain.js";
import type { AgentContext } from "../context.js";
import { pieceReader, stateTree } from "../datasets/openings.js";
import { dataSetsWithBadPieces } from "./pieceHealth.js";

export interface ProverResult {
  reportedMissed: boolean;
  declared: bigint[];
  proven: bigint | null;
  refreshedSeed: boolean;
  /** The mirror's draw disagreed with the market's view this tick. */
  drawMismatch: boolean;
}

/** Proof record error of a period whose challenges hit a piece the agent does not have. */
const UNANSWERABLE = "unanswerable challenge";

type ProofState = Awaited<ReturnType<AgentContext["chain"]["market"]["proofState"]>>;
type MarketChallenge = Awaited<ReturnType<AgentContext["chain"]["market"]["challengesFor"]>>[number];

export async function runProver(ctx: AgentContext): Promise<ProverResult> {
  const log = ctx.logger.child({ duty: "prover" });
  const result: ProverResult = {
    reportedMissed: false,
    declared: [],
    proven: null,
    refreshedSeed: false,
    drawMismatch: false,
  };
  const { chain } = ctx;
  const dataSets = ctx.db.dataSets.dataSets(["live", "ending"]);
  if (dataSets.length === 0) return result;
  const [frozenWeight, currentWeight] = await chain.market.weight(chain.me);
  if (frozenWeight === 0n && currentWeight === 0n) return result;
  let state = await chain.market.proofState(chain.me);

  const now = await chain.now();
  if (state.nextPeriod < chain.periodAt(now)) {
    await chain.execute(
      () => chain.market.reportMissedProofs.staticCall(chain.me),
      () => chain.market.reportMissedProofs(chain.me),
    );
    log.warn(
      { from: state.nextPeriod, to: chain.periodAt(now) },
      "reported own missed periods to resume proving",
    );
    result.reportedMissed = true;
    state = await chain.market.proofState(chain.me);
  }

  const period = state.nextPeriod;
  const bad = await dataSetsWithBadPieces(ctx, dataSets, period);
  result.declared = await declareIfOpen(ctx, state, bad, log);

  const periodEnd = chain.periodStart(period + 1n);
  const opensAt = periodEnd - (await chain.parameters()).proofWindow;
  const timeNow = await chain.now();
  if (timeNow < opensAt || timeNow >= periodEnd) return result;
  if (await proofInFlight(ctx, period, log)) return result;

  const seed = await chain.market.challengeSeed(chain.me);
  if (BigInt(seed) === 0n) {
    if (BigInt(await chain.blockNumber()) > state.seedBlock)
      result.refreshedSeed = await refreshSeed(ctx, log);
    return result;
  }
  const challenges = await chain.market.challengesFor(chain.me);
  const mirror = await mirrorDraw(ctx, period, seed).catch((error: unknown) => {
    log.error({ err: error, period }, "the draw mirror failed; proving from the market's view");
    return undefined;
  });
  if (mirror !== undefined && !sameChallenges(mirror, challenges)) {
    result.drawMismatch = true;
    log.error(
      {
        period,
        market: challenges.map((c) => `${c.dataSetId}:${c.leaf}@${c.depth}`),
        mirror: mirror.map((c) => `${c.dataSetId}:${c.leaf}@${c.sizeClass}`),
      },
      "DRAW MISMATCH: the SDK mirror and the market disagree on this period's challenges; answering the market's",
    );
  }
  result.proven = await prove(ctx, period, challenges, log);
  return result;
}

/**
 * The draw of `period` by the SDK mirror: the frozen draw-class slots read from the market (`classSlot`), the frozen
 * span and root of each data set from the agent's own applied states.
 */
export async function mirrorDraw(ctx: AgentContext, period: bigint, seed: string): Promise<DrawnChallenge[]> {
  const { market, me } = ctx.chain;
  const classes = new Map<number, bigint[]>();
  const dataSets = new Map<bigint, FrozenDataSet>();
  // Every draw class's frozen count at once (the provider batches the calls), then the slots of the non-empty ones.
  const drawClasses = Array.from({ length: (MAX_DATA_SET_HEIGHT + 1) << 3 }, (_, k) => k);
  const counts = await Promise.all(drawClasses.map(async (k) => (await market.classSlot(me, k, 0n))[0]));
  for (const c of drawClasses) {
    const count = counts[c] ?? 0n;
    if (count === 0n) continue;
    const slots: bigint[] = [];
    for (let slot = 0n; slot < count; slot++) {
      const [, id] = await market.classSlot(me, c, slot);
      slots.push(id);
      const frozen = ctx.db.dataSets.frozenState(id, period);
      if (!frozen)
        throw new StrataError("PIECE_NOT_FOUND", `no applied state of data set ${id} for period ${period}`);
      dataSets.set(id, { span: frozen.state.span, root: frozen.state.root });
    }
    classes.set(c, slots);
  }
  const { challengeCount } = await ctx.chain.parameters();
  return drawChallenges(
    { seed, provider: getAddress(me), period, challengeCount: Number(challengeCount) },
    { classes, dataSets },
  );
}

function sameChallenges(mirror: readonly DrawnChallenge[], market: readonly MarketChallenge[]): boolean {
  return (
    mirror.length === market.length &&
    mirror.every((m, i) => {
      const c = market[i];
      return c?.dataSetId === m.dataSetId && c.leaf === m.leaf && Number(c.depth) === m.sizeClass;
    })
  );
}

/** Declare bad data sets for the next period while its seed block is not yet mined (the tx lands next block). */
async function declareIfOpen(
  ctx: AgentContext,
  state: ProofState,
  bad: bigint[],
  log: Logger,
): Promise<bigint[]> {
  if (bad.length === 0) return [];
  const { chain } = ctx;
  if (BigInt(await chain.blockNumber()) + 1n > state.seedBlock) return [];
  const key = `declared:${state.nextPeriod}`;
  const already = new Set((ctx.db.getKv(key) ?? "").split(",").filter((id) => id !== ""));
  const ids = bad.filter((id) => !already.has(id.toString()));
  if (ids.length === 0) return [];
  try {
    const receipt = await chain.execute(
      () => chain.market.declareFaults.staticCall(ids),
      () => chain.market.declareFaults(ids),
    );
    ctx.db.setKv(key, [...already, ...ids.map(String)].join(","));
    log.warn({ period: state.nextPeriod, dataSetIds: ids, txHash: receipt.hash }, "declared faults");
    return ids;
  } catch (error) {
    log.error(
      { err: error, period: state.nextPeriod, revert: decodeRevert(error)?.name },
      "declareFaults failed",
    );
    return [];
  }
}

/**
 * True when a proof for `period` was sent and may still land (never send a second one meanwhile). `period` is
 * the chain's first unproven period: a proof recorded as confirmed for it is no longer on chain (the node lost
 * the block that held it, e.g. restarted without its recent blocks), so it is sent again while the window lasts.
 */
async function proofInFlight(ctx: AgentContext, period: bigint, log: Logger): Promise<boolean> {
  const record = ctx.db.proof(period);
  if (record?.status === "confirmed") {
    log.warn(
      { period, txHash: record.txHash },
      "the proof recorded as confirmed is not on chain (its block was lost): sending it again",
    );
    ctx.db.putProof({ ...record, status: "failed", error: "lost from the chain" });
    return false;
  }
  if (!record || record.status === "failed") return false;
  const { provider, me } = ctx.chain;
  if (record.txHash !== null) {
    const receipt = await provider.getTransactionReceipt(record.txHash);
    if (receipt) {
      ctx.db.putProof({ ...record, status: receipt.status === 1 ? "confirmed" : "failed" });
      return receipt.status === 1; // mined after the proof state was read: nothing more to do this tick
    }
    if (await provider.getTransaction(record.txHash)) {
      log.info({ period, txHash: record.txHash }, "proof transaction still pending");
      return true;
    }
    log.warn(
      { period, txHash: record.txHash },
      "the proof transaction is unknown to the node: sending it again",
    );
    return false;
  }
  // Recorded as being sent but no hash: a crash mid-send. Wait while our transactions are pending.
  const [latest, pending] = await Promise.all([
    provider.getTransactionCount(me, "latest"),
    provider.getTransactionCount(me, "pending"),
  ]);
  return pending > latest;
}

async function refreshSeed(ctx: AgentContext, log: Logger): Promise<boolean> {
  const { market } = ctx.chain;
  try {
    const receipt = await ctx.chain.execute(
      () => market.refreshChallengeSeed.staticCall(),
      () => market.refreshChallengeSeed(),
    );
    log.warn({ txHash: receipt.hash }, "challenge seed expired; scheduled a new one");
    return true;
  } catch (error) {
    log.error({ err: error, revert: decodeRevert(error)?.name }, "refreshChallengeSeed failed");
    return false;
  }
}

/** Answer the market's challenges and send the proof. Returns the proven period. */
async function prove(
  ctx: AgentContext,
  period: bigint,
  challenges: readonly MarketChallenge[],
  log: Logger,
): Promise<bigint | null> {
  const { chain } = ctx;
  const { market } = chain;
  let answers: IStorageMarket.ChallengeAnswerStruct[];
  try {
    answers = await answerChallenges(ctx, period, challenges);
  } catch (error) {
    // Retried every tick (the piece may be restored in time), but reported loudly once per period.
    const again = ctx.db.proof(period)?.error === UNANSWERABLE;
    (again ? log.debug.bind(log) : log.error.bind(log))(
      { err: error, period },
      "cannot answer this period's challenges; unless the piece comes back in time the period will be missed",
    );
    ctx.db.putProof({ period, txHash: null, status: "failed", declared: [], error: UNANSWERABLE });
    return null;
  }
  ctx.db.putProof({ period, txHash: null, status: "sending", declared: [], error: null });
  try {
    const receipt = await chain.execute(
      () => market.submitProof.staticCall(period, answers),
      () => market.submitProof(period, answers),
      (hash) => {
        ctx.db.putProof({ period, txHash: hash, status: "pending", declared: [], error: null });
      },
    );
    ctx.db.putProof({ period, txHash: receipt.hash, status: "confirmed", declared: [], error: null });
    log.info(
      { period, txHash: receipt.hash, challenges: answers.length, gasUsed: receipt.gasUsed },
      "proof submitted",
    );
    return period;
  } catch (error) {
    const revert = decodeRevert(error)?.name;
    ctx.db.putProof({ period, txHash: null, status: "failed", declared: [], error: revert ?? String(error) });
    log.error({ err: error, period, revert }, "proof failed");
    if (revert === "MarketSeedExpired") await refreshSeed(ctx, log);
    return null;
  }
}

/** One answer per challenge from the layout frozen for `period`; empty answers for declared data sets. */
async function answerChallenges(
  ctx: AgentContext,
  period: bigint,
  challenges: readonly MarketChallenge[],
): Promise<IStorageMarket.ChallengeAnswerStruct[]> {
  const answers: IStorageMarket.ChallengeAnswerStruct[] = [];
  for (const challenge of challenges) {
    if (challenge.declared) {
      answers.push({ leaf: [...ZERO_LEAF], path: [] });
      continue;
    }
    const frozen = ctx.db.dataSets.frozenState(challenge.dataSetId, period);
    if (!frozen) {
      throw new StrataError(
        "PIECE_NOT_FOUND",
        `no applied state of challenged data set ${challenge.dataSetId}`,
      );
    }
    const drawn: ChallengeTarget = {
      dataSetId: challenge.dataSetId,
      leaf: challenge.leaf,
      sizeClass: Number(challenge.depth),
    };
    try {
      const answer = await answerChallenge(stateTree(frozen), drawn, pieceReader(ctx.pieces, frozen));
      answers.push({ leaf: [answer.leaf[0], answer.leaf[1]], path: [...answer.path] });
    } catch (error) {
      if (
        error instanceof StrataError &&
        (error.code === "PIECE_NOT_FOUND" || error.code === "PIECE_CORRUPT")
      ) {
        const problem = error.code === "PIECE_NOT_FOUND" ? "missing" : "corrupt";
        for (const piece of frozen.layout) {
          if ((await ctx.pieces.present(piece.root, BigInt(piece.size))).ok) continue;
          ctx.db.setPieceHealth(piece.root, false, problem, false);
        }
      }
      throw error;
    }
  }
  return answers;
}
