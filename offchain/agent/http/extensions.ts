/**
 * POST /v1/extensions: a client's signed `DealExtension` of one of this provider's live deals. Only the
 * provider may call `extendDeal`, so the client hands its signature to the agent. Checked off chain first
 * (shape, one of our active deals, the client's EIP-712 signature, policy), then simulated, sent, and the
 * deal's stored terms moved to the new end period: proofs commit to it, so they keep landing after the old end.
 */
import type { ContractTransactionReceipt } from "ethers";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { extensionRequest, extensionResponse, type ExtensionRequest } from "../../sdk/api/routes.js";
import { StrataError } from "../../sdk/errors.js";
import { DEAL_EXTENSION_TYPES, type DealExtension } from "../../sdk/deals/eip712.js";
import { termsHash, withEndPeriod, type DealTerms } from "../../sdk/deals/terms.js";
import { decodeRevert } from "../chain.js";
import type { AgentContext } from "../context.js";
import type { DealRecord } from "../db.js";
import { syncDeals } from "../duties/dealSync.js";
import { judgeExtension } from "../policy.js";
import { ApiError } from "./errors.js";
import { signedBy } from "./signatures.js";

/** 200 (mined) or 202 (sent; not mined within the reply budget, applied by the agent once it is). */
export interface ExtensionResponse {
  state: "extended" | "submitted";
  txHash: string;
  newEndPeriod: bigint;
}

export interface ExtensionRouteOptions {
  /** How long to wait for the receipt before answering 202 "submitted" (ms). */
  replyWithinMs?: number;
}

/** Default reply budget: below the 10 s request timeout of the SDK's agent client. */
export const EXTENSION_REPLY_WITHIN_MS = 5_000;

/** Reverts meaning the client cannot pay for the added time (neither ledger balance nor allowance). */
const UNFUNDED_REVERTS = new Set([
  "MarketUnfunded",
  "ERC20InsufficientAllowance",
  "ERC20InsufficientBalance",
]);

export function registerExtensionRoutes(
  server: FastifyInstance,
  ctx: AgentContext,
  options: ExtensionRouteOptions = {},
): void {
  const replyWithinMs = options.replyWithinMs ?? EXTENSION_REPLY_WITHIN_MS;
  /** Deals with an extension being checked or sent: one at a time per deal. */
  const inFlight = new Set<bigint>();

  const app = server.withTypeProvider<ZodTypeProvider>();
  const schema = { body: extensionRequest, response: { 200: extensionResponse, 202: extensionResponse } };
  const config = { invalidRequestCode: "BAD_EXTENSION" as const };
  app.post("/v1/extensions", { bodyLimit: 16 * 1024, schema, config }, async (request, reply) => {
    const { extension, signature } = checkDealId(request.body);
    const known = ctx.db.deal(extension.dealId);
    if (known?.state !== "active") throw unknownDeal(extension.dealId);
    const id = known.id;
    if (inFlight.has(id)) {
      throw new ApiError(
        409,
        "EXTENSION_IN_PROGRESS",
        `an extension of deal ${id} is being submitted; retry later`,
      );
    }
    inFlight.add(id);
    let answer: Answer;
    try {
      answer = await extend(ctx, known, extension, signature, replyWithinMs);
    } catch (error) {
      inFlight.delete(id);
      throw error;
    }
    // A transaction still in flight keeps the deal busy until it is mined (or fails).
    if (answer.pending === undefined) inFlight.delete(id);
    else
      void answer.pending.finally(() => {
        inFlight.delete(id);
      });
    return reply.status(answer.status).send(answer.body);
  });
}

interface Answer {
  status: 200 | 202;
  body: ExtensionResponse;
  /** Settles once a 202's transaction is mined or failed. */
  pending?: Promise<void>;
}

