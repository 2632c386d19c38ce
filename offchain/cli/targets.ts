import type { StrataChain } from "../sdk/chain/connect.js";
import { getDeal, type DealRecord } from "../sdk/client/deals.js";
import { loadManifest } from "../sdk/manifest/manifest.js";
import { StrataError } from "../sdk/errors.js";
import type { Manifest } from "../sdk/manifest/manifest.js";

/** A deal a command acts on, and the manifest piece it stores if it came from a manifest. */
export interface DealTarget {
  record: DealRecord;
  piece: number | null;
  endpoint: string | null;
}

export interface ResolvedTargets {
  manifest: Manifest | null;
  deals: DealTarget[];
  /** Manifest pieces without a published deal. */
  unplaced: number[];
}

/** `<manifest|dealId>`: a decimal deal id, or the path of a manifest whose published deals are taken. */
export async function resolveTargets(chain: StrataChain, target: string): Promise<ResolvedTargets> {
  if (/^[0-9]+$/.test(target)) {
    const record = await getDeal(chain.market, BigInt(target));
    return { manifest: null, deals: [{ record, piece: null, endpoint: null }], unplaced: [] };
  }
  const manifest = await loadManifest(target);
  checkManifestChain(manifest, chain);
  const deals: DealTarget[] = [];
  const unplaced: number[] = [];
  for (const piece of manifest.pieces) {
    if (piece.dealId === null) {
      unplaced.push(piece.index);
      continue;
    }
    deals.push({
      record: await getDeal(chain.market, piece.dealId),
      piece: piece.index,
      endpoint: piece.endpoint,
    });
  }
  return { manifest, deals, unplaced };
}

/** WRONG_NETWORK when the manifest's deals live on another chain or market. */
export function checkManifestChain(
  manifest: Manifest,
  chain: Pick<StrataChain, "chainId" | "deployment">,
): void {
  if (
    manifest.chainId !== chain.chainId ||
    manifest.market.toLowerCase() !== chain.deployment.market.toLowerCase()
  ) {
    throw new StrataError(
      "WRONG_NETWORK",
      `the manifest's deals are on chain ${manifest.chainId}, market ${manifest.market}; connected to chain ${chain.chainId}, market ${chain.deployment.market}`,
      { details: "pass the --rpc and --deployment of the chain the file was stored on" },
    );
  }
}
