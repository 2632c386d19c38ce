import type { StrataChain } from "../sdk/chain/connect.js";
import { readDataSet, type DataSetInfo } from "../sdk/client/dataSets.js";
import { manifestDataSets } from "../sdk/client/renew.js";
import { loadManifest } from "../sdk/manifest/manifest.js";
import { StrataError } from "../sdk/errors.js";
import type { Manifest } from "../sdk/manifest/manifest.js";

export interface ResolvedTargets {
  manifest: Manifest | null;
  /** The data set named, or every data set of the manifest's pieces. */
  dataSets: DataSetInfo[];
}

/** `<manifest|dataSetId>`: a decimal data set id, or the path of a manifest whose data sets are taken. */
export async function resolveTargets(chain: StrataChain, target: string): Promise<ResolvedTargets> {
  if (/^[0-9]+$/.test(target)) {
    return { manifest: null, dataSets: [await readDataSet(chain.market, BigInt(target))] };
  }
  const manifest = await loadManifest(target);
  checkManifestChain(manifest, chain);
  const dataSets = await Promise.all(manifestDataSets(manifest).map((id) => readDataSet(chain.market, id)));
  return { manifest, dataSets };
}

/** WRONG_NETWORK when the manifest's data sets live on another chain or market. */
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
      `the manifest's data sets are on chain ${manifest.chainId}, market ${manifest.market}; connected to chain ${chain.chainId}, market ${chain.deployment.market}`,
      { details: "pass the --rpc and --deployment of the chain the file was stored on" },
    );
  }
}
