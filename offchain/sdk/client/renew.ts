// Renewing a stored file = paying its data sets for more proving periods (a top-up of each data set's escrow at
// its current span). There is no end date to move: a data set lives while its escrow covers its lockup.
import type { Signer } from "ethers";
import type { StorageMarket } from "../../../typechain-types/index.js";
import type { PaymentToken } from "../chain/connect.js";
import { StrataError } from "../errors.js";
import type { Manifest } from "../manifest/manifest.js";
import { costFor, readDataSet, type DataSetReader } from "./dataSets.js";
import { ensureEscrowFunding, type FundingPlan } from "./funding.js";
import { confirmTransaction } from "../chain/confirm.js";

export interface RenewResult {
  topUps: { dataSetId: bigint; amount: bigint; txHash: string }[];
  funding: FundingPlan;
  total: bigint;
}

/** The distinct data sets a manifest's pieces live in, in piece order. */
export function manifestDataSets(manifest: Manifest): bigint[] {
  return [...new Set(manifest.pieces.map((p) => p.dataSetId))];
}

/** Top up each of `dataSetIds` with what `periods` more proving periods of its current span cost. */
export async function renewDataSets(
  dataSetIds: readonly bigint[],
  periods: bigint,
  deps: {
    market: DataSetReader & Pick<StorageMarket, "topUp" | "getAddress" | "balanceOf">;
    token: Pick<PaymentToken, "allowance" | "balanceOf" | "approve">;
    signer: Signer;
  },
): Promise<RenewResult> {
  if (periods < 1n) throw new StrataError("INVALID_ARGUMENT", "--periods must be at least 1");
  const provingPeriod = await deps.market.provingPeriod();
  const plan = await Promise.all(
    dataSetIds.map(async (id) => {
      const info = await readDataSet(deps.market, id);
      if (info.status !== "live") {
        throw new StrataError("INVALID_ARGUMENT", `data set ${id} is ${info.status}: it cannot be renewed`, {
          details: "store the file again to place it in a live data set",
        });
      }
      return { id, amount: costFor(info.pricePerTiBMonth, info.span, periods * provingPeriod) };
    }),
  );
  const total = plan.reduce((sum, p) => sum + p.amount, 0n);
  const funding = await ensureEscrowFunding(total, deps);
  const topUps: RenewResult["topUps"] = [];
  for (const { id, amount } of plan) {
    if (amount === 0n) continue;
    const tx = await deps.market.topUp(id, amount);
    await confirmTransaction(tx);
    topUps.push({ dataSetId: id, amount, txHash: tx.hash });
  }
  return { topUps, funding, total };
}
