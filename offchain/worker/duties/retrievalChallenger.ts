/**
 * Retrieval challenges: turning failed retrieval samples into on-chain consequences.
 *
 * Opening — a data set whose last `sampling.failuresBeforeChallenge` samples all failed, with no open
 * challenge, gets one bonded challenge on the leaf that failed last, while this worker has fewer than
 * `challenges.maxOpen` open (openChallenge(dataSetId, leaf); the root and span are frozen at open). One challenge
 * per failure streak: the action key is the streak's first failing sample, and a data set already challenged by this worker during the streak is not challenged again (an answered
 * challenge proves possession; repeating it would only hand bonds to the provider).
 *
 * Enforcing — any open challenge past its deadline (chain time), whoever opened it, is enforced: the data set
 * ends with its collateral slashed (bounty to the challenger) or the challenge is voided when it ended
 * otherwise; the bond goes back to the challenger either way.
 *
 * Outcomes of this worker's challenges are counted in `challenges_total{outcome}` (opened / answered /
 * failed / voided) as the index sees them. Earnings stay in the contracts' ledgers (see claimable.ts).
 */
import { getAddress, type TransactionReceipt } from "ethers";
import type { IRetrievalChallenges } from "../../../typechain-types/index.js";
import { rawAmounts, tokenAmountFormat } from "../../sdk/chain/tokenAmounts.js";
import { StrataError } from "../../sdk/errors.js";
import type { Duty, WorkerContext } from "../context.js";
import type { ActionRecord, SampleRecord } from "../db/index.js";
import type { Logger } from "../../runtime/logger.js";
import { ACTIVE_STATUSES, carryAction, isTerminal, type ActionPlan } from "./actions.js";
import { logClaimable } from "./claimable.js";
import { dutyQueries } from "./queries.js";

export const OPEN_CHALLENGE = "open-challenge";
export const ENFORCE_CHALLENGE = "enforce-challenge";

/** IRetrievalChallenges.Status. */
const STATUS_OPEN = 1n;

export interface ChallengerResult {
  opened: number;
  enforced: number;
  lostRace: number;
  /** Actions still pending or sent. */
  waiting: number;
  /** Data sets that qualify for a challenge but were left alone (read-only, maxOpen reached). */
  held: number;
}

/** A challenger duty that remembers which resolutions it has counted (one per worker). */
export function retrievalChallengerDuty(): Duty {
  const counted = { afterBlock: null as number | null };
  return {
    name: "retrievalChallenger",
    async run(ctx) {
      const result = await runRetrievalChallenger(ctx, counted);
      return result && { ...result };
    },
  };
}

export async function runRetrievalChallenger(
  ctx: WorkerContext,
  counted: { afterBlock: number | null } = { afterBlock: null },
): Promise<ChallengerResult | undefined> {
  const rc = ctx.chain.retrievalChallenges;
  if (!ctx.config.challenges.enabled || rc === null) return undefined;
  const log = ctx.logger.child({ duty: "retrievalChallenger" });
  const result: ChallengerResult = { opened: 0, enforced: 0, lostRace: 0, waiting: 0, held: 0 };
  const tally = (status: string): void => {
    if (status === "lost-race") result.lostRace++;
    else if (status === "pending" || status === "sent") result.waiting++;
  };

  if (!ctx.chain.readOnly) {
    for (const action of ctx.db.actions({ kind: OPEN_CHALLENGE, statuses: ACTIVE_STATUSES })) {
      const outcome = await carryAction(ctx, action, openPlan(ctx, rc, action, log), log);
      if (outcome.status === "confirmed") result.opened++;
      tally(outcome.status);
    }
    for (const action of ctx.db.actions({ kind: ENFORCE_CHALLENGE, statuses: ACTIVE_STATUSES })) {
      const outcome = await carryAction(ctx, action, enforcePlan(ctx, rc, action, log), log);
      if (outcome.status === "confirmed") result.enforced++;
      tally(outcome.status);
    }
  }

  await openNew(ctx, rc, result, log);
  await enforceDue(ctx, rc, result, log);
  const resolved = countOutcomes(ctx, counted, log);
  if (result.opened + result.enforced + resolved > 0) await logClaimable(ctx, log);
  return result;
}

