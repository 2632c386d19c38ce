// Opening (or reusing) the client's data set with one provider, and reading its layout from the provider's agent
// checked against the chain: nothing the agent says is signed before the client has recomputed it.
import type { Provider, Signer } from "ethers";
import type { StorageMarket } from "../../../typechain-types/index.js";
import type { SizedPlacedPiece } from "../api/datasets.js";
import { dataSetDomain, signCreateDataSet, type CreateDataSet } from "../datasets/eip712.js";
import { layoutSpan, validateLayout, type DataSetLayout } from "../datasets/placement.js";
import { dataSetRoot } from "../datasets/tree.js";
import { StrataError } from "../errors.js";
import type { AgentClient } from "./agentClient.js";
import type { Sleep } from "./concurrency.js";
import { findLiveDataSet, readDataSet, type DataSetInfo, type DataSetReader } from "./dataSets.js";
import { loadDataSetRecord, recordedDataSet, saveDataSetRecord } from "./dataSetRecord.js";
import { randomNonceBase } from "./nonces.js";
import type { ProviderOffer } from "./selectProviders.js";

export interface OpenContext {
  signer: Signer;
  client: string;
  chainId: bigint;
  market: DataSetReader & Pick<StorageMarket, "getAddress">;
  provider: Pick<Provider, "getBlock">;
  agentFor: (endpoint: string) => Pick<AgentClient, "createDataSet" | "getDataSet">;
  /** The local record of the client's data sets (a hint, checked on chain). */
  recordPath: string;
  sleep: Sleep;
  now: () => number;
  /** Seconds the provider has to submit the signed terms. */
  createDeadlineSeconds: number;
  timeoutMs: number;
  pollMs: number;
}

/** A data set ready to take pieces: the chain's view and the layout of the newest state the agent holds. */
export interface OpenDataSet {
  info: DataSetInfo;
  created: boolean;
  /** Version, layout and span of the newest state (the agent's, checked: its root is recomputed here). */
  version: bigint;
  layout: DataSetLayout;
  /** The layout's pieces with their sizes (as the agent holds them). */
  pieces: readonly SizedPlacedPiece[];
}

/**
 * The client's live data set with `offer`'s provider: the recorded one, else the newest live one on chain, else a
 * new one (the client signs CreateDataSet on the provider's offered terms; the agent submits it). Its layout is
 * read from the agent and checked: its recomputed root and span must equal what the agent signed for, and the
 * agent's on-chain view must equal the chain's.
 */
export async function openDataSet(offer: ProviderOffer, ctx: OpenContext): Promise<OpenDataSet> {
  const market = await ctx.market.getAddress();
  const key = { chainId: ctx.chainId, market, client: ctx.client, provider: offer.address };
  const agent = ctx.agentFor(offer.endpoint);
  let info: DataSetInfo | null = null;
  const recorded = recordedDataSet(await loadDataSetRecord(ctx.recordPath), key);
  if (recorded !== null) {
    const candidate = await readDataSet(ctx.market, recorded).catch(() => null);
    if (candidate !== null && isUsable(candidate, ctx.client, offer.address)) info = candidate;
  }
  info ??= await findLiveDataSet(ctx.market, ctx.client, offer.address);
  let created = false;
  if (info === null) {
    info = await createDataSet(offer, agent, ctx, market);
    created = true;
  }
  if (info.id !== recorded) await saveDataSetRecord(ctx.recordPath, { ...key, dataSetId: info.id });
  const held = await checkedLayout(agent, info, ctx.client, offer.endpoint);
  return { info, created, ...held };
}

/**
 * The layout of the newest state the agent holds for `info`, checked: the agent names the client, its view of the
 * chain is the chain's, and the layout's recomputed root and span are what it claims (and the chain's root when
 * no newer state is pending).
 */
