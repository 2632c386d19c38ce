// EIP-712 message of a repair mandate (docs/SPEC.md §16.1): the owner signs it when storing; anyone may submit it
// to the RepairMandateFactory, which opens the mandate's wallet and moves the budget into it.
import type { Signer, TypedDataDomain, TypedDataField } from "ethers";

/** EIP-712 domain name and version of the RepairMandateFactory. */
export const MANDATE_DOMAIN = { name: "Strata RepairMandates", version: "1" } as const;

/** The factory's EIP-712 domain on `chainId` at `factory`. */
export function mandateDomain(chainId: bigint, factory: string): TypedDataDomain {
  return { ...MANDATE_DOMAIN, chainId, verifyingContract: factory };
}

/** Terms of a repair mandate (mirrors `IRepairMandate.Terms`). */
export interface MandateTerms {
  owner: string;
  /** Root of the file's piece list (`PieceList.root`). */
  piecesRoot: string;
  pieceCount: number;
  /** Highest price per TiB-month of a repair data set, in token base units. */
  priceCeiling: bigint;
  /** Lowest collateral per TiB of a repair data set. */
  collateralFloor: bigint;
  noticePeriods: bigint;
  /** Proving periods paid into a repair data set beyond its lockup. */
  prepaidPeriods: bigint;
  /** Reward per repair (the contract caps it). */
  repairReward: bigint;
  /** Tokens moved from the owner into the mandate when it opens. */
  budget: bigint;
  /** Providers never chosen (at most 8). */
  excluded: string[];
  nonce: bigint;
  deadline: bigint;
}

export const MANDATE_TYPES: Record<string, TypedDataField[]> = {
  RepairMandate: [
    { name: "owner", type: "address" },
    { name: "piecesRoot", type: "bytes32" },
    { name: "pieceCount", type: "uint32" },
    { name: "priceCeiling", type: "uint128" },
    { name: "collateralFloor", type: "uint128" },
    { name: "noticePeriods", type: "uint32" },
    { name: "prepaidPeriods", type: "uint32" },
    { name: "repairReward", type: "uint128" },
    { name: "budget", type: "uint128" },
    { name: "excluded", type: "address[]" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
};

/** The owner's signature over `terms`. */
export async function signMandate(
  owner: Signer,
  chainId: bigint,
  factory: string,
  terms: MandateTerms,
): Promise<string> {
  return owner.signTypedData(mandateDomain(chainId, factory), MANDATE_TYPES, { ...terms });
}
