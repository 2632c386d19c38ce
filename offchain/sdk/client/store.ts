import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { getBytes, hexlify, type Provider, type Signer } from "ethers";
import type { StorageMarket } from "../../../typechain-types/index.js";
import { onEachBlock, type BlockEvents } from "../chain/blocks.js";
import { confirmTransaction } from "../chain/confirm.js";
import type { PaymentToken } from "../chain/connect.js";
import { rawAmounts, tokenAmountFormat, type DescribableToken } from "../chain/tokenAmounts.js";
import { DEFAULT_CHUNK_SIZE, payloadSizeFor } from "../data/chunked.js";
import { checkCoding } from "../data/erasure.js";
import { pieceSizeFor, prepareStream, type PreparedStream } from "../data/prepare.js";
import { prepareReplica } from "../data/replica.js";
import { StagedPieces } from "../data/staged.js";
import type { PayloadPiece } from "../data/stream.js";
import { ciphertextSpan } from "../files/bundle.js";
import { publicCid, rawCidOfDigest } from "../files/cid.js";
import { buildPublicIndex } from "../files/publicIndex.js";
import { dataSetDomain, signDataSetState, type DataSetState } from "../datasets/eip712.js";
import { layoutSpan, pieceHeight, placePiece as placeInLayout } from "../datasets/placement.js";
import { dataSetRoot } from "../datasets/tree.js";
import { StrataError } from "../errors.js";
import {
  completeManifest,
  replicaPieceSize,
  saveManifest,
  type Manifest,
  type ManifestDraft,
  type ManifestFile,
  type PiecePlacement,
} from "../manifest/manifest.js";
import type { PublicIndexEntry } from "../api/publicFiles.js";
import type { AgentClient } from "./agentClient.js";
import { mapLimit, sleep as realSleep, type Sleep } from "./concurrency.js";
import { costFor, readDataSet, type DataSetReader } from "./dataSets.js";
import { recordPathFor } from "./dataSetRecord.js";
import { ensureEscrowFunding, type FundingPlan } from "./funding.js";
import { openDataSet, type OpenContext } from "./openDataSet.js";
import { selectProviders, type ProviderOffer, type RegistryReader } from "./selectProviders.js";

export interface StoreRequest {
  /** The file: streamed from disk (`file`, any size, bounded memory) or given in memory (`bytes`). */
  file?: { path: string; size: number };
  bytes?: Uint8Array;
  fileName: string;
  /** Data and parity pieces of an encrypted payload (ignored for a public one: see `replicas`). */
  k: number;
  m: number;
  /**
   * Store in the clear as full replicas (docs/SPEC-DATA.md §10): each of `replicas` providers gets the whole payload
   * and its public index, and serves every file by its CID. No key is involved.
   */
  public?: boolean;
  /** Providers holding a public payload (1..7). Default 3. */
  replicas?: number;
  /** Proving periods of storage paid ahead (beyond the lockup that pays the notice). */
  periods: bigint;
  /** Highest acceptable price per TiB per 30 days (token base units); null = any. */
  maxPricePerTiBMonth: bigint | null;
  /** Least collateral per TiB the providers must lock. Default 0. */
  minCollateralPerTiB?: bigint;
  /** Explicit providers (addresses or endpoints); default: chosen from the registry, cheapest first. */
  providers?: readonly string[];
  /** Where the manifest goes (written as `<out>.partial` before any token moves). */
  manifestPath: string;
  /** The local record of the client's data sets (default: strata-datasets.json next to the manifest). */
  recordPath?: string;
  /** Tries per piece, each with another provider. Default 3. */
  maxAttemptsPerPiece?: number;
  /** Pieces uploaded at once. Default k + m (every piece streams while the file is prepared). */
  concurrency?: number;
  /** Seconds a provider has to submit the signed data-set terms. Default 3600. */
  createDeadlineSeconds?: number;
  /** How long to wait for a data set to appear or a state to be applied on chain. Default 300 s. */
  applyTimeoutMs?: number;
  pollMs?: number;
  onProgress?: (event: StoreEvent) => void;
  /**
   * Stops the store at the next safe point with STORE_INTERRUPTED: before any token moves nothing is left to
   * undo; after the partial manifest is written, the error says what was paid and how to resume.
   */
  signal?: AbortSignal;
  /** The files packed in the payload (the manifest's `files` section), from the prepared pieces. */
  describeFiles?: (prepared: PreparedPieces) => ManifestFile[] | Promise<ManifestFile[]>;
  /**
   * Where the files packed in an encrypted payload lie in its plaintext: their ciphertext ids are computed while the
   * payload is encrypted (`PreparedPieces.ciphertextIds`, same order), so describing them reads nothing again.
   */
  packedFiles?: readonly { offset: number; size: number }[];
}