// ------------------------------------------------------------------ opening

/** A data set's current failure streak: its first failing sample and the newest one (whose leaf is challenged). */
interface FailureStreak {
  first: SampleRecord;
  last: SampleRecord;
  /** Id of the newest successful sample kept (0 when none is kept). */
  lastSuccessId: number;
}

/** The streak when the newest `needed` samples all failed, else undefined. */
export function failureStreak(samples: readonly SampleRecord[], needed: number): FailureStreak | undefined {
  // `samples` is newest first.
  const lastSuccess = samples.findIndex((s) => s.ok);
  const failing = lastSuccess === -1 ? samples : samples.slice(0, lastSuccess);
  const first = failing[failing.length - 1];
  const last = failing[0];
  if (failing.length < needed || first === undefined || last === undefined) return undefined;
  return { first, last, lastSuccessId: lastSuccess === -1 ? 0 : (samples[lastSuccess]?.id ?? 0) };
}

async function openNew(
  ctx: WorkerContext,
  rc: IRetrievalChallenges,
  result: ChallengerResult,
  log: Logger,
): Promise<void> {
  const { db, config, chain } = ctx;
  const needed = config.sampling.failuresBeforeChallenge;
  const me = chain.me;
  let open = me === null ? 0 : db.openChallenges({ challenger: me }).length + inFlightOpens(ctx);
  for (const dataSetId of dutyQueries(db).dataSetsWithFailingSample()) {
    const streak = failureStreak(db.recentSamples(dataSetId), needed);
    if (!streak) continue;
    if (db.openChallenges({ dataSetId }).length > 0) continue;
    const subject = dataSetId.toString();
    const earlier = db.actions({ kind: OPEN_CHALLENGE, subject });
    // Already challenged (or tried to) during this streak: keys are the streak's first failing sample ids.
    if (earlier.some((a) => Number(a.key) > streak.lastSuccessId)) continue;
    const where = {
      dataSetId,
      failures: streak.last.id - streak.first.id + 1,
      leafIndex: streak.last.leafIndex,
    };
    if (me === null) {
      log.warn(where, "retrieval keeps failing (read-only: not challenging)");
      result.held++;
      continue;
    }
    if (open >= config.challenges.maxOpen) {
      log.info({ ...where, open, maxOpen: config.challenges.maxOpen }, "retrieval keeps failing; at maxOpen");
      result.held++;
      continue;
    }
    const action = db.claimAction(OPEN_CHALLENGE, subject, String(streak.first.id));
    if (isTerminal(action.status)) continue;
    log.warn(where, "retrieval keeps failing: opening a challenge");
    open++;
    const outcome = await carryAction(ctx, action, openPlan(ctx, rc, action, log), log);
    if (outcome.status === "confirmed") result.opened++;
    else if (outcome.status === "lost-race") result.lostRace++;
    else if (outcome.status === "pending" || outcome.status === "sent") result.waiting++;
    else open--;
  }
}

/** Open-challenge actions in flight that the index may not show yet. */
function inFlightOpens(ctx: WorkerContext): number {
  return ctx.db.actions({ kind: OPEN_CHALLENGE, statuses: ACTIVE_STATUSES }).length;
}

