// Permanent files from the client's side (docs/SPEC.md §16.2): quote, pay once, stage the pieces, watch them
// being placed, read the solvency view, and retrieve a file from its file id alone.
//
// The flow a user gets: the client erasure-codes the file into the contract's n = k + m pieces, pays
// `PermanentStorage.storePermanent` once, and hands each piece once to one provider agent that takes permanent
// pieces ("staging": the agent checks the bytes against the piece list root on chain). The client may then go
// offline: provider agents offer for the open slots, the cheapest offer wins each slot, and the winner fetches its
// piece from the agent staging it (checking it against the same root), opens the data set the contract approved,
// places the piece, proves it and confirms it (offchain/agent/permanent).
//
// Format: the payload is an 8-byte big-endian length followed by the file's bytes, zero-padded so that every piece
// is exactly `pieceSpan × 64` bytes (a power of two of leaves: the contract charges for the whole span anyway).
// So a file is self-describing on chain: its pieces' commitments and holders are in its slots, their size is its
// span, and the length is in the payload. Pieces are the bytes as given: encrypt a private file first.
import { getAddress } from "ethers";
import { open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { PermanentStorage } from "../../../typechain-types/index.js";
import type { AgentClient } from "../client/agentClient.js";
import { mapLimit } from "../client/concurrency.js";
import type { RegistryReader } from "../client/selectProviders.js";
import { PermanentFileStatus, PermanentSlotStage } from "../chain/enums.js";
import type { StrataDeployment } from "../chain/deployment.js";
import { computeParity } from "../data/erasure.js";
import { StrataError } from "../errors.js";
import { PieceList } from "../repair/pieceList.js";
import {
  fetchPieceFile,
  firstK,
  PieceFileWriter,
  REBUILD_SEGMENT_BYTES,
  rebuildPieceFile,
  rebuildSegments,
  withScratch,
} from "../repair/pieceFiles.js";
import type { PermanentAgentClient } from "./permanentAgent.js";
import { PieceHasher } from "../commitment/stream.js";
import { confirmTransaction } from "../chain/confirm.js";

/** Bytes of the length header in front of a permanent file's payload. */
export const LENGTH_HEADER_BYTES = 8;
const LEAF_BYTES = 64;

/** The address of the deployment's PermanentStorage, or null when it has none. */
export async function permanentStorageAddress(
  deployment: Pick<StrataDeployment, "source" | "module">,
): Promise<string | null> {
  try {
    const json = JSON.parse(await readFile(deployment.source, "utf8")) as Record<string, unknown>;
    const address = json[`${deployment.module}#PermanentStorage`];
    return typeof address === "string" ? getAddress(address) : null;
  } catch {
    return null;
  }
}

/** Piece geometry of a permanent file of `fileSize` bytes in `k` data pieces. */
export function permanentGeometry(fileSize: number, k: number): { pieceSize: number; pieceSpan: bigint } {
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) {
    throw new StrataError("INVALID_ARGUMENT", `bad file size ${fileSize}`);
  }
  const leaves = Math.max(1, Math.ceil((fileSize + LENGTH_HEADER_BYTES) / k / LEAF_BYTES));
  let span = 1;
  while (span < leaves) span *= 2;
  return { pieceSize: span * LEAF_BYTES, pieceSpan: BigInt(span) };
}

/** Where a permanent file's bytes come from: `size` bytes, read at any position. */
export interface PermanentSource {
  size: number;
  /** Fill `into` from byte `position` of the file on; resolves to the bytes read (0 only past the end). */
  read(into: Uint8Array, position: number): Promise<number>;
}

/** Bytes in memory as a source (small files, tests). */
export function bytesSource(bytes: Uint8Array): PermanentSource {
  return {
    size: bytes.length,
    read: (into, position) => {
      const part = bytes.subarray(position, position + into.length);
      into.set(part);
      return Promise.resolve(part.length);
    },
  };
}

/** A file as a source, read where the encoder needs it (never whole); close it when done. */
export async function fileSource(file: string): Promise<PermanentSource & { close(): Promise<void> }> {
  const handle = await open(file, "r");
  const { size } = await handle.stat();
  return {
    size,
    read: async (into, position) => (await handle.read(into, 0, into.length, position)).bytesRead,
    close: () => handle.close(),
  };
}

