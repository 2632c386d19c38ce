// Driving one repair of a mandated file (docs/SPEC.md §16.1), shared by the worker's repair duty and
// `strata repair`: notice a lost piece with the contract's own rule (pieceHealth), fetch k live pieces from their
// providers, rebuild the lost one (erasure decoding only: no key), choose a new provider within the mandate
// (price ceiling, collateral floor, exclusions, the mandate's notice; cheapest first), then
// openRepair -> the provider's agent creates the data set on the wallet's approval -> bindRepair -> upload the
// piece and its state to the agent -> (after a proven period) claimRepair.
//
// Every step is saved in a journal before the next one starts, and every step first reads the chain to see
// whether it already happened, so a repairer that stops anywhere resumes without opening a second repair or
// paying twice: an open repair of the piece by this repairer is adopted, a bound one is not bound again.
import path from "node:path";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import type { IStorageMarket, RepairMandate } from "../../../typechain-types/index.js";
import type { AgentClient } from "../client/agentClient.js";
import {
  selectProviders,
  type ProviderOffer,
  type RegistryReader,
  type SelectProvidersDeps,
} from "../client/selectProviders.js";
import type { CreateDataSet } from "../datasets/eip712.js";
import { EMPTY_LAYOUT, layoutSpan, pieceHeight, placePiece } from "../datasets/placement.js";
import { dataSetRoot } from "../datasets/tree.js";
import { RepairStage } from "../chain/enums.js";
import { StrataError } from "../errors.js";
import { checkRepairBrief, type RepairBrief } from "./brief.js";
import { pieceHealth, type PieceHealth } from "./lostPieces.js";
import { fetchPieceFile, firstK, rebuildPieceFile, withScratch } from "./pieceFiles.js";

/** Where a repair stands, as the journal records it. */
export type RepairStage =
  /** openRepair mined: the new provider's agent may create the data set. */
  | "opened"
  /** The data set exists (its id is known). */
  | "created"
  /** bindRepair mined: the wallet approves the piece's state and funded the escrow. */
  | "bound"
  /** The piece and its signed (approved) state are with the new provider. */
  | "uploaded"
  /** claimRepair mined: the reward is credited. */
  | "claimed"
  /** The repair timed out and was cancelled (a new one may open). */
  | "cancelled";

/** One repair as a repairer remembers it (one row per mandate and piece at a time). */
export interface RepairRecord {
  mandate: string;
  index: number;
  stage: RepairStage;
  repairId: bigint;
  provider: string;
  endpoint: string;
  /** The new data set (null before `created`). */
  dataSetId: bigint | null;
}

/** Persistence of repairs in progress (SQLite in the worker, a JSON file for `strata repair`). */
export interface RepairJournal {
  /** The unfinished repair of `index` (not claimed, not cancelled), if any. */
  load(mandate: string, index: number): Promise<RepairRecord | null> | RepairRecord | null;
  save(record: RepairRecord): Promise<void> | void;
}

/** What happened to one piece in one pass. */
export type RepairOutcome =
  | { kind: "healthy" }
  | { kind: "pendingElsewhere"; repairId: bigint }
  | { kind: "advanced"; record: RepairRecord }
  | { kind: "waiting"; record: RepairRecord; reason: string }
  | { kind: "claimed"; record: RepairRecord; reward: bigint };

export type RepairProgress = (step: string, detail: Record<string, unknown>) => void;

export interface RepairDeps {
  /** The mandate, connected to the repairer's signer. */
  mandate: RepairMandate;
  market: Pick<IStorageMarket, "dataSet" | "dataSetCount">;
  registry: RegistryReader;
  agentFor: (
    endpoint: string,
  ) => Pick<AgentClient, "health" | "terms" | "createDataSet" | "putPieceFile" | "postState" | "pieceBody">;
  /** Where pieces are fetched to and rebuilt during a repair (the system's temporary folder by default). */
  scratchDir?: string;
  /** The repairer's address (it opens repairs and is paid their reward). */
  repairer: string;
  chainId: bigint;
  marketAddress: string;
  provingPeriod: bigint;
  /** Chain time (seconds). */
  now: () => Promise<bigint>;
  /** Simulate, send and wait for one transaction (CHAIN_REVERT with the custom error on a revert). */
  execute: (
    label: string,
    simulate: () => Promise<unknown>,
    send: () => Promise<ContractTransactionResponse>,
  ) => Promise<ContractTransactionReceipt>;
  journal: RepairJournal;
  progress?: RepairProgress;
  /** Providers never chosen besides the mandate's own exclusions. */
  exclude?: ReadonlySet<string>;
}

