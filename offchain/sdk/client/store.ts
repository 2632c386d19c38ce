import { rm, rename } from "node:fs/promises";
import type { Provider, Signer } from "ethers";
import type { StorageMarket } from "../../../typechain-types/index.js";
import type { PaymentToken } from "../chain/connect.js";
import { TAG_BYTES } from "../data/encryption.js";
import { checkCoding, shardSizeFor } from "../data/erasure.js";
import { prepareFile, type PreparedFile } from "../data/prepare.js";
import { StrataError } from "../errors.js";
import { completeManifest, saveManifest, type Manifest, type PiecePlacement } from "../manifest/manifest.js";
import type { AgentClient } from "./agentClient.js";
import { mapLimit, sleep as realSleep, type Sleep } from "./concurrency.js";
import { ensureEscrowFunding, type FundingPlan } from "./funding.js";
import { NonceSequence } from "./nonces.js";
import { placePiece, type PlaceContext, type PlacementAttempt } from "./placePiece.js";
import { selectProviders, type ProviderOffer, type RegistryReader } from "./selectProviders.js";
import { settleAbandoned, type Reconciliation } from "./storeCleanup.js";

export interface StoreRequest {
  bytes: Uint8Array;
  fileName: string;
  k: number;
  m: number;
  /** Deal length in proving periods. */
  periods: bigint;
  /** Highest acceptable asking price per TiB per 30 days (token base units); null = any. */
  maxPricePerTiBMonth: bigint | null;
  /** Least collateral per GiB the providers must lock. Default 0. */
  minCollateralPerGiB?: bigint;
  /** Explicit providers (addresses or endpoints); default: chosen from the registry, cheapest first. */
  providers?: readonly string[];
  /** Where the manifest goes (written as `<out>.partial` while the store runs). */
  manifestPath: string;
  /** Keep the deals placed so far when not every piece can be placed (default: terminate them). */
  keepPartial?: boolean;
  /** Tries per piece, each with another provider. Default 3. */
  maxAttemptsPerPiece?: number;
  /** Pieces uploaded at once. Default 3. */
  concurrency?: number;
  /** Seconds the providers have to publish (proposal start deadline). Default 3600. */
  startDeadlineSeconds?: number;
  /** How long to wait for a provider to publish an uploaded piece. Default 300 s. */
  publishTimeoutMs?: number;
  pollMs?: number;
  onProgress?: (event: StoreEvent) => void;
}

export type StoreEvent =
  | { type: "selected"; providers: ProviderOffer[]; spares: number }
  | { type: "prepared"; pieces: number; pieceSize: number }
  | { type: "funded"; plan: FundingPlan }
  | { type: "upload"; piece: number; provider: string; sent: number; total: number }
  | { type: "published"; piece: number; provider: string; dealId: bigint }
  | { type: "retry"; piece: number; failed: string; next: string; reason: string }
  | { type: "gave-up"; piece: number; reason: string };

export interface StoreDeps {
  signer: Signer;
  chainId: bigint;
  /** The market connected to the signer (cancelNonce, terminateDeal are sent from it). */
  market: StorageMarket;
  registry: RegistryReader;
  /** The payment token connected to the signer. */
  token: Pick<PaymentToken, "allowance" | "balanceOf" | "approve">;
  provider: Pick<Provider, "getBlock" | "getBlockNumber">;
  agentFor: (endpoint: string) => AgentClient;
  sleep?: Sleep;
  now?: () => number;
  prepare?: typeof prepareFile;
}

export interface StoreResult {
  manifest: Manifest;
  manifestPath: string;
  funding: FundingPlan;
  /** Total escrow of the file's deals (token base units). */
  escrow: bigint;
  attempts: PlacementAttempt[];
  cleanup: Reconciliation;
}

/**
 * Store a file: encrypt and erasure-code it (prepareFile), choose k + m distinct providers, make sure the
 * escrow is funded (before any upload), sign one proposal per piece, upload, wait for each deal to be
 * published, and save the manifest. A piece that fails is retried with another provider; proposals left
 * behind are cancelled (cancelNonce) so no stray deal can appear later. If some piece cannot be placed the
 * deals already made are terminated (refunded in full, they have not started) unless `keepPartial`, and
 * STORE_INCOMPLETE is thrown.
 */