/** A payload turned into pieces staged on disk, with its manifest draft (encrypted and coded, or replicas). */
export interface PreparedPieces {
  manifestDraft: ManifestDraft;
  pieces: PayloadPiece[];
  /** The raw CIDv1 of each of the request's `packedFiles` ciphertext (docs/SPEC-DATA.md §10), when asked for. */
  ciphertextIds?: string[];
}

/** Replicas of a public payload unless the request says otherwise. */
export const DEFAULT_PUBLIC_REPLICAS = 3;

export type StoreEvent =
  | { type: "selected"; providers: ProviderOffer[]; spares: number }
  | { type: "prepared"; pieces: number; pieceSize: number }
  | { type: "data-set"; piece: number; provider: string; dataSetId: bigint; created: boolean }
  | { type: "upload"; piece: number; provider: string; sent: number; total: number }
  | { type: "signed"; piece: number; provider: string; dataSetId: bigint; version: bigint }
  | { type: "retry"; piece: number; failed: string; next: string; reason: string }
  | { type: "gave-up"; piece: number; reason: string }
  | { type: "recovery-saved"; path: string; manifest: Manifest; placed: readonly PiecePlaced[] }
  | { type: "funded"; plan: FundingPlan }
  | { type: "topped-up"; dataSetId: bigint; amount: bigint }
  | { type: "applied"; piece: number; dataSetId: bigint; version: bigint };

export interface StoreDeps {
  signer: Signer;
  chainId: bigint;
  /** The market connected to the signer (topUp is sent from it). */
  market: DataSetReader & Pick<StorageMarket, "topUp" | "getAddress" | "balanceOf">;
  registry: RegistryReader;
  /** The payment token connected to the signer. */
  token: Pick<PaymentToken, "allowance" | "balanceOf" | "approve"> & DescribableToken;
  provider: Pick<Provider, "getBlock">;
  /**
   * New blocks (the chain's provider fits): the store then waits for a data set or a state to appear on chain block
   * by block instead of polling every `pollMs`.
   */
  blocks?: BlockEvents;
  agentFor: (
    endpoint: string,
  ) => Pick<AgentClient, "health" | "terms" | "createDataSet" | "getDataSet" | "uploadPiece" | "postState"> &
    Partial<Pick<AgentClient, "putPublicIndex">>;
  sleep?: Sleep;
  now?: () => number;
  prepare?: typeof prepareStream;
  /** Prepares a public payload (default prepareReplica). */
  prepareReplica?: typeof prepareReplica;
}

/** One piece placed in one data set, signed but not yet applied. */
export interface PiecePlaced {
  piece: number;
  provider: string;
  endpoint: string;
  dataSetId: bigint;
  created: boolean;
  offset: number;
  height: number;
  pricePerTiBMonth: bigint;
  state: DataSetState;
  signature: string;
  /** Escrow added to the data set (set once funded). */
  topUp: bigint;
}

export interface PlacementFailure {
  piece: number;
  provider: string;
  reason: string;
}

export interface StoreResult {
  manifest: Manifest;
  manifestPath: string;
  funding: FundingPlan;
  /** Escrow added to the file's data sets (token base units). */
  escrowAdded: bigint;
  placed: PiecePlaced[];
  failures: PlacementFailure[];
}

/**
 * Store a file on data sets: encrypt and erasure-code it (prepareStream), choose k + m distinct providers cheapest
 * first, and for each piece reuse the client's live data set with its provider (else open one) and upload the piece
 * while it is being prepared (StagedPieces; an upload by id, the agent names the root and it must be the prepared
 * one); once prepared, place it (sdk/datasets), recompute the data set's root and sign the new state. With every
 * piece signed, the manifest (wrapped key, data set ids and offsets) is written as `<out>.partial`; the uploads
 * finish, all BEFORE any token moves (a store stopped in between is finished by `store --resume`); then each
 * data set's escrow is topped up to cover the lockup of its new span plus `periods`, the state is sent to the
 * provider, and the store waits until the chain shows it. A piece that fails before funding is retried with
 * another provider; STORE_INCOMPLETE when some piece cannot be placed (no token has moved then) or applied (the
 * partial manifest names everything done). With `public`, the payload is not encrypted or coded: each of
 * `replicas` providers gets the whole payload (prepareReplica) and, right after the upload, its public index,
 * which the provider checks against the bytes (a refusal moves the piece to a spare like any failure).
 */