async function extend(
  ctx: AgentContext,
  known: DealRecord,
  extension: DealExtension,
  signature: string,
  replyWithinMs: number,
): Promise<Answer> {
  const client = known.terms.client;
  if (!(await signedBy(ctx, client, DEAL_EXTENSION_TYPES, { ...extension }, signature))) {
    throw new ApiError(400, "BAD_EXTENSION", `the signature is not the deal's client's (${client})`);
  }
  const { terms } = await currentDeal(ctx, known);

  if (await ctx.chain.market.nonceUsed(client, extension.nonce)) {
    // A retry of an extension already submitted (its answer was lost) gets the same answer again.
    const earlier = await findSubmitted(ctx, known, extension);
    if (earlier === undefined) {
      throw new ApiError(409, "DUPLICATE", `nonce ${extension.nonce} of ${client} is already used on chain`);
    }
    return { status: 200, body: response("extended", earlier, extension.newEndPeriod) };
  }

  const [now, limits] = await Promise.all([ctx.chain.now(), ctx.chain.marketLimits()]);
  const verdict = judgeExtension(terms, extension, { policy: ctx.config.policy, limits, now });
  if (!verdict.ok) {
    throw new ApiError(verdict.code === "BAD_EXTENSION" ? 400 : 422, verdict.code, verdict.reason);
  }
  const piece = ctx.db.piece(terms.root);
  if (!piece?.ok) {
    throw new ApiError(
      422,
      "POLICY_REJECTED",
      `the piece of deal ${terms.id} is ${piece?.problem ?? "missing"} here; it cannot be proven longer`,
    );
  }

  const outcome = await submit(ctx, terms, extension, signature, replyWithinMs);
  if (outcome.state === "extended") {
    return { status: 200, body: response("extended", outcome.txHash, outcome.newEndPeriod) };
  }
  return {
    status: 202,
    body: response("submitted", outcome.txHash, extension.newEndPeriod),
    pending: outcome.done,
  };
}

function response(
  state: ExtensionResponse["state"],
  txHash: string,
  newEndPeriod: bigint,
): ExtensionResponse {
  return { state, txHash, newEndPeriod };
}

function unknownDeal(id: bigint): ApiError {
  return new ApiError(404, "UNKNOWN_DEAL", `deal ${id} is not an active deal of this provider`);
}

/** The optional top-level dealId must name the same deal as the signed extension. */
function checkDealId(body: ExtensionRequest): { extension: DealExtension; signature: string } {
  if (body.dealId !== undefined && body.dealId !== body.extension.dealId) {
    throw new ApiError(400, "BAD_EXTENSION", "dealId differs from extension.dealId");
  }
  return { extension: body.extension, signature: body.signature };
}

/** The deal with the terms the chain holds now (synced from its events when they moved on without us). */
async function currentDeal(ctx: AgentContext, deal: DealRecord): Promise<DealRecord> {
  const [stored] = await ctx.chain.market.dealState(deal.id);
  if (stored === termsHash(deal.terms)) return deal;
  await syncDeals(ctx, [deal]);
  const fresh = ctx.db.deal(deal.id);
  if (fresh?.state !== "active") throw unknownDeal(deal.id);
  if (termsHash(fresh.terms) !== stored) {
    throw new ApiError(500, "INTERNAL", `the stored terms of deal ${deal.id} do not match the chain's`);
  }
  return fresh;
}

type Outcome =
  | { state: "extended"; txHash: string; newEndPeriod: bigint }
  | { state: "submitted"; txHash: string; done: Promise<void> };

type Settled = { kind: "mined"; newEndPeriod: bigint } | { kind: "failed"; error: unknown };

/**
 * Simulate, send and wait up to `replyWithinMs` for the receipt. A simulation revert becomes a 402/422
 * answer; a transaction not mined in time is "submitted" and applied to the database when it is.
 */