const STAGE_BOUND = RepairStage.value.Bound;
const STAGE_CLAIMED = RepairStage.value.Claimed;
const STAGE_CANCELLED = RepairStage.value.Cancelled;
const ZERO = "0x0000000000000000000000000000000000000000";

/** The health of every piece of the brief's file, after checking the brief against the mandate on chain. */
export async function mandateHealth(
  brief: RepairBrief,
  deps: Pick<RepairDeps, "mandate" | "market" | "chainId">,
) {
  const terms = await deps.mandate.terms();
  const list = checkRepairBrief(brief, {
    chainId: deps.chainId,
    piecesRoot: terms.piecesRoot,
    pieceCount: terms.pieceCount,
  });
  const health = await pieceHealth(deps.market, deps.mandate, list.pieces);
  return { terms, list, health };
}

/** One pass over piece `index` of the brief's file: start, continue or finish its repair as far as it can go now. */
export async function advanceRepair(
  brief: RepairBrief,
  index: number,
  deps: RepairDeps,
): Promise<RepairOutcome> {
  const { terms, list, health } = await mandateHealth(brief, deps);
  const piece = health[index];
  if (piece === undefined) throw new StrataError("INVALID_ARGUMENT", `the file has no piece ${index}`);
  const mandateAddress = await deps.mandate.getAddress();
  let record = await deps.journal.load(mandateAddress, index);

  if (record === null) {
    if (!piece.lost) return { kind: "healthy" };
    if (piece.pendingRepair !== 0n) {
      // Adopt a repair this repairer opened before it could record it (it stopped right after sending).
      const pending = await deps.mandate.repair(piece.pendingRepair);
      if (pending.repairer.toLowerCase() !== deps.repairer.toLowerCase()) {
        return { kind: "pendingElsewhere", repairId: piece.pendingRepair };
      }
      record = {
        mandate: mandateAddress,
        index,
        stage: pending.stage === STAGE_BOUND ? "bound" : "opened",
        repairId: piece.pendingRepair,
        provider: pending.provider,
        endpoint: await endpointOf(deps.registry, pending.provider),
        dataSetId: pending.dataSetId === 0n ? null : pending.dataSetId,
      };
      await deps.journal.save(record);
    } else {
      // Rebuild before opening: a repair whose piece cannot be rebuilt would only time out.
      await withScratch(deps.scratchDir, (dir) => rebuildLost(brief, index, health, deps, dir));
      const offer = await chooseProvider(brief, piece, health, terms, deps);
      deps.progress?.("open", { index, provider: offer.address, price: offer.terms.pricePerTiBMonth });
      const receipt = await deps.execute(
        "openRepair",
        () =>
          deps.mandate.openRepair.staticCall(
            piece.piece,
            list.proof(index),
            offer.address,
            offer.terms.pricePerTiBMonth,
            offer.terms.collateralPerTiB,
          ),
        () =>
          deps.mandate.openRepair(
            piece.piece,
            list.proof(index),
            offer.address,
            offer.terms.pricePerTiBMonth,
            offer.terms.collateralPerTiB,
          ),
      );
      record = {
        mandate: mandateAddress,
        index,
        stage: "opened",
        repairId: openedId(deps.mandate, receipt),
        provider: offer.address,
        endpoint: offer.endpoint,
        dataSetId: null,
      };
      await deps.journal.save(record);
      return { kind: "advanced", record };
    }
  }
  return continueRepair(brief, record, health, deps);
}

