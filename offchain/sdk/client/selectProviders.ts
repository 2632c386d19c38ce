import { getAddress, isAddress } from "ethers";
import { StrataError } from "../errors.js";
import type { AgentClient, AgentTerms } from "./agentClient.js";
import { mapLimit } from "./concurrency.js";
import { leafCount } from "../commitment/merkle.js";
import { collateralForSpan } from "../datasets/money.js";

export const MIB = 1n << 20n;
export const GIB = 1n << 30n;
export const TIB = 1n << 40n;

/** The registry views provider selection reads (a typechain ProviderRegistry satisfies it). */
export interface RegistryReader {
  providerCount(): Promise<bigint>;
  providerAt(index: bigint): Promise<string>;
  providerInfo(
    provider: string,
  ): Promise<{ registered: boolean; endpoint: string; pricePerTiBMonth: bigint }>;
  stakeInfo(provider: string): Promise<{ free: bigint }>;
}

/** A provider that will take one piece: its data-set offer, and the collateral a piece's class locks. */
export interface ProviderOffer {
  address: string;
  endpoint: string;
  terms: AgentTerms;
  freeStake: bigint;
  /** Collateral a data set holding only this piece locks (class capacity × collateralPerTiB). */
  collateral: bigint;
}

export interface RejectedProvider {
  address: string;
  endpoint: string;
  reason: string;
}

export interface SelectProvidersRequest {
  /** Providers needed (one piece each, all distinct). */
  count: number;
  pieceSize: bigint;
  chainId: bigint;
  market: string;
  provingPeriod: bigint;
  /** Highest acceptable asking price per TiB per 30 days (token base units); null = any. */
  maxPricePerTiBMonth: bigint | null;
  /** Least collateral per TiB the client wants its providers to lock. */
  minCollateralPerTiB: bigint;
  /** Explicit providers (addresses or endpoint URLs), used in this order; each must be usable. */
  providers?: readonly string[];
  /** Providers (addresses) never to choose. */
  exclude?: ReadonlySet<string>;
}

export interface SelectProvidersDeps {
  registry: RegistryReader;
  agentFor: (endpoint: string) => Pick<AgentClient, "health" | "terms">;
  /** Providers probed at once. Default 8. */
  concurrency?: number;
}

export interface ProviderSelection {
  /** `count` providers, cheapest first (or in the explicit order). */
  chosen: ProviderOffer[];
  /** Further usable providers, cheapest first, for retrying a piece elsewhere. */
  spares: ProviderOffer[];
  rejected: RejectedProvider[];
}

/**
 * Choose `count` distinct providers for pieces of `pieceSize` bytes: registered, answering /health for this
 * chain and market, with a data-set offer (/v1/terms) within the client's price and collateral limits and enough
 * free stake for the piece's collateral. Cheapest first by the real price per TiB-month. With an explicit list, every listed provider must be usable
 * (PROVIDER_UNUSABLE otherwise); without one, NOT_ENOUGH_PROVIDERS when fewer than `count` qualify.
 */
export async function selectProviders(
  request: SelectProvidersRequest,
  deps: SelectProvidersDeps,
): Promise<ProviderSelection> {
  if (!Number.isSafeInteger(request.count) || request.count < 1) {
    throw new StrataError("INVALID_ARGUMENT", "at least one provider is needed");
  }
  const concurrency = deps.concurrency ?? 8;
  const exclude = new Set([...(request.exclude ?? [])].map((a) => a.toLowerCase()));

  if (request.providers !== undefined && request.providers.length > 0) {
    const addresses = await resolveExplicit(request.providers, deps.registry);
    if (addresses.length < request.count) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `--providers lists ${addresses.length} provider(s) but the file needs ${request.count} (k + m)`,
      );
    }
    const results = await mapLimit(addresses, concurrency, (address) => evaluate(address, request, deps));
    const offers: ProviderOffer[] = [];
    for (const result of results) {
      if ("reason" in result) {
        throw new StrataError(
          "PROVIDER_UNUSABLE",
          `provider ${result.address} cannot be used: ${result.reason}`,
          {
            details: "remove it from --providers, or leave --providers out to choose automatically",
          },
        );
      }
      offers.push(result);
    }
    return { chosen: offers.slice(0, request.count), spares: offers.slice(request.count), rejected: [] };
  }

  const count = await deps.registry.providerCount();
  const indexes = Array.from({ length: Number(count) }, (_, i) => BigInt(i));
  const addresses = await mapLimit(indexes, concurrency, (i) => deps.registry.providerAt(i));
  const candidates = [...new Set(addresses.map((a) => getAddress(a)))].filter(
    (a) => !exclude.has(a.toLowerCase()),
  );
  const results = await mapLimit(candidates, concurrency, (address) => evaluate(address, request, deps));
  const usable = results.filter((r): r is ProviderOffer => !("reason" in r)).sort(byCost);
  const rejected = results.filter((r): r is RejectedProvider => "reason" in r);
  if (usable.length < request.count) {
    const why = rejected.map((r) => `${r.address}: ${r.reason}`).join("; ");
    throw new StrataError(
      "NOT_ENOUGH_PROVIDERS",
      `${usable.length} usable provider(s) for ${request.count} pieces (k + m) among ${candidates.length} registered`,
      {
        details:
          (why === "" ? "" : `${why}. `) +
          "Start more provider agents, raise --max-price, lower --min-collateral, or use a smaller --k/--m",
      },
    );
  }
  return { chosen: usable.slice(0, request.count), spares: usable.slice(request.count), rejected };
}