export async function storeFile(input: StoreRequest, deps: StoreDeps): Promise<StoreResult> {
  // A public payload is 1-of-n: one data piece, replicas - 1 identical copies.
  const request: StoreRequest =
    input.public === true ? { ...input, k: 1, m: (input.replicas ?? DEFAULT_PUBLIC_REPLICAS) - 1 } : input;
  checkCoding(request.k, request.m);
  if (request.periods < 1n)
    throw new StrataError("INVALID_ARGUMENT", "the duration must be at least 1 proving period");
  const emit = request.onProgress ?? (() => undefined);
  const client = await deps.signer.getAddress();
  const market = await deps.market.getAddress();
  const provingPeriod = await deps.market.provingPeriod();
  const pieceCount = request.k + request.m;
  const source = sourceOf(request);
  const pieceSize =
    request.public === true ? replicaPieceSize(source.size) : pieceSizeFor(source.size, request.k);

  const selection = await selectProviders(
    {
      count: pieceCount,
      pieceSize: BigInt(pieceSize),
      chainId: deps.chainId,
      market,
      provingPeriod,
      maxPricePerTiBMonth: request.maxPricePerTiBMonth,
      minCollateralPerTiB: request.minCollateralPerTiB ?? 0n,
      ...(request.providers === undefined ? {} : { providers: request.providers }),
    },
    { registry: deps.registry, agentFor: deps.agentFor },
  );
  emit({ type: "selected", providers: selection.chosen, spares: selection.spares.length });
  // Read-only check first: fail on missing funds before the (long) preparation. The estimate counts each piece
  // alone in its data set; the exact amounts are computed from each data set's new span below.
  const pieceLeaves = 2n ** BigInt(pieceHeight(pieceSize));
  const estimate = selection.chosen.reduce(
    (sum, offer) =>
      sum +
      costFor(
        offer.terms.pricePerTiBMonth,
        pieceLeaves,
        (offer.terms.noticePeriods + 2n + request.periods) * provingPeriod,
      ),
    0n,
  );
  await checkFunds(estimate, { market: deps.market, token: deps.token, client });
  stopIfAsked(request.signal, "before the file was prepared: no token has moved and nothing was uploaded");

  // The pieces are staged on disk (never the whole file in memory) and streamed to the agents from there. The
  // folder outlives a store stopped after its partial manifest was written: `store --resume` uploads from it what
  // an agent lacks. It is removed once the store completes, or when it fails before any token moved.
  const workDir = piecesDirFor(request.manifestPath);
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  const staged = { keep: false };
  try {
    return await placeAndPay(request, deps, {
      source,
      pieceSize,
      workDir,
      selection,
      provingPeriod,
      client,
      market,
      onRecoverable: () => {
        staged.keep = true;
      },
    });
  } catch (error) {
    if (!staged.keep) await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

/** Where a store stages its pieces: `<manifest>.pieces`, next to the `.partial` manifest. */
export function piecesDirFor(manifestPath: string): string {
  return `${manifestPath}.pieces`;
}

function sourceOf(request: StoreRequest): { input: string | Uint8Array[]; size: number } {
  if (request.file !== undefined && request.bytes === undefined) {
    return { input: request.file.path, size: request.file.size };
  }
  if (request.bytes !== undefined && request.file === undefined) {
    return { input: [request.bytes], size: request.bytes.length };
  }
  throw new StrataError("INVALID_ARGUMENT", "give the file as either a path or bytes");
}

async function placeAndPay(
  request: StoreRequest,
  deps: StoreDeps,
  ctx: {
    source: { input: string | Uint8Array[]; size: number };
    pieceSize: number;
    workDir: string;
    selection: Awaited<ReturnType<typeof selectProviders>>;
    provingPeriod: bigint;
    client: string;
    market: string;
    /** Called once the partial manifest is written: the staged pieces are then kept on failure. */
    onRecoverable: () => void;
  },
): Promise<StoreResult> {
  const { source, pieceSize, workDir, selection, client, market } = ctx;
  const emit = request.onProgress ?? (() => undefined);
  const sleep = deps.sleep ?? realSleep;
  const now = deps.now ?? Date.now;
  const pieceCount = request.k + request.m;
  const partialPath = `${request.manifestPath}.partial`;

  // The pieces are prepared into staged files that the uploads read back while they grow: a piece goes to its
  // provider while later stripes are still being encrypted and coded (pipeline overlap, bounded memory: the bytes
  // an upload has not sent yet wait on disk). The root is not known before the last byte, so each upload is named
  // by a random id; the agent computes the root and the upload is checked against the prepared one.
  // A public payload takes the same path: prepareReplica writes its one piece (staged shard 0) and every replica's
  // upload reads that shard as it grows (the replica files are hard links to it, made once it is complete).
  const staged = new StagedPieces(workDir, pieceCount, pieceSize);
  const stagedShard = (index: number): number => (request.public === true ? 0 : index);
  const stopUploads = (): void => {
    staged.fail(new StrataError("STORE_INTERRUPTED", "the store was interrupted"));
  };
  request.signal?.addEventListener("abort", stopUploads, { once: true });
  const preparing = (async (): Promise<PreparedPieces> => {
    const prepared: PreparedPieces =
      request.public === true
        ? await (deps.prepareReplica ?? prepareReplica)(
            source.input,
            source.size,
            { dir: staged.dir, shard: staged.output },
            { replicas: pieceCount, fileName: request.fileName },
          )
        : await (async (): Promise<PreparedStream & Pick<PreparedPieces, "ciphertextIds">> => {
            const layout = {
              chunkSize: DEFAULT_CHUNK_SIZE,
              payloadSize: payloadSizeFor(source.size, DEFAULT_CHUNK_SIZE),
            };
            const hashSpans = request.packedFiles?.map((file) => ciphertextSpan(file, layout));
            const raw = await (deps.prepare ?? prepareStream)(source.input, source.size, staged.output, {
              k: request.k,
              m: request.m,
              signer: deps.signer,
              fileName: request.fileName,
              chunkSize: layout.chunkSize,
              ...(hashSpans === undefined ? {} : { hashSpans }),
            });
            return {
              ...raw,
              pieces: raw.pieces.map((piece) => ({ ...piece, path: staged.path(piece.index) })),
              ...(raw.spanHashes?.length === hashSpans?.length && raw.spanHashes !== undefined
                ? { ciphertextIds: raw.spanHashes.map((hash) => rawCidOfDigest(getBytes(hash))) }
                : {}),
            };
          })();
    if (request.describeFiles !== undefined) {
      prepared.manifestDraft = { ...prepared.manifestDraft, files: await request.describeFiles(prepared) };
    } else if (request.public === true) {
      // One public file: the manifest still names its CID, which the providers serve it by.
      const draft = prepared.manifestDraft;
      const id = await publicCid(
        typeof source.input === "string" ? createReadStream(source.input) : source.input,
      );
      prepared.manifestDraft = {
        ...draft,
        files: [
          { name: draft.fileName, offset: 0, size: draft.fileSize, sha256: draft.fileHash, id, public: true },
        ],
      };
    }
    emit({ type: "prepared", pieces: prepared.pieces.length, pieceSize });
    return prepared;
  })();
  const prepareState = { failed: false };
  preparing.catch((error: unknown) => {
    prepareState.failed = true;
    staged.fail(error);
  });
  const prepareFailed = (): boolean => prepareState.failed;
  // Sent to each provider once its piece upload has ended under the prepared root (the agent checks the index
  // against the stored bytes).
  const indexing: Promise<PublicIndexEntry[] | undefined> = preparing.then((prepared) =>
    request.public === true ? buildPublicIndex(prepared.manifestDraft.files ?? []) : undefined,
  );
  indexing.catch(() => undefined); // the failure is the preparation's, handled there

  const openCtx: OpenContext = {
    signer: deps.signer,
    client,
    chainId: deps.chainId,
    market: deps.market,
    provider: deps.provider,
    agentFor: deps.agentFor,
    recordPath: request.recordPath ?? recordPathFor(request.manifestPath),
    sleep,
    now,
    createDeadlineSeconds: request.createDeadlineSeconds ?? 3600,
    timeoutMs: request.applyTimeoutMs ?? 300_000,
    pollMs: request.pollMs ?? 1000,
  };
  const domain = dataSetDomain(deps.chainId, market);
  const spares = [...selection.spares];
  const failures: PlacementFailure[] = [];
  /** Signed placements (the upload may still be running). */
  const placed = new Map<number, PiecePlaced>();
  /** Pieces whose upload the agent acknowledged under the prepared root. */
  const uploaded = new Set<number>();
  const maxAttempts = request.maxAttemptsPerPiece ?? 3;
  // The record is a small file rewritten whole: data sets are opened one at a time.
  let opening: Promise<unknown> = Promise.resolve();

  // The recovery manifest is written once every piece is signed, before the uploads need to finish; a piece moved
  // to a spare after that is signed again and the manifest rewritten (still before any token moves).
  const recovery: { requested: boolean; manifest?: Manifest; saving: Promise<unknown> } = {
    requested: false,
    saving: Promise.resolve(),
  };
  let allSigned: () => void = () => undefined;
  const signedAll = new Promise<void>((resolve) => {
    allSigned = resolve;
  });
  const saveRecovery = async (prepared: PreparedPieces): Promise<void> => {
    const run = recovery.saving.then(async () => {
      if (placed.size < pieceCount) return;
      const placements = [...placed.values()].sort((a, b) => a.piece - b.piece);
      recovery.manifest = await writeManifest(prepared, deps.chainId, market, placements, partialPath);
      ctx.onRecoverable();
      emit({ type: "recovery-saved", path: partialPath, manifest: recovery.manifest, placed: placements });
    });
    recovery.saving = run.catch(() => undefined);
    return run;
  };

  const placePiece = async (index: number): Promise<void> => {
    let offer = selection.chosen[index];
    for (let attemptNo = 1; offer !== undefined; attemptNo++) {
      const current = offer;
      if (aborted(request.signal) || prepareFailed()) return;
      try {
        const open = opening.then(() => openDataSet(current, openCtx));
        opening = open.catch(() => undefined);
        const set = await open;
        emit({
          type: "data-set",
          piece: index,
          provider: current.address,
          dataSetId: set.info.id,
          created: set.created,
        });
        const agent = deps.agentFor(current.endpoint);
        const uploading = agent.uploadPiece(
          set.info.id,
          {
            id: hexlify(randomBytes(32)),
            size: pieceSize,
            read: (offset) => staged.read(stagedShard(index), offset),
          },
          (sent, total) => {
            emit({ type: "upload", piece: index, provider: current.address, sent, total });
          },
        );
        uploading.catch(() => undefined); // awaited below, after signing
        const prepared = await preparing;
        const piece = prepared.pieces[index];
        if (piece === undefined)
          throw new StrataError("INTERNAL_INVARIANT", `piece ${index} was not prepared`);
        const height = pieceHeight(piece.size);
        const next = placeInLayout(set.layout, piece.root, height);
        const state: DataSetState = {
          dataSetId: set.info.id,
          version: set.version + 1n,
          root: dataSetRoot(next.layout),
          span: BigInt(layoutSpan(next.layout)),
        };
        const signature = await signDataSetState(deps.signer, domain, state);
        placed.set(index, {
          piece: index,
          provider: current.address,
          endpoint: current.endpoint,
          dataSetId: set.info.id,
          created: set.created,
          offset: next.piece.offset,
          height,
          pricePerTiBMonth: set.info.pricePerTiBMonth,
          state,
          signature,
          topUp: 0n,
        });
        emit({
          type: "signed",
          piece: index,
          provider: current.address,
          dataSetId: set.info.id,
          version: state.version,
        });
        // Queued after the first write, so that the manifest on disk always names the newest placement.
        if (recovery.requested) await saveRecovery(prepared);
        else if (placed.size === pieceCount) allSigned();
        const stored = await uploading;
        if (stored.root.toLowerCase() !== piece.root.toLowerCase()) {
          throw new StrataError(
            "PROVIDER_BAD_DATA",
            `${current.endpoint} stored piece ${index} as ${stored.root}, not ${piece.root}`,
          );
        }
        // The agent verifies a public index against the piece it holds: sent once the upload has ended under the
        // prepared root. A refusal moves the piece to a spare like any other failure.
        const publicIndex = await indexing;
        if (publicIndex !== undefined) {
          if (agent.putPublicIndex === undefined) {
            throw new StrataError("INTERNAL_INVARIANT", "storing public files needs putPublicIndex");
          }
          await agent.putPublicIndex(set.info.id, piece.root, publicIndex);
        }
        uploaded.add(index);
        return;
      } catch (error) {
        placed.delete(index);
        if (aborted(request.signal) || prepareFailed()) return;
        const reason = error instanceof Error ? error.message : String(error);
        failures.push({ piece: index, provider: current.address, reason });
        offer = attemptNo < maxAttempts ? spares.shift() : undefined;
        if (offer === undefined) emit({ type: "gave-up", piece: index, reason });
        else emit({ type: "retry", piece: index, failed: current.address, next: offer.address, reason });
      }
    }
  };

  const indexes = Array.from({ length: pieceCount }, (_, i) => i);
  const placing = mapLimit(indexes, request.concurrency ?? pieceCount, placePiece);
  try {
    const prepared = await preparing.catch(async (error: unknown) => {
      await placing.catch(() => undefined);
      throw error;
    });
    await Promise.race([signedAll, placing]);
    // A piece failed since (it is being moved to a spare, or gave up): wait for every piece to settle.
    if (!aborted(request.signal) && placed.size < pieceCount) await placing;
    if (aborted(request.signal) || placed.size < pieceCount) {
      stopUploads();
      await placing;
      stopIfAsked(
        request.signal,
        "before any token moved: the uploaded pieces are unsigned and the providers drop them; nothing to undo",
      );
      throw incomplete(
        placed.size,
        pieceCount,
        request.k,
        failures,
        "no token has moved; the uploaded pieces are dropped by the providers",
      );
    }
    // Everything needed to recover the file is written before any token moves (and before the uploads end:
    // a store stopped now is finished by store --resume, which uploads from the staged pieces what an agent lacks).
    recovery.requested = true;
    await saveRecovery(prepared);
    await placing;
  } catch (error) {
    // Nothing may keep reading the staged pieces once the store gives up (they are removed unless recoverable).
    stopUploads();
    await placing.catch(() => undefined);
    throw error;
  } finally {
    request.signal?.removeEventListener("abort", stopUploads);
  }
  await recovery.saving;
  const manifest = recovery.manifest;
  const resume =
    `the manifest is kept at ${partialPath}: finish with strata store --resume ${partialPath} (it uploads what ` +
    "an agent lacks), or delete it";
  stopIfAsked(request.signal, `before any token moved; ${resume} (nothing to undo)`);
  if (manifest === undefined || placed.size < pieceCount || uploaded.size < pieceCount) {
    throw incomplete(
      uploaded.size,
      pieceCount,
      request.k,
      failures,
      manifest === undefined
        ? "no token has moved; the uploaded pieces are dropped by the providers"
        : `no token has moved; ${resume}`,
    );
  }
  const placements = [...placed.values()].sort((a, b) => a.piece - b.piece);

  const {
    funding,
    escrowAdded,
    failures: applyFailures,
  } = await fundAndApply(
    { manifest, placements, periods: request.periods, partialPath, ...pick(request, "signal", "onProgress") },
    {
      signer: deps.signer,
      market: deps.market,
      token: deps.token,
      agentFor: deps.agentFor,
      sleep,
      now,
      timeoutMs: openCtx.timeoutMs,
      pollMs: openCtx.pollMs,
      ...(deps.blocks === undefined ? {} : { blocks: deps.blocks }),
    },
  );
  const applied = placements.filter((p) => !applyFailures.some((f) => f.piece === p.piece));
  if (applied.length < pieceCount) {
    throw incomplete(
      applied.length,
      pieceCount,
      request.k,
      applyFailures,
      `the manifest is kept at ${partialPath}: finish with strata store --resume ${partialPath}, check it with ` +
        "strata status, or recover the escrow with strata withdraw",
    );
  }
  await saveManifest(request.manifestPath, manifest);
  await rm(partialPath, { force: true });
  await rm(workDir, { recursive: true, force: true });
  return { manifest, manifestPath: request.manifestPath, funding, escrowAdded, placed: placements, failures };
}

export interface ApplyRequest {
  manifest: Manifest;
  /** Signed placements still to pay for and apply (pieces the chain already holds may be left out). */
  placements: PiecePlaced[];
  periods: bigint;
  /** The partial manifest, named in messages. */
  partialPath: string;
  /**
   * The staged pieces (`piece-<i>.bin`, storeFile's `<manifest>.pieces`): a resumed store first uploads from there
   * what an agent does not hold (it may have dropped an upload left unsigned), before paying for it.
   */
  piecesDir?: string;
  signal?: AbortSignal;
  onProgress?: (event: StoreEvent) => void;
}

export interface ApplyDeps {
  signer: Signer;
  market: StoreDeps["market"];
  token: StoreDeps["token"];
  /** `uploadStatus` and `putPieceFile` are needed with `piecesDir` only. */
  agentFor: (
    endpoint: string,
  ) => Pick<AgentClient, "postState"> &
    Partial<Pick<AgentClient, "uploadStatus" | "putPieceFile" | "putPublicIndex">>;
  sleep: Sleep;
  now: () => number;
  timeoutMs: number;
  pollMs: number;
  /** New blocks: the wait for each state to apply follows them (see awaitVersion). */
  blocks?: BlockEvents;
}

/**
 * The paying half of a store, also run by `store --resume`: top up each placement's data set to cover the lockup of
 * its new span plus `periods`, send the signed state to the provider and wait for the chain to show it. Failures
 * are returned per piece; an abort between two top-ups throws STORE_INTERRUPTED naming what was paid.
 */
export async function fundAndApply(
  request: ApplyRequest,
  deps: ApplyDeps,
): Promise<{ funding: FundingPlan; escrowAdded: bigint; failures: PlacementFailure[] }> {
  const { manifest, placements, partialPath } = request;
  const emit = request.onProgress ?? (() => undefined);
  const provingPeriod = await deps.market.provingPeriod();
  const resume = `the manifest is at ${partialPath}: finish with strata store --resume ${partialPath}`;
  const needs = await Promise.all(
    placements.map(async (p) => {
      const [info, settleable, lockup] = await Promise.all([
        readDataSet(deps.market, p.dataSetId),
        deps.market.settleableAmount(p.dataSetId),
        deps.market.lockupFor(p.dataSetId, p.state.span),
      ]);
      const required = lockup + costFor(info.pricePerTiBMonth, p.state.span, request.periods * provingPeriod);
      const available = info.escrow - settleable;
      return required > available ? required - available : 0n;
    }),
  );
  // Failures after the pieces were placed (top-up, state delivery, application), apart from placement retries.
  const failures: PlacementFailure[] = [];
  const total = needs.reduce((sum, n) => sum + n, 0n);
  stopIfAsked(request.signal, `before any token moved; ${resume}, or delete it (nothing to undo)`);
  const funding = await ensureEscrowFunding(total, {
    market: deps.market,
    token: deps.token,
    signer: deps.signer,
  });
  emit({ type: "funded", plan: funding });
  // For the stop message: what was already paid, in tokens.
  const format = await tokenAmountFormat(deps.token);

  for (const [index, p] of placements.entries()) {
    const amount = needs[index] ?? 0n;
    const paid = placements
      .filter((q) => q.topUp > 0n)
      .map((q) => `data set ${q.dataSetId} +${format(q.topUp)}`);
    stopIfAsked(
      request.signal,
      paid.length === 0
        ? `before any token moved; ${resume}, or delete it (nothing to undo)`
        : `after topping up ${paid.join(", ")} (in the data sets' escrow); ${resume}, ` +
            "or recover the escrow with strata withdraw",
    );
    try {
      if (request.piecesDir !== undefined) {
        await reupload(request.piecesDir, manifest, p, deps);
        await resendPublicIndex(manifest, p, deps);
      }
      if (amount > 0n) {
        await confirmTransaction(await deps.market.topUp(p.dataSetId, amount));
        p.topUp = amount;
        emit({ type: "topped-up", dataSetId: p.dataSetId, amount });
      }
      const piece = manifest.pieces[p.piece];
      await deps.agentFor(p.endpoint).postState({
        state: p.state,
        signature: p.signature,
        add: [{ root: piece?.root ?? "", size: piece?.size ?? 0, offset: p.offset, height: p.height }],
        remove: [],
      });
    } catch (error) {
      failures.push({
        piece: p.piece,
        provider: p.provider,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
  await Promise.all(
    placements.map(async (p) => {
      if (failures.some((f) => f.piece === p.piece)) return;
      try {
        await awaitVersion(deps.market, p.dataSetId, p.state.version, deps);
        emit({ type: "applied", piece: p.piece, dataSetId: p.dataSetId, version: p.state.version });
      } catch (error) {
        failures.push({
          piece: p.piece,
          provider: p.provider,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }),
  );
  const escrowAdded = placements.reduce((sum, p) => sum + p.topUp, 0n);
  return { funding, escrowAdded, failures };
}

/** Upload a staged piece again when its agent holds less than all of it (resumable: only the missing bytes go). */
async function reupload(
  piecesDir: string,
  manifest: Manifest,
  p: PiecePlaced,
  deps: Pick<ApplyDeps, "agentFor">,
): Promise<void> {
  const piece = manifest.pieces[p.piece];
  if (piece === undefined) return;
  const path = join(piecesDir, `piece-${p.piece}.bin`);
  const held = await stat(path).catch(() => null);
  if (held?.isFile() !== true || held.size !== piece.size) return;
  const agent = deps.agentFor(p.endpoint);
  if (agent.uploadStatus === undefined || agent.putPieceFile === undefined) {
    throw new StrataError(
      "INTERNAL_INVARIANT",
      "re-uploading a staged piece needs uploadStatus and putPieceFile",
    );
  }
  const status = await agent.uploadStatus(p.dataSetId, piece.root, piece.size);
  if (status.received >= piece.size) return;
  await agent.putPieceFile(p.dataSetId, piece.root, { path, size: piece.size });
}

/**
 * A resumed public store sends each piece's public index again (kept whole or not at all by the agent, so sending
 * it twice is harmless): the recovery manifest is written before the uploads end, so a store stopped after it may
 * have left a replica without its index.
 */
async function resendPublicIndex(
  manifest: Manifest,
  p: PiecePlaced,
  deps: Pick<ApplyDeps, "agentFor">,
): Promise<void> {
  const piece = manifest.pieces[p.piece];
  if (manifest.public !== true || piece === undefined) return;
  const agent = deps.agentFor(p.endpoint);
  if (agent.putPublicIndex === undefined) {
    throw new StrataError("INTERNAL_INVARIANT", "resuming a public store needs putPublicIndex");
  }
  await agent.putPublicIndex(p.dataSetId, piece.root, buildPublicIndex(manifest.files ?? []));
}

function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** STORE_INTERRUPTED, saying where the store stopped, once `signal` is aborted. */
export function stopIfAsked(signal: AbortSignal | undefined, where: string): void {
  if (signal?.aborted !== true) return;
  throw new StrataError("STORE_INTERRUPTED", "the store was interrupted", { details: `stopped ${where}` });
}

function pick<T extends object, K extends keyof T>(value: T, ...keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

/**
 * Wait until the market shows `version` (or newer) for the data set. With `blocks`, the data set is read now and
 * after each new block, so the wait ends with the block that applies the state; without, every `pollMs`.
 */
export async function awaitVersion(
  market: Pick<DataSetReader, "dataSet">,
  dataSetId: bigint,
  version: bigint,
  opts: { sleep: Sleep; now: () => number; timeoutMs: number; pollMs: number; blocks?: BlockEvents },
): Promise<void> {
  let shown: bigint | undefined;
  const applied = async (): Promise<true | undefined> => {
    const info = await readDataSet(market, dataSetId);
    shown = info.version;
    if (info.version >= version) return true;
    if (info.status !== "live") {
      throw new StrataError(
        "PROVIDER_REJECTED",
        `data set ${dataSetId} is ${info.status}: version ${version} cannot apply`,
      );
    }
    return undefined;
  };
  const timeout = (): StrataError =>
    new StrataError(
      "PUBLISH_TIMEOUT",
      `the provider did not apply version ${version} of data set ${dataSetId} within ${opts.timeoutMs / 1000}s`,
      { details: `the chain shows version ${String(shown)}` },
    );
  if (opts.blocks !== undefined) {
    await onEachBlock(opts.blocks, applied, { timeoutMs: opts.timeoutMs, onTimeout: timeout });
    return;
  }
  const deadline = opts.now() + opts.timeoutMs;
  for (;;) {
    if ((await applied()) === true) return;
    if (opts.now() >= deadline) throw timeout();
    await opts.sleep(opts.pollMs);
  }
}

async function checkFunds(
  needed: bigint,
  deps: {
    market: Pick<StorageMarket, "balanceOf">;
    token: Pick<PaymentToken, "balanceOf"> & DescribableToken;
    client: string;
  },
): Promise<void> {
  const [ledger, wallet] = await Promise.all([
    deps.market.balanceOf(deps.client),
    deps.token.balanceOf(deps.client),
  ]);
  if (ledger < needed && wallet < needed) {
    const format = await tokenAmountFormat(deps.token);
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `storing needs about ${format(needed)} of escrow; ${deps.client} holds ${format(wallet)} and has ${format(ledger)} in the market`,
      {
        details:
          "send tokens to the wallet (local chain: strata dev mint <amount>), or store for fewer periods",
        data: rawAmounts({ needed, wallet, ledger }),
      },
    );
  }
}

async function writeManifest(
  prepared: PreparedPieces,
  chainId: bigint,
  market: string,
  placements: readonly PiecePlaced[],
  path: string,
): Promise<Manifest> {
  const list: PiecePlacement[] = placements.map((p) => ({
    provider: p.provider,
    endpoint: p.endpoint,
    dataSetId: p.dataSetId,
    offset: p.offset,
    addedInVersion: p.state.version,
  }));
  const manifest = completeManifest(prepared.manifestDraft, { chainId, market }, list);
  await saveManifest(path, manifest);
  return manifest;
}

function incomplete(
  done: number,
  pieceCount: number,
  k: number,
  failures: readonly PlacementFailure[],
  what: string,
): StrataError {
  return new StrataError(
    "STORE_INCOMPLETE",
    `stored ${done} of ${pieceCount} pieces (${done >= k ? "enough" : "not enough"} to rebuild the file with k = ${k})`,
    {
      details: `${what}. ${failures.map((f) => `piece ${f.piece} at ${f.provider}: ${f.reason}`).join("; ")}`,
    },
  );
}
