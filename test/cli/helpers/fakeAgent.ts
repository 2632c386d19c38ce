import type { PublicIndexEntry } from "../../../offchain/sdk/api/publicFiles.js";
import { readFile } from "node:fs/promises";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type {
  CreateDataSetRequest,
  DataSetStateRequest,
  SizedPlacedPiece,
} from "../../../offchain/sdk/api/datasets.js";
import {
  ProviderRejectedError,
  type AgentClient,
  type AgentDataSet,
  type AgentStatus,
  type AgentTerms,
  type PieceSource,
} from "../../../offchain/sdk/client/agentClient.js";
import { PieceTree } from "../../../offchain/sdk/commitment/merkle.js";
import { layoutSpan, validateLayout } from "../../../offchain/sdk/datasets/placement.js";
import { dataSetRoot, EMPTY_DATA_SET_ROOT } from "../../../offchain/sdk/datasets/tree.js";
import { StrataError } from "../../../offchain/sdk/errors.js";
import { USDC, type StorageFixture } from "../../helpers/fixture.js";

/** How a fake agent misbehaves. */
export interface FakeAgentBehaviour {
  /** Answers nothing: every call fails as unreachable. */
  down?: boolean;
  /** Refuses to open data sets with 422 POLICY_REJECTED. */
  rejectDataSets?: boolean;
  /** Refuses every piece upload with 422 POLICY_REJECTED. */
  rejectUploads?: boolean;
  /** Stores other bytes than it received (one flipped) under their own root. */
  alterUploads?: boolean;
  /** Accepts signed states but never puts them on chain. */
  neverApply?: boolean;
  /** Serves pieces with one byte flipped. */
  tamper?: boolean;
  /** Reports a layout whose root is not the one it claims. */
  lieAboutLayout?: boolean;
  pricePerTiBMonth?: bigint;
  noticePeriods?: bigint;
}

interface HeldDataSet {
  client: string;
  pieces: SizedPlacedPiece[];
  version: bigint;
  root: string;
  span: bigint;
}

/**
 * An in-memory provider agent that speaks the agent API's data-set shapes and submits to the in-process chain with
 * its provider's signer, like the real agent does (without HTTP, database, batching or proofs): createDataSet on
 * POST /v1/datasets, and each accepted signed state at once with updateDataSets.
 */
export class FakeAgent implements AgentClient {
  readonly pieces = new Map<string, Uint8Array>();
  readonly uploads: { dataSetId: bigint; root: string }[] = [];
  readonly sets = new Map<bigint, HeldDataSet>();
  readonly states: DataSetStateRequest[] = [];
  readonly creates: CreateDataSetRequest[] = [];
  private readonly completed = new Map<string, string>();

  constructor(
    readonly endpoint: string,
    private readonly f: StorageFixture,
    readonly signer: HardhatEthersSigner,
    public behaviour: FakeAgentBehaviour = {},
  ) {}

  private check(): void {
    if (this.behaviour.down === true) {
      throw new StrataError("PROVIDER_UNREACHABLE", `cannot reach ${this.endpoint}`);
    }
  }

  async health() {
    this.check();
    return {
      ok: true,
      provider: this.signer.address,
      chainId: this.f.chainId,
      market: await this.f.market.getAddress(),
      version: "fake",
    };
  }

  status(): Promise<AgentStatus> {
    return Promise.reject(new Error("not implemented"));
  }

  async terms(): Promise<AgentTerms> {
    this.check();
    return {
      provider: this.signer.address,
      chainId: this.f.chainId,
      market: await this.f.market.getAddress(),
      pricePerTiBMonth: this.behaviour.pricePerTiBMonth ?? 2n * USDC,
      collateralPerTiB: 10n * USDC,
      noticePeriods: this.behaviour.noticePeriods ?? 2n,
      maxPieceBytes: 1n << 30n,
      provingPeriod: await this.f.market.provingPeriod(),
      endpoint: this.endpoint,
    };
  }

