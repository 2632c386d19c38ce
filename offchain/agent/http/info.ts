/** Read-only routes: health and status (the offer is GET /v1/terms in datasets.ts). */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  healthResponse,
  statusResponse,
  type HealthResponse,
  type StatusResponse,
} from "../../sdk/api/routes.js";
import type { AgentContext } from "../context.js";
import { AGENT_VERSION } from "../version.js";

export type { HealthResponse, StatusResponse };

export function registerInfoRoutes(server: FastifyInstance, ctx: AgentContext): void {
  const { chain } = ctx;
  const app = server.withTypeProvider<ZodTypeProvider>();

  app.get("/health", { schema: { response: { 200: healthResponse } } }, () => {
    const body: HealthResponse = {
      ok: true,
      provider: chain.me,
      chainId: chain.chainId,
      market: ctx.config.deployment.market,
      version: AGENT_VERSION,
    };
    return body;
  });

  app.get("/v1/status", { schema: { response: { 200: statusResponse } } }, async () => {
    const [proofState, ledger, stake, [proofBond]] = await Promise.all([
      chain.market.proofState(chain.me),
      chain.market.balanceOf(chain.me),
      chain.registry.stakeInfo(chain.me),
      chain.market.proofBond(chain.me),
    ]);
    const counts = ctx.db.counts();
    const last = ctx.db.lastConfirmedProof();
    const body: StatusResponse = {
      provider: chain.me,
      chainId: chain.chainId,
      market: ctx.config.deployment.market,
      dataSets: ctx.db.dataSets.counts(),
      pieces: counts.pieces,
      bytesStored: counts.bytesStored,
      proof: {
        nextPeriod: proofState.nextPeriod,
        lastProvenPeriod: last?.period ?? null,
        lastProofTx: last?.txHash ?? null,
      },
      balance: { ledger, freeStake: stake.free, lockedStake: stake.locked, proofBond },
    };
    return body;
  });
}