async function continueRepair(
  brief: RepairBrief,
  start: RepairRecord,
  health: readonly PieceHealth[],
  deps: RepairDeps,
): Promise<RepairOutcome> {
  let record = start;
  const save = async (next: RepairRecord): Promise<RepairRecord> => {
    await deps.journal.save(next);
    deps.progress?.(next.stage, { index: next.index, repairId: next.repairId, dataSetId: next.dataSetId });
    return next;
  };
  const onChain = await deps.mandate.repair(record.repairId);
  if (onChain.stage === STAGE_CLAIMED) {
    record = await save({ ...record, stage: "claimed" });
    return { kind: "claimed", record, reward: onChain.reward };
  }
  if (onChain.stage === STAGE_CANCELLED) {
    record = await save({ ...record, stage: "cancelled" });
    return { kind: "advanced", record };
  }
  const now = await deps.now();
  if (now > onChain.deadline) {
    // Past its deadline an open repair can no longer bind, a bound one not yet proven no longer counts: cancel
    // it (the contract refuses when it may still be claimed) so that a new repair may open.
    const cancellable = await deps.mandate.cancelRepair.staticCall(record.repairId).then(
      () => true,
      () => false,
    );
    if (cancellable) {
      await deps.execute(
        "cancelRepair",
        () => deps.mandate.cancelRepair.staticCall(record.repairId),
        () => deps.mandate.cancelRepair(record.repairId),
      );
      record = await save({ ...record, stage: "cancelled" });
      return { kind: "advanced", record };
    }
  }
  const agent = deps.agentFor(record.endpoint);

  if (record.stage === "opened") {
    const terms: CreateDataSet = {
      client: record.mandate,
      provider: record.provider,
      pricePerTiBMonth: onChain.price,
      collateralPerTiB: onChain.collateral,
      noticePeriods: (await deps.mandate.terms()).noticePeriods,
      nonce: (1n << 63n) + record.repairId,
      deadline: onChain.deadline,
    };
    // The wallet approved exactly these terms: an empty signature is its ERC-1271 signature.
    const created = await agent.createDataSet({ terms, signature: "0x" });
    record = await save({ ...record, stage: "created", dataSetId: created.dataSetId });
  }
  if (record.stage === "created") {
    const dataSetId = need(record.dataSetId);
    if (onChain.stage !== STAGE_BOUND) {
      await deps.execute(
        "bindRepair",
        () => deps.mandate.bindRepair.staticCall(record.repairId, dataSetId),
        () => deps.mandate.bindRepair(record.repairId, dataSetId),
      );
    }
    record = await save({ ...record, stage: "bound" });
  }
  if (record.stage === "bound") {
    const dataSetId = need(record.dataSetId);
    const listed = brief.pieces[record.index];
    if (listed === undefined) throw new StrataError("INTERNAL_INVARIANT", "piece outside the brief");
    const size = brief.pieceSize;
    await withScratch(deps.scratchDir, async (dir) => {
      const file = await rebuildLost(brief, record.index, health, deps, dir);
      deps.progress?.("upload", { index: record.index, provider: record.provider, bytes: size });
      await agent.putPieceFile(dataSetId, listed.pieceRoot, { path: file, size });
    });
    const { layout, piece } = placePiece(EMPTY_LAYOUT, listed.pieceRoot, pieceHeight(size));
    const state = { dataSetId, version: 1n, root: dataSetRoot(layout), span: BigInt(layoutSpan(layout)) };
    await agent.postState({
      state,
      signature: "0x",
      add: [{ root: piece.root, size, offset: piece.offset, height: piece.height }],
      remove: [],
    });
    record = await save({ ...record, stage: "uploaded" });
  }
  if (record.stage === "uploaded") {
    const proven = await deps.mandate.claimRepair.staticCall(record.repairId).then(
      () => true,
      () => false,
    );
    if (!proven) return { kind: "waiting", record, reason: "the new provider has not yet proven a period" };
    await deps.execute(
      "claimRepair",
      () => deps.mandate.claimRepair.staticCall(record.repairId),
      () => deps.mandate.claimRepair(record.repairId),
    );
    record = await save({ ...record, stage: "claimed" });
    return { kind: "claimed", record, reward: onChain.reward };
  }
  return { kind: "advanced", record };
}

function need(id: bigint | null): bigint {
  if (id === null) throw new StrataError("INTERNAL_INVARIANT", "a created repair has no data set id");
  return id;
}

function openedId(mandate: RepairMandate, receipt: ContractTransactionReceipt): bigint {
  for (const log of receipt.logs) {
    const parsed = mandate.interface.parseLog(log);
    if (parsed?.name === "RepairOpened") return parsed.args.repairId as bigint;
  }
  throw new StrataError("CHAIN_REVERT", "openRepair was mined without a RepairOpened event");
}

async function endpointOf(registry: RegistryReader, provider: string): Promise<string> {
  const info = await registry.providerInfo(provider);
  if (!info.registered || info.endpoint === "") {
    throw new StrataError("PROVIDER_UNUSABLE", `provider ${provider} has no registered endpoint`);
  }
  return info.endpoint;
}

