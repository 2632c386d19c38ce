import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { PieceTree } from "../../../offchain/sdk/commitment/merkle.js";
import {
  ProviderRejectedError,
  type AgentClient,
  type AgentStatus,
  type AgentTerms,
  type DealOffer,
  type ExtensionRequest,
  type UploadStatus,
} from "../../../offchain/sdk/client/agentClient.js";
import { findDeals } from "../../../offchain/sdk/client/deals.js";
import type { DealProposal } from "../../../offchain/sdk/deals/terms.js";
import { StrataError } from "../../../offchain/sdk/errors.js";
import { USDC, type StorageFixture } from "../../helpers/fixture.js";

/** How a fake agent misbehaves. */
export interface FakeAgentBehaviour {
  /** Answers nothing: every call fails as unreachable. */
  down?: boolean;
  /** Refuses every proposal with 422 POLICY_REJECTED. */
  rejectProposals?: boolean;
  /** Accepts the data but never publishes. */
  neverPublish?: boolean;
  /** Publishes but keeps reporting "accepted". */
  silentPublish?: boolean;
  /** Serves pieces with one byte flipped. */
  tamper?: boolean;
  pricePerTiBMonth?: bigint;
}

interface Upload {
  proposal: DealProposal;
  signature: string;
  dealId: bigint | null;
}

/**
 * An in-memory provider agent that speaks the agent API's shapes and publishes to the in-process chain with
 * its provider's signer, like the real agent does (without HTTP, database or proofs).
 */
export class FakeAgent implements AgentClient {
  readonly uploads = new Map<string, Upload>();
  readonly pieces = new Map<string, Uint8Array>();
  readonly extensions: ExtensionRequest[] = [];
  private nextId = 1;

  constructor(
    readonly endpoint: string,
    private readonly f: StorageFixture,
    private readonly signer: HardhatEthersSigner,
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
      pricePerTiBMonth: this.behaviour.pricePerTiBMonth ?? 2n * USDC,
      minPricePerSecondPerMiB: null,
      maxPieceSize: 1n << 30n,
      maxDurationPeriods: 8760n,
      collateralPerGiB: 10n * USDC,
      provingPeriod: await this.f.market.provingPeriod(),
    };
  }

  proposeDeal(signed: { proposal: DealProposal; signature: string }): Promise<DealOffer> {
    this.check();
    if (this.behaviour.rejectProposals === true) {
      return Promise.reject(new ProviderRejectedError(this.endpoint, 422, "POLICY_REJECTED", "not today"));
    }
    const uploadId = `u${this.nextId++}`;
    this.uploads.set(uploadId, { ...signed, dealId: null });
    return Promise.resolve({ uploadId, uploadUrl: `${this.endpoint}/v1/uploads/${uploadId}` });
  }

  async upload(offer: DealOffer, bytes: Uint8Array, onProgress?: (done: number, total: number) => void) {
    this.check();
    const upload = this.uploads.get(offer.uploadId);
    if (!upload) throw new ProviderRejectedError(this.endpoint, 404, "UNKNOWN_UPLOAD", "no such upload");
    if (PieceTree.build(bytes).root !== upload.proposal.root) {
      throw new ProviderRejectedError(this.endpoint, 422, "ROOT_MISMATCH", "bytes do not hash to the root");
    }
    onProgress?.(bytes.length, bytes.length);
    this.pieces.set(upload.proposal.root, Uint8Array.from(bytes));
    if (this.behaviour.neverPublish !== true) {
      const market = this.f.market.connect(this.signer);
      await (await market.publishDeals([{ proposal: upload.proposal, signature: upload.signature }])).wait();
      const [deal] = (
        await findDeals(this.f.market, { client: upload.proposal.client, provider: this.signer.address })
      ).filter((d) => d.nonce === upload.proposal.nonce);
      upload.dealId = deal?.terms.id ?? null;
    }
    return "accepted" as const;
  }

  uploadStatus(uploadId: string): Promise<UploadStatus> {
    this.check();
    const upload = this.uploads.get(uploadId);
    if (!upload)
      return Promise.reject(
        new ProviderRejectedError(this.endpoint, 404, "UNKNOWN_UPLOAD", "no such upload"),
      );
    const published = upload.dealId !== null && this.behaviour.silentPublish !== true;
    return Promise.resolve({
      state: published ? "published" : "accepted",
      dealId: published ? upload.dealId : null,
      txHash: null,
      reason: null,
    });
  }

  downloadPiece(root: string, size: number): Promise<Uint8Array> {
    this.check();
    const piece = this.pieces.get(root);
    if (!piece)
      return Promise.reject(new ProviderRejectedError(this.endpoint, 404, "UNKNOWN_PIECE", "no piece"));
    const copy = Uint8Array.from(piece.subarray(0, size));
    if (this.behaviour.tamper === true) copy[0] = (copy[0] ?? 0) ^ 0xff;
    return Promise.resolve(copy);
  }

  async submitExtension(request: ExtensionRequest) {
    this.check();
    this.extensions.push(request);
    const [deal] = await findDeals(this.f.market, { dealId: request.dealId });
    if (!deal) throw new ProviderRejectedError(this.endpoint, 404, "UNKNOWN_DEAL", "no deal");
    const tx = await this.f.market
      .connect(this.signer)
      .extendDeal(deal.terms, request.extension, request.signature);
    await tx.wait();
    return { state: "extended", txHash: tx.hash };
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
