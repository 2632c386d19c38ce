/**
 * Decoding the logs of the market, the registry, the retrieval-challenge contract and the compute market into
 * `IndexedEvent`s with the typechain ABIs. Only the events the index stores are requested (`topics`), so a busy registry's stake
 * and collateral events never travel over the wire.
 */
import {
  getAddress as checksum,
  LogDescription,
  type EventFragment,
  type Interface,
  type Log,
  type Result,
} from "ethers";
import {
  IComputeMarket__factory,
  IRetrievalChallenges__factory,
  ProviderRegistry__factory,
  StorageMarket__factory,
} from "../../../typechain-types/index.js";
import { StrataError } from "../../sdk/errors.js";
import type { WorkerDeployment } from "../config.js";
import type { ComputeEvent, IndexedEvent } from "../db/events.js";

type Source = "market" | "registry" | "retrieval" | "compute";

const EVENTS: Record<Source, readonly string[]> = {
  market: [
    "DataSetCreated",
    "DataSetUpdated",
    "DataSetToppedUp",
    "DataSetSettled",
    "DataSetTerminated",
    "DataSetEnded",
    "Slashed",
    "ProofSubmitted",
    "FaultDeclared",
    "MissedProofsReported",
    "ChallengeSeedScheduled",
    "ParametersSet",
  ],
  registry: ["ProviderRegistered", "ProviderUpdated", "ProviderDeregistered"],
  retrieval: [
    "RetrievalChallengeOpened",
    "RetrievalChallengeAnswered",
    "RetrievalChallengeFailed",
    "RetrievalChallengeVoided",
    "ParametersSet",
  ],
  compute: [
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
    "ParametersSet",
  ],
};

const INTERFACES: Record<Source, Interface> = {
  market: StorageMarket__factory.createInterface(),
  registry: ProviderRegistry__factory.createInterface(),
  retrieval: IRetrievalChallenges__factory.createInterface(),
  compute: IComputeMarket__factory.createInterface(),
};

/**
 * Checksummed address, memoised: the same few thousand addresses recur in every batch, and checksumming costs a
 * keccak each time (it dominated catch-up profiles before this cache).
 */
const checksums = new Map<string, string>();
function getAddress(address: string): string {
  let known = checksums.get(address);
  if (known === undefined) {
    known = checksum(address);
    if (checksums.size >= 100_000) checksums.clear();
    checksums.set(address, known);
  }
  return known;
}

/** The addresses a decoder follows; the compute market is optional (absent or null: not followed). */
export type FollowedContracts = Pick<WorkerDeployment, "market" | "registry" | "retrievalChallenges"> & {
  computeMarket?: string | null;
};

/** What the indexer asks eth_getLogs for, and how it decodes the answers. */
export class LogDecoder {
  /** Contract addresses, checksummed. */
  readonly addresses: string[];
  /** topic0 values of the indexed events (OR-ed in the filter's first topic position). */
  readonly topics: string[];
  private readonly sources = new Map<string, Source>();
  /** Indexed events by topic0 per source: `Interface.parseLog` recomputes every fragment's topic hash per log. */
  private readonly fragments = new Map<Source, Map<string, EventFragment>>();

  constructor(deployment: FollowedContracts) {
    this.sources.set(getAddress(deployment.market), "market");
    this.sources.set(getAddress(deployment.registry), "registry");
    if (deployment.retrievalChallenges !== null) {
      this.sources.set(getAddress(deployment.retrievalChallenges), "retrieval");
    }
    if (deployment.computeMarket !== undefined && deployment.computeMarket !== null) {
      this.sources.set(getAddress(deployment.computeMarket), "compute");
    }
    this.addresses = [...this.sources.keys()];
    const topics = new Set<string>();
    for (const source of new Set(this.sources.values())) {
      const byTopic = new Map<string, EventFragment>();
      for (const name of EVENTS[source]) {
        const event = INTERFACES[source].getEvent(name);
        if (event) {
          topics.add(event.topicHash);
          byTopic.set(event.topicHash, event);
        }
      }
      this.fragments.set(source, byTopic);
    }
    this.topics = [...topics];
  }

  /**
   * The event in `log`, or null when it is not one the index stores. Throws when a log of one of the
   * contracts cannot be decoded (the caller skips it with a warning).
   */
  decode(log: Log): IndexedEvent | null {
    const source = this.sources.get(getAddress(log.address));
    if (source === undefined) return null;
    const topic0 = log.topics[0]?.toLowerCase();
    const fragment = topic0 === undefined ? undefined : this.fragments.get(source)?.get(topic0);
    if (topic0 === undefined || fragment === undefined) return null;
    const args = INTERFACES[source].decodeEventLog(fragment, log.data, log.topics);
    const parsed = new LogDescription(fragment, topic0, args);
    const at = { blockNumber: log.blockNumber, logIndex: log.index, txHash: log.transactionHash };
    const compute = source === "compute" && parsed.name !== "ParametersSet";
    return { ...at, ...(compute ? computeFields(parsed) : fields(source, parsed)) };
  }
}