export async function checkedLayout(
  agent: Pick<AgentClient, "getDataSet">,
  info: DataSetInfo,
  client: string,
  endpoint: string,
): Promise<Pick<OpenDataSet, "version" | "layout" | "pieces">> {
  const held = await agent.getDataSet(info.id);
  const where = `${endpoint} data set ${info.id}`;
  if (held.client.toLowerCase() !== client.toLowerCase()) {
    throw new StrataError("PROVIDER_BAD_DATA", `${where}: the agent names client ${held.client}`);
  }
  if (
    held.onChain.version !== info.version ||
    held.onChain.root.toLowerCase() !== info.root.toLowerCase() ||
    held.onChain.span !== info.span
  ) {
    throw new StrataError("PROVIDER_BAD_DATA", `${where}: the agent's view of the chain is not the chain's`, {
      details: `agent: version ${held.onChain.version} span ${held.onChain.span}; chain: version ${info.version} span ${info.span}`,
    });
  }
  const layout = validateLayout({ pieces: held.layout });
  if (
    dataSetRoot(layout).toLowerCase() !== held.root.toLowerCase() ||
    BigInt(layoutSpan(layout)) !== held.span
  ) {
    throw new StrataError(
      "PROVIDER_BAD_DATA",
      `${where}: the agent's layout does not make its root and span`,
    );
  }
  if (held.version < info.version) {
    throw new StrataError(
      "PROVIDER_BAD_DATA",
      `${where}: the agent holds version ${held.version}, the chain ${info.version}`,
    );
  }
  if (held.version === info.version && held.root.toLowerCase() !== info.root.toLowerCase()) {
    throw new StrataError(
      "PROVIDER_BAD_DATA",
      `${where}: the agent's layout is not the chain's root at version ${info.version}`,
    );
  }
  return { version: held.version, layout, pieces: held.layout };
}

function isUsable(info: DataSetInfo, client: string, provider: string): boolean {
  return (
    info.status === "live" &&
    info.client.toLowerCase() === client.toLowerCase() &&
    info.provider.toLowerCase() === provider.toLowerCase()
  );
}

async function createDataSet(
  offer: ProviderOffer,
  agent: Pick<AgentClient, "createDataSet">,
  ctx: OpenContext,
  market: string,
): Promise<DataSetInfo> {
  const latest = await ctx.provider.getBlock("latest");
  const chainNow = BigInt(latest?.timestamp ?? Math.floor(ctx.now() / 1000));
  const terms: CreateDataSet = {
    client: ctx.client,
    provider: offer.address,
    pricePerTiBMonth: offer.terms.pricePerTiBMonth,
    collateralPerTiB: offer.terms.collateralPerTiB,
    noticePeriods: offer.terms.noticePeriods,
    nonce: randomNonceBase(),
    deadline: chainNow + BigInt(ctx.createDeadlineSeconds),
  };
  const signature = await signCreateDataSet(ctx.signer, dataSetDomain(ctx.chainId, market), terms);
  const answer = await agent.createDataSet({ terms, signature });
  const deadline = ctx.now() + ctx.timeoutMs;
  for (;;) {
    const info = await readDataSet(ctx.market, answer.dataSetId).catch(() => null);
    if (info !== null) {
      const same =
        isUsable(info, ctx.client, offer.address) &&
        info.pricePerTiBMonth === terms.pricePerTiBMonth &&
        info.collateralPerTiB === terms.collateralPerTiB &&
        info.noticePeriods === terms.noticePeriods;
      if (!same) {
        throw new StrataError(
          "PROVIDER_BAD_DATA",
          `data set ${answer.dataSetId} named by ${offer.endpoint} does not carry the signed terms`,
        );
      }
      return info;
    }
    if (ctx.now() >= deadline) {
      throw new StrataError(
        "PUBLISH_TIMEOUT",
        `data set ${answer.dataSetId} did not appear on chain in time`,
        {
          details: `transaction ${answer.txHash}`,
        },
      );
    }
    await ctx.sleep(ctx.pollMs);
  }
}
