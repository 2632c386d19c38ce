// Removing a stored payload's pieces from the client's data sets (`strata rm`): for each piece, read the data
// set's layout from its provider (checked against the chain), take the piece out, sign the next state and send
// it; once the chain shows it the piece is no longer billed or challenged. When a data set is left empty, the
// escrow above its lockup is unstreamed money the rules let the client take back (withdrawEscrow); escrow of a
// data set still holding other pieces stays, paying them for longer.
import type { Signer } from "ethers";
import type { StorageMarket } from "../../../typechain-types/index.js";
import { dataSetDomain, signDataSetState, type DataSetState } from "../datasets/eip712.js";
import { layoutSpan, removePiece } from "../datasets/placement.js";
import { dataSetRoot } from "../datasets/tree.js";
import type { Manifest } from "../manifest/manifest.js";
import type { AgentClient } from "./agentClient.js";
import type { Sleep } from "./concurrency.js";
import { readDataSet, type DataSetReader } from "./dataSets.js";
import { checkedLayout } from "./openDataSet.js";
import { awaitVersion } from "./store.js";

export interface RemoveDeps {
  signer: Signer;
  chainId: bigint;
  market: DataSetReader & Pick<StorageMarket, "getAddress" | "withdrawEscrow">;
  agentFor: (endpoint: string) => Pick<AgentClient, "getDataSet" | "postState">;
  sleep: Sleep;
  now: () => number;
  timeoutMs: number;
  pollMs: number;
}

export interface PieceRemoval {
  piece: number;
  dataSetId: bigint;
  /** The state without the piece (null when the piece was already gone or could not be removed). */
  version: bigint | null;
  /** Escrow moved back to the client's market balance (data set left empty). */
  refunded: bigint;
  /** Why nothing was done, when nothing was. */
  skipped: string | null;
}

/**
 * Remove every piece of `manifest` from its data set, one signed state per piece. A data set that ended or no
 * longer holds the piece is skipped (said in `skipped`); any other failure is returned per piece.
 */
export async function removeStoredPieces(
  manifest: Manifest,
  deps: RemoveDeps,
): Promise<{ removed: PieceRemoval[]; failures: { piece: number; reason: string }[] }> {
  const client = await deps.signer.getAddress();
  const domain = dataSetDomain(deps.chainId, await deps.market.getAddress());
  const removed: PieceRemoval[] = [];
  const failures: { piece: number; reason: string }[] = [];
  // One at a time: two pieces of one payload may share a data set, and each state builds on the previous one.
  for (const piece of manifest.pieces) {
    try {
      const info = await readDataSet(deps.market, piece.dataSetId);
      const base = { piece: piece.index, dataSetId: piece.dataSetId, version: null, refunded: 0n };
      if (info.status !== "live") {
        removed.push({ ...base, skipped: `data set ${piece.dataSetId} is ${info.status}` });
        continue;
      }
      const agent = deps.agentFor(piece.endpoint);
      const held = await checkedLayout(agent, info, client, piece.endpoint);
      const here = held.layout.pieces.find((p) => p.offset === piece.offset);
      if (here?.root.toLowerCase() !== piece.root.toLowerCase()) {
        removed.push({ ...base, skipped: `data set ${piece.dataSetId} no longer holds the piece` });
        continue;
      }
      const layout = removePiece(held.layout, piece.offset);
      const state: DataSetState = {
        dataSetId: piece.dataSetId,
        version: held.version + 1n,
        root: dataSetRoot(layout),
        span: BigInt(layoutSpan(layout)),
      };
      const signature = await signDataSetState(deps.signer, domain, state);
      await agent.postState({ state, signature, add: [], remove: [piece.offset] });
      await awaitVersion(deps.market, piece.dataSetId, state.version, deps);
      let refunded = 0n;
      if (state.span === 0n) {
        refunded = await deps.market.withdrawableEscrow(piece.dataSetId);
        if (refunded > 0n) await (await deps.market.withdrawEscrow(piece.dataSetId, refunded)).wait();
      }
      removed.push({ ...base, version: state.version, refunded, skipped: null });
    } catch (error) {
      failures.push({ piece: piece.index, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return { removed, failures };
}
