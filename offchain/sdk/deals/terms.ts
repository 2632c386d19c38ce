import { AbiCoder, keccak256, type Log, type LogDescription } from "ethers";

/** What a client signs: mirrors IStorageMarket.DealProposal. */
export interface DealProposal {
  client: string;
  provider: string;
  root: string;
  size: bigint;
  duration: bigint;
  pricePerSecond: bigint;
  collateral: bigint;
  startDeadline: bigint;
  nonce: bigint;
}

/** A published deal's immutable terms: mirrors IStorageMarket.Deal. */
export interface DealTerms {
  id: bigint;
  client: string;
  provider: string;
  root: string;
  size: bigint;
  startPeriod: bigint;
  endPeriod: bigint;
  pricePerSecond: bigint;
  collateral: bigint;
}

const coder = AbiCoder.defaultAbiCoder();

/** keccak256(abi.encode(id, client, provider, startPeriod, pricePerSecond, collateral)). */
export function partiesHash(deal: DealTerms): string {
  return keccak256(
    coder.encode(
      ["uint64", "address", "address", "uint32", "uint128", "uint128"],
      [deal.id, deal.client, deal.provider, deal.startPeriod, deal.pricePerSecond, deal.collateral],
    ),
  );
}

/** The `meta` word of a challenge answer: size | endPeriod << 64. */
export function dealMeta(deal: Pick<DealTerms, "size" | "endPeriod">): bigint {
  return deal.size | (deal.endPeriod << 64n);
}

/** The 160-bit commitment the market stores for `deal`. */
export function termsHash(deal: DealTerms): bigint {
  const full = keccak256(
    coder.encode(
      ["bytes32", "uint64", "uint32", "bytes32"],
      [deal.root, deal.size, deal.endPeriod, partiesHash(deal)],
    ),
  );
  return BigInt(full) & ((1n << 160n) - 1n);
}

/** Deal terms from a parsed `DealPublished` event. */
export function dealFromEvent(event: LogDescription | (Log & { args: unknown })): DealTerms {
  const args = (event as { args: Record<string, unknown> }).args;
  const big = (key: string): bigint => args[key] as bigint;
  return {
    id: big("id"),
    client: args.client as string,
    provider: args.provider as string,
    root: args.root as string,
    size: big("size"),
    startPeriod: big("startPeriod"),
    endPeriod: big("endPeriod"),
    pricePerSecond: big("pricePerSecond"),
    collateral: big("collateral"),
  };
}

/** Terms with a new end period (after an extension). */
export function withEndPeriod(deal: DealTerms, endPeriod: bigint): DealTerms {
  return { ...deal, endPeriod };
}