/** A permanent file cut into its n pieces (in files), with their commitments and the piece list the contract signs. */
export interface PermanentPieces {
  k: number;
  n: number;
  fileSize: number;
  pieceSize: number;
  pieceSpan: bigint;
  /** Piece i's bytes are in files[i]. */
  files: string[];
  roots: string[];
  list: PieceList;
}

/**
 * Erasure-code the file into n pieces of which any k rebuild it (see the format above), written to `dir` as
 * `piece-<i>`. The payload is built and coded one segment of every piece at a time (whole stripes of the coder),
 * each piece hashed as it is written: memory is k + m segments whatever the file size.
 */
export async function encodePermanentFile(
  source: PermanentSource,
  k: number,
  n: number,
  dir: string,
): Promise<PermanentPieces> {
  const { pieceSize, pieceSpan } = permanentGeometry(source.size, k);
  const segment = Math.min(REBUILD_SEGMENT_BYTES, pieceSize);
  const files = Array.from({ length: n }, (_, i) => path.join(dir, `piece-${i}`));
  const writers = await Promise.all(files.map((file) => PieceFileWriter.create(file, pieceSize)));
  const data = Array.from({ length: k }, () => new Uint8Array(segment));
  const parity = Array.from({ length: n - k }, () => new Uint8Array(segment));
  let ok = false;
  let finished: PromiseSettledResult<string>[] = [];
  try {
    for (let offset = 0; offset < pieceSize; offset += segment) {
      const length = Math.min(segment, pieceSize - offset);
      const views = data.map((buffer) => buffer.subarray(0, length));
      for (const [j, view] of views.entries()) await readPayload(source, view, j * pieceSize + offset);
      let next = 0;
      const coded = await computeParity(views, n - k, (bytes) =>
        (parity[next++] ?? new Uint8Array(bytes)).subarray(0, bytes),
      );
      const all = [...views, ...coded];
      for (const [i, writer] of writers.entries()) await writer.write(all[i] ?? new Uint8Array());
    }
    ok = true;
  } finally {
    // Every writer is closed; after a failure they remove their files.
    finished = await Promise.allSettled(writers.map((w) => w.finish(ok)));
  }
  const failed = finished.find((f) => f.status === "rejected");
  if (failed !== undefined) {
    await Promise.all(files.map((file) => rm(file, { force: true })));
    throw failed.reason;
  }
  const roots = finished.map((f) => (f.status === "fulfilled" ? f.value : ""));
  const list = new PieceList(
    roots.map((root, index) => ({ index, pieceRoot: root, span: pieceSpan, dataSetId: 0n })),
  );
  return { k, n, fileSize: source.size, pieceSize, pieceSpan, files, roots, list };
}

/**
 * Fill `into` with payload bytes from `payloadOffset` on: the 8-byte big-endian length, then the file's bytes, then
 * zeros.
 */
async function readPayload(source: PermanentSource, into: Uint8Array, payloadOffset: number): Promise<void> {
  into.fill(0);
  const header = new Uint8Array(LENGTH_HEADER_BYTES);
  new DataView(header.buffer).setBigUint64(0, BigInt(source.size));
  for (let p = payloadOffset; p < Math.min(LENGTH_HEADER_BYTES, payloadOffset + into.length); p++) {
    into[p - payloadOffset] = header[p] ?? 0;
  }
  const from = Math.max(payloadOffset, LENGTH_HEADER_BYTES);
  const to = Math.min(payloadOffset + into.length, LENGTH_HEADER_BYTES + source.size);
  for (let p = from; p < to;) {
    const read = await source.read(
      into.subarray(p - payloadOffset, to - payloadOffset),
      p - LENGTH_HEADER_BYTES,
    );
    if (read === 0) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `the file ended at ${p - LENGTH_HEADER_BYTES} of ${source.size} bytes`,
        {
          details: "it changed while being stored: store it again",
        },
      );
    }
    p += read;
  }
}

// ------------------------------------------------------------------ quote

