/**
 * The storage and compute suite deployed on an in-process Hardhat network, with the helpers that drive it
 * (register, fund, sign and publish deals, enter proof windows, build proofs). Used by the gas benchmark
 * (scripts/bench) and, through test/helpers/fixture.ts, by the tests. Deploys only contracts the local
 * deployment ships (no mocks).
 */
import { network } from "hardhat";
import {
  DEFAULT_MAX_RETRIEVAL_BOND,
  LOCAL_MARKET_PARAMETERS,
  LOCAL_RETRIEVAL_PARAMETERS,
} from "../../deploy/lib/storageSuite.js";
import {
  DEFAULT_MAX_CLOSE_BOUNTY,
  DEFAULT_MAX_MISSED_HEARTBEAT_BOUNTY,
  LOCAL_COMPUTE_PARAMETERS,
} from "../../deploy/lib/computeSuite.js";
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkHelpers } from "@nomicfoundation/hardhat-network-helpers/types";
import { randomBytes } from "node:crypto";
import type {
  ComputeMarket,
  ProviderRegistry,
  RetrievalChallenges,
  StorageMarket,
  TestStablecoin,
} from "../../typechain-types/index.js";
import type { IComputeMarket } from "../../typechain-types/interfaces/IComputeMarket.js";
import type { IRetrievalChallenges } from "../../typechain-types/interfaces/IRetrievalChallenges.js";
import type { IStorageMarket } from "../../typechain-types/interfaces/IStorageMarket.js";
import { PieceTree } from "../../offchain/sdk/commitment/merkle.js";
import { marketDomain, signProposal } from "../../offchain/sdk/deals/eip712.js";
import { dealFromEvent, type DealProposal, type DealTerms } from "../../offchain/sdk/deals/terms.js";
import {
  answerChallenge,
  skippedChallenge,
  type ChallengeProof,
} from "../../offchain/sdk/proofs/challenges.js";
import { StrataError } from "../../offchain/sdk/errors.js";

export const USDC = 1_000_000n;
export const PERIOD = 3600n;

export type MarketParameters = IStorageMarket.ParametersStruct;
export type RetrievalParameters = IRetrievalChallenges.ParametersStruct;
export type ComputeParameters = IComputeMarket.ParametersStruct;

export function defaultParameters(
  overrides: Partial<Record<keyof MarketParameters, bigint>> = {},
): MarketParameters {
  // The local deployment's parameters, so tests exercise what `npm run demo` deploys.
  return {
    ...LOCAL_MARKET_PARAMETERS,
    ...overrides,
  };
}

/** The local deployment's compute parameters with `overrides` applied. */
export function defaultComputeParameters(
  overrides: Partial<Record<keyof ComputeParameters, bigint>> = {},
): ComputeParameters {
  return { ...LOCAL_COMPUTE_PARAMETERS, ...overrides };
}

export interface StorageFixture {
  ethers: HardhatEthers;
  helpers: NetworkHelpers;
  token: TestStablecoin;
  registry: ProviderRegistry;
  market: StorageMarket;
  /** Retrieval challenges on `market`'s deals (holds the market's RETRIEVAL_ROLE). */
  retrievalChallenges: RetrievalChallenges;
  /** The compute market on the same registry (holds MARKET_ROLE there too). */
  compute: ComputeMarket;
  admin: HardhatEthersSigner;
  treasury: HardhatEthersSigner;
  provider: HardhatEthersSigner;
  provider2: HardhatEthersSigner;
  client: HardhatEthersSigner;
  client2: HardhatEthersSigner;
  watcher: HardhatEthersSigner;
  others: HardhatEthersSigner[];
  chainId: bigint;
}

/** Deploy the storage suite with the deployer as admin (governance goes through the timelock in deploy/). */
export interface DeployOptions {
  params?: MarketParameters;
  provingPeriod?: bigint;
  unbondingDelay?: bigint;
  /** Retrieval-challenge parameters (default: the local deployment's). */
  retrievalParams?: RetrievalParameters;
  /** Deployment cap on the retrieval bond (default: the deployment module's). */
  maxRetrievalBond?: bigint;
  /** Compute-market parameters (default: the local deployment's). */
  computeParams?: ComputeParameters;
  /** Deploy on a new network instead of restoring the cached deployment (for tests that need two chains). */
  fresh?: boolean;
  /**
   * Genesis time of the in-process network (default: now). The gas benchmark fixes it so that block hashes,
   * and so the challenge seeds drawn from them, are the same in every run.
   */
  initialDate?: string;
}

const deployments = new Map<string, { fixture: StorageFixture; restore: () => Promise<void> }>();

/**
 * The storage suite with the deployer as admin (governance goes through the timelock in deploy/). Each set
 * of options is deployed once per test process; later calls restore a snapshot taken right after that
 * deployment, so every caller starts from the same fresh state at a fraction of the cost.
 */
