/**
 * Decoding the logs of the market, the registry and the retrieval-challenge contract into `IndexedEvent`s with
 * the typechain ABIs. Only the events the index stores are requested (`topics`), so a busy registry's stake
 * and collateral events never travel over the wire.
 */
import { getAddress, type Interface, type Log, type LogDescription, type Result } from "ethers";
import {
  IRetrievalChallenges__factory,
  ProviderRegistry__factory,
  StorageMarket__factory,
} from "../../../typechain-types/index.js";
import type { WorkerDeployment } from "../config.js";
import type { IndexedEvent } from "../db/events.js";

type Source = "market" | "registry" | "retrieval";

const EVENTS: Record<Source, readonly string[]> = {
  market: [
    "DealPublished",
    "DealExtended",
    "DealEnded",
    "DealSettled",
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
};

const INTERFACES: Record<Source, Interface> = {
  market: StorageMarket__factory.createInterface(),
  registry: ProviderRegistry__factory.createInterface(),
  retrieval: IRetrievalChallenges__factory.createInterface(),
};

/** What the indexer asks eth_getLogs for, and how it decodes the answers. */
export class LogDecoder {
  /** Contract addresses, checksummed. */
  readonly addresses: string[];
  /** topic0 values of the indexed events (OR-ed in the filter's first topic position). */
  readonly topics: string[];
  private readonly sources = new Map<string, Source>();

  constructor(deployment: Pick<WorkerDeployment, "market" | "registry" | "retrievalChallenges">) {
    this.sources.set(getAddress(deployment.market), "market");
    this.sources.set(getAddress(deployment.registry), "registry");
    if (deployment.retrievalChallenges !== null) {
      this.sources.set(getAddress(deployment.retrievalChallenges), "retrieval");
    }
    this.addresses = [...this.sources.keys()];
    const topics = new Set<string>();
    for (const source of new Set(this.sources.values())) {
      for (const name of EVENTS[source]) {
        const event = INTERFACES[source].getEvent(name);
        if (event) topics.add(event.topicHash);
      }
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
    const parsed = INTERFACES[source].parseLog({ topics: [...log.topics], data: log.data });
    if (parsed === null || !EVENTS[source].includes(parsed.name)) return null;
    const at = { blockNumber: log.blockNumber, logIndex: log.index, txHash: log.transactionHash };
    return { ...at, ...fields(source, parsed) };
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
    if (typeof value !== "bigint") throw new Error(`${event.name}.${name} is not an integer`);
    return value;
  };
  const addr = (name: string): string => getAddress(String(a.getValue(name)));
  const text = (name: string): string => String(a.getValue(name));
  switch (event.name) {
    case "DealPublished":
      return {
        kind: "DealPublished",
        dealId: big("id"),
        client: addr("client"),
        provider: addr("provider"),
        root: text("root"),
        size: big("size"),
        startPeriod: big("startPeriod"),
        endPeriod: big("endPeriod"),
        pricePerSecond: big("pricePerSecond"),
        collateral: big("collateral"),
        nonce: big("nonce"),
      };
    case "DealExtended":
      return {
        kind: "DealExtended",
        dealId: big("id"),
        newEndPeriod: big("newEndPeriod"),
        amount: big("amount"),
      };
    case "DealEnded":
      return {
        kind: "DealEnded",
        dealId: big("id"),
        reason: Number(big("reason")),
        paidToProvider: big("paidToProvider"),
        refundedToClient: big("refundedToClient"),
        compensationToClient: big("compensationToClient"),
        collateralReleased: big("collateralReleased"),
      };
    case "DealSettled":
      return { kind: "DealSettled", dealId: big("id"), amount: big("amount") };
    case "Slashed":
      return {
        kind: "Slashed",
        provider: addr("provider"),
        dealId: big("dealId"),
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
        dealId: big("dealId"),
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
        contract: source === "retrieval" ? "retrieval" : "market",
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
        dealId: big("dealId"),
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
        dealId: big("dealId"),
        provider: addr("provider"),
      };
    case "RetrievalChallengeFailed":
      return {
        kind: "RetrievalChallengeFailed",
        challengeId: big("challengeId"),
        dealId: big("dealId"),
        provider: addr("provider"),
        enforcer: addr("enforcer"),
      };
    case "RetrievalChallengeVoided":
      return { kind: "RetrievalChallengeVoided", challengeId: big("challengeId"), dealId: big("dealId") };
    default:
      throw new Error(`unexpected event ${event.name}`);
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
