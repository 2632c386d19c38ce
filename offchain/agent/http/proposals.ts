/** POST /v1/deals: accept a signed proposal, reserve an upload slot for its bytes. */
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { createDealRequest, createDealResponse, type CreateDealResponse } from "../../sdk/api/routes.js";
import { DEAL_PROPOSAL_TYPES } from "../../sdk/deals/eip712.js";
import type { DealProposal } from "../../sdk/deals/terms.js";
import type { AgentContext } from "../context.js";
import { judgeProposal } from "../policy.js";
import { ApiError } from "./errors.js";
import { signedBy } from "./signatures.js";

export type { CreateDealResponse };

export function registerProposalRoutes(server: FastifyInstance, ctx: AgentContext): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const schema = { body: createDealRequest, response: { 201: createDealResponse } };
  app.post(
    "/v1/deals",
    { bodyLimit: 64 * 1024, schema, config: { invalidRequestCode: "BAD_PROPOSAL" } },
    async (request, reply) => {
      const { proposal, signature } = request.body;
      await checkSignature(ctx, proposal, signature);

      const existing = ctx.db.uploadByClientNonce(proposal.client, proposal.nonce);
      if (existing) throw duplicate(existing.id, existing.signature === signature);
      const { chain } = ctx;
      const [now, limits, stake, registered, nonceUsed, blockNumber] = await Promise.all([
        chain.now(),
        chain.marketLimits(),
        chain.registry.stakeInfo(chain.me),
        chain.registry.isRegistered(chain.me),
        chain.market.nonceUsed(proposal.client, proposal.nonce),
        chain.blockNumber(),
      ]);
      if (nonceUsed)
        throw new ApiError(
          409,
          "DUPLICATE",
          `nonce ${proposal.nonce} of ${proposal.client} is already used on chain`,
        );
      if (!registered)
        throw new ApiError(422, "POLICY_REJECTED", "this provider is not registered yet; try later");

      const pending = pendingCommitments(ctx);
      const verdict = judgeProposal(proposal, {
        me: chain.me,
        policy: ctx.config.policy,
        limits,
        now,
        availableStake: stake.free - pending.collateral,
      });
      if (!verdict.ok)
        throw new ApiError(verdict.code === "BAD_PROPOSAL" ? 400 : 422, verdict.code, verdict.reason);
      await checkFunding(ctx, proposal, pending.escrowByClient.get(proposal.client.toLowerCase()) ?? 0n);

      const uploadId = randomUUID();
      const inserted = ctx.db.insertUpload({
        id: uploadId,
        client: proposal.client,
        nonce: proposal.nonce,
        proposal,
        signature,
        size: proposal.size,
        root: proposal.root,
        createdBlock: blockNumber,
      });
      if (!inserted) {
        const raced = ctx.db.uploadByClientNonce(proposal.client, proposal.nonce);
        throw duplicate(raced?.id ?? "", raced?.signature === signature);
      }
      ctx.logger.info(
        {
          uploadId,
          client: proposal.client,
          nonce: proposal.nonce,
          size: proposal.size,
          root: proposal.root,
        },
        "proposal accepted; awaiting data",
      );
      const body: CreateDealResponse = {
        uploadId,
        uploadUrl: `${ctx.config.publicEndpoint}/v1/uploads/${uploadId}`,
      };
      return reply.status(201).send(body);
    },
  );
}

function duplicate(uploadId: string, sameSignature: boolean): ApiError {
  // Tell the same client (same signature) where its upload is, so it can resume after a lost answer.
  return new ApiError(
    409,
    "DUPLICATE",
    "a proposal with this client and nonce was already received",
    sameSignature ? { uploadId } : {},
  );
}

/** EIP-712 signature by the client (ECDSA), or ERC-1271 approval when the client is a contract. */
async function checkSignature(ctx: AgentContext, proposal: DealProposal, signature: string): Promise<void> {
  if (await signedBy(ctx, proposal.client, DEAL_PROPOSAL_TYPES, { ...proposal }, signature)) return;
  throw new ApiError(400, "BAD_PROPOSAL", "the signature is not the client's signature of this proposal");
}

/** Collateral and escrow promised to uploads not yet published (they will need stake and client funds). */
function pendingCommitments(ctx: AgentContext): { collateral: bigint; escrowByClient: Map<string, bigint> } {
  let collateral = 0n;
  const escrowByClient = new Map<string, bigint>();
  for (const state of ["awaiting-data", "accepted", "publishing"] as const) {
    for (const upload of ctx.db.uploadsInState(state, 100_000)) {
      collateral += upload.proposal.collateral;
      const escrow = upload.proposal.pricePerSecond * upload.proposal.duration;
      escrowByClient.set(upload.client, (escrowByClient.get(upload.client) ?? 0n) + escrow);
    }
  }
  return { collateral, escrowByClient };
}

/** The client must be able to pay the escrow of this and its other pending proposals: 402 otherwise. */
async function checkFunding(ctx: AgentContext, proposal: DealProposal, pendingEscrow: bigint): Promise<void> {
  const { market, token } = ctx.chain;
  const [ledger, allowance, balance] = await Promise.all([
    market.balanceOf(proposal.client),
    token.allowance(proposal.client, ctx.config.deployment.market),
    token.balanceOf(proposal.client),
  ]);
  const escrow = proposal.pricePerSecond * proposal.duration;
  const pullable = allowance < balance ? allowance : balance;
  if (ledger + pullable < escrow + pendingEscrow) {
    throw new ApiError(
      402,
      "CLIENT_UNFUNDED",
      `the client can fund ${ledger + pullable} (ledger ${ledger}, allowance ${allowance}, balance ${balance}) but needs ${escrow + pendingEscrow}`,
    );
  }
}