/** Plan of an `open-challenge` action: subject = data set id, key = the streak's first failing sample id. */
function openPlan(
  ctx: WorkerContext,
  rc: IRetrievalChallenges,
  action: ActionRecord,
  log: Logger,
): ActionPlan {
  const { chain, db, metrics } = ctx;
  const dataSetId = BigInt(action.subject);
  let leafIndex = 0n;
  return {
    raceErrors: ["RetrievalAlreadyChallenged"],
    async recheck() {
      const set = db.dataSetById(dataSetId);
      if (!set || set.ended) return { status: "skipped", reason: "the data set has been finalized" };
      // The leaf that failed last in this streak.
      const newest = db.recentSamples(dataSetId).find((s) => !s.ok);
      leafIndex = BigInt(newest?.leafIndex ?? 0);
      const open = await chain.read("openChallengeOf", () => rc.openChallengeOf(dataSetId));
      if (open !== 0n) {
        const c = await chain.read("challengeOf", () => rc.challengeOf(open));
        return chain.me !== null && getAddress(c.challenger) === chain.me
          ? { status: "confirmed", reason: `challenge ${open} is open`, txHash: null, reward: null }
          : { status: "lost-race", reason: `challenge ${open} by ${c.challenger} is open` };
      }
      const [params, now, view] = await Promise.all([
        chain.read("retrieval parameters", () => rc.parameters()),
        chain.now(),
        chain.read("dataSet", () => chain.market.dataSet(dataSetId)),
      ]);
      if (leafIndex >= view.span)
        return { status: "skipped", reason: `leaf ${leafIndex} is past the span now` };
      // The contract wants the deadline before the data set's end: otherwise it could never be enforced.
      if (view.endPeriod !== 0n && now + params.responseWindow + 1n >= chain.periodStart(view.endPeriod)) {
        return { status: "skipped", reason: "the data set ends before a challenge could be enforced" };
      }
      try {
        await ensureBond(ctx, rc, params.bond, log);
      } catch (error) {
        if (error instanceof StrataError && error.code === "INSUFFICIENT_FUNDS") {
          log.error({ err: error, dataSetId }, "cannot fund the challenge bond");
          return { status: "wait", reason: error.message };
        }
        throw error;
      }
      return undefined;
    },
    simulate: () => rc.openChallenge.staticCall(dataSetId, leafIndex),
    send: () => rc.openChallenge(dataSetId, leafIndex),
    onConfirmed: (receipt) => {
      metrics.challenges.inc({ outcome: "opened" });
      const id = receipt === null ? null : openedChallengeId(rc, receipt);
      log.info({ dataSetId, leafIndex, challengeId: id }, "retrieval challenge opened");
    },
  };
}

/**
 * Make sure the bond can be taken: from this worker's balance in the retrieval-challenge ledger (returned
 * bonds), else from its token allowance, approving it from the worker's token balance if needed.
 * INSUFFICIENT_FUNDS when the worker holds too few tokens.
 */