/** The one-time price of a permanent file, with the assumption it rests on. */
export interface PermanentQuote {
  /** Data pieces k and pieces n of the contract's coding. */
  k: number;
  n: number;
  fileSize: number;
  pieceSize: number;
  pieceSpan: bigint;
  /** Principal held for the file (token base units). */
  principal: bigint;
  /** Fee to the reserve (token base units). */
  fee: bigint;
  /** principal + fee: what is paid, once. */
  total: bigint;
  /** Years paid for (the horizon) and the yearly storage-cost decline assumed (basis points). */
  horizonYears: number;
  declineBps: number;
  /** Today's reference price per TiB-month and the highest offer a provider may make (base units). */
  referencePricePerTiBMonth: bigint;
  priceCeilingPerTiBMonth: bigint;
}

/** Quote a permanent file of `fileSize` bytes now (`PermanentStorage.quote`). */
export async function quotePermanent(
  permanent: Pick<PermanentStorage, "config" | "quote" | "referencePrice">,
  fileSize: number,
): Promise<PermanentQuote> {
  const config = await permanent.config();
  const k = Number(config.dataShards);
  const n = Number(config.totalShards);
  const { pieceSize, pieceSpan } = permanentGeometry(fileSize, k);
  const [[principal, fee], reference] = await Promise.all([
    permanent.quote(pieceSpan),
    permanent.referencePrice(),
  ]);
  return {
    k,
    n,
    fileSize,
    pieceSize,
    pieceSpan,
    principal,
    fee,
    total: principal + fee,
    horizonYears: Number(config.horizonYears),
    declineBps: Number(config.declineBps),
    referencePricePerTiBMonth: reference,
    priceCeilingPerTiBMonth: (reference * config.maxPriceBps) / 10_000n,
  };
}

// ------------------------------------------------------------------ solvency and slots

/** One piece slot of a permanent file as the chain holds it. */
export interface PermanentSlotView {
  index: number;
  stage: "open" | "awarded" | "placed" | "live";
  /** The best offer (open), else the holder; null when none. */
  provider: string | null;
  pricePerTiBMonth: bigint;
  dataSetId: bigint | null;
  pieceRoot: string | null;
}

/** A permanent file's public solvency and its slots. */
export interface PermanentFileView {
  fileId: bigint;
  status: "none" | "pending" | "active" | "lost" | "abandoned";
  uploader: string;
  k: number;
  n: number;
  pieceSpan: bigint;
  principal: bigint;
  principalLeft: bigint;
  releasedLeft: bigint;
  yearsCovered: number;
  livePieces: number;
  slots: PermanentSlotView[];
}

const ZERO = "0x0000000000000000000000000000000000000000";
const ZERO_ROOT = `0x${"0".repeat(64)}`;

/** The solvency view and slots of permanent file `fileId`. */
export async function permanentFile(
  permanent: Pick<PermanentStorage, "config" | "file" | "slot" | "solvency">,
  fileId: bigint,
): Promise<PermanentFileView> {
  const [config, f, s] = await Promise.all([
    permanent.config(),
    permanent.file(fileId),
    permanent.solvency(fileId),
  ]);
  const n = Number(config.totalShards);
  const slots = await Promise.all(
    Array.from({ length: n }, async (_, index): Promise<PermanentSlotView> => {
      const slot = await permanent.slot(fileId, index);
      const stage = PermanentSlotStage.nameOf(slot.stage) ?? "Open";
      return {
        index,
        stage: stage.toLowerCase() as PermanentSlotView["stage"],
        provider: slot.provider === ZERO ? null : getAddress(slot.provider),
        pricePerTiBMonth: slot.price,
        dataSetId: slot.dataSetId === 0n ? null : slot.dataSetId,
        pieceRoot: slot.pieceRoot === ZERO_ROOT ? null : slot.pieceRoot,
      };
    }),
  );
  return {
    fileId,
    status: (PermanentFileStatus.nameOf(f.status) ?? "None").toLowerCase() as PermanentFileView["status"],
    uploader: f.uploader,
    k: Number(config.dataShards),
    n,
    pieceSpan: f.pieceSpan,
    principal: f.principal,
    principalLeft: s.principalLeft,
    releasedLeft: s.releasedLeft,
    yearsCovered: Number(s.yearsCovered),
    livePieces: Number(s.livePieces),
    slots,
  };
}

// ------------------------------------------------------------------ store

/** What `storePermanent` reports as it goes. */
export type StorePermanentProgress =
  | { kind: "quoted"; quote: PermanentQuote; stagers: number }
  | { kind: "paid"; fileId: bigint; txHash: string }
  | { kind: "staged"; index: number; provider: string; endpoint: string }
  | { kind: "placing"; live: number; placed: number; awarded: number; offered: number; needed: number };

