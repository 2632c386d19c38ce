// Which pieces of a mandated file are lost (docs/SPEC.md §16): the same test `RepairMandate.openRepair` applies —
// the data set now holding the piece (the mandate's record after a repair, else the one in the piece list) is not
// live, or does not exist. A repairer (the worker's repair duty, or `strata repair`) reads this before it fetches
// anything.
import type { IStorageMarket, RepairMandate } from "../../../typechain-types/index.js";
import type { ListedPiece } from "./pieceList.js";

const LIVE = 1n; // IStorageMarket.Status.Live

/** A listed piece with the data set holding it now and whether a repair may open. */
export interface PieceHealth {
  piece: ListedPiece;
  /** The data set now holding it (0 = none). */
  holder: bigint;
  /** Its provider (the zero address when none). */
  provider: string;
  lost: boolean;
  /** The repair under way (0 = none): a lost piece with a pending repair is not opened again. */
  pendingRepair: bigint;
}

/** The health of every listed piece, read from the mandate and the market. */
export async function pieceHealth(
  market: Pick<IStorageMarket, "dataSet" | "dataSetCount">,
  mandate: Pick<RepairMandate, "holderOf" | "pendingRepairOf">,
  pieces: readonly ListedPiece[],
): Promise<PieceHealth[]> {
  const count = await market.dataSetCount();
  return Promise.all(
    pieces.map(async (piece) => {
      const recorded = await mandate.holderOf(piece.index);
      const holder = recorded === 0n ? piece.dataSetId : recorded;
      const pendingRepair = await mandate.pendingRepairOf(piece.index);
      if (holder === 0n || holder > count) {
        return {
          piece,
          holder,
          provider: "0x0000000000000000000000000000000000000000",
          lost: true,
          pendingRepair,
        };
      }
      const view = await market.dataSet(holder);
      return { piece, holder, provider: view.provider, lost: view.status !== LIVE, pendingRepair };
    }),
  );
}
