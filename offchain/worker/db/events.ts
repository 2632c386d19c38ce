/**
 * Decoded contract events as the indexer hands them to the database: one variant per indexed event, each with
 * its position in the chain. Ids, amounts, periods and seed blocks are bigints (as ethers decodes them).
 */

/** Where an event sits in the chain. */
export interface ChainPosition {
  blockNumber: number;
  logIndex: number;
  txHash: string;
}

export type IndexedEvent = ChainPosition &
  (
    | {
        kind: "DataSetCreated";
        dataSetId: bigint;
        client: string;
        provider: string;
        pricePerTiBMonth: bigint;
        collateralPerTiB: bigint;
        noticePeriods: bigint;
        nonce: bigint;
      }
    | {
        /** A signed state took effect (or, at the data set's current version with span 0, it left its class). */
        kind: "DataSetUpdated";
        dataSetId: bigint;
        version: bigint;
        root: string;
        span: bigint;
        effectivePeriod: bigint;
      }
    | { kind: "DataSetToppedUp"; dataSetId: bigint; from: string; amount: bigint }
    | { kind: "DataSetSettled"; dataSetId: bigint; amount: bigint; leafSeconds: bigint }
    | { kind: "DataSetTerminated"; dataSetId: bigint; by: string; reason: number; endPeriod: bigint }
    | {
        kind: "DataSetEnded";
        dataSetId: bigint;
        /** IStorageMarket.EndReason. */
        reason: number;
        paidToProvider: bigint;
        refundedToClient: bigint;
        compensationToClient: bigint;
        collateralReleased: bigint;
      }
    | {
        kind: "Slashed";
        provider: string;
        dataSetId: bigint;
        toHarmed: bigint;
        toReporter: bigint;
        toTreasury: bigint;
      }
    | { kind: "ProofSubmitted"; provider: string; period: bigint; nextSeedBlock: bigint }
    | { kind: "FaultDeclared"; provider: string; period: bigint; dataSetId: bigint }
    | {
        kind: "MissedProofsReported";
        provider: string;
        fromPeriod: bigint;
        count: bigint;
        /** The zero address when a change recorded the periods (no bounty). */
        reporter: string;
        bounty: bigint;
        nextSeedBlock: bigint;
      }
    | { kind: "ChallengeSeedScheduled"; provider: string; period: bigint; seedBlock: bigint }
    | { kind: "ParametersSet"; contract: "market" | "retrieval" | "compute"; params: Record<string, bigint> }
    | {
        kind: "ProviderRegistered" | "ProviderUpdated";
        provider: string;
        payee: string;
        endpoint: string;
      }
    | { kind: "ProviderDeregistered"; provider: string }
    | {
        kind: "RetrievalChallengeOpened";
        challengeId: bigint;
        dataSetId: bigint;
        provider: string;
        challenger: string;
        leafIndex: bigint;
        deadline: bigint;
        bond: bigint;
      }
    | { kind: "RetrievalChallengeAnswered"; challengeId: bigint; dataSetId: bigint; provider: string }
    | {
        kind: "RetrievalChallengeFailed";
        challengeId: bigint;
        dataSetId: bigint;
        provider: string;
        enforcer: string;
      }
    | { kind: "RetrievalChallengeVoided"; challengeId: bigint; dataSetId: bigint }
    | ComputeEvent
  );

/** The compute market's events (IComputeMarket), as indexed. */
export type ComputeEvent =
  | {
      kind: "OrderCreated";
      orderId: bigint;
      tenant: string;
      cpuMillicores: bigint;
      memoryMiB: bigint;
      storageGiB: bigint;
      gpuCount: bigint;
      /** bytes16, lowercase hex. */
      gpuModel: string;
      /** bytes16, lowercase hex. */
      region: string;
      workloadHash: string;
      maxPricePerSecond: bigint;
      deposit: bigint;
      duration: bigint;
      expiresAt: bigint;
      minCollateral: bigint;
      minNoticeWindow: bigint;
      closeBounty: bigint;
    }
  | { kind: "OrderCancelled" | "OrderExpired"; orderId: bigint; refund: bigint }
  | {
      kind: "BidCreated";
      orderId: bigint;
      provider: string;
      pricePerSecond: bigint;
      collateral: bigint;
      noticeWindow: bigint;
    }
  | { kind: "BidWithdrawn" | "BidRejected"; orderId: bigint; provider: string; collateralReleased: bigint }
  | {
      kind: "LeaseStarted";
      leaseId: bigint;
      tenant: string;
      provider: string;
      pricePerSecond: bigint;
      collateral: bigint;
      noticeWindow: bigint;
      escrow: bigint;
      closeBounty: bigint;
      startedAt: bigint;
      endsAt: bigint;
      heartbeatPeriod: bigint;
      maxMissedHeartbeats: bigint;
    }
  | { kind: "LeaseToppedUp"; leaseId: bigint; payer: string; amount: bigint; escrow: bigint }
  | { kind: "LeaseSettled"; leaseId: bigint; amount: bigint; paidSeconds: bigint; escrow: bigint }
  | { kind: "HeartbeatPosted"; leaseId: bigint; period: bigint }
  | {
      kind: "MissedHeartbeatsReported";
      leaseId: bigint;
      reporter: string;
      fromPeriod: bigint;
      count: bigint;
      refunded: bigint;
      bounty: bigint;
    }
  | { kind: "LeaseNoticeGiven"; leaseId: bigint; endsAt: bigint }
  | {
      kind: "LeaseClosed";
      leaseId: bigint;
      /** IComputeMarket.CloseReason. */
      reason: number;
      closer: string;
      paidToProvider: bigint;
      refundedToTenant: bigint;
      bountyToCloser: bigint;
      compensationToTenant: bigint;
      collateralReleased: bigint;
    }
  | {
      kind: "LeaseSlashed";
      provider: string;
      leaseId: bigint;
      toTenant: bigint;
      toReporter: bigint;
      toTreasury: bigint;
    };

export type IndexedEventKind = IndexedEvent["kind"];

const COMPUTE_EVENT_KINDS: ReadonlySet<string> = new Set<ComputeEvent["kind"]>([
  "OrderCreated",
  "OrderCancelled",
  "OrderExpired",
  "BidCreated",
  "BidWithdrawn",
  "BidRejected",
  "LeaseStarted",
  "LeaseToppedUp",
  "LeaseSettled",
  "HeartbeatPosted",
  "MissedHeartbeatsReported",
  "LeaseNoticeGiven",
  "LeaseClosed",
  "LeaseSlashed",
]);

/** Whether `event` is one of the compute market's (its own tables; see leaseWrites.ts). */
export function isComputeEvent(event: IndexedEvent): event is ChainPosition & ComputeEvent {
  return COMPUTE_EVENT_KINDS.has(event.kind);
}

/** What one indexer step writes atomically: the events of blocks [from, to] and hashes of some of them. */
export interface IndexBatch {
  /** First block of the range (must be the cursor + 1). */
  from: number;
  /** Last block of the range: the new cursor. */
  to: number;
  /** Events in chain order. */
  events: IndexedEvent[];
  /** Hashes of `to` and of every block that had a log (for finding the common ancestor after a reorg). */
  blocks: { number: number; hash: string }[];
}