type EventFields = IndexedEvent extends infer E
  ? E extends unknown
    ? Omit<E, "blockNumber" | "logIndex" | "txHash">
    : never
  : never;

function fields(source: Source, event: LogDescription): EventFields {
  const a = event.args;
  const big = (name: string): bigint => {
    const value: unknown = a.getValue(name);
    if (typeof value !== "bigint")
      throw new StrataError("EVENT_UNEXPECTED", `${event.name}.${name} is not an integer`);
    return value;
  };
  const addr = (name: string): string => getAddress(String(a.getValue(name)));
  const text = (name: string): string => String(a.getValue(name));
  switch (event.name) {
    case "DataSetCreated":
      return {
        kind: "DataSetCreated",
        dataSetId: big("id"),
        client: addr("client"),
        provider: addr("provider"),
        pricePerTiBMonth: big("pricePerTiBMonth"),
        collateralPerTiB: big("collateralPerTiB"),
        noticePeriods: big("noticePeriods"),
        nonce: big("nonce"),
      };
    case "DataSetUpdated":
      return {
        kind: "DataSetUpdated",
        dataSetId: big("id"),
        version: big("version"),
        root: text("root").toLowerCase(),
        span: big("span"),
        effectivePeriod: big("effectivePeriod"),
      };
    case "DataSetToppedUp":
      return { kind: "DataSetToppedUp", dataSetId: big("id"), from: addr("from"), amount: big("amount") };
    case "DataSetSettled":
      return {
        kind: "DataSetSettled",
        dataSetId: big("id"),
        amount: big("amount"),
        leafSeconds: big("leafSeconds"),
      };
    case "DataSetTerminated":
      return {
        kind: "DataSetTerminated",
        dataSetId: big("id"),
        by: addr("by"),
        reason: Number(big("reason")),
        endPeriod: big("endPeriod"),
      };
    case "DataSetEnded":
      return {
        kind: "DataSetEnded",
        dataSetId: big("id"),
        reason: Number(big("reason")),
        paidToProvider: big("paidToProvider"),
        refundedToClient: big("refundedToClient"),
        compensationToClient: big("compensationToClient"),
        collateralReleased: big("collateralReleased"),
      };
    case "Slashed":
      return {
        kind: "Slashed",
        provider: addr("provider"),
        dataSetId: big("dataSetId"),
        toHarmed: big("toHarmed"),
        toReporter: big("toReporter"),
        toTreasury: big("toTreasury"),
      };
    case "ProofSubmitted":
      return {
        kind: "ProofSubmitted",
        provider: addr("provider"),
        period: big("period"),
        nextSeedBlock: big("nextSeedBlock"),
      };
    case "FaultDeclared":
      return {
        kind: "FaultDeclared",
        provider: addr("provider"),
        period: big("period"),
        dataSetId: big("dataSetId"),
      };
    case "MissedProofsReported":
      return {
        kind: "MissedProofsReported",
        provider: addr("provider"),
        fromPeriod: big("fromPeriod"),
        count: big("count"),
        reporter: addr("reporter"),
        bounty: big("bounty"),
        nextSeedBlock: big("nextSeedBlock"),
      };
    case "ChallengeSeedScheduled":
      return {
        kind: "ChallengeSeedScheduled",
        provider: addr("provider"),
        period: big("period"),
        seedBlock: big("seedBlock"),
      };
    case "ParametersSet":
      return {
        kind: "ParametersSet",
        contract: source === "retrieval" ? "retrieval" : source === "compute" ? "compute" : "market",
        params: structToBigints(a.getValue("params") as Result),
      };
    case "ProviderRegistered":
    case "ProviderUpdated":
      return {
        kind: event.name,
        provider: addr("provider"),
        payee: addr("payee"),
        endpoint: text("endpoint"),
      };
    case "ProviderDeregistered":
      return { kind: "ProviderDeregistered", provider: addr("provider") };
    case "RetrievalChallengeOpened":
      return {
        kind: "RetrievalChallengeOpened",
        challengeId: big("challengeId"),
        dataSetId: big("dataSetId"),
        provider: addr("provider"),
        challenger: addr("challenger"),
        leafIndex: big("leafIndex"),
        deadline: big("deadline"),
        bond: big("bond"),
      };
    case "RetrievalChallengeAnswered":
      return {
        kind: "RetrievalChallengeAnswered",
        challengeId: big("challengeId"),
        dataSetId: big("dataSetId"),
        provider: addr("provider"),
      };
    case "RetrievalChallengeFailed":
      return {
        kind: "RetrievalChallengeFailed",
        challengeId: big("challengeId"),
        dataSetId: big("dataSetId"),
        provider: addr("provider"),
        enforcer: addr("enforcer"),
      };
    case "RetrievalChallengeVoided":
      return {
        kind: "RetrievalChallengeVoided",
        challengeId: big("challengeId"),
        dataSetId: big("dataSetId"),
      };
    default:
      throw new StrataError("EVENT_UNEXPECTED", `unexpected event ${event.name}`);
  }
}