function byCost(a: ProviderOffer, b: ProviderOffer): number {
  if (a.terms.pricePerTiBMonth !== b.terms.pricePerTiBMonth) {
    return a.terms.pricePerTiBMonth < b.terms.pricePerTiBMonth ? -1 : 1;
  }
  if (a.terms.collateralPerTiB !== b.terms.collateralPerTiB) {
    return a.terms.collateralPerTiB > b.terms.collateralPerTiB ? -1 : 1;
  }
  return a.address.toLowerCase() < b.address.toLowerCase() ? -1 : 1;
}

/** Explicit entries (addresses or endpoint URLs) to provider addresses, in order, without duplicates. */
async function resolveExplicit(entries: readonly string[], registry: RegistryReader): Promise<string[]> {
  let byEndpoint: Map<string, string> | undefined;
  const out: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    let address: string;
    const isAddressEntry: boolean = isAddress(entry);
    if (isAddressEntry) {
      address = getAddress(entry);
    } else if (/^https?:\/\//.test(entry)) {
      byEndpoint ??= await endpointIndex(registry);
      const found = byEndpoint.get(normalizeEndpoint(entry));
      if (found === undefined) {
        throw new StrataError("PROVIDER_UNUSABLE", `no registered provider has the endpoint ${entry}`, {
          details: "list providers by address, or check the endpoint registered on chain",
        });
      }
      address = found;
    } else {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `--providers: "${entry}" is neither an address nor an http(s) URL`,
      );
    }
    if (out.includes(address)) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `--providers lists ${address} twice; each piece needs its own provider`,
      );
    }
    out.push(address);
  }
  return out;
}

async function endpointIndex(registry: RegistryReader): Promise<Map<string, string>> {
  const count = await registry.providerCount();
  const map = new Map<string, string>();
  for (let i = 0n; i < count; i++) {
    const address = getAddress(await registry.providerAt(i));
    const info = await registry.providerInfo(address);
    if (info.registered) map.set(normalizeEndpoint(info.endpoint), address);
  }
  return map;
}

function normalizeEndpoint(url: string): string {
  return url.trim().replace(/\/+$/, "").toLowerCase();
}

/** Check one provider against the request; never throws (a failure is a rejection reason). */
async function evaluate(
  address: string,
  request: SelectProvidersRequest,
  deps: SelectProvidersDeps,
): Promise<ProviderOffer | RejectedProvider> {
  let endpoint = "";
  const reject = (reason: string): RejectedProvider => ({ address, endpoint, reason });
  try {
    const info = await deps.registry.providerInfo(address);
    endpoint = info.endpoint;
    if (!info.registered) return reject("not registered");
    if (!/^https?:\/\//.test(endpoint))
      return reject(`registered endpoint "${endpoint}" is not an http(s) URL`);
    const agent = deps.agentFor(endpoint);
    const [health, terms, stake] = await Promise.all([
      agent.health(),
      agent.terms(),
      deps.registry.stakeInfo(address),
    ]);
    if (!health.ok) return reject("its agent reports it is not healthy");
    if (
      health.provider.toLowerCase() !== address.toLowerCase() ||
      terms.provider.toLowerCase() !== address.toLowerCase()
    ) {
      return reject(`its endpoint answers for another provider (${health.provider})`);
    }
    if (health.chainId !== request.chainId || health.market.toLowerCase() !== request.market.toLowerCase()) {
      return reject(`its agent serves chain ${health.chainId} market ${health.market}`);
    }
    if (terms.provingPeriod !== request.provingPeriod) {
      return reject(
        `its agent assumes a ${terms.provingPeriod}s proving period, the market has ${request.provingPeriod}s`,
      );
    }
    if (request.maxPricePerTiBMonth !== null && terms.pricePerTiBMonth > request.maxPricePerTiBMonth) {
      return reject(
        `asks ${terms.pricePerTiBMonth} per TiB-month, above the maximum ${request.maxPricePerTiBMonth}`,
      );
    }
    if (request.pieceSize > terms.maxPieceBytes) {
      return reject(`takes pieces up to ${terms.maxPieceBytes} bytes, the pieces are ${request.pieceSize}`);
    }
    if (terms.collateralPerTiB < request.minCollateralPerTiB) {
      return reject(
        `locks ${terms.collateralPerTiB} collateral per TiB, below the minimum ${request.minCollateralPerTiB}`,
      );
    }
    const collateral = collateralForSpan(
      terms.collateralPerTiB,
      BigInt(leafCount(Number(request.pieceSize))),
    );
    if (stake.free < collateral) {
      return reject(`has ${stake.free} free stake, the piece's collateral is ${collateral}`);
    }
    return { address, endpoint, terms, freeStake: stake.free, collateral };
  } catch (error) {
    return reject(error instanceof Error ? error.message : String(error));
  }
}
