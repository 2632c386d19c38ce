// Removing a stored file: its pieces leave their data sets by a signed state without them; a data set left with
// nothing of the client's is terminated instead (the client pays the notice from the lockup, the rest of the escrow
// comes back once it is finalized).
import type { Signer } from "ethers";
import type { StorageMarket } from "../../../typechain-types/index.js";
import { dataSetDomain, signDataSetState, type DataSetState } from "../datasets/eip712.js";
import { layoutSpan, removePiece } from "../datasets/placement.js";
import { dataSetRoot } from "../datasets/tree.js";
import { StrataError } from "../errors.js";
import type { Manifest } from "../manifest/manifest.js";
import type { AgentClient } from "./agentClient.js";
import { readDataSet, type DataSetReader } from "./dataSets.js";
import { checkedLayout } from "./openDataSet.js";
import { confirmTransaction } from "../chain/confirm.js";

export type DataSetRemoval =
  | { dataSetId: bigint; action: "pieces-removed"; version: bigint; offsets: number[] }
  | { dataSetId: bigint; action: "terminated"; txHash: string; endPeriod: bigint | null }
  | { dataSetId: bigint; action: "already-ended" };

export interface RemoveFileDeps {
  signer: Signer;
  chainId: bigint;
  market: DataSetReader & Pick<StorageMarket, "terminateDataSet" | "getAddress" | "interface">;
  agentFor: (endpoint: string) => Pick<AgentClient, "getDataSet" | "postState">;
}

/** Remove every piece of `manifest` from its data set (or terminate the data set when nothing else is in it). */
export async function removeFile(manifest: Manifest, deps: RemoveFileDeps): Promise<DataSetRemoval[]> {
  const client = await deps.signer.getAddress();
  const domain = dataSetDomain(deps.chainId, await deps.market.getAddress());
  const out: DataSetRemoval[] = [];
  for (const dataSetId of new Set(manifest.pieces.map((p) => p.dataSetId))) {
    const pieces = manifest.pieces.filter((p) => p.dataSetId === dataSetId);
    const first = pieces[0];
    if (first === undefined) continue;
    const info = await readDataSet(deps.market, dataSetId);
    if (info.client.toLowerCase() !== client.toLowerCase()) {
      throw new StrataError("KEY_REFUSED", `data set ${dataSetId} belongs to ${info.client}, not ${client}`);
    }
    if (info.status !== "live") {
      out.push({ dataSetId, action: "already-ended" });
      continue;
    }
    const agent = deps.agentFor(first.endpoint);
    const held = await checkedLayout(agent, info, client, first.endpoint).catch(() => null);
    const mine = new Set(pieces.map((p) => p.offset));
    const others = held === null ? null : held.layout.pieces.filter((p) => !mine.has(p.offset));
    if (held === null || others === null || others.length === 0) {
      // Nothing else of the client's is in it (or its provider cannot say): end it with notice.
      const tx = await deps.market.terminateDataSet(dataSetId);
      const receipt = await confirmTransaction(tx);
      let endPeriod: bigint | null = null;
      for (const log of receipt.logs) {
        const parsed = deps.market.interface.parseLog(log);
        if (parsed?.name === "DataSetTerminated") endPeriod = parsed.args.endPeriod as bigint;
      }
      out.push({ dataSetId, action: "terminated", txHash: tx.hash, endPeriod });
      continue;
    }
    let layout = held.layout;
    const offsets = pieces.map((p) => p.offset).filter((o) => layout.pieces.some((q) => q.offset === o));
    for (const offset of offsets) layout = removePiece(layout, offset);
    const state: DataSetState = {
      dataSetId,
      version: held.version + 1n,
      root: dataSetRoot(layout),
      span: BigInt(layoutSpan(layout)),
    };
    const signature = await signDataSetState(deps.signer, domain, state);
    await agent.postState({ state, signature, add: [], remove: offsets });
    out.push({ dataSetId, action: "pieces-removed", version: state.version, offsets });
  }
  return out;
}