/**
 * Fetch pieces from the live holders into `dir`, k at a time, until k check against their commitments (each
 * checked as it arrives), then rebuild piece `index` there, segment by segment; resolves to its file. NOT_ENOUGH_PIECES when
 * fewer than k answer correctly; PIECE_CORRUPT when the rebuilt piece is not the listed one.
 */
export async function rebuildLost(
  brief: RepairBrief,
  index: number,
  health: readonly PieceHealth[],
  deps: Pick<RepairDeps, "registry" | "agentFor" | "progress">,
  dir: string,
): Promise<string> {
  const sources: (string | null)[] = brief.pieces.map(() => null);
  const live = health.filter((h) => h.piece.index !== index && !h.lost && h.provider !== ZERO);
  const good = await firstK(live, brief.k, async (h) => {
    const file = path.join(dir, `piece-${h.piece.index}`);
    try {
      const endpoint = await endpointOf(deps.registry, h.provider);
      await fetchPieceFile(deps.agentFor(endpoint), h.piece.pieceRoot, brief.pieceSize, file);
      sources[h.piece.index] = file;
      deps.progress?.("fetch", { index: h.piece.index, provider: h.provider, bytes: brief.pieceSize });
      return true;
    } catch (error) {
      deps.progress?.("fetchFailed", { index: h.piece.index, provider: h.provider, error: String(error) });
      return false;
    }
  });
  if (good < brief.k) {
    throw new StrataError(
      "NOT_ENOUGH_PIECES",
      `${good} good pieces of the ${brief.k} needed to rebuild piece ${index}`,
    );
  }
  const out = path.join(dir, `rebuilt-${index}`);
  await rebuildPieceFile({
    index,
    k: brief.k,
    m: brief.m,
    pieceSize: brief.pieceSize,
    root: brief.pieces[index]?.pieceRoot ?? "",
    sources,
    out,
  });
  return out;
}

/**
 * The cheapest provider the mandate accepts for the piece: not excluded by the owner, not the one that lost it,
 * asking at most the ceiling, offering at least the floor, with the mandate's notice (its data sets are created
 * on those terms); one holding no other live piece of the file is preferred.
 */
export async function chooseProvider(
  brief: RepairBrief,
  lost: PieceHealth,
  health: readonly PieceHealth[],
  terms: Awaited<ReturnType<RepairMandate["terms"]>>,
  deps: Pick<RepairDeps, "registry" | "agentFor" | "chainId" | "marketAddress" | "provingPeriod" | "exclude">,
): Promise<ProviderOffer> {
  const exclude = new Set<string>([
    ...terms.excluded.map((a) => a.toLowerCase()),
    ...[...(deps.exclude ?? [])].map((a) => a.toLowerCase()),
    lost.provider.toLowerCase(),
  ]);
  const holders = new Set(health.filter((h) => !h.lost).map((h) => h.provider.toLowerCase()));
  const selectDeps: SelectProvidersDeps = { registry: deps.registry, agentFor: deps.agentFor };
  let selection;
  try {
    selection = await selectProviders(
      {
        count: 1,
        pieceSize: BigInt(brief.pieceSize),
        chainId: deps.chainId,
        market: deps.marketAddress,
        provingPeriod: deps.provingPeriod,
        maxPricePerTiBMonth: terms.priceCeiling,
        minCollateralPerTiB: terms.collateralFloor,
        exclude,
      },
      selectDeps,
    );
  } catch (error) {
    throw new StrataError(
      "REPAIR_NO_PROVIDER",
      `no provider within mandate ${brief.mandate} can take piece ${lost.piece.index}`,
      {
        details: error instanceof StrataError ? (error.details ?? error.message) : String(error),
        cause: error,
      },
    );
  }
  // A provider that holds no other live piece of the file first (a second piece with one provider weakens the
  // coding), cheapest first within each group; a holder only when no other provider qualifies.
  const offers = [...selection.chosen, ...selection.spares];
  const ordered = [
    ...offers.filter((o) => !holders.has(o.address.toLowerCase())),
    ...offers.filter((o) => holders.has(o.address.toLowerCase())),
  ];
  const offer = ordered.find(
    (o) =>
      o.terms.noticePeriods === terms.noticePeriods &&
      o.terms.pricePerTiBMonth <= terms.priceCeiling &&
      o.terms.collateralPerTiB >= terms.collateralFloor,
  );
  if (offer === undefined) {
    throw new StrataError(
      "REPAIR_NO_PROVIDER",
      `no provider within mandate ${brief.mandate} offers its notice of ${terms.noticePeriods} periods`,
    );
  }
  return offer;
}
