// What storing a payload would cost, without moving money (`strata store --dry-run`): the providers a store
// would choose for its k + m pieces, each one's price and the collateral it locks, and the escrow the store
// would add (the paid periods plus each data set's notice lockup), all in token base units.
import { TAG_BYTES } from "../data/encryption.js";
import { checkCoding, shardSizeFor } from "../data/erasure.js";
import { pieceHeight } from "../datasets/placement.js";
import { MONTH_SECONDS } from "../datasets/money.js";
import { replicaPieceSize } from "../manifest/manifest.js";
import { costFor, type DataSetReader } from "./dataSets.js";
import { selectProviders, type RegistryReader, type SelectProvidersDeps } from "./selectProviders.js";

export interface EstimateRequest {
  /** Plaintext bytes of the payload (one file or a bundle). */
  payloadBytes: number;
  k: number;
  m: number;
  /** A public payload: stored as is (no encryption tag, no coding), k = 1 and m extra full replicas. */
  public?: boolean;
  periods: bigint;
  maxPricePerTiBMonth: bigint | null;
  minCollateralPerTiB: bigint;
  providers?: readonly string[];
}

export interface EstimateDeps {
  chainId: bigint;
  market: Pick<DataSetReader, "provingPeriod"> & { getAddress(): Promise<string> };
  registry: RegistryReader;
  agentFor: SelectProvidersDeps["agentFor"];
}

export interface ProviderEstimate {
  piece: number;
  address: string;
  endpoint: string;
  pricePerTiBMonth: bigint;
  /** Collateral the provider locks for the piece. */
  collateral: bigint;
  /** The piece's cost for the paid periods alone. */
  periodCost: bigint;
  /** Escrow the store adds for the piece: paid periods, plus the notice and settlement lockup. */
  escrow: bigint;
}

export interface StoreEstimate {
  pieceSize: number;
  /** Bytes billed per piece (its aligned subtree: 64 · 2^height). */
  billedBytes: bigint;
  periods: bigint;
  provingPeriod: bigint;
  providers: ProviderEstimate[];
  /** All pieces, per 30 days. */
  perMonth: bigint;
  /** All pieces, for the paid periods. */
  periodCost: bigint;
  /** Escrow the store would add in all (an upper bound: a data set's existing escrow lowers it). */
  escrow: bigint;
  collateral: bigint;
}

/** The cost of storing `payloadBytes` with k + m providers for `periods` proving periods, without moving money. */
export async function estimateStore(request: EstimateRequest, deps: EstimateDeps): Promise<StoreEstimate> {
  checkCoding(request.k, request.m);
  const provingPeriod = await deps.market.provingPeriod();
  const pieceSize =
    request.public === true
      ? replicaPieceSize(request.payloadBytes)
      : shardSizeFor(request.payloadBytes + TAG_BYTES, request.k);
  const selection = await selectProviders(
    {
      count: request.k + request.m,
      pieceSize: BigInt(pieceSize),
      chainId: deps.chainId,
      market: await deps.market.getAddress(),
      provingPeriod,
      maxPricePerTiBMonth: request.maxPricePerTiBMonth,
      minCollateralPerTiB: request.minCollateralPerTiB,
      ...(request.providers === undefined ? {} : { providers: request.providers }),
    },
    { registry: deps.registry, agentFor: deps.agentFor },
  );
  const leaves = 2n ** BigInt(pieceHeight(pieceSize));
  const providers = selection.chosen.map((offer, piece) => ({
    piece,
    address: offer.address,
    endpoint: offer.endpoint,
    pricePerTiBMonth: offer.terms.pricePerTiBMonth,
    collateral: offer.collateral,
    periodCost: costFor(offer.terms.pricePerTiBMonth, leaves, request.periods * provingPeriod),
    escrow: costFor(
      offer.terms.pricePerTiBMonth,
      leaves,
      (offer.terms.noticePeriods + 2n + request.periods) * provingPeriod,
    ),
  }));
  const sum = (pick: (p: ProviderEstimate) => bigint) => providers.reduce((total, p) => total + pick(p), 0n);
  return {
    pieceSize,
    billedBytes: leaves * 64n,
    periods: request.periods,
    provingPeriod,
    providers,
    perMonth: providers.reduce((total, p) => total + costFor(p.pricePerTiBMonth, leaves, MONTH_SECONDS), 0n),
    periodCost: sum((p) => p.periodCost),
    escrow: sum((p) => p.escrow),
    collateral: sum((p) => p.collateral),
  };
}