export async function storeFile(request: StoreRequest, deps: StoreDeps): Promise<StoreResult> {
  checkCoding(request.k, request.m);
  const emit = request.onProgress ?? (() => undefined);
  const sleep = deps.sleep ?? realSleep;
  const now = deps.now ?? Date.now;
  const client = await deps.signer.getAddress();
  const market = await deps.market.getAddress();
  const [provingPeriod, params, fromBlock] = await Promise.all([
    deps.market.provingPeriod(),
    deps.market.parameters(),
    deps.provider.getBlockNumber(),
  ]);
  if (request.periods < params.minDealPeriods || request.periods > params.maxDealPeriods) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      `the duration must be ${params.minDealPeriods}..${params.maxDealPeriods} proving periods of ${provingPeriod}s`,
    );
  }
  const pieceCount = request.k + request.m;
  const pieceSize = shardSizeFor(request.bytes.length + TAG_BYTES, request.k);
  if (BigInt(pieceSize) > params.maxPieceSize) {
    throw new StrataError(
      "PIECE_TOO_LARGE",
      `pieces of ${pieceSize} bytes exceed the market's ${params.maxPieceSize}`,
      {
        details: `raise --k (now ${request.k})`,
      },
    );
  }

  const selection = await selectProviders(
    {
      count: pieceCount,
      pieceSize: BigInt(pieceSize),
      periods: request.periods,
      chainId: deps.chainId,
      market,
      provingPeriod,
      maxPricePerTiBMonth: request.maxPricePerTiBMonth,
      minCollateralPerGiB: request.minCollateralPerGiB ?? 0n,
      ...(request.providers === undefined ? {} : { providers: request.providers }),
    },
    { registry: deps.registry, agentFor: deps.agentFor },
  );
  emit({ type: "selected", providers: selection.chosen, spares: selection.spares.length });
  const duration = request.periods * provingPeriod;
  const escrow = selection.chosen.reduce((sum, offer) => sum + offer.pricePerSecond * duration, 0n);
  const fundingDeps = { market: deps.market, token: deps.token, signer: deps.signer };
  // Read-only check first: fail on missing funds before the (long) preparation and any transaction.
  await checkFunds(escrow, fundingDeps);

  const prepared: PreparedFile = await (deps.prepare ?? prepareFile)(request.bytes, {
    k: request.k,
    m: request.m,
    signer: deps.signer,
    fileName: request.fileName,
    maxPieceSize: Number(params.maxPieceSize),
  });
  emit({ type: "prepared", pieces: prepared.pieces.length, pieceSize });
  const funding = await ensureEscrowFunding(escrow, fundingDeps);
  emit({ type: "funded", plan: funding });

  const ctx: PlaceContext = {
    signer: deps.signer,
    client,
    chainId: deps.chainId,
    market: deps.market,
    provider: deps.provider,
    agentFor: deps.agentFor,
    sleep,
    now,
    periods: request.periods,
    provingPeriod,
    startDeadlineSeconds: request.startDeadlineSeconds ?? 3600,
    publishTimeoutMs: request.publishTimeoutMs ?? 300_000,
    pollMs: request.pollMs ?? 1000,
    fromBlock,
  };
  const nonces = new NonceSequence();
  const spares = [...selection.spares];
  const attempts: PlacementAttempt[] = [];
  const placed = new Map<number, PlacementAttempt>();
  const partialPath = `${request.manifestPath}.partial`;
  // A crash must not lose the file key or the deals: the manifest so far is saved after every publication
  // (once every piece has a proposal). Saving is serialised; the final save below reports any disk error.
  let checkpoint = Promise.resolve();
  const saveCheckpoint = () => {
    checkpoint = checkpoint
      .then(() => writeManifest(prepared, deps.chainId, market, attempts, placed, partialPath))
      .then(
        () => undefined,
        () => undefined,
      );
    return checkpoint;
  };
  // Escrow of the proposals providers hold that are not published: the allowance must keep covering them.
  let liveEscrow = 0n;
  // Transactions from the client's wallet (approve on a retry) go one at a time: concurrent sends would race
  // for the account's transaction nonce.
  let walletQueue: Promise<unknown> = Promise.resolve();
  const fundRetry = (extra: bigint): Promise<FundingPlan> => {
    const run = walletQueue.then(() => ensureEscrowFunding(liveEscrow + extra, fundingDeps));
    walletQueue = run.catch(() => undefined);
    return run;
  };
  const maxAttempts = request.maxAttemptsPerPiece ?? 3;

  await mapLimit(prepared.pieces, request.concurrency ?? 3, async (piece) => {
    const first = selection.chosen[piece.index];
    if (first === undefined)
      throw new StrataError("INVALID_ARGUMENT", `no provider for piece ${piece.index}`);
    let offer: ProviderOffer = first;
    for (let attemptNo = 1; ; attemptNo++) {
      const current = offer;
      const offerEscrow = offer.pricePerSecond * duration;
      liveEscrow += offerEscrow;
      const attempt = await placePiece(piece, offer, nonces.next(), ctx, (sent, total) => {
        emit({ type: "upload", piece: piece.index, provider: current.address, sent, total });
      });
      attempts.push(attempt);
      if (attempt.deal !== null) {
        liveEscrow -= offerEscrow;
        placed.set(piece.index, attempt);
        emit({ type: "published", piece: piece.index, provider: offer.address, dealId: attempt.deal.id });
        await saveCheckpoint();
        return;
      }
      const reason = attempt.error ?? "unknown error";
      const next = attemptNo < maxAttempts ? spares.shift() : undefined;
      if (next === undefined) {
        emit({ type: "gave-up", piece: piece.index, reason });
        await saveCheckpoint();
        return;
      }
      emit({ type: "retry", piece: piece.index, failed: offer.address, next: next.address, reason });
      // Abandoned proposals may still be published until their nonces are cancelled: keep them funded too.
      try {
        await fundRetry(next.pricePerSecond * duration);
      } catch (error) {
        emit({
          type: "gave-up",
          piece: piece.index,
          reason: error instanceof Error ? error.message : String(error),
        });
        spares.unshift(next);
        await saveCheckpoint();
        return;
      }
      offer = next;
    }
  });

  const cleanup = await settleAbandoned(attempts, placed, {
    market: deps.market,
    periods: request.periods,
    fromBlock,
  });
  const complete = placed.size === pieceCount;
  if (complete || request.keepPartial === true) {
    const manifest = await writeManifest(prepared, deps.chainId, market, attempts, placed, partialPath);
    if (complete) {
      await rename(partialPath, request.manifestPath);
      return { manifest, manifestPath: request.manifestPath, funding, escrow, attempts, cleanup };
    }
    throw incomplete(
      attempts,
      placed,
      pieceCount,
      request.k,
      `kept ${placed.size} deal(s); partial manifest: ${partialPath}`,
    );
  }
  const terminated = await terminateAll([...placed.values()], deps.market);
  await rm(partialPath, { force: true });
  throw incomplete(
    attempts,
    placed,
    pieceCount,
    request.k,
    `the ${terminated} deal(s) made were terminated and their escrow credited to your market balance; ` +
      "start more providers or relax --max-price / --providers and run store again (--keep-partial keeps placed deals)",
  );
}