  async createDataSet(request: CreateDataSetRequest) {
    this.check();
    if (this.behaviour.rejectDataSets === true) {
      throw new ProviderRejectedError(this.endpoint, 422, "POLICY_REJECTED", "not today");
    }
    this.creates.push(request);
    const market = this.f.market.connect(this.signer);
    const tx = await market.createDataSet(request.terms, request.signature);
    await tx.wait();
    const dataSetId = await this.f.market.dataSetCount();
    this.sets.set(dataSetId, {
      client: request.terms.client,
      pieces: [],
      version: 0n,
      root: EMPTY_DATA_SET_ROOT,
      span: 0n,
    });
    return { dataSetId, txHash: tx.hash };
  }

  async getDataSet(dataSetId: bigint): Promise<AgentDataSet> {
    this.check();
    const held = this.sets.get(dataSetId);
    if (!held) throw new ProviderRejectedError(this.endpoint, 404, "UNKNOWN_DATA_SET", "no such data set");
    const chain = await this.f.market.dataSet(dataSetId);
    return {
      dataSetId,
      client: held.client,
      layout: held.pieces,
      version: held.version,
      root: this.behaviour.lieAboutLayout === true ? "0x" + "ab".repeat(32) : held.root,
      span: held.span,
      onChain: { version: chain.version, root: chain.root, span: chain.span },
    };
  }

  putPiece(
    dataSetId: bigint,
    root: string,
    bytes: Uint8Array,
    onProgress?: (done: number, total: number) => void,
  ) {
    this.check();
    if (this.behaviour.rejectUploads === true) {
      return Promise.reject(new ProviderRejectedError(this.endpoint, 422, "POLICY_REJECTED", "full"));
    }
    if (!this.sets.has(dataSetId)) {
      return Promise.reject(
        new ProviderRejectedError(this.endpoint, 404, "UNKNOWN_DATA_SET", "no such data set"),
      );
    }
    if (PieceTree.build(bytes).root !== root) {
      return Promise.reject(
        new ProviderRejectedError(this.endpoint, 422, "ROOT_MISMATCH", "bytes do not hash to the root"),
      );
    }
    onProgress?.(bytes.length, bytes.length);
    this.pieces.set(root, Uint8Array.from(bytes));
    this.uploads.push({ dataSetId, root });
    return Promise.resolve({ root, size: BigInt(bytes.length) });
  }

  async postState(request: DataSetStateRequest) {
    this.check();
    const { state } = request;
    const held = this.sets.get(state.dataSetId);
    if (!held) throw new ProviderRejectedError(this.endpoint, 404, "UNKNOWN_DATA_SET", "no such data set");
    if (state.version <= held.version) {
      throw new ProviderRejectedError(this.endpoint, 409, "STALE_VERSION", `version ${held.version} is held`);
    }
    const removed = new Set(request.remove);
    const pieces = [...held.pieces.filter((p) => !removed.has(p.offset)), ...request.add].sort(
      (a, b) => a.offset - b.offset,
    );
    const layout = validateLayout({ pieces });
    if (dataSetRoot(layout) !== state.root || BigInt(layoutSpan(layout)) !== state.span) {
      throw new ProviderRejectedError(
        this.endpoint,
        422,
        "STATE_MISMATCH",
        "the layout does not make the state",
      );
    }
    for (const piece of request.add) {
      if (!this.pieces.has(piece.root)) {
        throw new ProviderRejectedError(
          this.endpoint,
          422,
          "PIECE_MISSING",
          `piece ${piece.root} not uploaded`,
        );
      }
    }
    this.states.push(request);
    this.sets.set(state.dataSetId, {
      ...held,
      pieces,
      version: state.version,
      root: state.root,
      span: state.span,
    });
    if (this.behaviour.neverApply !== true) {
      const signer = request.signer ?? held.client;
      await (
        await this.f.market
          .connect(this.signer)
          .updateDataSets([{ state, signer, signature: request.signature }])
      ).wait();
    }
    return { accepted: true as const, version: state.version };
  }

  leaf(): ReturnType<AgentClient["leaf"]> {
    return Promise.reject(new Error("not implemented"));
  }

  async putPieceFile(
    dataSetId: bigint,
    root: string,
    file: { path: string; size: number },
    onProgress?: (done: number, total: number) => void,
  ) {
    this.check();
    const bytes = new Uint8Array(await readFile(file.path));
    return this.putPiece(dataSetId, root, bytes.subarray(0, file.size), onProgress);
  }