async function ensureBond(
  ctx: WorkerContext,
  rc: IRetrievalChallenges,
  bond: bigint,
  log: Logger,
): Promise<void> {
  const { chain } = ctx;
  const me = chain.me;
  if (me === null) throw new StrataError("KEY_MISSING", "a read-only worker cannot post a bond");
  const rcAddress = await rc.getAddress();
  const [ledger, allowance, tokens] = await chain.read("bond funding", () =>
    Promise.all([rc.balanceOf(me), chain.token.allowance(me, rcAddress), chain.token.balanceOf(me)]),
  );
  if (ledger >= bond || allowance >= bond) return;
  if (tokens < bond) {
    const format = await tokenAmountFormat(chain.token);
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the challenge bond is ${format(bond)}; the worker ${me} holds ${format(tokens)} and has ${format(ledger)} in the retrieval-challenge ledger`,
      {
        details: "send payment tokens to the worker's address to let it open retrieval challenges",
        data: rawAmounts({ bond, tokens, ledger }),
      },
    );
  }
  const receipt = await chain.execute(
    () => chain.token.approve.staticCall(rcAddress, bond),
    () => chain.token.approve(rcAddress, bond),
  );
  log.info({ bond, txHash: receipt.hash }, "approved the challenge bond");
}

function openedChallengeId(rc: IRetrievalChallenges, receipt: TransactionReceipt): bigint | null {
  for (const entry of receipt.logs) {
    try {
      const parsed = rc.interface.parseLog(entry);
      if (parsed?.name === "RetrievalChallengeOpened") return parsed.args[0] as bigint;
    } catch {
      // another contract's log
    }
  }
  return null;
}

// ------------------------------------------------------------------ enforcing

async function enforceDue(
  ctx: WorkerContext,
  rc: IRetrievalChallenges,
  result: ChallengerResult,
  log: Logger,
): Promise<void> {
  const { db, chain } = ctx;
  const now = await chain.now();
  for (const challenge of db.openChallenges()) {
    if (challenge.deadline >= now) continue;
    const where = { challengeId: challenge.challengeId, dataSetId: challenge.dataSetId };
    if (chain.readOnly) {
      log.warn(where, "unanswered retrieval challenge past its deadline (read-only: not enforcing)");
      result.held++;
      continue;
    }
    const action = db.claimAction(ENFORCE_CHALLENGE, challenge.challengeId.toString(), "");
    if (isTerminal(action.status)) continue;
    log.warn(where, "retrieval challenge unanswered past its deadline: enforcing");
    const outcome = await carryAction(ctx, action, enforcePlan(ctx, rc, action, log), log);
    if (outcome.status === "confirmed") result.enforced++;
    else if (outcome.status === "lost-race") result.lostRace++;
    else if (outcome.status === "pending" || outcome.status === "sent") result.waiting++;
  }
}

/** Plan of an `enforce-challenge` action: subject = challenge id. */
function enforcePlan(
  ctx: WorkerContext,
  rc: IRetrievalChallenges,
  action: ActionRecord,
  log: Logger,
): ActionPlan {
  const { chain, metrics } = ctx;
  const challengeId = BigInt(action.subject);
  let dataSetId = 0n;
  let mine = false;
  return {
    raceErrors: ["RetrievalNotOpen"],
    async recheck() {
      const c = await chain.read("challengeOf", () => rc.challengeOf(challengeId));
      if (c.status !== STATUS_OPEN) return { status: "lost-race", reason: `challenge status ${c.status}` };
      const now = await chain.now();
      if (now <= c.deadline) return { status: "wait", reason: "the deadline has not passed on chain yet" };
      mine = chain.me !== null && getAddress(c.challenger) === chain.me;
      dataSetId = c.dataSetId;
      return undefined;
    },
    simulate: () => rc.enforceChallenge.staticCall(challengeId),
    send: () => rc.enforceChallenge(challengeId),
    reward: (receipt) => (mine ? bountyIn(ctx, receipt, dataSetId) : null),
    onConfirmed: (receipt, reward) => {
      const outcome = receipt === null ? "unknown" : enforcementOutcome(rc, receipt);
      if (reward !== null && reward > 0n) metrics.bountyEarned.inc(Number(reward));
      log.info({ challengeId, outcome, mine, bounty: reward }, "retrieval challenge enforced");
    },
  };
}

function enforcementOutcome(
  rc: IRetrievalChallenges,
  receipt: TransactionReceipt,
): "failed" | "voided" | "unknown" {
  for (const entry of receipt.logs) {
    try {
      const parsed = rc.interface.parseLog(entry);
      if (parsed?.name === "RetrievalChallengeFailed") return "failed";
      if (parsed?.name === "RetrievalChallengeVoided") return "voided";
    } catch {
      // another contract's log
    }
  }
  return "unknown";
}

/** The challenger's bounty: the `toReporter` share of the market's Slashed event for the data set. */
function bountyIn(ctx: WorkerContext, receipt: TransactionReceipt, dataSetId: bigint): bigint | null {
  const { market } = ctx.chain;
  const address = ctx.config.deployment.market.toLowerCase();
  for (const entry of receipt.logs) {
    if (entry.address.toLowerCase() !== address) continue;
    const parsed = market.interface.parseLog(entry);
    if (parsed?.name !== "Slashed") continue;
    const [, id, , toReporter] = parsed.args as unknown as [string, bigint, bigint, bigint];
    if (id === dataSetId) return toReporter;
  }
  return null;
}

// ------------------------------------------------------------------ outcomes

/** Count resolutions of this worker's challenges indexed since the last run (from the first run's cursor). */
function countOutcomes(ctx: WorkerContext, counted: { afterBlock: number | null }, log: Logger): number {
  const me = ctx.chain.me;
  const cursor = ctx.db.cursor();
  if (me === null || cursor === null) return 0;
  if (counted.afterBlock === null) {
    // Resolutions indexed before this process started were counted by the process that saw them.
    counted.afterBlock = cursor;
    return 0;
  }
  const resolved = dutyQueries(ctx.db).resolvedChallengesOf(me, counted.afterBlock);
  for (const r of resolved) {
    ctx.metrics.challenges.inc({ outcome: r.kind });
    log.info({ challengeId: r.challengeId, outcome: r.kind }, "retrieval challenge resolved");
  }
  counted.afterBlock = cursor;
  return resolved.length;
}