async function checkFunds(
  needed: bigint,
  deps: { market: Pick<StorageMarket, "balanceOf">; token: Pick<PaymentToken, "balanceOf">; signer: Signer },
): Promise<void> {
  const client = await deps.signer.getAddress();
  const [ledger, wallet] = await Promise.all([deps.market.balanceOf(client), deps.token.balanceOf(client)]);
  if (ledger < needed && wallet < needed) {
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `storing needs ${needed} token units of escrow; ${client} holds ${wallet} and has ${ledger} in the market`,
      {
        details:
          "send tokens to the wallet (local chain: strata dev mint <amount>), or store for fewer periods",
      },
    );
  }
}

/** The manifest from the placed pieces, and for the others their last attempt (deal null). */
async function writeManifest(
  prepared: PreparedFile,
  chainId: bigint,
  market: string,
  attempts: readonly PlacementAttempt[],
  placed: ReadonlyMap<number, PlacementAttempt>,
  path: string,
): Promise<Manifest> {
  const placements: PiecePlacement[] = [];
  for (const piece of prepared.manifestDraft.pieces) {
    const attempt = placed.get(piece.index) ?? attempts.filter((a) => a.piece === piece.index).at(-1);
    if (attempt === undefined) {
      throw new StrataError("INVALID_ARGUMENT", `piece ${piece.index} has no proposal yet`);
    }
    placements.push({
      provider: attempt.provider,
      endpoint: attempt.endpoint,
      proposal: attempt.proposal,
      dealId: attempt.deal?.id ?? null,
      deal: attempt.deal,
    });
  }
  const manifest = completeManifest(prepared.manifestDraft, { chainId, market }, placements);
  await saveManifest(path, manifest);
  return manifest;
}

async function terminateAll(
  attempts: readonly PlacementAttempt[],
  market: Pick<StorageMarket, "terminateDeal">,
): Promise<number> {
  let count = 0;
  for (const attempt of attempts) {
    if (attempt.deal === null) continue;
    await (await market.terminateDeal(attempt.deal)).wait();
    count++;
  }
  return count;
}

function incomplete(
  attempts: readonly PlacementAttempt[],
  placed: ReadonlyMap<number, PlacementAttempt>,
  pieceCount: number,
  k: number,
  what: string,
): StrataError {
  const failures = attempts
    .filter((a) => a.deal === null && !placed.has(a.piece))
    .map((a) => `piece ${a.piece} at ${a.provider}: ${a.error ?? "failed"}`);
  return new StrataError(
    "STORE_INCOMPLETE",
    `placed ${placed.size} of ${pieceCount} pieces (${placed.size >= k ? "enough" : "not enough"} to rebuild the file with k = ${k})`,
    { details: `${what}. ${failures.join("; ")}` },
  );
}