/** Options of `storePermanent`. */
export interface StorePermanentOptions {
  /** The file's bytes (stored as given: encrypt a private file first); read in segments, never whole. */
  source: PermanentSource;
  /**
   * Where the n pieces are written before they are handed to agents (removed afterwards; the system's temporary
   * folder by default). They take n/k times the file's size.
   */
  scratchDir?: string;
  /** Most the caller pays (principal + fee, base units); default: the quote. PermanentQuoteAboveMax above it. */
  maxPayment?: bigint;
  /**
   * Called with the quote before paying; resolve false to stop without paying (`STORE_DECLINED`). Default: pay.
   */
  confirm?: (quote: PermanentQuote) => Promise<boolean>;
  /** How long to wait for all n pieces to be live after staging (ms); 0 (default) returns right after staging. */
  waitMs?: number;
  /** Poll interval while waiting (ms, default 2000). */
  pollMs?: number;
  onProgress?: (event: StorePermanentProgress) => void;
  /** Hand the pieces only to these agents (provider addresses or endpoints); default: every agent taking them. */
  providers?: readonly string[];
}

/** What `storePermanent` needs: contracts bound to the payer, and how to reach agents. */
export interface StorePermanentDeps {
  /** PermanentStorage connected to the payer's signer. */
  permanent: PermanentStorage;
  /** Let `spender` pull `amount` of the payment token from the payer (resolves once mined). */
  approve: (spender: string, amount: bigint) => Promise<void>;
  registry: RegistryReader;
  agentFor: (endpoint: string) => PermanentAgentClient;
  sleep?: (ms: number) => Promise<void>;
}

/** Where a piece was staged. */
export interface StagedAt {
  index: number;
  provider: string;
  endpoint: string;
}

/** What `storePermanent` did. */
export interface StorePermanentResult {
  fileId: bigint;
  /** The payment transaction. */
  txHash: string;
  quote: PermanentQuote;
  piecesRoot: string;
  pieceRoots: string[];
  staged: StagedAt[];
  /** Pieces live when it returned, and pieces the file has (n). */
  live: number;
  needed: number;
  /** Whether every piece was live before `waitMs` ran out. */
  complete: boolean;
  file: PermanentFileView;
}

/** An agent taking permanent pieces for this contract, and its price. */
export interface Stager {
  provider: string;
  endpoint: string;
  price: bigint;
}

/**
 * Store `options.bytes` permanently, paid once: quote, confirm, pay (`storePermanent`), stage every piece once
 * with an agent that takes permanent pieces (cheapest first, one piece each while there are enough of them), and
 * optionally wait until every piece is live. Throws NOT_ENOUGH_PROVIDERS before paying when no agent takes
 * permanent pieces of this size, STORE_DECLINED when `confirm` resolves false.
 */
