/**
 * Every Solidity enum the off-chain code names, in one table: member names in declaration order, so a
 * member's index is its on-chain value. test/sdk/enums.test.ts reads the compiled contracts' AST and fails
 * when this table and the Solidity enums differ; nothing else in offchain/ or scripts/ may list them again.
 */

/** The enums by `Contract.Enum` (the Solidity canonical name). */
export const CONTRACT_ENUMS = {
  "IStorageMarket.SkipReason": ["StaleVersion", "Unfunded", "NotLive"],
  "IStorageMarket.Status": ["None", "Live", "Ending", "Finalized"],
  "IStorageMarket.EndReason": [
    "Expired",
    "ClientTerminated",
    "ProviderTerminated",
    "Faulty",
    "RetrievalFailed",
    "Unfunded",
  ],
  "IComputeMarket.OrderStatus": ["None", "Open", "Filled", "Cancelled", "Expired"],
  "IComputeMarket.BidStatus": ["None", "Active", "Rejected"],
  "IComputeMarket.CloseReason": [
    "Tenant",
    "ProviderWithNotice",
    "ProviderWithoutNotice",
    "MissedHeartbeats",
    "InsufficientFunds",
    "Expired",
  ],
  "IRetrievalChallenges.Status": ["None", "Open", "Answered", "Failed", "Voided"],
  "IRepairMandate.Stage": ["None", "Open", "Bound", "Claimed", "Cancelled"],
  "IPermanentStorage.FileStatus": ["None", "Pending", "Active", "Lost", "Abandoned"],
  "IPermanentStorage.SlotStage": ["Open", "Awarded", "Placed", "Live"],
} as const satisfies Record<string, readonly string[]>;

export type ContractEnumName = keyof typeof CONTRACT_ENUMS;

/** One Solidity enum: names by value and values by name. */
export interface ContractEnum<N extends string> {
  /** Member names in declaration order (index = on-chain value). */
  readonly names: readonly N[];
  /** On-chain value of each member, as the bigint ethers decodes. */
  readonly value: Readonly<Record<N, bigint>>;
  /** The member name of an on-chain value; undefined for a value the table does not know. */
  nameOf(value: bigint | number): N | undefined;
  /** The on-chain value of a member as a number (for a contract call's uint8 argument). */
  indexOf(name: N): number;
}

function contractEnum<const N extends string>(names: readonly N[]): ContractEnum<N> {
  const value = Object.fromEntries(names.map((name, index) => [name, BigInt(index)])) as Record<N, bigint>;
  return {
    names,
    value,
    nameOf: (raw) => names[Number(raw)],
    indexOf: (name) => names.indexOf(name),
  };
}

/** IStorageMarket.Status: a data set's lifecycle (dataSet(id).status). */
export const MarketDataSetStatus = contractEnum(CONTRACT_ENUMS["IStorageMarket.Status"]);

/** IStorageMarket.SkipReason: why a proposal of a publish batch was skipped. */
export const SkipReason = contractEnum(CONTRACT_ENUMS["IStorageMarket.SkipReason"]);
export type SkipReasonName = (typeof CONTRACT_ENUMS)["IStorageMarket.SkipReason"][number];

/** IStorageMarket.EndReason: how a data set ended (DataSetTerminated's and DataSetEnded's `reason`). */
export const DealEndReason = contractEnum(CONTRACT_ENUMS["IStorageMarket.EndReason"]);
export type DealEndReasonName = (typeof CONTRACT_ENUMS)["IStorageMarket.EndReason"][number];

/** IComputeMarket.OrderStatus. */
export const OrderStatus = contractEnum(CONTRACT_ENUMS["IComputeMarket.OrderStatus"]);
export type OrderStatusName = (typeof CONTRACT_ENUMS)["IComputeMarket.OrderStatus"][number];

/** IComputeMarket.BidStatus. */
export const BidStatus = contractEnum(CONTRACT_ENUMS["IComputeMarket.BidStatus"]);
export type BidStatusName = (typeof CONTRACT_ENUMS)["IComputeMarket.BidStatus"][number];

/** IComputeMarket.CloseReason: why a lease closed (LeaseClosed's `reason`, closeLease's argument). */
export const LeaseCloseReason = contractEnum(CONTRACT_ENUMS["IComputeMarket.CloseReason"]);
export type LeaseCloseReasonName = (typeof CONTRACT_ENUMS)["IComputeMarket.CloseReason"][number];

/** IRetrievalChallenges.Status: where a retrieval challenge stands. */
export const ChallengeStatus = contractEnum(CONTRACT_ENUMS["IRetrievalChallenges.Status"]);

/** A repair's stage in its mandate (docs/SPEC.md §16). */
export const RepairStage = contractEnum(CONTRACT_ENUMS["IRepairMandate.Stage"]);
export type ChallengeStatusName = (typeof CONTRACT_ENUMS)["IRetrievalChallenges.Status"][number];

type KebabTail<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Lowercase<H> ? H : `-${Lowercase<H>}`}${KebabTail<T>}`
  : "";
/** `RetrievalFailed` -> `retrieval-failed` at the type level. */
export type Kebab<S extends string> = S extends `${infer H}${infer T}`
  ? `${Lowercase<H>}${KebabTail<T>}`
  : "";

/** A member name in kebab case (`RetrievalFailed` -> `retrieval-failed`), the form of CLI and JSON output. */
export function kebabName<S extends string>(name: S): Kebab<S> {
  return name.replace(
    /[A-Z]/g,
    (c, offset: number) => (offset === 0 ? "" : "-") + c.toLowerCase(),
  ) as Kebab<S>;
}

/** A member name in words (`RetrievalFailed` -> `retrieval failed`), for tables meant for people. */
export function wordsName(name: string): string {
  return kebabName(name).replaceAll("-", " ");
}

/** IPermanentStorage.FileStatus: a permanent file's lifecycle (docs/SPEC.md §16.2). */
export const PermanentFileStatus = contractEnum(CONTRACT_ENUMS["IPermanentStorage.FileStatus"]);
export type PermanentFileStatusName = (typeof CONTRACT_ENUMS)["IPermanentStorage.FileStatus"][number];

/** IPermanentStorage.SlotStage: where one piece slot of a permanent file stands. */
export const PermanentSlotStage = contractEnum(CONTRACT_ENUMS["IPermanentStorage.SlotStage"]);
export type PermanentSlotStageName = (typeof CONTRACT_ENUMS)["IPermanentStorage.SlotStage"][number];
