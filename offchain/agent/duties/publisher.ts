/**
 * Publisher duty: batch accepted uploads into `publishDeals`, simulated first. A batch that would revert is
 * narrowed down to the proposals that would publish; DealPublished / DealSkipped events settle each upload.
 * Restart-safe: uploads are marked "publishing" with the transaction hash before waiting, and a restarted
 * agent resolves them from the receipt or, if the transaction vanished, from the chain's nonce and events.
 */
import type { ContractTransactionReceipt, TransactionReceipt } from "ethers";
import { SkipReason } from "../../sdk/chain/enums.js";
import { dealFromEvent, type DealTerms } from "../../sdk/deals/terms.js";
import { decodeRevert, type AgentChain } from "../chain.js";
import type { AgentContext } from "../context.js";
import type { UploadRecord } from "../db.js";
import type { Logger } from "../../runtime/logger.js";

/** Errors that say "not now" rather than "never": the uploads stay accepted and are retried. */
const TRANSIENT = new Set(["MarketUnresolvedPeriods", "MarketNotRegistered", "EnforcedPause"]);
/** Seconds of margin before a proposal's start deadline (a transaction takes a few blocks). */
const DEADLINE_MARGIN = 15n;
const MAX_ATTEMPTS = 3;

export interface PublishResult {
  published: number;
  skipped: number;
  failed: number;
}

export async function runPublisher(ctx: AgentContext): Promise<PublishResult> {
  const log = ctx.logger.child({ duty: "publisher" });
  const result: PublishResult = { published: 0, skipped: 0, failed: 0 };
  await recoverPublishing(ctx, log, result);

  const now = await ctx.chain.now();
  let candidates: UploadRecord[] = [];
  for (const upload of ctx.db.uploadsInState("accepted", ctx.config.publishBatchSize)) {
    if (upload.proposal.startDeadline < now + DEADLINE_MARGIN) {
      ctx.db.setUploadState(upload.id, "failed", { reason: "start deadline passed before publishing" });
      log.warn({ uploadId: upload.id }, "upload expired before it could be published");
      result.failed++;
    } else {
      candidates.push(upload);
    }
  }
  if (candidates.length === 0) return result;

  candidates = await dropSpentNonces(ctx, candidates, log, result);
  candidates = await fitStake(ctx, candidates, log, result);
  const batch = await simulateBatch(ctx, candidates, log, result);
  if (batch.length === 0) return result;

  const signed = batch.map((u) => ({ proposal: u.proposal, signature: u.signature }));
  const { market } = ctx.chain;
  let receipt: ContractTransactionReceipt;
  try {
    const tx = await market.publishDeals(signed);
    ctx.db.tx(() => {
      for (const u of batch) ctx.db.setUploadState(u.id, "publishing", { txHash: tx.hash, attempt: true });
    });
    log.info({ txHash: tx.hash, uploads: batch.map((u) => u.id) }, "publishDeals sent");
    receipt = await ctx.chain.wait(tx);
  } catch (error) {
    log.error({ err: error, revert: decodeRevert(error)?.name }, "publishDeals failed; will retry");
    ctx.db.tx(() => {
      for (const u of batch) {
        const current = ctx.db.upload(u.id);
        if (current?.state !== "publishing") continue;
        if (current.attempts >= MAX_ATTEMPTS) {
          ctx.db.setUploadState(u.id, "failed", { reason: "publishDeals failed repeatedly" });
          result.failed++;
        } else {
          ctx.db.setUploadState(u.id, "accepted");
        }
      }
    });
    return result;
  }
  await applyReceipt(ctx, batch, receipt, log, result);
  return result;
}

/**
 * A spent nonce would only be skipped by the market: settle such uploads without a transaction (published by
 * us before a crash, or used elsewhere by the client).
 */
async function dropSpentNonces(
  ctx: AgentContext,
  uploads: UploadRecord[],
  log: Logger,
  result: PublishResult,
): Promise<UploadRecord[]> {
  const fresh: UploadRecord[] = [];
  for (const upload of uploads) {
    if (!(await ctx.chain.market.nonceUsed(upload.client, upload.nonce))) {
      fresh.push(upload);
      continue;
    }
    const earlier = await findPublishedDeal(ctx.chain, upload);
    if (earlier) {
      ctx.db.recordPublished(upload.id, earlier.terms, earlier.txHash);
      result.published++;
      log.info(
        { uploadId: upload.id, dealId: earlier.terms.id, txHash: earlier.txHash },
        "deal found published earlier",
      );
    } else {
      ctx.db.setUploadState(upload.id, "skipped", { reason: "NonceUsed" });
      result.skipped++;
      log.warn({ uploadId: upload.id }, "the client's nonce is already spent");
    }
  }
  return fresh;
}

/** Keep the batch within the free stake (collateral is locked for the whole batch at once). */
async function fitStake(
  ctx: AgentContext,
  uploads: UploadRecord[],
  log: Logger,
  result: PublishResult,
): Promise<UploadRecord[]> {
  const { free } = await ctx.chain.registry.stakeInfo(ctx.chain.me);
  let left = free;
  const fitting: UploadRecord[] = [];
  for (const upload of uploads) {
    if (upload.proposal.collateral <= left) {
      fitting.push(upload);
      left -= upload.proposal.collateral;
    } else if (upload.proposal.collateral > free) {
      ctx.db.setUploadState(upload.id, "failed", { reason: `insufficient stake: free ${free} < collateral` });
      log.warn(
        { uploadId: upload.id, collateral: upload.proposal.collateral, free },
        "cannot collateralise upload",
      );
      result.failed++;
    }
  }
  return fitting;
}