export async function storePermanent(
  options: StorePermanentOptions,
  deps: StorePermanentDeps,
): Promise<StorePermanentResult> {
  const { permanent } = deps;
  const contract = await permanent.getAddress();
  const quote = await quotePermanent(permanent, options.source.size);
  const wanted = options.providers?.map((p) => p.toLowerCase().replace(/\/+$/, ""));
  const stagers = (await findStagers(contract, quote.pieceSize, deps)).filter(
    (s) =>
      wanted === undefined ||
      wanted.includes(s.provider.toLowerCase()) ||
      wanted.includes(s.endpoint.toLowerCase().replace(/\/+$/, "")),
  );
  options.onProgress?.({ kind: "quoted", quote, stagers: stagers.length });
  if (stagers.length === 0) {
    throw new StrataError("NOT_ENOUGH_PROVIDERS", "no provider agent takes permanent pieces", {
      details: `none of the registered providers serves ${contract} with pieces of ${quote.pieceSize} bytes; nothing was paid`,
    });
  }
  if (options.confirm !== undefined && !(await options.confirm(quote))) {
    throw new StrataError("STORE_DECLINED", "not paid: the quote was declined");
  }
  // The pieces are on disk before anything is paid, and stay there until every one was handed over.
  const { encoded, fileId, txHash, staged } = await withScratch(options.scratchDir, async (dir) => {
    const encoded = await encodePermanentFile(options.source, quote.k, quote.n, dir);
    const maxPayment = options.maxPayment ?? quote.total;
    await deps.approve(contract, maxPayment);
    const tx = await permanent.storePermanent(encoded.list.root, encoded.pieceSpan, maxPayment);
    const receipt = await confirmTransaction(tx);
    if (receipt.status !== 1) {
      throw new StrataError("CHAIN_REVERT", `storePermanent ${tx.hash} failed`);
    }
    let fileId: bigint | null = null;
    for (const log of receipt.logs) {
      const parsed = permanent.interface.parseLog(log);
      if (parsed?.name === "FileStored") fileId = parsed.args.getValue("fileId") as bigint;
    }
    if (fileId === null) throw new StrataError("CHAIN_REVERT", "storePermanent was mined without FileStored");
    options.onProgress?.({ kind: "paid", fileId, txHash: receipt.hash });
    const staged = await stageAll(fileId, encoded, stagers, deps, options.onProgress);
    return { encoded, fileId, txHash: receipt.hash, staged };
  });
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + (options.waitMs ?? 0);
  let file = await permanentFile(permanent, fileId);
  for (;;) {
    const count = (stage: PermanentSlotView["stage"]) => file.slots.filter((s) => s.stage === stage).length;
    const live = count("live");
    options.onProgress?.({
      kind: "placing",
      live,
      placed: count("placed"),
      awarded: count("awarded"),
      offered: file.slots.filter((s) => s.stage === "open" && s.provider !== null).length,
      needed: quote.n,
    });
    if (live >= quote.n || Date.now() >= deadline) break;
    await sleep(Math.min(options.pollMs ?? 2000, Math.max(0, deadline - Date.now())));
    file = await permanentFile(permanent, fileId);
  }
  const live = file.slots.filter((s) => s.stage === "live").length;
  return {
    fileId,
    txHash,
    quote,
    piecesRoot: encoded.list.root,
    pieceRoots: encoded.roots,
    staged,
    live,
    needed: quote.n,
    complete: live >= quote.n,
    file,
  };
}

/** Registered agents taking permanent pieces of `pieceSize` bytes for `contract`, cheapest first. */
export async function findStagers(
  contract: string,
  pieceSize: number,
  deps: Pick<StorePermanentDeps, "registry" | "agentFor">,
): Promise<Stager[]> {
  const count = await deps.registry.providerCount();
  const addresses = await mapLimit(
    Array.from({ length: Number(count) }, (_, i) => BigInt(i)),
    8,
    (i) => deps.registry.providerAt(i),
  );
  const found = await mapLimit([...new Set(addresses.map((a) => getAddress(a)))], 8, async (provider) => {
    try {
      const info = await deps.registry.providerInfo(provider);
      if (!info.registered || info.endpoint === "") return null;
      const terms = await deps.agentFor(info.endpoint).terms();
      const usable =
        terms.enabled &&
        terms.contract !== null &&
        terms.contract.toLowerCase() === contract.toLowerCase() &&
        terms.provider.toLowerCase() === provider.toLowerCase() &&
        terms.maxPieceBytes >= BigInt(pieceSize);
      return usable ? { provider, endpoint: info.endpoint, price: terms.pricePerTiBMonth } : null;
    } catch {
      return null; // unreachable or not serving permanent pieces
    }
  });
  return found
    .filter((s): s is Stager => s !== null)
    .sort((a, b) => (a.price === b.price ? 0 : a.price < b.price ? -1 : 1));
}