async function submit(
  ctx: AgentContext,
  terms: DealTerms,
  extension: DealExtension,
  signature: string,
  replyWithinMs: number,
): Promise<Outcome> {
  const { chain } = ctx;
  const { market } = chain;
  const log = ctx.logger.child({ component: "extensions", dealId: terms.id });
  let txHash: string | undefined;
  let onSent: () => void = () => undefined;
  const sent = new Promise<void>((resolve) => (onSent = resolve));

  const settled: Promise<Settled> = chain
    .execute(
      () => market.extendDeal.staticCall(terms, extension, signature),
      () => market.extendDeal(terms, extension, signature),
      (hash) => {
        txHash = hash;
        onSent();
      },
    )
    .then((receipt): Settled => ({ kind: "mined", newEndPeriod: applyExtension(ctx, terms, receipt) }))
    .catch((error: unknown): Settled => ({ kind: "failed", error }));

  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const late = sent.then(
    () =>
      new Promise<{ kind: "late" }>((resolve) => {
        if (finished) return;
        timer = setTimeout(() => {
          resolve({ kind: "late" });
        }, replyWithinMs);
        timer.unref();
      }),
  );
  const first = await Promise.race([settled, late]);
  finished = true;
  clearTimeout(timer);

  if (first.kind === "mined") {
    log.info({ txHash, newEndPeriod: first.newEndPeriod }, "deal extended");
    return { state: "extended", txHash: txHash ?? "", newEndPeriod: first.newEndPeriod };
  }
  if (first.kind === "failed") throw toApiError(first.error, txHash);
  const hash = txHash ?? "";
  log.info({ txHash: hash }, "extension sent; not mined yet");
  const done = settled.then((result) => {
    if (result.kind === "mined") {
      log.info({ txHash: hash, newEndPeriod: result.newEndPeriod }, "deal extended");
      return;
    }
    const revert = decodeRevert(result.error)?.name;
    log.error({ err: result.error, txHash: hash, revert }, "extension failed; deal sync will recheck");
  });
  return { state: "submitted", txHash: hash, done };
}

/** Record the new end period from the receipt's DealExtended event; returns it. */
function applyExtension(ctx: AgentContext, terms: DealTerms, receipt: ContractTransactionReceipt): bigint {
  const { market, deployment } = ctx.chain;
  let newEndPeriod: bigint | undefined;
  for (const entry of receipt.logs) {
    if (entry.address.toLowerCase() !== deployment.market.toLowerCase()) continue;
    const parsed = market.interface.parseLog(entry);
    if (parsed?.name === "DealExtended" && parsed.args.id === terms.id) {
      newEndPeriod = parsed.args.newEndPeriod as bigint;
    }
  }
  if (newEndPeriod === undefined)
    throw new StrataError("EVENT_UNEXPECTED", `no DealExtended event in ${receipt.hash}`);
  // The agent may have been stopped meanwhile: deal sync applies the event after a restart.
  if (ctx.db.isOpen) ctx.db.updateDealTerms(withEndPeriod(terms, newEndPeriod));
  return newEndPeriod;
}

/** A failed simulation (no hash) or transaction as an API answer; other errors stay as they are (500). */
function toApiError(error: unknown, txHash: string | undefined): Error {
  const revert = decodeRevert(error);
  if (revert === undefined)
    return error instanceof Error
      ? error
      : new StrataError("INTERNAL_INVARIANT", `a non-Error was thrown: ${String(error)}`, { cause: error });
  const extra = { revert: revert.name };
  if (UNFUNDED_REVERTS.has(revert.name)) {
    return new ApiError(
      402,
      "CLIENT_UNFUNDED",
      `the client's market balance and allowance do not cover the added time (${revert.name})`,
      extra,
    );
  }
  const what = txHash === undefined ? "extendDeal would revert" : `extendDeal reverted (${txHash})`;
  return new ApiError(422, "CHAIN_REVERT", `${what}: ${revert.name}`, extra);
}

/** The hash of an `extendDeal` of this deal already mined with this extension's nonce, if any. */
async function findSubmitted(
  ctx: AgentContext,
  deal: DealRecord,
  extension: DealExtension,
): Promise<string | undefined> {
  const { market, provider, deployment } = ctx.chain;
  const upload = deal.uploadId === null ? undefined : ctx.db.upload(deal.uploadId);
  const events = await market.queryFilter(market.filters.DealExtended(deal.id), upload?.createdBlock ?? 0);
  for (const event of events.reverse()) {
    if (event.args.newEndPeriod !== extension.newEndPeriod) continue;
    const tx = await provider.getTransaction(event.transactionHash);
    if (tx?.to?.toLowerCase() !== deployment.market.toLowerCase()) continue;
    const call = market.interface.parseTransaction({ data: tx.data, value: tx.value });
    if (call?.name !== "extendDeal") continue;
    const sent = call.args[1] as { dealId: bigint; nonce: bigint };
    if (sent.dealId === extension.dealId && sent.nonce === extension.nonce) return event.transactionHash;
  }
  return undefined;
}