/** Simulate the batch; when it would revert, test each proposal alone and drop (fail) the bad ones. */
async function simulateBatch(
  ctx: AgentContext,
  uploads: UploadRecord[],
  log: Logger,
  result: PublishResult,
): Promise<UploadRecord[]> {
  const simulate = (list: UploadRecord[]) =>
    ctx.chain.market.publishDeals.staticCall(
      list.map((u) => ({ proposal: u.proposal, signature: u.signature })),
    );
  try {
    await simulate(uploads);
    return uploads;
  } catch (error) {
    const name = decodeRevert(error)?.name ?? "unknown revert";
    if (TRANSIENT.has(name)) {
      log.info({ revert: name }, "publishing postponed");
      return [];
    }
    log.warn(
      { revert: name, count: uploads.length },
      "batch simulation reverted; checking proposals one by one",
    );
  }
  const good: UploadRecord[] = [];
  for (const upload of uploads) {
    try {
      await simulate([upload]);
      good.push(upload);
    } catch (error) {
      const name = decodeRevert(error)?.name ?? "unknown revert";
      if (TRANSIENT.has(name)) return [];
      ctx.db.setUploadState(upload.id, "failed", { reason: `publishDeals would revert: ${name}` });
      log.warn({ uploadId: upload.id, revert: name }, "proposal cannot be published");
      result.failed++;
    }
  }
  return good;
}

/** Settle every upload of a mined batch from the receipt's DealPublished / DealSkipped events. */
async function applyReceipt(
  ctx: AgentContext,
  batch: UploadRecord[],
  receipt: Pick<TransactionReceipt, "hash" | "logs">,
  log: Logger,
  result: PublishResult,
): Promise<void> {
  const { market } = ctx.chain;
  const byKey = new Map(batch.map((u) => [key(u.client, u.nonce), u]));
  const done = new Set<string>();
  for (const entry of receipt.logs) {
    const parsed = market.interface.parseLog(entry);
    if (parsed?.name === "DealPublished") {
      const upload = byKey.get(key(parsed.args.client as string, parsed.args.nonce as bigint));
      if (!upload) continue;
      const terms = dealFromEvent(parsed);
      ctx.db.recordPublished(upload.id, terms, receipt.hash);
      done.add(upload.id);
      result.published++;
      log.info(
        { uploadId: upload.id, dealId: terms.id, txHash: receipt.hash, endPeriod: terms.endPeriod },
        "deal published",
      );
    } else if (parsed?.name === "DealSkipped") {
      const upload = byKey.get(key(parsed.args.client as string, parsed.args.nonce as bigint));
      if (!upload) continue;
      done.add(upload.id);
      const reason = SkipReason.nameOf(parsed.args.reason as bigint) ?? "unknown";
      // A nonce "used" by our own earlier, unrecorded publication is a published deal, not a skip.
      const earlier = reason === "NonceUsed" ? await findPublishedDeal(ctx.chain, upload) : undefined;
      if (earlier) {
        ctx.db.recordPublished(upload.id, earlier.terms, earlier.txHash);
        result.published++;
        log.info({ uploadId: upload.id, dealId: earlier.terms.id }, "deal found published earlier");
      } else {
        ctx.db.setUploadState(upload.id, "skipped", { txHash: receipt.hash, reason });
        result.skipped++;
        log.warn({ uploadId: upload.id, reason, txHash: receipt.hash }, "proposal skipped by the market");
      }
    }
  }
  for (const upload of batch) {
    if (!done.has(upload.id)) ctx.db.setUploadState(upload.id, "accepted");
  }
}

/** Resolve uploads left "publishing" (by a crash or a timeout). */
async function recoverPublishing(ctx: AgentContext, log: Logger, result: PublishResult): Promise<void> {
  const stuck = ctx.db.uploadsInState("publishing");
  const byTx = new Map<string, UploadRecord[]>();
  for (const upload of stuck) {
    const list = byTx.get(upload.txHash ?? "") ?? [];
    list.push(upload);
    byTx.set(upload.txHash ?? "", list);
  }
  for (const [txHash, uploads] of byTx) {
    const receipt = txHash === "" ? null : await ctx.chain.provider.getTransactionReceipt(txHash);
    if (receipt?.status === 1) {
      await applyReceipt(ctx, uploads, receipt, log, result);
      continue;
    }
    if (!receipt && txHash !== "" && (await ctx.chain.provider.getTransaction(txHash))) continue; // still pending
    for (const upload of uploads) {
      const earlier = await findPublishedDeal(ctx.chain, upload);
      if (earlier) {
        ctx.db.recordPublished(upload.id, earlier.terms, earlier.txHash);
        result.published++;
      } else {
        ctx.db.setUploadState(upload.id, "accepted");
      }
    }
    log.info({ txHash, uploads: uploads.length }, "recovered uploads left publishing");
  }
}

/** A DealPublished event of this provider for the upload's (client, nonce), if any. */
export async function findPublishedDeal(
  chain: AgentChain,
  upload: UploadRecord,
): Promise<{ terms: DealTerms; txHash: string } | undefined> {
  if (!(await chain.market.nonceUsed(upload.client, upload.nonce))) return undefined;
  const events = await chain.market.queryFilter(
    chain.market.filters.DealPublished(undefined, upload.client, chain.me),
    upload.createdBlock,
  );
  for (const event of events) {
    const parsed = chain.market.interface.parseLog(event);
    if (!parsed) continue;
    const terms = dealFromEvent(parsed);
    if (event.args.nonce === upload.nonce && terms.root.toLowerCase() === upload.root.toLowerCase()) {
      return { terms, txHash: event.transactionHash };
    }
  }
  return undefined;
}

function key(client: string, nonce: bigint): string {
  return `${client.toLowerCase()}:${nonce}`;
}