  /** Reads the whole upload (as the real agent does, while it is produced), then stores it under its root. */
  async uploadPiece(
    dataSetId: bigint,
    upload: PieceSource,
    onProgress?: (done: number, total: number) => void,
  ) {
    this.check();
    const parts: Uint8Array[] = [];
    let received = 0;
    for await (const part of upload.read(0)) {
      parts.push(Uint8Array.from(part));
      received += part.length;
      onProgress?.(received, upload.size);
    }
    const bytes = Buffer.concat(parts);
    if (this.behaviour.alterUploads === true) bytes[0] = (bytes[0] ?? 0) ^ 1;
    const { root } = PieceTree.build(bytes);
    this.completed.set(upload.id, root);
    return this.putPiece(dataSetId, root, bytes, onProgress);
  }

  namedUploadStatus(_dataSetId: bigint, uploadId: string, size: number) {
    this.check();
    const root = this.completed.get(uploadId);
    return Promise.resolve({
      uploadId,
      size,
      received: root === undefined ? 0 : size,
      ...(root === undefined ? {} : { root }),
    });
  }

  uploadStatus(_dataSetId: bigint, root: string, size: number) {
    this.check();
    return Promise.resolve({ root, size, received: this.pieces.has(root) ? size : 0 });
  }

  /** Public indexes received, by piece root (checked by the real agent, recorded here). */
  readonly publicIndexes = new Map<string, readonly PublicIndexEntry[]>();

  putPublicIndex(_dataSetId: bigint, root: string, entries: readonly PublicIndexEntry[]) {
    this.check();
    // As the real agent: the index is checked against the stored piece, so the piece must be there first.
    if (!this.pieces.has(root)) {
      return Promise.reject(
        new ProviderRejectedError(this.endpoint, 409, "PIECE_NOT_STORED", "no such piece"),
      );
    }
    this.publicIndexes.set(root, entries);
    return Promise.resolve({ root, files: entries.length });
  }

  downloadRange(root: string, start: number, end: number): Promise<Uint8Array> {
    this.check();
    const piece = this.pieces.get(root);
    if (!piece)
      return Promise.reject(new ProviderRejectedError(this.endpoint, 404, "UNKNOWN_PIECE", "no piece"));
    const copy = Uint8Array.from(piece.subarray(start, end));
    if (this.behaviour.tamper === true) copy[0] = (copy[0] ?? 0) ^ 0xff;
    return Promise.resolve(copy);
  }

  async *pieceBody(root: string, size: number): AsyncGenerator<Uint8Array> {
    await Promise.resolve();
    this.check();
    const piece = this.pieces.get(root);
    if (!piece) throw new ProviderRejectedError(this.endpoint, 404, "UNKNOWN_PIECE", "no piece");
    const copy = Uint8Array.from(piece.subarray(0, size));
    if (this.behaviour.tamper === true) copy[0] = (copy[0] ?? 0) ^ 0xff;
    // In two chunks, as a body arrives in several.
    const half = Math.floor(copy.length / 2);
    yield copy.subarray(0, half);
    yield copy.subarray(half);
  }
}

/** Register `signers` as providers with endpoints http://agent-<i>.test and one fake agent each. */
export async function fakeProviders(
  f: StorageFixture,
  signers: HardhatEthersSigner[],
  behaviours: FakeAgentBehaviour[] = [],
): Promise<{ agents: FakeAgent[]; agentFor: (endpoint: string) => FakeAgent }> {
  const agents: FakeAgent[] = [];
  for (const [i, signer] of signers.entries()) {
    const endpoint = `http://agent-${i}.test`;
    await f.registry.connect(signer).register(signer.address, endpoint, 1n << 40n, 2n * USDC);
    await f.token.mint(signer.address, 1_000n * USDC);
    await f.token.connect(signer).approve(await f.registry.getAddress(), 1_000n * USDC);
    await f.registry.connect(signer).stake(signer.address, 1_000n * USDC);
    agents.push(new FakeAgent(endpoint, f, signer, behaviours[i] ?? {}));
  }
  const byEndpoint = new Map(agents.map((a) => [a.endpoint, a]));
  return {
    agents,
    agentFor: (endpoint) => {
      const agent = byEndpoint.get(endpoint.replace(/\/+$/, ""));
      if (!agent) throw new Error(`no fake agent at ${endpoint}`);
      return agent;
    },
  };
}