export async function deployStorage(options: DeployOptions = {}): Promise<StorageFixture> {
  const key = JSON.stringify({ ...options, fresh: undefined }, (_k, v: unknown) =>
    typeof v === "bigint" ? v.toString() : v,
  );
  const cached = options.fresh === true ? undefined : deployments.get(key);
  if (cached) {
    await cached.restore();
    return cached.fixture;
  }
  const fixture = await deployStorageFresh(options);
  const snapshot = await fixture.helpers.takeSnapshot();
  if (options.fresh !== true) deployments.set(key, { fixture, restore: () => snapshot.restore() });
  return fixture;
}

async function deployStorageFresh(options: DeployOptions): Promise<StorageFixture> {
  const { ethers, networkHelpers } = await network.create(
    options.initialDate === undefined ? undefined : { override: { initialDate: options.initialDate } },
  );
  const [admin, treasury, provider, provider2, client, client2, watcher, ...others] =
    await ethers.getSigners();
  if (!admin || !treasury || !provider || !provider2 || !client || !client2 || !watcher) {
    throw new StrataError("INTERNAL_INVARIANT", "not enough signers");
  }
  const token = await ethers.deployContract("TestStablecoin", [admin.address]);
  const registry = await ethers.deployContract("ProviderRegistry", [
    await token.getAddress(),
    admin.address,
    options.unbondingDelay ?? 86_400n,
  ]);
  const market = await deployMarket(ethers, {
    registry: await registry.getAddress(),
    token: await token.getAddress(),
    admin: admin.address,
    treasury: treasury.address,
    provingPeriod: options.provingPeriod ?? PERIOD,
    params: options.params ?? defaultParameters(),
  });
  await registry.grantRole(await registry.MARKET_ROLE(), await market.getAddress());
  const retrievalChallenges = await ethers.deployContract("RetrievalChallenges", [
    await market.getAddress(),
    admin.address,
    options.maxRetrievalBond ?? DEFAULT_MAX_RETRIEVAL_BOND,
    options.retrievalParams ?? LOCAL_RETRIEVAL_PARAMETERS,
  ]);
  await market.grantRole(await market.RETRIEVAL_ROLE(), await retrievalChallenges.getAddress());
  const compute = await deployComputeMarket(ethers, {
    registry: await registry.getAddress(),
    token: await token.getAddress(),
    admin: admin.address,
    treasury: treasury.address,
    params: options.computeParams ?? defaultComputeParameters(),
  });
  await registry.grantRole(await registry.MARKET_ROLE(), await compute.getAddress());
  const chainId = (await ethers.provider.getNetwork()).chainId;
  return {
    ethers,
    helpers: networkHelpers,
    token,
    registry,
    market,
    retrievalChallenges,
    compute,
    admin,
    treasury,
    provider,
    provider2,
    client,
    client2,
    watcher,
    others,
    chainId,
  };
}

export async function deployMarket(
  ethers: HardhatEthers,
  args: {
    registry: string;
    token: string;
    admin: string;
    treasury: string;
    provingPeriod: bigint;
    params: MarketParameters;
    maxMissedProofBounty?: bigint;
  },
): Promise<StorageMarket> {
  const libraries = await deployMarketLibraries(ethers);
  const factory = await ethers.getContractFactory("StorageMarket", { libraries });
  const market = await factory.deploy(
    args.registry,
    args.token,
    args.admin,
    args.treasury,
    args.provingPeriod,
    args.maxMissedProofBounty ?? 100n * USDC,
    args.params,
  );
  await market.waitForDeployment();
  return market;
}

/** Deploy a compute market (and its linked parameter library); the caller grants it MARKET_ROLE. */
export async function deployComputeMarket(
  ethers: HardhatEthers,
  args: {
    registry: string;
    token: string;
    admin: string;
    treasury: string;
    params: ComputeParameters;
    maxMissedHeartbeatBounty?: bigint;
    maxCloseBounty?: bigint;
  },
): Promise<ComputeMarket> {
  const lib = await ethers.deployContract("ComputeParams");
  const factory = await ethers.getContractFactory("ComputeMarket", {
    libraries: { ComputeParams: await lib.getAddress() },
  });
  const compute = await factory.deploy(
    args.registry,
    args.token,
    args.admin,
    args.treasury,
    args.maxMissedHeartbeatBounty ?? DEFAULT_MAX_MISSED_HEARTBEAT_BOUNTY,
    args.maxCloseBounty ?? DEFAULT_MAX_CLOSE_BOUNTY,
    args.params,
  );
  await compute.waitForDeployment();
  return compute;
}

export async function deployMarketLibraries(ethers: HardhatEthers): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of ["ProvingLib", "DealAccounting", "StorageParams"]) {
    const lib = await ethers.deployContract(name);
    out[name] = await lib.getAddress();
  }
  return out;
}

/** Register `who` as a provider and stake `amount`. */
export async function registerProvider(f: StorageFixture, who: HardhatEthersSigner, amount = 10_000n * USDC) {
  await f.registry
    .connect(who)
    .register(who.address, `http://127.0.0.1:9000/${who.address}`, 1n << 40n, 2n * USDC);
  await f.token.mint(who.address, amount);
  await f.token.connect(who).approve(await f.registry.getAddress(), amount);
  await f.registry.connect(who).stake(who.address, amount);
}