/** Stage piece i with stager i mod count, moving on to the next stager when one refuses. */
async function stageAll(
  fileId: bigint,
  encoded: PermanentPieces,
  stagers: readonly Stager[],
  deps: Pick<StorePermanentDeps, "agentFor">,
  onProgress: StorePermanentOptions["onProgress"],
): Promise<StagedAt[]> {
  const staged: StagedAt[] = [];
  for (let index = 0; index < encoded.n; index++) {
    const piece = {
      root: encoded.roots[index] ?? "",
      proof: encoded.list.proof(index),
      file: { path: encoded.files[index] ?? "", size: encoded.pieceSize },
    };
    let done: StagedAt | null = null;
    const errors: string[] = [];
    for (let attempt = 0; attempt < stagers.length && done === null; attempt++) {
      const stager = stagers[(index + attempt) % stagers.length];
      if (stager === undefined) break;
      try {
        await deps.agentFor(stager.endpoint).stagePiece(fileId, index, piece);
        done = { index, provider: stager.provider, endpoint: stager.endpoint };
      } catch (error) {
        errors.push(`${stager.provider}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (done === null) {
      throw new StrataError("PROVIDER_REJECTED", `no agent took piece ${index} of permanent file ${fileId}`, {
        details: `${errors.join("; ")}. The file is paid: stage its pieces again, or abandon it after 30 days for a refund`,
      });
    }
    staged.push(done);
    onProgress?.({ kind: "staged", ...done });
  }
  return staged;
}

// ------------------------------------------------------------------ retrieve

/** What `retrievePermanent` needs. */
export interface RetrievePermanentDeps {
  permanent: Pick<PermanentStorage, "config" | "file" | "slot" | "solvency">;
  registry: Pick<RegistryReader, "providerInfo">;
  agentFor: (endpoint: string) => Pick<AgentClient, "pieceBody">;
  /** Where the pieces are fetched to before decoding (the system's temporary folder by default). */
  scratchDir?: string;
}

/**
 * Write permanent file `fileId` to `sink`, from any k of its placed pieces. Each piece is fetched to a scratch file
 * and checked against the commitment its slot holds on chain before a byte is written; the file is then decoded
 * segment by segment, so memory stays at a few segments whatever its size. NOT_ENOUGH_PIECES when fewer than k
 * answer correctly. Resolves to the file's length.
 */
export async function retrievePermanent(
  fileId: bigint,
  deps: RetrievePermanentDeps,
  sink: { write(bytes: Uint8Array): Promise<void> },
): Promise<{ length: number }> {
  const file = await permanentFile(deps.permanent, fileId);
  const pieceSize = Number(file.pieceSpan) * LEAF_BYTES;
  return withScratch(deps.scratchDir, async (dir) => {
    const sources: (string | null)[] = file.slots.map(() => null);
    // Data pieces first (slot order): with all k of them nothing needs decoding.
    const held = file.slots.filter(
      (slot) =>
        (slot.stage === "live" || slot.stage === "placed") &&
        slot.provider !== null &&
        slot.pieceRoot !== null,
    );
    const good = await firstK(held, file.k, async (slot) => {
      const target = path.join(dir, `piece-${slot.index}`);
      const info = await deps.registry.providerInfo(slot.provider ?? "");
      await fetchPieceFile(deps.agentFor(info.endpoint), slot.pieceRoot ?? "", pieceSize, target);
      sources[slot.index] = target;
      return true;
    });
    if (good < file.k) {
      throw new StrataError(
        "NOT_ENOUGH_PIECES",
        `${good} good pieces of the ${file.k} needed for permanent file ${fileId}`,
      );
    }
    // The payload is the data pieces in order: an 8-byte length, then the file's bytes, then zero padding.
    let length = -1;
    let at = -LENGTH_HEADER_BYTES; // file offset of the segment's first byte
    for (let index = 0; index < file.k; index++) {
      await rebuildSegments(
        { k: file.k, m: file.n - file.k, pieceSize, sources, wanted: [index] },
        async (_i, bytes) => {
          if (length < 0) {
            length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0));
            if (length > file.k * pieceSize - LENGTH_HEADER_BYTES) {
              throw new StrataError(
                "PIECE_CORRUPT",
                `the payload claims ${length} bytes; its pieces hold ${file.k * pieceSize - LENGTH_HEADER_BYTES}`,
              );
            }
          }
          const from = Math.max(0, -at);
          const to = Math.min(bytes.length, length - at);
          if (to > from) await sink.write(bytes.subarray(from, to));
          at += bytes.length;
        },
      );
    }
    return { length };
  });
}

// ------------------------------------------------------------------ rebuild

/** What rebuilding a lost piece of a permanent file needs (everything but the bytes is on chain). */
export interface RebuildPermanentRequest {
  index: number;
  k: number;
  n: number;
  pieceSpan: bigint;
  /** The file's piece-list root (`File.piecesRoot`). */
  piecesRoot: string;
  /** Every slot's piece commitment (null when never placed) and its holder (null when none). */
  slots: readonly { pieceRoot: string | null; holder: string | null }[];
  /** Fetch piece `root` of `size` bytes from `holder` into `file`, checked against `root` (see fetchPieceFile). */
  download: (holder: string, root: string, size: number, file: string) => Promise<void>;
  /** A folder for the fetched pieces (emptied by the caller). */
  dir: string;
  /** Where the rebuilt piece goes. */
  out: string;
}

/**
 * Rebuild piece `index` of a permanent file into `request.out` from k pieces its holders serve (fetched to files,
 * each checked against the commitment its slot keeps on chain, and decoded segment by segment), with its proof in
 * the piece list. A slot placed once keeps its commitment on chain (a lost slot too). Commitments never placed (the
 * piece wanted among them) are decoded as well and hashed, and the list they complete must hash to `piecesRoot`:
 * PIECE_CORRUPT (and no file) when it does not, NOT_ENOUGH_PIECES when fewer than k holders of known commitments
 * answer with the right bytes.
 */
export async function rebuildPermanentPiece(
  request: RebuildPermanentRequest,
): Promise<{ root: string; size: number; proof: string[] }> {
  const { index, k, n, pieceSpan } = request;
  if (request.slots.length !== n) {
    throw new StrataError("INVALID_ARGUMENT", `expected ${n} slots, got ${request.slots.length}`);
  }
  const roots = request.slots.map((s) => s.pieceRoot?.toLowerCase() ?? null);
  const listOf = (known: readonly string[]) =>
    new PieceList(known.map((pieceRoot, i) => ({ index: i, pieceRoot, span: pieceSpan, dataSetId: 0n })));
  const unknown = roots.flatMap((r, i) => (r === null ? [i] : []));
  // Every commitment on chain: the list is checked before a byte is fetched.
  if (
    unknown.length === 0 &&
    listOf(roots as string[]).root.toLowerCase() !== request.piecesRoot.toLowerCase()
  ) {
    throw new StrataError("PIECE_CORRUPT", "the slots' commitments do not make the file's piece list");
  }
  const size = Number(pieceSpan) * LEAF_BYTES;
  const sources: (string | null)[] = roots.map(() => null);
  // Only a piece whose commitment is known can be checked as it arrives.
  const holders = request.slots.flatMap((slot, i) =>
    i === index || slot.holder === null || roots[i] === null ? [] : [{ i, holder: slot.holder }],
  );
  const good = await firstK(holders, k, async ({ i, holder }) => {
    const target = path.join(request.dir, `piece-${i}`);
    await request.download(holder, roots[i] ?? "", size, target);
    sources[i] = target;
    return true;
  });
  if (good < k) {
    throw new StrataError(
      "NOT_ENOUGH_PIECES",
      `${good} good pieces of the ${k} needed to rebuild piece ${index}` +
        (unknown.length === 0
          ? ""
          : ` (pieces ${unknown.join(", ")} were never placed: no commitment to check)`),
    );
  }
  const known = roots[index] ?? null;
  if (unknown.length === 0 && known !== null) {
    await rebuildPieceFile({ index, k, m: n - k, pieceSize: size, root: known, sources, out: request.out });
    return { root: known, size, proof: listOf(roots as string[]).proof(index) };
  }
  // Commitments never placed: decode those pieces too, hash them, and let the list decide.
  const others = unknown.filter((i) => i !== index);
  const hashers = new Map(others.map((i) => [i, new PieceHasher()]));
  const piece = await PieceFileWriter.create(request.out, size, known ?? undefined);
  let ok = false;
  let root: string;
  try {
    await rebuildSegments(
      { k, m: n - k, pieceSize: size, sources, wanted: [index, ...others] },
      (i, bytes) => (i === index ? piece.write(bytes) : (hashers.get(i)?.update(bytes) ?? Promise.resolve())),
    );
    ok = true;
  } finally {
    root = await piece.finish(ok);
  }
  const complete = [...roots];
  complete[index] = root;
  for (const [i, hasher] of hashers) complete[i] = await hasher.digest();
  const list = listOf(complete as string[]);
  if (list.root.toLowerCase() !== request.piecesRoot.toLowerCase()) {
    await rm(request.out, { force: true });
    throw new StrataError(
      "PIECE_CORRUPT",
      `the rebuilt pieces ${unknown.join(", ")} and the commitments on chain do not make the file's piece list`,
    );
  }
  return { root, size, proof: list.proof(index) };
}
