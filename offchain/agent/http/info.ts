/** Read-only routes: health, status and terms (piece retrieval is in pieces.ts). */
import type { FastifyInstance } from "fastify";
import type { AgentContext } from "../context.js";
import { advertisedPricePerTiBMonth, effectiveMaxDurationPeriods, effectiveMaxPieceSize } from "../policy.js";
import { AGENT_VERSION } from "../version.js";

export interface HealthResponse {
  ok: true;
  provider: string;
  chainId: string;
  market: string;
  version: string;
}

export interface StatusResponse {
  provider: string;
  chainId: string;
  market: string;
  deals: { active: number; published: number; pending: number };
  pieces: number;
  bytesStored: string;
  proof: { nextPeriod: string; lastProvenPeriod: string | null; lastProofTx: string | null };
  balance: { ledger: string; freeStake: string; lockedStake: string };
}

export interface TermsResponse {
  provider: string;
  chainId: string;
  market: string;
  pricePerTiBMonth: string;
  minPricePerSecondPerMiB?: string;
  maxPieceSize: string;
  minDurationPeriods: string;
  maxDurationPeriods: string;
  collateralPerGiB: string;
  minStartDeadlineSeconds: number;
  provingPeriod: string;
}

export function registerInfoRoutes(app: FastifyInstance, ctx: AgentContext): void {
  const { chain } = ctx;

  app.get("/health", () => {
    const body: HealthResponse = {
      ok: true,
      provider: chain.me,
      chainId: chain.chainId.toString(),
      market: ctx.config.deployment.market,
      version: AGENT_VERSION,
    };
    return body;
  });

  app.get("/v1/status", async () => {
    const [proofState, ledger, stake] = await Promise.all([
      chain.market.proofState(chain.me),
      chain.market.balanceOf(chain.me),
      chain.registry.stakeInfo(chain.me),
    ]);
    const counts = ctx.db.counts();
    const last = ctx.db.lastConfirmedProof();
    const body: StatusResponse = {
      provider: chain.me,
      chainId: chain.chainId.toString(),
      market: ctx.config.deployment.market,
      deals: { active: counts.activeDeals, published: counts.publishedDeals, pending: counts.pendingUploads },
      pieces: counts.pieces,
      bytesStored: counts.bytesStored.toString(),
      proof: {
        nextPeriod: proofState.nextPeriod.toString(),
        lastProvenPeriod: last?.period.toString() ?? null,
        lastProofTx: last?.txHash ?? null,
      },
      balance: {
        ledger: ledger.toString(),
        freeStake: stake.free.toString(),
        lockedStake: stake.locked.toString(),
      },
    };
    return body;
  });

  app.get("/v1/terms", async () => {
    const limits = await chain.marketLimits();
    const { policy } = ctx.config;
    const body: TermsResponse = {
      provider: chain.me,
      chainId: chain.chainId.toString(),
      market: ctx.config.deployment.market,
      pricePerTiBMonth: advertisedPricePerTiBMonth(policy).toString(),
      ...(policy.minPricePerSecondPerMiB === null
        ? {}
        : { minPricePerSecondPerMiB: policy.minPricePerSecondPerMiB.toString() }),
      maxPieceSize: effectiveMaxPieceSize(policy, limits).toString(),
      minDurationPeriods: limits.minDealPeriods.toString(),
      maxDurationPeriods: effectiveMaxDurationPeriods(policy, limits).toString(),
      collateralPerGiB: policy.collateralPerGiB.toString(),
      minStartDeadlineSeconds: policy.minStartDeadlineSeconds,
      provingPeriod: limits.provingPeriod.toString(),
    };
    return body;
  });
}
