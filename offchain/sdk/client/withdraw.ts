// Withdrawing a client's money: escrow above each data set's lockup moves to the market balance
// (withdrawEscrow), then the market balance goes to the wallet.
import type { StorageMarket } from "../../../typechain-types/index.js";
import { findDataSetIds, type DataSetReader } from "./dataSets.js";
import { confirmTransaction } from "../chain/confirm.js";

export interface WithdrawResult {
  fromEscrow: { dataSetId: bigint; amount: bigint; txHash: string }[];
  /** Tokens sent from the market balance to the wallet. */
  withdrawn: bigint;
  txHash: string | null;
}

/** Move every data set's withdrawable escrow to the ledger (when `escrow`), then withdraw the ledger balance. */
export async function withdrawClientFunds(
  market: DataSetReader & Pick<StorageMarket, "withdrawEscrow" | "withdraw" | "balanceOf">,
  client: string,
  options: { escrow: boolean },
): Promise<WithdrawResult> {
  const fromEscrow: WithdrawResult["fromEscrow"] = [];
  if (options.escrow) {
    for (const id of await findDataSetIds(market, { client })) {
      const amount = await market.withdrawableEscrow(id);
      if (amount === 0n) continue;
      const tx = await market.withdrawEscrow(id, amount);
      await confirmTransaction(tx);
      fromEscrow.push({ dataSetId: id, amount, txHash: tx.hash });
    }
  }
  const balance = await market.balanceOf(client);
  if (balance === 0n) return { fromEscrow, withdrawn: 0n, txHash: null };
  const tx = await market.withdraw(balance);
  await confirmTransaction(tx);
  return { fromEscrow, withdrawn: balance, txHash: tx.hash };
}
