import type { Signer, TypedDataDomain } from "ethers";
import type { DealProposal } from "./terms.js";

/** EIP-712 domain name and version of the StorageMarket. */
export const STORAGE_MARKET_DOMAIN = { name: "Strata StorageMarket", version: "1" } as const;

export const DEAL_PROPOSAL_TYPES = {
  DealProposal: [
    { name: "client", type: "address" },
    { name: "provider", type: "address" },
    { name: "root", type: "bytes32" },
    { name: "size", type: "uint64" },
    { name: "duration", type: "uint64" },
    { name: "pricePerSecond", type: "uint128" },
    { name: "collateral", type: "uint128" },
    { name: "startDeadline", type: "uint64" },
    { name: "nonce", type: "uint64" },
  ],
};

export const DEAL_EXTENSION_TYPES = {
  DealExtension: [
    { name: "dealId", type: "uint64" },
    { name: "newEndPeriod", type: "uint32" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
};

/** A client's consent to extend a deal: mirrors IStorageMarket.DealExtension. */
export interface DealExtension {
  dealId: bigint;
  newEndPeriod: bigint;
  nonce: bigint;
  deadline: bigint;
}

/** The market's EIP-712 domain on `chainId` at `market`. */
export function marketDomain(chainId: bigint, market: string): TypedDataDomain {
  return { ...STORAGE_MARKET_DOMAIN, chainId, verifyingContract: market };
}

/** Sign a proposal as its client. */
export async function signProposal(
  client: Signer,
  domain: TypedDataDomain,
  proposal: DealProposal,
): Promise<string> {
  return client.signTypedData(domain, DEAL_PROPOSAL_TYPES, proposal);
}

/** Sign an extension as the deal's client. */
export async function signExtension(
  client: Signer,
  domain: TypedDataDomain,
  extension: DealExtension,
): Promise<string> {
  return client.signTypedData(domain, DEAL_EXTENSION_TYPES, extension);
}
