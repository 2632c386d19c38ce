/**
 * What the dashboard reads from the chain (never writes): the token's symbol and decimals, providers' stake,
 * a data set's and a lease's live record, block times and the proving clock. An interface, so that view tests
 * pass a stand-in; `chainReadsFor(WorkerChain)` is the real one, with the worker's retrying reads.
 */
import type { WorkerChain } from "../chain.js";
import type { TokenInfo } from "./format.js";

export interface StakeView {
  free: bigint;
  locked: bigint;
  unbonding: bigint;
  /** Timestamp from which the unbonding stake can be withdrawn (0: none). */
  unbondingReleaseAt: bigint;
  /** The provider's proof bond, held by the storage market (outside its registry stake) until its last data set closes. */
  proofBond: bigint;
}

/** IStorageMarket.DataSetView, the fields the data-set page shows. */
export interface DataSetChainView {
  /** IStorageMarket.Status (0 None … 3 Finalized). */
  status: number;
  version: bigint;
  span: bigint;
  frozenSpan: bigint;
  escrow: bigint;
  paid: bigint;
  endPeriod: bigint;
  paidThrough: bigint;
  missedFaults: bigint;
  declaredFaults: bigint;
  /** Tokens a settlement would pay the provider now. */
  settleable: bigint;
}

/** IComputeMarket.getLease + leaseAccrual for a live lease. */
export interface LeaseChainView {
  escrow: bigint;
  collateral: bigint;
  paidSeconds: bigint;
  missedHeartbeats: bigint;
  nextPeriod: bigint;
  endsAt: bigint;
  currentPeriod: bigint;
  heartbeatDue: boolean;
  reportablePeriods: bigint;
  settleable: bigint;
  overdrawn: boolean;
  fundedUntil: bigint;
}

export interface DashboardChain {
  token(): Promise<TokenInfo>;
  /** Timestamp of the latest block. */
  now(): Promise<bigint>;
  provingPeriod: bigint;
  genesis: bigint;
  stake(provider: string): Promise<StakeView>;
  /** Null when the chain has no such data set. */
  dataSet(id: bigint): Promise<DataSetChainView | null>;
  /** Null when the lease is not live on chain (closed, or none), or there is no compute market. */
  lease(id: bigint): Promise<LeaseChainView | null>;
  /** Timestamps of the given blocks (cached: confirmed blocks do not change). */
  blockTimes(blocks: readonly number[]): Promise<Map<number, bigint>>;
}

/** Block timestamps kept at most (a page shows a few hundred rows). */
const BLOCK_TIME_CACHE = 20_000;

/** The real chain reads, through the worker's retrying reads. */
export function chainReadsFor(chain: WorkerChain): DashboardChain {
  let token: Promise<TokenInfo> | undefined;
  const times = new Map<number, bigint>();
  return {
    provingPeriod: chain.provingPeriod,
    genesis: chain.genesis,
    token() {
      token ??= chain
        .read("token symbol and decimals", () => Promise.all([chain.token.symbol(), chain.token.decimals()]))
        .then(([symbol, decimals]) => ({ symbol, decimals: Number(decimals) }));
      token.catch(() => {
        token = undefined; // read again next time
      });
      return token;
    },
    now: () => chain.now(),
    async stake(provider) {
      const [s, [proofBond]] = await chain.read("stakeInfo", () =>
        Promise.all([chain.registry.stakeInfo(provider), chain.market.proofBond(provider)]),
      );
      return {
        free: s.free,
        locked: s.locked,
        unbonding: s.unbonding,
        unbondingReleaseAt: s.unbondingReleaseAt,
        proofBond,
      };
    },
    async dataSet(id) {
      const [d, settleable] = await chain.read("dataSet", () =>
        Promise.all([chain.market.dataSet(id), chain.market.settleableAmount(id).catch(() => 0n)]),
      );
      if (d.status === 0n) return null;
      return {
        status: Number(d.status),
        version: d.version,
        span: d.span,
        frozenSpan: d.frozenSpan,
        escrow: d.escrow,
        paid: d.paid,
        endPeriod: d.endPeriod,
        paidThrough: d.paidThrough,
        missedFaults: d.missedFaults,
        declaredFaults: d.declaredFaults,
        settleable,
      };
    },
    async lease(id) {
      const compute = chain.compute;
      if (compute === null) return null;
      const [l, a] = await chain.read("getLease", () =>
        Promise.all([compute.getLease(id), compute.leaseAccrual(id)]),
      );
      if (!a.active) return null;
      return {
        escrow: l.escrow,
        collateral: l.collateral,
        paidSeconds: l.paidSeconds,
        missedHeartbeats: l.missedHeartbeats,
        nextPeriod: l.nextPeriod,
        endsAt: l.endsAt,
        currentPeriod: a.currentPeriod,
        heartbeatDue: a.heartbeatDue,
        reportablePeriods: a.reportablePeriods,
        settleable: a.settleable,
        overdrawn: a.overdrawn,
        fundedUntil: a.fundedUntil,
      };
    },
    async blockTimes(blocks) {
      const unique = [...new Set(blocks)];
      if (times.size + unique.length > BLOCK_TIME_CACHE) times.clear();
      const missing = unique.filter((b) => !times.has(b));
      // A few at a time: a page's rows come from a handful of blocks, and the node serves other clients too.
      for (let i = 0; i < missing.length; i += 16) {
        const slice = missing.slice(i, i + 16);
        const found = await Promise.all(
          slice.map((n) => chain.read("block time", () => chain.provider.getBlock(n))),
        );
        found.forEach((block, j) => {
          const n = slice[j];
          if (block !== null && n !== undefined) times.set(n, BigInt(block.timestamp));
        });
      }
      return new Map(blocks.flatMap((b) => (times.has(b) ? [[b, times.get(b) ?? 0n] as const] : [])));
    },
  };
}