/** The fields of a compute-market event. */
function computeFields(event: LogDescription): ComputeEvent {
  const a = event.args;
  const big = (name: string, from: Result = a): bigint => {
    const value: unknown = from.getValue(name);
    if (typeof value !== "bigint")
      throw new StrataError("EVENT_UNEXPECTED", `${event.name}.${name} is not an integer`);
    return value;
  };
  const addr = (name: string): string => getAddress(String(a.getValue(name)));
  const text = (name: string, from: Result = a): string => String(from.getValue(name));
  switch (event.name) {
    case "OrderCreated": {
      const request = a.getValue("request") as Result;
      const spec = request.getValue("spec") as Result;
      return {
        kind: "OrderCreated",
        orderId: big("orderId"),
        tenant: addr("tenant"),
        cpuMillicores: big("cpuMillicores", spec),
        memoryMiB: big("memoryMiB", spec),
        storageGiB: big("storageGiB", spec),
        gpuCount: big("gpuCount", spec),
        gpuModel: text("gpuModel", spec),
        region: text("region", spec),
        workloadHash: text("workloadHash", request),
        maxPricePerSecond: big("maxPricePerSecond", request),
        deposit: big("deposit", request),
        duration: big("duration", request),
        expiresAt: big("expiresAt", request),
        minCollateral: big("minCollateral", request),
        minNoticeWindow: big("minNoticeWindow", request),
        closeBounty: big("closeBounty"),
      };
    }
    case "OrderCancelled":
    case "OrderExpired":
      return { kind: event.name, orderId: big("orderId"), refund: big("refund") };
    case "BidCreated":
      return {
        kind: "BidCreated",
        orderId: big("orderId"),
        provider: addr("provider"),
        pricePerSecond: big("pricePerSecond"),
        collateral: big("collateral"),
        noticeWindow: big("noticeWindow"),
      };
    case "BidWithdrawn":
    case "BidRejected":
      return {
        kind: event.name,
        orderId: big("orderId"),
        provider: addr("provider"),
        collateralReleased: big("collateralReleased"),
      };
    case "LeaseStarted":
      return {
        kind: "LeaseStarted",
        leaseId: big("leaseId"),
        tenant: addr("tenant"),
        provider: addr("provider"),
        pricePerSecond: big("pricePerSecond"),
        collateral: big("collateral"),
        noticeWindow: big("noticeWindow"),
        escrow: big("escrow"),
        closeBounty: big("closeBounty"),
        startedAt: big("startedAt"),
        endsAt: big("endsAt"),
        heartbeatPeriod: big("heartbeatPeriod"),
        maxMissedHeartbeats: big("maxMissedHeartbeats"),
      };
    case "LeaseToppedUp":
      return {
        kind: "LeaseToppedUp",
        leaseId: big("leaseId"),
        payer: addr("payer"),
        amount: big("amount"),
        escrow: big("escrow"),
      };
    case "LeaseSettled":
      return {
        kind: "LeaseSettled",
        leaseId: big("leaseId"),
        amount: big("amount"),
        paidSeconds: big("paidSeconds"),
        escrow: big("escrow"),
      };
    case "HeartbeatPosted":
      return { kind: "HeartbeatPosted", leaseId: big("leaseId"), period: big("period") };
    case "MissedHeartbeatsReported":
      return {
        kind: "MissedHeartbeatsReported",
        leaseId: big("leaseId"),
        reporter: addr("reporter"),
        fromPeriod: big("fromPeriod"),
        count: big("count"),
        refunded: big("refunded"),
        bounty: big("bounty"),
      };
    case "LeaseNoticeGiven":
      return { kind: "LeaseNoticeGiven", leaseId: big("leaseId"), endsAt: big("endsAt") };
    case "LeaseClosed":
      return {
        kind: "LeaseClosed",
        leaseId: big("leaseId"),
        reason: Number(big("reason")),
        closer: addr("closer"),
        paidToProvider: big("paidToProvider"),
        refundedToTenant: big("refundedToTenant"),
        bountyToCloser: big("bountyToCloser"),
        compensationToTenant: big("compensationToTenant"),
        collateralReleased: big("collateralReleased"),
      };
    case "LeaseSlashed":
      return {
        kind: "LeaseSlashed",
        provider: addr("provider"),
        leaseId: big("leaseId"),
        toTenant: big("toTenant"),
        toReporter: big("toReporter"),
        toTreasury: big("toTreasury"),
      };
    default:
      throw new StrataError("EVENT_UNEXPECTED", `unexpected compute event ${event.name}`);
  }
}

/** A decoded struct as { field: bigint } (every Parameters field is an unsigned integer). */
function structToBigints(struct: Result): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const [key, value] of Object.entries(struct.toObject())) {
    if (typeof value === "bigint") out[key] = value;
    else if (typeof value === "number" || typeof value === "boolean") out[key] = BigInt(value);
  }
  return out;
}
