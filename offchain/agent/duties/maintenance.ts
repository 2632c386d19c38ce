/**
 * Maintenance duty: register and stake when configured and not registered; re-hash stored pieces (all of them
 * after a start, then every `integrityScanMs`, within a byte budget per tick so proofs are never held up); keep
 * data sets in step with the chain once per period; release pieces no signed state needs any more (a removed
 * piece stays until the period after its removal took effect).
 */
import { decodeRevert } from "../chain.js";
import type { AgentContext } from "../context.js";
import type { Logger } from "../../runtime/logger.js";
import { syncDataSets } from "./dataSetSync.js";
import { releaseUnneededPieces } from "./pieceHealth.js";

/** Bytes re-hashed per tick by the integrity scan. */
export const SCAN_BYTES_PER_TICK = 512n * 1024n * 1024n;

export interface MaintenanceState {
  /** Wall-clock time the agent started: pieces not verified since are due for a scan. */
  startedAt: number;
}

export interface MaintenanceResult {
  registered: boolean;
  scanned: string[];
  problems: string[];
  released: string[];
}

export async function runMaintenance(ctx: AgentContext, state: MaintenanceState): Promise<MaintenanceResult> {
  const log = ctx.logger.child({ duty: "maintenance" });
  const result: MaintenanceResult = {
    registered: false,
    scanned: [],
    problems: [],
    released: [],
  };
  result.registered = await ensureRegistered(ctx, log);
  await scanPieces(ctx, state, log, result);
  await syncOncePerPeriod(ctx);
  const { nextPeriod } = await ctx.chain.market.proofState(ctx.chain.me);
  result.released = await releaseUnneededPieces(ctx, nextPeriod);
  return result;
}

/** Register (endpoint, capacity, price) and stake, when `autoRegister` is set and the provider is not registered. */
export async function ensureRegistered(ctx: AgentContext, log: Logger): Promise<boolean> {
  const auto = ctx.config.autoRegister;
  if (auto === null) return false;
  const { chain } = ctx;
  const { registry, token } = chain;
  if (await registry.isRegistered(chain.me)) return false;
  const price = ctx.config.policy.pricePerTiBMonth;
  try {
    const receipt = await chain.execute(
      () => registry.register.staticCall(chain.me, ctx.config.publicEndpoint, auto.capacityBytes, price),
      () => registry.register(chain.me, ctx.config.publicEndpoint, auto.capacityBytes, price),
    );
    log.info({ endpoint: ctx.config.publicEndpoint, txHash: receipt.hash }, "registered as a provider");
    if (auto.stake > 0n) {
      const balance = await token.balanceOf(chain.me);
      if (balance < auto.stake) {
        log.error(
          { balance, stake: auto.stake },
          "not enough tokens to stake; stake manually (strata provider stake)",
        );
        return true;
      }
      const registryAddress = await registry.getAddress();
      if ((await token.allowance(chain.me, registryAddress)) < auto.stake) {
        await chain.execute(
          () => token.approve.staticCall(registryAddress, auto.stake),
          () => token.approve(registryAddress, auto.stake),
        );
      }
      const staked = await chain.execute(
        () => registry.stake.staticCall(chain.me, auto.stake),
        () => registry.stake(chain.me, auto.stake),
      );
      log.info({ amount: auto.stake, txHash: staked.hash }, "stake added");
    }
    return true;
  } catch (error) {
    log.error({ err: error, revert: decodeRevert(error)?.name }, "automatic registration failed");
    return false;
  }
}

/** Re-hash pieces not verified since the agent started or within `integrityScanMs`, up to a byte budget. */
async function scanPieces(
  ctx: AgentContext,
  state: MaintenanceState,
  log: Logger,
  result: MaintenanceResult,
): Promise<void> {
  const dueBefore = Math.max(state.startedAt, ctx.clock() - ctx.config.integrityScanMs);
  const due = ctx.db
    .pieces()
    .filter((p) => p.verifiedAt === null || p.verifiedAt < dueBefore)
    .sort((a, b) => (a.verifiedAt ?? 0) - (b.verifiedAt ?? 0));
  let budget = SCAN_BYTES_PER_TICK;
  for (const piece of due) {
    if (budget <= 0n) break;
    budget -= piece.size;
    const health = await ctx.pieces.verify(piece.root, piece.size);
    ctx.db.setPieceHealth(piece.root, health.ok, health.ok ? null : health.problem, true);
    result.scanned.push(piece.root);
    if (!health.ok) {
      result.problems.push(piece.root);
      log.error({ root: piece.root, problem: health.problem }, "integrity scan found a bad piece");
    } else if (!piece.ok) {
      log.info({ root: piece.root }, "integrity scan: piece is good again");
    }
  }
}

async function syncOncePerPeriod(ctx: AgentContext): Promise<void> {
  const period = ctx.chain.periodAt(await ctx.chain.now()).toString();
  if (ctx.db.getKv("dataSetSyncPeriod") === period) return;
  await syncDataSets(ctx);
  ctx.db.setKv("dataSetSyncPeriod", period);
}
