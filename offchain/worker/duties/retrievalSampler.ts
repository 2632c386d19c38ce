/**
 * Retrieval sampling: every `sampling.intervalMs`, `sampling.perTick` live data sets picked uniformly at random
 * (crypto randomness: a provider cannot guess which data sets are watched) are asked for one random 64-byte leaf
 * below their span through their provider's registered endpoint (the agent's leaf route), and the answer is
 * verified against the data set's root on chain (verify/leafSample bounds time and bytes). Every sample is
 * recorded; the last 100 per data set are kept. Runs of failures are what the retrieval challenger acts on.
 * Hostile endpoints never make this throw.
 */
import { randomInt } from "node:crypto";
import { StrataError, type StrataErrorCode } from "../../sdk/errors.js";
import type { Duty, WorkerContext } from "../context.js";
import type { Logger } from "../../runtime/logger.js";
import { sampleDataSetLeaf, type SampleResult } from "../verify/leafSample.js";
import { dutyQueries } from "./queries.js";

/** A live data set holding bytes, as sampling sees it. */
interface SampledDataSet {
  dataSetId: bigint;
  provider: string;
  root: string;
  span: bigint;
}

export interface SamplerResult {
  /** False when the interval since the last round has not elapsed (or sampling is off). */
  ran: boolean;
  sampled: number;
  failed: number;
}

/** Code recorded for a data set whose provider has no usable endpoint (never registered it, or deregistered). */
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

/** One sampling round (whatever the interval): sample `perTick` random live data sets in parallel. */
export async function runSamplingRound(ctx: WorkerContext): Promise<SamplerResult> {
  const log = ctx.logger.child({ duty: "retrievalSampler" });
  const result: SamplerResult = { ran: true, sampled: 0, failed: 0 };
  const sets = pickLiveDataSets(ctx, ctx.config.sampling.perTick);
  const outcomes = await Promise.all(sets.map((set) => sampleDataSet(ctx, set, log)));
  for (const ok of outcomes) {
    result.sampled++;
    if (!ok) result.failed++;
  }
  return result;
}

/** Up to `count` distinct live data sets holding bytes (not terminated, not finalized), uniformly at random. */
function pickLiveDataSets(ctx: WorkerContext, count: number): SampledDataSet[] {
  const queries = dutyQueries(ctx.db);
  const total = queries.liveFilledCount();
  const offsets = new Set<number>();
  const want = Math.min(count, total);
  while (offsets.size < want) offsets.add(randomInt(total));
  const sets: SampledDataSet[] = [];
  for (const offset of offsets) {
    const set = queries.liveFilledAt(offset);
    if (set) sets.push(set);
  }
  return sets;
}

/** A uniform leaf below `span` (spans stay below 2^47 leaves, within randomInt's range). */
function randomLeaf(span: bigint): bigint {
  return BigInt(randomInt(Number(span)));
}

/** Sample one random leaf of `set`, record it and count it; true when the provider served it correctly. */
async function sampleDataSet(ctx: WorkerContext, set: SampledDataSet, log: Logger): Promise<boolean> {
  const { sampling } = ctx.config;
  const leafIndex = randomLeaf(set.span);
  let outcome: SampleResult;
  try {
    const endpoint = await endpointOf(ctx, set.provider);
    outcome =
      endpoint === null
        ? { ok: false, code: NO_ENDPOINT, message: "the provider has no registered endpoint", latencyMs: 0 }
        : await sampleDataSetLeaf({
            endpoint,
            dataSetId: set.dataSetId,
            leafIndex,
            root: set.root,
            span: set.span,
            timeoutMs: sampling.timeoutMs,
            maxBytes: sampling.maxBytes,
            fetch: ctx.fetch,
          });
  } catch (error) {
    // The sampler turns provider misbehaviour into results; anything else is ours (or the RPC's): record it as
    // a failure of unknown cause rather than let one data set stop the round.
    const code: StrataErrorCode = error instanceof StrataError ? error.code : "PROVIDER_UNREACHABLE";
    outcome = {
      ok: false,
      code,
      message: error instanceof Error ? error.message : String(error),
      latencyMs: 0,
    };
  }
  ctx.db.insertSample({
    dataSetId: set.dataSetId,
    provider: set.provider,
    leafIndex: Number(leafIndex),
    ok: outcome.ok,
    errorCode: outcome.ok ? null : outcome.code,
    latencyMs: outcome.latencyMs,
  });
  ctx.metrics.retrievalSamples.inc({ result: outcome.ok ? "ok" : outcome.code });
  const where = { dataSetId: set.dataSetId, provider: set.provider, leafIndex, latencyMs: outcome.latencyMs };
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
