import type { Signer } from "ethers";
import type { StorageMarket } from "../../../typechain-types/index.js";
import type { PaymentToken } from "../chain/connect.js";
import { rawAmounts, tokenAmountFormat, type DescribableToken } from "../chain/tokenAmounts.js";
import { StrataError } from "../errors.js";
import { confirmTransaction } from "../chain/confirm.js";

/** How the top-ups of a client's data sets are paid. */
export interface FundingPlan {
  /** "ledger": the market balance covers everything; "allowance": the token allowance does. */
  source: "ledger" | "allowance";
  needed: bigint;
  ledger: bigint;
  allowance: bigint;
  wallet: bigint;
  /** Hash of the approve transaction sent to raise the allowance, if one was needed. */
  approveTx: string | null;
}

export interface FundingDeps {
  market: Pick<StorageMarket, "balanceOf" | "getAddress">;
  /** The payment token, connected to `signer` (approve is sent from it). */
  token: Pick<PaymentToken, "allowance" | "balanceOf" | "approve"> & DescribableToken;
  signer: Signer;
}

/**
 * Make sure top-ups worth `needed` in total can be paid: the market takes a top-up from the client's ledger
 * balance if that covers it, else from the token allowance. If the ledger covers the total nothing is done;
 * otherwise the allowance is raised to `needed` (one approve) provided the wallet holds that much.
 * INSUFFICIENT_FUNDS otherwise, before anything is sent.
 */
export async function ensureEscrowFunding(needed: bigint, deps: FundingDeps): Promise<FundingPlan> {
  const client = await deps.signer.getAddress();
  const market = await deps.market.getAddress();
  const [ledger, allowance, wallet] = await Promise.all([
    deps.market.balanceOf(client),
    deps.token.allowance(client, market),
    deps.token.balanceOf(client),
  ]);
  const plan = { needed, ledger, allowance, wallet, approveTx: null };
  if (ledger >= needed) return { ...plan, source: "ledger" };
  if (wallet < needed) {
    const format = await tokenAmountFormat(deps.token);
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the data sets need ${format(needed)} of escrow; the wallet ${client} holds ${format(wallet)} and its market balance is ${format(ledger)}`,
      {
        details:
          "send tokens to the wallet (local chain: strata dev mint <amount>), or choose fewer periods or cheaper providers",
        data: rawAmounts({ needed, wallet, ledger }),
      },
    );
  }
  if (allowance >= needed) return { ...plan, source: "allowance" };
  const tx = await deps.token.approve(market, needed);
  await confirmTransaction(tx);
  return { ...plan, source: "allowance", allowance: needed, approveTx: tx.hash };
}