/** Give `client` tokens and approve the market. */
export async function fundClient(f: StorageFixture, client: HardhatEthersSigner, amount = 1_000_000n * USDC) {
  await f.token.mint(client.address, amount);
  await f.token.connect(client).approve(await f.market.getAddress(), amount);
}

export interface PieceData {
  data: Uint8Array;
  tree: PieceTree;
}

export function randomPiece(size: number): PieceData {
  const data = Uint8Array.from(randomBytes(size));
  return { data, tree: PieceTree.build(data) };
}

let nonceCounter = 1n;

export async function makeProposal(
  f: StorageFixture,
  opts: {
    client?: HardhatEthersSigner;
    provider?: HardhatEthersSigner;
    piece?: PieceData;
    periods?: bigint;
    pricePerSecond?: bigint;
    collateral?: bigint;
    nonce?: bigint;
    startDeadline?: bigint;
  } = {},
): Promise<{ proposal: DealProposal; signature: string; piece: PieceData }> {
  const client = opts.client ?? f.client;
  const provider = opts.provider ?? f.provider;
  const piece = opts.piece ?? randomPiece(4096);
  const period = await f.market.provingPeriod();
  const now = BigInt(await f.helpers.time.latest());
  const proposal: DealProposal = {
    client: client.address,
    provider: provider.address,
    root: piece.tree.root,
    size: BigInt(piece.data.length),
    duration: (opts.periods ?? 24n) * period,
    pricePerSecond: opts.pricePerSecond ?? 10n,
    collateral: opts.collateral ?? 100n * USDC,
    startDeadline: opts.startDeadline ?? now + 3600n,
    nonce: opts.nonce ?? nonceCounter++,
  };
  const signature = await signProposal(
    client,
    marketDomain(f.chainId, await f.market.getAddress()),
    proposal,
  );
  return { proposal, signature, piece };
}

/** Publish signed proposals from `provider` and return the published deals' terms. */
export async function publish(
  f: StorageFixture,
  signed: { proposal: DealProposal; signature: string }[],
  provider: HardhatEthersSigner = f.provider,
): Promise<DealTerms[]> {
  const tx = await f.market.connect(provider).publishDeals(signed);
  const receipt = await tx.wait();
  if (!receipt) throw new StrataError("INTERNAL_INVARIANT", "no receipt");
  const deals: DealTerms[] = [];
  for (const log of receipt.logs) {
    const parsed = f.market.interface.parseLog(log);
    if (parsed?.name === "DealPublished") deals.push(dealFromEvent(parsed));
  }
  return deals;
}

/** Publish one fresh deal and return its terms and piece. */
export async function publishOne(
  f: StorageFixture,
  opts: Parameters<typeof makeProposal>[1] = {},
): Promise<{ deal: DealTerms; piece: PieceData }> {
  const signed = await makeProposal(f, opts);
  const [deal] = await publish(f, [signed], opts.provider ?? f.provider);
  if (!deal) throw new StrataError("INTERNAL_INVARIANT", "deal was not published");
  return { deal, piece: signed.piece };
}

/** Move time into the proof window of `period` and mine enough blocks for the seed. */
export async function enterProofWindow(f: StorageFixture, period: bigint) {
  const end = await f.market.periodStart(period + 1n);
  const window = (await f.market.parameters()).proofWindow;
  const now = BigInt(await f.helpers.time.latest());
  if (now < end - window) await f.helpers.time.increaseTo(end - window);
  await f.helpers.mine(3);
}

/** Build the answers to `provider`'s current challenges from the pieces it holds. */
export async function buildProofs(
  f: StorageFixture,
  provider: string,
  pieces: Map<bigint, { deal: DealTerms; piece: PieceData }>,
): Promise<ChallengeProof[]> {
  const [ids, words] = await f.market.challenges(provider);
  const proofs: ChallengeProof[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const word = words[i];
    if (id === undefined || word === undefined)
      throw new StrataError("INTERNAL_INVARIANT", "bad challenge arrays");
    const [, , , lastDeclaredPlusOne] = await f.market.dealState(id);
    const next = (await f.market.proofState(provider)).nextPeriod;
    if (lastDeclaredPlusOne === next + 1n) {
      proofs.push(skippedChallenge());
      continue;
    }
    const held = pieces.get(id);
    if (!held) throw new StrataError("INTERNAL_INVARIANT", `no piece for challenged deal ${id}`);
    proofs.push(answerChallenge(held.deal, held.piece.tree, word));
  }
  return proofs;
}

/** Prove `provider`'s next period with the pieces it holds. */
export async function proveNext(
  f: StorageFixture,
  provider: HardhatEthersSigner,
  pieces: Map<bigint, { deal: DealTerms; piece: PieceData }>,
) {
  const period = (await f.market.proofState(provider.address)).nextPeriod;
  await enterProofWindow(f, period);
  const proofs = await buildProofs(f, provider.address, pieces);
  return f.market.connect(provider).submitProof(period, proofs);
}
