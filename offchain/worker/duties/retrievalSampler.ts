/**
 * Retrieval sampling: every `sampling.intervalMs`, `sampling.perTick` live deals picked uniformly at random
 * (crypto randomness: a provider cannot guess which deals are watched) are asked for one random 64-byte leaf
 * through their provider's registered endpoint, and the answer is verified against the deal's root
 * (offchain/sdk/proofs/sampling.ts bounds time and bytes). Every sample is recorded; the last 100 per deal are
 * kept. Runs of failures are what the retrieval challenger acts on. Hostile endpoints never make this throw.
 */
import { randomInt } from "node:crypto";
import { leafCount } from "../../sdk/commitment/merkle.js";
import { StrataError, type StrataErrorCode } from "../../sdk/errors.js";
import { sampleLeaf, type SampleResult } from "../../sdk/proofs/sampling.js";
import type { Duty, WorkerContext } from "../context.js";
import type { IndexedDeal } from "../db/index.js";
import type { Logger } from "../../runtime/logger.js";
import { dutyQueries } from "./queries.js";

export interface SamplerResult {
  /** False when the interval since the last round has not elapsed (or sampling is off). */
  ran: boolean;
  sampled: number;
  failed: number;
}

/** Code recorded for a deal whose provider has no usable endpoint (never registered it, or deregistered). */
export const NO_ENDPOINT: StrataErrorCode = "PROVIDER_UNUSABLE";

/** A sampler duty with its own round timer (one per worker). */
export function retrievalSamplerDuty(): Duty {
  const state = { lastRoundAt: null as number | null };
  return {
    name: "retrievalSampler",
    async run(ctx) {
      const { sampling } = ctx.config;
      const now = ctx.clock();
      if (!sampling.enabled) return { ran: false, sampled: 0, failed: 0 };
      if (state.lastRoundAt !== null && now - state.lastRoundAt < sampling.intervalMs) {
        return { ran: false, sampled: 0, failed: 0 };
      }
      state.lastRoundAt = now;
      return { ...(await runSamplingRound(ctx)) };
    },
  };
}

/** One sampling round (whatever the interval): sample `perTick` random live deals in parallel. */
export async function runSamplingRound(ctx: WorkerContext): Promise<SamplerResult> {
  const log = ctx.logger.child({ duty: "retrievalSampler" });
  const result: SamplerResult = { ran: true, sampled: 0, failed: 0 };
  const current = ctx.chain.periodAt(await ctx.chain.now());
  const deals = pickLiveDeals(ctx, current, ctx.config.sampling.perTick);
  const outcomes = await Promise.all(deals.map((deal) => sampleDeal(ctx, deal, log)));
  for (const ok of outcomes) {
    result.sampled++;
    if (!ok) result.failed++;
  }
  return result;
}

/**
 * Up to `count` distinct live deals (published, not ended, before their end period), uniformly at random.
 * Deals past their end awaiting finalization are drawn but not sampled, so a round may sample fewer.
 */
function pickLiveDeals(ctx: WorkerContext, currentPeriod: bigint, count: number): IndexedDeal[] {
  const total = ctx.db.activeDealCount();
  const queries = dutyQueries(ctx.db);
  const offsets = new Set<number>();
  const want = Math.min(count, total);
  while (offsets.size < want) offsets.add(randomInt(total));
  const deals: IndexedDeal[] = [];
  for (const offset of offsets) {
    const id = queries.activeDealIdAt(offset);
    const deal = id === undefined ? undefined : ctx.db.dealById(id);
    if (deal && deal.endPeriod > currentPeriod) deals.push(deal);
  }
  return deals;
}

/** Sample one random leaf of `deal`, record it and count it; true when the provider served it correctly. */
async function sampleDeal(ctx: WorkerContext, deal: IndexedDeal, log: Logger): Promise<boolean> {
  const { sampling } = ctx.config;
  const leafIndex = randomInt(leafCount(Number(deal.size)));
  let outcome: SampleResult;
  try {
    const endpoint = await endpointOf(ctx, deal.provider);
    outcome =
      endpoint === null
        ? { ok: false, code: NO_ENDPOINT, message: "the provider has no registered endpoint", latencyMs: 0 }
        : await sampleLeaf({
            endpoint,
            root: deal.root,
            size: deal.size,
            leafIndex,
            timeoutMs: sampling.timeoutMs,
            maxBytes: sampling.maxBytes,
            fetch: ctx.fetch,
          });
  } catch (error) {
    // sampleLeaf turns provider misbehaviour into results; anything else is ours (or the RPC's): record it as
    // a failure of unknown cause rather than let one deal stop the round.
    const code: StrataErrorCode = error instanceof StrataError ? error.code : "PROVIDER_UNREACHABLE";
    outcome = {
      ok: false,
      code,
      message: error instanceof Error ? error.message : String(error),
      latencyMs: 0,
    };
  }
  ctx.db.insertSample({
    dealId: deal.id,
    provider: deal.provider,
    leafIndex,
    ok: outcome.ok,
    errorCode: outcome.ok ? null : outcome.code,
    latencyMs: outcome.latencyMs,
  });
  ctx.metrics.retrievalSamples.inc({ result: outcome.ok ? "ok" : outcome.code });
  const where = { dealId: deal.id, provider: deal.provider, leafIndex, latencyMs: outcome.latencyMs };
  if (outcome.ok) log.debug(where, "retrieval sample ok");
  else log.warn({ ...where, code: outcome.code, reason: outcome.message }, "retrieval sample failed");
  return outcome.ok;
}

/** The provider's endpoint from the index, else from the registry (the index may start after registration). */
async function endpointOf(ctx: WorkerContext, provider: string): Promise<string | null> {
  const record = ctx.db.providerRecord(provider);
  if (record) return record.kind === "deregistered" || !record.endpoint ? null : record.endpoint;
  const info = await ctx.chain.read("providerInfo", () => ctx.chain.registry.providerInfo(provider));
  return info.registered && info.endpoint !== "" ? info.endpoint : null;
}
