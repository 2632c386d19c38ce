/**
 * `site deploy|update --permanent`: the version's archive (every file and the site manifest, offchain/sdk/sites/
 * archive.ts) is also stored as a permanent file paid once, and its id goes into the signed record. Serving stays on
 * the public replicas; the permanent file is what anyone restores the exact site from, with the record alone.
 *
 * The quote is confirmed before anything is spent (before a backend lease starts, before the replicas are stored):
 * a declined quote, one above --max-payment, or no agent taking permanent pieces stores nothing and pays nothing.
 * When the backend's address is not known yet (a new --backend), the quote is made for the largest address a record
 * allows, so the archive finally paid for is never larger than the one the user agreed to.
 */
import type { PermanentStorage } from "../../../../typechain-types/index.js";
import {
  bytesSource,
  findStagers,
  permanentFile,
  quotePermanent,
  storePermanent,
  type PermanentFileView,
  type PermanentQuote,
  type StorePermanentResult,
} from "../../../sdk/durability/permanent.js";
import { createPermanentAgentClient } from "../../../sdk/durability/permanentAgent.js";
import { StrataError } from "../../../sdk/errors.js";
import { packSiteArchive } from "../../../sdk/sites/archive.js";
import type { SiteInputFile, SitePlan } from "../../../sdk/sites/plan.js";
import type { CliContext } from "../../context.js";
import {
  askToPay,
  permanentContract,
  quoteLines,
  solvencyJson,
  solvencyLines,
} from "../../files/permanent.js";
import { confirmTransaction } from "../../../sdk/chain/confirm.js";

/** Longest backend url a record carries (siteBackendSchema): the bound a quote is made for before the lease. */
export const MAX_BACKEND_URL = 2048;

export interface PermanentSiteOptions {
  yes?: boolean;
  /** Most paid for the permanent copy, in tokens. */
  maxPayment?: string;
}

/** A permanent copy the user agreed to pay for: at most `cap` base units (--max-payment, else the quote). */
export interface AgreedPermanentCopy {
  permanent: PermanentStorage;
  quote: PermanentQuote;
  cap: bigint;
}

/**
 * Quote the permanent copy of an archive of `archiveBytes` bytes and have it agreed: within --max-payment, an agent
 * taking pieces of that size, the balance to pay it, then --yes or a "y" on the terminal. Throws (having spent
 * nothing) otherwise.
 */
export async function agreePermanentCopy(
  ctx: CliContext,
  name: string,
  archiveBytes: number,
  opts: PermanentSiteOptions,
): Promise<AgreedPermanentCopy> {
  const permanent = await permanentContract(ctx, true);
  const units = await ctx.tokenUnits();
  const quote = await quotePermanent(permanent, archiveBytes);
  const cap = opts.maxPayment === undefined ? quote.total : units.parse(opts.maxPayment);
  if (quote.total > cap) {
    throw new StrataError(
      "AMOUNT_OUT_OF_RANGE",
      `the permanent copy costs ${units.format(quote.total)}, above --max-payment ${units.format(cap)}`,
      { details: "nothing was stored or paid" },
    );
  }
  const { signer, registry, token } = await ctx.signed();
  const stagers = await findStagers(await permanent.getAddress(), quote.pieceSize, {
    registry,
    agentFor: (endpoint) => createPermanentAgentClient(endpoint, { timeoutMs: 30_000 }),
  });
  if (stagers.length === 0) {
    throw new StrataError("NOT_ENOUGH_PROVIDERS", "no provider agent takes permanent pieces", {
      details: `none takes pieces of ${quote.pieceSize} bytes; nothing was stored or paid (deploy without --permanent)`,
    });
  }
  const balance = await token.balanceOf(await signer.getAddress());
  if (balance < quote.total) {
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the account holds ${units.format(balance)}; the permanent copy costs ${units.format(quote.total)}`,
      { details: "nothing was stored or paid" },
    );
  }
  if (opts.yes !== true) {
    for (const line of quoteLines(`site ${name}, permanent copy`, quote, units)) ctx.io.stderr(`${line}\n`);
    ctx.io.stderr(
      "  (the public replicas serving the site are paid per proving period, as without --permanent)\n",
    );
    if (!(await askToPay(`Pay ${units.format(quote.total)} once? [y/N] `))) {
      throw new StrataError("STORE_DECLINED", "not paid: the quote was declined; nothing was stored", {
        details: "answer y to pay, pass --yes, or deploy without --permanent",
      });
    }
  }
  return { permanent, quote, cap };
}

/** The archive of the version `plan` describes (`files`: every file of it, with its bytes). */
export function siteArchive(plan: SitePlan, files: readonly SiteInputFile[]): Uint8Array {
  return packSiteArchive(plan.manifest, files);
}

/**
 * Pay for and stage the agreed permanent copy of `archive`: at most the agreed amount (a quote above it now, say
 * after a price change, is refused before paying). Returns once every piece is handed to an agent.
 */
export async function storePermanentCopy(
  ctx: CliContext,
  agreed: AgreedPermanentCopy,
  archive: Uint8Array,
): Promise<StorePermanentResult> {
  const { signer, registry, token } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const quote = await quotePermanent(agreed.permanent, archive.length);
  if (quote.total > agreed.cap) {
    throw new StrataError(
      "AMOUNT_OUT_OF_RANGE",
      `the permanent copy now costs ${units.format(quote.total)}, above the ${units.format(agreed.cap)} agreed`,
      { details: "the permanent copy was not paid; publish again to see the new quote" },
    );
  }
  return storePermanent(
    {
      source: bytesSource(archive),
      maxPayment: quote.total,
      onProgress: (event) => {
        if (event.kind === "paid") ctx.note(`permanent copy paid: file ${event.fileId} (tx ${event.txHash})`);
        else if (event.kind === "staged")
          ctx.note(`permanent piece ${event.index} handed to ${event.provider}`);
      },
    },
    {
      permanent: agreed.permanent,
      registry,
      agentFor: (endpoint) => createPermanentAgentClient(endpoint, { timeoutMs: 120_000 }),
      approve: async (spender, amount) => {
        if ((await token.allowance(await signer.getAddress(), spender)) >= amount) return;
        await confirmTransaction(await token.approve(spender, amount));
      },
    },
  );
}

/** The solvency of a site version's permanent copy, as `site status` shows it. */
export async function permanentCopyStatus(
  ctx: CliContext,
  fileId: bigint,
): Promise<{
  view: PermanentFileView;
  json: ReturnType<typeof solvencyJson> & { fileId: bigint };
  lines: string[];
}> {
  const permanent = await permanentContract(ctx, false);
  const view = await permanentFile(permanent, fileId);
  const units = await ctx.tokenUnits();
  return {
    view,
    json: { fileId, ...solvencyJson(view) },
    lines: [`  permanent copy: file ${fileId}`, ...solvencyLines(view, units).map((line) => `  ${line}`)],
  };
}
